"""Calendar and time-limit settings (Admin), and extensions of a step's due time (延期)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from core import sla
from core.workflow import not_own_department
from core.errors import InvalidInput, NotAllowed
from core.model import Role, State, Title, User
from core.rules.calendar import parse_schedule

if TYPE_CHECKING:
    from core.lifecycle import Lifecycle as _Base
else:
    _Base = object


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


class Timing(_Base):
    """Mixed into core.services.Kesu."""

    def _admin(self, uow: Any, actor: User) -> User:
        me = self._actor(uow, actor)
        if not me.has(Role.ADMIN):
            raise NotAllowed("err.role_required", roles="admin")
        return me

    # ------------------------------------------------------------ calendar

    def _refresh_due_times(self, uow: Any) -> None:
        """The calendar changed: store every open case's due time anew, so the register's
        overdue filter and My Tasks agree with the Complaint page. A derived value, not a
        change by a user: no new version, no event."""
        cal, now = self._calendar(uow), self.clock()
        history = uow.settings.get("sla_history") or []
        for c in uow.complaints.in_states([s for s in State if s.is_open], 1_000_000):
            case = self._case_file(uow, c.id or 0)
            first = sla.earliest(sla.due_times(case, uow.events.for_complaint(c.id or 0), cal,
                                               history, now))
            due_at, step = (first.due, first.step) if first else (None, "")
            if (due_at, step) != (c.due_at, c.due_step):
                uow.complaints.save(replace(case.complaint, due_at=due_at, due_step=step),
                                    c.version)

    def calendar_status(self) -> CalendarStatus:
        with self.uow() as uow:
            cal = self._calendar(uow)
            entered = sorted(int(y) for y in (uow.settings.get("calendar_years") or {}))
            next_year = self.clock().astimezone(cal.tz).year + 1
            return CalendarStatus(sorted(cal.known_years), entered,
                                  not cal.has_data(next_year), sorted(cal.extra_off),
                                  sorted(cal.extra_work))

    def set_calendar_year(self, actor: User, year: int, schedule: str) -> int:
        """Enter (or paste) a year's official schedule: days off and make-up working days."""
        with self.uow(write=True) as uow:
            self._admin(uow, actor)
            if not 2000 <= year <= 2100:
                raise InvalidInput("err.year_range")
            try:
                off, work = parse_schedule(schedule)
            except ValueError as e:
                raise InvalidInput("err.schedule", why=str(e)) from e
            if not off or any(d.year != year for d in off | work):
                raise InvalidInput("err.schedule_year", year=year)
            years = dict(uow.settings.get("calendar_years") or {})
            years[str(year)] = {"off": sorted(d.isoformat() for d in off),
                                "work": sorted(d.isoformat() for d in work)}
            uow.settings.set("calendar_years", years)
            self._refresh_due_times(uow)
            uow.commit()
            return len(off) + len(work)

    def set_calendar_overrides(self, actor: User, extra_off: str, extra_work: str) -> None:
        """Company days off (shutdown weeks) and extra working days, as dates or ranges."""
        with self.uow(write=True) as uow:
            self._admin(uow, actor)
            try:
                off, _ = parse_schedule("\n".join(f"{x} off" for x in extra_off.split()))
                work, _ = parse_schedule("\n".join(f"{x} off" for x in extra_work.split()))
            except ValueError as e:
                raise InvalidInput("err.schedule", why=str(e)) from e
            if off & work:
                raise InvalidInput("err.schedule", why="both")
            uow.settings.set("calendar_extra_off", sorted(d.isoformat() for d in off))
            uow.settings.set("calendar_extra_work", sorted(d.isoformat() for d in work))
            self._refresh_due_times(uow)
            uow.commit()

    # ------------------------------------------------------------ time limits

    def sla_limits(self) -> dict[str, dict[str, tuple[float, str]]]:
        """The limits in force now (new steps are timed by these)."""
        with self.uow() as uow:
            return sla.limits_in_force(uow.settings.get("sla_history") or [], self.clock())

    def set_sla_limits(self, actor: User, limits: dict[str, dict[str, tuple[float, str]]]
                       ) -> None:
        """New limits apply to steps started from now on; running steps keep theirs."""
        with self.uow(write=True) as uow:
            self._admin(uow, actor)
            clean: dict[str, dict[str, list[Any]]] = {}
            for step, by in limits.items():
                if step not in sla.DEFAULT_LIMITS:
                    raise InvalidInput("err.sla_invalid", why=step)
                clean[step] = {}
                for sev, (amount, unit) in by.items():
                    if sev not in ("*", "A", "B", "C", "D") or unit not in sla.UNITS \
                            or not 0 < float(amount) <= 1000:
                        raise InvalidInput("err.sla_invalid", why=f"{step}/{sev}")
                    clean[step][sev] = [float(amount), unit]
            history = list(uow.settings.get("sla_history") or [])
            history.append({"from": self.clock().isoformat(), "limits": clean})
            uow.settings.set("sla_history", history)
            uow.commit()

    # ------------------------------------------------------------ extensions (延期)

    def pending_extension(self, actor: User, cid: int) -> ExtensionRequest | None:
        with self.uow() as uow:
            self._actor(uow, actor)
            names = {u.id: u.display_name for u in uow.users.list()}
            pending = None
            for e in uow.events.for_complaint(cid):
                if e.action == "extension_requested":
                    pending = ExtensionRequest(
                        str(e.changes["step"][1]),
                        datetime.fromisoformat(str(e.changes["due"][1])), e.comment,
                        names.get(e.user_id, "?"), e.at)
                elif e.action in ("extension_granted", "extension_refused"):
                    pending = None
            return pending

    def request_extension(self, actor: User, cid: int, version: int, step: str,
                          new_due: datetime, reason: str) -> None:
        """The holder of an open step asks for a later due time, with a reason."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case = self._case_file(uow, cid)
            dues = {d.step: d for d in sla.due_times(case, uow.events.for_complaint(cid),
                                                    self._calendar(uow),
                                                    uow.settings.get("sla_history") or [], now)}
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
            self._check_version(uow, case, version)
            self._touch(uow, case, me, now, "extension_requested",
                        {"step": [None, step], "due": [None, new_due.isoformat()]},
                        reason.strip()[:2000])
            uow.commit()

    def decide_extension(self, actor: User, cid: int, version: int, grant: bool,
                         comment: str = "", customer_informed: bool = False) -> None:
        """QA manager or management grants or refuses; whether the customer was told is kept."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            if not (me.has(Role.MANAGEMENT) or me.title == Title.QA_MANAGER):
                raise NotAllowed("why.extension_decider")
            case = self._case_file(uow, cid)
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
            self._check_version(uow, case, version)
            self._touch(uow, case, me, now, "extension_granted" if grant else "extension_refused",
                        {"step": [None, str(req.changes["step"][1])],
                         "due": [None, str(req.changes["due"][1])],
                         "customer_informed": [None, "yes" if customer_informed else "no"]},
                        comment.strip()[:2000], extra={"requester_id": req.user_id,
                                                       "step": str(req.changes["step"][1])})
            uow.commit()
