"""A reopened case and a scheduled effectiveness check (issue #13, docs/procedure.md §7):
the reopened steps are timed anew from the reopening (setting `reopen_due_from`) and the time
before it neither makes them overdue nor escalates them; a check scheduled N working days
ahead reminds QA on its day, once, and My Tasks shows its date."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core import escalation, sla
from core.model import CaseFile, Channel, Complaint, Event, Kind, Satisfaction, Severity, State
from core.rules.calendar import WorkCalendar
from core import usecases as uc
from tests.unit.fakes import FakeHolidays
from tests.unit import test_lifecycle as lifecycle
from tests.unit.test_lifecycle import World, drive

w = lifecycle.w  # the lifecycle tests' world of users and departments, as a fixture here

TZ = ZoneInfo("Asia/Shanghai")
_OFF, _MAKEUP, _YEARS = FakeHolidays().official()
CAL = WorkCalendar(tz=TZ, holidays=_OFF, makeup_days=_MAKEUP, known_years=_YEARS)
DISPATCHED = datetime(2025, 11, 3, 9, 0, tzinfo=TZ)  # a Monday
REOPENED = datetime(2025, 12, 8, 9, 0, tzinfo=TZ)  # five weeks later, a Monday


def _case(state: State = State.ROOT_CAUSE) -> CaseFile:
    return CaseFile(Complaint(1, "KS2511-001", DISPATCHED, Channel.PHONE, 1, Kind.COMPLAINT, 1,
                              "划伤", state=state, severity_proposed=Severity.B))


def _ev(action: str, when: datetime, state: str | None = None) -> Event:
    return Event(None, 1, when, 1, action, {"state": ["follow_up", state]} if state else {})


def _reopened(action: str = "follow_up") -> list[Event]:
    return [_ev("dispatch", DISPATCHED), _ev(action, REOPENED, "root_cause")]


def _reply(events: list[Event], now: datetime, again: bool = True) -> sla.Due:
    return {d.step: d for d in sla.due_times(_case(), events, CAL, [], now, again)}["reply"]


# ---------------------------------------------------------------- the rule


def test_a_case_the_customer_was_not_satisfied_with_gets_the_full_reply_time_again() -> None:
    d = _reply(_reopened(), REOPENED + timedelta(hours=1))
    assert d.started == REOPENED
    assert d.due == datetime(2025, 12, 11, 9, 0, tzinfo=TZ)  # B: 3 working days
    assert not d.is_overdue(REOPENED + timedelta(hours=1))


def test_actions_found_not_effective_and_a_reopened_closed_case_restart_the_clock_too() -> None:
    assert _reply(_reopened("verify"), REOPENED).started == REOPENED
    reopen = [_ev("dispatch", DISPATCHED), _ev("reopen", REOPENED)]
    assert _reply(reopen, REOPENED).started == REOPENED


def test_a_follow_up_that_closes_the_case_is_no_reopening() -> None:
    events = [_ev("dispatch", DISPATCHED), _ev("follow_up", REOPENED, "closed")]
    assert sla.reopened_at(events) is None


def test_with_the_setting_first_the_reopened_step_keeps_its_first_start_and_is_overdue() -> None:
    d = _reply(_reopened(), REOPENED + timedelta(hours=1), again=False)
    assert d.started == DISPATCHED
    assert d.is_overdue(REOPENED)


def test_nothing_escalates_at_the_reopening_the_first_level_only_after_the_new_limit() -> None:
    events = _reopened()
    now = REOPENED + timedelta(minutes=5)
    dues = sla.due_times(_case(), events, CAL, [], now)
    fired = escalation.due_escalations(_case(), dues, now, set(), [], cal=CAL)
    assert fired == []
    later = datetime(2025, 12, 11, 10, 0, tzinfo=TZ)
    dues = sla.due_times(_case(), events, CAL, [], later)
    assert [(e.step, e.level) for e in escalation.due_escalations(
        _case(), dues, later, set(), [], cal=CAL)] == [("reply", 1)]
    # the old behaviour: both levels at once, the second to the general manager
    old = sla.due_times(_case(), events, CAL, [], now, False)
    assert [e.level for e in escalation.due_escalations(_case(), old, now, set(), [],
                                                        cal=CAL)] == [1, 2]


# ---------------------------------------------------------------- through the services


def _not_satisfied(w: World, days_later: int) -> int:
    case = drive(w, State.FOLLOW_UP)
    w.clock.advance(days=days_later)
    case.do("follow_up", w.sales, day=w.clock().astimezone(TZ).date(), contact="王经理",
            score=1, satisfaction=Satisfaction.NOT_SATISFIED, notes="又出现划伤")
    assert case.c.state == State.ROOT_CAUSE
    return case.id


def test_not_satisfied_five_weeks_later_is_neither_overdue_nor_escalated(w: World) -> None:
    cid = _not_satisfied(w, 35)
    now = w.clock()
    c = uc.complaints.case_file(w.kesu, w.admin, cid).complaint
    assert c.due_step == "reply" and c.due_at is not None and c.due_at > now
    reply = {d.step: d for d in uc.timing.due_times(w.kesu, w.admin, cid)}["reply"]
    assert reply.started == now
    assert uc.channels.escalate_overdue(w.kesu) == 0
    assert not [n for u in (w.gm, w.qa, w.prod) for n in uc.notices.inbox(w.kesu, u)
                if n.kind == "overdue"]


def test_the_setting_first_keeps_the_old_due_time(w: World) -> None:
    w.setting("reopen_due_from", "first")
    cid = _not_satisfied(w, 35)
    c = uc.complaints.case_file(w.kesu, w.admin, cid).complaint
    assert c.due_at is not None and c.due_at < w.clock()
    assert uc.channels.escalate_overdue(w.kesu) >= 1


# ---------------------------------------------------------------- a scheduled check


def _scheduled(w: World, days: int = 5) -> tuple[int, datetime]:
    case = drive(w, State.VERIFYING)
    case.do("verify", w.qa, None, "", schedule_days=days)
    day = case.c.verify_after
    assert day is not None
    return case.id, datetime.combine(day, time(9, 0), TZ)


def test_a_scheduled_check_reminds_the_qa_who_scheduled_it_on_its_day_once(w: World) -> None:
    cid, day = _scheduled(w)
    w.clock.set(day - timedelta(days=1))
    assert uc.channels.remind_scheduled_checks(w.kesu) == 0
    w.clock.set(day)
    assert uc.channels.remind_scheduled_checks(w.kesu) == 1
    notes = [n for n in uc.notices.inbox(w.kesu, w.qa) if n.kind == "verify_due"]
    assert [(n.complaint_id, n.params["day"]) for n in notes] == [
        (cid, day.date().isoformat())]
    assert not [n for n in uc.notices.inbox(w.kesu, w.qam) if n.kind == "verify_due"]
    w.clock.advance(hours=1)
    assert uc.channels.remind_scheduled_checks(w.kesu) == 0  # once


def test_my_tasks_show_the_scheduled_checks_date(w: World) -> None:
    cid, day = _scheduled(w, 10)
    task = next(t for t in uc.worklists.tasks(w.kesu, w.qa) if t.complaint_id == cid)
    assert task.kind == "verify"
    assert task.due_at is not None and task.due_at.astimezone(TZ).date() == day.date()
    assert task.due_at > w.clock()  # not "due now"
