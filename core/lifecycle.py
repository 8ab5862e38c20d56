"""Lifecycle use cases (docs/procedure.md §5–6): each action loads the case file, asks the workflow whether
this user may take it now, changes the case, saves it against its version and writes one event.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from core import notify, outbox, sla, workflow
from core.errors import InvalidInput, NotAllowed, NotFound, StaleCase
from core.model import (
    ApprovalStep,
    Assessment,
    Attachment,
    CapaAction,
    CapaType,
    CaseFile,
    Category,
    Complaint,
    Containment,
    ContainmentType,
    CostCategory,
    CostLine,
    Disposition,
    DispositionType,
    Event,
    Kind,
    Meeting,
    Notification,
    ReplyMethod,
    Role,
    Satisfaction,
    Severity,
    SixM,
    State,
    StepStatus,
    StepTime,
    Title,
    User,
    Validity,
)
from core.rules import approvals
from core.rules.calendar import WorkCalendar
from core.rules.severity import escalate

if TYPE_CHECKING:
    from core.ports import BlobStore, HolidaySource, UnitOfWork, UowFactory

MAX_TEXT = 5000
R = TypeVar("R", CapaAction, Disposition)
EXECUTED_BY = {
    DispositionType.COMPENSATION: (Role.FINANCE, Role.MANAGEMENT),
    DispositionType.REWORK: (Role.PRODUCTION, Role.QA, Role.MANAGEMENT),
    DispositionType.REPLACEMENT: (Role.PRODUCTION, Role.SALES, Role.MANAGEMENT),
    DispositionType.RETURN: (Role.PRODUCTION, Role.QA, Role.MANAGEMENT),
    DispositionType.EXPLANATION: (Role.SALES, Role.MANAGEMENT),
}
# CAPA actions are carried out once the plan is approved (owners see them in My Tasks then)
CAPA_WORK = frozenset({State.DISPOSITION, State.PENDING_APPROVAL, State.REPLYING,
                       State.IMPLEMENTING})
WORK_STATES = frozenset({State.INVESTIGATING, State.ROOT_CAUSE, State.CAPA_REVIEW,
                         State.DISPOSITION, State.PENDING_APPROVAL, State.REPLYING,
                         State.IMPLEMENTING, State.VERIFYING})


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
class ActionOption:
    """One action on the Complaint page's panel: allowed now, or why not."""

    action: str
    allowed: bool
    reason: str | None


@dataclass(frozen=True)
class Task:
    """One line of My Tasks: a case waiting for me, and the action it needs."""

    kind: str  # the action / step it waits for
    complaint_id: int
    number: str
    customer_id: int
    severity: Severity | None
    state: State
    received_at: datetime
    summary: str
    since: datetime | None
    due_at: datetime | None = None
    on_hold: bool = False


@dataclass(frozen=True)
class TaskList:
    """My Tasks for one user as of one event (`version`: the newest event id read)."""

    user_id: int
    version: int
    items: tuple[Task, ...]


@dataclass(frozen=True)
class Signing:
    """Active users, my delegations and today: read once per list of approval steps."""

    users: list[User]
    delegations: list[approvals.Delegation]
    today: date


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


class Lifecycle:
    """Mixed into core.services.Kesu; relies on its uow, clock and helpers."""

    uow: UowFactory
    clock: Callable[[], datetime]
    blobs: BlobStore
    holidays: HolidaySource | None

    # ------------------------------------------------------------ helpers (provided by Kesu)

    def _actor(self, uow: UnitOfWork, actor: User) -> User:
        raise NotImplementedError

    def _settings(self, uow: UnitOfWork) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------ reading

    def _case_file(self, uow: UnitOfWork, complaint_id: int) -> CaseFile:
        c = uow.complaints.get(complaint_id)
        if c is None:
            raise NotFound()
        r = uow.records
        return CaseFile(c, r.where(CapaAction, complaint_id=complaint_id),
                        r.where(Containment, complaint_id=complaint_id),
                        r.where(Disposition, complaint_id=complaint_id),
                        r.where(CostLine, complaint_id=complaint_id),
                        r.where(ApprovalStep, complaint_id=complaint_id))

    def _ctx(self, uow: UnitOfWork) -> workflow.Context:
        mode = uow.settings.get("dispatch_approval") or "a_only"
        return workflow.Context(today=self._today(uow), dispatch_approval=str(mode))

    def _today(self, uow: UnitOfWork) -> date:
        return self.clock().astimezone(self._settings(uow).tz).date()

    def case_file(self, actor: User, complaint_id: int) -> CaseFile:
        with self.uow() as uow:
            self._actor(uow, actor)
            return self._case_file(uow, complaint_id)

    def cases_in(self, actor: User, states: Sequence[State],
                 limit: int = 500) -> list[Complaint]:
        """Open cases in some states (the Investigate page's picker), newest first."""
        with self.uow() as uow:
            self._actor(uow, actor)
            return uow.complaints.in_states(states, limit)

    def actions(self, actor: User, complaint_id: int) -> list[ActionOption]:
        """What this user may do on this case now, and why not the rest (the action panel)."""
        with self.uow() as uow:
            me = self._actor(uow, actor)
            case = self._case_file(uow, complaint_id)
            ctx = self._ctx(uow)
            out = [ActionOption(a, why is None, why)
                   for a, why in workflow.available(case, me, ctx)]
            if any(o.action in ("approve_step", "reject_step") and o.allowed for o in out):
                step = _first_pending(case)
                may = step is not None and self._can_sign(uow, me, case, step)[0]
                out = [o if o.action not in ("approve_step", "reject_step") or may
                       else ActionOption(o.action, False, "why.not_your_step") for o in out]
            return out

    # ------------------------------------------------------------ the transition engine

    def _transition(self, actor: User, complaint_id: int, version: int, action: str,
                    change: Callable[[UnitOfWork, CaseFile, User, datetime], dict[str, Any]],
                    comment: str = "") -> Complaint:
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case = self._case_file(uow, complaint_id)
            c = case.complaint
            _check_version(uow, c, version)
            workflow.check(action, case, me, self._ctx(uow))
            values = change(uow, case, me, now)
            target = workflow.BY_ACTION[action].target
            if target is not None and "state" not in values:
                values["state"] = target
            new = replace(c, **values, version=c.version + 1, updated_at=now, updated_by_id=me.id)
            changes = {k: [_show(getattr(c, k)), _show(v)] for k, v in values.items()
                       if getattr(c, k) != v}
            event = Event(None, complaint_id, now, me.id, action, changes,
                          _text(comment, "comment", required=False))
            new = self._derive(uow, case, replace(case, complaint=new),
                               uow.events.for_complaint(complaint_id), event, now)
            uow.complaints.save(new, version)
            uow.events.add(event)
            self._notify(uow, new, action, me, now)
            uow.commit()
            return new

    def _record_in_case(self, uow: UnitOfWork, kind: type[R], item_id: int
                        ) -> tuple[CaseFile, R]:
        """A CAPA action or disposition as read with its case (the case row locked), not
        before: a concurrent change is never lost and a payment never recorded twice."""
        found = uow.records.get(kind, item_id)
        if found is None:
            raise NotFound()
        case = self._case_file(uow, found.complaint_id)
        items: list[Any] = case.capa if kind is CapaAction else case.dispositions
        fresh: R = next(x for x in items if x.id == item_id)
        return case, fresh

    def _check_version(self, uow: UnitOfWork, case: CaseFile, version: int) -> None:
        """Optimistic concurrency: the case must be as the user saw it."""
        c = case.complaint
        if c.version != version:
            who = uow.users.get(c.updated_by_id) if c.updated_by_id else None
            raise StaleCase(who=who.display_name if who else "?", at=c.updated_at)

    def _touch(self, uow: UnitOfWork, case: CaseFile, me: User, now: datetime, action: str,
               changes: dict[str, list[str | None]], comment: str = "",
               values: dict[str, Any] | None = None,
               extra: dict[str, Any] | None = None) -> Complaint:
        """Record a change to a case's records: bump its version, write one event."""
        c = case.complaint
        new = replace(c, **(values or {}), version=c.version + 1, updated_at=now,
                      updated_by_id=me.id)
        event = Event(None, c.id or 0, now, me.id, action, changes, comment)
        fresh = self._case_file(uow, c.id or 0)  # records added in this unit of work
        new = self._derive(uow, case, replace(fresh, complaint=new),
                           uow.events.for_complaint(c.id or 0), event, now)
        uow.complaints.save(new, c.version)
        uow.events.add(event)
        self._notify(uow, new, action, me, now, extra)
        return new

    def _notify(self, uow: UnitOfWork, c: Complaint, action: str, me: User, now: datetime,
                extra: dict[str, Any] | None = None) -> None:
        """Inbox lines for the people the event concerns (docs/procedure.md §8), then any channels."""
        if action == "verify" and c.state == State.ROOT_CAUSE:
            action = "verify_not_effective"
        elif action == "follow_up" and c.state == State.ROOT_CAUSE:
            action = "not_satisfied"
        case = self._case_file(uow, c.id or 0)
        notes = notify.recipients(action, case, me, uow.users.list(), self._today(uow),
                                  uow.records.where(approvals.Delegation), extra)
        for n in notes:
            uow.notifications.add(n.user_id, c.id, n.kind, n.params, now)
        self._enqueue(uow, notes, c, now)

    def _enqueue(self, uow: UnitOfWork, notes: list[notify.Note], c: Complaint,
                 now: datetime, tag: str = "") -> None:
        """Hand the notes to the configured channels (e-mail, group robots); none by default.

        One e-mail per recipient who has an address, in their language; one message per
        configured robot per kind of note, naming the recipients. The outbox key names the
        event (the case's new version, or `tag`), so queuing the same event twice is a no-op.
        """
        cfg = outbox.ChannelConfig.from_stored(uow.settings.get("channels"))
        if not notes or not cfg.any_enabled:
            return
        event = tag or f"v{c.version}"
        link = outbox.case_link(cfg, c.id)
        users = {u.id: u for u in uow.users.list()}
        if cfg.enabled("email"):
            for n in notes:
                u = users.get(n.user_id)
                if u is not None and u.active and u.email:
                    lang = u.language.value
                    uow.outbox.add(outbox.email(
                        f"email:{c.id}:{event}:{n.kind}:{u.id}", u.email, u.display_name, lang,
                        outbox.note_text(n.kind, n.params, lang), link), now)
        for kind in dict.fromkeys(n.kind for n in notes):
            same = [n for n in notes if n.kind == kind]
            names = [users[n.user_id].display_name for n in same if n.user_id in users]
            text = outbox.note_text(kind, same[0].params, cfg.robot_language)
            for channel in cfg.robots():
                uow.outbox.add(outbox.robot(f"{channel}:{c.id}:{event}:{kind}", channel,
                                            cfg.robot_language, text, names, link), now)

    # ------------------------------------------------------------ the inbox

    def inbox(self, actor: User, limit: int = 200) -> list[Notification]:
        with self.uow() as uow:
            me = self._actor(uow, actor)
            return uow.notifications.for_user(me.id, limit)

    def unread_count(self, actor: User) -> int:
        with self.uow() as uow:
            return uow.notifications.unread_count(actor.id)

    def mark_read(self, actor: User, ids: Sequence[int] | None = None) -> int:
        """Mark some (or, with None, all) of my notifications read."""
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            n = uow.notifications.mark_read(me.id, ids, self.clock())
            uow.commit()
            return n

    # ------------------------------------------------------------ calendar and time limits

    def _calendar(self, uow: UnitOfWork) -> WorkCalendar:
        """Working hours, official holidays (package + years entered on Admin), overrides."""
        cfg = self._settings(uow)
        off, work, years = (self.holidays.official() if self.holidays is not None
                            else (frozenset(), frozenset(), frozenset()))
        entered = uow.settings.get("calendar_years") or {}
        off_set, work_set, year_set = set(off), set(work), set(years)
        for year, sched in entered.items():
            y = int(year)
            off_set = {d for d in off_set if d.year != y} | {date.fromisoformat(x)
                                                             for x in sched.get("off", [])}
            work_set = {d for d in work_set if d.year != y} | {date.fromisoformat(x)
                                                               for x in sched.get("work", [])}
            year_set.add(y)
        extra_off = {date.fromisoformat(x) for x in uow.settings.get("calendar_extra_off") or []}
        extra_work = {date.fromisoformat(x)
                      for x in uow.settings.get("calendar_extra_work") or []}
        return WorkCalendar(tz=cfg.tz, start=time.fromisoformat(cfg.work_start),
                            end=time.fromisoformat(cfg.work_end), holidays=frozenset(off_set),
                            makeup_days=frozenset(work_set), extra_off=frozenset(extra_off),
                            extra_work=frozenset(extra_work), known_years=frozenset(year_set))

    def calendar(self) -> WorkCalendar:
        with self.uow() as uow:
            return self._calendar(uow)

    def _due(self, uow: UnitOfWork, case: CaseFile, events: list[Event],
             now: datetime) -> tuple[datetime | None, str]:
        """The earliest due time of the case's open steps, to store on the case."""
        dues = sla.due_times(case, events, self._calendar(uow),
                             uow.settings.get("sla_history") or [], now)
        first = sla.earliest(dues)
        return (first.due, first.step) if first else (None, "")

    def _derive(self, uow: UnitOfWork, before: CaseFile, after: CaseFile, events: list[Event],
                event: Event, now: datetime) -> Complaint:
        """What the case's action implies beyond itself: the earliest due time of its open
        steps (stored on the case), a StepTime for every timed step the action finished (the
        on-time rate on Stats), and the working days to close once it is closed."""
        cal, history = self._calendar(uow), uow.settings.get("sla_history") or []
        c = after.complaint
        dues = sla.due_times(after, [*events, event], cal, history, now)
        first = sla.earliest(dues)
        if c.state != State.CANCELLED and event.action != "edited":  # an edit finishes no step
            still = {(d.step, d.started) for d in dues}
            for d in sla.due_times(before, events, cal, history, now):
                if (d.step, d.started) not in still:
                    uow.records.add(StepTime(None, c.id or 0, d.step, d.started, d.due, now,
                                             d.due is None or now <= d.due))
        return replace(c, due_at=first.due if first else None,
                       due_step=first.step if first else "",
                       close_wd=self._close_days(cal, c))

    @staticmethod
    def _close_days(cal: WorkCalendar, c: Complaint) -> Decimal | None:
        """Working days from received to closed (docs/procedure.md §9 "days to close"), 2 decimals."""
        if c.state != State.CLOSED or c.closed_at is None:
            return None
        worked = cal.working_time_between(c.received_at, c.closed_at)
        days = Decimal(worked.total_seconds()) / Decimal(3600) / Decimal(str(cal.hours_per_day))
        return max(days, Decimal(0)).quantize(Decimal("0.01"))

    def fill_close_days(self, batch: int = 500) -> int:
        """Closed cases from before migration 0006 (or written by other tools) get their
        working days to close; a derived value: no version, no event."""
        filled = 0
        while True:
            with self.uow(write=True) as uow:
                cases = uow.complaints.closed_without_days(batch)
                if not cases:
                    return filled
                cal = self._calendar(uow)
                for c in cases:
                    uow.complaints.save(replace(c, close_wd=self._close_days(cal, c)
                                                or Decimal(0)), c.version)
                uow.commit()
                filled += len(cases)

    def due_times(self, actor: User, complaint_id: int) -> list[sla.Due]:
        """Every open step of a case with its due time (for the Complaint page)."""
        with self.uow() as uow:
            self._actor(uow, actor)
            case = self._case_file(uow, complaint_id)
            return sla.due_times(case, uow.events.for_complaint(complaint_id),
                                 self._calendar(uow), uow.settings.get("sla_history") or [],
                                 self.clock())

    # ------------------------------------------------------------ registration → investigation

    def approve_dispatch(self, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
        """Management approves dispatching a major (A) complaint (docs/procedure.md §5)."""
        return self._transition(actor, cid, version, "approve_dispatch",
                                lambda u, case, me, now: {"dispatch_approved_by_id": me.id},
                                comment)

    def dispatch(self, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
        """发单: the handling form goes to QA."""
        return self._transition(actor, cid, version, "dispatch", lambda *a: {}, comment)

    def route_short(self, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
        """Suggestions and inquiries take the short path straight to the reply."""
        return self._transition(actor, cid, version, "route_short", lambda *a: {}, comment)

    def return_to_sales(self, actor: User, cid: int, version: int, missing: str) -> Complaint:
        """QA returns the handling form: what is missing (驳回/退回补充)."""
        return self._transition(actor, cid, version, "return_to_sales", lambda *a: {},
                                _text(missing, "missing_info"))

    def acknowledge(self, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
        """签收: QA accepts the handling form and starts investigating."""
        return self._transition(actor, cid, version, "acknowledge", lambda *a: {}, comment)

    def classify(self, actor: User, cid: int, version: int, validity: Validity,
                 category: Category | None = None, severity: Severity | None = None,
                 department_id: int | None = None, reason: str = "") -> Complaint:
        """QA decides validity, category, final severity (with recurrence escalation) and the
        responsible department; an invalid complaint goes straight to an explanation."""
        if validity == Validity.INVALID:
            why = _text(reason, "invalid_reason")

            def invalid(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
                return {"validity": Validity.INVALID, "no_investigation_reason": why,
                        "no_investigation_by_id": me.id}
            return self._transition(actor, cid, version, "classify_invalid", invalid, why)
        if category is None:
            raise InvalidInput("err.required", field="category")
        if severity is None:
            raise InvalidInput("err.required", field="severity")
        if department_id is None:
            raise InvalidInput("err.required", field="responsible_department")

        def valid(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
            c = case.complaint
            if department_id not in {d.id for d in uow.ref.departments()}:
                raise InvalidInput("err.unknown", field="responsible_department")
            final, note = severity, ""
            if c.product_code and c.defect_type_id is not None:
                others = uow.complaints.count_same_issue(
                    c.product_code, c.defect_type_id, severity,
                    c.received_at - timedelta(days=30), c.received_at)
                if c.effective_severity == severity:
                    others -= 1  # this case is counted below, once
                final, escalated = escalate(severity, others + 1)
                if escalated:
                    note = f"recurrence:{others + 1}:{severity.value}->{final.value}"
            if final == Severity.A and not case.containment:
                raise NotAllowed("why.containment_missing")
            return {"validity": Validity.VALID, "category": category, "severity": final,
                    "severity_reason": note, "responsible_department_id": department_id}
        return self._transition(actor, cid, version, "classify_valid", valid, reason)

    def add_containment(self, actor: User, cid: int, type_: ContainmentType,
                        quantity: int | None, note: str) -> Complaint:
        """临时对策 with quantities: quarantine stock, sorting, stop shipment."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case = self._case_file(uow, cid)
            self._may_work(me, case, Role.QA, Role.PRODUCTION, Role.MANAGEMENT)
            if quantity is not None and quantity < 0:
                raise InvalidInput("err.quantity", field="quantity")
            text = _text(note, "note", required=False)
            uow.records.add(Containment(None, cid, type_, quantity, text, me.id, now))
            new = self._touch(uow, case, me, now, "containment_added",
                              {"containment": [None, f"{type_.value} {quantity or ''}".strip()]},
                              text)
            uow.commit()
            return new

    # ------------------------------------------------------------ root cause and CAPA

    def save_analysis(self, actor: User, cid: int, version: int, *, prod_line: str = "",
                      prod_shift: str = "", prod_machine: str = "", prod_operator: str = "",
                      prod_date: date | None = None, prod_lot: str = "",
                      whys: Sequence[str] = (), six_m: SixM | None = None,
                      root_cause: str = "") -> Complaint:
        """The responsible department's production facts, 5 Why and 6M root cause."""
        now = self.clock()
        values: dict[str, Any] = {
            "prod_line": _short(prod_line), "prod_shift": _short(prod_shift),
            "prod_machine": _short(prod_machine), "prod_operator": _short(prod_operator),
            "prod_date": prod_date, "prod_lot": _short(prod_lot),
            "root_cause_whys": "\n".join(w.strip().replace("\n", " ") for w in whys
                                         if w.strip())[:MAX_TEXT],
            "root_cause_6m": six_m, "root_cause": _text(root_cause, "root_cause", required=False),
        }
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case = self._case_file(uow, cid)
            c = case.complaint
            _check_version(uow, c, version)
            if c.state != State.ROOT_CAUSE:
                raise NotAllowed("why.wrong_state", state=c.state.value)
            reason = workflow.why_not("submit_analysis", replace(case, capa=[_ANY_CAPA]), me,
                                      self._ctx(uow)) if not me.has(Role.QA) else None
            if reason:
                raise NotAllowed(reason)
            if prod_date is not None and prod_date > self._today(uow):
                raise InvalidInput("err.future_date", field="prod_date")
            changes = {k: [_show(getattr(c, k)), _show(v)] for k, v in values.items()
                       if getattr(c, k) != v}
            new = self._touch(uow, case, me, now, "analysis_saved", changes, values=values)
            uow.commit()
            return new

    def add_capa(self, actor: User, cid: int, type_: CapaType, description: str, owner_id: int,
                 due: date) -> Complaint:
        """A corrective or preventive action, with owner and due date."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case = self._case_file(uow, cid)
            self._may_work(me, case, Role.QA, Role.PRODUCTION, Role.MANAGEMENT)
            self._check_capa(uow, description, owner_id, due)
            uow.records.add(CapaAction(None, cid, type_, description.strip(), owner_id, due))
            new = self._touch(uow, case, me, now, "capa_added",
                              {"capa": [None, description.strip()[:200]]})
            uow.commit()
            return new

    def _check_capa(self, uow: UnitOfWork, description: str, owner_id: int | None,
                    due: date | None) -> None:
        _text(description, "capa_description")
        owner = uow.users.get(owner_id) if owner_id else None
        if owner is None or not owner.active:
            raise InvalidInput("err.required", field="owner")
        if due is None:
            raise InvalidInput("err.required", field="due_date")
        if due < self._today(uow):
            raise InvalidInput("err.past_date", field="due_date")

    def complete_capa(self, actor: User, capa_id: int, evidence: str) -> Complaint:
        """Mark a CAPA action done, with its evidence (owner, department, QA or management)."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case, action = self._record_in_case(uow, CapaAction, capa_id)
            if me.id != action.owner_id:
                self._may_work(me, case, Role.QA, Role.PRODUCTION, Role.MANAGEMENT)
            elif not case.complaint.state.is_open:
                raise NotAllowed("why.wrong_state", state=case.complaint.state.value)
            text = _text(evidence, "evidence")
            uow.records.update(replace(action, status="done", evidence=text, done_at=now))
            new = self._touch(uow, case, me, now, "capa_done",
                              {"capa": [action.description[:200], "done"]}, text)
            uow.commit()
            return new

    def submit_analysis(self, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
        """The responsible department hands root cause and CAPA plan to QA for review."""
        def check(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
            c = case.complaint
            if not c.root_cause.strip() or c.root_cause_6m is None:
                raise InvalidInput("err.required", field="root_cause")
            if not (c.prod_lot or c.prod_date or c.prod_line):
                raise InvalidInput("err.required", field="production_facts")
            return {}
        return self._transition(actor, cid, version, "submit_analysis", check, comment)

    def send_back(self, actor: User, cid: int, version: int, reason: str) -> Complaint:
        """退回重新分析: QA rejects the analysis with a reason; counted for first-time-right."""
        why = _text(reason, "reason")
        return self._transition(
            actor, cid, version, "send_back",
            lambda u, case, me, now: {"sent_back_count": case.complaint.sent_back_count + 1}, why)

    def approve_capa(self, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
        return self._transition(actor, cid, version, "approve_capa", lambda *a: {}, comment)

    # ------------------------------------------------------------ dispositions and approval

    def set_dispositions(self, actor: User, cid: int, version: int,
                         items: Sequence[DispositionInput],
                         costs: Sequence[CostInput] = ()) -> Complaint:
        """Sales' proposal for this round: dispositions with amounts, and cost lines charged to
        the responsible department or a supplier. Replaces the round's draft."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case = self._case_file(uow, cid)
            c = case.complaint
            _check_version(uow, c, version)
            if c.state != State.DISPOSITION or not me.has(Role.SALES):
                raise NotAllowed("why.wrong_state" if c.state != State.DISPOSITION
                                 else "why.wrong_role", state=c.state.value)
            if not items:
                raise InvalidInput("err.required", field="dispositions")
            rnd = c.approval_round
            dispositions = [_disposition(cid, rnd, x) for x in items]
            lines = [_cost(cid, rnd, x, uow) for x in costs]
            for old in case.current(case.dispositions):  # superseded drafts stay recorded
                uow.records.update(replace(old, round=_superseded(rnd)))
            for old_line in case.current(case.costs):
                uow.records.update(replace(old_line, round=_superseded(rnd)))
            for d in dispositions:
                uow.records.add(d)
            for line in lines:
                uow.records.add(line)
            total = sum((d.amount for d in dispositions), Decimal("0"))
            summary = "; ".join(f"{d.type.value} {d.quantity or ''} {d.amount}"
                                for d in dispositions)
            new = self._touch(uow, case, me, now, "dispositions_set",
                              {"dispositions": [None, summary], "total": [None, str(total)]})
            uow.commit()
            return new

    def propose(self, actor: User, cid: int, version: int, customer_position: str) -> Complaint:
        """Submit the dispositions for approval; the matrix decides the steps (docs/procedure.md §6)."""
        position = _text(customer_position, "customer_position")

        def steps(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
            c = case.complaint
            titles = approvals.steps_for(case.disposition_total, c.effective_severity,
                                         self._matrix(uow))
            for i, title in enumerate(titles, 1):
                uow.records.add(ApprovalStep(None, c.id or 0, c.approval_round, i, title))
            return {"customer_position": position, "proposer_id": me.id}
        return self._transition(actor, cid, version, "propose", steps, position)

    def _matrix(self, uow: UnitOfWork) -> tuple[approvals.MatrixRow, ...]:
        stored = uow.settings.get("approval_matrix")
        return approvals.matrix_from_json(stored) if stored else approvals.DEFAULT_MATRIX

    def approval_matrix(self) -> tuple[approvals.MatrixRow, ...]:
        with self.uow() as uow:
            return self._matrix(uow)

    def set_approval_matrix(self, actor: User, rows: list[dict[str, Any]]) -> None:
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            if not me.has(Role.ADMIN):
                raise NotAllowed("err.role_required", roles="admin")
            try:
                matrix = approvals.matrix_from_json(rows)
            except (ValueError, ArithmeticError, TypeError) as e:
                raise InvalidInput("err.matrix_invalid", why=str(e)) from e
            uow.settings.set("approval_matrix", approvals.matrix_to_json(matrix))
            uow.commit()

    def _signing(self, uow: UnitOfWork, me: User) -> Signing:
        """What deciding "may I sign?" needs, read once (not once per case in a list)."""
        return Signing([u for u in uow.users.list() if u.active],
                       uow.records.where(approvals.Delegation, deputy_id=me.id),
                       self._today(uow))

    def _can_sign(self, uow: UnitOfWork, me: User, case: CaseFile, step: ApprovalStep,
                  signing: Signing | None = None) -> tuple[bool, int | None]:
        sg = signing or self._signing(uow, me)
        holders = [u for u in sg.users if u.title == step.title]
        return approvals.can_sign(me, step.title, case.complaint.proposer_id, sg.today,
                                  holders, sg.delegations)

    def approve_step(self, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
        """Sign the next pending step; the last signature sends the case to the reply."""
        def sign(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
            step = _first_pending(case)
            assert step is not None  # the workflow guard checked it
            may, boss = self._can_sign(uow, me, case, step)
            if not may:
                raise NotAllowed("why.not_your_step", title=step.title.value)
            uow.records.update(replace(step, status=StepStatus.APPROVED, decided_by_id=me.id,
                                       on_behalf_of_id=boss, decided_at=now,
                                       comment=comment.strip()[:MAX_TEXT]))
            left = [s for s in case.current(case.steps)
                    if s.status == StepStatus.PENDING and s.id != step.id]
            values: dict[str, Any] = {} if left else {"state": State.REPLYING}
            if not left:  # explanations need no execution
                for d in case.current(case.dispositions):
                    if d.type == DispositionType.EXPLANATION and not d.done:
                        uow.records.update(replace(d, done=True, done_at=now))
            return values
        return self._transition(actor, cid, version, "approve_step", sign, comment)

    def reject_step(self, actor: User, cid: int, version: int, reason: str) -> Complaint:
        """Reject: back to sales with the reason; a new round starts from the old proposal."""
        why = _text(reason, "reason")

        def reject(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
            c = case.complaint
            step = _first_pending(case)
            assert step is not None
            may, boss = self._can_sign(uow, me, case, step)
            if not may:
                raise NotAllowed("why.not_your_step", title=step.title.value)
            for s in case.current(case.steps):
                if s.status == StepStatus.PENDING:
                    done = s.id == step.id
                    uow.records.update(replace(
                        s, status=StepStatus.REJECTED if done else StepStatus.VOID,
                        decided_by_id=me.id if done else None,
                        on_behalf_of_id=boss if done else None, decided_at=now,
                        comment=why if done else ""))
            nxt = c.approval_round + 1
            for d in case.current(case.dispositions):
                uow.records.add(replace(d, id=None, round=nxt, done=False))
            for line in case.current(case.costs):
                uow.records.add(replace(line, id=None, round=nxt))
            return {"approval_round": nxt}
        return self._transition(actor, cid, version, "reject_step", reject, why)

    def set_delegation(self, actor: User, deputy_id: int, start: date, end: date,
                       manager_id: int | None = None) -> int:
        """A manager names a deputy for a date range (admin may do it for anyone)."""
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            boss_id = manager_id or me.id
            if boss_id != me.id and not me.has(Role.ADMIN):
                raise NotAllowed("err.not_allowed")
            boss, deputy = uow.users.get(boss_id), uow.users.get(deputy_id)
            if boss is None or boss.title == Title.NONE:
                raise InvalidInput("err.no_approval_title")
            if deputy is None or not deputy.active or deputy.id == boss.id:
                raise InvalidInput("err.unknown", field="deputy")
            if end < start:
                raise InvalidInput("err.date_order")
            new_id = uow.records.add(approvals.Delegation(None, boss.id, deputy.id, start, end))
            uow.commit()
            return new_id

    def delegations(self, actor: User) -> list[approvals.Delegation]:
        with self.uow() as uow:
            me = self._actor(uow, actor)
            if me.has(Role.ADMIN):
                return uow.records.where(approvals.Delegation)
            return (uow.records.where(approvals.Delegation, manager_id=me.id)
                    + uow.records.where(approvals.Delegation, deputy_id=me.id))

    # ------------------------------------------------------------ reply, execution, closure

    def record_customer_ack(self, actor: User, cid: int, at: datetime, method: str) -> Complaint:
        """ISO 10002 §8.4: when and how the customer was told we received the complaint."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case = self._case_file(uow, cid)
            if not me.has(Role.SALES, Role.MANAGEMENT) or not case.complaint.state.is_open:
                raise NotAllowed("why.wrong_role")
            if at > now + timedelta(minutes=5):
                raise InvalidInput("err.future_date", field="customer_ack_at")
            how = _text(method, "customer_ack_method")[:100]
            new = self._touch(uow, case, me, now, "customer_acknowledged",
                              {"customer_ack_at": [None, _show(at)],
                               "customer_ack_method": [None, how]},
                              values={"customer_ack_at": at, "customer_ack_method": how})
            uow.commit()
            return new

    def reply(self, actor: User, cid: int, version: int, day: date, method: ReplyMethod,
              text: str) -> Complaint:
        """The formal reply; suggestions/inquiries close, invalid cases go to follow-up."""
        body = _text(text, "reply_text")

        def answer(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
            c = case.complaint
            if day > self._today(uow):
                raise InvalidInput("err.future_date", field="reply_date")
            values: dict[str, Any] = {"reply_date": day, "reply_method": method,
                                      "reply_text": body}
            if c.kind != Kind.COMPLAINT:
                values.update(state=State.CLOSED, closed_at=now)
            elif c.validity == Validity.INVALID:
                values["state"] = State.FOLLOW_UP
            else:
                values["state"] = State.IMPLEMENTING
            return values
        return self._transition(actor, cid, version, "reply", answer)

    def record_execution(self, actor: User, disposition_id: int, quantity: int | None,
                         note: str) -> Complaint:
        """Finance records payment; production records rework / replacement / return done."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case, d = self._record_in_case(uow, Disposition, disposition_id)
            if case.complaint.state != State.IMPLEMENTING:
                raise NotAllowed("why.wrong_state", state=case.complaint.state.value)
            if not me.has(*EXECUTED_BY[d.type]):
                raise NotAllowed("why.wrong_role")
            if d.done:
                raise InvalidInput("err.already_done")
            if quantity is not None and quantity < 0:
                raise InvalidInput("err.quantity", field="quantity")
            text = _text(note, "note", required=False)
            uow.records.update(replace(d, done=True, done_qty=quantity, done_note=text,
                                       done_by_id=me.id, done_at=now))
            new = self._touch(uow, case, me, now, "execution_recorded",
                              {d.type.value: [None, f"{quantity if quantity is not None else ''} "
                                                    f"{d.amount}".strip()]}, text)
            uow.commit()
            return new

    def complete(self, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
        """All actions done and dispositions executed: hand to QA for the effectiveness check."""
        return self._transition(actor, cid, version, "complete", lambda *a: {}, comment)

    def verify(self, actor: User, cid: int, version: int, effective: bool | None,
               note: str = "", schedule_days: int | None = None) -> Complaint:
        """效果确认: effective → follow-up; not effective → root cause again; or schedule the
        check N working days ahead (the case waits in `verifying`)."""
        def decide(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
            if schedule_days is not None:
                if not 1 <= schedule_days <= 365:
                    raise InvalidInput("err.days_range")
                cal = self._calendar(uow)  # N working days, on the working calendar
                day = cal.add_working_time(now, days=schedule_days).astimezone(cal.tz).date()
                return {"verify_after": day}
            if effective is None:
                raise InvalidInput("err.required", field="verdict")
            if effective:
                return {"verified_effective": True, "state": State.FOLLOW_UP,
                        "verify_after": None}
            _text(note, "reason")
            # back to the analysis: the next proposal is a new approval round, so what was
            # approved and executed stays on record in its own round
            return {"verified_effective": False, "state": State.ROOT_CAUSE, "verify_after": None,
                    "approval_round": case.complaint.approval_round + 1}
        return self._transition(actor, cid, version, "verify", decide, note)

    def follow_up(self, actor: User, cid: int, version: int, *, day: date, contact: str,
                  score: int, satisfaction: Satisfaction, notes: str = "",
                  lessons: str = "", standard_doc: str = "") -> Complaint:
        """回访: satisfied (or partly) closes with lessons learned; not satisfied reopens the
        analysis (直到客户满意)."""
        if not 1 <= score <= 5:
            raise InvalidInput("err.score_range")

        def record(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
            if day > self._today(uow):
                raise InvalidInput("err.future_date", field="followup_date")
            values: dict[str, Any] = {
                "followup_date": day, "followup_contact": _short(contact),
                "satisfaction_score": score, "satisfaction": satisfaction,
                "followup_notes": _text(notes, "notes", required=False)}
            if satisfaction == Satisfaction.NOT_SATISFIED:
                values.update(state=State.ROOT_CAUSE,
                              reopen_count=case.complaint.reopen_count + 1,
                              approval_round=case.complaint.approval_round + 1)
            else:
                values.update(state=State.CLOSED, closed_at=now,
                              lessons_learned=_text(lessons, "lessons_learned", required=False),
                              standard_doc=_short(standard_doc))
            return values
        return self._transition(actor, cid, version, "follow_up", record, notes)

    def cancel(self, actor: User, cid: int, version: int, reason: str) -> Complaint:
        """撤销: sales before investigation, management any time; the case stays visible."""
        why = _text(reason, "cancel_reason")
        return self._transition(actor, cid, version, "cancel",
                                lambda *a: {"cancel_reason": why}, why)

    def merge(self, actor: User, cid: int, version: int, into_number: str,
              reason: str = "") -> Complaint:
        """Merge a duplicate into another case: cancelled as duplicate, linked, history kept."""
        def link(uow: UnitOfWork, case: CaseFile, me: User, now: datetime) -> dict[str, Any]:
            target = uow.complaints.by_number(into_number.strip().upper())
            if target is None or target.id == case.complaint.id:
                raise InvalidInput("err.unknown", field="merge_target")
            if target.state == State.CANCELLED:
                raise InvalidInput("err.merge_into_cancelled")
            uow.events.add(Event(None, target.id or 0, now, me.id, "merged_in",
                                 {"duplicate": [None, case.complaint.number]}, reason.strip()))
            return {"merged_into_id": target.id, "no_investigation_by_id": me.id,
                    "no_investigation_reason": f"duplicate:{target.number}",
                    "cancel_reason": f"duplicate:{target.number}"}
        return self._transition(actor, cid, version, "merge", link, reason)

    def reopen(self, actor: User, cid: int, version: int, reason: str) -> Complaint:
        """The same issue came back: a closed case returns to root-cause analysis."""
        why = _text(reason, "reason")
        return self._transition(
            actor, cid, version, "reopen",
            lambda u, case, me, now: {"reopen_count": case.complaint.reopen_count + 1,
                                      "approval_round": case.complaint.approval_round + 1,
                                      "closed_at": None}, why)

    def hold(self, actor: User, cid: int, version: int, reason: str) -> Complaint:
        """Waiting for the customer (samples, photos, returned goods): the clock pauses."""
        why = _text(reason, "hold_reason")
        return self._transition(
            actor, cid, version, "hold",
            lambda u, case, me, now: {"on_hold_since": now, "hold_reason": why}, why)

    def resume(self, actor: User, cid: int, version: int, comment: str = "") -> Complaint:
        return self._transition(actor, cid, version, "resume",
                                lambda *a: {"on_hold_since": None, "hold_reason": ""}, comment)

    # ------------------------------------------------------------ meetings and assessment

    def add_meeting(self, actor: User, cid: int, day: date, attendee_ids: Sequence[int],
                    decisions: str,
                    action_items: Sequence[tuple[str, int, date]] = ()) -> Complaint:
        """会议记录; each action item (text, owner, due) becomes a corrective CAPA action."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case = self._case_file(uow, cid)
            if not case.complaint.state.is_open:
                raise NotAllowed("why.wrong_state", state=case.complaint.state.value)
            if not me.has(Role.SALES, Role.QA, Role.PRODUCTION, Role.MANAGEMENT):
                raise NotAllowed("why.wrong_role")
            outside = workflow.not_own_department(case, me)  # its items become CAPA actions
            if outside:
                raise NotAllowed(outside)
            if day > self._today(uow):
                raise InvalidInput("err.future_date", field="meeting_date")
            known = {u.id for u in uow.users.list()}
            if not attendee_ids or not set(attendee_ids) <= known:
                raise InvalidInput("err.required", field="attendees")
            text = _text(decisions, "decisions")
            for desc, owner, due in action_items:
                self._check_capa(uow, desc, owner, due)
            uow.records.add(Meeting(None, cid, day, tuple(attendee_ids), text, me.id, now))
            for desc, owner, due in action_items:
                uow.records.add(CapaAction(None, cid, CapaType.CORRECTIVE, desc.strip(), owner,
                                           due))
            new = self._touch(uow, case, me, now, "meeting_recorded",
                              {"meeting": [None, day.isoformat()],
                               "action_items": [None, str(len(action_items))]}, text)
            uow.commit()
            return new

    def meetings(self, actor: User, cid: int) -> list[Meeting]:
        with self.uow() as uow:
            self._actor(uow, actor)
            return uow.records.where(Meeting, complaint_id=cid)

    def add_assessment(self, actor: User, cid: int, person: str, decision: str,
                       amount: Decimal | str | None, note: str = "") -> int:
        """责任考核 (management only): none / warning / deduction with amount."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            if not me.has(Role.MANAGEMENT):
                raise NotAllowed("err.role_required", roles="management")
            case = self._case_file(uow, cid)
            if decision not in ("none", "warning", "deduction"):
                raise InvalidInput("err.required", field="assessment")
            money = _amount(amount, "amount") if decision == "deduction" else Decimal("0")
            if decision == "deduction" and money <= 0:
                raise InvalidInput("err.amount", field="amount")
            new_id = uow.records.add(Assessment(None, cid, _text(person, "person")[:200],
                                                decision, money, note.strip()[:MAX_TEXT],
                                                me.id, now))
            # the timeline says an assessment exists, not what it is (management only)
            self._touch(uow, case, me, now, "assessment_recorded", {})
            uow.commit()
            return new_id

    def assessments(self, actor: User, cid: int) -> list[Assessment]:
        with self.uow() as uow:
            me = self._actor(uow, actor)
            if not me.has(Role.MANAGEMENT):
                raise NotAllowed("err.role_required", roles="management")
            return uow.records.where(Assessment, complaint_id=cid)

    # ------------------------------------------------------------ My Tasks and Approve

    def tasks(self, actor: User) -> list[Task]:
        """Everything waiting for me: by role, my department, my approval steps."""
        return list(self.task_list(actor).items)

    # more changed cases than this since the last list: read the whole list again
    TASKS_INCREMENTAL_MAX = 200

    def task_list(self, actor: User, previous: TaskList | None = None) -> TaskList:
        """My Tasks as of the newest event. Given the list made for me before, only the cases
        changed since (an event after its version) are looked at again — one change costs a
        few cases, not the thousands a QA engineer may have open. Whatever writes no case
        event (a delegation, a changed title) shows when the caller asks afresh."""
        with self.uow() as uow:
            me = self._actor(uow, actor)
            since = previous.version if previous is not None and previous.user_id == me.id \
                else -1
            newest, changed = uow.events.changed_since(since, self.TASKS_INCREMENTAL_MAX)
            if previous is not None and since >= 0 and newest >= since \
                    and len(changed) <= self.TASKS_INCREMENTAL_MAX:
                kept = [t for t in previous.items if t.complaint_id not in changed]
                fresh = self._task_items(uow, me, changed) if changed else []
                items = kept + fresh
            else:
                items = self._task_items(uow, me, None)
            return TaskList(me.id or 0, newest, tuple(order_tasks(items, self.clock())))

    def _task_items(self, uow: UnitOfWork, me: User, ids: set[int] | None) -> list[Task]:
        """The tasks of every case that can wait for me (`ids`: of those cases only)."""
        ctx = self._ctx(uow)
        signing = self._signing(uow, me)
        out: list[Task] = []
        # every case that can wait for me (no limit: none is missed), and no other
        for c in uow.complaints.in_states(self._task_states(me, signing), 10_000_000, ids=ids):
            case = CaseFile(c)
            kind = self._task_for(uow, me, case, ctx, signing)
            if kind:
                out.append(Task(kind, c.id or 0, c.number, c.customer_id,
                                c.effective_severity, c.state, c.received_at,
                                _summary(c.description), c.updated_at, c.due_at,
                                c.on_hold_since is not None))
        seen = {t.complaint_id for t in out}
        tz = self._settings(uow).tz
        mine = [a for a in uow.records.where(CapaAction, owner_id=me.id, status="open")
                if ids is None or a.complaint_id in ids]
        owned_ids = {a.complaint_id for a in mine} - seen
        by_id = {c.id: c for c in uow.complaints.in_states(
            sorted(CAPA_WORK), 10_000_000, ids=owned_ids)} if owned_ids else {}
        for a in mine:
            owned = by_id.get(a.complaint_id)
            if owned and owned.state in CAPA_WORK and owned.id not in seen:
                seen.add(owned.id or 0)
                out.append(Task("capa_owner", owned.id or 0, owned.number,
                                owned.customer_id, owned.effective_severity, owned.state,
                                owned.received_at, _summary(a.description), owned.updated_at,
                                datetime.combine(a.due_date, time(23, 59), tz)))
        return out

    def _task_states(self, me: User, signing: Signing) -> list[State]:
        """The states in which a case can wait for me: those of the task actions my roles may
        take, and pending approval if I sign a step (my title or a deputy's)."""
        states = {s for a in self._TASK_ACTIONS if me.has(*workflow.BY_ACTION[a].roles)
                  for s in workflow.BY_ACTION[a].sources}
        if me.title != Title.NONE or signing.delegations:
            states.add(State.PENDING_APPROVAL)
        return [s for s in State if s in states]

    _TASK_ACTIONS = ("dispatch", "approve_dispatch", "route_short", "acknowledge",
                     "classify_valid", "submit_analysis", "approve_capa", "propose", "reply",
                     "complete", "verify", "follow_up")

    def _task_for(self, uow: UnitOfWork, me: User, case: CaseFile,
                  ctx: workflow.Context, signing: Signing | None = None) -> str | None:
        c = case.complaint
        if c.state == State.PENDING_APPROVAL:
            if signing is not None and me.title == Title.NONE and not signing.delegations:
                return None  # signs no step, for nobody: no need to read the case's steps
            full = self._case_file(uow, c.id or 0)
            step = _first_pending(full)
            if step is not None and self._can_sign(uow, me, full, step, signing)[0]:
                return "approve_step"
            return None
        if c.on_hold_since:
            return None
        for action in self._TASK_ACTIONS:
            t = workflow.BY_ACTION[action]
            if c.state not in t.sources or c.kind not in t.kinds or not me.has(*t.roles):
                continue
            if action == "submit_analysis" and workflow._of_responsible_department(
                    case, me, ctx) is not None:
                continue
            if action == "complete" and workflow._production_of_responsible_department(
                    case, me, ctx) is not None:
                continue
            if me.has(Role.MANAGEMENT) and action not in ("approve_dispatch",) and not me.has(
                    Role.SALES, Role.QA, Role.PRODUCTION, Role.FINANCE):
                continue  # management acts where authority is needed, not on every step
            if action == "approve_dispatch" and workflow.why_not(action, case, me, ctx):
                continue
            if action == "complete" and me.has(Role.FINANCE) and not me.has(Role.PRODUCTION):
                full = self._case_file(uow, c.id or 0)
                if not any(d.type == DispositionType.COMPENSATION and not d.done
                           for d in full.current(full.dispositions)):
                    continue
                return "record_payment"
            return action
        return None

    def pending_approvals(self, actor: User, limit: int | None = None) -> list[ApprovalCard]:
        """The steps this user may sign now, with what is needed to decide (Approve page);
        the first `limit` of them when given."""
        with self.uow() as uow:
            me = self._actor(uow, actor)
            names = {u.id: u.display_name for u in uow.users.list()}
            customers = {c.id: c.name for c in uow.ref.customers(include_inactive=True)}
            signing = self._signing(uow, me)
            cases = uow.complaints.in_states([State.PENDING_APPROVAL], 10_000_000)
            rounds = {c.id: c.approval_round for c in cases}
            first: dict[int, ApprovalStep] = {}  # the next step of each case's current round
            for s in uow.records.where(ApprovalStep, status=StepStatus.PENDING):
                if rounds.get(s.complaint_id) == s.round and (
                        s.complaint_id not in first or s.seq < first[s.complaint_id].seq):
                    first[s.complaint_id] = s
            cards: list[ApprovalCard] = []
            for c in cases:  # whole case files only for the steps I may sign (issue #6)
                if c.id not in first or not self._can_sign(uow, me, CaseFile(c), first[c.id],
                                                           signing)[0]:
                    continue
                if limit is not None and len(cards) >= limit:
                    break
                case = self._case_file(uow, c.id or 0)
                step = _first_pending(case)
                if step is None:
                    continue
                may, boss = self._can_sign(uow, me, case, step, signing)
                if not may:
                    continue
                photos = [a for a in uow.attachments.for_complaint(c.id or 0)
                          if a.content_type.startswith("image/")]
                cards.append(ApprovalCard(
                    c, customers.get(c.customer_id, "?"), step, case.current(case.steps),
                    case.current(case.dispositions), case.current(case.costs),
                    case.disposition_total, names.get(c.proposer_id or 0, "?"),
                    _one_line(c.root_cause or c.no_investigation_reason), photos[:6],
                    names.get(boss, "") if boss else ""))
            return cards

    # ------------------------------------------------------------ shared checks

    def _may_work(self, me: User, case: CaseFile, *roles: Role) -> None:
        """Work on an investigation's records: the right role, an open working state, and for
        production the responsible department."""
        c = case.complaint
        if c.state not in WORK_STATES:
            raise NotAllowed("why.wrong_state", state=c.state.value)
        if not me.has(*roles):
            raise NotAllowed("why.wrong_role")
        if me.has(Role.PRODUCTION) and not me.has(Role.QA, Role.MANAGEMENT):
            if c.responsible_department_id != me.department_id:
                raise NotAllowed("why.not_your_department")


# ---------------------------------------------------------------- small helpers


def _summary(text: str, width: int = 80) -> str:
    """A task's one line: the text's first line, cut with "…" where it is cut."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width and line == text.strip() else line[:width - 1] + "…"


def order_tasks(tasks: list[Task], now: datetime) -> list[Task]:
    """Overdue first, then by due time; tasks without a due time last, newest first
    (docs/procedure.md §9, My Tasks); the same due time: the case received first, then its id."""
    def key(t: Task) -> tuple[int, float, float, int]:
        if t.due_at is None:
            return (2, -(t.since or t.received_at).timestamp(), 0.0, -t.complaint_id)
        return (0 if t.due_at < now else 1, t.due_at.timestamp(), t.received_at.timestamp(),
                t.complaint_id)
    return sorted(tasks, key=key)


_ANY_CAPA = CapaAction(0, 0, CapaType.CORRECTIVE, "-", 1, date.min)


def _check_version(uow: UnitOfWork, c: Complaint, version: int) -> None:
    """Optimistic concurrency: the case must be as the user last saw it (docs/architecture.md §5)."""
    if c.version != version:
        who = uow.users.get(c.updated_by_id) if c.updated_by_id else None
        raise StaleCase(who=who.display_name if who else "?", at=c.updated_at)


def _superseded(rnd: int) -> int:
    """Where a replaced draft of round `rnd` is kept: a negative round no case ever has."""
    return -rnd - 1


def _first_pending(case: CaseFile) -> ApprovalStep | None:
    pending = [s for s in case.current(case.steps) if s.status == StepStatus.PENDING]
    return min(pending, key=lambda s: s.seq) if pending else None


def _text(value: str, field: str, required: bool = True) -> str:
    s = (value or "").strip()
    if required and not s:
        raise InvalidInput("err.required", field=field)
    if len(s) > MAX_TEXT:
        raise InvalidInput("err.too_long", field=field)
    return s


def _short(value: str) -> str:
    s = (value or "").strip()
    if len(s) > 100:
        raise InvalidInput("err.too_long", field="text")
    return s


def _amount(value: Decimal | str | None, field: str) -> Decimal:
    from core.services import _money  # one parser for money
    amount = _money(value)
    if amount is None:
        raise InvalidInput("err.required", field=field)
    return amount


def _disposition(cid: int, rnd: int, x: DispositionInput) -> Disposition:
    amount = Decimal("0") if x.type == DispositionType.EXPLANATION and not x.amount \
        else _amount(x.amount, "amount")
    if x.quantity is not None and x.quantity < 0:
        raise InvalidInput("err.quantity", field="quantity")
    if x.type == DispositionType.COMPENSATION and amount <= 0:
        raise InvalidInput("err.amount", field="amount")
    return Disposition(None, cid, rnd, x.type, x.quantity, amount, x.note.strip()[:MAX_TEXT])


def _cost(cid: int, rnd: int, x: CostInput, uow: UnitOfWork) -> CostLine:
    amount = _amount(x.amount, "amount")
    back = _amount(x.charge_back, "charge_back") if x.charge_back not in (None, "") \
        else Decimal("0")
    if back > amount:
        raise InvalidInput("err.charge_back_gt_cost")
    if back > 0 and not x.supplier.strip():
        raise InvalidInput("err.required", field="supplier")
    if x.department_id is not None and x.department_id not in {
            d.id for d in uow.ref.departments(include_inactive=True)}:
        raise InvalidInput("err.unknown", field="department")
    return CostLine(None, cid, rnd, x.category, amount, x.department_id,
                    x.supplier.strip()[:200], back)


def _one_line(text: str) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= 120 else line[:119] + "…"


def _show(v: Any) -> str | None:
    from core.services import _show as show
    return show(v)

