"""Escalation of overdue steps (逾期反应, docs/procedure.md §7): who hears about an
overdue step, and when.

Levels are a setting. By default: at the due time the holder(s) of the step and their manager;
when twice the limit has elapsed, the general manager's office. Each level fires once per
step (a step that starts again — a reopened case — is a new step). Pure: the services store
which levels fired and write the notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import InvalidInput
from core.model import CaseFile, Role, StepStatus, Title, User
from core.rules.calendar import WorkCalendar
from core import procedure, sla
from core.sla import Due

HOLDERS, MANAGERS = "holders", "managers"
# besides these two, a level may tell the holders of any title (its code, Admin → Titles)
AUDIENCES: tuple[str, ...] = (HOLDERS, MANAGERS)
MAX_LEVELS = 5
MAX_MULTIPLE = 20.0


@dataclass(frozen=True)
class Level:
    """Fires once `multiple` times the step's limit has elapsed (1 = at the due time)."""

    multiple: float
    to: tuple[str, ...]


DEFAULT_LEVELS: tuple[Level, ...] = (
    Level(1.0, (HOLDERS, MANAGERS)),
    Level(2.0, (Title.GENERAL_MANAGER.value,)),
)


@dataclass(frozen=True)
class Escalation:
    """One level of one step that is due to fire now, and the users it notifies."""

    step: str
    started: datetime
    level: int  # 1-based
    user_ids: tuple[int, ...]
    at: datetime  # when it became due


def levels_from(stored: list[dict[str, Any]] | None) -> tuple[Level, ...]:
    """The levels saved on the Admin page, or the defaults."""
    if not stored:
        return DEFAULT_LEVELS
    return tuple(Level(float(x["multiple"]), tuple(str(a) for a in x["to"])) for x in stored)


def check_levels(levels: Iterable[Level], titles: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The levels to store, or InvalidInput: 1–5 levels, each later than the one before
    (1× to 20× the limit) and telling someone: the step's holders, their managers or the
    holders of a title (`titles`: the codes defined)."""
    known = (*AUDIENCES, *titles)
    out: list[dict[str, Any]] = []
    last = 0.0
    for n, lvl in enumerate(levels, start=1):
        if not 1.0 <= lvl.multiple <= MAX_MULTIPLE or lvl.multiple <= last:
            raise InvalidInput("err.escalation_multiple", level=n)
        if not lvl.to or any(a not in known for a in lvl.to):
            raise InvalidInput("err.escalation_audience", level=n)
        last = lvl.multiple
        out.append({"multiple": lvl.multiple, "to": sorted(set(lvl.to), key=known.index)})
    if not 1 <= len(out) <= MAX_LEVELS:
        raise InvalidInput("err.escalation_count", n=MAX_LEVELS)
    return out


def fire_at(due: Due, multiple: float, cal: WorkCalendar) -> datetime | None:
    """When `multiple` times the limit has elapsed: the due time (holds and extensions already
    in it) plus the rest, counted like the limit itself — working or clock hours."""
    if due.due is None:
        return None
    extra = multiple - 1.0
    if extra <= 0:
        return due.due
    amount, unit = due.limit
    return sla.after(due.due, amount * extra, unit, cal)


# ---------------------------------------------------------------- who


def _sales(case: CaseFile, active: list[User]) -> list[User]:
    """The salesperson who took the complaint (首问负责), else every salesperson."""
    mine = [u for u in active if u.id == case.complaint.received_by_id and u.has(Role.SALES)]
    return mine or [u for u in active if u.has(Role.SALES)]


def _department(case: CaseFile, active: list[User]) -> list[User]:
    dept = case.complaint.responsible_department_id
    return [u for u in active if dept and u.has(Role.PRODUCTION) and u.department_id == dept]


def _qa(active: list[User]) -> list[User]:
    return [u for u in active if u.has(Role.QA)]


def holders(case: CaseFile, step: str, users: list[User]) -> list[User]:
    """Who an open step waits for, as core/procedure.py declares it (`step_holders`)."""
    active = [u for u in users if u.active]

    def audience(name: str) -> list[User]:
        if name == "sales":
            return _sales(case, active)
        if name == "qa":
            return _qa(active)
        if name == "department":
            return _department(case, active)
        if name == "step_title":
            # every step of the pending stage (parallel steps are signed at the same time)
            pending = [s for s in case.current(case.steps) if s.status == StepStatus.PENDING]
            low = min((s.seq for s in pending), default=0)
            codes = {s.title for s in pending if s.seq == low}
            return [u for u in active if u.titles & codes]
        raise ValueError(f"unknown audience {name}")

    declared = procedure.step_holders(step, case.complaint.state)
    if declared.together:
        return [u for name in declared.audiences for u in audience(name)]
    for name in declared.audiences:
        found = audience(name)
        if found:
            return found
    return []


def managers(people: list[User], users: list[User],
             heads: dict[int, int] | None = None) -> list[User]:
    """Each person's manager: the head of their department (`heads`: department → user, set
    on Admin), else management of the same department, else the sales or QA manager (by the
    person's role; both when it is neither or both)."""
    active = [u for u in users if u.active]
    out: list[User] = []
    for p in people:
        head = (heads or {}).get(p.department_id or 0)
        if head is not None and head != p.id and any(u.id == head for u in active):
            out += [u for u in active if u.id == head]
            continue
        found = [
            u
            for u in active
            if u.has(Role.MANAGEMENT)
            and p.department_id is not None
            and u.department_id == p.department_id
            and u.id != p.id
        ]
        if not found:
            titles = (
                {Title.SALES_MANAGER}
                if p.has(Role.SALES) and not p.has(Role.QA)
                else {Title.QA_MANAGER}
                if p.has(Role.QA) and not p.has(Role.SALES)
                else {Title.SALES_MANAGER, Title.QA_MANAGER}
            )
            found = [u for u in active if u.titles & titles and u.id != p.id] or [
                u
                for u in active
                if u.titles & {Title.SALES_MANAGER, Title.QA_MANAGER} and u.id != p.id
            ]
        out += found
    return out


def recipients(level: Level, case: CaseFile, step: str, users: list[User],
               heads: dict[int, int] | None = None) -> list[User]:
    """Everyone a level tells, once each, in a stable order."""
    people: list[User] = []
    who = holders(case, step, users)
    if HOLDERS in level.to:
        people += who
    if MANAGERS in level.to:
        people += managers(who, users, heads)
    titles = {a for a in level.to if a not in (HOLDERS, MANAGERS)}
    people += [u for u in users if u.active and u.titles & titles]
    seen: dict[int, User] = {}
    for u in people:
        seen.setdefault(u.id, u)
    return sorted(seen.values(), key=lambda u: u.id)


def due_escalations(case: CaseFile, dues: list[Due], now: datetime,
                    already_fired: set[tuple[str, datetime, int]], users: list[User],
                    levels: tuple[Level, ...] = DEFAULT_LEVELS,
                    cal: WorkCalendar | None = None,
                    heads: dict[int, int] | None = None) -> list[Escalation]:
    """The levels of the case's open steps that are due by `now` and have not fired yet.

    A step on hold has no due time and does not escalate; a case that is no longer open has
    no open steps. Several levels can be due at once (the job did not run for a while): each
    fires, lowest first.
    """
    cal = cal or WorkCalendar()
    out: list[Escalation] = []
    for due in dues:
        for n, level in enumerate(levels, start=1):
            at = fire_at(due, level.multiple, cal)
            if at is None or now < at or (due.step, due.started, n) in already_fired:
                continue
            people = recipients(level, case, due.step, users, heads)
            out.append(Escalation(due.step, due.started, n, tuple(u.id for u in people), at))
    return out
