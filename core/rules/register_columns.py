"""The exported register's columns (issue #13: "the boss will still ask for the Excel 登记表"):
every column of an old 登记表 in the order the sheet shows them, what kind of value each holds
(the sheet's number format and width follow from it), and the set a new user starts with.

Custom fields come after these, as "custom:<field id>" (all of them by default)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum


class Cell(StrEnum):
    TEXT = "text"  # short text: a name, a label, a code
    LONG = "long"  # a summary: wider, wrapped
    TIME = "time"  # a local date and time
    DATE = "date"
    MONEY = "money"
    DAYS = "days"  # working days, one decimal
    COUNT = "count"


# (key, kind): the key is also the column's label key "field.<key>" unless LABELS says other
COLUMNS: tuple[tuple[str, Cell], ...] = (
    ("number", Cell.TEXT),
    ("received_at", Cell.TIME),
    ("customer", Cell.TEXT),
    ("kind", Cell.TEXT),
    ("category", Cell.TEXT),
    ("state", Cell.TEXT),
    ("severity", Cell.TEXT),
    ("product_code", Cell.TEXT),
    ("product_name", Cell.TEXT),
    ("order_no", Cell.TEXT),
    ("lot", Cell.TEXT),
    ("defect_type", Cell.TEXT),
    ("description", Cell.LONG),
    ("responsible_department", Cell.TEXT),
    ("root_cause", Cell.LONG),
    ("root_cause_6m", Cell.TEXT),
    ("capa", Cell.LONG),
    ("dispositions", Cell.LONG),
    ("disposition_total", Cell.MONEY),
    ("compensation", Cell.MONEY),
    ("paid_total", Cell.MONEY),
    ("approvals", Cell.LONG),
    ("reply_date", Cell.DATE),
    ("closed_at", Cell.DATE),
    ("close_wd", Cell.DAYS),
    ("satisfaction", Cell.TEXT),
    ("satisfaction_score", Cell.COUNT),
)
KINDS = dict(COLUMNS)
KEYS = tuple(k for k, _ in COLUMNS)
CUSTOM = "custom:"

# what a new user starts with: the register a QA clerk keeps by hand
DEFAULT = (
    "number", "received_at", "customer", "kind", "state", "severity", "product_code",
    "product_name", "order_no", "defect_type", "description", "responsible_department",
    "root_cause", "root_cause_6m", "capa", "dispositions", "compensation", "reply_date",
    "closed_at", "close_wd", "satisfaction",
)


def custom_key(field_id: int) -> str:
    return f"{CUSTOM}{field_id}"


def default_columns(custom_ids: Iterable[int]) -> list[str]:
    return list(DEFAULT) + [custom_key(i) for i in custom_ids]


def chosen(wanted: Sequence[str], custom_ids: Iterable[int]) -> list[str]:
    """The chosen columns that exist, in the register's order (custom fields last, in their
    own order); unknown keys (a removed field) are left out."""
    ids = list(custom_ids)
    known = set(wanted)
    out = [k for k in KEYS if k in known] + [custom_key(i) for i in ids
                                              if custom_key(i) in known]
    return out
