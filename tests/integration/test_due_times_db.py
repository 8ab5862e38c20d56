"""Due times on the real databases (SQLite file, PostgreSQL) with China's calendar from the
`chinese-calendar` package (docs/procedure.md §7): stored due times survive the round trip, holds
clear and
move them, granted extensions and changed limits are kept as data, a year past the package is
entered by admin, and the register's overdue filter (SQL) returns exactly the overdue open
cases."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.model import ContainmentType, Kind, RegisterFilter, Role, Severity, Title, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from adapters.holidays import PackageHolidays
from tests.integration.conftest import NOW, PASSWORD, World
from core import usecases as uc
from tests.unit.fakes import use_case

TZ = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


MON = at(2025, 11, 24, 9, 0)  # an ordinary Monday
B_DUE = at(2025, 11, 27, 9, 0)  # 3 working days after MON


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclasses.dataclass
class Timed:
    app: Context
    clock: Clock
    w: World
    draft: Callable[..., ComplaintDraft]
    make_app: Callable[..., Context]

    def log(self, when: datetime, severity: Severity | None = Severity.B, **kw: Any) -> int:
        self.clock.now = when
        c = uc.complaints.register_complaint(
            self.app, self.w.sales, self.draft(received_at=when, severity_proposed=severity, **kw)
        )
        return c.id or 0

    def version(self, cid: int) -> int:
        return uc.complaints.case_file(self.app, self.w.sales, cid).complaint.version

    def do(self, when: datetime, action: str, who: User, cid: int, *args: Any) -> None:
        self.clock.now = when
        use_case(action)(self.app, who, cid, self.version(cid), *args)

    def dispatched(self, when: datetime, severity: Severity = Severity.B,
                   signed: bool = True) -> int:
        """Dispatched at `when` and, if `signed`, QA's signature (签收) a minute later — so the
        signature's own short step is over and the reply is the case's earliest due time."""
        cid = self.log(when, severity)
        if severity == Severity.A:
            self.do(when, "approve_dispatch", self.w.manager, cid)
        self.do(when, "dispatch", self.w.sales, cid)
        if signed:
            self.do(when + timedelta(minutes=1), "acknowledge", self.w.qa, cid)
        return cid

    def stored(self, cid: int, app: Context | None = None) -> tuple[datetime | None, str]:
        """The due time as another application instance reads it from the database."""
        c = uc.complaints.case_file(app or self.make_app(clock=self.clock), self.w.admin,
                                    cid).complaint
        return c.due_at, c.due_step

    def overdue(self, now: datetime) -> tuple[set[int], dict[int, datetime | None]]:
        self.clock.now = now
        rows, total = uc.search.register(self.app, self.w.sales, RegisterFilter(overdue_only=True))
        assert total == len(rows)
        return {r.id for r in rows}, {r.id: r.due_at for r in rows}


@pytest.fixture
def t(app: Context, world: World, draft: Callable[..., ComplaintDraft],
      make_app: Callable[..., Context]) -> Timed:
    clock = Clock(NOW)
    timed = Timed(make_app(clock=clock), clock, world, draft, make_app)
    # these tests follow the reply's due time through the database: QA's investigation report
    # (3 working days from the signature, as long as the reply's) is given 10 here, so that
    # the reply stays each signed case's earliest step (the report: tests/unit/test_timing.py)
    clock.now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    limits = uc.timing.sla_limits(timed.app)
    limits["investigation"] = {"*": (10, "wd")}
    uc.timing.set_sla_limits(timed.app, world.admin, limits)
    clock.now = NOW
    return timed


# ---------------------------------------------------------------- the package's calendar


def test_the_package_knows_national_day_2025_its_makeup_days_and_no_year_past_2026() -> None:
    off, work, years = PackageHolidays().official()
    assert {date(2025, 10, d) for d in range(1, 9)} <= off
    assert {
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
    } <= work
    assert {date(2026, 2, d) for d in range(15, 24)} <= off
    assert {2025, 2026} <= years and 2027 not in years
    assert all(d.weekday() >= 5 for d in work)  # only weekend days are make-up days


def test_b_complaint_dispatched_before_national_day_is_due_on_the_makeup_saturday(t: Timed) -> None:
    cid = t.dispatched(at(2025, 9, 30, 16, 0))
    due, step = t.stored(cid)
    assert (due, step) == (at(2025, 10, 11, 16, 0), "reply")
    assert due is not None and due.utcoffset() == timedelta(0)  # read back as UTC, aware


def test_spring_festival_2026_reply_skips_the_nine_days_off(t: Timed) -> None:
    cid = t.dispatched(at(2026, 2, 13, 16, 0))  # Friday; Saturday Feb 14 is 班
    assert t.stored(cid) == (at(2026, 2, 25, 16, 0), "reply")


def test_a_complaint_containment_due_over_a_weekend_then_the_reply(t: Timed) -> None:
    cid = t.dispatched(at(2025, 11, 21, 15, 0), Severity.A, signed=False)
    # first QA signs for an A's form (签收): within one working hour
    assert t.stored(cid) == (at(2025, 11, 21, 16, 0), "acknowledge")
    assert {d.step: d.due for d in uc.timing.due_times(t.app, t.w.qa, cid)}["containment"] == \
        at(2025, 11, 24, 14, 0)
    t.do(at(2025, 11, 24, 9, 0), "acknowledge", t.w.qa, cid)
    t.clock.now = at(2025, 11, 24, 11, 0)
    uc.investigation.add_containment(t.app, t.w.qa, cid, ContainmentType.QUARANTINE, 200,
                                     "库存隔离")
    assert t.stored(cid) == (at(2025, 11, 25, 15, 0), "reply")


def test_an_inquiry_is_due_24_clock_hours_after_receipt(t: Timed) -> None:
    cid = t.log(at(2025, 9, 30, 15, 0), None, kind=Kind.INQUIRY)
    assert t.stored(cid) == (at(2025, 10, 1, 15, 0), "answer_inquiry")


# ---------------------------------------------------------------- holds, extensions, limits


def test_a_hold_clears_the_stored_due_time_and_resuming_moves_it_by_the_hold(t: Timed) -> None:
    cid = t.dispatched(MON)
    t.do(at(2025, 11, 25, 10, 0), "hold", t.w.qa, cid, "等待客户寄回样品")
    assert t.stored(cid) == (None, "")
    assert cid not in t.overdue(at(2025, 12, 31, 9, 0))[0]
    t.do(at(2025, 11, 25, 12, 0), "resume", t.w.qa, cid)
    assert t.stored(cid) == (at(2025, 11, 27, 11, 0), "reply")


def test_a_granted_extension_is_kept_and_read_back_by_another_instance(t: Timed,
                                                                       app: Context) -> None:
    qam = uc.accounts.create_user(
        app,
        t.w.admin,
        UserInput("qam", "品质经理", frozenset({Role.QA}), titles=frozenset({Title.QA_MANAGER})),
        PASSWORD,
    )
    cid = t.dispatched(MON)
    new_due = at(2025, 12, 3, 17, 0)
    t.do(at(2025, 11, 26, 9, 0), "request_extension", t.w.sales, cid, "reply", new_due,
         "客户要求第三方检测")
    other = t.make_app(clock=t.clock)
    req = uc.timing.pending_extension(other, t.w.qa, cid)
    assert req is not None and (req.step, req.due, req.by) == ("reply", new_due, "张三")
    t.do(at(2025, 11, 26, 10, 0), "decide_extension", qam, cid, True, "同意", True)
    assert t.stored(cid, other) == (new_due, "reply")
    reply = {d.step: d for d in uc.timing.due_times(other, t.w.qa, cid)}["reply"]
    assert reply.extended and reply.due == new_due
    assert uc.timing.pending_extension(other, t.w.qa, cid) is None
    assert cid not in t.overdue(at(2025, 12, 1, 9, 0))[0]  # past the old due time


def test_a_refused_extension_leaves_the_stored_due_time(t: Timed) -> None:
    cid = t.dispatched(MON)
    t.do(at(2025, 11, 26, 9, 0), "request_extension", t.w.sales, cid, "reply",
         at(2025, 12, 3, 17, 0), "客户要求")
    t.do(at(2025, 11, 26, 10, 0), "decide_extension", t.w.manager, cid, False, "不同意")
    assert t.stored(cid) == (B_DUE, "reply")
    assert t.overdue(at(2025, 11, 27, 9, 1))[0] == {cid}


def test_changed_limits_are_kept_and_apply_only_to_steps_started_afterwards(t: Timed) -> None:
    before = t.dispatched(MON, signed=False)
    t.clock.now = at(2025, 11, 24, 12, 0)
    limits = uc.timing.sla_limits(t.app)
    limits["reply"]["B"] = (5, "wd")
    uc.timing.set_sla_limits(t.app, t.w.admin, limits)
    after = t.dispatched(at(2025, 11, 24, 13, 0))
    t.do(at(2025, 11, 25, 9, 0), "acknowledge", t.w.qa, before)  # recomputed from the DB
    other = t.make_app(clock=t.clock)
    assert uc.timing.sla_limits(other)["reply"]["B"] == (5, "wd")
    assert t.stored(before, other) == (B_DUE, "reply")
    assert t.stored(after, other) == (at(2025, 12, 1, 13, 0), "reply")


# ---------------------------------------------------------------- a year past the package


def test_2027_falls_back_to_weekends_until_admin_pastes_the_schedule(t: Timed) -> None:
    t.clock.now = at(2026, 11, 10, 10, 0)
    assert uc.timing.calendar_status(t.app).missing_next_year
    cid = t.dispatched(at(2026, 12, 30, 16, 0))
    assert t.stored(cid) == (at(2027, 1, 4, 16, 0), "reply")
    reply = {d.step: d for d in uc.timing.due_times(t.app, t.w.sales, cid)}["reply"]
    assert reply.missing_years == (2027,)
    uc.timing.set_calendar_year(t.app, t.w.admin, 2027,
                                "2027-01-01 休\n2027-02-06~2027-02-12 休\n2027-02-14 班\n")
    other = t.make_app(clock=t.clock)
    status = uc.timing.calendar_status(other)
    assert status.entered_years == [2027] and not status.missing_next_year
    assert t.stored(cid, other) == (at(2027, 1, 5, 16, 0), "reply")
    reply = {d.step: d for d in uc.timing.due_times(other, t.w.sales, cid)}["reply"]
    assert reply.due == at(2027, 1, 5, 16, 0) and reply.missing_years == ()


def test_company_days_off_move_the_stored_due_times(t: Timed) -> None:
    cid = t.dispatched(MON)
    uc.timing.set_calendar_overrides(t.app, t.w.admin, "2025-11-26", "")
    assert t.stored(cid) == (at(2025, 11, 28, 9, 0), "reply")
    assert t.overdue(at(2025, 11, 27, 10, 0))[0] == set()


# ---------------------------------------------------------------- the overdue filter and My Tasks


def test_the_overdue_filter_returns_exactly_the_overdue_open_cases(t: Timed) -> None:
    overdue = t.dispatched(MON)  # due Thu 09:00
    never_dispatched = t.log(at(2025, 11, 26, 9, 0))  # due Wed 10:00
    on_time = t.dispatched(at(2025, 11, 26, 9, 0))  # due Mon Dec 1 09:00
    cancelled = t.dispatched(MON, signed=False)
    t.do(MON + timedelta(hours=1), "cancel", t.w.sales, cancelled, "重复")
    held = t.dispatched(MON)
    t.do(MON + timedelta(hours=1), "hold", t.w.qa, held, "等样品")
    inquiry = t.log(at(2025, 11, 25, 9, 0), None, kind=Kind.INQUIRY)  # due Wed 09:00

    ids, dues = t.overdue(at(2025, 11, 27, 9, 1))
    assert ids == {overdue, never_dispatched, inquiry}
    assert dues == {
        overdue: B_DUE,
        never_dispatched: at(2025, 11, 26, 10, 0),
        inquiry: at(2025, 11, 26, 9, 0),
    }
    assert t.overdue(at(2025, 11, 27, 9, 0))[0] == {never_dispatched, inquiry}  # due == now
    assert t.overdue(at(2025, 11, 26, 8, 0))[0] == set()
    assert t.overdue(at(2025, 12, 1, 9, 1))[0] == {overdue, never_dispatched, inquiry, on_time}

    t.clock.now = at(2025, 11, 27, 9, 1)
    rows, n = uc.search.register(t.app, t.w.sales,
                                 RegisterFilter(overdue_only=True, kinds=(Kind.INQUIRY,)))
    assert [r.id for r in rows] == [inquiry] and n == 1
    everything, n = uc.search.register(t.app, t.w.sales, RegisterFilter())
    assert n == 6 and next(r.due_at for r in everything if r.id == cancelled) is None


def test_the_overdue_filter_uses_the_service_clock_not_the_database_clock(t: Timed) -> None:
    cid = t.dispatched(MON)
    assert t.overdue(B_DUE + timedelta(minutes=1))[0] == {cid}
    assert t.overdue(B_DUE - timedelta(days=1))[0] == set()  # the real now is long after
    assert datetime.now(timezone.utc) > B_DUE


def test_my_tasks_show_overdue_first_then_by_due_time(t: Timed) -> None:
    fresh = t.log(at(2025, 11, 24, 13, 30))  # due 14:30
    late = t.log(at(2025, 11, 24, 9, 0))  # due 10:00
    fresher = t.log(at(2025, 11, 24, 13, 45))  # due 14:45
    friday = t.log(at(2025, 11, 21, 16, 0))  # due Friday 17:00
    t.clock.now = at(2025, 11, 24, 14, 0)
    tasks = uc.worklists.tasks(t.app, t.w.sales)
    assert [x.complaint_id for x in tasks] == [friday, late, fresh, fresher]
    assert [x.due_at for x in tasks][:2] == [at(2025, 11, 21, 17, 0), at(2025, 11, 24, 10, 0)]
