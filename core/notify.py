"""Who hears about what (docs/procedure.md §8): the in-app inbox recipients of each lifecycle event.

Pure: given the action just taken, the case after it and the users, returns
(user id, kind, params) — the page translates `notify.<kind>` with the params.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from core import procedure
from core.model import CaseFile, Role, StepStatus, Title, User
from core.rules.approvals import Delegation


@dataclass(frozen=True)
class Note:
    user_id: int
    kind: str
    params: dict[str, Any]


# Every kind of notice, in the order My account lists them for the reader's choice
KINDS = ("dispatched", "assigned", "sent_back", "assist_asked", "approval_needed", "approved",
         "rejected", "extension_asked", "extension_decided", "reopened", "chain_step_due",
         "verify_due", "overdue")
CHANNELS = ("inbox", "email")


@dataclass(frozen=True)
class Preferences:
    """A user's choice of notices (My account): the (channel, kind) pairs turned off, and
    whether e-mail comes as one digest a day instead of one e-mail per notice. The default is
    everything, at once. What waits for the reader is on My Tasks whatever they choose here."""

    off: frozenset[tuple[str, str]] = frozenset()
    digest: bool = False

    def wants(self, channel: str, kind: str) -> bool:
        return (channel, kind) not in self.off

    @classmethod
    def from_stored(cls, stored: Any) -> Preferences:
        if not isinstance(stored, dict):
            return cls()
        off = stored.get("off") or []
        return cls(frozenset((str(p[0]), str(p[1])) for p in off
                             if isinstance(p, (list, tuple)) and len(p) == 2),
                   bool(stored.get("digest", False)))

    def to_stored(self) -> dict[str, Any]:
        return {"off": sorted([c, k] for c, k in self.off), "digest": self.digest}


def preference_key(user_id: int) -> str:
    """The settings row holding a user's preferences."""
    return f"notices.{user_id}"


def wanted(notes: list[Note], prefs: dict[int, Preferences], channel: str) -> list[Note]:
    """The notes their recipients want on `channel` (no stored choice: all of them)."""
    return [n for n in notes if prefs.get(n.user_id, Preferences()).wants(channel, n.kind)]


def _qa(users: list[User], manager_copies: bool = True) -> list[User]:
    """QA. Without `manager_copies` (a setting, off by default) the QA manager hears of QA's
    work only when no other QA engineer is active to take it."""
    qa = [u for u in users if u.has(Role.QA)]
    staff = [u for u in qa if Title.QA_MANAGER not in u.titles]
    return qa if manager_copies or not staff else staff


def _dept(users: list[User], dept: int | None) -> list[User]:
    return [u for u in users if u.has(Role.PRODUCTION) and dept and u.department_id == dept]


def _signers(users: list[User], steps: list[Any], today: date,
             delegations: list[Delegation]) -> list[User]:
    """Who may sign one of the pending stage's steps: the holders of its title (and of a
    higher one, for a step open to higher titles — every title holder is told then, the
    rank being unknown here), and their deputies."""
    codes = {s.title for s in steps}
    wide = any(getattr(s, "or_higher", False) for s in steps)
    holders = [u for u in users if u.titles & codes or (wide and u.titles)]
    ids = {u.id for u in holders}
    deputies = {d.deputy_id for d in delegations
                if d.manager_id in ids and d.start <= today <= d.end}
    return holders + [u for u in users if u.id in deputies and u.id not in ids]


def recipients(action: str, case: CaseFile, actor: User, users: list[User], today: date,
               delegations: list[Delegation], extra: dict[str, Any] | None = None,
               qa_manager_copies: bool = False) -> list[Note]:
    """The inbox lines an action produces, as core/procedure.py declares them; the actor never
    notifies themself. Of the case only the complaint and its approval steps are read (all
    that pipeline.notify_people passes). The QA manager gets QA's notices only with
    `qa_manager_copies` (the setting of that name) or when they are the only QA engineer."""
    c = case.complaint
    active = [u for u in users if u.active]
    p: dict[str, Any] = {"number": c.number, "by": actor.display_name, **(extra or {})}
    pending = sorted((s for s in case.current(case.steps) if s.status == StepStatus.PENDING),
                     key=lambda s: s.seq)

    def audience(name: str) -> list[User]:
        if name == "qa":
            return _qa(active, qa_manager_copies)
        if name == "department":
            return _dept(active, c.responsible_department_id)
        if name == "next_signers":
            low = [s for s in pending if s.seq == pending[0].seq]
            return _signers(active, low, today, delegations) if pending else []
        if name == "proposer":
            return [u for u in active if u.id == c.proposer_id]
        if name == "deciders":
            return [u for u in active if u.has(Role.MANAGEMENT) or Title.QA_MANAGER in u.titles]
        if name == "requester":
            return [u for u in active if u.id == (extra or {}).get("requester_id")]
        raise ValueError(f"unknown audience {name}")

    out: list[tuple[list[User], str]] = []
    for notice in procedure.notices(action):
        if notice.when == "always" or (notice.when == "steps_pending") == bool(pending):
            out.append(([u for name in notice.to for u in audience(name)], notice.kind))
    notes: list[Note] = []
    seen: set[tuple[int, str]] = set()
    for people, kind in out:
        for u in people:
            if u.id != actor.id and (u.id, kind) not in seen:
                seen.add((u.id, kind))
                notes.append(Note(u.id, kind, p))
    return notes
