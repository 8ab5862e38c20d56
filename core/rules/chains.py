"""Execution chains after approval (issue #12 item 5, docs/procedure.md §6): what carrying out a
rework, a replacement or a return means, step by step, and the checks of each step.

A chain is a fixed list of steps per disposition type (seed 4.3.3–4.3.5); which of them a
company uses, who does each (role and department) and how long each may take (working days)
are settings, stored as data (`DEFAULT_SETTINGS`: the seed's manufacturing procedure). A
compensation's execution is its payments (core/usecases/closure.py record_payment); an
explanation needs nothing. Everything here is pure: the use cases pass the records in.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.model import ChainStep, DispositionType, Role, User, Value

QTY, DAY, PLANNED, TEXT, YES_NO = "qty", "day", "planned", "text", "yes_no"
# day: when something happened (not in the future, not before the step before);
# planned: a date ahead (a plan's date, a planned ship date)
KINDS = (QTY, DAY, PLANNED, TEXT, YES_NO)
TEXT_MAX = 2000
ROLES = (Role.PRODUCTION, Role.QA, Role.SALES, Role.FINANCE)


@dataclass(frozen=True)
class Field:
    name: str  # field.<name> is its label
    kind: str  # KINDS
    required: bool = True


@dataclass(frozen=True)
class StepDef:
    name: str  # chain_step.<name> is its label
    fields: tuple[Field, ...]


def _f(name: str, kind: str, required: bool = True) -> Field:
    return Field(name, kind, required)


# The steps of each chain, in order (seed 4.3.3 rework, 4.3.4 replacement, 4.3.5 return).
CHAINS: dict[DispositionType, tuple[StepDef, ...]] = {
    DispositionType.REWORK: (
        StepDef("goods_received", (_f("received_qty", QTY), _f("received_on", DAY))),
        StepDef("rework_plan", (_f("rework_plan", TEXT), _f("planned_on", PLANNED))),
        StepDef("purchase", (_f("request_no", TEXT), _f("arrived_on", DAY))),
        StepDef("rework", (_f("reworked_qty", QTY), _f("reworked_on", DAY))),
        StepDef("inspection", (_f("passed_qty", QTY), _f("failed_qty", QTY),
                               _f("inspected_on", DAY))),
        StepDef("customer_check", (_f("accepted", YES_NO), _f("checked_on", DAY),
                                   _f("check_note", TEXT, required=False))),
    ),
    DispositionType.REPLACEMENT: (
        StepDef("manufacturing_order", (_f("mo_number", TEXT), _f("order_qty", QTY),
                                        _f("planned_ship_on", PLANNED))),
        StepDef("shipped", (_f("shipped_on", DAY), _f("delivery_note", TEXT))),
    ),
    DispositionType.RETURN: (
        StepDef("return_received", (_f("received_qty", QTY), _f("received_on", DAY))),
        StepDef("sorting", (_f("good_qty", QTY), _f("scrap_qty", QTY),
                            _f("rework_qty", QTY), _f("discount_qty", QTY),
                            _f("receipt_no", TEXT), _f("sorted_on", DAY))),
    ),
    DispositionType.COMPENSATION: (),  # its payments
    DispositionType.EXPLANATION: (),
}
STEP_DEFS: dict[str, StepDef] = {s.name: s for steps in CHAINS.values() for s in steps}
# a customer who does not accept the reworked goods: rework, inspection and their check again
REDO_ON_REJECTION = ("rework", "inspection", "customer_check")


@dataclass(frozen=True)
class StepSetting:
    """Whether a company uses a step, who does it, and its time limit in working days.
    `department`: a department's code; "" = the case's responsible department."""

    on: bool
    role: Role
    department: str
    days: int


ChainSettings = dict[DispositionType, dict[str, StepSetting]]

# seed 4.3.3: 工程部 writes the plan, 计划/物资中心 buy, 制造部 reworks, 品质保障部 inspects,
# 营销部 has the customer re-inspect; 4.3.4 sales raises the 制造命令 and production ships;
# 4.3.5 the returned goods are sorted by production; "returned goods within a week" (5 wd).
_DEFAULTS: dict[str, dict[str, tuple[bool, Role, str, int]]] = {
    "rework": {
        "goods_received": (True, Role.PRODUCTION, "", 2),
        "rework_plan": (True, Role.PRODUCTION, "ENG", 2),
        "purchase": (True, Role.PRODUCTION, "MAT", 10),
        "rework": (True, Role.PRODUCTION, "MFG", 5),
        "inspection": (True, Role.QA, "QA", 2),
        "customer_check": (True, Role.SALES, "SALES", 5),
    },
    "replacement": {
        "manufacturing_order": (True, Role.SALES, "SALES", 2),
        "shipped": (True, Role.PRODUCTION, "MFG", 10),
    },
    "return": {
        "return_received": (True, Role.PRODUCTION, "", 2),
        "sorting": (True, Role.PRODUCTION, "", 5),
    },
}
DEFAULT_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    chain: {step: {"on": on, "role": role.value, "department": dept, "days": days}
            for step, (on, role, dept, days) in steps.items()}
    for chain, steps in _DEFAULTS.items()
}


class ChainError(ValueError):
    """A step that cannot be recorded: a translation key and its parameters (the use case
    raises InvalidInput with them)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def settings_from(stored: Any) -> ChainSettings:
    """The chain settings in force: the stored ones over the defaults (a step the stored
    value does not name keeps its default)."""
    out: ChainSettings = {}
    saved = stored if isinstance(stored, dict) else {}
    for chain, steps in CHAINS.items():
        by: dict[str, StepSetting] = {}
        for s in steps:
            raw = {**DEFAULT_SETTINGS[chain.value][s.name],
                   **(saved.get(chain.value, {}) or {}).get(s.name, {})}
            by[s.name] = StepSetting(bool(raw["on"]), Role(raw["role"]), str(raw["department"]),
                                     int(raw["days"]))
        out[chain] = by
    return out


def validate(rows: Sequence[Mapping[str, Any]], department_codes: set[str]) -> dict[str, Any]:
    """Rows (chain, step, on, role, department, days) as the value to store, or ChainError
    saying what is wrong with the first bad row."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        try:
            chain = DispositionType(str(r.get("chain")))
        except ValueError as e:
            raise ChainError("err.chain_unknown_step", chain_step=str(r.get("step"))) from e
        step = str(r.get("step"))
        if step not in {s.name for s in CHAINS[chain]}:
            raise ChainError("err.chain_unknown_step", chain_step=step)
        role = str(r.get("role") or "")
        if role not in {x.value for x in ROLES}:
            raise ChainError("err.chain_role", chain_step=step)
        dept = str(r.get("department") or "").strip()
        if dept and dept not in department_codes:
            raise ChainError("err.chain_department", chain_step=step, code=dept)
        try:
            days = int(r.get("days"))  # type: ignore[arg-type]
        except (TypeError, ValueError) as e:
            raise ChainError("err.chain_days", chain_step=step) from e
        if not 1 <= days <= 365:
            raise ChainError("err.chain_days", chain_step=step)
        out.setdefault(chain.value, {})[step] = {"on": bool(r.get("on")), "role": role,
                                                 "department": dept, "days": days}
    return out


def steps_of(kind: DispositionType, settings: ChainSettings) -> tuple[StepDef, ...]:
    """The steps a company's chain of this type has, in order (those switched on)."""
    return tuple(s for s in CHAINS[kind] if settings[kind][s.name].on)


def has_chain(kind: DispositionType, settings: ChainSettings) -> bool:
    return bool(steps_of(kind, settings))


def done_steps(records: Sequence[ChainStep]) -> set[str]:
    """The steps that stand done after these records (oldest first): a customer's rejection
    opens the rework, its inspection and the customer's check again."""
    done: set[str] = set()
    for r in records:
        done.add(r.step)
        if r.step == "customer_check" and r.data.get("accepted") is False:
            done -= set(REDO_ON_REJECTION)
    return done


def next_step(kind: DispositionType, settings: ChainSettings,
              records: Sequence[ChainStep]) -> StepDef | None:
    """The step to record next, or None when the chain is finished."""
    done = done_steps(records)
    return next((s for s in steps_of(kind, settings) if s.name not in done), None)


def finished(kind: DispositionType, settings: ChainSettings,
             records: Sequence[ChainStep]) -> bool:
    return has_chain(kind, settings) and next_step(kind, settings, records) is None


def latest(records: Sequence[ChainStep], step: str) -> ChainStep | None:
    hits = [r for r in records if r.step == step]
    return hits[-1] if hits else None


def may_record(setting: StepSetting, me: User, department_id: int | None,
               responsible_id: int | None) -> str | None:
    """Why `me` may not record a step, or None. Management may; otherwise the step's role;
    production only for the step's department — the case's responsible department when the
    setting names none (issue #11: no production user records another department's work)."""
    if me.has(Role.MANAGEMENT):
        return None
    if not me.has(setting.role):
        return "why.wrong_role"
    if setting.role != Role.PRODUCTION:
        return None
    dept = department_id if setting.department else responsible_id
    return None if dept is not None and me.department_id == dept else "why.not_your_department"


def parse(step: StepDef, raw: Mapping[str, Any]) -> dict[str, Value]:
    """The step's values as the record keeps them: quantities as whole numbers ≥ 0, dates as
    ISO text, yes/no as bool, text trimmed; ChainError for what is missing or wrong."""
    out: dict[str, Value] = {}
    for f in step.fields:
        v = raw.get(f.name)
        if isinstance(v, str):
            v = v.strip()
        if v is None or v == "":
            if f.required:
                raise ChainError("err.required", field=f.name)
            out[f.name] = "" if f.kind == TEXT else None
            continue
        if f.kind == QTY:
            try:
                n = int(str(v)) if not isinstance(v, (int, float)) else int(v)
            except ValueError as e:
                raise ChainError("err.quantity", field=f.name) from e
            if n < 0 or (isinstance(v, float) and v != n):
                raise ChainError("err.quantity", field=f.name)
            out[f.name] = n
        elif f.kind in (DAY, PLANNED):
            if not isinstance(v, date):
                try:
                    v = date.fromisoformat(str(v))
                except ValueError as e:
                    raise ChainError("err.chain_date", field=f.name) from e
            out[f.name] = v.isoformat()
        elif f.kind == YES_NO:
            out[f.name] = bool(v)
        else:
            text = str(v)
            if len(text) > TEXT_MAX:
                raise ChainError("err.too_long", field=f.name, n=TEXT_MAX)
            out[f.name] = text
    return out


def _day(values: Mapping[str, Value], step: StepDef) -> tuple[str, date] | None:
    """The date the step happened (its `day` field), if it has one."""
    for f in step.fields:
        v = values.get(f.name)
        if f.kind == DAY and isinstance(v, str) and v:
            return f.name, date.fromisoformat(v)
    return None


def _qty(r: ChainStep | None, name: str) -> int | None:
    v = r.data.get(name) if r is not None else None
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def check_turn(kind: DispositionType, step: str, settings: ChainSettings,
               records: Sequence[ChainStep]) -> None:
    """ChainError unless `step` is the one to record next: the steps go in order."""
    wanted = next_step(kind, settings, records)
    if wanted is None:
        raise ChainError("err.chain_finished")
    if step != wanted.name:
        if step in done_steps(records):
            raise ChainError("err.chain_step_done", chain_step=step)
        raise ChainError("err.chain_step_order", chain_step=wanted.name)


def check(kind: DispositionType, step: str, values: Mapping[str, Value],
          settings: ChainSettings, records: Sequence[ChainStep], planned_qty: int | None,
          today: date) -> None:
    """ChainError unless `step` may be recorded now with `values` (parsed): the steps in
    order, no date in the future or before the step before, and the quantities that must
    agree — no more received than approved, no more reworked than received, inspected
    pass + fail no more than reworked, sorting results adding up to what came back
    (docs/procedure.md §6)."""
    check_turn(kind, step, settings, records)
    sd = STEP_DEFS[step]
    when = _day(values, sd)
    if when is not None:
        name, day = when
        if day > today:
            raise ChainError("err.future_date", field=name)
        before = [(_day(r.data, STEP_DEFS[r.step]), r) for r in records]
        earlier = [d for d, _ in before if d is not None]
        if earlier and day < max(d for _, d in earlier):
            prev = max(earlier, key=lambda x: x[1])
            raise ChainError("err.chain_date_order", field=name, prev=prev[1].isoformat())
    received_step = "goods_received" if kind == DispositionType.REWORK else "return_received"
    received = _qty(latest(records, received_step), "received_qty")
    if received is None and received_step not in {s.name for s in steps_of(kind, settings)}:
        received = planned_qty  # no receiving step: the quantity the disposition approved
    if step == received_step and planned_qty is not None:
        # no more back than the disposition approved (issue #12 item 5, like no payment
        # above the approved amount): more goods need a disposition approved for them
        n = _qty_of(values, "received_qty")
        if n > planned_qty:
            raise ChainError("err.chain_received_above", n=n, limit=planned_qty)
    if step == "rework":
        n = _qty_of(values, "reworked_qty")
        if received is not None and n > received:
            raise ChainError("err.chain_reworked_above", n=n, limit=received)
    if step == "inspection":
        reworked = _qty(latest(records, "rework"), "reworked_qty")
        limit = reworked if reworked is not None else received
        n = _qty_of(values, "passed_qty") + _qty_of(values, "failed_qty")
        if limit is not None and n > limit:
            raise ChainError("err.chain_inspected_above", n=n, limit=limit)
    if step == "sorting":
        parts = [_qty_of(values, x) for x in ("good_qty", "scrap_qty", "rework_qty",
                                              "discount_qty")]
        if received is not None and sum(parts) != received:
            raise ChainError("err.chain_sorting_sum", n=sum(parts), total=received)


def _qty_of(values: Mapping[str, Value], name: str) -> int:
    v = values.get(name)
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def done_quantity(kind: DispositionType, records: Sequence[ChainStep]) -> int | None:
    """What the finished chain carried out: reworked, shipped (ordered) or sorted."""
    if kind == DispositionType.REWORK:
        return _qty(latest(records, "rework"), "reworked_qty")
    if kind == DispositionType.REPLACEMENT:
        return _qty(latest(records, "manufacturing_order"), "order_qty")
    if kind == DispositionType.RETURN:
        return _qty(latest(records, "return_received"), "received_qty")
    return None
