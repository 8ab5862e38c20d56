"""The Approve page's cards: the approval steps I may sign now, with what deciding one needs
(docs/procedure.md §6, §9)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.model import (
    ApprovalStep,
    Attachment,
    CaseFile,
    Complaint,
    CostLine,
    Disposition,
    State,
    StepStatus,
    User,
)
from core.usecases import approval, common, context
from core.usecases.context import Context


@dataclass(frozen=True)
class ApprovalCard:
    """What a manager needs to decide one pending step, on a phone."""

    complaint: Complaint
    customer: str
    step: ApprovalStep
    steps: list[ApprovalStep]
    dispositions: list[Disposition]
    costs: list[CostLine]
    total: Decimal
    proposer: str
    root_cause: str
    photos: list[Attachment]
    on_behalf_of: str
    # the steps already decided on this case, every round, oldest first: (step, signer's
    # name, name of the manager a deputy signed for) — earlier signers and their comments
    decided: tuple[tuple[ApprovalStep, str, str], ...] = ()


def pending_approvals(ctx: Context, actor: User, limit: int | None = None) -> list[ApprovalCard]:
    """The steps this user may sign now, with what is needed to decide (Approve page);
    the first `limit` of them when given."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        names = {u.id: u.display_name for u in uow.users.list()}
        customers = {c.id: c.name for c in uow.ref.customers(include_inactive=True)}
        signing = approval.signing_of(ctx, uow, me)
        cases = uow.reads.cases.in_states([State.PENDING_APPROVAL], 10_000_000)
        rounds = {c.id: c.approval_round for c in cases}
        # the pending steps of each case's current round (the lowest stage is signed now)
        pending: dict[int, list[ApprovalStep]] = {}
        for s in uow.records.where(ApprovalStep, status=StepStatus.PENDING):
            if rounds.get(s.complaint_id) == s.round:
                pending.setdefault(s.complaint_id, []).append(s)
        cards: list[ApprovalCard] = []
        for c in cases:  # whole case files only for the steps I may sign (issue #6)
            if c.id not in pending or approval.my_step(
                    ctx, uow, me, CaseFile(c, steps=pending[c.id]), signing)[0] is None:
                continue
            if limit is not None and len(cards) >= limit:
                break
            case = context.load_case(ctx, uow, c.id or 0)
            step, boss = approval.my_step(ctx, uow, me, case, signing)
            if step is None:
                continue
            photos = [a for a in uow.attachments.for_complaint(c.id or 0)
                      if a.content_type.startswith("image/")]
            cards.append(ApprovalCard(
                c, customers.get(c.customer_id, "?"), step, case.current(case.steps),
                case.current(case.dispositions), case.current(case.costs),
                case.disposition_total, names.get(c.proposer_id or 0, "?"),
                common.one_line(c.root_cause or c.no_investigation_reason), photos[:6],
                names.get(boss, "") if boss else "",
                tuple((s, names.get(s.decided_by_id or 0, "?"),
                       names.get(s.on_behalf_of_id, "") if s.on_behalf_of_id else "")
                      for s in sorted(case.steps, key=lambda s: (s.decided_at is None,
                                                                  s.decided_at, s.seq))
                      if s.status in (StepStatus.APPROVED, StepStatus.REJECTED))))
        return cards
