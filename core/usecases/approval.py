"""Use cases of dispositions and their approval (核决): propose, sign, reject, the matrix,
delegations (docs/procedure.md §6)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.errors import InvalidInput, NotAllowed
from core.model import (
    ApprovalStep,
    CaseFile,
    Complaint,
    CostCategory,
    CostLine,
    Disposition,
    DispositionType,
    Role,
    Severity,
    State,
    StepStatus,
    User,
    stored,
)
from core.ports import UnitOfWork
from core.rules import approvals
from core.usecases import common, context, pipeline, security
from core.usecases.context import Context


@dataclass(frozen=True)
class DispositionInput:
    type: DispositionType
    quantity: int | None
    amount: Decimal | str | None
    note: str = ""


@dataclass(frozen=True)
class CostInput:
    category: CostCategory
    amount: Decimal | str | None
    department_id: int | None
    supplier: str = ""
    charge_back: Decimal | str | None = None


@dataclass(frozen=True)
class Signing:
    """Active users, my delegations and today: read once per list of approval steps."""

    users: list[User]
    delegations: list[approvals.Delegation]
    today: date
    titles: approvals.Titles


def superseded(rnd: int) -> int:
    """Where a replaced draft of round `rnd` is kept: a negative round no case ever has."""
    return -rnd - 1


def pending_stage(case: CaseFile) -> list[ApprovalStep]:
    """The pending steps of the lowest stage: signed now, in any order (parallel steps)."""
    pending = [s for s in case.current(case.steps) if s.status == StepStatus.PENDING]
    if not pending:
        return []
    low = min(s.seq for s in pending)
    return sorted((s for s in pending if s.seq == low), key=lambda s: s.id or 0)


def first_pending(case: CaseFile) -> ApprovalStep | None:
    stage = pending_stage(case)
    return stage[0] if stage else None


def disposition(cid: int, rnd: int, x: DispositionInput) -> Disposition:
    amount = (
        Decimal("0")
        if x.type == DispositionType.EXPLANATION and not x.amount
        else common.amount(x.amount, "amount")
    )
    if x.quantity is not None and x.quantity < 0:
        raise InvalidInput("err.quantity", field="quantity")
    if x.type == DispositionType.COMPENSATION and amount <= 0:
        raise InvalidInput("err.amount", field="amount")
    return Disposition(None, cid, rnd, x.type, x.quantity, amount,
                       x.note.strip()[: common.MAX_TEXT])


def cost(cid: int, rnd: int, x: CostInput, uow: UnitOfWork) -> CostLine:
    amount = common.amount(x.amount, "amount")
    back = (
        common.amount(x.charge_back, "charge_back")
        if x.charge_back not in (None, "")
        else Decimal("0")
    )
    if back > amount:
        raise InvalidInput("err.charge_back_gt_cost")
    if back > 0 and not x.supplier.strip():
        raise InvalidInput("err.required", field="supplier")
    if x.department_id is not None and x.department_id not in {
        d.id for d in uow.ref.departments(include_inactive=True)
    }:
        raise InvalidInput("err.unknown", field="department")
    return CostLine(None, cid, rnd, x.category, amount, x.department_id, x.supplier.strip()[:200],
                    back)


def set_dispositions(ctx: Context, actor: User, cid: int, version: int,
                     items: Sequence[DispositionInput],
                     costs: Sequence[CostInput] = ()) -> Complaint:
    """Sales' proposal for this round: dispositions with amounts, and cost lines charged to
    the responsible department or a supplier. Replaces the round's draft."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, cid, me)
        c = case.complaint
        pipeline.check_version(uow, c, version)
        if c.state != State.DISPOSITION or not me.has(Role.SALES):
            raise NotAllowed(
                "why.wrong_state" if c.state != State.DISPOSITION else "why.wrong_role",
                state=c.state.value,
            )
        if not items:
            raise InvalidInput("err.required", field="dispositions")
        rnd = c.approval_round
        dispositions = [disposition(cid, rnd, x) for x in items]
        lines = [cost(cid, rnd, x, uow) for x in costs]
        for old in case.current(case.dispositions):  # superseded drafts stay recorded
            uow.records.update(replace(old, round=superseded(rnd)))
        for old_line in case.current(case.costs):
            uow.records.update(replace(old_line, round=superseded(rnd)))
        for d in dispositions:
            uow.records.add(d)
        for line in lines:
            uow.records.add(line)
        total = sum((d.amount for d in dispositions), Decimal("0"))
        summary = "; ".join(f"{d.type.value} {d.quantity or ''} {d.amount}" for d in dispositions)
        new = pipeline.touch(ctx, uow, case, me, now, "dispositions_set",
                             {"dispositions": [None, summary], "total": [None, stored(total)]})
        uow.commit()
        return new


def titles_of(uow: UnitOfWork) -> approvals.Titles:
    return approvals.Titles(approvals.titles_from_json(uow.settings.get("titles")))


def rule_set_of(uow: UnitOfWork) -> approvals.RuleSet:
    """The newest version of the approval rules (the default before any was saved)."""
    found = uow.records.where(approvals.RuleSetRecord)
    return approvals.rule_set_of(max(found, key=lambda r: r.id or 0) if found else None)


def proposal_of(case: CaseFile, customer_market: str | None = None) -> approvals.Proposal:
    c = case.complaint
    return approvals.Proposal(
        case.disposition_total, frozenset(d.type.value for d in case.current(case.dispositions)),
        c.effective_severity.value if c.effective_severity else None, c.kind.value,
        customer_market)


def _plan(uow: UnitOfWork, proposal: approvals.Proposal, proposer_id: int | None
          ) -> tuple[approvals.RuleSet, int, approvals.Rule, tuple[approvals.PlannedStep, ...]]:
    rs = rule_set_of(uow)
    found = rs.rule_for(proposal)
    if found is None:
        raise InvalidInput("err.no_rule", total=proposal.total,
                           severity=proposal.severity or "—")
    pos, rule = found
    excluded = {proposer_id} if proposer_id is not None else set()
    plan = approvals.plan_steps(rule.steps, excluded, uow.users.list(), titles_of(uow),
                                proposer_id)
    return rs, pos, rule, plan


def _market(uow: UnitOfWork, c: Complaint) -> str | None:
    cust = next((x for x in uow.ref.customers(include_inactive=True) if x.id == c.customer_id),
                None) if c.customer_id is not None else None
    return cust.market.value if cust else None


def propose(ctx: Context, actor: User, cid: int, version: int, customer_position: str) -> Complaint:
    """Submit the dispositions for approval; the newest approval rules decide the steps
    (docs/procedure.md §6)."""
    position = common.text(customer_position, "customer_position")

    def steps(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
        c = case.complaint
        rs, _pos, _rule, planned = _plan(uow, proposal_of(case, _market(uow, c)), me.id)
        # a step only the proposer (or nobody active) could sign moves up: no round gets stuck
        for p in planned:
            uow.records.add(ApprovalStep(None, c.id or 0, c.approval_round, p.stage, p.title,
                                         moved_from=",".join(p.moved_from), moved_why=p.why,
                                         or_higher=p.or_higher, rule_version=rs.version or None))
        return {"customer_position": position, "proposer_id": me.id}

    return pipeline.transition(ctx, actor, cid, version, "propose", steps, position)


# ---------------------------------------------------------------- titles and rules (Admin)


def titles(ctx: Context) -> approvals.Titles:
    with ctx.uow() as uow:
        return titles_of(uow)


def _titles_in_use(uow: UnitOfWork) -> set[str]:
    used = {t for u in uow.users.list() for t in u.titles}
    used |= {s.title for r in rule_set_of(uow).rules for s in r.steps}
    return used


def set_titles(ctx: Context, actor: User, defs: Sequence[approvals.TitleDef]) -> None:
    """Save the titles (admins): names, ranks, substitutes, active. A title held by someone
    or named by a rule cannot be dropped (deactivate it instead)."""
    clean = [approvals.TitleDef(d.code.strip(), d.name_zh.strip()[:100], d.name_en.strip()[:100],
                                d.rank, d.substitute.strip(), d.active) for d in defs]
    with ctx.uow(write=True) as uow:
        me = context.require_admin(ctx, uow, actor)
        bad = approvals.titles_problem(clean, _titles_in_use(uow))
        if bad is not None:
            raise InvalidInput(bad[0], **bad[1])
        old = uow.settings.get("titles")
        uow.settings.set("titles", approvals.titles_to_json(clean))
        security.add(uow, ctx.clock(), "titles_changed", me,
                     old=", ".join(f"{x['code']}:{x['rank']}" for x in old or []),
                     new=", ".join(f"{d.code}:{d.rank}" for d in clean))
        uow.commit()


def rule_set(ctx: Context) -> approvals.RuleSet:
    with ctx.uow() as uow:
        return rule_set_of(uow)


def rule_versions(ctx: Context, actor: User) -> list[approvals.RuleSet]:
    """Every saved version of the rules, newest first (admins)."""
    with ctx.uow() as uow:
        context.require_admin(ctx, uow, actor)
        found = uow.records.where(approvals.RuleSetRecord)
    return [approvals.rule_set_of(r) for r in sorted(found, key=lambda r: r.id or 0,
                                                      reverse=True)]


def save_rules(ctx: Context, actor: User, rules: Sequence[approvals.Rule]) -> int:
    """Save the rules as a new version (admins): it applies to rounds started from now on;
    a round under way keeps its steps. Every problem is reported at once; nothing is saved
    while one remains. Returns the new version."""
    clean = tuple(replace(r, name=r.name.strip()[:100]) for r in rules)
    with ctx.uow(write=True) as uow:
        me = context.require_admin(ctx, uow, actor)
        problems = approvals.rules_problems(clean, titles_of(uow))
        if problems:
            errs = [InvalidInput(p.key, rule=p.rule, **p.params) for p in problems]
            raise InvalidInput(errs[0].key, others=errs[1:], **errs[0].params)
        now = ctx.clock()
        version = uow.records.add(approvals.RuleSetRecord(
            None, json.dumps(approvals.rules_to_json(clean), ensure_ascii=False), now, me.id))
        security.add(uow, now, "rules_changed", me, version=version, rules=len(clean))
        uow.commit()
        return version


@dataclass(frozen=True)
class WouldSign:
    """One step of a trial round (the Admin page's "who would sign this?"): the planned step
    (its title, the titles it stands for and why) and the active people who could sign it."""

    step: approvals.PlannedStep
    people: tuple[str, ...]


@dataclass(frozen=True)
class Trial:
    """The answer of the tester: which rule applies (its position and name, in which
    version), and the steps; `rule` 0 when no rule covers the proposal."""

    version: int
    rule: int
    name: str
    steps: list[WouldSign]


def who_would_sign(ctx: Context, actor: User, total: Decimal | str | None,
                   severity: Severity | None, proposer_id: int | None,
                   types: Sequence[DispositionType] = (), kind: str = "complaint",
                   market: str | None = None) -> Trial:
    """The steps the newest rules give a proposal (disposition types, total, severity, kind,
    market) by `proposer_id`, as the round would be planned now (moved steps included), and
    who could sign each. Nothing is written (admins only)."""
    amount = common.amount(total, "amount")
    with ctx.uow() as uow:
        context.require_admin(ctx, uow, actor)
        users = uow.users.list()
        if proposer_id is not None and not any(u.id == proposer_id for u in users):
            raise InvalidInput("err.unknown", field="proposer")
        book = titles_of(uow)
        p = approvals.Proposal(amount, frozenset(t.value for t in types),
                               severity.value if severity else None, kind, market)
        rs = rule_set_of(uow)
        found = rs.rule_for(p)
        if found is None:
            return Trial(rs.version, 0, "", [])
        _rs, pos, rule, plan = _plan(uow, p, proposer_id)
    return Trial(rs.version, pos, rule.name, [
        WouldSign(s, tuple(u.display_name for u in users
                           if u.id != proposer_id and approvals.eligible(u, s.title, s.or_higher,
                                                                         book)))
        for s in plan])


def signing_of(ctx: Context, uow: UnitOfWork, me: User) -> Signing:
    """What deciding "may I sign?" needs, read once (not once per case in a list)."""
    return Signing([u for u in uow.users.list() if u.active],
                   uow.records.where(approvals.Delegation, deputy_id=me.id),
                   context.today(ctx, uow), titles_of(uow))


def can_sign(ctx: Context, uow: UnitOfWork, me: User, case: CaseFile, step: ApprovalStep,
             signing: Signing | None = None) -> tuple[bool, int | None]:
    sg = signing or signing_of(ctx, uow, me)
    return approvals.can_sign(me, step.title, case.complaint.proposer_id, sg.today, sg.users,
                              sg.delegations, approvals.signed_in_round(case.current(case.steps)),
                              sg.titles, step.or_higher)


def my_step(ctx: Context, uow: UnitOfWork, me: User, case: CaseFile,
            signing: Signing | None = None) -> tuple[ApprovalStep | None, int | None]:
    """The step of the pending stage this user may sign now, and for whom (None: none)."""
    sg = signing or signing_of(ctx, uow, me)
    for step in pending_stage(case):
        may, boss = can_sign(ctx, uow, me, case, step, sg)
        if may:
            return step, boss
    return None, None


def _step_to_sign(ctx: Context, uow: UnitOfWork, me: User, case: CaseFile
                  ) -> tuple[ApprovalStep, int | None]:
    """The pending step of the lowest stage this user may sign, and for whom (the workflow's
    guard has checked there is a pending step)."""
    stage = pending_stage(case)
    if not stage:
        raise NotAllowed("why.no_pending_step")
    sg = signing_of(ctx, uow, me)
    for step in stage:
        may, boss = can_sign(ctx, uow, me, case, step, sg)
        if may:
            return step, boss
    raise NotAllowed("why.not_your_step", title=sg.titles.name(stage[0].title, me.language))


def _replan_after(uow: UnitOfWork, case: CaseFile, signed_now: ApprovalStep, signer: int,
                  boss: int | None) -> None:
    """After a signature, a pending step nobody left may sign (its only holder just signed
    another step) moves on like at planning, so the round still finishes."""
    steps = [replace(s, status=StepStatus.APPROVED, decided_by_id=signer, on_behalf_of_id=boss)
             if s.id == signed_now.id else s for s in case.current(case.steps)]
    out = approvals.signed_in_round(steps) | ({case.complaint.proposer_id}
                                              if case.complaint.proposer_id else set())
    users, book = uow.users.list(), titles_of(uow)
    for s in steps:
        if s.status != StepStatus.PENDING:
            continue
        if any(u.id not in out and approvals.eligible(u, s.title, s.or_higher, book)
               for u in users):
            continue
        p = approvals.plan_steps((approvals.RuleStep(s.title, s.or_higher),), out, users, book,
                                 case.complaint.proposer_id)[0]
        if p.title != s.title:
            uow.records.update(replace(s, title=p.title, or_higher=False,
                                       moved_from=",".join((*s.moved_titles, s.title)),
                                       moved_why=p.why))


def approve_step(ctx: Context, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
    """Sign the next pending step; the last signature sends the case to the reply."""

    def sign(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
        step, boss = _step_to_sign(ctx, uow, me, case)
        uow.records.update(
            replace(step, status=StepStatus.APPROVED, decided_by_id=me.id, on_behalf_of_id=boss,
                    decided_at=now, comment=comment.strip()[: common.MAX_TEXT])
        )
        left = [s for s in case.current(case.steps)
                if s.status == StepStatus.PENDING and s.id != step.id]
        if left:
            _replan_after(uow, case, step, me.id, boss)
        values: dict[str, Any] = {} if left else {"state": State.REPLYING}
        if not left:  # explanations need no execution
            for d in case.current(case.dispositions):
                if d.type == DispositionType.EXPLANATION and not d.done:
                    uow.records.update(replace(d, done=True, done_at=now))
        return values

    return pipeline.transition(ctx, actor, cid, version, "approve_step", sign, comment)


def reject_step(ctx: Context, actor: User, cid: int, version: int, reason: str) -> Complaint:
    """Reject: back to sales with the reason; a new round starts from the old proposal."""
    why = common.text(reason, "reason")

    def reject(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
        c = case.complaint
        step, boss = _step_to_sign(ctx, uow, me, case)
        for s in case.current(case.steps):
            if s.status == StepStatus.PENDING:
                done = s.id == step.id
                uow.records.update(
                    replace(s, status=StepStatus.REJECTED if done else StepStatus.VOID,
                            decided_by_id=me.id if done else None,
                            on_behalf_of_id=boss if done else None, decided_at=now,
                            comment=why if done else "")
                )
        nxt = c.approval_round + 1
        for d in case.current(case.dispositions):
            uow.records.add(replace(d, id=None, round=nxt, done=False))
        for line in case.current(case.costs):
            uow.records.add(replace(line, id=None, round=nxt))
        return {"approval_round": nxt}

    return pipeline.transition(ctx, actor, cid, version, "reject_step", reject, why)


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
