"""The Approve page's cards: the approval steps I may sign now, with what deciding one needs
(docs/procedure.md §6, §9)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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
from core.ports import UnitOfWork
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
        # what is needed to decide only for the steps I may sign (issue #6)
        maybe = [c for c in cases if c.id in pending and approval.my_step(
            ctx, uow, me, CaseFile(c, steps=pending[c.id]), signing)[0] is not None]
        cards: list[ApprovalCard] = []
        at = 0
        while at < len(maybe) and (limit is None or len(cards) < limit):
            # the next cases at once, as many as cards are still wanted (one read per kind
            # of record for a page of cards, not a case file per card)
            batch = maybe[at:] if limit is None else maybe[at:at + limit - len(cards)]
            at += len(batch)
            cards += _cards(ctx, uow, me, signing, batch, names, customers)
        return cards


def _cards(ctx: Context, uow: UnitOfWork, me: User, signing: approval.Signing,
           cases: list[Complaint], names: dict[int, str],
           customers: dict[int, str]) -> list[ApprovalCard]:
    """The cards of those of these cases with a step I may sign, in their order: each
    case's approval steps, dispositions and costs of every round, and its pictures."""
    ids = [c.id or 0 for c in cases]
    steps = _by_case(uow.records.of_cases(ApprovalStep, ids))
    dispositions = _by_case(uow.records.of_cases(Disposition, ids))
    costs = _by_case(uow.records.of_cases(CostLine, ids))
    photos = _by_case([a for a in uow.attachments.for_complaints(ids)
                       if a.content_type.startswith("image/")])
    cards: list[ApprovalCard] = []
    for c in cases:
        cid = c.id or 0
        case = CaseFile(c, dispositions=dispositions.get(cid, []), costs=costs.get(cid, []),
                        steps=steps.get(cid, []))
        step, boss = approval.my_step(ctx, uow, me, case, signing)
        if step is None:
            continue
        cards.append(ApprovalCard(
            c, customers.get(c.customer_id, "?"), step, case.current(case.steps),
            case.current(case.dispositions), case.current(case.costs),
            case.disposition_total, names.get(c.proposer_id or 0, "?"),
            common.one_line(c.root_cause or c.no_investigation_reason), photos.get(cid, [])[:6],
            names.get(boss, "") if boss else "",
            tuple((s, names.get(s.decided_by_id or 0, "?"),
                   names.get(s.on_behalf_of_id, "") if s.on_behalf_of_id else "")
                  for s in sorted(case.steps, key=lambda s: (s.decided_at is None,
                                                              s.decided_at, s.seq))
                  if s.status in (StepStatus.APPROVED, StepStatus.REJECTED))))
    return cards


def _by_case(items: Sequence[Any]) -> dict[int, list[Any]]:
    """Records by their case, each case's in the order given."""
    out: dict[int, list[Any]] = {}
    for x in items:
        out.setdefault(x.complaint_id, []).append(x)
    return out
