"""Use cases of the execution chains after approval (issue #12 item 5, docs/procedure.md §6):
the steps of a rework, a replacement or a return, recorded one by one by their owners, each
with its time limit on the working calendar; the chain's last step marks the disposition
done, which lets the case complete. The rules are in core/rules/chains.py."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from core import notify, sla
from core.errors import InvalidInput, NotAllowed
from core.model import (
    CaseFile,
    ChainStep,
    Complaint,
    Disposition,
    Event,
    State,
    User,
    Value,
)
from core.ports import UnitOfWork
from core.rules import chains
from core.rules.chains import ChainError, ChainSettings, StepDef, StepSetting
from core.usecases import context, pipeline, security
from core.usecases.context import Context

SETTINGS_KEY = "execution_chains"


@dataclass(frozen=True)
class ChainView:
    """One disposition's chain as a page shows it: the steps the company uses (with who does
    each), what was recorded, the step to record next, when it is due, and whether the viewer
    may record it (None) or why not."""

    disposition: Disposition
    steps: tuple[tuple[StepDef, StepSetting, int | None], ...]  # (step, setting, department)
    records: tuple[ChainStep, ...]
    next: StepDef | None
    due_at: datetime | None
    finished: bool
    why_not: str | None


def settings_of(uow: UnitOfWork) -> ChainSettings:
    return chains.settings_from(uow.settings.get(SETTINGS_KEY))


def chain_settings(ctx: Context, actor: User) -> ChainSettings:
    """The chains in force: which steps each has, who does them, their time limits."""
    with ctx.uow() as uow:
        context.acting_user(ctx, uow, actor)
        return settings_of(uow)


def set_chain_settings(ctx: Context, actor: User, rows: Sequence[Mapping[str, Any]]) -> None:
    """Administrator: store the chains' steps (on/off, role, department, working days); every
    row is checked before any is stored."""
    with ctx.uow(write=True) as uow:
        me = context.require_admin(ctx, uow, actor)
        codes = {d.code for d in uow.ref.departments(include_inactive=True)}
        try:
            value = chains.validate(rows, codes)
        except ChainError as e:
            raise InvalidInput(e.key, **e.params) from e
        stored = uow.settings.get(SETTINGS_KEY)
        current = stored if isinstance(stored, dict) else {}
        # the rows given over what was stored over the defaults: a step not given is kept
        merged = {chain: {**defaults, **(current.get(chain) or {}), **value.get(chain, {})}
                  for chain, defaults in chains.DEFAULT_SETTINGS.items()}
        security.add_settings(uow, ctx.clock(), me, {SETTINGS_KEY: merged})
        uow.settings.set(SETTINGS_KEY, merged)
        uow.commit()


def dept_ids(uow: UnitOfWork) -> dict[str, int]:
    """The departments' ids by code (a chain step's owner is named by code)."""
    return {d.code: d.id for d in uow.ref.departments(include_inactive=True)}


def _department(setting: StepSetting, depts: Mapping[str, int],
                case: CaseFile) -> int | None:
    """The department that does a step: the one the setting names, else the case's
    responsible department."""
    if setting.department:
        return depts.get(setting.department)
    return case.complaint.responsible_department_id


def _implementing_since(events: Sequence[Event]) -> datetime | None:
    hits = [e.at for e in events
            if e.changes.get("state", [None, None])[1] == State.IMPLEMENTING.value]
    return hits[-1] if hits else None


def views(ctx: Context, uow: UnitOfWork, me: User, case: CaseFile,
          depts: Mapping[str, int] | None = None,
          recorded: Sequence[ChainStep] | None = None,
          cfg: ChainSettings | None = None) -> list[ChainView]:
    """The chains of the case's current dispositions (those with steps, or with records);
    the case file needs its dispositions only. `depts`: dept_ids, `recorded`: the case's
    chain records, `cfg`: settings_of, when already read."""
    cfg = settings_of(uow) if cfg is None else cfg
    depts = dept_ids(uow) if depts is None else depts
    if recorded is None:
        recorded = uow.records.where(ChainStep, complaint_id=case.complaint.id or 0)
    since: datetime | None = None
    cal = None
    out = []
    for d in case.current(case.dispositions):
        records = tuple(r for r in recorded if r.disposition_id == d.id)
        if not chains.has_chain(d.type, cfg) and not records:
            continue
        steps = tuple((s, cfg[d.type][s.name], _department(cfg[d.type][s.name], depts, case))
                      for s in chains.steps_of(d.type, cfg))
        nxt = None if d.done else chains.next_step(d.type, cfg, records)
        due = why = None
        if nxt is not None and case.complaint.state == State.IMPLEMENTING:
            if since is None:
                since = _implementing_since(uow.events.for_complaint(case.complaint.id or 0))
                cal = context.calendar_of(ctx, uow)
            started = max([r.at for r in records] + ([since] if since else []), default=None)
            setting = cfg[d.type][nxt.name]
            if started is not None and cal is not None:
                due = sla.after(started, setting.days, "wd", cal)
            why = chains.may_record(setting, me, _department(setting, depts, case),
                                    case.complaint.responsible_department_id)
        elif nxt is not None:
            why = "why.wrong_state"
        out.append(ChainView(d, steps, records, nxt, due, d.done, why))
    return out


def case_chains(ctx: Context, actor: User, complaint_id: int) -> list[ChainView]:
    """The execution chains of a case, for whoever may open it."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        case = context.load_case(ctx, uow, complaint_id, me)
        return views(ctx, uow, me, case)


def mine(ctx: Context, uow: UnitOfWork, me: User, case: CaseFile,
         depts: Mapping[str, int] | None = None,
         recorded: Sequence[ChainStep] | None = None,
         cfg: ChainSettings | None = None) -> list[ChainView]:
    """The chains whose next step waits for me (My Tasks)."""
    if case.complaint.state != State.IMPLEMENTING or case.complaint.on_hold_since:
        return []
    return [v for v in views(ctx, uow, me, case, depts, recorded, cfg)
            if v.next is not None and v.why_not is None]


def record_step(ctx: Context, actor: User, disposition_id: int, step: str,
                values: Mapping[str, Any]) -> Complaint:
    """Record the next step of a disposition's chain (goods received, the rework plan, …):
    by its owner, in order, with quantities and dates that agree; the last step marks the
    disposition done (issue #12 item 5)."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        case, d = pipeline.record_in_case(ctx, uow, Disposition, disposition_id)
        context.check_visible(ctx, uow, me, case.complaint)
        c = case.complaint
        if c.state != State.IMPLEMENTING or d.round != c.approval_round:
            raise NotAllowed("why.wrong_state", state=c.state.value)
        cfg = settings_of(uow)
        sd = chains.STEP_DEFS.get(step)
        setting = cfg[d.type].get(step)
        if sd is None or setting is None or not setting.on:
            raise InvalidInput("err.chain_unknown_step", chain_step=step)
        why = chains.may_record(setting, me, _department(setting, dept_ids(uow), case),
                                c.responsible_department_id)
        if why is not None:
            raise NotAllowed(why)
        if d.done:
            raise InvalidInput("err.already_done")
        records = uow.records.where(ChainStep, disposition_id=d.id)
        try:
            chains.check_turn(d.type, step, cfg, records)
            data = chains.parse(sd, values)
            chains.check(d.type, step, data, cfg, records, d.quantity,
                         context.today(ctx, uow))
        except ChainError as e:
            raise InvalidInput(e.key, **e.params) from e
        record = ChainStep(None, d.complaint_id, d.id or 0, step, data, me.id, now)
        uow.records.add(record)
        changes: dict[str, list[Value]] = {"chain_step": [None, step],
                                           "disposition": [None, d.type.value]}
        changes.update({k: [None, v] for k, v in data.items() if v is not None and v != ""})
        if chains.finished(d.type, cfg, [*records, record]):
            uow.records.update(replace(d, done=True, done_by_id=me.id, done_at=now,
                                       done_qty=chains.done_quantity(d.type, [*records, record])))
            changes["chain_done"] = [False, True]
        new = pipeline.touch(ctx, uow, case, me, now, "chain_step_recorded", changes)
        if "chain_done" not in changes:
            _tell_next(ctx, uow, me, new, d, [*records, record], cfg, now)
        uow.commit()
        return new


def _tell_next(ctx: Context, uow: UnitOfWork, me: User, c: Complaint, d: Disposition,
               records: Sequence[ChainStep], cfg: ChainSettings, now: datetime) -> None:
    """An inbox line (and any channel) for whoever records the chain's next step: its role,
    and for production its department — not management, who may record any step but is not
    asked to (issue #12 item 5: the next owner learns it is their turn)."""
    nxt = chains.next_step(d.type, cfg, list(records))
    if nxt is None:
        return
    setting = cfg[d.type][nxt.name]
    case = context.load_case(ctx, uow, c.id or 0)
    dept = _department(setting, dept_ids(uow), case)
    people = [u for u in uow.users.list() if u.active and u.id != me.id
              and u.has(setting.role) and chains.may_record(
                  setting, u, dept, c.responsible_department_id) is None]
    notes = [notify.Note(u.id, "chain_step_due",
                         {"number": c.number, "chain_step": nxt.name, "by": me.display_name})
             for u in people]
    pipeline.deliver(ctx, uow, notes, c, now, tag=f"chain{len(records)}:{d.id}")

