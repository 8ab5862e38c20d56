"""Use cases of importing an old register (docs/procedure.md §10); the checks are in
core/importing.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core import sla
from core.errors import DomainError, InvalidInput, NotAllowed
from core.importing import (
    MAPPING_KEY,
    ImportResult,
    Known,
    Options,
    Report,
    RowPlan,
    Table,
    _code,
    _event_changes,
    guess_mapping,
    norm,
    normal_number,
    remember,
    validate,
)
from core.model import (
    CaseFile,
    Complaint,
    Customer,
    DefectType,
    Event,
    State,
    Title,
    User,
)
from core.ports import UnitOfWork
from core.rules import numbering
from core.usecases import context, custom_fields, pipeline
from core.usecases.context import Context


def _importer(ctx: Context, uow: UnitOfWork, actor: User) -> User:
    """An administrator or the QA manager (品管经理) moves the old register in."""
    me = context.acting_user(ctx, uow, actor)
    if not (me.is_admin or Title.QA_MANAGER in me.titles):
        raise NotAllowed("imp.err.not_allowed")
    return me


def may_import(ctx: Context, actor: User) -> bool:
    """Whether to offer the import at all: the user as stored now, not as the page has it."""
    with ctx.uow() as uow:
        try:
            _importer(ctx, uow, actor)
        except DomainError:
            return False
        return True


def import_mapping(ctx: Context, actor: User, headers: Sequence[str]) -> dict[int, str]:
    """The mapping to offer for these headers: what was chosen before, else a guess."""
    with ctx.uow() as uow:
        _importer(ctx, uow, actor)
        return guess_mapping(headers, uow.settings.get(MAPPING_KEY) or {},
                             custom_fields.definitions(uow))


def check_import(ctx: Context, actor: User, table: Table, mapping: dict[int, str],
                 options: Options) -> Report:
    """The row-by-row report; nothing is written."""
    with ctx.uow() as uow:
        _importer(ctx, uow, actor)
        return validate(table, mapping, _known(ctx, uow, table, mapping), options)


def run_import(ctx: Context, actor: User, table: Table, mapping: dict[int, str], options: Options,
               progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import the register in one unit of work: every row, or (options.clean_only) the rows
    without errors; any error otherwise and nothing is written."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = _importer(ctx, uow, actor)
        report = validate(table, mapping, _known(ctx, uow, table, mapping), options)
        if report.has_errors and not options.clean_only:
            raise InvalidInput("imp.err.not_clean", n=report.error_rows)
        plans = report.clean
        if not plans:
            raise InvalidInput("imp.err.nothing_clean")
        customers = _add_missing(ctx, uow, plans, options)
        defects = {norm(d.name_zh): d.id for d in uow.ref.defect_types(True)} | {
            norm(d.code): d.id for d in uow.ref.defect_types(True)
        }
        created_defects = 0
        for name in report.new_defect_types:
            if norm(name) not in defects:
                defects[norm(name)] = uow.ref.add(DefectType(0, _code(name, defects), name, name))
                created_defects += 1
        cal, tz = context.calendar_of(ctx, uow), context.settings_of(ctx, uow).tz
        history = uow.settings.get("sla_history") or []
        for plan in plans:  # first: a new number given below must not meet a later row's
            parsed = numbering.parse_number(plan.number) if plan.number else None
            if parsed is not None:
                uow.complaints.raise_serial(*parsed)
        numbers: list[str] = []
        for i, plan in enumerate(plans):
            c = _imported_case(ctx, uow, me, plan, customers, defects, cal, tz, now)
            if c.state != State.CLOSED:
                first = sla.earliest(sla.due_times(CaseFile(c), [], cal, history, now))
                c.due_at, c.due_step = (first.due, first.step) if first else (None, "")
            c.id = uow.complaints.add(c)
            uow.events.add(
                Event(None, c.id, now, me.id, "imported",
                      {**_event_changes(table.filename, plan, c),
                       **custom_fields.write(uow, c.id, plan.custom)})
            )
            numbers.append(c.number)
            if progress is not None and (i % 100 == 0 or i == len(plans) - 1):
                progress(i + 1, len(plans))
        uow.settings.set(MAPPING_KEY,
                         remember(uow.settings.get(MAPPING_KEY) or {}, table.headers, mapping))
        uow.commit()
    return ImportResult(len(plans), report.error_rows, sum(p.closed for p in plans),
                        len(report.new_customers), created_defects, tuple(numbers))


def _known(ctx: Context, uow: UnitOfWork, table: Table, mapping: dict[int, str]) -> Known:
    cfg = context.settings_of(ctx, uow)
    customers = {norm(c.name): (c.id, c.name) for c in uow.ref.customers(True)}
    defects: dict[str, int] = {}
    for d in uow.ref.defect_types(True):
        for name in (d.code, d.name_zh, d.name_en):
            defects.setdefault(norm(name), d.id)
    departments: dict[str, int] = {}
    for dep in uow.ref.departments(True):
        for name in (dep.code, dep.name_zh, dep.name_en):
            departments.setdefault(norm(name), dep.id)
    products: dict[str, tuple[str, str]] = {}
    for p in uow.ref.products(True):
        products.setdefault(norm(p.code), (p.code, p.name))
        products.setdefault(norm(p.name), (p.code, p.name))
    col = {target: i for i, target in mapping.items()}.get("number")
    wanted = (
        sorted({normal_number(table.cell(cells, col)) for _, cells in table.rows} - {""})
        if col is not None
        else []
    )
    return Known(customers, defects, departments, products,
                 frozenset(uow.complaints.numbers_taken(wanted)), cfg.tz,
                 ctx.clock().astimezone(cfg.tz).date(),
                 tuple(custom_fields.definitions(uow)))


def _add_missing(ctx: Context, uow: UnitOfWork, plans: list[RowPlan],
                 options: Options) -> dict[str, int]:
    """Customers by normalised name, the missing ones of the rows to import created."""
    have = {norm(c.name): c.id for c in uow.ref.customers(True)}
    for plan in plans:
        key = norm(plan.customer)
        if key not in have:
            if not options.create_customers:  # validate() made it an error already
                raise InvalidInput("imp.err.unknown_customer", name=plan.customer)
            have[key] = uow.ref.add(Customer(0, plan.customer))
    return have


def _imported_case(ctx: Context, uow: UnitOfWork, me: User, plan: RowPlan,
                   customers: dict[str, int], defects: dict[str, int], cal: Any, tz: ZoneInfo,
                   now: datetime) -> Complaint:
    v = plan.values
    received: datetime = v["received_at"]
    number = plan.number
    if not number:
        period = numbering.period_of(received, tz)
        number = numbering.format_number(period, uow.complaints.next_serial(period))
    closed = plan.closed
    c = Complaint(
        id=None,
        number=number,
        received_at=received,
        channel=v["channel"],
        received_by_id=me.id,
        kind=v["kind"],
        customer_id=customers[norm(plan.customer)],
        description=v["description"],
        category=v["category"],
        customer_ref=v["customer_ref"],
        product_code=v["product_code"],
        product_name=v["product_name"],
        order_no=v["order_no"],
        lot=v["lot"],
        delivered_qty=v["delivered_qty"],
        delivery_date=v["delivery_date"],
        defective_qty=v["defective_qty"],
        defect_type_id=plan.defect_type_id
        or (defects.get(norm(plan.defect_type)) if plan.defect_type else None),
        claimed_amount=v["claimed_amount"],
        severity_proposed=v["severity_proposed"],
        severity=v["severity_proposed"] if closed else None,
        responsible_department_id=v["responsible_department_id"],
        root_cause=v["root_cause"],
        reply_text=v["reply_text"],
        state=State.CLOSED if closed else State.REGISTERED,
        closed_at=v["closed_at"] if closed else None,
        created_at=now,
        updated_at=now,
        updated_by_id=me.id,
        imported=True,
    )
    return replace(c, close_wd=pipeline.close_days(cal, c))
