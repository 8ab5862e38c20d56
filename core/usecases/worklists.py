"""Worklists: My Tasks — which cases wait for me, and for what (docs/procedure.md §9). The
first page of it read by an index: task_pages; the Approve page's cards: approve_queue; the
inbox: notices."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, tzinfo
from typing import Any

from core import procedure, workflow
from core.model import (
    Assist,
    CapaAction,
    CaseFile,
    ChainStep,
    Complaint,
    Disposition,
    DispositionType,
    Role,
    Scope,
    Severity,
    State,
    User,
)
from core.ports import UnitOfWork
from core.rules import meetings as meeting_rules
from core.rules import visibility
from core.rules.calendar import WorkCalendar
from core.usecases import approval, chains, context, meetings
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
            fresh = task_items(ctx, uow, me, changed) if changed else []
            items = kept + fresh
        else:
            items = task_items(ctx, uow, me, None)
        return TaskList(me.id or 0, newest, tuple(order_tasks(items, ctx.clock())))


@dataclass(frozen=True)
class Env:
    """What deciding a case's tasks for one user needs, read once per list."""

    wctx: workflow.Context
    signing: approval.Signing
    scope: Scope | None
    depts: dict[int, int | None]
    helping: dict[int, set[int]]
    first_days: int
    cal: WorkCalendar | None
    tz: tzinfo
    # what one list reads once, not once per case: the departments by code (an execution
    # chain's step owner), each case's chains waiting for me (asked by the task and its due)
    seen: dict[str, Any] = field(default_factory=dict, compare=False)
    chain_views: dict[int, list[chains.ChainView]] = field(default_factory=dict, compare=False)


def env_of(ctx: Context, uow: UnitOfWork, me: User) -> Env:
    first_days = context.settings_of(ctx, uow).first_meeting_days if me.has(Role.QA) else 0
    sc = context.scope(ctx, uow, me)  # record-level visibility: only cases I may see
    return Env(
        context.workflow_context(ctx, uow), approval.signing_of(ctx, uow, me), sc,
        {x.id: x.department_id for x in uow.ref.customers(include_inactive=True)}
        if sc is not None else {},
        context.assisting_now(uow) if sc is not None else {},
        first_days, context.calendar_of(ctx, uow) if first_days else None,
        context.settings_of(ctx, uow).tz)


def case_tasks(ctx: Context, uow: UnitOfWork, me: User, env: Env, c: Complaint) -> list[Task]:
    """The tasks one case (in a state that can wait for me) gives me: its step, and QA's
    first meeting."""
    out: list[Task] = []
    if env.scope is not None and not visibility.sees(env.scope, c, env.depts.get(c.customer_id),
                                                     env.helping.get(c.id or 0, ())):
        return out
    case = CaseFile(c)
    kind = _task_for(ctx, uow, me, case, env.wctx, env.signing, env)
    if kind:
        due = c.due_at
        if kind == "chain_step":  # the step's own time limit (issue #12)
            steps = _my_chains(ctx, uow, me, case, env)
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


def task_items(ctx: Context, uow: UnitOfWork, me: User, ids: set[int] | None) -> list[Task]:
    """The tasks of every case that can wait for me (`ids`: of those cases only)."""
    env = env_of(ctx, uow, me)
    out: list[Task] = []
    # every case that can wait for me (no limit: none is missed), and no other
    for c in uow.reads.cases.in_states(task_states(me, env.signing), 10_000_000, ids=ids):
        out += case_tasks(ctx, uow, me, env, c)
    out += assist_tasks(uow, me, ids)
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


def assist_tasks(uow: UnitOfWork, me: User, ids: set[int] | None) -> list[Task]:
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


def task_states(me: User, signing: approval.Signing) -> list[State]:
    """The states in which a case can wait for me: those of the tasks my roles are given,
    and pending approval if I sign a step (my title or a deputy's)."""
    states = {s for a in procedure.TASK_ACTIONS if me.has(*procedure.task_roles(a))
              for s in procedure.task_transition(a).sources}
    if me.titles or signing.delegations:
        states.add(State.PENDING_APPROVAL)
    return [s for s in State if s in states]


def _task_for(ctx: Context, uow: UnitOfWork, me: User, case: CaseFile,
              wctx: workflow.Context, signing: approval.Signing | None = None,
              env: Env | None = None) -> str | None:
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
                           wctx, env):
            return name
    return None


def _waits(ctx: Context, uow: UnitOfWork, when: str, action: str, case: CaseFile, me: User,
           wctx: workflow.Context, env: Env | None = None) -> bool:
    """Whether a case in the task's state waits for me (procedure.TASK_WHEN)."""
    if when == "yours":
        return workflow.who_not(action, case, me, wctx) is None
    if when == "allowed":
        return workflow.why_not(action, case, me, wctx) is None
    if when == "compensation_unpaid":
        case = _with_dispositions(uow, case, env)
        return any(d.type == DispositionType.COMPENSATION and not d.done
                   for d in case.current(case.dispositions))
    if when == "chain_step_mine":
        return bool(_my_chains(ctx, uow, me, case, env))
    raise ValueError(when)


def _with_dispositions(uow: UnitOfWork, case: CaseFile, env: Env | None = None) -> CaseFile:
    """The case with its dispositions: all that a payment or a chain step asks of the case
    file (one query instead of the whole file's eight; none when read ahead: read_ahead)."""
    if case.dispositions:
        return case
    cid = case.complaint.id or 0
    ahead = env.seen.get("dispositions", {}) if env is not None else {}
    return replace(case, dispositions=ahead[cid] if cid in ahead else
                   uow.records.where(Disposition, complaint_id=cid))


def read_ahead(uow: UnitOfWork, env: Env, cases: Sequence[Complaint]) -> None:
    """Before deciding a batch of cases' tasks: the dispositions and chain records of those
    being implemented (what a payment or a chain step asks of the case), read for the batch
    at once — two reads instead of two per case."""
    disp: dict[int, list[Disposition]] = env.seen.setdefault("dispositions", {})
    recorded: dict[int, list[ChainStep]] = env.seen.setdefault("chain_steps", {})
    ids = [c.id for c in cases if c.id is not None and c.state == State.IMPLEMENTING
           and c.on_hold_since is None and c.id not in disp]
    if not ids:
        return
    for i in ids:
        disp[i], recorded[i] = [], []
    for d in uow.records.of_cases(Disposition, ids):
        disp[d.complaint_id].append(d)
    for r in uow.records.of_cases(ChainStep, ids):
        recorded[r.complaint_id].append(r)


def _my_chains(ctx: Context, uow: UnitOfWork, me: User, case: CaseFile,
               env: Env | None) -> list[chains.ChainView]:
    """The case's execution chains whose next step waits for me; once per case and list."""
    cid = case.complaint.id or 0
    if env is not None and cid in env.chain_views:
        return env.chain_views[cid]
    depts = cfg = None
    if env is not None:
        depts = env.seen.get("depts")
        if depts is None:
            depts = env.seen["depts"] = chains.dept_ids(uow)
        cfg = env.seen.get("chain_settings")
        if cfg is None:
            cfg = env.seen["chain_settings"] = chains.settings_of(uow)
    found = chains.mine(ctx, uow, me, _with_dispositions(uow, case, env), depts,
                        env.seen.get("chain_steps", {}).get(cid) if env is not None else None,
                        cfg)
    if env is not None:
        env.chain_views[cid] = found
    return found
