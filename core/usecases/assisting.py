"""Assisting departments (issue #12 item 8, docs/procedure.md §5): one lead responsible
department plus assisting ones (工程部协助). QA (or management) names them and what each is
asked, at classification or later; the assisting department's production users see the case,
write their findings and add CAPA actions on their part."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from core import notify
from core.errors import InvalidInput, NotAllowed
from core.model import Assist, CaseFile, Complaint, Role, State, User, Value
from core.ports import UnitOfWork
from core.rules import meetings as rules
from core.usecases import common, context, pipeline
from core.usecases.context import Context

# where the assisting departments can still be changed: while the case is worked on
OPEN_WORK = frozenset(s for s in State if s.is_open) - {State.REGISTERED, State.DISPATCHED}


def names(ids: list[int] | set[int] | frozenset[int]) -> str:
    """How a set of departments is written into an event: ids, sorted, comma-separated (the
    timeline shows their names)."""
    return ",".join(str(i) for i in sorted(ids))


def apply(uow: UnitOfWork, case: CaseFile, me: User, now: datetime, wanted: Mapping[int, str],
          lead: int | None) -> dict[str, list[Value]]:
    """Write the change from the case's assisting departments to `wanted`; the event's
    changes (empty when nothing changed). Notifies the newly asked departments."""
    known = {d.id for d in uow.ref.departments()}
    if not set(wanted) <= known:
        raise InvalidInput("err.unknown", field="assisting_departments")
    change = rules.assist_change(case.assists, wanted, lead)
    if change.empty:
        return {}
    before = case.assisting
    for d, ask in change.added:
        uow.records.add(Assist(None, case.complaint.id or 0, d, ask, me.id, now))
    for a in change.ended:
        uow.records.update(replace(a, ended_at=now, ended_by_id=me.id))
    for a, ask in change.reworded:
        uow.records.update(replace(a, ask=ask))
    after = (set(before) - {a.department_id for a in change.ended}) | {d for d, _ in change.added}
    added = {d for d, _ in change.added}
    pipeline.to_inbox(uow, [
        notify.Note(u.id, "assist_asked", {"number": case.complaint.number, "by": me.display_name})
        for u in uow.users.list()
        if u.active and u.id != me.id and u.has(Role.PRODUCTION) and u.department_id in added
    ], case.complaint.id, now)
    out: dict[str, list[Value]] = {}
    if set(before) != after:
        out["assisting_departments"] = [names(before) or None, names(after) or None]
    if change.reworded:
        out["assist_ask"] = [None, "; ".join(ask for _, ask in change.reworded) or None]
    return out


def set_assisting(ctx: Context, actor: User, cid: int, version: int,
                  wanted: Mapping[int, str]) -> Complaint:
    """QA (or management) sets the assisting departments and what each is asked."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        context.require_role(me, Role.QA, Role.MANAGEMENT)
        case = context.load_case(ctx, uow, cid, me)
        c = case.complaint
        pipeline.check_version(uow, c, version)
        if c.state not in OPEN_WORK:
            raise NotAllowed("why.wrong_state", state=c.state.value)
        changes = apply(uow, case, me, now, wanted, c.responsible_department_id)
        if not changes:
            return c
        new = pipeline.touch(ctx, uow, case, me, now, "assisting_set", changes)
        uow.commit()
        return new


def save_findings(ctx: Context, actor: User, cid: int, findings: str) -> Complaint:
    """An assisting department's production user writes its findings (analysis notes)."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, cid, me)
        mine = assist_of(case, me)
        if case.complaint.state not in OPEN_WORK:
            raise NotAllowed("why.wrong_state", state=case.complaint.state.value)
        text = common.text(findings, "findings")
        if text == mine.findings:
            return case.complaint
        uow.records.update(replace(mine, findings=text))
        new = pipeline.touch(ctx, uow, case, me, now, "assist_findings",
                             {"assisting_department": [None, str(mine.department_id)]}, text)
        uow.commit()
        return new


def helping_only(case: CaseFile, me: User) -> bool:
    """Whether `me` works on the case only as an assisting department's production user (its
    findings and its own CAPA part; the lead department's forms are not theirs)."""
    return (me.has(Role.PRODUCTION) and not me.has(Role.SALES, Role.QA, Role.MANAGEMENT)
            and me.department_id != case.complaint.responsible_department_id
            and me.department_id in case.assisting)


def assist_of(case: CaseFile, me: User) -> Assist:
    """The live assist of `me`'s department on the case, for a production user; else why not."""
    if not me.has(Role.PRODUCTION):
        raise NotAllowed("why.wrong_role")
    found = next((a for a in case.assists
                  if a.ended_at is None and a.department_id == me.department_id), None)
    if found is None:
        raise NotAllowed("why.not_your_department")
    return found
