"""Use cases from the reply to closure: reply, execution, verification, follow-up, cancel, merge,
reopen, hold (docs/procedure.md §5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.errors import InvalidInput, NotAllowed
from core.model import (
    CaseFile,
    Complaint,
    Disposition,
    DispositionType,
    Event,
    Kind,
    Payment,
    PaymentMethod,
    ReplyMethod,
    Role,
    Satisfaction,
    State,
    User,
    Validity,
    stored,
)
from core import workflow
from core.ports import UnitOfWork
from core.usecases import common, context, pipeline
from core.usecases.context import Context

# methods that leave a paper trail to quote: a voucher or document number is required
VOUCHERED = frozenset({PaymentMethod.BANK_TRANSFER, PaymentMethod.CHEQUE,
                       PaymentMethod.CREDIT_NOTE, PaymentMethod.INVOICE_DEDUCTION})

EXECUTED_BY = {
    DispositionType.COMPENSATION: (Role.FINANCE, Role.MANAGEMENT),
    DispositionType.REWORK: (Role.PRODUCTION, Role.QA, Role.MANAGEMENT),
    DispositionType.REPLACEMENT: (Role.PRODUCTION, Role.SALES, Role.MANAGEMENT),
    DispositionType.RETURN: (Role.PRODUCTION, Role.QA, Role.MANAGEMENT),
    DispositionType.EXPLANATION: (Role.SALES, Role.MANAGEMENT),
}


def execution_problem(case: CaseFile, me: User, kind: DispositionType) -> str | None:
    """Why `me` may not record this disposition as executed, or None. The roles the
    execution names may; production only for a case of its own department (issue #11: a
    production user of another department recorded a rework as done)."""
    roles = EXECUTED_BY[kind]
    if not me.has(*roles):
        return "why.wrong_role"
    if me.has(*(r for r in roles if r != Role.PRODUCTION)):
        return None
    return workflow.not_own_department(case, me)


def record_customer_ack(ctx: Context, actor: User, cid: int, at: datetime,
                        method: str) -> Complaint:
    """ISO 10002 §8.4: when and how the customer was told we received the complaint."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, cid, me)
        if not me.has(Role.SALES, Role.MANAGEMENT) or not case.complaint.state.is_open:
            raise NotAllowed("why.wrong_role")
        if at > now + timedelta(minutes=5):
            raise InvalidInput("err.future_date", field="customer_ack_at")
        how = common.text(method, "customer_ack_method")[:100]
        new = pipeline.touch(
            ctx, uow, case, me, now, "customer_acknowledged",
            {"customer_ack_at": [None, stored(at)], "customer_ack_method": [None, how]},
            values={"customer_ack_at": at, "customer_ack_method": how})
        uow.commit()
        return new


def reply(ctx: Context, actor: User, cid: int, version: int, day: date, method: ReplyMethod,
          text: str) -> Complaint:
    """The formal reply; suggestions/inquiries close, invalid cases go to follow-up."""
    body = common.text(text, "reply_text")

    def answer(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
        c = case.complaint
        if day > context.today(ctx, uow):
            raise InvalidInput("err.future_date", field="reply_date")
        values: dict[str, Any] = {"reply_date": day, "reply_method": method, "reply_text": body}
        if c.kind != Kind.COMPLAINT:
            values.update(state=State.CLOSED, closed_at=now)
        elif c.validity == Validity.INVALID:
            values["state"] = State.FOLLOW_UP
        else:
            values["state"] = State.IMPLEMENTING
        return values

    return pipeline.transition(ctx, actor, cid, version, "reply", answer)


def record_execution(ctx: Context, actor: User, disposition_id: int, quantity: int | None,
                     note: str) -> Complaint:
    """Finance records payment; production records rework / replacement / return done."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case, d = pipeline.record_in_case(ctx, uow, Disposition, disposition_id)
        if case.complaint.state != State.IMPLEMENTING:
            raise NotAllowed("why.wrong_state", state=case.complaint.state.value)
        why = execution_problem(case, me, d.type)
        if why is not None:
            raise NotAllowed(why)
        if d.done:
            raise InvalidInput("err.already_done")
        if quantity is not None and quantity < 0:
            raise InvalidInput("err.quantity", field="quantity")
        text = common.text(note, "note", required=False)
        uow.records.update(
            replace(d, done=True, done_qty=quantity, done_note=text, done_by_id=me.id, done_at=now)
        )
        done = f"{quantity if quantity is not None else ''} {d.amount}".strip()
        new = pipeline.touch(ctx, uow, case, me, now, "execution_recorded",
                             {d.type.value: [None, done]}, text)
        uow.commit()
        return new


def record_payment(ctx: Context, actor: User, disposition_id: int, paid_on: date,
                   amount: Decimal | str | None, method: PaymentMethod,
                   voucher: str = "") -> Complaint:
    """Finance records one instalment of an approved compensation (a transfer, cash, a cheque,
    a credit note, a deduction from the next invoice). Instalments never add up to more than
    the approved amount; when they reach it, the compensation is done (issue #12)."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case, d = pipeline.record_in_case(ctx, uow, Disposition, disposition_id)
        context.check_visible(ctx, uow, me, case.complaint)
        if case.complaint.state != State.IMPLEMENTING:
            raise NotAllowed("why.wrong_state", state=case.complaint.state.value)
        if d.type != DispositionType.COMPENSATION:
            raise InvalidInput("err.payment_not_compensation")
        why = execution_problem(case, me, d.type)
        if why is not None:
            raise NotAllowed(why)
        if d.done:
            raise InvalidInput("err.already_done")
        paid = common.amount(amount, "amount")
        if paid <= 0:
            raise InvalidInput("err.amount", field="amount")
        if paid_on > context.today(ctx, uow):
            raise InvalidInput("err.future_date", field="paid_on")
        note = common.text(voucher, "voucher", required=method in VOUCHERED)[:100]
        before = sum((p.amount for p in uow.records.where(Payment, disposition_id=d.id)),
                     Decimal("0"))
        left = d.amount - before
        if paid > left:
            raise InvalidInput("err.payment_above", left=f"{left:,.2f}",
                               approved=f"{d.amount:,.2f}")
        uow.records.add(Payment(None, d.complaint_id, d.id or 0, paid_on, paid, method, note,
                                me.id or 0, now))
        total = before + paid
        if total == d.amount:
            uow.records.update(replace(d, done=True, done_by_id=me.id, done_at=now,
                                       done_note=note))
        new = pipeline.touch(ctx, uow, case, me, now, "payment_recorded",
                             {"payment": [None, f"{paid} {method.value} {note}".strip()],
                              "paid_total": [stored(before), stored(total)]})
        uow.commit()
        return new


def payments(ctx: Context, actor: User, complaint_id: int) -> list[Payment]:
    """The instalments recorded for a case, oldest first."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        context.load_case(ctx, uow, complaint_id, me)
        return uow.records.where(Payment, complaint_id=complaint_id)


def complete(ctx: Context, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
    """All actions done and dispositions executed: hand to QA for the effectiveness check."""
    return pipeline.transition(ctx, actor, cid, version, "complete", lambda *a: {}, comment)


def verify(ctx: Context, actor: User, cid: int, version: int, effective: bool | None,
           note: str = "", schedule_days: int | None = None) -> Complaint:
    """效果确认: effective → follow-up; not effective → root cause again; or schedule the
    check N working days ahead (the case waits in `verifying`)."""

    def decide(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
        if schedule_days is not None:
            if not 1 <= schedule_days <= 365:
                raise InvalidInput("err.days_range")
            cal = context.calendar_of(ctx, uow)  # N working days, on the working calendar
            day = cal.add_working_time(now, days=schedule_days).astimezone(cal.tz).date()
            return {"verify_after": day}
        if effective is None:
            raise InvalidInput("err.required", field="verdict")
        if effective:
            return {"verified_effective": True, "state": State.FOLLOW_UP, "verify_after": None}
        common.text(note, "reason")
        # back to the analysis: the next proposal is a new approval round, so what was
        # approved and executed stays on record in its own round
        return {
            "verified_effective": False,
            "state": State.ROOT_CAUSE,
            "verify_after": None,
            "approval_round": case.complaint.approval_round + 1,
        }

    return pipeline.transition(ctx, actor, cid, version, "verify", decide, note)


def follow_up(ctx: Context, actor: User, cid: int, version: int, *, day: date, contact: str,
              score: int, satisfaction: Satisfaction, notes: str = "", lessons: str = "",
              standard_doc: str = "") -> Complaint:
    """回访: satisfied (or partly) closes with lessons learned; not satisfied reopens the
    analysis (直到客户满意)."""
    if not 1 <= score <= 5:
        raise InvalidInput("err.score_range")

    def record(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
        if day > context.today(ctx, uow):
            raise InvalidInput("err.future_date", field="followup_date")
        values: dict[str, Any] = {
            "followup_date": day,
            "followup_contact": common.short(contact),
            "satisfaction_score": score,
            "satisfaction": satisfaction,
            "followup_notes": common.text(notes, "notes", required=False),
        }
        if satisfaction == Satisfaction.NOT_SATISFIED:
            values.update(state=State.ROOT_CAUSE, reopen_count=case.complaint.reopen_count + 1,
                          approval_round=case.complaint.approval_round + 1)
        else:
            values.update(state=State.CLOSED, closed_at=now,
                          lessons_learned=common.text(lessons, "lessons_learned", required=False),
                          standard_doc=common.short(standard_doc))
        return values

    return pipeline.transition(ctx, actor, cid, version, "follow_up", record, notes)


def cancel(ctx: Context, actor: User, cid: int, version: int, reason: str) -> Complaint:
    """撤销: sales before investigation, management any time; the case stays visible."""
    why = common.text(reason, "cancel_reason")
    return pipeline.transition(ctx, actor, cid, version, "cancel",
                               lambda *a: {"cancel_reason": why}, why)


def merge(ctx: Context, actor: User, cid: int, version: int, into_number: str,
          reason: str = "") -> Complaint:
    """Merge a duplicate into another case: cancelled as duplicate, linked, history kept."""

    def link(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
        target = uow.complaints.by_number(into_number.strip().upper())
        if target is None or target.id == case.complaint.id:
            raise InvalidInput("err.unknown", field="merge_target")
        if target.state == State.CANCELLED:
            raise InvalidInput("err.merge_into_cancelled")
        uow.events.add(
            Event(None, target.id or 0, now, me.id, "merged_in",
                  {"duplicate": [None, case.complaint.number]}, reason.strip())
        )
        return {
            "merged_into_id": target.id,
            "no_investigation_by_id": me.id,
            "no_investigation_reason": f"duplicate:{target.number}",
            "cancel_reason": f"duplicate:{target.number}",
        }

    return pipeline.transition(ctx, actor, cid, version, "merge", link, reason)


def reopen(ctx: Context, actor: User, cid: int, version: int, reason: str) -> Complaint:
    """The same issue came back: a closed case returns to root-cause analysis."""
    why = common.text(reason, "reason")
    return pipeline.transition(ctx, actor, cid, version, "reopen", lambda u, case, me, now: {
        "reopen_count": case.complaint.reopen_count + 1,
        "approval_round": case.complaint.approval_round + 1,
        "closed_at": None,
    }, why)


def hold(ctx: Context, actor: User, cid: int, version: int, reason: str) -> Complaint:
    """Waiting for the customer (samples, photos, returned goods): the clock pauses."""
    why = common.text(reason, "hold_reason")
    return pipeline.transition(ctx, actor, cid, version, "hold",
                               lambda u, case, me, now: {"on_hold_since": now, "hold_reason": why},
                               why)


def resume(ctx: Context, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
    return pipeline.transition(ctx, actor, cid, version, "resume",
                               lambda *a: {"on_hold_since": None, "hold_reason": ""}, comment)


