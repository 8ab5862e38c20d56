"""The case pipeline every transition goes through: load, version check, workflow check, change,
derive due times, save, one event, notify (docs/architecture.md §3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from core import notify, outbox, sla, workflow
from core.errors import NotFound, StaleCase
from core.model import (
    ApprovalStep,
    CapaAction,
    CaseFile,
    Complaint,
    Disposition,
    Event,
    State,
    StepTime,
    User,
    Value,
)
from core.ports import UnitOfWork
from core.rules import approvals
from core.rules.calendar import WorkCalendar
from core.usecases import common, context, custom_fields
from core.usecases.context import Context

R = TypeVar("R", CapaAction, Disposition)


def transition(ctx: Context, actor: User, complaint_id: int, version: int, action: str,
               change: Callable[[UnitOfWork, CaseFile, User, datetime], dict[str, Any]],
               comment: str = "", records: dict[str, list[Value]] | None = None) -> Complaint:
    """`records`: filled by `change` with what it changed in the case's records (not fields of
    the complaint), written into the same event."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, complaint_id, me)
        c = case.complaint
        check_version(uow, c, version)
        workflow.check(action, case, me, context.workflow_context(ctx, uow))
        values = change(uow, case, me, now)
        target = workflow.BY_ACTION[action].target
        if target is not None and "state" not in values:
            values["state"] = target
        # a field of the factory's own required from a state: not into or past it empty
        custom_fields.check_required(uow, case, values.get("state", c.state))
        new = replace(c, **values, version=c.version + 1, updated_at=now, updated_by_id=me.id)
        changes = {**common.changed(c, values), **(records or {})}
        event = Event(None, complaint_id, now, me.id, action, changes,
                      common.text(comment, "comment", required=False))
        new = derive(ctx, uow, case, replace(case, complaint=new),
                     uow.events.for_complaint(complaint_id), event, now)
        uow.complaints.save(new, version)
        uow.events.add(event)
        # the reason given (a send-back's, a rejection's) goes with the notice (issue #13)
        notify_people(ctx, uow, new, action, me, now,
                      {"reason": event.comment} if event.comment else None)
        uow.commit()
        return new


def record_in_case(ctx: Context, uow: UnitOfWork, kind: type[R],
                   item_id: int) -> tuple[CaseFile, R]:
    """A CAPA action or disposition as read with its case (the case row locked), not
    before: a concurrent change is never lost and a payment never recorded twice."""
    found = uow.records.get(kind, item_id)
    if found is None:
        raise NotFound()
    case = context.load_case(ctx, uow, found.complaint_id)
    items: list[Any] = case.capa if kind is CapaAction else case.dispositions
    fresh: R = next(x for x in items if x.id == item_id)
    return case, fresh


def check_version(uow: UnitOfWork, c: Complaint, version: int) -> None:
    """Optimistic concurrency: the case must be as the user last saw it
    (docs/architecture.md §5)."""
    if c.version != version:
        who = uow.users.get(c.updated_by_id) if c.updated_by_id else None
        raise StaleCase(who=who.display_name if who else "?", at=c.updated_at)


def touch(ctx: Context, uow: UnitOfWork, case: CaseFile, me: User, now: datetime, action: str,
          changes: dict[str, list[Value]], comment: str = "",
          values: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> Complaint:
    """Record a change to a case's records: bump its version, write one event."""
    c = case.complaint
    new = replace(c, **(values or {}), version=c.version + 1, updated_at=now, updated_by_id=me.id)
    event = Event(None, c.id or 0, now, me.id, action, changes, comment)
    fresh = context.load_case(ctx, uow, c.id or 0)  # records added in this unit of work
    new = derive(ctx, uow, case, replace(fresh, complaint=new), uow.events.for_complaint(c.id or 0),
                 event, now)
    uow.complaints.save(new, c.version)
    uow.events.add(event)
    notify_people(ctx, uow, new, action, me, now, extra)
    return new


def notify_people(ctx: Context, uow: UnitOfWork, c: Complaint, action: str, me: User, now: datetime,
                  extra: dict[str, Any] | None = None) -> None:
    """Inbox lines for the people the event concerns (docs/procedure.md §8), then any channels."""
    if action == "verify" and c.state == State.ROOT_CAUSE:
        action = "verify_not_effective"
    elif action == "follow_up" and c.state == State.ROOT_CAUSE:
        action = "not_satisfied"
    # what recipients reads of the case: the complaint as saved and its approval steps as this
    # unit of work left them (an action may have decided one) — not the whole file again
    steps = uow.records.where(ApprovalStep, complaint_id=c.id or 0)
    case = CaseFile(c, steps=steps)
    notes = notify.recipients(action, case, me, uow.users.list(), context.today(ctx, uow),
                              uow.records.where(approvals.Delegation), extra,
                              context.settings_of(ctx, uow).qa_manager_copies)
    deliver(ctx, uow, notes, c, now)


def preferences(uow: UnitOfWork, user_ids: Iterable[int]) -> dict[int, notify.Preferences]:
    """The notice preferences of these users (My account; none stored: everything)."""
    return {i: notify.Preferences.from_stored(uow.settings.get(notify.preference_key(i)))
            for i in set(user_ids)}


def to_inbox(uow: UnitOfWork, notes: list[notify.Note], complaint_id: int | None,
             now: datetime) -> None:
    """The inbox lines of the notes their recipients want in the inbox."""
    prefs = preferences(uow, (n.user_id for n in notes))
    for n in notify.wanted(notes, prefs, "inbox"):
        uow.notifications.add(n.user_id, complaint_id, n.kind, n.params, now)


def deliver(ctx: Context, uow: UnitOfWork, notes: list[notify.Note], c: Complaint,
            now: datetime, tag: str = "") -> None:
    """The notes to the inbox and the channels, as each recipient chose (My account)."""
    to_inbox(uow, notes, c.id, now)
    enqueue(ctx, uow, notes, c, now, tag)


def enqueue(ctx: Context, uow: UnitOfWork, notes: list[notify.Note], c: Complaint, now: datetime,
            tag: str = "") -> None:
    """Hand the notes to the configured channels (e-mail, group robots); none by default.

    One e-mail per recipient who has an address and wants this kind by e-mail at once (not
    in the daily digest), in their language; one message per configured robot per kind of
    note, naming the recipients. The outbox key names the
    event (the case's new version, or `tag`), so queuing the same event twice is a no-op.
    """
    cfg = outbox.ChannelConfig.from_stored(uow.settings.get("channels"))
    if not notes or not cfg.any_enabled:
        return
    event = tag or f"v{c.version}"
    link = outbox.case_link(cfg, c.id)
    users = {u.id: u for u in uow.users.list()}
    if cfg.enabled("email"):
        prefs = preferences(uow, (n.user_id for n in notes))
        for n in notify.wanted(notes, prefs, "email"):
            if prefs[n.user_id].digest:
                continue  # in tomorrow's digest (channels.send_digests)
            u = users.get(n.user_id)
            if u is not None and u.active and u.email:
                lang = u.language.value
                uow.outbox.add(
                    outbox.email(f"email:{c.id}:{event}:{n.kind}:{u.id}", u.email, u.display_name,
                                 lang, outbox.note_text(n.kind, n.params, lang), link),
                    now,
                )
    for kind in dict.fromkeys(n.kind for n in notes):
        same = [n for n in notes if n.kind == kind]
        names = [users[n.user_id].display_name for n in same if n.user_id in users]
        text = outbox.note_text(kind, same[0].params, cfg.robot_language)
        for channel in cfg.robots():
            uow.outbox.add(
                outbox.robot(f"{channel}:{c.id}:{event}:{kind}", channel, cfg.robot_language, text,
                             names, link),
                now,
            )


def due(ctx: Context, uow: UnitOfWork, case: CaseFile, events: list[Event],
        now: datetime) -> tuple[datetime | None, str]:
    """The earliest due time of the case's open steps, to store on the case."""
    dues = sla.due_times(case, events, context.calendar_of(ctx, uow),
                         uow.settings.get("sla_history") or [], now, from_reopening(ctx, uow))
    first = sla.earliest(dues)
    return (first.due, first.step) if first else (None, "")


def from_reopening(ctx: Context, uow: UnitOfWork) -> bool:
    """Whether a reopened case's steps are timed from the reopening (setting reopen_due_from)."""
    return context.settings_of(ctx, uow).reopen_due_from != "first"


def derive(ctx: Context, uow: UnitOfWork, before: CaseFile, after: CaseFile, events: list[Event],
           event: Event, now: datetime) -> Complaint:
    """What the case's action implies beyond itself: the earliest due time of its open
    steps (stored on the case), a StepTime for every timed step the action finished (the
    on-time rate on Stats), and the working days to close once it is closed."""
    cal, history = context.calendar_of(ctx, uow), uow.settings.get("sla_history") or []
    again = from_reopening(ctx, uow)
    c = after.complaint
    dues = sla.due_times(after, [*events, event], cal, history, now, again)
    first = sla.earliest(dues)
    if c.state != State.CANCELLED and event.action != "edited":  # an edit finishes no step
        still = {(d.step, d.started) for d in dues}
        for d in sla.due_times(before, events, cal, history, now, again):
            if (d.step, d.started) not in still:
                uow.records.add(
                    StepTime(None, c.id or 0, d.step, d.started, d.due, now,
                             d.due is None or now <= d.due)
                )
    return replace(c, due_at=first.due if first else None, due_step=first.step if first else "",
                   close_wd=close_days(cal, c))


def close_days(cal: WorkCalendar, c: Complaint) -> Decimal | None:
    """Working days from received to closed (docs/procedure.md §9 "days to close"), 2 decimals."""
    if c.state != State.CLOSED or c.closed_at is None:
        return None
    worked = cal.working_time_between(c.received_at, c.closed_at)
    days = Decimal(worked.total_seconds()) / Decimal(3600) / Decimal(str(cal.hours_per_day))
    return max(days, Decimal(0)).quantize(Decimal("0.01"))
