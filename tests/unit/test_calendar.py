"""The working-day calendar on real 2025/2026 holiday periods (docs/procedure.md §7)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.rules.calendar import WorkCalendar, parse_schedule

TZ = ZoneInfo("Asia/Shanghai")
# The official 2025 and 2026 schedules for the periods used below (国务院办公厅通知).
HOLIDAYS = {date(2025, 10, d) for d in range(1, 9)} | {date(2026, 1, 1), date(2026, 1, 2),
                                                       date(2026, 1, 3)}
HOLIDAYS |= {date(2026, 2, d) for d in range(15, 24)}  # Spring Festival 2026: Feb 15–23
MAKEUP = {date(2025, 9, 28), date(2025, 10, 11), date(2026, 1, 4), date(2026, 2, 14),
          date(2026, 2, 28)}
CAL = WorkCalendar(tz=TZ, holidays=frozenset(HOLIDAYS), makeup_days=frozenset(MAKEUP),
                   known_years=frozenset({2025, 2026}))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def test_b_complaint_dispatched_before_national_day_is_due_on_the_makeup_saturday() -> None:
    # 2025-09-30 16:00 + 3 working days: Oct 1–8 off, Oct 9, 10 and the make-up Sat Oct 11
    assert CAL.add_working_time(at(2025, 9, 30, 16, 0), days=3) == at(2025, 10, 11, 16, 0)


def test_a_complaint_8_working_hours_cross_a_night_and_a_weekend() -> None:
    # Friday 15:00: 2.5 h on Friday, the remaining 5.5 h on Monday from 08:30
    assert CAL.add_working_time(at(2025, 11, 21, 15, 0), hours=8) == at(2025, 11, 24, 14, 0)


def test_new_year_2026_makeup_sunday_counts_as_a_working_day() -> None:
    # Dec 31 2025 17:00 + 1 working hour: 0.5 h on Dec 31, Jan 1–3 off, Sun Jan 4 is 班
    assert CAL.add_working_time(at(2025, 12, 31, 17, 0), hours=1) == at(2026, 1, 4, 9, 0)


def test_spring_festival_2026_is_skipped() -> None:
    assert CAL.add_working_time(at(2026, 2, 13, 17, 0), hours=1) == at(2026, 2, 14, 9, 0)
    assert CAL.add_working_time(at(2026, 2, 14, 17, 0), hours=1) == at(2026, 2, 24, 9, 0)


def test_start_outside_working_hours_counts_from_the_next_opening() -> None:
    assert CAL.add_working_time(at(2025, 11, 24, 6, 0), hours=1) == at(2025, 11, 24, 9, 30)
    assert CAL.add_working_time(at(2025, 11, 22, 12, 0), hours=1) == at(2025, 11, 24, 9, 30)


def test_working_time_between_is_exact_to_the_minute_and_signed() -> None:
    a, b = at(2025, 9, 30, 16, 0), at(2025, 10, 11, 16, 0)
    assert CAL.working_time_between(a, b) == timedelta(hours=27)
    assert CAL.working_time_between(b, a) == -timedelta(hours=27)
    assert CAL.working_time_between(at(2025, 11, 24, 9, 1), at(2025, 11, 24, 9, 2)) \
        == timedelta(minutes=1)


def test_add_and_between_agree() -> None:
    start = at(2026, 2, 12, 10, 17)
    for hours in (0.5, 3, 9, 20, 47):
        due = CAL.add_working_time(start, hours=hours)
        assert CAL.working_time_between(start, due) == timedelta(minutes=round(hours * 60))


def test_company_overrides_win_over_the_official_calendar() -> None:
    cal = WorkCalendar(tz=TZ, holidays=frozenset(HOLIDAYS), makeup_days=frozenset(MAKEUP),
                       extra_off=frozenset({date(2025, 10, 11)}),
                       extra_work=frozenset({date(2025, 10, 8)}), known_years=frozenset({2025}))
    assert not cal.is_workday(date(2025, 10, 11))
    assert cal.is_workday(date(2025, 10, 8))


def test_a_year_without_data_falls_back_to_weekends_and_says_so() -> None:
    start = at(2026, 12, 30, 16, 0)
    due = CAL.add_working_time(start, days=3)
    assert due == at(2027, 1, 4, 16, 0)  # Jan 1 2027 counted as a working day: no data
    assert CAL.missing_years(start, due) == [2027]
    assert CAL.missing_years(at(2026, 3, 1), at(2026, 4, 1)) == []


def test_pasted_schedule_is_parsed_with_ranges_and_makeup_days() -> None:
    off, work = parse_schedule("2027-01-01 休\n2027-02-06~2027-02-12 off  # 春节\n"
                               "2027-02-14 班\n\n")
    assert date(2027, 2, 9) in off and len(off) == 8
    assert work == {date(2027, 2, 14)}


@pytest.mark.parametrize("text", ["2027-13-01 休", "2027-01-01", "2027-01-05~2027-01-01 休",
                                  "2027-01-01 maybe", "2027-01-01 休\n2027-01-01 班"])
def test_a_bad_schedule_line_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(text)


def test_naive_times_and_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_time(datetime(2025, 1, 2, 9, 0), hours=1)
    with pytest.raises(ValueError):
        CAL.add_working_time(at(2025, 1, 2, 9, 0), hours=-1)


def test_starting_at_closing_time_counts_from_the_next_working_morning() -> None:
    assert CAL.add_working_time(at(2025, 11, 21, 17, 30), hours=1) == at(2025, 11, 24, 9, 30)
    assert CAL.add_working_time(at(2025, 11, 24, 20, 0), hours=9) == at(2025, 11, 25, 17, 30)


def test_a_holiday_has_no_working_time_and_its_makeup_saturday_a_full_day() -> None:
    assert CAL.working_time_between(at(2025, 10, 1, 0, 0), at(2025, 10, 9, 0, 0)) == timedelta()
    assert CAL.working_time_between(at(2025, 10, 11, 0, 0), at(2025, 10, 12, 0, 0)) \
        == timedelta(hours=9)


def test_other_working_hours_change_the_length_of_a_working_day() -> None:
    cal = WorkCalendar(tz=TZ, start=time(8, 0), end=time(12, 0),
                       known_years=frozenset({2025}))
    assert cal.hours_per_day == 4
    assert cal.add_working_time(at(2025, 11, 24, 11, 0), days=1) == at(2025, 11, 25, 11, 0)
    with pytest.raises(ValueError):
        WorkCalendar(tz=TZ, start=time(17, 30), end=time(8, 30))


def test_missing_years_lists_every_year_without_data_in_between() -> None:
    assert CAL.missing_years(at(2024, 12, 1, 9, 0), at(2028, 1, 2, 9, 0)) == [2024, 2027, 2028]


def test_full_width_tilde_and_to_ranges_are_accepted() -> None:
    off, work = parse_schedule("2027-10-01～2027-10-07 休\n2027-09-26 to 2027-09-26 班")
    assert len(off) == 7 and work == {date(2027, 9, 26)}


def test_a_calendar_without_any_working_day_says_so_instead_of_looping() -> None:
    start = date(2025, 1, 1)
    cal = WorkCalendar(tz=TZ, extra_off=frozenset(start + timedelta(days=n)
                                                  for n in range(4 * 366)))
    with pytest.raises(ValueError):
        cal.add_working_time(at(2025, 1, 1, 9, 0), hours=1)


def test_years_of_working_time_are_counted_not_refused() -> None:
    """A case on hold for years moves its due time by years of working hours."""
    start = at(2025, 1, 6, 9, 0)
    hours = 4 * 250 * CAL.hours_per_day  # about four years of working days
    due = CAL.add_working_time(start, hours=hours)
    assert due.year >= 2028
    assert CAL.working_time_between(start, due) == timedelta(hours=hours)
