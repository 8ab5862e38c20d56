"""Case numbers: `KS` + YYMM + `-` + monthly serial (docs/procedure.md §3, 编号原则
year-month-serial)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

PREFIX = "KS"
_NUMBER = re.compile(r"^KS(\d{4})-(\d{3,})$")


def period_of(received_at: datetime, tz: ZoneInfo) -> str:
    """The YYMM period a case belongs to, by the local date it was received."""
    return received_at.astimezone(tz).strftime("%y%m")


def format_number(period: str, serial: int) -> str:
    """`KS2611-007`; the serial has at least 3 digits and never wraps."""
    if serial < 1:
        raise ValueError("serial starts at 1")
    return f"{PREFIX}{period}-{serial:03d}"


def parse_number(number: str) -> tuple[str, int] | None:
    m = _NUMBER.match(number.strip().upper())
    return (m.group(1), int(m.group(2))) if m else None
