"""The complaint lifecycle as data: every transition of docs/procedure.md §5, who may take it, what
it needs.

The Complaint page asks `available()` what this user may do now (and why not the rest); every
service asks `check()` and raises NotAllowed with the reason otherwise. No page decides this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from core.errors import NotAllowed
from core.model import CaseFile, Kind, Role, Severity, State, StepStatus, User, Validity

OPEN = frozenset(s for s in State if s.is_open)


@dataclass(frozen=True)
class Context:
    """What guards need besides the case and the user."""

    today: date
    dispatch_approval: str = "a_only"  # a_only | all | none (docs/procedure.md §5)


Guard = Callable[[CaseFile, User, Context], str | None]


# ---------------------------------------------------------------- guards (each returns why not)


def _dispatch_approved(case: CaseFile, _u: User, ctx: Context) -> str | None:
    c = case.complaint
    needed = ctx.dispatch_approval == "all" or (
        ctx.dispatch_approval == "a_only" and c.severity_proposed == Severity.A
    )
    return "why.dispatch_needs_approval" if needed and c.dispatch_approved_by_id is None else None


def _needs_dispatch_approval(case: CaseFile, _u: User, ctx: Context) -> str | None:
    c = case.complaint
    if c.dispatch_approved_by_id is not None:
        return "why.dispatch_already_approved"
    needed = ctx.dispatch_approval == "all" or (
        ctx.dispatch_approval == "a_only" and c.severity_proposed == Severity.A
    )
    return None if needed else "why.dispatch_approval_not_needed"


def _severity_proposed(case: CaseFile, _u: User, _c: Context) -> str | None:
    return None if case.complaint.severity_proposed else "why.severity_missing"


def _not_on_hold(case: CaseFile, _u: User, _c: Context) -> str | None:
    return "why.on_hold" if case.complaint.on_hold_since else None


def _on_hold(case: CaseFile, _u: User, _c: Context) -> str | None:
    return None if case.complaint.on_hold_since else "why.not_on_hold"


def _of_responsible_department(case: CaseFile, user: User, _c: Context) -> str | None:
    """Production acts only on cases assigned to its own department (docs/procedure.md §2)."""
    if user.has(Role.MANAGEMENT):
        return None
    dept = case.complaint.responsible_department_id
    return None if dept is not None and user.department_id == dept else "why.not_your_department"


def not_own_department(case: CaseFile, user: User, ctx: Context | None = None) -> str | None:
    """Sales, QA and management act on any case; production only on its own department's
    (so another department cannot, say, put a case on hold and stop its clock)."""
    if user.has(Role.SALES, Role.QA, Role.MANAGEMENT):
        return None
    return _of_responsible_department(case, user, ctx or Context(date.min))


def _production_of_responsible_department(case: CaseFile, user: User, ctx: Context) -> str | None:
    """Completing: production only for its own department; finance and management any case."""
    if user.has(Role.FINANCE):
        return None
    return _of_responsible_department(case, user, ctx)


def _capa_planned(case: CaseFile, _u: User, _c: Context) -> str | None:
    ok = any(a.owner_id and a.due_date for a in case.capa if a.status != "withdrawn")
    return None if ok else "why.capa_missing"


def _dispositions_proposed(case: CaseFile, _u: User, _c: Context) -> str | None:
    return None if case.current(case.dispositions) else "why.disposition_missing"


def _executed(case: CaseFile, _u: User, _c: Context) -> str | None:
    """All CAPA actions done with evidence; every disposition carried out (docs/procedure.md §5)."""
    if any(a.status != "done" or not a.evidence.strip() for a in case.capa
           if a.status != "withdrawn"):  # a withdrawn action no longer counts
        return "why.capa_open"
    if any(not d.done for d in case.current(case.dispositions)):
        return "why.disposition_open"
    return None


def _verification_due(case: CaseFile, _u: User, ctx: Context) -> str | None:
    after = case.complaint.verify_after
    return "why.verification_scheduled" if after is not None and ctx.today < after else None


def _valid(case: CaseFile, _u: User, _c: Context) -> str | None:
    return None if case.complaint.validity != Validity.INVALID else "why.invalid_case"


def _sales_before_investigation(case: CaseFile, user: User, _c: Context) -> str | None:
    """Sales may cancel only before investigation starts; management any time."""
    if user.has(Role.MANAGEMENT):
        return None
    ok = case.complaint.state in (State.REGISTERED, State.DISPATCHED)
    return None if ok else "why.cancel_after_investigation"


def _merge_allowed(case: CaseFile, user: User, ctx: Context) -> str | None:
    """Sales merges before investigation; QA (deciding "no investigation") and management
    at any open step."""
    if user.has(Role.QA, Role.MANAGEMENT):
        return None
    ok = case.complaint.state in (State.REGISTERED, State.DISPATCHED)
    return None if ok else "why.sales_before_investigation"


def _pending_steps(case: CaseFile, _u: User, _c: Context) -> str | None:
    pending = [s for s in case.current(case.steps) if s.status == StepStatus.PENDING]
    return None if pending else "why.no_pending_step"


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[State]
    target: State | None  # None: the service decides (approval steps, reply, loops)
    roles: frozenset[Role]
    kinds: frozenset[Kind] = frozenset(Kind)
    guards: tuple[Guard, ...] = ()
    needs: tuple[str, ...] = field(default=())  # input the action asks for (for the UI)


def _t(action: str, sources: set[State] | frozenset[State], target: State | None, roles: set[Role],
       kinds: set[Kind] | None = None, guards: tuple[Guard, ...] = (),
       needs: tuple[str, ...] = ()) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles),
                      frozenset(kinds) if kinds else frozenset(Kind), guards, needs)


S, R, K = State, Role, Kind
COMPLAINT = {K.COMPLAINT}
SHORT = {K.SUGGESTION, K.INQUIRY}
LIVE = (_not_on_hold,)

TRANSITIONS: tuple[Transition, ...] = (
    _t("approve_dispatch", {S.REGISTERED}, None, {R.MANAGEMENT}, COMPLAINT,
       (_needs_dispatch_approval,)),
    _t("dispatch", {S.REGISTERED}, S.DISPATCHED, {R.SALES, R.MANAGEMENT}, COMPLAINT,
       LIVE + (_severity_proposed, _dispatch_approved)),
    _t("route_short", {S.REGISTERED}, S.REPLYING, {R.SALES, R.MANAGEMENT}, SHORT, LIVE),
    _t("return_to_sales", {S.DISPATCHED}, S.REGISTERED, {R.QA}, COMPLAINT, LIVE, ("reason",)),
    _t("acknowledge", {S.DISPATCHED}, S.INVESTIGATING, {R.QA}, COMPLAINT, LIVE),
    _t("classify_valid", {S.INVESTIGATING}, S.ROOT_CAUSE, {R.QA}, COMPLAINT, LIVE,
       ("category", "severity", "department")),
    _t("classify_invalid", {S.INVESTIGATING}, S.DISPOSITION, {R.QA}, COMPLAINT, LIVE, ("reason",)),
    _t("submit_analysis", {S.ROOT_CAUSE}, S.CAPA_REVIEW, {R.PRODUCTION, R.MANAGEMENT}, COMPLAINT,
       LIVE + (_of_responsible_department, _capa_planned), ("production_facts", "root_cause")),
    _t("send_back", {S.CAPA_REVIEW}, S.ROOT_CAUSE, {R.QA}, COMPLAINT, LIVE, ("reason",)),
    _t("approve_capa", {S.CAPA_REVIEW}, S.DISPOSITION, {R.QA}, COMPLAINT, LIVE),
    _t("propose", {S.DISPOSITION}, S.PENDING_APPROVAL, {R.SALES}, COMPLAINT,
       LIVE + (_dispositions_proposed,), ("customer_position",)),
    _t("approve_step", {S.PENDING_APPROVAL}, None, {R.MANAGEMENT, R.QA}, COMPLAINT,
       (_pending_steps,)),
    _t("reject_step", {S.PENDING_APPROVAL}, S.DISPOSITION, {R.MANAGEMENT, R.QA}, COMPLAINT,
       (_pending_steps,), ("reason",)),
    _t("reply", {S.REPLYING}, None, {R.SALES}, None, LIVE, ("reply",)),
    _t("complete", {S.IMPLEMENTING}, S.VERIFYING, {R.PRODUCTION, R.FINANCE, R.MANAGEMENT},
       COMPLAINT, LIVE + (_production_of_responsible_department, _executed)),
    _t("verify", {S.VERIFYING}, None, {R.QA}, COMPLAINT, LIVE + (_verification_due,), ("verdict",)),
    _t("follow_up", {S.FOLLOW_UP}, None, {R.SALES}, COMPLAINT, LIVE, ("satisfaction",)),
    _t("cancel", OPEN, S.CANCELLED, {R.SALES, R.MANAGEMENT}, None, (_sales_before_investigation,),
       ("reason",)),
    _t("merge", OPEN, S.CANCELLED, {R.SALES, R.QA, R.MANAGEMENT}, None, (_merge_allowed,),
       ("target",)),
    _t("reopen", {S.CLOSED}, S.ROOT_CAUSE, {R.MANAGEMENT, R.QA}, COMPLAINT, (_valid,), ("reason",)),
    _t("hold", OPEN - {S.REGISTERED}, None, {R.SALES, R.QA, R.PRODUCTION, R.MANAGEMENT}, None,
       LIVE + (not_own_department,), ("reason",)),
    _t("resume", OPEN, None, {R.SALES, R.QA, R.PRODUCTION, R.MANAGEMENT}, None,
       (_on_hold, not_own_department)),
)

BY_ACTION = {t.action: t for t in TRANSITIONS}


def why_not(action: str, case: CaseFile, user: User, ctx: Context) -> str | None:
    """The reason (an i18n key) this user may not take `action` now, or None if they may."""
    t = BY_ACTION[action]
    c = case.complaint
    if c.state not in t.sources:
        return "why.wrong_state"
    if c.kind not in t.kinds:
        return "why.wrong_kind"
    if not user.has(*t.roles):
        return "why.wrong_role"
    for guard in t.guards:
        reason = guard(case, user, ctx)
        if reason:
            return reason
    return None


# The guards that say who, of those whose role may take an action, may take it on this case
# (the rest say what the case still needs — work the task is there to do).
WHO_GUARDS = frozenset({_of_responsible_department, _production_of_responsible_department})


def who_not(action: str, case: CaseFile, user: User, ctx: Context) -> str | None:
    """The reason this user is not the one to take `action` on this case (another department's
    case), or None: the role-independent part of `why_not` that makes a task someone's."""
    for guard in BY_ACTION[action].guards:
        if guard in WHO_GUARDS:
            reason = guard(case, user, ctx)
            if reason:
                return reason
    return None


def own_department_only(action: str, user: User) -> bool:
    """Whether a who-guard of `action` refuses this user every case but those of their own
    (responsible) department — so My Tasks need read no other case for it (decision 0014)."""
    for guard in BY_ACTION[action].guards:
        if guard is _of_responsible_department and not user.has(Role.MANAGEMENT):
            return True
        if guard is _production_of_responsible_department and not user.has(Role.FINANCE,
                                                                            Role.MANAGEMENT):
            return True
    return False


def check(action: str, case: CaseFile, user: User, ctx: Context) -> None:
    reason = why_not(action, case, user, ctx)
    if reason:
        raise NotAllowed(reason, action=action, state=case.complaint.state.value)


def available(case: CaseFile, user: User, ctx: Context) -> list[tuple[str, str | None]]:
    """Actions of the current state: (action, None) if allowed, else (action, why not)."""
    c = case.complaint
    return [
        (t.action, why_not(t.action, case, user, ctx))
        for t in TRANSITIONS
        if c.state in t.sources and c.kind in t.kinds
    ]
