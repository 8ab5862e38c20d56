"""Meetings (会议记录, seed 4.2.1) whose corrective and preventive action items become CAPA
actions, the first meeting's due time, and the responsibility assessment (责任考核) management
records (docs/procedure.md §5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from core import workflow
from core.errors import InvalidInput, NotAllowed
from core.model import (
    Assessment,
    CapaAction,
    CapaType,
    Complaint,
    DispositionType,
    Guest,
    Meeting,
    MeetingItem,
    Role,
    User,
    Value,
)
from core.ports import UnitOfWork
from core.rules import meetings as rules
from core.rules.calendar import WorkCalendar
from core.rules.meetings import ItemDraft
from core.usecases import common, context, pipeline
from core.usecases.context import Context


# an action item as the callers send it: (text, owner, due) is a corrective one, as before
ItemInput = ItemDraft | tuple[str, int | None, date | None]


def add_meeting(ctx: Context, actor: User, cid: int, day: date, attendee_ids: Sequence[int],
                decisions: str, action_items: Sequence[ItemInput] = (), *,
                guests: Sequence[tuple[str, str]] = (), department_id: int | None = None,
                direction: DispositionType | None = None) -> Complaint:
    """会议记录 (seed 4.2.1): attendees from the users and typed ones (name, company /
    department), the minutes, the responsible department and disposition direction decided,
    and typed action items with owner and due date — the corrective and preventive ones become
    CAPA actions. Checked as a whole: every problem is told at once and nothing is saved."""
    now = ctx.clock()
    items = [x if isinstance(x, ItemDraft) else ItemDraft(*x) for x in action_items]
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
        users = uow.users.list()
        problems: list[InvalidInput] = []
        typed: tuple[Guest, ...] = ()
        try:
            typed = rules.guests(guests)
        except InvalidInput as e:
            problems.append(e)
        known = {u.id for u in users}
        if not attendee_ids and not typed:
            problems.append(InvalidInput("err.meeting_no_attendee"))
        elif not set(attendee_ids) <= known:
            problems.append(InvalidInput("err.unknown", field="attendees"))
        if day > context.today(ctx, uow):
            problems.append(InvalidInput("err.future_date", field="meeting_date"))
        if not (decisions or "").strip():
            problems.append(InvalidInput("err.required", field="decisions"))
        if department_id is not None and department_id not in {
                d.id for d in uow.ref.departments()}:
            problems.append(InvalidInput("err.unknown", field="responsible_department"))
        problems += rules.item_problems(items, context.today(ctx, uow),
                                        frozenset(u.id for u in users if u.active))
        if problems:
            raise InvalidInput(problems[0].key, others=problems[1:], **problems[0].params)
        text = common.text(decisions, "decisions")
        mid = uow.records.add(Meeting(None, cid, day, tuple(dict.fromkeys(attendee_ids)), text,
                                      me.id, now, typed, department_id, direction))
        for seq, item in enumerate(items, start=1):
            desc, owner, due = item.description.strip(), item.owner_id or 0, item.due_date
            assert due is not None  # checked above
            capa_id = None
            if item.type in rules.CAPA_ITEMS:
                capa_id = uow.records.add(CapaAction(None, cid, CapaType(item.type.value), desc,
                                                     owner, due))
            uow.records.add(MeetingItem(None, cid, mid, seq, item.type, desc, owner, due,
                                        capa_id))
        changes: dict[str, list[Value]] = {"meeting": [None, day.isoformat()],
                                           "action_items": [None, len(items)]}
        if department_id is not None:
            changes["meeting_department"] = [None, str(department_id)]
        if direction is not None:
            changes["direction"] = [None, direction.value]
        new = pipeline.touch(ctx, uow, case, me, now, "meeting_recorded", changes, text)
        uow.commit()
        return new


def meetings(ctx: Context, actor: User, cid: int) -> list[Meeting]:
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        context.load_case(ctx, uow, cid, me)  # only a case they may see
        return uow.records.where(Meeting, complaint_id=cid)


def meeting_items(ctx: Context, actor: User, cid: int) -> list[MeetingItem]:
    """The action items of the case's meetings, by meeting and order."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        context.load_case(ctx, uow, cid, me)
        return sorted(uow.records.where(MeetingItem, complaint_id=cid),
                      key=lambda x: (x.meeting_id, x.seq))


def first_meeting_due(ctx: Context, actor: User, cid: int) -> datetime | None:
    """When the case's first meeting is due (setting `first_meeting_days`), while it still
    waits for one; None otherwise."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, cid, me)
        return first_meeting_due_in(ctx, uow, case.complaint)


def first_meeting_due_in(ctx: Context, uow: UnitOfWork, c: Complaint, days: int | None = None,
                         cal: WorkCalendar | None = None) -> datetime | None:
    """The same, inside a unit of work (`days`, `cal`: the setting and calendar, when the caller
    has them already)."""
    days = context.settings_of(ctx, uow).first_meeting_days if days is None else days
    if not rules.first_meeting_pending(c.kind, c.state, days, held=False):
        return None
    events = uow.events.for_complaint(c.id or 0)
    if any(e.action == "meeting_recorded" for e in events):
        return None
    sent = next((e.at for e in events if e.action == "dispatch"), None)
    if sent is None:
        return None
    return rules.first_meeting_due(sent, days, cal or context.calendar_of(ctx, uow))


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
