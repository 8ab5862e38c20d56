"""My Tasks' first tasks (decision 0014) on the real databases (SQLite, PostgreSQL): the first N
read through the indexes, state by state, are exactly the first N of the full read — the same
cases, the same order — for every kind of user, on varied synthetic data (every state, holds,
approvals, execution chains, assisting departments, first meetings, record-level visibility);
and the counts by kind are the full read's when every task fits, never fewer when not."""
from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from bench.synth import synth
from core.model import State, User
from core.usecases.context import Context
from db.uow import SqlUowFactory
from adapters.wiring import build_app
from core import usecases as uc

NOW = datetime(2026, 11, 18, 3, 0, tzinfo=timezone.utc)  # as tests/integration/test_synth.py
LIMITS = (1, 3, 10, 40, 10_000)


@pytest.fixture
def synthetic(db_url: str) -> Iterator[tuple[Context, dict[str, User]]]:
    app = dataclasses.replace(build_app(db_url), clock=lambda: NOW)
    synth(app, 400, seed=5, years=0.25)
    yield app, {u.username: u for u in uc.accounts.list_active_users(app)}
    assert isinstance(app.uow, SqlUowFactory)
    app.uow.engine.dispose()


def _same_as_full_read(app: Context, users: dict[str, User]) -> set[str]:
    """Every user's first tasks against the full read; the kinds of task met."""
    kinds: set[str] = set()
    for user in users.values():
        full = uc.worklists.tasks(app, user)
        kinds |= {t.kind for t in full}
        exact = Counter(t.kind for t in full)
        for limit in LIMITS:
            page = uc.task_pages.first_tasks(app, user, limit)
            assert [(t.kind, t.complaint_id, t.due_at) for t in page.items] == \
                [(t.kind, t.complaint_id, t.due_at) for t in full[:limit]], (user.username, limit)
            counts = dict(page.counts)
            shown = Counter(t.kind for t in page.items)
            assert all(counts.get(k, 0) >= n for k, n in shown.items()), user.username
            if len(full) < limit:  # at exactly `limit` it may stop before knowing
                assert page.complete and counts == dict(exact), (user.username, limit)
                assert page.total == len(full)
            elif not page.complete and limit >= 40:  # estimated from the cases read
                assert abs(page.total - len(full)) <= 0.25 * len(full), (user.username, limit)
    return kinds


def test_first_tasks_are_the_full_reads_first(synthetic: tuple[Context, dict[str, User]]
                                              ) -> None:
    app, users = synthetic
    kinds = _same_as_full_read(app, users)
    # the data set is varied enough to mean something: QA's, production's, sales', finance's
    # and the approvers' tasks, with and without a due time
    assert {"acknowledge", "classify_valid", "submit_analysis", "propose", "reply",
            "approve_step", "verify", "follow_up"} <= kinds
    qa = uc.worklists.tasks(app, users["qa"])
    assert len(qa) > 40 and any(t.due_at is None for t in qa) and \
        any(t.due_at and t.due_at < NOW for t in qa)


def test_the_same_with_first_meetings_and_record_level_visibility(
        synthetic: tuple[Context, dict[str, User]]) -> None:
    app, users = synthetic
    uc.reference.set_settings(app, users["admin"], {"first_meeting_days": 3,
                                                    "record_visibility": "department"})
    kinds = _same_as_full_read(app, users)
    assert "first_meeting" in kinds


def test_a_case_moved_on_leaves_the_first_tasks_and_the_next_one_comes_up(
        synthetic: tuple[Context, dict[str, User]]) -> None:
    app, users = synthetic
    qa = users["qa"]
    before = uc.task_pages.first_tasks(app, qa, 5)
    assert uc.task_pages.first_tasks(app, qa, 5, before) is before  # nothing changed
    top = next(t for t in before.items if t.kind == "acknowledge" and t.state == State.DISPATCHED)
    version = uc.complaints.complaint(app, qa, top.complaint_id).complaint.version
    uc.investigation.acknowledge(app, qa, top.complaint_id, version)
    after = uc.task_pages.first_tasks(app, qa, 5, before)
    assert after is not before
    assert [(t.kind, t.complaint_id) for t in after.items] == \
        [(t.kind, t.complaint_id) for t in uc.worklists.tasks(app, qa)[:5]]
    assert ("acknowledge", top.complaint_id) not in [(t.kind, t.complaint_id)
                                                      for t in after.items]


def test_a_complete_list_is_updated_from_the_changed_cases_and_stays_exact(
        synthetic: tuple[Context, dict[str, User]]) -> None:
    app, users = synthetic
    qa = users["qa"]
    before = uc.task_pages.first_tasks(app, qa, 10_000)
    assert before.complete
    top = next(t for t in before.items if t.kind == "acknowledge")
    version = uc.complaints.complaint(app, qa, top.complaint_id).complaint.version
    uc.investigation.acknowledge(app, qa, top.complaint_id, version)
    after = uc.task_pages.first_tasks(app, qa, 10_000, before)
    full = uc.worklists.tasks(app, qa)
    assert after.complete and [(t.kind, t.complaint_id) for t in after.items] == \
        [(t.kind, t.complaint_id) for t in full]
    assert dict(after.counts) == dict(Counter(t.kind for t in full))
    assert (top.kind, top.complaint_id) not in [(t.kind, t.complaint_id) for t in after.items]


@pytest.mark.parametrize("spare", [50, 2])
def test_after_changes_the_first_tasks_are_filled_from_the_spare_and_stay_exact(
        synthetic: tuple[Context, dict[str, User]], spare: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """QA acknowledges the top cases one by one: after each, the list made from the one before
    (the changed case decided again, the gap filled from the tasks read beyond the list)
    equals the full read's first 5 — also when the spare runs out and it is read anew."""
    monkeypatch.setattr(uc.task_pages, "SPARE", spare)
    app, users = synthetic
    qa = users["qa"]
    page = uc.task_pages.first_tasks(app, qa, 5)
    assert not page.complete and len(page.spare) == spare
    for step in range(4):
        top = next(t for t in page.items if t.kind == "acknowledge")
        version = uc.complaints.complaint(app, qa, top.complaint_id).complaint.version
        uc.investigation.acknowledge(app, qa, top.complaint_id, version)
        before, page = page, uc.task_pages.first_tasks(app, qa, 5, page)
        full = uc.worklists.tasks(app, qa)
        assert [(t.kind, t.complaint_id, t.due_at) for t in page.items] == \
            [(t.kind, t.complaint_id, t.due_at) for t in full[:5]], step
        assert (top.kind, top.complaint_id) not in [(t.kind, t.complaint_id)
                                                    for t in page.items]
        if spare == 50:  # filled from the spare: one task fewer there (its case moved on to
            # QA's next step, which may give a task of its own further down)
            assert len(page.spare) in (len(before.spare) - 1, len(before.spare)), step
        assert all(dict(page.counts).get(k, 0) >= n
                   for k, n in Counter(t.kind for t in page.items).items())


def test_changes_far_down_the_list_do_not_make_the_counts_creep(
        synthetic: tuple[Context, dict[str, User]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Cases beyond the tasks read change (QA signs for them: still QA's, a step further):
    the list is unchanged and the counts stay what they were, not one more per change."""
    monkeypatch.setattr(uc.task_pages, "SPARE", 2)
    app, users = synthetic
    qa = users["qa"]
    page = uc.task_pages.first_tasks(app, qa, 3)
    assert not page.complete
    read = {t.complaint_id for t in page.items + page.spare}
    far = [t for t in uc.worklists.tasks(app, qa)
           if t.kind == "acknowledge" and t.complaint_id not in read][-3:]
    assert len(far) == 3
    total = page.total
    for t in far:
        version = uc.complaints.complaint(app, qa, t.complaint_id).complaint.version
        uc.investigation.acknowledge(app, qa, t.complaint_id, version)
        page = uc.task_pages.first_tasks(app, qa, 3, page)
        assert [(x.kind, x.complaint_id) for x in page.items] == \
            [(x.kind, x.complaint_id) for x in uc.worklists.tasks(app, qa)[:3]]
        assert page.total == total
