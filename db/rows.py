"""A case row <-> a Complaint: the one mapping both the write repositories (db/uow.py) and the
read models (db/reads.py) use (docs/architecture.md §4)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any

from sqlalchemy import func

from core.model import (
    Category,
    Channel,
    Complaint,
    Kind,
    ReplyMethod,
    Request,
    Satisfaction,
    Severity,
    SixM,
    State,
    Validity,
    WhereFound,
)
from db.tables import ComplaintRow

ENUMS: dict[str, Any] = {
    "channel": Channel,
    "kind": Kind,
    "category": Category,
    "where_found": WhereFound,
    "request": Request,
    "severity_proposed": Severity,
    "state": State,
    "severity": Severity,
    "validity": Validity,
    "root_cause_6m": SixM,
    "reply_method": ReplyMethod,
    "satisfaction": Satisfaction,
}
FIELDS = [k for k in Complaint.__dataclass_fields__ if k != "id"]


CLOSED = (State.CLOSED.value, State.CANCELLED.value)


def as_utc(v: datetime) -> datetime:
    """Columns read through a plain select() skip the type decorator's zone: add it back."""
    return v if v.tzinfo else v.replace(tzinfo=timezone.utc)


# QA's final severity once decided, else the proposal (Complaint.effective_severity)
SEVERITY = func.coalesce(ComplaintRow.severity, ComplaintRow.severity_proposed)


def complaint_from(r: ComplaintRow) -> Complaint:
    v: dict[str, Any] = {k: getattr(r, k) for k in FIELDS}
    for k, kind in ENUMS.items():
        v[k] = kind(v[k]) if v[k] is not None else None
    return Complaint(id=r.id, **v)


# each enum's members by value: a dict lookup, not an Enum() call (12 per case read)
_MEMBERS: dict[str, tuple[Any, dict[Any, Any]]] = {
    k: (kind, dict(kind._value2member_map_)) for k, kind in ENUMS.items()}


def complaint_of(row: dict[str, Any]) -> Complaint:
    """The same from a plain row's mapping (no attribute lookups: thousands for My Tasks)."""
    v: dict[str, Any] = {k: row[k] for k in FIELDS}
    for k, (kind, members) in _MEMBERS.items():
        x = v[k]
        if x is not None:
            v[k] = members.get(x) or kind(x)  # kind(x): an unknown value fails as before
    return Complaint(id=row["id"], **v)


def complaints_of(keys: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[Complaint]:
    """The same for many plain rows of the given columns at once: each value taken by its
    position and passed by position (no dict per row: My Tasks reads hundreds of cases)."""
    at = {k: i for i, k in enumerate(keys)}
    take = itemgetter(at["id"], *(at[k] for k in FIELDS))
    enums = [(1 + FIELDS.index(k), kind, members) for k, (kind, members) in _MEMBERS.items()]
    out: list[Complaint] = []
    for r in rows:
        v = list(take(r))
        for i, kind, members in enums:
            x = v[i]
            if x is not None:
                v[i] = members.get(x) or kind(x)
        out.append(Complaint(*v))
    return out


def complaint_values(c: Complaint) -> dict[str, Any]:
    v = {k: getattr(c, k) for k in FIELDS}
    for k in ENUMS:
        v[k] = v[k].value if v[k] is not None else None
    return v

