"""Small value checks shared by the use cases: text, money, amounts, event display."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from core.model import Value, stored
from core.errors import InvalidInput

from core.rules.complaint_fields import CONTROL, MAX_SHORT, MAX_TEXT, clean_text, parse_money

__all__ = ["CONTROL", "MAX_SHORT", "MAX_TEXT"]  # one set of limits, also for the import


def safe_filename(name: str) -> str:
    """The last path part, without control characters; never empty."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return base[:120] or "file"


def clean(text: str, limit: int, name: str) -> str:
    """Trimmed text without NUL/control characters (newlines and tabs kept)."""
    s = clean_text(text)
    if len(s) > limit:
        raise InvalidInput("err.too_long", field=name, n=limit)
    return s


def money(value: Decimal | str | None, field: str = "claimed_amount") -> Decimal | None:
    """A non-negative amount with at most 2 decimals (money is Decimal — never float)."""
    try:
        return parse_money(value)
    except ValueError as e:
        raise InvalidInput("err.amount", field=field) from e


def changed(before: object, values: dict[str, Any]) -> dict[str, list[Value]]:
    """The event's changes: every field whose value differs, old and new as the log stores
    them (core.model.stored)."""
    return {k: [stored(getattr(before, k)), stored(v)] for k, v in values.items()
            if getattr(before, k) != v}


def text(value: str, field: str, required: bool = True) -> str:
    s = (value or "").strip()
    if required and not s:
        raise InvalidInput("err.required", field=field)
    if len(s) > MAX_TEXT:
        raise InvalidInput("err.too_long", field=field)
    return s


def short(value: str) -> str:
    s = (value or "").strip()
    if len(s) > 100:
        raise InvalidInput("err.too_long", field="text")
    return s


def amount(value: Decimal | str | None, field: str) -> Decimal:
    parsed = money(value, field)  # one parser for money
    if parsed is None:
        raise InvalidInput("err.required", field=field)
    return parsed


def one_line(text: str) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= 120 else line[:119] + "…"


