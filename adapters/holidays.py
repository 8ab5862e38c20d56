"""China's statutory holidays and make-up working days from the `chinese-calendar` package."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=1)
def _load() -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    off: set[date] = set()
    work: set[date] = set()
    years = set()
    for d, _name in chinese_calendar.holidays.items():
        off.add(d)
        years.add(d.year)
    for d, _name in chinese_calendar.workdays.items():
        if d.weekday() >= 5:
            work.add(d)
    return frozenset(off), frozenset(work), frozenset(years)


class PackageHolidays:
    """The package knows 2004–2026 (version 1.11.0); later years come from the Admin page."""

    def official(self) -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
        return _load()
