"""Stats from the rollups equals Stats from the cases (docs/decisions/0016-stats-rollups.md), on
the real databases (SQLite file, PostgreSQL).

A varied set of cases is taken through every kind of action — register (on day and week
boundaries, in the year before), classify (valid and invalid), assisting departments, analysis
sent back and approved, dispositions with cost lines and their approval, reply, payment,
execution, verification, follow-up with a score (satisfied: closed; not satisfied: back to
analysis), reopen and a second approval, cancel, merge, extension asked and granted, and edits
of the received date, the customer and the product. After each, the whole Stats report of this
week, last week, this month, last month, this quarter and this year, and of the months before,
read from the rollups is the one read from the cases; and at the end `rebuild` makes exactly the
rollups the actions kept.
"""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

import db.stats as db_stats
from core import usecases as uc
from core.errors import NotAllowed
from core.model import (
    CapaType, Category, Channel, Customer, CostCategory, DispositionType, PaymentMethod, Product,
    Kind, ReplyMethod, Satisfaction, Severity, SixM, State, Validity,
)
from core.stats import PRESETS, Period, StatsFilter, StatsQuery, StatsReport, preset
from core.usecases.approval import CostInput, DispositionInput
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from db import rollups
from tests.integration.conftest import World, engine_of
from tests.integration.test_lifecycle_db import Crew, crew  # noqa: F401 - the fixture

TZ = ZoneInfo("Asia/Shanghai")
CLOCK = [datetime(2026, 1, 5, 10, 0, tzinfo=TZ)]  # a Monday; moved forward by the test


@pytest.fixture
def app(make_app: Callable[..., Context]) -> Iterator[Context]:
    """conftest's app on a clock the test moves."""
    CLOCK[0] = datetime(2026, 1, 5, 10, 0, tzinfo=TZ)
    yield make_app(clock=lambda: CLOCK[0], migrate=True)


def local(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=TZ)


def report(app: Context, world: World, period: Period, rolled: bool) -> StatsReport:
    was = db_stats.USE_ROLLUPS
    db_stats.USE_ROLLUPS = rolled
    try:
        return uc.stats.stats(app, world.manager, StatsFilter(period))
    finally:
        db_stats.USE_ROLLUPS = was


def periods(today: date) -> list[Period]:
    out = [preset(p, today) for p in PRESETS if p != "custom"]
    month = preset("last_month", today)
    before = preset("last_month", month.start)
    return [*out, before, Period(date(2025, 12, 29), today)]  # across the year's end


def same_stats(app: Context, world: World, what: str) -> None:
    today = CLOCK[0].astimezone(TZ).date()
    for p in periods(today):
        rolled, direct = report(app, world, p, True), report(app, world, p, False)
        assert rolled == direct, f"after {what}, {p}: {_diff(rolled, direct)}"


def _diff(a: StatsReport, b: StatsReport) -> str:
    return "; ".join(f"{f.name}: {getattr(a, f.name)!r} != {getattr(b, f.name)!r}"
                     for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name))


def rebuilt_the_same(app: Context) -> set[tuple[str, date, str]]:
    """The rollups and recurrence counts the actions kept are the ones `rebuild` makes; the
    rollups' keys."""
    with Session(engine_of(app)) as s:
        kept = rollups.snapshot(s)
        counts = rollups.recurrences_snapshot(s)
        rollups.rebuild(s)
        s.commit()
        assert rollups.snapshot(s) == kept
        assert rollups.recurrences_snapshot(s) == counts
        return set(kept)


def test_rollups_equal_the_direct_queries_after_every_kind_of_action(
        app: Context, world: World, crew: Crew) -> None:  # noqa: F811 - the fixture
    admin, sales, qa, boss = world.admin, world.sales, world.qa, world.manager
    with Session(engine_of(app)) as s:
        assert rollups.rollup_zone(s) == "Asia/Shanghai"  # built by the migration
    other = Customer(0, "华南精工有限公司", contact="陈工")
    other = dataclasses.replace(other, id=uc.reference.save_reference(app, admin, other))
    gear = uc.reference.save_reference(app, admin, Product(0, "GJ-880", "精密轴承座"))
    assert gear

    def v(cid: int) -> int:
        return uc.complaints.case_file(app, admin, cid).complaint.version

    def at(when: datetime) -> None:
        CLOCK[0] = when

    def draft(**kw: object) -> ComplaintDraft:
        base = ComplaintDraft(customer_id=world.customer.id, kind=Kind.COMPLAINT,
                              channel=Channel.PHONE, description="外观划伤",
                              product_code=world.product.code, defect_type_id=world.defect.id)
        return dataclasses.replace(base, **kw)  # type: ignore[arg-type]

    def register(**kw: object) -> int:
        return uc.complaints.register_complaint(app, sales, draft(**kw)).id or 0

    # registered: in the year before, late on a Sunday, in the week, for another customer
    old = register(received_at=local(2025, 12, 31, 23, 30), severity_proposed=Severity.C)
    sunday = register(received_at=local(2026, 1, 4, 23, 50), severity_proposed=Severity.A,
                      product_code="GJ-880")
    a = register(claimed_amount="8000", severity_proposed=Severity.B)
    b = register(customer_id=other.id, severity_proposed=Severity.B, product_code="GJ-880")
    c = register(customer_id=other.id, product_code="lx-305")
    dup = register(customer_id=other.id, product_code="GJ-880")
    same_stats(app, world, "registering")
    # GJ-880 with the same defect three times within 30 days: a recurrence (kept per case)
    week = preset("this_week", date(2026, 1, 5))
    assert [r.count for r in report(app, world, week, True).recurrences] == [3]

    at(local(2026, 1, 6, 9))
    for cid in (a, b, old):
        uc.investigation.dispatch(app, sales, cid, v(cid))
        uc.investigation.acknowledge(app, qa, cid, v(cid))
    uc.investigation.classify(app, qa, a, v(a), Validity.VALID, Category.QUALITY, Severity.B,
                              crew.press)
    uc.investigation.classify(app, qa, b, v(b), Validity.VALID, Category.QUALITY, Severity.C,
                              crew.press)
    uc.investigation.classify(app, qa, old, v(old), Validity.INVALID, Category.QUALITY,
                              Severity.D, None, "非我司产品")
    same_stats(app, world, "classifying")

    uc.assisting.set_assisting(app, qa, b, v(b), {world.department.id: "协助分析"})
    same_stats(app, world, "assisting departments")

    at(local(2026, 1, 8, 15))
    for cid, six in ((a, SixM.MACHINE), (b, SixM.MATERIAL)):
        uc.investigation.save_analysis(app, crew.prod, cid, v(cid), prod_lot="L1", six_m=six,
                                       root_cause="夹具磨损")
        uc.investigation.add_capa(app, crew.prod, cid, CapaType.CORRECTIVE, "更换夹具",
                                  crew.prod.id, date(2026, 3, 31))
        uc.investigation.submit_analysis(app, crew.prod, cid, v(cid))
    uc.investigation.send_back(app, qa, b, v(b), "5 Why 不完整")
    uc.investigation.submit_analysis(app, crew.prod, b, v(b), "已补充")
    same_stats(app, world, "sending back")
    at(local(2026, 1, 12, 11))
    uc.investigation.approve_capa(app, qa, a, v(a))
    uc.investigation.approve_capa(app, qa, b, v(b))
    same_stats(app, world, "approving the analyses")

    at(local(2026, 1, 13, 14))
    uc.approval.set_dispositions(
        app, sales, a, v(a), [DispositionInput(DispositionType.COMPENSATION, None, "8000")],
        [CostInput(CostCategory.COMPENSATION, "8000", crew.press),
         CostInput(CostCategory.FREIGHT, "123.45", None, "顺丰", "100.05")])
    uc.approval.propose(app, sales, a, v(a), "客户接受")
    same_stats(app, world, "proposing dispositions (cost not approved yet)")
    uc.approval.approve_step(app, crew.sm, a, v(a), "同意")
    uc.approval.approve_step(app, crew.gm, a, v(a), "同意")
    same_stats(app, world, "the approval")

    at(local(2026, 1, 20, 10))
    uc.closure.reply(app, sales, a, v(a), date(2026, 1, 20), ReplyMethod.EMAIL, "已回复")
    case = uc.complaints.case_file(app, admin, a)
    uc.closure.record_payment(app, crew.finance, case.current(case.dispositions)[0].id or 0,
                              date(2026, 1, 20), "8000", PaymentMethod.BANK_TRANSFER, "#88")
    for capa in case.capa:
        uc.investigation.complete_capa(app, crew.prod, capa.id or 0, "照片与记录")
    same_stats(app, world, "reply and payment")
    uc.closure.complete(app, crew.prod, a, v(a))
    uc.closure.verify(app, qa, a, v(a), True, "三批无重复")
    at(local(2026, 2, 2, 16))
    uc.closure.follow_up(app, sales, a, v(a), day=date(2026, 2, 2), contact="王经理", score=4,
                         satisfaction=Satisfaction.SATISFIED, lessons="点检标准化")
    assert uc.complaints.case_file(app, admin, a).complaint.state == State.CLOSED
    same_stats(app, world, "the follow-up that closes")
    assert {m for m, _, _ in rebuilt_the_same(app)} >= {"closed", "wd", "gone"}

    at(local(2026, 2, 10, 9))
    uc.closure.reopen(app, boss, a, v(a), "同一问题再次发生")
    same_stats(app, world, "reopening")
    uc.investigation.submit_analysis(app, crew.prod, a, v(a), "再分析")
    at(local(2026, 2, 11, 9))
    uc.investigation.approve_capa(app, qa, a, v(a))  # its second approval, another day
    same_stats(app, world, "the second approval")

    uc.closure.cancel(app, boss, c, v(c), "客户撤回")
    uc.closure.merge(app, boss, dup, v(dup), uc.complaints.case_file(app, admin, b)
                     .complaint.number, "重复")
    same_stats(app, world, "cancel and merge")

    step = next(d.step for d in uc.timing.due_times(app, boss, sunday))
    uc.timing.request_extension(app, sales, sunday, v(sunday), step,
                                CLOCK[0] + timedelta(days=20), "等客户样品")
    uc.timing.decide_extension(app, boss, sunday, v(sunday), True, "同意")
    same_stats(app, world, "an extension")

    at(local(2026, 3, 2, 10))
    uc.complaints.update_complaint(app, boss, sunday, v(sunday), draft(
        received_at=local(2026, 1, 26, 0, 10), customer_id=other.id, product_code="P-100",
        severity_proposed=Severity.A), "收到日期更正")
    same_stats(app, world, "editing the received date, customer and product")

    # b's dispositions (no cost lines) through their approval
    uc.approval.set_dispositions(app, sales, b, v(b),
                                 [DispositionInput(DispositionType.REWORK, None, "0")])
    uc.approval.propose(app, sales, b, v(b), "返工")
    for signer in (crew.gm, crew.sm, crew.gm):  # whoever's step it is
        if uc.complaints.case_file(app, admin, b).complaint.state != State.PENDING_APPROVAL:
            break
        with contextlib.suppress(NotAllowed):
            uc.approval.approve_step(app, signer, b, v(b), "同意")
    assert uc.complaints.case_file(app, admin, b).complaint.state != State.PENDING_APPROVAL
    same_stats(app, world, "b's dispositions approved")

    # cancelled, merged and moved to another product: GJ-880 no longer recurs; the counts of
    # its remaining case were made again when the others changed
    assert report(app, world, week, True).recurrences == []
    kept = rebuilt_the_same(app)
    same_stats(app, world, "rebuilding")
    # the figures are not all zero: the data set counts in every measure read
    assert {m for m, _, _ in kept} >= {"received", "invalid", "open", "ftr", "sat", "cost",
                                        "back", "step", "sev",
                                        *("d:" + d for d in rollups.BREAKDOWNS)}


def test_the_plain_view_reads_the_rollups_a_filter_or_another_zone_the_cases(
        app: Context, world: World) -> None:
    """Only the meeting's view (no filter) is read from the rollups, and only when they are
    kept in the configured zone; anything else reads the cases."""
    year = preset("this_year", date(2026, 1, 5))
    now = datetime(2026, 1, 5, 2, tzinfo=timezone.utc)
    plain = StatsQuery.of(StatsFilter(year), year, TZ, now)
    narrowed = StatsQuery.of(StatsFilter(year, customer_id=world.customer.id), year, TZ, now)
    with Session(engine_of(app)) as s:
        assert db_stats.SqlStats(s).rolled(plain)
        assert not db_stats.SqlStats(s).rolled(narrowed)
        rollups.rebuild(s, zone="Europe/Berlin")
        s.commit()
        assert not db_stats.SqlStats(s).rolled(plain)
        rollups.rebuild(s)
        s.commit()
        assert db_stats.SqlStats(s).rolled(plain)
