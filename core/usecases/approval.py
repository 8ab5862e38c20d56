"""Use cases of dispositions and their approval (核决): propose, sign, reject
(docs/procedure.md §6). The titles and rules that decide the steps: authority; deputies:
delegation; the Approve page's cards: approve_queue."""

from __future__ import annotations

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
    State,
    StepStatus,
    User,
    stored,
)
from core.ports import UnitOfWork
from core.rules import approvals
from core.usecases import authority, common, context, pipeline
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


def proposal_of(case: CaseFile, customer_market: str | None = None) -> approvals.Proposal:
    c = case.complaint
    return approvals.Proposal(
        case.disposition_total, frozenset(d.type.value for d in case.current(case.dispositions)),
        c.effective_severity.value if c.effective_severity else None, c.kind.value,
        customer_market)


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
        rs, _pos, _rule, planned = authority.plan_for(uow, proposal_of(case, _market(uow, c)),
                                                      me.id)
        # a step only the proposer (or nobody active) could sign moves up: no round gets stuck
        for p in planned:
            uow.records.add(ApprovalStep(None, c.id or 0, c.approval_round, p.stage, p.title,
                                         moved_from=",".join(p.moved_from), moved_why=p.why,
                                         or_higher=p.or_higher, rule_version=rs.version or None))
        return {"customer_position": position, "proposer_id": me.id}

    return pipeline.transition(ctx, actor, cid, version, "propose", steps, position)


def signing_of(ctx: Context, uow: UnitOfWork, me: User) -> Signing:
    """What deciding "may I sign?" needs, read once (not once per case in a list)."""
    return Signing([u for u in uow.users.list() if u.active],
                   uow.records.where(approvals.Delegation, deputy_id=me.id),
                   context.today(ctx, uow), authority.titles_of(uow))


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
    users, book = uow.users.list(), authority.titles_of(uow)
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
