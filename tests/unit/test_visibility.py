"""core/rules/visibility.py: who sees which case under record-level visibility (issue #11)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from core.model import Channel, Complaint, Kind, Role, State, User
from core.rules.visibility import scope_of, sees

AT = datetime(2026, 12, 7, tzinfo=timezone.utc)


def _user(uid: int, *roles: Role, dept: int | None = 10) -> User:
    return User(uid, f"u{uid}", f"u{uid}", frozenset(roles), dept)


def _case(received_by: int = 99, responsible: int | None = None) -> Complaint:
    return Complaint(1, "KS2612-0001", AT, Channel.PHONE, received_by, Kind.COMPLAINT, 5,
                     "划伤", state=State.REGISTERED, responsible_department_id=responsible)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.QA, Role.MANAGEMENT, Role.FINANCE])
def test_qa_management_finance_and_admin_see_everything(role: Role) -> None:
    assert scope_of(_user(1, role), "department") is None
    assert scope_of(_user(1, Role.SALES, role), "department") is None  # any such role


def test_off_by_default_everyone_sees_everything() -> None:
    assert scope_of(_user(1, Role.SALES), "all") is None


def test_sales_see_their_departments_customers_and_what_they_logged() -> None:
    sc = scope_of(_user(1, Role.SALES), "department")
    assert sees(sc, _case(), customer_department=10)
    assert not sees(sc, _case(), customer_department=20)
    assert not sees(sc, _case(), customer_department=None)
    assert sees(sc, _case(received_by=1), customer_department=20)
    assert not sees(sc, _case(responsible=10), customer_department=20)  # not production


def test_production_sees_the_cases_its_department_is_responsible_for() -> None:
    sc = scope_of(_user(2, Role.PRODUCTION), "department")
    assert sees(sc, _case(responsible=10), customer_department=None)
    assert not sees(sc, _case(responsible=11), customer_department=10)
    assert not sees(sc, _case(), customer_department=10)  # not yet assigned


def test_a_user_without_a_department_sees_only_what_they_logged() -> None:
    sc = scope_of(_user(3, Role.SALES, dept=None), "department")
    assert not sees(sc, _case(), customer_department=None)
    assert sees(sc, _case(received_by=3), customer_department=None)
