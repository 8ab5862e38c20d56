"""Worklists: My Tasks, the Approve page's cards, the inbox (docs/procedure.md §9)."""
from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from decimal import Decimal
from functools import partial

from core import notify, procedure, workflow
from core.model import (
    ApprovalStep,
    Assist,
    Attachment,
    CapaAction,
    CaseFile,
    Complaint,
    CostLine,
    Disposition,
    DispositionType,
    Kind,
    Notification,
    Role,
    Scope,
    Severity,
    State,
    StepStatus,
    User,
)
from core.errors import InvalidInput
from core.ports import UnitOfWork
from core.rules import meetings as meeting_rules
from core.rules import visibility
from core.rules.calendar import WorkCalendar
from core.usecases import approval, chains, common, context, meetings
from core.usecases.context import Context

CAPA_WORK = frozenset({State.DISPOSITION, State.PENDING_APPROVAL, State.REPLYING,
                       State.IMPLEMENTING})
# where an assisting department's findings are waited for: until the CAPA plan is approved
ASSIST_WORK = frozenset({State.INVESTIGATING, State.ROOT_CAUSE, State.CAPA_REVIEW})


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


TASKS_INCREMENTAL_MAX = 200


def summary(text: str, width: int = 80) -> str:
    """A task's one line: the text's first line, cut with "…" where it is cut."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width and line == text.strip() else line[:width - 1] + "…"


Key = tuple[int, float, float, float]


def task_key(t: Task, now: datetime) -> Key:
    """Where a task stands in My Tasks: overdue first, then by due time; tasks without a due
    time last, newest first (docs/procedure.md §9, My Tasks); the same due time: the case
    received first, then its id."""
    if t.due_at is None:
        return (2, -(t.since or t.received_at).timestamp(), 0.0, -t.complaint_id)
    return (0 if t.due_at < now else 1, t.due_at.timestamp(), t.received_at.timestamp(),
            t.complaint_id)


def order_tasks(tasks: list[Task], now: datetime) -> list[Task]:
    """The tasks in My Tasks' order (`task_key`)."""
    return sorted(tasks, key=lambda t: task_key(t, now))


def inbox(ctx: Context, actor: User, limit: int = 200) -> list[Notification]:
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        return uow.notifications.for_user(me.id, limit)


def unread_count(ctx: Context, actor: User) -> int:
    with ctx.uow() as uow:
        return uow.notifications.unread_count(actor.id)


def mark_read(ctx: Context, actor: User, ids: Sequence[int] | None = None) -> int:
    """Mark some (or, with None, all) of my notifications read."""
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        n = uow.notifications.mark_read(me.id, ids, ctx.clock())
        uow.commit()
        return n


def notice_preferences(ctx: Context, actor: User) -> notify.Preferences:
    """My choice of notices and channels (My account)."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        return notify.Preferences.from_stored(uow.settings.get(notify.preference_key(me.id)))


def set_notice_preferences(ctx: Context, actor: User, prefs: notify.Preferences) -> None:
    """Store my choice of notices: only known kinds and channels may be turned off."""
    if not all(c in notify.CHANNELS and k in notify.KINDS for c, k in prefs.off):
        raise InvalidInput("err.invalid_input")
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        uow.settings.set(notify.preference_key(me.id), prefs.to_stored())
        uow.commit()


def tasks(ctx: Context, actor: User) -> list[Task]:
    """Everything waiting for me: by role, my department, my approval steps."""
    return list(task_list(ctx, actor).items)


def task_list(ctx: Context, actor: User, previous: TaskList | None = None) -> TaskList:
    """My Tasks as of the newest event. Given the list made for me before, only the cases
    changed since (an event after its version) are looked at again — one change costs a
    few cases, not the thousands a QA engineer may have open. Whatever writes no case
    event (a delegation, a changed title) shows when the caller asks afresh."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        since = previous.version if previous is not None and previous.user_id == me.id \
            else -1
        newest, changed = uow.reads.changes.since(since, TASKS_INCREMENTAL_MAX)
        if previous is not None and since >= 0 and newest >= since \
                and len(changed) <= TASKS_INCREMENTAL_MAX:
            kept = [t for t in previous.items if t.complaint_id not in changed]
            fresh = _task_items(ctx, uow, me, changed) if changed else []
            items = kept + fresh
        else:
            items = _task_items(ctx, uow, me, None)
        return TaskList(me.id or 0, newest, tuple(order_tasks(items, ctx.clock())))


@dataclass(frozen=True)
class _Env:
    """What deciding a case's tasks for one user needs, read once per list."""

    wctx: workflow.Context
    signing: approval.Signing
    scope: Scope | None
    depts: dict[int, int | None]
    helping: dict[int, set[int]]
    first_days: int
    cal: WorkCalendar | None
    tz: tzinfo


def _env(ctx: Context, uow: UnitOfWork, me: User) -> _Env:
    first_days = context.settings_of(ctx, uow).first_meeting_days if me.has(Role.QA) else 0
    sc = context.scope(ctx, uow, me)  # record-level visibility: only cases I may see
    return _Env(
        context.workflow_context(ctx, uow), approval.signing_of(ctx, uow, me), sc,
        {x.id: x.department_id for x in uow.ref.customers(include_inactive=True)}
        if sc is not None else {},
        context.assisting_now(uow) if sc is not None else {},
        first_days, context.calendar_of(ctx, uow) if first_days else None,
        context.settings_of(ctx, uow).tz)


def _case_tasks(ctx: Context, uow: UnitOfWork, me: User, env: _Env, c: Complaint) -> list[Task]:
    """The tasks one case (in a state that can wait for me) gives me: its step, and QA's
    first meeting."""
    out: list[Task] = []
    if env.scope is not None and not visibility.sees(env.scope, c, env.depts.get(c.customer_id),
                                                     env.helping.get(c.id or 0, ())):
        return out
    case = CaseFile(c)
    kind = _task_for(ctx, uow, me, case, env.wctx, env.signing)
    if kind:
        due = c.due_at
        if kind == "chain_step":  # the step's own time limit (issue #12)
            steps = chains.mine(ctx, uow, me, context.load_case(ctx, uow, c.id or 0))
            due = min((v.due_at for v in steps if v.due_at), default=c.due_at)
        elif kind == "verify" and c.verify_after is not None:  # the day it was scheduled for
            due = datetime.combine(c.verify_after, time(23, 59), env.tz)
        out.append(Task(kind, c.id or 0, c.number, c.customer_id,
                        c.effective_severity, c.state, c.received_at,
                        summary(c.description), c.updated_at, due,
                        c.on_hold_since is not None))
    if env.first_days and me.has(Role.QA) and meeting_rules.first_meeting_pending(
            c.kind, c.state, env.first_days, held=False):
        first = meetings.first_meeting_due_in(ctx, uow, c, env.first_days, env.cal)
        if first is not None:
            out.append(Task("first_meeting", c.id or 0, c.number, c.customer_id,
                            c.effective_severity, c.state, c.received_at,
                            summary(c.description), c.updated_at, first,
                            c.on_hold_since is not None))
    return out


TASKS_SHOWN = 200  # My Tasks lists the first 200 tasks, most urgent first (decision 0014)
COUNT_CAP = 5000  # cases counted per state for the counts by kind when not all are read
_FIRST_BATCH = 16  # cases read at first from each state's order; doubled each time after


@dataclass(frozen=True)
class TaskPage:
    """The first tasks of My Tasks as of one event (`version`: the newest event id read):
    `items` the first `limit` in My Tasks' order; `counts` per kind of task — exact when
    `complete` (every task is in `items`), else estimated from the waiting cases (their
    state, kind and department: what no rule of a single case can refuse is counted), and
    at least `total` when `capped` (a state had COUNT_CAP cases or more)."""

    user_id: int
    version: int
    limit: int
    items: tuple[Task, ...]
    counts: tuple[tuple[str, int], ...]
    complete: bool
    capped: bool = False

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


@dataclass(frozen=True)
class _Read:
    """One of the orders My Tasks reads a state's waiting cases in (db: SqlCases.waiting)."""

    state: State
    order: str  # "due" | "received" | "undated"
    kinds: frozenset[Kind] | None
    department_id: int | None
    not_on_hold: bool


def _reads(ctx: Context, me: User, env: _Env) -> list[_Read]:
    """How to read the cases of each state that can wait for me, each in an order whose key
    is never after the key of the tasks it gives (`_bound`): by due time where the task's
    due time is the case's; by received time where it is computed (an execution chain's
    step, a scheduled effectiveness check, QA's first meeting — each after the receipt);
    without a due time, last changed first. Only the kinds, the department and the cases not
    on hold that some task of mine there needs."""
    out: list[_Read] = []
    for state in _task_states(ctx, me, env.signing):
        actions = [a for a in procedure.TASK_ACTIONS if me.has(*procedure.task_roles(a))
                   and state in procedure.task_transition(a).sources]
        first = bool(env.first_days) and meeting_rules.first_meeting_pending(
            Kind.COMPLAINT, state, env.first_days, held=False)
        if state == State.PENDING_APPROVAL:
            out += [_Read(state, o, None, None, False) for o in ("due", "undated")]
            continue
        kinds = frozenset(k for a in actions for k in procedure.task_transition(a).kinds) | (
            {Kind.COMPLAINT} if first else set())
        dept = None
        # (a chain step or a payment is not the responsible department's own: not narrowed)
        if not first and actions and all(
                procedure.BY_NAME[a].task_when in ("yours", "allowed")
                and workflow.own_department_only(procedure.task_transition(a).action, me)
                for a in actions):
            if me.department_id is None:
                continue  # no department: none of these is mine
            dept = me.department_id
        computed = first or any(procedure.BY_NAME[a].task_when == "chain_step_mine"
                                or a == "verify" for a in actions)
        orders = ("received",) if computed else ("due", "undated")
        out += [_Read(state, o, kinds, dept, not first) for o in orders]
    return out


def _bound(order: str, c: Complaint, now: datetime) -> Key:
    """A key no task of this case comes before (the exact key where the order is the task's)."""
    if order == "due" and c.due_at is not None:
        return (0 if c.due_at < now else 1, c.due_at.timestamp(), c.received_at.timestamp(),
                c.id or 0)
    if order == "undated":
        return (2, -(c.updated_at or c.received_at).timestamp(), 0.0, -(c.id or 0))
    return (0 if c.received_at < now else 1, c.received_at.timestamp(), float("-inf"),
            float("-inf"))


Candidate = tuple[Key, Callable[[], list[Task]]]


def _stream(ctx: Context, uow: UnitOfWork, me: User, env: _Env, r: _Read,
            now: datetime) -> Iterator[Candidate]:
    """The cases of one read in its order, read in growing batches as they are asked for,
    each with how to decide its tasks."""
    offset, size = 0, _FIRST_BATCH
    while True:
        batch = uow.reads.cases.waiting(r.state, r.order, offset, size, kinds=r.kinds,
                                        department_id=r.department_id,
                                        not_on_hold=r.not_on_hold, scope=env.scope)
        for c in batch:
            yield _bound(r.order, c, now), partial(_case_tasks, ctx, uow, me, env, c)
        if len(batch) < size:
            return
        offset, size = offset + size, min(size * 2, 1024)


def _capa_stream(ctx: Context, uow: UnitOfWork, me: User, env: _Env,
                 now: datetime) -> Iterator[Candidate]:
    """My open CAPA actions' cases, by the action's due day (each case's first action, as the
    full read takes it): a case is read only when its turn comes, and gives a task only if
    nothing else of it waits for me."""
    first: dict[int, CapaAction] = {}
    for a in uow.records.where(CapaAction, owner_id=me.id, status="open"):
        first.setdefault(a.complaint_id, a)
    states = set(_task_states(ctx, me, env.signing))

    def owned(a: CapaAction) -> list[Task]:
        found = uow.reads.cases.in_states(sorted(CAPA_WORK), 1, ids={a.complaint_id})
        if not found:
            return []
        c = found[0]
        if c.state in states and any(t.kind != "first_meeting"
                                     for t in _case_tasks(ctx, uow, me, env, c)):
            return []
        return [Task("capa_owner", c.id or 0, c.number, c.customer_id, c.effective_severity,
                     c.state, c.received_at, summary(a.description), c.updated_at,
                     datetime.combine(a.due_date, time(23, 59), env.tz))]

    def bound(a: CapaAction) -> Key:
        due = datetime.combine(a.due_date, time(23, 59), env.tz)
        return (0 if due < now else 1, due.timestamp(), float("-inf"), float("-inf"))

    for a in sorted(first.values(), key=bound):
        yield bound(a), partial(owned, a)


def first_tasks(ctx: Context, actor: User, limit: int | None = None,
                previous: TaskPage | None = None) -> TaskPage:
    """The first `limit` of everything waiting for me (My Tasks), most urgent first, with
    counts per kind — read without looking at every waiting case (decision 0014): each
    state's cases come in an order by an index, merged, and reading stops when no case
    left could come before the `limit`-th task found. Given the list made for me before at
    the same newest event, that list (nothing changed)."""
    limit = TASKS_SHOWN if limit is None else limit
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        mine = previous is not None and previous.user_id == me.id and previous.limit == limit
        since = previous.version if previous is not None and mine else -1
        newest, changed = uow.reads.changes.since(since, TASKS_INCREMENTAL_MAX)
        if previous is not None and mine and previous.version == newest:
            return previous
        now = ctx.clock()
        if previous is not None and mine and previous.complete and newest >= since \
                and len(changed) <= TASKS_INCREMENTAL_MAX \
                and len(previous.items) == previous.total:
            # every task was listed: only the cases changed since are looked at again
            items = order_tasks([t for t in previous.items if t.complaint_id not in changed]
                                + (_task_items(ctx, uow, me, changed) if changed else []), now)
            if len(items) <= limit:
                by_kind: dict[str, int] = {}
                for t in items:
                    by_kind[t.kind] = by_kind.get(t.kind, 0) + 1
                return TaskPage(me.id or 0, newest, limit, tuple(items), tuple(sorted(
                    by_kind.items(), key=lambda kv: (-kv[1], kv[0]))), True)
        env = _env(ctx, uow, me)

        def key(t: Task) -> Key:
            return task_key(t, now)

        # my department's assists: a small list, read whole
        found = sorted(_assist_tasks(uow, me, None), key=key)
        keys = [key(t) for t in found]
        reads = _reads(ctx, me, env)
        complete = True
        looked: dict[State, int] = {}  # cases read per state, and the tasks they gave
        gave: dict[State, dict[str, int]] = {}
        streams = [_stream(ctx, uow, me, env, r, now) for r in reads]
        for bound, tasks_of in heapq.merge(*streams, _capa_stream(ctx, uow, me, env, now),
                                           key=lambda x: x[0]):
            if len(found) >= limit and keys[limit - 1] <= bound:
                complete = False
                break
            made = tasks_of()
            state = made[0].state if made else None
            if isinstance(tasks_of, partial) and tasks_of.func is _case_tasks:
                state = tasks_of.args[-1].state  # a case of a state read: counted there
                looked[state] = looked.get(state, 0) + 1
            for t in made:
                i = bisect.bisect_right(keys, key(t))
                keys.insert(i, key(t))
                found.insert(i, t)
                if t.kind != "capa_owner" and state is not None:
                    g = gave.setdefault(state, {})
                    g[t.kind] = g.get(t.kind, 0) + 1
        counts: dict[str, int] = {}
        for t in found:
            counts[t.kind] = counts.get(t.kind, 0) + 1
        capped = False
        if not complete:  # every task found is real: the estimate never counts fewer
            estimate, capped = _estimate(uow, me, reads, env.scope, looked, gave)
            for k, n in estimate.items():
                counts[k] = max(counts.get(k, 0), n)
            # my CAPA actions' cases not read yet: each may still be a task
            counts["capa_owner"] = counts.get("capa_owner", 0) + sum(
                1 for b, _ in _capa_stream(ctx, uow, me, env, now) if b > keys[limit - 1])
        ordered = tuple(sorted(((k, n) for k, n in counts.items() if n),
                               key=lambda kv: (-kv[1], kv[0])))
        return TaskPage(me.id or 0, newest, limit, tuple(found[:limit]), ordered, complete,
                        capped)


def _estimate(uow: UnitOfWork, me: User, reads: list[_Read], scope: Scope | None,
              looked: dict[State, int], gave: dict[State, dict[str, int]]
              ) -> tuple[dict[str, int], bool]:
    """Tasks per kind, estimated state by state from how many cases wait there (counted by
    the database, COUNT_CAP at most) and what the cases read there gave: in the same shares
    (what the rules of a single case refuse is left out as often as among those read); a
    state none of whose cases was read counts each case for the first of my tasks there that
    fits its kind. Also whether a count reached the cap."""
    out: dict[str, int] = {}
    capped = False
    done: set[State] = set()
    for r in reads:
        if r.state in done:
            continue
        done.add(r.state)
        by_kind = uow.reads.cases.count_waiting(r.state, COUNT_CAP, kinds=r.kinds,
                                                department_id=r.department_id,
                                                not_on_hold=r.not_on_hold, scope=scope)
        waiting = sum(by_kind.values())
        capped = capped or waiting >= COUNT_CAP
        seen = looked.get(r.state, 0)
        if seen:
            for name, n in gave.get(r.state, {}).items():
                out[name] = out.get(name, 0) + max(n, round(n * waiting / seen))
            continue
        for kind, n in by_kind.items():
            task = "approve_step" if r.state == State.PENDING_APPROVAL else next(
                (a for a in procedure.TASK_ACTIONS if me.has(*procedure.task_roles(a))
                 and r.state in procedure.task_transition(a).sources
                 and kind in procedure.task_transition(a).kinds), None)
            if task is not None:
                out[task] = out.get(task, 0) + n
    return out, capped


def _task_items(ctx: Context, uow: UnitOfWork, me: User, ids: set[int] | None) -> list[Task]:
    """The tasks of every case that can wait for me (`ids`: of those cases only)."""
    env = _env(ctx, uow, me)
    out: list[Task] = []
    # every case that can wait for me (no limit: none is missed), and no other
    for c in uow.reads.cases.in_states(_task_states(ctx, me, env.signing), 10_000_000, ids=ids):
        out += _case_tasks(ctx, uow, me, env, c)
    out += _assist_tasks(uow, me, ids)
    seen = {t.complaint_id for t in out if t.kind not in ("first_meeting", "assist")}
    tz = env.tz
    mine = [a for a in uow.records.where(CapaAction, owner_id=me.id, status="open")
            if ids is None or a.complaint_id in ids]
    owned_ids = {a.complaint_id for a in mine} - seen
    by_id = {c.id: c for c in uow.reads.cases.in_states(
        sorted(CAPA_WORK), 10_000_000, ids=owned_ids)} if owned_ids else {}
    for a in mine:
        owned = by_id.get(a.complaint_id)
        if owned and owned.state in CAPA_WORK and owned.id not in seen:
            seen.add(owned.id or 0)
            out.append(Task("capa_owner", owned.id or 0, owned.number,
                            owned.customer_id, owned.effective_severity, owned.state,
                            owned.received_at, summary(a.description), owned.updated_at,
                            datetime.combine(a.due_date, time(23, 59), tz)))
    return out


def _assist_tasks(uow: UnitOfWork, me: User, ids: set[int] | None) -> list[Task]:
    """The cases my department assists in and has not yet answered (its findings), with what
    it is asked (issue #12)."""
    if not me.has(Role.PRODUCTION) or me.department_id is None:
        return []
    asked = {a.complaint_id: a for a in uow.records.where(Assist, department_id=me.department_id,
                                                           ended_at=None)
             if not a.findings and (ids is None or a.complaint_id in ids)}
    if not asked:
        return []
    return [Task("assist", c.id or 0, c.number, c.customer_id, c.effective_severity, c.state,
                 c.received_at, summary(asked[c.id or 0].ask or c.description),
                 asked[c.id or 0].at, c.due_at, c.on_hold_since is not None)
            for c in uow.reads.cases.in_states(sorted(ASSIST_WORK), 10_000_000,
                                               ids=set(asked))]


def _task_states(ctx: Context, me: User, signing: approval.Signing) -> list[State]:
    """The states in which a case can wait for me: those of the tasks my roles are given,
    and pending approval if I sign a step (my title or a deputy's)."""
    states = {s for a in procedure.TASK_ACTIONS if me.has(*procedure.task_roles(a))
              for s in procedure.task_transition(a).sources}
    if me.titles or signing.delegations:
        states.add(State.PENDING_APPROVAL)
    return [s for s in State if s in states]


def _task_for(ctx: Context, uow: UnitOfWork, me: User, case: CaseFile,
              wctx: workflow.Context, signing: approval.Signing | None = None) -> str | None:
    """The task this case is for me, if any: the first of the procedure's tasks
    (core/procedure.py) whose state, kind and roles fit and whose condition holds."""
    c = case.complaint
    if c.state == State.PENDING_APPROVAL:
        if signing is not None and not me.titles and not signing.delegations:
            return None  # signs no step, for nobody: no need to read the case's steps
        full = context.load_case(ctx, uow, c.id or 0)
        if approval.my_step(ctx, uow, me, full, signing)[0] is not None:
            return "approve_step"
        return None
    if c.on_hold_since:
        return None
    for name in procedure.TASK_ACTIONS:
        t = procedure.task_transition(name)
        if c.state in t.sources and c.kind in t.kinds and me.has(*procedure.task_roles(name)) \
                and _waits(ctx, uow, procedure.BY_NAME[name].task_when, t.action, case, me,
                           wctx):
            return name
    return None


def _waits(ctx: Context, uow: UnitOfWork, when: str, action: str, case: CaseFile, me: User,
           wctx: workflow.Context) -> bool:
    """Whether a case in the task's state waits for me (procedure.TASK_WHEN)."""
    if when == "yours":
        return workflow.who_not(action, case, me, wctx) is None
    if when == "allowed":
        return workflow.why_not(action, case, me, wctx) is None
    if when == "compensation_unpaid":
        full = context.load_case(ctx, uow, case.complaint.id or 0)
        return any(d.type == DispositionType.COMPENSATION and not d.done
                   for d in full.current(full.dispositions))
    if when == "chain_step_mine":
        full = context.load_case(ctx, uow, case.complaint.id or 0)
        return bool(chains.mine(ctx, uow, me, full))
    raise ValueError(when)


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
        cards: list[ApprovalCard] = []
        for c in cases:  # whole case files only for the steps I may sign (issue #6)
            if c.id not in pending or approval.my_step(
                    ctx, uow, me, CaseFile(c, steps=pending[c.id]), signing)[0] is None:
                continue
            if limit is not None and len(cards) >= limit:
                break
            case = context.load_case(ctx, uow, c.id or 0)
            step, boss = approval.my_step(ctx, uow, me, case, signing)
            if step is None:
                continue
            photos = [a for a in uow.attachments.for_complaint(c.id or 0)
                      if a.content_type.startswith("image/")]
            cards.append(ApprovalCard(
                c, customers.get(c.customer_id, "?"), step, case.current(case.steps),
                case.current(case.dispositions), case.current(case.costs),
                case.disposition_total, names.get(c.proposer_id or 0, "?"),
                common.one_line(c.root_cause or c.no_investigation_reason), photos[:6],
                names.get(boss, "") if boss else "",
                tuple((s, names.get(s.decided_by_id or 0, "?"),
                       names.get(s.on_behalf_of_id, "") if s.on_behalf_of_id else "")
                      for s in sorted(case.steps, key=lambda s: (s.decided_at is None,
                                                                  s.decided_at, s.seq))
                      if s.status in (StepStatus.APPROVED, StepStatus.REJECTED))))
        return cards
