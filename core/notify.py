"""Who hears about what (docs/procedure.md §8): the in-app inbox recipients of each lifecycle event.

Pure: given the action just taken, the case after it and the users, returns
(user id, kind, params) — the page translates `notify.<kind>` with the params.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from core.model import CaseFile, Role, StepStatus, Title, User
from core.rules.approvals import Delegation


@dataclass(frozen=True)
class Note:
    user_id: int
    kind: str
    params: dict[str, Any]


def _qa(users: list[User]) -> list[User]:
    return [u for u in users if u.has(Role.QA)]


def _dept(users: list[User], dept: int | None) -> list[User]:
    return [u for u in users if u.has(Role.PRODUCTION) and dept and u.department_id == dept]


def _signers(users: list[User], title: Title, today: date,
             delegations: list[Delegation]) -> list[User]:
    holders = [u for u in users if u.title == title]
    ids = {u.id for u in holders}
    deputies = {d.deputy_id for d in delegations
                if d.manager_id in ids and d.start <= today <= d.end}
    return holders + [u for u in users if u.id in deputies and u.id not in ids]


def recipients(action: str, case: CaseFile, actor: User, users: list[User], today: date,
               delegations: list[Delegation], extra: dict[str, Any] | None = None
               ) -> list[Note]:
    """The inbox lines an action produces; the actor never notifies themself."""
    c = case.complaint
    active = [u for u in users if u.active]
    p: dict[str, Any] = {"number": c.number, "by": actor.display_name, **(extra or {})}
    out: list[tuple[list[User], str]] = []
    if action == "dispatch":
        out.append((_qa(active), "dispatched"))
    elif action == "classify_valid":
        out.append((_dept(active, c.responsible_department_id), "assigned"))
    elif action == "send_back":
        out.append((_dept(active, c.responsible_department_id), "sent_back"))
    elif action in ("propose", "approve_step"):
        pending = sorted((s for s in case.current(case.steps)
                          if s.status == StepStatus.PENDING), key=lambda s: s.seq)
        if pending:
            out.append((_signers(active, pending[0].title, today, delegations),
                        "approval_needed"))
        elif action == "approve_step":
            out.append(([u for u in active if u.id == c.proposer_id], "approved"))
    elif action == "reject_step":
        out.append(([u for u in active if u.id == c.proposer_id], "rejected"))
    elif action == "extension_requested":
        out.append(([u for u in active if u.has(Role.MANAGEMENT)
                     or u.title == Title.QA_MANAGER], "extension_asked"))
    elif action in ("extension_granted", "extension_refused"):
        who = (extra or {}).get("requester_id")
        out.append(([u for u in active if u.id == who], "extension_decided"))
    elif action in ("reopen", "verify_not_effective", "not_satisfied"):
        out.append((_dept(active, c.responsible_department_id) + _qa(active), "reopened"))
    notes: list[Note] = []
    seen: set[tuple[int, str]] = set()
    for people, kind in out:
        for u in people:
            if u.id != actor.id and (u.id, kind) not in seen:
                seen.add((u.id, kind))
                notes.append(Note(u.id, kind, p))
    return notes
