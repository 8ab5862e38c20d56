"""The context every use case takes (unit of work, clock, blob store, hasher, holidays, sender) and
the small reads they share: the acting user, settings, the working calendar, a case file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from core import settings as settings_mod
from core import workflow
from core.errors import NotAllowed, NotFound
from core.model import (
    ApprovalStep,
    Assist,
    CapaAction,
    CaseFile,
    Containment,
    Complaint,
    CostLine,
    Disposition,
    Role,
    Scope,
    User,
)
from core.ports import (
    BlobStore,
    Clock,
    HolidaySource,
    PasswordHasher,
    Sender,
    UnitOfWork,
    UowFactory,
)
from core.rules import visibility
from core.rules.calendar import WorkCalendar


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Context:
    """What every use case needs from outside, wired once by adapters/wiring.py (or a test):
    the unit-of-work factory, the attachment store, the password hasher, the clock, China's
    official holidays and, for the optional notification channels, a sender."""

    uow: UowFactory
    blobs: BlobStore
    hasher: PasswordHasher
    clock: Clock = field(default=utcnow)
    holidays: HolidaySource | None = None
    sender: Sender | None = None


def acting_user(ctx: Context, uow: UnitOfWork, actor: User) -> User:
    fresh = uow.users.get(actor.id)
    if fresh is None or not fresh.active:
        raise NotAllowed("err.inactive_user")
    return fresh


def require_role(user: User, *roles: Role) -> None:
    if not user.has(*roles):
        raise NotAllowed("err.role_required", roles=",".join(r.value for r in roles))


def settings(ctx: Context) -> settings_mod.Settings:
    with ctx.uow() as uow:
        return settings_of(ctx, uow)


def settings_of(ctx: Context, uow: UnitOfWork) -> settings_mod.Settings:
    return settings_mod.build({k: uow.settings.get(k) for k in settings_mod.DEFAULTS})


def require_admin(ctx: Context, uow: UnitOfWork, actor: User) -> User:
    me = acting_user(ctx, uow, actor)
    require_role(me, Role.ADMIN)
    return me


def scope(ctx: Context, uow: UnitOfWork, me: User) -> Scope | None:
    """Whose cases `me` may see (record-level visibility; None: every case)."""
    return visibility.scope_of(me, settings_of(ctx, uow).record_visibility)


def check_visible(ctx: Context, uow: UnitOfWork, me: User, c: Complaint) -> None:
    """NotFound for a case `me` may not see (as for a case that does not exist: its number
    tells nothing either)."""
    sc = scope(ctx, uow, me)
    if sc is None:
        return
    dept = next((x.department_id for x in uow.ref.customers(include_inactive=True)
                 if x.id == c.customer_id), None)
    helping = [a.department_id for a in uow.records.where(Assist, complaint_id=c.id or 0)
               if a.ended_at is None]
    if not visibility.sees(sc, c, dept, helping):
        raise NotFound()


def assisting_now(uow: UnitOfWork) -> dict[int, set[int]]:
    """Case id -> the departments assisting in it now (for many cases at once)."""
    out: dict[int, set[int]] = {}
    for a in uow.records.where(Assist, ended_at=None):
        out.setdefault(a.complaint_id, set()).add(a.department_id)
    return out


def load_case(ctx: Context, uow: UnitOfWork, complaint_id: int,
              me: User | None = None) -> CaseFile:
    """The case and its records; with `me`, only if they may see it (check_visible)."""
    c = uow.complaints.get(complaint_id)
    if c is None:
        raise NotFound()
    if me is not None:
        check_visible(ctx, uow, me, c)
    r = uow.records
    return CaseFile(c, r.where(CapaAction, complaint_id=complaint_id),
                    r.where(Containment, complaint_id=complaint_id),
                    r.where(Disposition, complaint_id=complaint_id),
                    r.where(CostLine, complaint_id=complaint_id),
                    r.where(ApprovalStep, complaint_id=complaint_id),
                    r.where(Assist, complaint_id=complaint_id))


def workflow_context(ctx: Context, uow: UnitOfWork) -> workflow.Context:
    mode = uow.settings.get("dispatch_approval") or "a_only"
    return workflow.Context(today=today(ctx, uow), dispatch_approval=str(mode))


def today(ctx: Context, uow: UnitOfWork) -> date:
    return ctx.clock().astimezone(settings_of(ctx, uow).tz).date()


def calendar_of(ctx: Context, uow: UnitOfWork) -> WorkCalendar:
    """Working hours, official holidays (package + years entered on Admin), overrides."""
    cfg = settings_of(ctx, uow)
    off, work, years = (
        ctx.holidays.official()
        if ctx.holidays is not None
        else (frozenset(), frozenset(), frozenset())
    )
    entered = uow.settings.get("calendar_years") or {}
    off_set, work_set, year_set = set(off), set(work), set(years)
    for year, sched in entered.items():
        y = int(year)
        off_set = {d for d in off_set if d.year != y} | {
            date.fromisoformat(x) for x in sched.get("off", [])
        }
        work_set = {d for d in work_set if d.year != y} | {
            date.fromisoformat(x) for x in sched.get("work", [])
        }
        year_set.add(y)
    extra_off = {date.fromisoformat(x) for x in uow.settings.get("calendar_extra_off") or []}
    extra_work = {date.fromisoformat(x) for x in uow.settings.get("calendar_extra_work") or []}
    return WorkCalendar(tz=cfg.tz, start=time.fromisoformat(cfg.work_start),
                        end=time.fromisoformat(cfg.work_end), holidays=frozenset(off_set),
                        makeup_days=frozenset(work_set), extra_off=frozenset(extra_off),
                        extra_work=frozenset(extra_work), known_years=frozenset(year_set))


def calendar(ctx: Context) -> WorkCalendar:
    with ctx.uow() as uow:
        return calendar_of(ctx, uow)
