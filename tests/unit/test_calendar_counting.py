"""The working-day calendar counts whole days instead of walking them (issue #6, benchmark):
the counted answer must equal the day-by-day walk for any span, overrides included."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from core.rules.calendar import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")


def walked(cal: WorkCalendar, a: datetime, b: datetime) -> timedelta:
    """The reference: every day from a to b, as the calendar did before counting."""
    if b < a:
        return -walked(cal, b, a)
    x, y = a.astimezone(cal.tz), b.astimezone(cal.tz)
    total = timedelta()
    d = x.date()
    while d <= y.date():
        if cal.is_workday(d):
            lo = max(x, datetime.combine(d, cal.start, cal.tz))
            hi = min(y, datetime.combine(d, cal.end, cal.tz))
            if hi > lo:
                total += hi - lo
        d += timedelta(days=1)
    return timedelta(minutes=int(total.total_seconds() // 60))


def a_calendar(rng: random.Random) -> WorkCalendar:
    days = [date(2024, 1, 1) + timedelta(days=rng.randrange(3 * 366)) for _ in range(120)]
    return WorkCalendar(
        tz=TZ, holidays=frozenset(days[:60]),
        makeup_days=frozenset(d for d in days[60:80] if d.weekday() >= 5),
        extra_off=frozenset(days[80:100]), extra_work=frozenset(days[100:]),
        known_years=frozenset({2024, 2025, 2026}))


def test_counted_working_time_equals_the_day_by_day_walk() -> None:
    rng = random.Random(6)
    for _ in range(40):
        cal = a_calendar(rng)
        for _ in range(40):
            a = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(
                minutes=rng.randrange(3 * 366 * 24 * 60))
            b = a + timedelta(minutes=rng.choice([0, 7, 600, 1440, 5000, 40_000, 900_000])
                              * rng.choice([1, -1]))
            assert cal.working_time_between(a, b) == walked(cal, a, b), (a, b)


def test_a_year_overdue_counts_the_working_days_of_that_year() -> None:
    """A step due at the first opening of 2025, looked at a year later: 261 weekdays."""
    cal = WorkCalendar(tz=TZ)  # weekends only
    due = datetime(2025, 1, 1, 8, 30, tzinfo=TZ)
    now = datetime(2026, 1, 1, 8, 30, tzinfo=TZ)
    assert cal.working_time_between(now, due) == -timedelta(hours=9 * 261)
    assert cal.workdays(date(2025, 1, 1), date(2026, 1, 1)) == 261
