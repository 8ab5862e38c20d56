"""Meetings as the seed runs them (4.2.1/4.2.2) and assisting departments (issue #12 items 7-8):
pure rules, no I/O.

- A meeting has at least one attendee: a user, or a person typed with their company /
  department (工程部, 物资中心 staff without an account).
- Each action item has a type, a text, an owner and a due date not before today; corrective and
  preventive items become CAPA actions.
- With the setting `first_meeting_days` (N > 0; 0 = off) the first meeting is due N working
  days after the case was first dispatched, while the case is still being looked into
  (FIRST_MEETING_STATES) and no meeting has been recorded.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from core.errors import InvalidInput
from core.model import Assist, Guest, ItemType, Kind, State
from core.rules.calendar import WorkCalendar

# the states in which the first meeting is still the thing to do (4.2.1: 第一时间)
FIRST_MEETING_STATES = frozenset({State.DISPATCHED, State.INVESTIGATING})
CAPA_ITEMS = frozenset({ItemType.CORRECTIVE, ItemType.PREVENTIVE})
MAX_NAME = 100


@dataclass(frozen=True)
class ItemDraft:
    """An action item as a form sends it: any part may still be missing."""

    description: str
    owner_id: int | None
    due_date: date | None
    type: ItemType = ItemType.CORRECTIVE


def guests(typed: Sequence[tuple[str, str]]) -> tuple[Guest, ...]:
    """The typed attendees, trimmed; blank rows dropped; a company without a name refused."""
    out: list[Guest] = []
    for name, org in typed:
        n, o = " ".join((name or "").split()), " ".join((org or "").split())
        if not n and not o:
            continue
        if not n:
            raise InvalidInput("err.required", field="guest_name")
        if len(n) > MAX_NAME or len(o) > MAX_NAME:
            raise InvalidInput("err.too_long", field="guest_name")
        out.append(Guest(n, o))
    return tuple(out)


def item_problems(items: Sequence[ItemDraft], today: date,
                  active_users: frozenset[int]) -> list[InvalidInput]:
    """Every problem of the action items, numbered as the form shows them (1, 2, …)."""
    problems: list[InvalidInput] = []
    for n, item in enumerate(items, start=1):
        if not item.description.strip():
            problems.append(InvalidInput("err.item_required", n=n, field="capa_description"))
        if item.owner_id is None or item.owner_id not in active_users:
            problems.append(InvalidInput("err.item_required", n=n, field="owner"))
        if item.due_date is None:
            problems.append(InvalidInput("err.item_required", n=n, field="due_date"))
        elif item.due_date < today:
            problems.append(InvalidInput("err.item_past_date", n=n, field="due_date"))
    return problems


def first_meeting_due(dispatched_at: datetime, days: int, cal: WorkCalendar) -> datetime:
    """N working days after the first dispatch."""
    return cal.add_working_time(dispatched_at, hours=days * cal.hours_per_day)


def first_meeting_pending(kind: Kind, state: State, days: int, held: bool) -> bool:
    """Whether the case still waits for its first meeting (the setting on, none held yet)."""
    return days > 0 and kind == Kind.COMPLAINT and state in FIRST_MEETING_STATES and not held


@dataclass(frozen=True)
class AssistChange:
    """How a case's assisting departments change: added (department, ask), ended, asked anew."""

    added: tuple[tuple[int, str], ...]
    ended: tuple[Assist, ...]
    reworded: tuple[tuple[Assist, str], ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.ended or self.reworded)


def assist_change(current: Sequence[Assist], wanted: Mapping[int, str],
                  lead: int | None) -> AssistChange:
    """From the assisting departments now to `wanted` (department -> what it is asked).
    The lead responsible department cannot also assist."""
    if lead is not None and lead in wanted:
        raise InvalidInput("err.assist_is_lead")
    live = {a.department_id: a for a in current if a.ended_at is None}
    asks = {d: " ".join((ask or "").split()) for d, ask in wanted.items()}
    for ask in asks.values():
        if len(ask) > 500:
            raise InvalidInput("err.too_long", field="assist_ask")
    return AssistChange(
        added=tuple((d, asks[d]) for d in sorted(asks) if d not in live),
        ended=tuple(live[d] for d in sorted(live) if d not in asks),
        reworded=tuple((live[d], asks[d]) for d in sorted(live)
                       if d in asks and live[d].ask != asks[d]),
    )
