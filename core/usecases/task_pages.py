"""My Tasks' first page: the first 200 tasks, most urgent first, read by an index without
looking at every waiting case (decision 0014; the tasks themselves: worklists)."""
from __future__ import annotations

import bisect
from collections import Counter
import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time
from functools import partial

from core import procedure, workflow
from core.model import CapaAction, Complaint, Kind, Scope, State, User
from core.ports import UnitOfWork
from core.rules import meetings as meeting_rules
from core.usecases import context, worklists
from core.usecases.context import Context
from core.usecases.worklists import (
    CAPA_WORK,
    Env,
    Key,
    Task,
    order_tasks,
    summary,
    task_key,
)


TASKS_SHOWN = 200  # My Tasks lists the first 200 tasks, most urgent first (decision 0014)
COUNT_CAP = 5000  # cases counted per state for the counts by kind when not all are read
_FIRST_BATCH = 16  # cases read at first from each state's order; doubled each time after
_CAPA_BATCH = 64  # cases of my CAPA actions read at once, in the order they are asked for
SPARE = 50  # tasks read beyond the list, to fill it after a change without reading it anew


@dataclass(frozen=True)
class TaskPage:
    """The first tasks of My Tasks as of one event (`version`: the newest event id read):
    `items` the first `limit` in My Tasks' order, `spare` the tasks read after them; `counts`
    per kind of task — exact when `complete` (every task was read: in `items` or `spare`),
    else estimated from the waiting cases (their
    state, kind and department: what no rule of a single case can refuse is counted), and
    at least `total` when `capped` (a state had COUNT_CAP cases or more)."""

    user_id: int
    version: int
    limit: int
    items: tuple[Task, ...]
    counts: tuple[tuple[str, int], ...]
    complete: bool
    capped: bool = False
    # the tasks right after `items`, as far as they were read (SPARE at most): a change that
    # takes some tasks off the list is filled from here without reading the states again
    spare: tuple[Task, ...] = ()

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


def _reads(ctx: Context, me: User, env: Env) -> list[_Read]:
    """How to read the cases of each state that can wait for me, each in an order whose key
    is never after the key of the tasks it gives (`_bound`): by due time where the task's
    due time is the case's; by received time where it is computed (an execution chain's
    step, a scheduled effectiveness check, QA's first meeting — each after the receipt);
    without a due time, last changed first. Only the kinds, the department and the cases not
    on hold that some task of mine there needs."""
    out: list[_Read] = []
    for state in worklists.task_states(me, env.signing):
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


def _stream(ctx: Context, uow: UnitOfWork, me: User, env: Env, r: _Read,
            now: datetime, need: Callable[[], int]) -> Iterator[Candidate]:
    """The cases of one read in its order, read in growing batches as they are asked for
    (doubled each time, but not beyond the tasks the list still `need`s: most cases give
    one, so fewer rows are read only to be left), each with how to decide its tasks."""
    offset, size = 0, _FIRST_BATCH
    while True:
        batch = uow.reads.cases.waiting(r.state, r.order, offset, size, kinds=r.kinds,
                                        department_id=r.department_id,
                                        not_on_hold=r.not_on_hold, scope=env.scope)
        worklists.read_ahead(uow, env, batch)
        for c in batch:
            yield _bound(r.order, c, now), partial(worklists.case_tasks, ctx, uow, me, env, c)
        if len(batch) < size:
            return
        offset, size = offset + size, max(_FIRST_BATCH, min(size * 2, 1024, need()))


def _capa_stream(ctx: Context, uow: UnitOfWork, me: User, env: Env,
                 now: datetime) -> Iterator[Candidate]:
    """My open CAPA actions' cases, by the action's due day (each case's first action, as the
    full read takes it): a case is read only when its turn comes, and gives a task only if
    nothing else of it waits for me."""
    def bound(a: CapaAction) -> Key:
        due = datetime.combine(a.due_date, time(23, 59), env.tz)
        return (0 if due < now else 1, due.timestamp(), float("-inf"), float("-inf"))

    keyed: list[tuple[Key, CapaAction]] = env.seen.get("capa", [])
    if "capa" not in env.seen:  # read once per list (the tasks, then the count beyond them)
        first: dict[int, CapaAction] = {}
        # only where the case is in a state that makes its CAPA owner's task (CAPA_WORK)
        for a in uow.records.where_case_in(CapaAction, CAPA_WORK, owner_id=me.id,
                                           status="open"):
            first.setdefault(a.complaint_id, a)
        keyed = sorted(((bound(a), a) for a in first.values()), key=lambda x: x[0])
        env.seen["capa"] = keyed
    states = set(worklists.task_states(me, env.signing))
    order = [a for _, a in keyed]
    at = {a.complaint_id: i for i, a in enumerate(order)}
    cases: dict[int, Complaint | None] = {}

    def owned(a: CapaAction) -> list[Task]:
        if a.complaint_id not in cases:  # this case and the next ones in the order, at once
            ids = {b.complaint_id for b in order[at[a.complaint_id]:][:_CAPA_BATCH]}
            read = {c.id: c for c in uow.reads.cases.in_states(sorted(CAPA_WORK), len(ids),
                                                               ids=ids)}
            worklists.read_ahead(uow, env, list(read.values()))
            cases.update({i: read.get(i) for i in ids})
        c = cases[a.complaint_id]
        if c is None:
            return []
        if c.state in states and any(t.kind != "first_meeting"
                                     for t in worklists.case_tasks(ctx, uow, me, env, c)):
            return []
        return [Task("capa_owner", c.id or 0, c.number, c.customer_id, c.effective_severity,
                     c.state, c.received_at, summary(a.description), c.updated_at,
                     datetime.combine(a.due_date, time(23, 59), env.tz))]

    for b, a in keyed:
        yield b, partial(owned, a)


def first_tasks(ctx: Context, actor: User, limit: int | None = None,
                previous: TaskPage | None = None) -> TaskPage:
    """The first `limit` of everything waiting for me (My Tasks), most urgent first, with
    counts per kind — read without looking at every waiting case (decision 0014): each
    state's cases come in an order by an index, merged, and reading stops when no case
    left could come before the `limit + SPARE`-th task found. Given the list made for me
    before: that list if nothing changed; after a few changes, that list with the changed
    cases decided again (`_after_change`); else read anew."""
    limit = TASKS_SHOWN if limit is None else limit
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        mine = previous is not None and previous.user_id == me.id and previous.limit == limit
        since = previous.version if previous is not None and mine else -1
        newest, changed = uow.reads.changes.since(since, worklists.TASKS_INCREMENTAL_MAX)
        if previous is not None and mine and previous.version == newest:
            return previous
        now = ctx.clock()
        if previous is not None and mine and newest >= since \
                and len(changed) <= worklists.TASKS_INCREMENTAL_MAX:
            # only the cases changed since are looked at again
            kept = _after_change(ctx, uow, me, previous, changed, newest, now)
            if kept is not None:
                return kept
        env = worklists.env_of(ctx, uow, me)
        want = limit + SPARE

        def key(t: Task) -> Key:
            return task_key(t, now)

        # my department's assists: a small list, read whole
        found = sorted(worklists.assist_tasks(uow, me, None), key=key)
        keys = [key(t) for t in found]
        reads = _reads(ctx, me, env)
        complete = True
        looked: dict[State, int] = {}  # cases read per state, and the tasks they gave
        gave: dict[State, dict[str, int]] = {}
        streams = [_stream(ctx, uow, me, env, r, now, lambda: want - len(found))
                   for r in reads]
        for bound, tasks_of in heapq.merge(*streams, _capa_stream(ctx, uow, me, env, now),
                                           key=lambda x: x[0]):
            if len(found) >= want and keys[want - 1] <= bound:
                complete = False
                break
            made = tasks_of()
            state = made[0].state if made else None
            if isinstance(tasks_of, partial) and tasks_of.func is worklists.case_tasks:
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
                1 for b, _ in _capa_stream(ctx, uow, me, env, now) if b > keys[want - 1])
        ordered = _ordered(counts)
        # complete: every task is known, all kept (a complete read stops within a batch)
        return TaskPage(me.id or 0, newest, limit, tuple(found[:limit]), ordered, complete,
                        capped, tuple(found[limit:] if complete else found[limit:want]))


def _after_change(ctx: Context, uow: UnitOfWork, me: User, previous: TaskPage,
                  changed: set[int], newest: int, now: datetime) -> TaskPage | None:
    """The list after a few cases changed, from the list before and its spare tasks: the
    changed cases' tasks are decided again and merged in. A complete list stays complete
    and exact. Otherwise every task up to the last one read before is known (a case not
    changed kept its place), so the list is exact while at least `limit` of them remain,
    else None (read anew); the counts beyond the list stay estimates, moved by what the
    changed cases took off and added."""
    pool = previous.items + previous.spare
    fresh = worklists.task_items(ctx, uow, me, changed) if changed else []
    merged = order_tasks([t for t in pool if t.complaint_id not in changed] + fresh, now)
    limit = previous.limit
    if previous.complete:
        by_kind: dict[str, int] = {}
        for t in merged:
            by_kind[t.kind] = by_kind.get(t.kind, 0) + 1
        return TaskPage(me.id or 0, newest, limit, tuple(merged[:limit]), _ordered(by_kind),
                        True, False, tuple(merged[limit:]))
    if not pool:
        return None
    last = task_key(pool[-1], now)
    sure = [t for t in merged if task_key(t, now) <= last]
    if len(sure) < limit:
        return None
    # the counts: a changed case that was in the pool takes its old tasks off and adds its
    # new ones; one beyond the pool was in the estimate before (or not) and may be now: the
    # estimate is left as it was — adding would count a case again at every change of it
    counts = dict(previous.counts)
    known = {t.complaint_id for t in pool}
    for t in pool:
        if t.complaint_id in changed:
            counts[t.kind] = counts.get(t.kind, 0) - 1
    for t in fresh:
        if t.complaint_id in known:
            counts[t.kind] = counts.get(t.kind, 0) + 1
    shown = sure[:limit]
    for kind, n in Counter(t.kind for t in shown).items():  # never fewer than the list shows
        counts[kind] = max(counts.get(kind, 0), n)
    return TaskPage(me.id or 0, newest, limit, tuple(shown), _ordered(counts), False,
                    previous.capped, tuple(sure[limit:]))


def _ordered(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """Counts per kind as My Tasks lists them: the most first; none of a kind left out."""
    return tuple(sorted(((k, n) for k, n in counts.items() if n > 0),
                        key=lambda kv: (-kv[1], kv[0])))


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
    first: dict[State, _Read] = {}  # each state counted once, as its first read narrows it
    for r in reads:
        first.setdefault(r.state, r)
    counted = uow.reads.cases.count_waiting(  # one statement for every state
        [(r.state, r.kinds, r.department_id, r.not_on_hold) for r in first.values()],
        COUNT_CAP, scope=scope)
    for r, by_kind in zip(first.values(), counted, strict=True):
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
