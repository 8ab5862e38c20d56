"""Approval authority (核决权限): which sign-offs a disposition needs (docs/procedure.md §6)."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.model import Severity, Title, User

# The order in which steps are signed, lowest authority first.
ORDER = (Title.QA_MANAGER, Title.SALES_MANAGER, Title.GENERAL_MANAGER, Title.CHAIRMAN)


@dataclass(frozen=True)
class MatrixRow:
    """Totals up to `up_to` CNY (None = no upper bound) need these steps, in order."""

    up_to: Decimal | None
    steps: tuple[Title, ...]


DEFAULT_MATRIX: tuple[MatrixRow, ...] = (
    MatrixRow(Decimal("0"), (Title.QA_MANAGER,)),
    MatrixRow(Decimal("2000"), (Title.SALES_MANAGER,)),
    MatrixRow(Decimal("20000"), (Title.SALES_MANAGER, Title.GENERAL_MANAGER)),
    MatrixRow(None, (Title.SALES_MANAGER, Title.GENERAL_MANAGER, Title.CHAIRMAN)),
)


def steps_for(total: Decimal, severity: Severity | None,
              matrix: tuple[MatrixRow, ...] = DEFAULT_MATRIX) -> tuple[Title, ...]:
    """The approval steps for a total value; severity A always needs the general manager."""
    if total < 0:
        raise ValueError("negative total")
    rows = sorted(matrix, key=lambda r: (r.up_to is None, r.up_to or Decimal(0)))
    chosen = next((r for r in rows if r.up_to is None or total <= r.up_to), rows[-1])
    steps = list(chosen.steps)
    if severity == Severity.A and Title.GENERAL_MANAGER not in steps:
        steps.append(Title.GENERAL_MANAGER)
    return tuple(sorted(dict.fromkeys(steps), key=ORDER.index))


@dataclass(frozen=True)
class PlannedStep:
    """A step of a new round: the title that signs it, and — when the matrix named another
    title nobody but the proposer (or nobody active) holds — which titles it stands for and
    why (`MOVED_WHY`), for the approver's card."""

    title: Title
    moved_from: tuple[Title, ...] = ()
    why: str = ""


MOVED_WHY = ("proposer", "no_holder")


def plan_steps(titles: tuple[Title, ...], proposer_id: int | None,
               users: list[User]) -> tuple[PlannedStep, ...]:
    """The steps of a new round so that it can always finish (issue #12 item 3).

    A step whose title nobody active holds but the proposer goes to the next higher title
    that someone else holds (ORDER); at the top it goes to the nearest lower one instead.
    A step moved onto a title already in the round is signed with it, once: nobody signs
    twice. With nobody at all to sign (no other active title holder), the step stays."""
    def signable(t: Title) -> bool:
        return any(u.active and u.title == t and u.id != proposer_id for u in users)

    planned: dict[Title, PlannedStep] = {}
    for t in titles:
        target, why = t, ""
        if not signable(t):
            why = ("proposer" if any(u.active and u.title == t and u.id == proposer_id
                                     for u in users) else "no_holder")
            i = ORDER.index(t)
            above = [x for x in ORDER[i + 1:] if signable(x)]
            below = [x for x in reversed(ORDER[:i]) if signable(x)]
            target = above[0] if above else (below[0] if below else t)
        moved = (t,) if target != t else ()
        old = planned.get(target)
        if old is None:
            planned[target] = PlannedStep(target, moved, why if moved else "")
        elif moved:
            planned[target] = PlannedStep(target, old.moved_from + moved, old.why or why)
    return tuple(sorted(planned.values(), key=lambda p: ORDER.index(p.title)))


@dataclass(frozen=True)
class Delegation:
    """`deputy_id` signs for `manager_id` from `start` to `end` inclusive, until revoked."""

    id: int | None
    manager_id: int
    deputy_id: int
    start: date
    end: date
    created_at: datetime | None = None
    created_by_id: int | None = None
    revoked_at: datetime | None = None
    revoked_by_id: int | None = None

    def active_on(self, day: date) -> bool:
        return self.revoked_at is None and self.start <= day <= self.end

    def over(self, today: date) -> bool:
        """Revoked or past: shown as history, no longer changeable."""
        return self.revoked_at is not None or self.end < today


# A deputy is named for a holiday or a business trip, not for years (setting
# `delegation_max_days`; issue #11: an 80-year delegation was accepted).
MAX_DELEGATION_DAYS = 90


def delegation_problem(start: date, end: date, today: date, max_days: int) -> str | None:
    """Why a new delegation's dates are refused (an error key), or None.

    It starts today or later (a past start would sign for days already decided), ends on or
    after its start, and lasts at most `max_days` days, both ends counted."""
    if start < today:
        return "err.delegation_past"
    if end < start:
        return "err.date_order"
    if (end - start).days + 1 > max_days:
        return "err.delegation_too_long"
    return None


def signed_in_round(steps: list[Any]) -> set[int]:
    """Everyone who has already signed a step of a round: the signer and, for a deputy's
    signature, the manager signed for. Each of them signs no other step of that round."""
    people: set[int] = set()
    for s in steps:
        if s.decided_by_id is not None and s.status.value == "approved":
            people.add(s.decided_by_id)
            if s.on_behalf_of_id is not None:
                people.add(s.on_behalf_of_id)
    return people


def can_sign(user: User, step: Title, proposer_id: int | None, today: date,
             holders: list[User], delegations: list[Delegation],
             signed: Collection[int] = ()) -> tuple[bool, int | None]:
    """(may sign, on behalf of whom). The proposer never approves their own disposition, and
    nobody signs two steps of one round (`signed`: who signed this round already), neither as
    themselves nor as a deputy, nor for a manager who already signed."""
    if proposer_id is not None and user.id == proposer_id:
        return False, None
    if user.id in signed:
        return False, None
    if user.title == step and user.active:
        return True, None
    for d in delegations:
        if d.deputy_id == user.id and d.active_on(today):
            boss = next((h for h in holders if h.id == d.manager_id), None)
            if (boss is not None and boss.title == step and boss.id != proposer_id
                    and boss.id not in signed):
                return True, boss.id
    return False, None


def matrix_to_json(matrix: tuple[MatrixRow, ...]) -> list[dict[str, Any]]:
    return [{"up_to": None if r.up_to is None else str(r.up_to),
             "steps": [s.value for s in r.steps]} for r in matrix]


def matrix_from_json(data: Any) -> tuple[MatrixRow, ...]:
    """Parse and validate a stored matrix; ValueError says what is wrong."""
    if not isinstance(data, list) or not data:
        raise ValueError("empty")
    rows = []
    for item in data:
        up = item.get("up_to")
        steps = tuple(Title(s) for s in item.get("steps", []))
        if not steps or Title.NONE in steps:
            raise ValueError("steps")
        rows.append(MatrixRow(None if up in (None, "") else Decimal(str(up)), steps))
    if sum(1 for r in rows if r.up_to is None) != 1:
        raise ValueError("one open-ended row needed")
    return tuple(rows)
