"""Time limits through the services (docs/procedure.md §7), on the in-memory fakes with the real
2025/2026
official calendar: stored due times after every action, holds, extensions (延期) and who may
decide them, limits changed by admin, the calendar admin enters for years past the package,
the register's overdue filter and the order of My Tasks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidInput, NotAllowed, StaleCase
from core.usecases.worklists import Task
from core.usecases.worklists import order_tasks
from core.model import (
    ContainmentType,
    Kind,
    RegisterFilter,
    Role,
    Severity,
    State,
    StepTime,
    Title,
    User,
    Validity,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.unit.conftest import MakeUser, with_
from tests.unit.fakes import (FakeBlobs, FakeClock, FakeDatabase, FakeHasher, FakeHolidays,
                              use_case)
from core import usecases as uc

TZ = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


MON = at(2025, 11, 24, 9, 0)  # an ordinary Monday, no holiday that week
B_DUE = at(2025, 11, 27, 9, 0)  # 3 working days (27 h) after MON


@pytest.fixture
def kesu(db: FakeDatabase, blobs: FakeBlobs, clock: FakeClock) -> Context:
    """The application with China's official calendar (2025 and 2026 known)."""
    return Context(uow=db, blobs=blobs, hasher=FakeHasher(), clock=clock, holidays=FakeHolidays())


@pytest.fixture
def qam(make_user: MakeUser) -> User:
    return make_user("qiao", Role.QA, titles=frozenset({Title.QA_MANAGER}))


@pytest.fixture
def boss2(make_user: MakeUser) -> User:
    return make_user("bo", Role.MANAGEMENT)


class Flow:
    """Cases logged and moved on at given local times, through the services."""

    def __init__(self, kesu: Context, clock: FakeClock, draft: ComplaintDraft, sales: User,
                 qa: User, manager: User) -> None:
        self.kesu, self.clock, self.draft = kesu, clock, draft
        self.sales, self.qa, self.manager = sales, qa, manager

    def log(self, when: datetime, severity: Severity | None = Severity.B, **kw: Any) -> int:
        self.clock.set(when)
        c = uc.complaints.register_complaint(
            self.kesu,
            self.sales,
            with_(self.draft, received_at=when, severity_proposed=severity, **kw),
        )
        return c.id or 0

    def version(self, cid: int) -> int:
        return uc.complaints.case_file(self.kesu, self.sales, cid).complaint.version

    def do(self, when: datetime, action: str, who: User, cid: int, *args: Any) -> None:
        self.clock.set(when)
        use_case(action)(self.kesu, who, cid, self.version(cid), *args)

    def dispatched(self, when: datetime, severity: Severity = Severity.B,
                   signed: bool = False) -> int:
        """A case dispatched at `when`, and if `signed` QA's signature for it (签收) at the same
        moment. Until QA signs, the signature's own short step is the earliest due time."""
        cid = self.log(when, severity)
        if severity == Severity.A:
            self.do(when, "approve_dispatch", self.manager, cid)
        self.do(when, "dispatch", self.sales, cid)
        if signed:
            self.do(when, "acknowledge", self.qa, cid)
        return cid

    def due(self, cid: int) -> tuple[datetime | None, str]:
        c = uc.complaints.case_file(self.kesu, self.sales, cid).complaint
        return c.due_at, c.due_step

    def step(self, cid: int, step: str) -> Any:
        return {d.step: d for d in uc.timing.due_times(self.kesu, self.sales, cid)}[step]


@pytest.fixture
def f(kesu: Context, clock: FakeClock, draft: ComplaintDraft, sales: User, qa: User,
      manager: User) -> Flow:
    return Flow(kesu, clock, draft, sales, qa, manager)


# ---------------------------------------------------------------- due times stored on the case


def test_a_new_complaint_must_be_dispatched_within_one_working_hour(f: Flow) -> None:
    cid = f.log(at(2025, 11, 21, 17, 0))  # a Friday, half an hour before closing
    assert f.due(cid) == (at(2025, 11, 24, 9, 0), "dispatch")


def test_b_complaint_dispatched_before_national_day_is_due_on_the_makeup_saturday(f: Flow) -> None:
    cid = f.dispatched(at(2025, 9, 30, 16, 0))
    assert f.step(cid, "reply").due == at(2025, 10, 11, 16, 0)
    assert f.step(cid, "reply").missing_years == ()


def test_a_complaint_containment_is_due_8_working_hours_after_dispatch_then_the_reply(
    f: Flow, qa: User
) -> None:
    cid = f.dispatched(at(2025, 11, 21, 15, 0), Severity.A)  # Friday afternoon
    # first QA's signature for the form: an A's within one working hour
    assert f.due(cid) == (at(2025, 11, 21, 16, 0), "acknowledge")
    assert f.step(cid, "containment").due == at(2025, 11, 24, 14, 0)
    assert f.step(cid, "reply").due == at(2025, 11, 25, 15, 0)  # 2 working days
    f.do(at(2025, 11, 24, 9, 0), "acknowledge", qa, cid)
    assert f.due(cid) == (at(2025, 11, 24, 14, 0), "containment")
    f.clock.set(at(2025, 11, 24, 11, 0))
    uc.investigation.add_containment(f.kesu, qa, cid, ContainmentType.QUARANTINE, 200, "库存隔离")
    assert f.due(cid) == (at(2025, 11, 25, 15, 0), "reply")
    assert "containment" not in {d.step for d in uc.timing.due_times(f.kesu, qa, cid)}


def test_an_inquiry_is_due_24_clock_hours_after_receipt(f: Flow) -> None:
    cid = f.log(at(2025, 9, 30, 15, 0), None, kind=Kind.INQUIRY)
    assert f.due(cid) == (at(2025, 10, 1, 15, 0), "answer_inquiry")
    f.do(at(2025, 9, 30, 15, 30), "route_short", f.sales, cid)
    assert f.due(cid) == (at(2025, 10, 1, 15, 0), "answer_inquiry")


def test_a_suggestion_is_due_5_working_days_after_receipt(f: Flow) -> None:
    cid = f.log(at(2025, 9, 30, 15, 0), None, kind=Kind.SUGGESTION)
    assert f.due(cid) == (at(2025, 10, 14, 15, 0), "answer_suggestion")


def test_investigation_is_due_3_working_days_after_acknowledgement(f: Flow, qa: User) -> None:
    cid = f.dispatched(at(2025, 11, 21, 15, 0))  # reply: Fri 2.5 h, Mon, Tue, Wed 6.5 h
    f.do(at(2025, 11, 24, 14, 0), "acknowledge", qa, cid)
    assert f.step(cid, "investigation").due == at(2025, 11, 27, 14, 0)
    assert f.due(cid) == (at(2025, 11, 26, 15, 0), "reply")  # the earlier of the two


def test_recording_returned_goods_opens_a_week_for_their_analysis_until_qa_reports(
    f: Flow, qa: User, db: FakeDatabase
) -> None:
    """docs/procedure.md §7: returned goods analysed within a week of their receipt. Marking the
    sample
    received (an edit) starts it; QA's classification ends it, recorded as on time."""
    cid = f.dispatched(at(2025, 11, 3, 9, 0))  # Monday: reply due Thursday 09:00
    f.do(at(2025, 11, 3, 10, 0), "acknowledge", qa, cid)
    assert "returned_goods" not in {d.step for d in uc.timing.due_times(f.kesu, qa, cid)}
    f.clock.set(at(2025, 11, 4, 11, 0))
    uc.complaints.update_complaint(
        f.kesu,
        qa,
        cid,
        f.version(cid),
        with_(f.draft, received_at=at(2025, 11, 3, 9, 0), severity_proposed=Severity.B,
              sample_received=True, sample_date=date(2025, 11, 4)),
    )
    goods = f.step(cid, "returned_goods")
    assert (goods.started, goods.due) == (at(2025, 11, 4, 11, 0), at(2025, 11, 11, 11, 0))
    f.do(at(2025, 11, 10, 9, 0), "classify", qa, cid, Validity.INVALID, None, None, None,
         "客户使用不当")
    assert "returned_goods" not in {d.step for d in uc.timing.due_times(f.kesu, qa, cid)}
    with db() as uow:
        timed = {s.step: s for s in uow.records.where(StepTime) if s.complaint_id == cid}
    assert timed["returned_goods"].on_time and timed["returned_goods"].due_at == goods.due


def test_goods_arriving_days_after_the_complaint_can_be_recorded_but_not_tomorrows(
    f: Flow, qa: User
) -> None:
    cid = f.dispatched(at(2025, 11, 3, 9, 0))
    f.clock.set(at(2025, 11, 10, 11, 0))
    edit = dict(received_at=at(2025, 11, 3, 9, 0), severity_proposed=Severity.B,
                sample_received=True)
    with pytest.raises(InvalidInput) as e:
        uc.complaints.update_complaint(f.kesu, qa, cid, f.version(cid),
                                       with_(f.draft, **edit, sample_date=date(2025, 11, 12)))
    assert e.value.key == "err.future_date"
    uc.complaints.update_complaint(f.kesu, qa, cid, f.version(cid),
                                   with_(f.draft, **edit, sample_date=date(2025, 11, 10)))
    assert f.step(cid, "returned_goods").started == at(2025, 11, 10, 11, 0)


def test_an_edit_finishes_no_timed_step(f: Flow, db: FakeDatabase) -> None:
    """Moving the received time of a case waiting for dispatch moves its dispatch clock; it
    does not record the dispatch step as done."""
    cid = f.log(at(2025, 11, 3, 9, 0))
    f.clock.set(at(2025, 11, 3, 9, 30))
    uc.complaints.update_complaint(
        f.kesu,
        f.sales,
        cid,
        f.version(cid),
        with_(f.draft, received_at=at(2025, 11, 3, 8, 45), severity_proposed=Severity.B),
    )
    assert f.due(cid) == (at(2025, 11, 3, 9, 45), "dispatch")
    with db() as uow:
        assert [s for s in uow.records.where(StepTime) if s.complaint_id == cid] == []


def test_a_closed_step_leaves_no_due_time_when_the_case_is_cancelled(f: Flow) -> None:
    cid = f.dispatched(MON)
    f.do(MON + timedelta(hours=1), "cancel", f.sales, cid, "客户撤回")
    assert f.due(cid) == (None, "")
    assert uc.timing.due_times(f.kesu, f.sales, cid) == []


# ---------------------------------------------------------------- holds pause the clock


def test_a_hold_of_two_working_hours_moves_the_due_time_by_two_working_hours(f: Flow,
                                                                             qa: User) -> None:
    cid = f.dispatched(MON)
    assert f.step(cid, "reply").due == B_DUE
    f.do(at(2025, 11, 25, 10, 0), "hold", qa, cid, "等待客户寄回样品")
    assert f.due(cid) == (None, "")  # no due time while waiting for the customer
    assert f.step(cid, "reply").due is None
    f.do(at(2025, 11, 25, 12, 0), "resume", qa, cid)
    assert f.step(cid, "reply").due == at(2025, 11, 27, 11, 0)


def test_a_hold_over_night_and_weekend_adds_only_working_hours(f: Flow, qa: User) -> None:
    cid = f.dispatched(MON)
    f.do(at(2025, 11, 24, 17, 0), "hold", qa, cid, "等样品")  # Monday 17:00
    f.do(at(2025, 11, 25, 9, 30), "resume", qa, cid)  # 0.5 h Monday + 1 h Tuesday
    assert f.step(cid, "reply").due == at(2025, 11, 27, 10, 30)


def test_a_case_on_hold_is_not_overdue_however_late_it_is(f: Flow, qa: User, sales: User) -> None:
    held = f.dispatched(MON)
    f.do(at(2025, 11, 25, 10, 0), "hold", qa, held, "等样品")
    late = f.dispatched(MON)
    f.clock.set(at(2025, 12, 15, 10, 0))
    assert not f.step(held, "reply").is_overdue(f.clock())
    assert f.step(late, "reply").is_overdue(f.clock())
    # what the register's overdue filter reads (tests/integration/test_due_times_db.py)
    assert f.due(held)[0] is None and (f.due(late)[0] or f.clock()) < f.clock()


# ---------------------------------------------------------------- the register's overdue filter
# Which rows it returns is SQL, tested on both databases (tests/integration/
# test_due_times_db.py: exactly the open cases past their stored due time, not at the minute
# it is due, not on hold). Here: the use case hands it the service clock, not the database's.


def test_the_overdue_filter_is_asked_with_the_service_clock(f: Flow, sales: User) -> None:
    f.dispatched(MON)
    f.clock.set(B_DUE)
    uc.search.register(f.kesu, sales, RegisterFilter(overdue_only=True))
    assert isinstance(f.kesu.uow, FakeDatabase)
    asked = f.kesu.uow.register_filters[-1]
    assert asked.overdue_only and asked.now == B_DUE


# ---------------------------------------------------------------- My Tasks


def test_my_tasks_show_overdue_first_then_by_due_time(f: Flow, sales: User) -> None:
    fresh = f.log(at(2025, 11, 24, 13, 30))  # due 14:30
    late = f.log(at(2025, 11, 24, 9, 0))  # due 10:00
    fresher = f.log(at(2025, 11, 24, 13, 45))  # due 14:45
    later = f.log(at(2025, 11, 21, 16, 0))  # Friday: due Friday 17:00
    f.clock.set(at(2025, 11, 24, 14, 0))
    tasks = uc.worklists.tasks(f.kesu, sales)
    assert [t.complaint_id for t in tasks] == [later, late, fresh, fresher]
    assert [t.due_at for t in tasks] == [
        at(2025, 11, 21, 17, 0),
        at(2025, 11, 24, 10, 0),
        at(2025, 11, 24, 14, 30),
        at(2025, 11, 24, 14, 45),
    ]


def _task(n: int, due: datetime | None, since: datetime) -> Task:
    return Task("dispatch", n, f"KS-{n}", 1, Severity.B, State.REGISTERED, since, "", since, due)


def test_order_tasks_puts_overdue_first_then_due_time_then_undated_newest_first() -> None:
    now = at(2025, 11, 24, 14, 0)
    tasks = [
        _task(1, None, at(2025, 11, 20, 9, 0)),
        _task(2, at(2025, 11, 24, 15, 0), now),
        _task(3, at(2025, 11, 24, 9, 0), now),
        _task(4, None, at(2025, 11, 23, 9, 0)),
        _task(5, at(2025, 11, 21, 9, 0), now),
        _task(6, at(2025, 11, 25, 9, 0), now),
    ]
    assert [t.complaint_id for t in order_tasks(tasks, now)] == [5, 3, 2, 6, 4, 1]


def test_a_case_on_hold_leaves_my_tasks_until_resumed(f: Flow, qa: User) -> None:
    cid = f.dispatched(MON)
    assert [t.complaint_id for t in uc.worklists.tasks(f.kesu, qa)] == [cid]
    f.do(MON + timedelta(hours=1), "hold", qa, cid, "等样品")
    assert uc.worklists.tasks(f.kesu, qa) == []
    f.do(MON + timedelta(hours=3), "resume", qa, cid)
    (task,) = uc.worklists.tasks(f.kesu, qa)
    # QA's task is the signature (签收): its own deadline, 4 working hours + the 2 held
    assert (task.kind, task.due_at) == ("acknowledge", at(2025, 11, 24, 15, 0))


# ---------------------------------------------------------------- extensions (延期)


NEW_DUE = at(2025, 12, 3, 17, 0)


def _requested(f: Flow, who: User) -> int:
    """A B case dispatched on MON; on Wednesday `who` asks to reply by NEW_DUE."""
    cid = f.dispatched(MON)
    f.do(at(2025, 11, 26, 9, 0), "request_extension", who, cid, "reply", NEW_DUE,
         "客户要求第三方检测")
    return cid


def test_a_granted_extension_moves_the_due_time(f: Flow, sales: User, qam: User) -> None:
    cid = _requested(f, sales)
    assert f.step(cid, "reply").due == B_DUE  # asking alone changes nothing
    req = uc.timing.pending_extension(f.kesu, sales, cid)
    assert req is not None
    assert (req.step, req.due, req.reason, req.by) == (
        "reply",
        NEW_DUE,
        "客户要求第三方检测",
        "Sally",
    )
    f.do(at(2025, 11, 26, 10, 0), "decide_extension", qam, cid, True, "同意", True)
    assert f.step(cid, "reply").due == NEW_DUE
    assert f.step(cid, "reply").extended
    assert uc.timing.pending_extension(f.kesu, sales, cid) is None
    last = uc.complaints.complaint(f.kesu, sales, cid).events[-1]
    assert last.action == "extension_granted"
    assert last.changes["customer_informed"] == [None, True] and last.comment == "同意"


def test_a_refused_extension_leaves_the_due_time(f: Flow, sales: User, manager: User) -> None:
    cid = _requested(f, sales)
    f.do(at(2025, 11, 26, 10, 0), "decide_extension", manager, cid, False, "不同意")
    assert f.step(cid, "reply").due == B_DUE
    assert not f.step(cid, "reply").extended
    last = uc.complaints.complaint(f.kesu, sales, cid).events[-1]
    assert last.action == "extension_refused"
    assert last.changes["customer_informed"] == [None, False]
    assert uc.timing.pending_extension(f.kesu, sales, cid) is None


@pytest.mark.parametrize("who", ["sales", "qa", "finance", "admin"])
def test_only_management_or_the_qa_manager_decide_an_extension(f: Flow,
                                                               request: pytest.FixtureRequest,
                                                               sales: User, who: str) -> None:
    cid = _requested(f, sales)
    with pytest.raises(NotAllowed) as err:
        f.do(at(2025, 11, 26, 10, 0), "decide_extension", request.getfixturevalue(who), cid, True)
    assert err.value.key == "why.extension_decider"
    assert f.step(cid, "reply").due == B_DUE
    assert uc.timing.pending_extension(f.kesu, sales, cid) is not None


def test_nobody_decides_their_own_extension_request(f: Flow, manager: User, boss2: User) -> None:
    cid = _requested(f, manager)
    with pytest.raises(NotAllowed) as err:
        f.do(at(2025, 11, 26, 10, 0), "decide_extension", manager, cid, True)
    assert err.value.key == "why.own_extension"
    f.do(at(2025, 11, 26, 10, 0), "decide_extension", boss2, cid, True)
    assert f.step(cid, "reply").due == NEW_DUE


def test_a_qa_manager_cannot_grant_their_own_request_either(f: Flow, qam: User,
                                                            manager: User) -> None:
    cid = _requested(f, qam)
    with pytest.raises(NotAllowed) as err:
        f.do(at(2025, 11, 26, 10, 0), "decide_extension", qam, cid, True)
    assert err.value.key == "why.own_extension"
    f.do(at(2025, 11, 26, 10, 0), "decide_extension", manager, cid, True)
    assert f.step(cid, "reply").due == NEW_DUE


def test_deciding_without_a_pending_request_is_refused(f: Flow, manager: User, sales: User) -> None:
    cid = f.dispatched(MON)
    with pytest.raises(InvalidInput) as err:
        f.do(MON, "decide_extension", manager, cid, True)
    assert err.value.key == "err.no_extension_request"
    cid = _requested(f, sales)
    f.do(at(2025, 11, 26, 10, 0), "decide_extension", manager, cid, False)
    with pytest.raises(InvalidInput):  # decided once; nothing is pending any more
        f.do(at(2025, 11, 26, 11, 0), "decide_extension", manager, cid, True)


@pytest.mark.parametrize(
    "new_due",
    [
        B_DUE,
        B_DUE - timedelta(hours=1),  # not later than the current due time
        at(2025, 11, 25, 9, 0),  # in the past
        datetime(2025, 12, 3, 17, 0),  # no time zone
    ],
)
def test_an_extension_must_ask_for_a_later_date(f: Flow, sales: User, new_due: datetime) -> None:
    cid = f.dispatched(MON)
    with pytest.raises(InvalidInput) as err:
        f.do(at(2025, 11, 26, 9, 0), "request_extension", sales, cid, "reply", new_due, "why")
    assert err.value.key == "err.extension_date"
    assert uc.timing.pending_extension(f.kesu, sales, cid) is None


def test_an_extension_needs_a_reason_and_an_open_step(f: Flow, sales: User, finance: User) -> None:
    cid = f.dispatched(MON)
    with pytest.raises(InvalidInput) as err:
        f.do(MON, "request_extension", sales, cid, "reply", NEW_DUE, "  ")
    assert err.value.key == "err.required"
    for step, who, why in (
        ("investigation", sales, "why.no_open_step"),
        ("dispatch", sales, "why.no_open_step"),
        ("reply", finance, "why.wrong_role"),
    ):
        with pytest.raises(NotAllowed) as no:
            f.do(MON, "request_extension", who, cid, step, NEW_DUE, "reason")
        assert no.value.key == why


def test_an_extension_decided_on_a_stale_page_is_refused(f: Flow, sales: User,
                                                         manager: User) -> None:
    cid = _requested(f, sales)
    seen = f.version(cid)
    f.do(at(2025, 11, 26, 9, 30), "hold", sales, cid, "等客户")
    with pytest.raises(StaleCase):
        uc.timing.decide_extension(f.kesu, manager, cid, seen, True)


# ---------------------------------------------------------------- limits changed by admin


def test_changed_limits_apply_only_to_steps_started_afterwards(f: Flow, admin: User,
                                                               qa: User) -> None:
    before = f.dispatched(MON)
    f.clock.set(at(2025, 11, 24, 12, 0))
    limits = uc.timing.sla_limits(f.kesu)
    limits["reply"]["B"] = (5, "wd")
    uc.timing.set_sla_limits(f.kesu, admin, limits)
    assert uc.timing.sla_limits(f.kesu)["reply"]["B"] == (5, "wd")
    after = f.dispatched(at(2025, 11, 24, 13, 0))
    assert f.step(after, "reply").due == at(2025, 12, 1, 13, 0)  # 5 working days
    f.do(at(2025, 11, 25, 9, 0), "acknowledge", qa, before)  # recomputed: still 3 days
    assert f.step(before, "reply").due == B_DUE and f.due(before)[0] == B_DUE


def test_a_changed_dispatch_limit_times_complaints_logged_afterwards(f: Flow, admin: User) -> None:
    f.clock.set(at(2025, 11, 1, 9, 0))
    uc.timing.set_sla_limits(f.kesu, admin, {"dispatch": {"*": (2, "wh")}})
    cid = f.log(at(2025, 11, 21, 17, 0))
    assert f.due(cid) == (at(2025, 11, 24, 10, 0), "dispatch")
    assert uc.timing.sla_limits(f.kesu)["reply"] == {
        "A": (2, "wd"),
        "B": (3, "wd"),
        "C": (3, "wd"),
        "D": (5, "wd"),
    }


@pytest.mark.parametrize(
    "limits",
    [
        {"lunch": {"*": (1, "wh")}},
        {"reply": {"E": (1, "wd")}},
        {"reply": {"B": (1, "weeks")}},
        {"reply": {"B": (0, "wd")}},
        {"reply": {"B": (1001, "h")}},
        {"reply": {"B": (-1, "wd")}},
    ],
)
def test_invalid_limits_are_refused_and_nothing_changes(f: Flow, admin: User, limits: Any) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.timing.set_sla_limits(f.kesu, admin, limits)
    assert err.value.key == "err.sla_invalid"
    assert uc.timing.sla_limits(f.kesu)["reply"]["B"] == (3, "wd")


def test_only_admin_changes_limits_and_the_calendar(f: Flow, manager: User, qam: User) -> None:
    for who in (manager, qam):
        with pytest.raises(NotAllowed):
            uc.timing.set_sla_limits(f.kesu, who, {"reply": {"B": (5, "wd")}})
        with pytest.raises(NotAllowed):
            uc.timing.set_calendar_year(f.kesu, who, 2027, "2027-01-01 休")
        with pytest.raises(NotAllowed):
            uc.timing.set_calendar_overrides(f.kesu, who, "2025-12-01", "")


# ---------------------------------------------------------------- the calendar


SCHEDULE_2027 = """# 2027 (as pasted from the State Council notice)
2027-01-01 休
2027-02-06~2027-02-12 休   # 春节
2027-02-14 班
"""


def test_a_year_without_data_falls_back_and_says_so_until_admin_enters_it(f: Flow,
                                                                          admin: User) -> None:
    f.clock.set(at(2026, 11, 10, 10, 0))
    status = uc.timing.calendar_status(f.kesu)
    assert status.known_years == [2025, 2026] and status.missing_next_year
    cid = f.dispatched(at(2026, 12, 30, 16, 0))
    # Jan 1 2027 counted as a working day (weekends only), and the case says so
    assert f.step(cid, "reply").due == at(2027, 1, 4, 16, 0)
    assert f.step(cid, "reply").missing_years == (2027,)
    assert uc.timing.set_calendar_year(f.kesu, admin, 2027, SCHEDULE_2027) == 9
    status = uc.timing.calendar_status(f.kesu)
    assert status.entered_years == [2027] and 2027 in status.known_years
    assert not status.missing_next_year
    assert f.step(cid, "reply").due == at(2027, 1, 5, 16, 0)  # New Year's Day skipped
    assert f.step(cid, "reply").missing_years == ()
    assert f.step(cid, "reply").due == at(2027, 1, 5, 16, 0)  # stored: register and My Tasks


def test_the_entered_schedule_counts_its_makeup_day_and_skips_its_holiday(f: Flow,
                                                                          admin: User) -> None:
    f.clock.set(at(2026, 11, 10, 10, 0))
    uc.timing.set_calendar_year(f.kesu, admin, 2027, SCHEDULE_2027)
    cal = uc.context.calendar(f.kesu)
    # Fri Feb 5 2027 16:00 + 1 working day: 1.5 h Friday, Sun Feb 14 (班) 7.5 h
    assert cal.add_working_time(at(2027, 2, 5, 16, 0), days=1) == at(2027, 2, 14, 16, 0)


def test_entering_a_year_again_replaces_its_schedule(f: Flow, admin: User) -> None:
    f.clock.set(at(2026, 11, 10, 10, 0))
    uc.timing.set_calendar_year(f.kesu, admin, 2027, SCHEDULE_2027)
    uc.timing.set_calendar_year(f.kesu, admin, 2027, "2027-01-01~2027-01-03 休")
    cal = uc.context.calendar(f.kesu)
    assert not cal.is_workday(date(2027, 1, 1)) and not cal.is_workday(date(2027, 1, 3))
    assert cal.is_workday(date(2027, 2, 8)) and not cal.is_workday(date(2027, 2, 14))


@pytest.mark.parametrize(
    ("year", "text", "key"),
    [
        (2027, "2027-01-01 maybe", "err.schedule"),
        (2027, "2027-02-30 休", "err.schedule"),
        (2027, "2028-01-01 休", "err.schedule_year"),
        (2027, "2027-02-14 班", "err.schedule_year"),  # no day off at all
        (1999, "1999-01-01 休", "err.year_range"),
    ],
)
def test_a_bad_schedule_is_refused_and_nothing_is_saved(f: Flow, admin: User, year: int, text: str,
                                                        key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.timing.set_calendar_year(f.kesu, admin, year, text)
    assert err.value.key == key
    assert uc.timing.calendar_status(f.kesu).entered_years == []


def test_company_days_off_and_extra_working_days_move_due_times(f: Flow, admin: User) -> None:
    cid = f.dispatched(MON)
    uc.timing.set_calendar_overrides(f.kesu, admin, "2025-11-26", "")  # Wednesday: company day off
    assert f.step(cid, "reply").due == at(2025, 11, 28, 9, 0)
    uc.timing.set_calendar_overrides(f.kesu, admin, "2025-11-26", "2025-11-22~2025-11-23")
    status = uc.timing.calendar_status(f.kesu)
    assert status.extra_off == [date(2025, 11, 26)]
    assert status.extra_work == [date(2025, 11, 22), date(2025, 11, 23)]
    # the weekend before the dispatch does not help; the Wednesday still does not count
    assert f.step(cid, "reply").due == at(2025, 11, 28, 9, 0)
    uc.timing.set_calendar_overrides(f.kesu, admin, "", "")
    assert f.step(cid, "reply").due == B_DUE


def test_a_company_working_day_on_a_statutory_holiday_counts(f: Flow, admin: User) -> None:
    cid = f.dispatched(at(2025, 9, 30, 16, 0))
    uc.timing.set_calendar_overrides(f.kesu, admin, "", "2025-10-08")
    assert f.step(cid, "reply").due == at(2025, 10, 10, 16, 0)  # Oct 8, 9 and 10


@pytest.mark.parametrize(("off", "work"),
                         [("2025-13-01", ""), ("", "soon"), ("2025-12-01", "2025-12-01")])
def test_bad_company_days_are_refused(f: Flow, admin: User, off: str, work: str) -> None:
    with pytest.raises(InvalidInput):
        uc.timing.set_calendar_overrides(f.kesu, admin, off, work)
    assert uc.timing.calendar_status(f.kesu).extra_off == []


def test_changed_working_hours_move_the_stored_due_times(f: Flow, admin: User) -> None:
    cid = f.log(at(2025, 11, 24, 17, 0))  # half an hour left today
    assert f.due(cid)[0] == at(2025, 11, 25, 9, 0)
    uc.reference.set_settings(f.kesu, admin, {"work_end": "18:00"})
    assert f.due(cid)[0] == at(2025, 11, 24, 18, 0)


def test_recomputing_due_times_after_a_calendar_change_is_not_an_edit(f: Flow, admin: User,
                                                                      sales: User) -> None:
    cid = f.dispatched(MON)
    version, events = f.version(cid), len(uc.complaints.complaint(f.kesu, sales, cid).events)
    uc.timing.set_calendar_overrides(f.kesu, admin, "2025-11-26", "")
    assert f.version(cid) == version
    assert len(uc.complaints.complaint(f.kesu, sales, cid).events) == events
