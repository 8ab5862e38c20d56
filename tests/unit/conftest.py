"""Fixtures for the unit tier: a Context wired to in-memory fakes, a few users and reference
data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from core.model import Channel, Customer, DefectType, Kind, Role, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from tests.unit.fakes import FakeBlobs, FakeClock, FakeDatabase, FakeHasher
from core import usecases as uc

NOW = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
PASSWORD = "correct horse"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def blobs() -> FakeBlobs:
    return FakeBlobs()


@pytest.fixture
def kesu(db: FakeDatabase, blobs: FakeBlobs, clock: FakeClock) -> Context:
    return Context(uow=db, blobs=blobs, hasher=FakeHasher(), clock=clock)


@pytest.fixture
def admin(kesu: Context) -> User:
    return uc.accounts.create_first_admin(kesu, "admin", "Admin", PASSWORD)


MakeUser = Callable[..., User]


@pytest.fixture
def make_user(kesu: Context, admin: User) -> MakeUser:
    def make(username: str, *roles: Role, **kw: Any) -> User:
        data = UserInput(username, username.title(), frozenset(roles), **kw)
        return uc.accounts.create_user(kesu, admin, data, PASSWORD)

    return make


@pytest.fixture
def sales(make_user: MakeUser) -> User:
    return make_user("sally", Role.SALES)


@pytest.fixture
def qa(make_user: MakeUser) -> User:
    return make_user("quinn", Role.QA)


@pytest.fixture
def manager(make_user: MakeUser) -> User:
    return make_user("mona", Role.MANAGEMENT)


@pytest.fixture
def finance(make_user: MakeUser) -> User:
    return make_user("fay", Role.FINANCE)


@pytest.fixture
def customer_id(kesu: Context, admin: User) -> int:
    return uc.reference.save_reference(kesu, admin,
                                       Customer(0, "Acme Electronics", email="qa@acme.example"))


@pytest.fixture
def other_customer_id(kesu: Context, admin: User) -> int:
    return uc.reference.save_reference(kesu, admin, Customer(0, "Beta Motors"))


@pytest.fixture
def defect_id(kesu: Context, admin: User) -> int:
    return uc.reference.save_reference(kesu, admin, DefectType(0, "SCR", "划伤", "Scratch"))


@pytest.fixture
def other_defect_id(kesu: Context, admin: User) -> int:
    return uc.reference.save_reference(kesu, admin, DefectType(0, "DIM", "尺寸不良", "Dimension"))


@pytest.fixture
def draft(customer_id: int, defect_id: int) -> ComplaintDraft:
    """A valid quality complaint, as the Log page would send it."""
    return ComplaintDraft(customer_id=customer_id, kind=Kind.COMPLAINT, channel=Channel.PHONE,
                          description="Scratches on the housing of 12 pcs", product_code="P-100",
                          product_name="Housing", order_no="SO-1", lot="L1", delivered_qty=500,
                          defective_qty=12, defect_type_id=defect_id,
                          claimed_amount=Decimal("300.00"))


def with_(d: ComplaintDraft, **changes: Any) -> ComplaintDraft:
    return replace(d, **changes)
