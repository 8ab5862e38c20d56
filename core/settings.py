"""Settings with their defaults; stored as data, edited on the Admin page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

DEFAULTS: dict[str, Any] = {
    "attachment_max_mb": 20,  # per file; also Streamlit's upload limit (adapters/web.py)
    "image_max_megapixels": 50,  # a photo with more pixels is refused at upload
    "case_attachments_max_mb": 100,  # all the files of one case together
    "timezone": "Asia/Shanghai",
    "severity_a_claim": "10000",
    "severity_b_claim": "5000",
    "dispatch_approval": "a_only",
    "work_start": "08:30",
    "work_end": "17:30",
    "company_name": "",  # signs the reply letter (docs/procedure.md §10)
    "company_name_en": "",  # signs the English reply letter (issue #13); "": company_name
    "session_idle_minutes": 480,  # a login ends after this long without a page run
    "session_lifetime_hours": 72,  # and this long after it began, whatever happens
    "delegation_max_days": 90,  # a deputy signs for at most this many days (issue #11)
    "record_visibility": "all",  # or "department": core/rules/visibility.py
    # the first meeting within N working days after dispatch (seed 4.2.1); 0: not timed
    "first_meeting_days": 0,
    # the QA manager also gets QA's notices (every dispatch): core/notify.py
    "qa_manager_copies": False,
    # a reopened case's open steps are timed anew from the "reopening" (default) or from
    # their "first" start (docs/procedure.md §7)
    "reopen_due_from": "reopening",
    # the date range Stats opens with (core/stats.py PRESETS): the weekly meeting's last week
    "stats_default_period": "last_week",
}

STATS_PERIODS = ("this_week", "last_week", "this_month", "last_month", "this_quarter",
                 "this_year")  # core/stats.py PRESETS without "custom"

# Allowed attachment types: extension -> (content type, magic-byte prefixes).
ALLOWED_UPLOADS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "pdf": ("application/pdf", (b"%PDF-",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             (b"PK\x03\x04",)),
}


@dataclass(frozen=True)
class Settings:
    attachment_max_mb: int
    timezone: str
    severity_a_claim: Decimal
    severity_b_claim: Decimal
    dispatch_approval: str = "a_only"
    work_start: str = "08:30"
    work_end: str = "17:30"
    company_name: str = ""
    company_name_en: str = ""
    session_idle_minutes: int = 480
    session_lifetime_hours: int = 72
    image_max_megapixels: int = 50
    case_attachments_max_mb: int = 100
    delegation_max_days: int = 90
    record_visibility: str = "all"
    first_meeting_days: int = 0
    qa_manager_copies: bool = False
    reopen_due_from: str = "reopening"
    stats_default_period: str = "last_week"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def attachment_max_bytes(self) -> int:
        return self.attachment_max_mb * 1024 * 1024

    @property
    def image_max_pixels(self) -> int:
        return self.image_max_megapixels * 1_000_000

    @property
    def case_attachments_max_bytes(self) -> int:
        return self.case_attachments_max_mb * 1024 * 1024


def build(stored: dict[str, Any]) -> Settings:
    v = {**DEFAULTS, **{k: x for k, x in stored.items() if x is not None}}
    return Settings(attachment_max_mb=int(v["attachment_max_mb"]), timezone=str(v["timezone"]),
                    image_max_megapixels=int(v["image_max_megapixels"]),
                    case_attachments_max_mb=int(v["case_attachments_max_mb"]),
                    severity_a_claim=Decimal(str(v["severity_a_claim"])),
                    severity_b_claim=Decimal(str(v["severity_b_claim"])),
                    dispatch_approval=str(v["dispatch_approval"]), work_start=str(v["work_start"]),
                    work_end=str(v["work_end"]), company_name=str(v["company_name"]),
                    company_name_en=str(v["company_name_en"]),
                    session_idle_minutes=int(v["session_idle_minutes"]),
                    session_lifetime_hours=int(v["session_lifetime_hours"]),
                    delegation_max_days=int(v["delegation_max_days"]),
                    record_visibility=str(v["record_visibility"]),
                    first_meeting_days=int(v["first_meeting_days"]),
                    qa_manager_copies=v["qa_manager_copies"] is True,
                    reopen_due_from=str(v["reopen_due_from"]),
                    stats_default_period=str(v["stats_default_period"]))


def validate(key: str, value: Any) -> Any:
    """The value to store for `key`, or ValueError with the reason."""
    if key == "attachment_max_mb":
        n = int(value)
        if not 1 <= n <= 200:
            raise ValueError("range_1_200")
        return n
    if key == "image_max_megapixels":  # Pillow itself refuses above ~179 (decompression bomb)
        n = int(value)
        if not 1 <= n <= 80:
            raise ValueError("range_1_80")
        return n
    if key == "case_attachments_max_mb":
        n = int(value)
        if not 1 <= n <= 10_000:
            raise ValueError("range_1_10000")
        return n
    if key == "session_idle_minutes":
        n = int(value)
        if not 5 <= n <= 24 * 60:
            raise ValueError("range_5_1440")
        return n
    if key == "session_lifetime_hours":
        n = int(value)
        if not 1 <= n <= 24 * 30:
            raise ValueError("range_1_720")
        return n
    if key == "delegation_max_days":
        n = int(value)
        if not 1 <= n <= 366:
            raise ValueError("range_1_366")
        return n
    if key == "first_meeting_days":
        n = int(value)
        if not 0 <= n <= 30:
            raise ValueError("range_0_30")
        return n
    if key == "stats_default_period":  # core/stats.py PRESETS, a named range
        if value not in STATS_PERIODS:
            raise ValueError("stats_period")
        return str(value)
    if key == "reopen_due_from":
        if value not in ("reopening", "first"):
            raise ValueError("reopening_first")
        return str(value)
    if key == "qa_manager_copies":
        if not isinstance(value, bool):
            raise ValueError("yes_no")
        return value
    if key == "record_visibility":
        if value not in ("all", "department"):
            raise ValueError("all_department")
        return str(value)
    if key == "timezone":
        if str(value) not in available_timezones():
            raise ValueError("unknown_timezone")
        return str(value)
    if key in ("severity_a_claim", "severity_b_claim"):
        d = Decimal(str(value))
        if d < 0:
            raise ValueError("negative")
        return str(d)
    if key in ("work_start", "work_end"):
        t = time.fromisoformat(str(value))
        return t.strftime("%H:%M")
    if key == "dispatch_approval":
        if value not in ("a_only", "all", "none"):
            raise ValueError("a_only_all_none")
        return str(value)
    if key in ("company_name", "company_name_en"):
        name = " ".join(str(value).split())
        if len(name) > 200:
            raise ValueError("too_long")
        return name
    raise ValueError("unknown_setting")
