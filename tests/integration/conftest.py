"""Integration tier: the real services on a real database (SQLite file or PostgreSQL)."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from core.model import Channel, Customer, DefectType, Department, Kind, Product, Role, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from db.uow import SqlUowFactory
from adapters.wiring import build_app
from core import usecases as uc

# Mid-month, so the case numbers of all tests share one period whatever the time zone.
NOW = datetime(2026, 3, 15, 4, 0, tzinfo=timezone.utc)
PASSWORD = "correct-horse-1"


def engine_of(app: Context):  # noqa: ANN201 - an sqlalchemy Engine
    assert isinstance(app.uow, SqlUowFactory)
    return app.uow.engine


@pytest.fixture
def make_app(db_url: str) -> Iterator[Callable[..., Context]]:
    """Build further application instances on the same database (own engine each)."""
    built: list[Context] = []

    def make(clock: Callable[[], datetime] | None = (lambda: NOW),
             migrate: bool = False) -> Context:
        app = build_app(db_url, run_migrations=migrate)
        if clock is not None:
            app = dataclasses.replace(app, clock=clock)
        built.append(app)
        return app

    yield make
    for app in built:
        engine_of(app).dispose()


@pytest.fixture
def app(make_app: Callable[..., Context]) -> Context:
    """The application on a freshly migrated database, with a fixed clock (NOW)."""
    return make_app(migrate=True)


@dataclasses.dataclass
class World:
    admin: User
    sales: User
    qa: User
    manager: User
    customer: Customer
    product: Product
    defect: DefectType
    department: Department


@pytest.fixture
def world(app: Context) -> World:
    """An admin, three case users and one of each reference item, with Chinese names."""
    admin = uc.accounts.create_first_admin(app, "admin", "管理员", PASSWORD)
    dep_id = uc.reference.save_reference(app, admin, Department(0, "QA", "品质部", "Quality"))
    dep = Department(dep_id, "QA", "品质部", "Quality")

    def user(name: str, display: str, role: Role) -> User:
        return uc.accounts.create_user(app, admin,
                                       UserInput(name, display, frozenset({role}), dep_id),
                                       PASSWORD)

    cust = Customer(0, "华东电子有限公司", contact="王经理")
    cust = dataclasses.replace(cust, id=uc.reference.save_reference(app, admin, cust))
    prod_id = uc.reference.save_reference(app, admin, Product(0, "P-100", "螺丝 M3"))
    dt_id = uc.reference.save_reference(app, admin, DefectType(0, "SCRATCH", "划伤", "Scratch"))
    return World(admin=admin, sales=user("sales1", "张三", Role.SALES),
                 qa=user("qa1", "李四", Role.QA), manager=user("boss", "王五", Role.MANAGEMENT),
                 customer=cust, product=Product(prod_id, "P-100", "螺丝 M3"),
                 defect=DefectType(dt_id, "SCRATCH", "划伤", "Scratch"), department=dep)


@pytest.fixture
def draft(world: World) -> Callable[..., ComplaintDraft]:
    """A valid quality-complaint draft for world's customer; keywords override fields."""

    def make(**kw: Any) -> ComplaintDraft:
        base = ComplaintDraft(customer_id=world.customer.id, kind=Kind.COMPLAINT,
                              channel=Channel.PHONE, description="外观划伤",
                              product_code=world.product.code, defect_type_id=world.defect.id)
        return dataclasses.replace(base, **kw)

    return make
