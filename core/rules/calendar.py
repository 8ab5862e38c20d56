"""The working-day calendar (docs/procedure.md §7): working hours, weekends, China's statutory
holidays and
their make-up working days (调休), company overrides — exact to the minute.

Pure: the holiday data comes in as sets of dates (adapters/holidays.py reads the `chinese-calendar`
package and the schedules admin entered). A year without official data falls back to weekends
plus company overrides, and says so (`missing_years`), never silently.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property
from zoneinfo import ZoneInfo

MAX_DAYS_SCANNED = 3 * 366  # a calendar with no working day at all must not loop forever


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    start: time = time(8, 30)
    end: time = time(17, 30)
    holidays: frozenset[date] = frozenset()  # statutory days off (法定节假日)
    makeup_days: frozenset[date] = frozenset()  # weekend days that are working days (调休)
    extra_off: frozenset[date] = frozenset()  # company: extra days off, shutdown weeks
    extra_work: frozenset[date] = frozenset()  # company: extra working days
    known_years: frozenset[int] = frozenset()  # years with official holiday data

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("working hours must start before they end")

    @property
    def hours_per_day(self) -> float:
        return (self.day_minutes) / 60

    @property
    def day_minutes(self) -> int:
        s, e = self.start, self.end
        return (e.hour * 60 + e.minute) - (s.hour * 60 + s.minute)

    def has_data(self, year: int) -> bool:
        return year in self.known_years

    def missing_years(self, a: datetime, b: datetime) -> list[int]:
        """Years between a and b for which the statutory holidays are not known."""
        y0, y1 = a.astimezone(self.tz).year, b.astimezone(self.tz).year
        return [y for y in range(min(y0, y1), max(y0, y1) + 1) if y not in self.known_years]

    def is_workday(self, d: date) -> bool:
        """Company overrides first, then make-up days, holidays, and the weekend."""
        if d in self.extra_off:
            return False
        if d in self.extra_work or d in self.makeup_days:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    # ------------------------------------------------------------ arithmetic

    def _open(self, d: date) -> datetime:
        return datetime.combine(d, self.start, self.tz)

    def _close(self, d: date) -> datetime:
        return datetime.combine(d, self.end, self.tz)

    def add_working_time(self, start: datetime, *, hours: float = 0, days: float = 0) -> datetime:
        """The moment `hours` + `days` working time after `start` (a day = the working hours
        of one day). Starting outside working hours counts from the next opening."""
        if start.tzinfo is None:
            raise ValueError("naive datetime")
        left = round((hours + days * self.hours_per_day) * 60)  # minutes
        if left < 0:
            raise ValueError("negative working time")
        t = start.astimezone(self.tz)
        d = t.date()
        # at least two working days a week in any real calendar: a long hold (years) still
        # finds its day, a calendar without any working day still stops
        scan = MAX_DAYS_SCANNED + 4 * (left // max(1, self.day_minutes) + 1)
        for _ in range(scan):
            if self.is_workday(d):
                begin = max(t, self._open(d))
                close = self._close(d)
                if begin <= close:
                    available = int((close - begin).total_seconds() // 60)
                    if left <= available:
                        return (begin + timedelta(minutes=left)).astimezone(timezone.utc)
                    left -= available
            d += timedelta(days=1)
            t = self._open(d)
        raise ValueError("no working day found in the calendar")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from a to b (negative if b is before a), to the minute."""
        if a.tzinfo is None or b.tzinfo is None:
            raise ValueError("naive datetime")
        if b < a:
            return -self.working_time_between(b, a)
        x, y = a.astimezone(self.tz), b.astimezone(self.tz)
        total = timedelta()
        first, last = x.date(), y.date()
        for d in (first, last) if last > first else (first,):  # the two ends: partly
            if self.is_workday(d):
                lo, hi = max(x, self._open(d)), min(y, self._close(d))
                if hi > lo:
                    total += hi - lo
        # the whole days between: counted, not walked (a case overdue for years, issue #6)
        between = self.workdays(first + timedelta(days=1), last) if last > first else 0
        total += timedelta(minutes=between * self.day_minutes)
        return timedelta(minutes=int(total.total_seconds() // 60))

    def workdays(self, start: date, end: date) -> int:
        """Working days from `start` up to, not including, `end`: the weekdays, corrected by
        the days that differ from the weekday rule (holidays, make-up days, overrides)."""
        n = (end - start).days
        if n <= 0:
            return 0
        weeks, rest = divmod(n, 7)
        count = weeks * 5 + sum(1 for i in range(rest) if (start.weekday() + i) % 7 < 5)
        days, running = self._exceptions
        return count + running[bisect_left(days, end)] - running[bisect_left(days, start)]

    @cached_property
    def _exceptions(self) -> tuple[tuple[date, ...], tuple[int, ...]]:
        """The days whose status differs from the weekday rule, sorted, with the running sum
        of their corrections (+1 a working weekend day, -1 a weekday off)."""
        days: list[date] = []
        running = [0]
        for d in sorted(self.holidays | self.makeup_days | self.extra_off | self.extra_work):
            delta = int(self.is_workday(d)) - int(d.weekday() < 5)
            if delta:
                days.append(d)
                running.append(running[-1] + delta)
        return tuple(days), tuple(running)


def parse_schedule(text: str) -> tuple[set[date], set[date]]:
    """Admin pastes next year's official schedule: one date or range per line, marked
    休/off or 班/work. E.g. `2027-01-01 休`, `2027-02-06~2027-02-12 休`, `2027-02-14 班`.
    Returns (days off, make-up working days); ValueError names the bad line."""
    off: set[date] = set()
    work: set[date] = set()
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.replace("～", "~").replace(" to ", "~").split()
        if len(parts) != 2 or parts[1].lower() not in ("休", "off", "班", "work"):
            raise ValueError(f"line {n}")
        span = parts[0].split("~")
        try:
            first = date.fromisoformat(span[0])
            last = date.fromisoformat(span[-1])
        except ValueError as e:
            raise ValueError(f"line {n}") from e
        if last < first or (last - first).days > 31:
            raise ValueError(f"line {n}")
        target = off if parts[1].lower() in ("休", "off") else work
        d = first
        while d <= last:
            target.add(d)
            d += timedelta(days=1)
    if off & work:
        raise ValueError("both")
    return off, work
