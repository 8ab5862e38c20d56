"""Meetings (会议记录) whose action items become CAPA actions, and the responsibility
assessment (责任考核) management records (docs/procedure.md §5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from core import workflow
from core.errors import InvalidInput, NotAllowed
from core.model import (
    Assessment,
    CapaAction,
    CapaType,
    Complaint,
    Meeting,
    Role,
    User,
)
from core.usecases import common, context, investigation, pipeline
from core.usecases.context import Context


def add_meeting(ctx: Context, actor: User, cid: int, day: date, attendee_ids: Sequence[int],
                decisions: str, action_items: Sequence[tuple[str, int, date]] = ()) -> Complaint:
    """会议记录; each action item (text, owner, due) becomes a corrective CAPA action."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, cid, me)
        if not case.complaint.state.is_open:
            raise NotAllowed("why.wrong_state", state=case.complaint.state.value)
        if not me.has(Role.SALES, Role.QA, Role.PRODUCTION, Role.MANAGEMENT):
            raise NotAllowed("why.wrong_role")
        outside = workflow.not_own_department(case, me)  # its items become CAPA actions
        if outside:
            raise NotAllowed(outside)
        if day > context.today(ctx, uow):
            raise InvalidInput("err.future_date", field="meeting_date")
        known = {u.id for u in uow.users.list()}
        if not attendee_ids or not set(attendee_ids) <= known:
            raise InvalidInput("err.required", field="attendees")
        text = common.text(decisions, "decisions")
        for desc, owner, due in action_items:
            investigation.check_capa(ctx, uow, desc, owner, due)
        uow.records.add(Meeting(None, cid, day, tuple(attendee_ids), text, me.id, now))
        for desc, owner, due in action_items:
            uow.records.add(CapaAction(None, cid, CapaType.CORRECTIVE, desc.strip(), owner, due))
        new = pipeline.touch(
            ctx, uow, case, me, now, "meeting_recorded",
            {"meeting": [None, day.isoformat()], "action_items": [None, len(action_items)]}, text)
        uow.commit()
        return new


def meetings(ctx: Context, actor: User, cid: int) -> list[Meeting]:
    with ctx.uow() as uow:
        context.acting_user(ctx, uow, actor)
        return uow.records.where(Meeting, complaint_id=cid)


def add_assessment(ctx: Context, actor: User, cid: int, person: str, decision: str,
                   amount: Decimal | str | None, note: str = "") -> int:
    """责任考核 (management only): none / warning / deduction with amount."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        if not me.has(Role.MANAGEMENT):
            raise NotAllowed("err.role_required", roles="management")
        case = context.load_case(ctx, uow, cid, me)
        if decision not in ("none", "warning", "deduction"):
            raise InvalidInput("err.required", field="assessment")
        money = common.amount(amount, "amount") if decision == "deduction" else Decimal("0")
        if decision == "deduction" and money <= 0:
            raise InvalidInput("err.amount", field="amount")
        new_id = uow.records.add(
            Assessment(None, cid, common.text(person, "person")[:200], decision, money,
                       note.strip()[: common.MAX_TEXT], me.id, now)
        )
        # the timeline says an assessment exists, not what it is (management only)
        pipeline.touch(ctx, uow, case, me, now, "assessment_recorded", {})
        uow.commit()
        return new_id


def assessments(ctx: Context, actor: User, cid: int) -> list[Assessment]:
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        if not me.has(Role.MANAGEMENT):
            raise NotAllowed("err.role_required", roles="management")
        return uow.records.where(Assessment, complaint_id=cid)
