"""Use cases of time limits: due times, the working calendar's settings, extensions
(docs/procedure.md §7)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core import sla
from core.errors import InvalidInput, NotAllowed
from core.model import (
    Role,
    State,
    Title,
    User,
)
from core.rules.calendar import parse_schedule
from core.usecases import context, pipeline, security
from core.usecases.context import Context
from core.workflow import not_own_department


@dataclass(frozen=True)
class CalendarStatus:
    known_years: list[int]
    entered_years: list[int]  # years whose schedule admin entered
    missing_next_year: bool  # next year has no official data: due times fall back
    extra_off: list[date]
    extra_work: list[date]


@dataclass(frozen=True)
class ExtensionRequest:
    step: str
    due: datetime
    reason: str
    by: str
    at: datetime


def fill_close_days(ctx: Context, batch: int = 500) -> int:
    """Closed cases from before migration 0006 (or written by other tools) get their
    working days to close; a derived value: no version, no event."""
    filled = 0
    while True:
        with ctx.uow(write=True) as uow:
            cases = uow.complaints.closed_without_days(batch)
            if not cases:
                return filled
            cal = context.calendar_of(ctx, uow)
            for c in cases:
                uow.complaints.save(replace(c, close_wd=pipeline.close_days(cal, c) or Decimal(0)),
                                    c.version)
            uow.commit()
            filled += len(cases)


def due_times(ctx: Context, actor: User, complaint_id: int) -> list[sla.Due]:
    """Every open step of a case with its due time (for the Complaint page)."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, complaint_id, me)
        return sla.due_times(case, uow.events.for_complaint(complaint_id),
                             context.calendar_of(ctx, uow), uow.settings.get("sla_history") or [],
                             ctx.clock(), pipeline.from_reopening(ctx, uow))


def _admin(ctx: Context, uow: Any, actor: User) -> User:
    me = context.acting_user(ctx, uow, actor)
    if not me.has(Role.ADMIN):
        raise NotAllowed("err.role_required", roles="admin")
    return me


def refresh_due_times(ctx: Context, uow: Any) -> None:
    """The calendar changed: store every open case's due time anew, so the register's
    overdue filter and My Tasks agree with the Complaint page. A derived value, not a
    change by a user: no new version, no event."""
    cal, now = context.calendar_of(ctx, uow), ctx.clock()
    history = uow.settings.get("sla_history") or []
    again = pipeline.from_reopening(ctx, uow)
    for c in uow.reads.cases.in_states([s for s in State if s.is_open], 1_000_000):
        case = context.load_case(ctx, uow, c.id or 0)
        first = sla.earliest(
            sla.due_times(case, uow.events.for_complaint(c.id or 0), cal, history, now,
                          again)
        )
        due_at, step = (first.due, first.step) if first else (None, "")
        if (due_at, step) != (c.due_at, c.due_step):
            uow.complaints.save(replace(case.complaint, due_at=due_at, due_step=step), c.version)


def calendar_status(ctx: Context) -> CalendarStatus:
    with ctx.uow() as uow:
        cal = context.calendar_of(ctx, uow)
        entered = sorted(int(y) for y in (uow.settings.get("calendar_years") or {}))
        next_year = ctx.clock().astimezone(cal.tz).year + 1
        return CalendarStatus(sorted(cal.known_years), entered, not cal.has_data(next_year),
                              sorted(cal.extra_off), sorted(cal.extra_work))


def set_calendar_year(ctx: Context, actor: User, year: int, schedule: str) -> int:
    """Enter (or paste) a year's official schedule: days off and make-up working days."""
    with ctx.uow(write=True) as uow:
        _admin(ctx, uow, actor)
        if not 2000 <= year <= 2100:
            raise InvalidInput("err.year_range")
        try:
            off, work = parse_schedule(schedule)
        except ValueError as e:
            raise InvalidInput("err.schedule", why=str(e)) from e
        if not off or any(d.year != year for d in off | work):
            raise InvalidInput("err.schedule_year", year=year)
        years = dict(uow.settings.get("calendar_years") or {})
        years[str(year)] = {
            "off": sorted(d.isoformat() for d in off),
            "work": sorted(d.isoformat() for d in work),
        }
        uow.settings.set("calendar_years", years)
        refresh_due_times(ctx, uow)
        security.add(uow, ctx.clock(), "calendar_changed", actor, year=year, days=len(off | work))
        uow.commit()
        return len(off) + len(work)


def set_calendar_overrides(ctx: Context, actor: User, extra_off: str, extra_work: str) -> None:
    """Company days off (shutdown weeks) and extra working days, as dates or ranges."""
    with ctx.uow(write=True) as uow:
        _admin(ctx, uow, actor)
        try:
            off, _ = parse_schedule("\n".join(f"{x} off" for x in extra_off.split()))
            work, _ = parse_schedule("\n".join(f"{x} off" for x in extra_work.split()))
        except ValueError as e:
            raise InvalidInput("err.schedule", why=str(e)) from e
        if off & work:
            raise InvalidInput("err.schedule", why="both")
        uow.settings.set("calendar_extra_off", sorted(d.isoformat() for d in off))
        uow.settings.set("calendar_extra_work", sorted(d.isoformat() for d in work))
        refresh_due_times(ctx, uow)
        security.add(uow, ctx.clock(), "calendar_changed", actor, off=len(off), work=len(work))
        uow.commit()


def sla_limits(ctx: Context) -> dict[str, dict[str, tuple[float, str]]]:
    """The limits in force now (new steps are timed by these)."""
    with ctx.uow() as uow:
        return sla.limits_in_force(uow.settings.get("sla_history") or [], ctx.clock())


def set_sla_limits(ctx: Context, actor: User,
                   limits: dict[str, dict[str, tuple[float, str]]]) -> None:
    """New limits apply to steps started from now on; running steps keep theirs."""
    with ctx.uow(write=True) as uow:
        _admin(ctx, uow, actor)
        clean: dict[str, dict[str, list[Any]]] = {}
        for step, by in limits.items():
            if step not in sla.DEFAULT_LIMITS:
                raise InvalidInput("err.sla_invalid", why=step)
            clean[step] = {}
            for sev, (amount, unit) in by.items():
                if (
                    sev not in ("*", "A", "B", "C", "D")
                    or unit not in sla.UNITS
                    or not 0 < float(amount) <= 1000
                ):
                    raise InvalidInput("err.sla_invalid", why=f"{step}/{sev}")
                clean[step][sev] = [float(amount), unit]
        history = list(uow.settings.get("sla_history") or [])
        history.append({"from": ctx.clock().isoformat(), "limits": clean})
        uow.settings.set("sla_history", history)
        security.add(uow, ctx.clock(), "limits_changed", actor)
        uow.commit()


def pending_extension(ctx: Context, actor: User, cid: int) -> ExtensionRequest | None:
    with ctx.uow() as uow:
        context.acting_user(ctx, uow, actor)
        names = {u.id: u.display_name for u in uow.users.list()}
        pending = None
        for e in uow.events.for_complaint(cid):
            if e.action == "extension_requested":
                pending = ExtensionRequest(str(e.changes["step"][1]),
                                           datetime.fromisoformat(str(e.changes["due"][1])),
                                           e.comment, names.get(e.user_id, "?"), e.at)
            elif e.action in ("extension_granted", "extension_refused"):
                pending = None
        return pending


def request_extension(ctx: Context, actor: User, cid: int, version: int, step: str,
                      new_due: datetime, reason: str) -> None:
    """The holder of an open step asks for a later due time, with a reason."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, cid, me)
        dues = {
            d.step: d
            for d in sla.due_times(case, uow.events.for_complaint(cid),
                                   context.calendar_of(ctx, uow),
                                   uow.settings.get("sla_history") or [], now,
                                   pipeline.from_reopening(ctx, uow))
        }
        if not me.has(Role.SALES, Role.QA, Role.PRODUCTION, Role.MANAGEMENT):
            raise NotAllowed("why.wrong_role")
        outside = not_own_department(case, me)
        if outside:
            raise NotAllowed(outside)
        if step not in dues:
            raise NotAllowed("why.no_open_step")
        current = dues[step].due
        if new_due.tzinfo is None or new_due <= now or (current and new_due <= current):
            raise InvalidInput("err.extension_date")
        if not reason.strip():
            raise InvalidInput("err.required", field="reason")
        pipeline.check_version(uow, case.complaint, version)
        pipeline.touch(ctx, uow, case, me, now, "extension_requested",
                       {"step": [None, step], "due": [None, new_due.isoformat()]},
                       reason.strip()[:2000])
        uow.commit()


def decide_extension(ctx: Context, actor: User, cid: int, version: int, grant: bool,
                     comment: str = "", customer_informed: bool = False) -> None:
    """QA manager or management grants or refuses; whether the customer was told is kept."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        if not (me.has(Role.MANAGEMENT) or Title.QA_MANAGER in me.titles):
            raise NotAllowed("why.extension_decider")
        case = context.load_case(ctx, uow, cid, me)
        req = None
        for e in uow.events.for_complaint(cid):
            if e.action == "extension_requested":
                req = e
            elif e.action in ("extension_granted", "extension_refused"):
                req = None
        if req is None:
            raise InvalidInput("err.no_extension_request")
        if req.user_id == me.id:
            raise NotAllowed("why.own_extension")
        pipeline.check_version(uow, case.complaint, version)
        pipeline.touch(ctx, uow, case, me, now,
                       "extension_granted" if grant else "extension_refused",
                       {
                           "step": [None, req.changes["step"][1]],
                           "due": [None, req.changes["due"][1]],
                           "customer_informed": [None, customer_informed],
                       },
                       comment.strip()[:2000],
                       extra={"requester_id": req.user_id, "step": str(req.changes["step"][1])},
                   )
        uow.commit()
