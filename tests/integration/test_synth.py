"""Synthetic benchmark data (bench/synth.py, `manage.py synth`) on a real database: a few hundred
cases written as rows must look to the app exactly like cases it made itself."""
from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from core.model import Channel, Kind, RegisterFilter, State, User
from core.rules.numbering import parse_number
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.stats import StatsFilter, preset
from bench.synth import BIG_CASE_EVENTS, synth
from db.tables import CapaActionRow, ComplaintRow, EventRow, NumberCounterRow, StepTimeRow
from db.uow import SqlUowFactory
from adapters.wiring import build_app
from core import usecases as uc

CASES = 300
# synth spreads the cases over the months before "now": a fixed now (a Wednesday, 11:00 in
# Shanghai) makes the seeded data the same at every hour of every day (with the wall clock,
# no case was left "registered" in one CI run)
NOW = datetime(2026, 11, 18, 3, 0, tzinfo=timezone.utc)


@dataclass
class Synth:
    app: Context
    counts: dict[str, Any]
    users: dict[str, User]

    def rows(self, query: Any) -> list[Any]:
        assert isinstance(self.app.uow, SqlUowFactory)
        with self.app.uow.engine.connect() as conn:
            return list(conn.execute(query))


@pytest.fixture
def synthetic(db_url: str) -> Iterator[Synth]:
    app = dataclasses.replace(build_app(db_url), clock=lambda: NOW)
    # three months, so that a few hundred cases reach every state (six years would leave
    # almost all of them closed)
    counts = synth(app, CASES, seed=3, years=0.25)
    yield Synth(app, counts, {u.username: u for u in uc.accounts.list_active_users(app)})
    assert isinstance(app.uow, SqlUowFactory)
    app.uow.engine.dispose()


def test_every_state_of_the_lifecycle_is_present(synthetic: Synth) -> None:
    states = Counter(s for (s,) in synthetic.rows(select(ComplaintRow.state)))
    assert set(states) == {s.value for s in State}
    assert sum(states.values()) == CASES
    assert synthetic.counts["states"] == dict(sorted(states.items()))


def test_numbers_are_unique_and_the_next_registration_gets_a_fresh_one(synthetic: Synth
                                                                       ) -> None:
    numbers = [n for (n,) in synthetic.rows(select(ComplaintRow.number))]
    assert len(set(numbers)) == CASES
    assert all(re.fullmatch(r"KS\d{4}-\d{3,}", n) for n in numbers)
    last: dict[str, int] = {}
    for n in numbers:
        parsed = parse_number(n)
        assert parsed is not None
        last[parsed[0]] = max(last.get(parsed[0], 0), parsed[1])
    counters = dict(synthetic.rows(select(NumberCounterRow.period, NumberCounterRow.last_serial)))
    assert counters == last  # every month's counter at its last serial: nothing reused

    app, u = synthetic.app, synthetic.users
    customer = uc.reference.customers(app)[0]
    new = uc.complaints.register_complaint(app, u["sales"], ComplaintDraft(
        customer_id=customer.id, kind=Kind.INQUIRY, channel=Channel.PHONE,
        description="基准数据之后的第一单", received_at=NOW))
    period, serial = parse_number(new.number) or ("", 0)
    assert new.number not in numbers
    assert serial == last.get(period, 0) + 1


def test_events_capa_and_records_come_in_plausible_numbers(synthetic: Synth) -> None:
    events = dict(synthetic.rows(select(EventRow.complaint_id, func.count())
                                 .group_by(EventRow.complaint_id)))
    assert len(events) == CASES  # every case has its history, starting with "registered"
    assert 5 <= sum(events.values()) / CASES <= 30
    assert max(events.values()) == BIG_CASE_EVENTS  # the Complaint page's long history
    first = synthetic.rows(select(EventRow.action).where(EventRow.id.in_(
        select(func.min(EventRow.id)).group_by(EventRow.complaint_id))))
    assert {a for (a,) in first} == {"registered"}
    analysed = synthetic.rows(select(func.count()).select_from(ComplaintRow).where(
        ComplaintRow.root_cause != ""))[0][0]
    capa = synthetic.rows(select(func.count()).select_from(CapaActionRow))[0][0]
    assert analysed > 0 and 2 * analysed <= capa <= 4 * analysed
    closed = synthetic.rows(select(ComplaintRow.close_wd, ComplaintRow.closed_at)
                            .where(ComplaintRow.state == State.CLOSED.value))
    assert closed and all(wd is not None and at is not None for wd, at in closed)
    assert synthetic.rows(select(func.count()).select_from(StepTimeRow))[0][0] > 0


def test_stored_due_times_are_the_ones_the_app_computes(synthetic: Synth) -> None:
    app, qa = synthetic.app, synthetic.users["qa"]
    open_ = synthetic.rows(select(ComplaintRow.id, ComplaintRow.due_at, ComplaintRow.due_step)
                           .where(ComplaintRow.state.notin_(["closed", "cancelled"])))
    assert open_
    for cid, due_at, step in open_:
        timed = [d for d in uc.timing.due_times(app, qa, cid) if d.due is not None]
        first = min(timed, key=lambda d: d.due or d.started) if timed else None
        assert (first.due if first else None) == (
            due_at.replace(tzinfo=timezone.utc) if due_at else None), cid
        assert (first.step if first else "") == step
    assert uc.timing.fill_close_days(app) == 0  # every closed case already has its working days


def test_the_pages_queries_work_on_it(synthetic: Synth) -> None:
    app, u = synthetic.app, synthetic.users
    rows, total = uc.search.register(app, u["sales"], RegisterFilter(text="划伤"))
    assert total > 0 and all(r.number for r in rows)
    _, overdue = uc.search.register(app, u["sales"], RegisterFilter(overdue_only=True))
    assert overdue > 0
    assert {t.kind for t in uc.worklists.tasks(app, u["qa"])} >= {"acknowledge", "classify_valid"}
    approvers = ("manager", "gm", "chairman", "qamanager")
    cards = [c for name in approvers for c in uc.approve_queue.pending_approvals(app, u[name])]
    assert cards and all(c.dispositions and c.step.status == "pending" for c in cards)
    big = synthetic.counts["big_case"]
    view = uc.complaints.complaint(app, u["qa"], big)
    assert len(view.events) == BIG_CASE_EVENTS and view.attachments is not None
    year = preset("this_year", uc.stats.stats_today(app))
    report = uc.stats.stats(app, u["manager"], StatsFilter(year))
    assert report.current.received > 0


def test_its_stats_from_the_rollups_are_the_ones_from_the_cases(synthetic: Synth) -> None:
    """synth fills the Stats rollups: every preset period read from them is the report read
    from the cases (docs/decisions/0016-stats-rollups.md)."""
    import db.stats as db_stats
    from core.stats import PRESETS

    app, boss = synthetic.app, synthetic.users["manager"]
    today = uc.stats.stats_today(app)
    for name in (p for p in PRESETS if p != "custom"):
        period = preset(name, today)
        rolled = uc.stats.stats(app, boss, StatsFilter(period))
        db_stats.USE_ROLLUPS = False
        try:
            direct = uc.stats.stats(app, boss, StatsFilter(period))
        finally:
            db_stats.USE_ROLLUPS = True
        assert rolled == direct, name
        assert name not in ("this_quarter", "this_year") or rolled.current.received > 0


def _facts_and_rollups(app: Context) -> tuple[dict[int, str], Any, Any]:
    from db import rollups
    from db.tables import StatsFactRow
    assert isinstance(app.uow, SqlUowFactory)
    with app.uow.engine.connect() as conn:
        facts = {int(c): str(p) for c, p in conn.execute(
            select(StatsFactRow.complaint_id, StatsFactRow.parts))}
        return facts, rollups.snapshot(conn), rollups.recurrences_snapshot(conn)


def test_the_rollups_it_makes_as_it_goes_are_the_ones_a_rebuild_reads_back(
        synthetic: Synth) -> None:
    """synth makes each case's Stats facts from the rows it writes (no read back at a
    million cases): they and their sums are what `manage.py rollups --rebuild` makes from the
    database."""
    from db import rollups
    made = _facts_and_rollups(synthetic.app)
    assert len(made[0]) == CASES and made[1]
    assert isinstance(synthetic.app.uow, SqlUowFactory)
    with synthetic.app.uow.engine.begin() as conn:
        assert rollups.rebuild(conn, batch=70) == CASES  # several id ranges
    assert _facts_and_rollups(synthetic.app) == made


def _fingerprint(app: Context) -> tuple[Any, ...]:
    assert isinstance(app.uow, SqlUowFactory)
    with app.uow.engine.connect() as conn:
        cases = list(conn.execute(select(
            ComplaintRow.id, ComplaintRow.number, ComplaintRow.state, ComplaintRow.severity,
            ComplaintRow.received_at, ComplaintRow.closed_at, ComplaintRow.due_at,
            ComplaintRow.description).order_by(ComplaintRow.id)))
        events = list(conn.execute(select(EventRow.complaint_id, EventRow.action, EventRow.at)
                                   .order_by(EventRow.complaint_id, EventRow.at, EventRow.action)))
    return cases, events, _facts_and_rollups(app)


def test_two_worker_processes_make_the_same_data_as_one(db_url: str, tmp_path: Any) -> None:
    """On PostgreSQL `synth --workers 2` makes its chunks in two processes side by side; the
    data depend on the seed and the chunk size only, not on how many processes made them."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool
    if make_url(db_url).get_backend_name() != "postgresql":
        pytest.skip("SQLite has one writer: synth makes its chunks in one process there")
    other = f"{str(make_url(db_url).query['options']).split('=', 1)[1]}_w"
    admin = create_engine(make_url(db_url).difference_update_query(["options"]),
                          poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{other}"'))
    try:
        one = dataclasses.replace(build_app(db_url), clock=lambda: NOW)
        two = dataclasses.replace(build_app(make_url(db_url).update_query_dict(
            {"options": f"-csearch_path={other}"}).render_as_string(hide_password=False)),
            clock=lambda: NOW)
        a = synth(one, 450, seed=4, years=0.25, chunk=100)
        b = synth(two, 450, seed=4, years=0.25, chunk=100, workers=2)
        assert a == b
        assert _fingerprint(one) == _fingerprint(two)
        for app in (one, two):
            assert isinstance(app.uow, SqlUowFactory)
            app.uow.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{other}" CASCADE'))
        admin.dispose()
