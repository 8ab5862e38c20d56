"""Use cases of reference data: departments, customers, products, defect types, settings."""
from __future__ import annotations

import dataclasses
import re
from decimal import InvalidOperation
from typing import Any

from core import settings as settings_mod
from core.errors import InvalidInput, NotAllowed
from core.model import (
    Customer,
    DefectType,
    Department,
    Product,
    User,
)
from core.ports import (
    UnitOfWork,
)
from core.usecases import common, complaints, context, security, timing
from core.usecases.context import Context


def departments(ctx: Context, include_inactive: bool = False) -> list[Department]:
    with ctx.uow() as uow:
        return uow.ref.departments(include_inactive)


def customers(ctx: Context, include_inactive: bool = False) -> list[Customer]:
    with ctx.uow() as uow:
        return uow.ref.customers(include_inactive)


def products(ctx: Context, include_inactive: bool = False) -> list[Product]:
    with ctx.uow() as uow:
        return uow.ref.products(include_inactive)


def defect_types(ctx: Context, include_inactive: bool = False) -> list[DefectType]:
    with ctx.uow() as uow:
        return uow.ref.defect_types(include_inactive)


def save_reference(ctx: Context, actor: User, item: Department | Customer | Product | DefectType
                   ) -> int:
    """Add (id 0) or update a department, customer, product or defect type.

    Admin may do all; anyone who logs complaints may add a customer inline.
    """
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        if not (me.is_admin or (isinstance(item, Customer) and item.id == 0
                                and me.has(*complaints.CASE_ROLES))):
            raise NotAllowed("err.role_required", roles="admin")
        if isinstance(item, Customer) and not me.is_admin:
            # added on the Log page: looked after by the department of whoever added it
            item = dataclasses.replace(item, department_id=me.department_id)
        _check_reference(ctx, uow, item)
        if item.id == 0:
            new_id = uow.ref.add(item)
        else:
            uow.ref.update(item)
            new_id = item.id
        uow.commit()
        return new_id


def _check_reference(ctx: Context, uow: UnitOfWork, item: Any) -> None:
    text_fields = [f.name for f in dataclasses.fields(item)
                   if isinstance(getattr(item, f.name), str)]
    for name in text_fields:
        if len(getattr(item, name)) > (
            common.MAX_TEXT if name == "address" else common.MAX_SHORT * 2
        ):
            raise InvalidInput("err.too_long", field=name)
    existing: list[Any]
    if isinstance(item, Department) and item.head_id is not None:
        head = uow.users.get(item.head_id)
        if head is None or not head.active:
            raise InvalidInput("err.unknown", field="head")
    if isinstance(item, Customer):
        existing = uow.ref.customers(include_inactive=True)
        key, label = item.name.strip(), "name"
        if item.email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", item.email):
            raise InvalidInput("err.email_format")
        if item.department_id is not None and item.department_id not in {
                d.id for d in uow.ref.departments(include_inactive=True)}:
            raise InvalidInput("err.unknown", field="department")
    elif isinstance(item, Product):
        existing = uow.ref.products(include_inactive=True)
        key, label = item.code.strip(), "code"
    elif isinstance(item, DefectType):
        existing = uow.ref.defect_types(include_inactive=True)
        key, label = item.code.strip(), "code"
        if not item.name_zh.strip() or not item.name_en.strip():
            raise InvalidInput("err.required", field="name")
    else:
        existing = uow.ref.departments(include_inactive=True)
        key, label = item.code.strip(), "code"
        if not item.name_zh.strip() or not item.name_en.strip():
            raise InvalidInput("err.required", field="name")
    if not key:
        raise InvalidInput("err.required", field=label)
    for other in existing:
        if other.id != item.id and getattr(other, label).strip().lower() == key.lower():
            raise InvalidInput("err.duplicate_value", value=key)


def set_settings(ctx: Context, actor: User, values: dict[str, Any]) -> None:
    """Validate every value first, then store them all (nothing half-saved)."""
    with ctx.uow(write=True) as uow:
        context.require_admin(ctx, uow, actor)
        stored = {}
        for key, value in values.items():
            try:
                stored[key] = settings_mod.validate(key, value)
            except (ValueError, InvalidOperation, TypeError) as e:
                bounds = re.fullmatch(r"range_(\d+)_(\d+)", str(e))
                if bounds:  # say the allowed range, in the user's words
                    raise InvalidInput("err.setting_range", field=key, low=int(bounds[1]),
                                       high=int(bounds[2])) from e
                raise InvalidInput("err.setting_invalid", field=key, why=str(e)) from e
        security.add_settings(uow, ctx.clock(), actor, stored)
        for key, value in stored.items():
            uow.settings.set(key, value)
        if stored.keys() & {"work_start", "work_end", "timezone"}:
            timing.refresh_due_times(ctx, uow)  # working hours moved: so do the due times
        uow.commit()
