"""Deputies: a manager names someone to sign their approval steps for a few days; ending a
delegation early; who sees which (docs/procedure.md §6)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from core.errors import InvalidInput, NotAllowed
from core.model import Role, User
from core.rules import approvals
from core.usecases import context, security
from core.usecases.context import Context


def set_delegation(ctx: Context, actor: User, deputy_id: int, start: date, end: date,
                   manager_id: int | None = None) -> int:
    """A manager names a deputy for a date range (admin may do it for anyone): from today on,
    for at most the setting `delegation_max_days` days."""
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        boss_id = manager_id or me.id
        if boss_id != me.id and not me.has(Role.ADMIN):
            raise NotAllowed("err.not_allowed")
        boss, deputy = uow.users.get(boss_id), uow.users.get(deputy_id)
        if boss is None or not boss.titles:
            raise InvalidInput("err.no_approval_title")
        if deputy is None or not deputy.active:
            raise InvalidInput("err.unknown", field="deputy")
        if deputy.id == boss.id:
            raise InvalidInput("err.deputy_is_manager")
        cfg = context.settings_of(ctx, uow)
        why = approvals.delegation_problem(start, end, context.today(ctx, uow),
                                           cfg.delegation_max_days)
        if why is not None:
            raise InvalidInput(why, days=cfg.delegation_max_days)
        new_id = uow.records.add(approvals.Delegation(None, boss.id, deputy.id, start, end,
                                                      created_at=ctx.clock(), created_by_id=me.id))
        security.add(uow, ctx.clock(), "delegation_set", me, subject=deputy,
                     manager=boss.username, start=start, end=end)
        uow.commit()
        return new_id


def revoke_delegation(ctx: Context, actor: User, delegation_id: int) -> None:
    """End a delegation now (the manager who named the deputy, the deputy, or an admin). The
    row stays, with who revoked it and when; signatures already given stay valid."""
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        d = uow.records.get(approvals.Delegation, delegation_id)
        if d is None:
            raise InvalidInput("err.unknown", field="delegation")
        if me.id not in (d.manager_id, d.deputy_id) and not me.has(Role.ADMIN):
            raise NotAllowed("err.not_allowed")
        if d.over(context.today(ctx, uow)):
            raise InvalidInput("err.delegation_over")
        uow.records.update(replace(d, revoked_at=ctx.clock(), revoked_by_id=me.id))
        security.add(uow, ctx.clock(), "delegation_revoked", me, subject_id=d.deputy_id,
                     manager=getattr(uow.users.get(d.manager_id), "username", ""),
                     start=d.start, end=d.end)
        uow.commit()


@dataclass(frozen=True)
class DelegationView:
    """A delegation in words: names, not ids; `current` while it can still be revoked."""

    delegation: approvals.Delegation
    manager: str
    deputy: str
    created_by: str
    revoked_by: str
    current: bool
    revocable: bool


def delegations(ctx: Context, actor: User) -> list[DelegationView]:
    """The delegations an actor may see, newest first: an admin all of them, anyone else
    those naming them as manager or deputy."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        if me.has(Role.ADMIN):
            found = uow.records.where(approvals.Delegation)
        else:
            found = uow.records.where(approvals.Delegation, manager_id=me.id) + [
                d for d in uow.records.where(approvals.Delegation, deputy_id=me.id)
                if d.manager_id != me.id
            ]
        names = {u.id: u.display_name for u in uow.users.list()}
        today = context.today(ctx, uow)

    def name(uid: int | None) -> str:
        return names.get(uid, "") if uid is not None else ""

    return [
        DelegationView(d, name(d.manager_id), name(d.deputy_id), name(d.created_by_id),
                       name(d.revoked_by_id), not d.over(today),
                       not d.over(today) and (me.has(Role.ADMIN)
                                              or me.id in (d.manager_id, d.deputy_id)))
        for d in sorted(found, key=lambda d: d.id or 0, reverse=True)
    ]
