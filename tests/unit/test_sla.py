"""Time limits on the working calendar (docs/procedure.md §7), as pure rules: which steps of a case
are open,
when each is due, how holds, extensions and changed limits move that — on the real 2025/2026
official schedules (National Day with its make-up Saturday, New Year, Spring Festival)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core import sla
from core.model import (
    CaseFile,
    Value,
    Channel,
    Complaint,
    Containment,
    ContainmentType,
    Event,
    Kind,
    Severity,
    State,
)
from core.rules.calendar import WorkCalendar
from tests.unit.fakes import FakeHolidays

TZ = ZoneInfo("Asia/Shanghai")
_OFF, _MAKEUP, _YEARS = FakeHolidays().official()
CAL = WorkCalendar(tz=TZ, holidays=_OFF, makeup_days=_MAKEUP, known_years=_YEARS)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


SEP30 = at(2025, 9, 30, 15, 0)


def case(kind: Kind = Kind.COMPLAINT, severity: Severity | None = Severity.B,
         state: State = State.DISPATCHED, received: datetime = SEP30, contained: bool = False,
         **kw: Any) -> CaseFile:
    c = Complaint(1, "KS-202509-001", received, Channel.PHONE, 1, kind, 1, "划伤", state=state,
                  severity_proposed=severity, **kw)
    held = [Containment(1, 1, ContainmentType.QUARANTINE, 200, "库存隔离", 1, received)]
    return CaseFile(c, containment=held if contained else [])


def ev(action: str, when: datetime, **changes: Value) -> Event:
    return Event(None, 1, when, 1, action, {k: [None, v] for k, v in changes.items()})


def dues(cf: CaseFile, events: list[Event], now: datetime,
         history: list[dict[str, Any]] | None = None) -> dict[str, sla.Due]:
    return {d.step: d for d in sla.due_times(cf, events, CAL, history or [], now)}


def due_of(cf: CaseFile, events: list[Event], step: str, now: datetime | None = None,
           history: list[dict[str, Any]] | None = None) -> datetime | None:
    return dues(cf, events, now or at(2025, 9, 30, 16, 0), history)[step].due


# ---------------------------------------------------------------- the limits of the seed (§7)


def test_b_complaint_dispatched_before_national_day_is_due_on_the_makeup_saturday() -> None:
    # 3 working days = 27 h: 1.5 h on Sep 30, Oct 1–8 off, 9 h Oct 9, 9 h Oct 10, 7.5 h Sat 11
    dispatched = at(2025, 9, 30, 16, 0)
    found = dues(case(), [ev("dispatch", dispatched)], dispatched)
    # and QA's signature for the handling form (签收): 4 working hours, Oct 9 11:00
    assert list(found) == ["acknowledge", "reply"]
    assert found["acknowledge"].due == at(2025, 10, 9, 11, 0)
    assert found["reply"].due == at(2025, 10, 11, 16, 0)
    assert found["reply"].limit == (3, "wd") and found["reply"].missing_years == ()


def test_c_complaint_has_the_same_three_working_days_as_b() -> None:
    dispatched = at(2025, 9, 30, 16, 0)
    assert due_of(case(severity=Severity.C), [ev("dispatch", dispatched)], "reply") == at(
        2025, 10, 11, 16, 0
    )


def test_d_complaint_reply_has_five_working_days_skipping_the_sunday_after_the_holiday() -> None:
    # 45 h: Sep 30 1.5, Oct 9, 10, Sat 11 (班) 27 h, Sun 12 off, Mon 13 9 h, Tue 14 7.5 h
    dispatched = at(2025, 9, 30, 16, 0)
    assert due_of(case(severity=Severity.D), [ev("dispatch", dispatched)], "reply") == at(
        2025, 10, 14, 16, 0
    )


def test_a_complaint_containment_is_due_8_working_hours_after_dispatch_over_a_weekend() -> None:
    # Friday 15:00: 2.5 h on Friday, nothing Saturday/Sunday, 5.5 h Monday from 08:30
    dispatched = at(2025, 11, 21, 15, 0)
    cf = case(severity=Severity.A, received=at(2025, 11, 21, 9, 0))
    found = dues(cf, [ev("dispatch", dispatched)], dispatched)
    assert found["containment"].due == at(2025, 11, 24, 14, 0)
    # the permanent countermeasure: 2 working days = 18 h -> Tuesday 15:00
    assert found["reply"].due == at(2025, 11, 25, 15, 0)
    # before either, QA signs for an A's form within one working hour
    assert found["acknowledge"].due == at(2025, 11, 21, 16, 0)
    assert sla.earliest(list(found.values())) == found["acknowledge"]
    del found["acknowledge"]
    assert sla.earliest(list(found.values())) == found["containment"]


def test_a_complaint_containment_step_closes_once_containment_is_recorded() -> None:
    dispatched = at(2025, 11, 21, 15, 0)
    cf = case(severity=Severity.A, received=at(2025, 11, 21, 9, 0), contained=True)
    assert list(dues(cf, [ev("dispatch", dispatched)], dispatched)) == ["acknowledge", "reply"]


def test_qa_final_severity_decides_the_limit_not_the_proposal() -> None:
    dispatched = at(2025, 9, 30, 16, 0)
    cf = case(severity=Severity.B, state=State.ROOT_CAUSE)
    cf.complaint.severity = Severity.D  # classified D by QA
    assert due_of(cf, [ev("dispatch", dispatched)], "reply") == at(2025, 10, 14, 16, 0)


def test_an_inquiry_is_due_24_clock_hours_after_receipt_even_on_a_holiday() -> None:
    cf = case(kind=Kind.INQUIRY, severity=None, state=State.REGISTERED)
    found = dues(cf, [], at(2025, 9, 30, 15, 0))
    assert list(found) == ["answer_inquiry"]
    assert found["answer_inquiry"].due == at(2025, 10, 1, 15, 0)  # National Day itself
    assert found["answer_inquiry"].missing_years == ()


def test_a_suggestion_is_due_5_working_days_after_receipt() -> None:
    # received Sep 30 15:00: 2.5 h, then Oct 9, 10, 11 (班), 13 = 36 h, 6.5 h on Oct 14
    cf = case(kind=Kind.SUGGESTION, severity=None, state=State.REPLYING)
    assert due_of(cf, [ev("route_short", at(2025, 9, 30, 16, 0))], "answer_suggestion") == at(
        2025, 10, 14, 15, 0
    )


def test_a_new_complaint_must_be_dispatched_within_one_working_hour() -> None:
    # received Friday 17:00: half an hour on Friday, the other half on Monday morning
    cf = case(state=State.REGISTERED, received=at(2025, 11, 21, 17, 0))
    found = dues(cf, [], at(2025, 11, 21, 17, 0))
    assert list(found) == ["dispatch"]
    assert found["dispatch"].due == at(2025, 11, 24, 9, 0)


def test_new_year_2026_dispatch_is_due_on_the_makeup_sunday() -> None:
    cf = case(state=State.REGISTERED, received=at(2025, 12, 31, 17, 0))
    assert due_of(cf, [], "dispatch", at(2025, 12, 31, 17, 0)) == at(2026, 1, 4, 9, 0)


def test_spring_festival_2026_reply_skips_the_nine_days_off() -> None:
    # dispatched Fri Feb 13 16:00: 1.5 h, Sat Feb 14 (班) 9 h, Feb 15–23 off, Feb 24 9 h,
    # Feb 25 7.5 h
    dispatched = at(2026, 2, 13, 16, 0)
    assert due_of(case(received=dispatched), [ev("dispatch", dispatched)], "reply",
                  dispatched) == at(2026, 2, 25, 16, 0)


def test_investigation_is_due_3_working_days_after_qa_acknowledges() -> None:
    dispatched, acknowledged = at(2025, 9, 29, 10, 0), at(2025, 9, 30, 16, 0)
    found = dues(case(state=State.INVESTIGATING, received=dispatched),
                 [ev("dispatch", dispatched), ev("acknowledge", acknowledged)], acknowledged)
    assert found["investigation"].started == acknowledged
    assert found["investigation"].due == at(2025, 10, 11, 16, 0)
    # the reply keeps counting from dispatch: 7.5 + 9 + 9 h, then 1.5 h on Oct 10
    assert found["reply"].due == at(2025, 10, 10, 10, 0)
    assert sla.earliest(list(found.values())) == found["reply"]


def test_investigation_step_closes_when_qa_classifies() -> None:
    dispatched = at(2025, 9, 29, 10, 0)
    found = dues(case(state=State.ROOT_CAUSE),
                 [ev("dispatch", dispatched), ev("acknowledge", dispatched)], dispatched)
    assert list(found) == ["reply"]


@pytest.mark.parametrize(
    "state", [State.IMPLEMENTING, State.VERIFYING, State.FOLLOW_UP, State.CLOSED, State.CANCELLED]
)
def test_a_replied_closed_or_cancelled_complaint_has_no_due_time(state: State) -> None:
    dispatched = at(2025, 9, 29, 10, 0)
    assert dues(case(state=state), [ev("dispatch", dispatched)], dispatched) == {}


def test_a_closed_inquiry_has_no_due_time() -> None:
    assert dues(case(kind=Kind.INQUIRY, state=State.CLOSED), [], at(2025, 9, 30, 15, 0)) == {}


# ---------------------------------------------------------------- holds pause the clock


B_DISPATCHED = at(2025, 11, 24, 9, 0)  # a Monday
B_DUE = at(2025, 11, 27, 9, 0)  # 27 h: Mon 8.5, Tue 9, Wed 9, Thu 0.5


def test_a_hold_of_two_working_hours_moves_the_due_time_by_two_working_hours() -> None:
    events = [ev("dispatch", B_DISPATCHED)]
    assert due_of(case(), events, "reply", B_DISPATCHED) == B_DUE
    events += [ev("hold", at(2025, 11, 25, 10, 0)), ev("resume", at(2025, 11, 25, 12, 0))]
    assert due_of(case(), events, "reply", at(2025, 11, 25, 12, 0)) == at(2025, 11, 27, 11, 0)


def test_a_hold_over_a_night_counts_only_its_working_hours() -> None:
    # Tue 16:30 -> Wed 10:30: 1 h on Tuesday + 2 h on Wednesday = 3 working hours
    events = [
        ev("dispatch", B_DISPATCHED),
        ev("hold", at(2025, 11, 25, 16, 30)),
        ev("resume", at(2025, 11, 26, 10, 30)),
    ]
    assert due_of(case(), events, "reply", at(2025, 11, 26, 11, 0)) == at(2025, 11, 27, 12, 0)


def test_two_holds_add_up() -> None:
    events = [
        ev("dispatch", B_DISPATCHED),
        ev("hold", at(2025, 11, 24, 10, 0)),
        ev("resume", at(2025, 11, 24, 11, 0)),
        ev("hold", at(2025, 11, 25, 14, 0)),
        ev("resume", at(2025, 11, 25, 15, 30)),
    ]
    assert due_of(case(), events, "reply", at(2025, 11, 26, 9, 0)) == at(2025, 11, 27, 11, 30)


def test_while_on_hold_there_is_no_due_time_and_nothing_is_overdue() -> None:
    events = [ev("dispatch", B_DISPATCHED), ev("hold", at(2025, 11, 25, 10, 0))]
    much_later = at(2025, 12, 31, 9, 0)
    found = dues(case(), events, much_later)
    assert found["reply"].due is None
    assert not found["reply"].is_overdue(much_later)
    assert found["reply"].time_left(much_later, CAL) is None
    assert sla.earliest(list(found.values())) is None


def test_a_hold_that_ended_before_a_step_started_does_not_move_it() -> None:
    acknowledged = at(2025, 11, 25, 9, 0)
    events = [
        ev("dispatch", B_DISPATCHED),
        ev("hold", at(2025, 11, 24, 10, 0)),
        ev("resume", at(2025, 11, 24, 12, 0)),
        ev("acknowledge", acknowledged),
    ]
    found = dues(case(state=State.INVESTIGATING), events, acknowledged)
    assert found["investigation"].due == at(2025, 11, 28, 9, 0)  # exactly 3 working days
    assert found["reply"].due == at(2025, 11, 27, 11, 0)  # the reply was running: +2 h


def test_an_inquiry_on_hold_for_two_hours_is_due_two_clock_hours_later() -> None:
    received = at(2025, 11, 24, 9, 0)
    events = [
        ev("route_short", at(2025, 11, 24, 9, 30)),
        ev("hold", at(2025, 11, 24, 10, 0)),
        ev("resume", at(2025, 11, 24, 12, 0)),
    ]
    cf = case(kind=Kind.INQUIRY, severity=None, state=State.REPLYING, received=received)
    assert due_of(cf, events, "answer_inquiry", at(2025, 11, 24, 13, 0)) == at(2025, 11, 25, 11, 0)


# ---------------------------------------------------------------- extensions (延期)


def test_a_granted_extension_moves_the_due_time_to_the_granted_date() -> None:
    new = at(2025, 12, 3, 17, 0)
    events = [
        ev("dispatch", B_DISPATCHED),
        ev("extension_requested", at(2025, 11, 26, 9, 0), step="reply", due=new.isoformat()),
        ev("extension_granted", at(2025, 11, 26, 10, 0), step="reply", due=new.isoformat()),
    ]
    found = dues(case(), events, at(2025, 11, 26, 10, 0))
    assert found["reply"].due == new and found["reply"].extended


def test_a_refused_or_only_requested_extension_changes_nothing() -> None:
    new = at(2025, 12, 3, 17, 0).isoformat()
    events = [
        ev("dispatch", B_DISPATCHED),
        ev("extension_requested", at(2025, 11, 26, 9, 0), step="reply", due=new),
    ]
    assert due_of(case(), events, "reply") == B_DUE
    events.append(ev("extension_refused", at(2025, 11, 26, 10, 0), step="reply", due=new))
    found = dues(case(), events, at(2025, 11, 26, 10, 0))
    assert found["reply"].due == B_DUE and not found["reply"].extended


def test_an_extension_of_another_step_leaves_this_one_alone() -> None:
    new = at(2025, 12, 10, 17, 0).isoformat()
    acknowledged = at(2025, 11, 24, 10, 0)
    events = [
        ev("dispatch", B_DISPATCHED),
        ev("acknowledge", acknowledged),
        ev("extension_granted", at(2025, 11, 25, 9, 0), step="investigation", due=new),
    ]
    found = dues(case(state=State.INVESTIGATING), events, at(2025, 11, 25, 9, 0))
    assert found["investigation"].due == datetime.fromisoformat(new)
    assert found["reply"].due == B_DUE and not found["reply"].extended


def test_an_extension_granted_before_the_step_started_does_not_carry_over() -> None:
    # the investigation was extended, sent back to sales, dispatched and acknowledged again
    events = [
        ev("dispatch", B_DISPATCHED),
        ev("acknowledge", at(2025, 11, 24, 10, 0)),
        ev("extension_granted", at(2025, 11, 24, 11, 0), step="investigation",
           due=at(2025, 12, 31, 17, 0).isoformat()),
        ev("acknowledge", at(2025, 11, 25, 9, 0)),
    ]
    found = dues(case(state=State.INVESTIGATING), events, at(2025, 11, 25, 9, 0))
    assert found["investigation"].due == at(2025, 11, 28, 9, 0)
    assert not found["investigation"].extended


def test_the_latest_granted_extension_wins() -> None:
    first, second = at(2025, 12, 1, 17, 0), at(2025, 12, 5, 17, 0)
    events = [
        ev("dispatch", B_DISPATCHED),
        ev("extension_granted", at(2025, 11, 25, 9, 0), step="reply", due=first.isoformat()),
        ev("extension_granted", at(2025, 11, 28, 9, 0), step="reply", due=second.isoformat()),
    ]
    assert due_of(case(), events, "reply", at(2025, 11, 28, 9, 0)) == second


def test_a_hold_after_a_granted_extension_still_pauses_the_clock() -> None:
    new = at(2025, 12, 3, 15, 0)  # a Wednesday
    events = [
        ev("dispatch", B_DISPATCHED),
        ev("extension_granted", at(2025, 11, 26, 10, 0), step="reply", due=new.isoformat()),
        ev("hold", at(2025, 12, 1, 9, 0)),
        ev("resume", at(2025, 12, 1, 11, 0)),
    ]
    # 2 working hours later: 2.5 h left on Wednesday, so Wednesday 17:00
    assert due_of(case(), events, "reply", at(2025, 12, 1, 11, 0)) == at(2025, 12, 3, 17, 0)
    # a hold before the grant is already in the granted date
    early = [
        ev("dispatch", B_DISPATCHED),
        ev("hold", at(2025, 11, 25, 9, 0)),
        ev("resume", at(2025, 11, 25, 11, 0)),
        ev("extension_granted", at(2025, 11, 26, 10, 0), step="reply", due=new.isoformat()),
    ]
    assert due_of(case(), early, "reply", at(2025, 11, 26, 10, 0)) == new


def test_an_extended_step_on_hold_has_no_due_time() -> None:
    new = at(2025, 12, 3, 15, 0).isoformat()
    events = [
        ev("dispatch", B_DISPATCHED),
        ev("extension_granted", at(2025, 11, 26, 10, 0), step="reply", due=new),
        ev("hold", at(2025, 12, 1, 9, 0)),
    ]
    assert due_of(case(), events, "reply", at(2025, 12, 10, 9, 0)) is None


# ---------------------------------------------------------------- limits changed by admin


def history(since: datetime, limits: dict[str, dict[str, list[Any]]]) -> list[dict[str, Any]]:
    return [{"from": since.astimezone(ZoneInfo("UTC")).isoformat(), "limits": limits}]


def test_changed_limits_apply_only_to_steps_started_afterwards() -> None:
    changed = history(at(2025, 11, 24, 12, 0), {"reply": {"B": [5, "wd"]}})
    before = [ev("dispatch", B_DISPATCHED)]  # Mon 09:00, before the change: 3 days
    assert due_of(case(), before, "reply", at(2025, 11, 25, 9, 0), changed) == B_DUE
    after = [ev("dispatch", at(2025, 11, 24, 13, 0))]  # 45 h from Mon 13:00 -> Mon Dec 1 13:00
    assert due_of(case(), after, "reply", at(2025, 11, 25, 9, 0), changed) == at(2025, 12, 1, 13, 0)


def test_limits_in_force_picks_the_newest_entry_from_before_the_step() -> None:
    h = [
        {"from": "2025-11-20T00:00:00+00:00", "limits": {"reply": {"B": [4, "wd"]}}},
        {"from": "2025-11-01T00:00:00+00:00", "limits": {"reply": {"B": [2, "wd"]}}},
        {"from": "2025-12-01T00:00:00+00:00", "limits": {"reply": {"B": [6, "wd"]}}},
    ]
    assert sla.limits_in_force(h, at(2025, 10, 1, 9, 0)) == sla.DEFAULT_LIMITS
    assert sla.limits_in_force(h, at(2025, 11, 10, 9, 0))["reply"]["B"] == (2, "wd")
    assert sla.limits_in_force(h, at(2025, 11, 24, 9, 0))["reply"]["B"] == (4, "wd")
    assert sla.limits_in_force(h, at(2025, 12, 2, 9, 0))["reply"]["B"] == (6, "wd")


def test_a_change_that_names_one_limit_keeps_the_others_timed() -> None:
    limits = sla.limits_in_force(history(at(2025, 11, 1, 0, 0), {"reply": {"B": [5, "wd"]}}),
                                 at(2025, 11, 24, 9, 0))
    assert limits["reply"] == {**sla.DEFAULT_LIMITS["reply"], "B": (5, "wd")}
    assert limits["dispatch"] == sla.DEFAULT_LIMITS["dispatch"]
    assert limits["containment"] == {"A": (8, "wh")}


def test_a_limit_in_clock_hours_counts_nights_and_weekends() -> None:
    changed = history(at(2025, 11, 1, 0, 0), {"dispatch": {"*": [4, "h"]}})
    cf = case(state=State.REGISTERED, received=at(2025, 11, 21, 17, 0))  # a Friday
    assert due_of(cf, [], "dispatch", at(2025, 11, 21, 17, 0), changed) == at(2025, 11, 21, 21, 0)


def test_the_defaults_are_the_seed_procedures() -> None:
    lim = sla.DEFAULT_LIMITS
    assert sla.limit_for(lim, "dispatch", Severity.A) == (1, "wh")
    assert sla.limit_for(lim, "answer_inquiry", None) == (24, "h")
    assert sla.limit_for(lim, "containment", Severity.A) == (8, "wh")
    assert sla.limit_for(lim, "containment", Severity.B) is None
    assert [sla.limit_for(lim, "reply", s) for s in Severity] == [
        (2, "wd"),
        (3, "wd"),
        (3, "wd"),
        (5, "wd"),
    ]
    assert sla.limit_for(lim, "answer_suggestion", None) == (5, "wd")
    assert sla.limit_for(lim, "investigation", Severity.C) == (3, "wd")


# ---------------------------------------------------------------- a year without data


def test_a_due_time_in_a_year_without_official_data_says_which_year_is_missing() -> None:
    dispatched = at(2026, 12, 30, 16, 0)
    found = dues(case(received=dispatched), [ev("dispatch", dispatched)], dispatched)
    # Jan 1 2027 counted as a working day (weekends only): Dec 30 1.5, Dec 31 9, Jan 1 9,
    # Mon Jan 4 7.5 h
    assert found["reply"].due == at(2027, 1, 4, 16, 0)
    assert found["reply"].missing_years == (2027,)


def test_with_the_year_entered_the_due_time_skips_its_holiday() -> None:
    cal = WorkCalendar(tz=TZ, holidays=_OFF | {date(2027, 1, 1)}, makeup_days=_MAKEUP,
                       known_years=_YEARS | {2027})
    dispatched = at(2026, 12, 30, 16, 0)
    due = {d.step: d for d in sla.due_times(
        case(received=dispatched), [ev("dispatch", dispatched)], cal, [], dispatched)}["reply"]
    assert due.due == at(2027, 1, 5, 16, 0) and due.missing_years == ()


# ---------------------------------------------------------------- overdue and time left


def test_overdue_is_strictly_after_the_due_time() -> None:
    d = dues(case(), [ev("dispatch", B_DISPATCHED)], B_DISPATCHED)["reply"]
    assert not d.is_overdue(B_DUE - timedelta(minutes=1))
    assert not d.is_overdue(B_DUE)
    assert d.is_overdue(B_DUE + timedelta(minutes=1))


def test_time_left_counts_working_time_and_goes_negative_when_overdue() -> None:
    d = dues(case(), [ev("dispatch", B_DISPATCHED)], B_DISPATCHED)["reply"]
    # Wed 17:00 -> Thu 09:00: half an hour on Wednesday and half an hour on Thursday
    assert d.time_left(at(2025, 11, 26, 17, 0), CAL) == timedelta(hours=1)
    assert d.time_left(at(2025, 11, 27, 11, 0), CAL) == -timedelta(hours=2)
    # by Saturday noon: Thursday 8.5 h and Friday 9 h late, the weekend does not count
    assert d.time_left(at(2025, 11, 29, 12, 0), CAL) == -timedelta(hours=17, minutes=30)


def test_time_left_of_a_clock_hour_limit_is_clock_time() -> None:
    cf = case(kind=Kind.INQUIRY, severity=None, state=State.REGISTERED,
              received=at(2025, 11, 21, 17, 0))
    (d,) = sla.due_times(cf, [], CAL, [], at(2025, 11, 21, 17, 0))
    assert d.time_left(at(2025, 11, 22, 12, 0), CAL) == timedelta(hours=5)


def test_earliest_ignores_steps_without_a_due_time() -> None:
    a = sla.Due("reply", B_DISPATCHED, at(2025, 11, 27, 9, 0), (3, "wd"))
    b = sla.Due("investigation", B_DISPATCHED, at(2025, 11, 26, 9, 0), (3, "wd"))
    held = sla.Due("containment", B_DISPATCHED, None, (8, "wh"))
    assert sla.earliest([a, held, b]) == b
    assert sla.earliest([held]) is None and sla.earliest([]) is None


# ---------------------------------------------------------------- returned goods (退货分析)


def test_returned_goods_are_due_analysed_a_calendar_week_after_their_receipt_is_recorded() -> None:
    # recorded on the eve of National Day: the week runs on the clock, holidays included
    recorded = at(2025, 9, 30, 10, 0)
    cf = case(state=State.INVESTIGATING, sample_received=True, sample_date=date(2025, 9, 30))
    events = [
        ev("dispatch", at(2025, 9, 29, 9, 0)),
        ev("acknowledge", at(2025, 9, 29, 10, 0)),
        ev("edited", recorded, sample_received=True),
    ]
    found = dues(cf, events, recorded)
    assert found["returned_goods"].due == at(2025, 10, 7, 10, 0)
    assert found["returned_goods"].limit == (7, "d")
    assert found["returned_goods"].time_left(at(2025, 10, 6, 10, 0), CAL) == timedelta(days=1)


def test_goods_received_with_the_complaint_are_timed_from_its_receipt() -> None:
    cf = case(state=State.DISPATCHED, sample_received=True)
    assert due_of(cf, [ev("dispatch", SEP30)], "returned_goods") == SEP30 + timedelta(days=7)


@pytest.mark.parametrize("state",
                         [State.REGISTERED, State.ROOT_CAUSE, State.REPLYING, State.CLOSED])
def test_the_goods_step_is_open_only_while_qa_investigates(state: State) -> None:
    cf = case(state=state, sample_received=True)
    assert "returned_goods" not in dues(cf, [ev("dispatch", SEP30)], SEP30)


def test_no_goods_received_no_goods_step() -> None:
    cf = case(state=State.INVESTIGATING)
    assert "returned_goods" not in dues(cf, [ev("dispatch", SEP30)], SEP30)


def test_calendar_day_limits_pause_on_hold_like_clock_hours() -> None:
    cf = case(state=State.INVESTIGATING, sample_received=True)
    events = [
        ev("dispatch", SEP30),
        ev("hold", at(2025, 10, 1, 9, 0)),
        ev("resume", at(2025, 10, 2, 9, 0)),
    ]
    assert due_of(cf, events, "returned_goods", at(2025, 10, 3)) == SEP30 + timedelta(days=8)


def test_ticking_the_goods_off_and_on_again_does_not_restart_their_week() -> None:
    cf = case(state=State.INVESTIGATING, sample_received=True)
    events = [
        ev("dispatch", SEP30),
        ev("edited", at(2025, 10, 9, 9, 0), sample_received=True),
        ev("edited", at(2025, 10, 10, 9, 0), sample_received=False),
        ev("edited", at(2025, 10, 13, 9, 0), sample_received=True),
    ]
    assert due_of(cf, events, "returned_goods", at(2025, 10, 13, 10, 0)) == at(2025, 10, 16, 9, 0)


def test_a_form_sent_back_to_sales_is_due_again_an_hour_after_it_came_back() -> None:
    """Not overdue the moment QA returns it (the case was received days ago); the reply keeps
    counting from the first dispatch: the customer has been waiting since then."""
    cf = case(state=State.REGISTERED, received=at(2025, 11, 3, 9, 0))
    events = [ev("dispatch", at(2025, 11, 3, 9, 30)), ev("return_to_sales", at(2025, 11, 5, 14, 0))]
    found = dues(cf, events, at(2025, 11, 5, 14, 10))
    assert list(found) == ["dispatch"] and found["dispatch"].due == at(2025, 11, 5, 15, 0)
    redispatched = case(state=State.DISPATCHED, received=at(2025, 11, 3, 9, 0))
    events.append(ev("dispatch", at(2025, 11, 5, 14, 30)))
    assert due_of(redispatched, events, "reply", at(2025, 11, 5, 14, 30)) == at(
        2025, 11, 6, 9, 30
    )  # 3 working days from 11-03 09:30
