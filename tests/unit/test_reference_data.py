"""Departments, customers, products, defect types and settings: validated admin data (docs/procedure.md §9)."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from core import settings
from core.errors import InvalidInput, NotAllowed
from core.model import Customer, DefectType, Department, Product, User
from core.services import Kesu


def test_admin_adds_each_kind_of_reference_item(kesu: Kesu, admin: User) -> None:
    kesu.save_reference(admin, Department(0, "QA", "品管部", "Quality"))
    kesu.save_reference(admin, Customer(0, "Acme"))
    kesu.save_reference(admin, Product(0, "P-1", "Widget"))
    kesu.save_reference(admin, DefectType(0, "SCR", "划伤", "Scratch"))
    assert [d.code for d in kesu.departments()] == ["QA"]
    assert [c.name for c in kesu.customers()] == ["Acme"]
    assert [p.code for p in kesu.products()] == ["P-1"]
    assert [t.name_en for t in kesu.defect_types()] == ["Scratch"]


@pytest.mark.parametrize("item, duplicate", [
    (Department(0, "QA", "品管部", "Quality"), Department(0, " qa ", "品质部", "QC")),
    (Customer(0, "Acme Ltd"), Customer(0, "ACME LTD")),
    (Product(0, "P-100", "Housing"), Product(0, "p-100", "Other")),
    (DefectType(0, "SCR", "划伤", "Scratch"), DefectType(0, "scr", "刮花", "Scuff")),
])
def test_duplicate_code_or_name_is_refused_case_insensitively(
        kesu: Kesu, admin: User, item: object, duplicate: object) -> None:
    kesu.save_reference(admin, item)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as err:
        kesu.save_reference(admin, duplicate)  # type: ignore[arg-type]
    assert err.value.key == "err.duplicate_value"


def test_duplicate_check_includes_inactive_items(kesu: Kesu, admin: User) -> None:
    pid = kesu.save_reference(admin, Product(0, "P-1", "Old widget"))
    kesu.save_reference(admin, Product(pid, "P-1", "Old widget", active=False))
    assert kesu.products() == []
    with pytest.raises(InvalidInput):
        kesu.save_reference(admin, Product(0, "P-1", "New widget"))


def test_an_item_may_be_saved_again_under_its_own_code(kesu: Kesu, admin: User) -> None:
    did = kesu.save_reference(admin, DefectType(0, "SCR", "划伤", "Scratch"))
    kesu.save_reference(admin, DefectType(did, "scr", "划痕", "Scratch mark"))
    assert [(t.code, t.name_zh) for t in kesu.defect_types()] == [("scr", "划痕")]


@pytest.mark.parametrize("item", [
    Department(0, "QA", "", "Quality"),
    Department(0, "QA", "品管部", "  "),
    DefectType(0, "SCR", "划伤", ""),
    DefectType(0, "SCR", " ", "Scratch"),
])
def test_department_and_defect_type_need_both_names(
        kesu: Kesu, admin: User, item: object) -> None:
    with pytest.raises(InvalidInput) as err:
        kesu.save_reference(admin, item)  # type: ignore[arg-type]
    assert err.value.params == {"field": "name"}


@pytest.mark.parametrize("item, field", [
    (Customer(0, "   "), "name"),
    (Product(0, "", "Widget"), "code"),
    (Department(0, " ", "品管部", "Quality"), "code"),
    (DefectType(0, "", "划伤", "Scratch"), "code"),
])
def test_code_or_customer_name_is_required(
        kesu: Kesu, admin: User, item: object, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        kesu.save_reference(admin, item)  # type: ignore[arg-type]
    assert err.value.params == {"field": field}


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two words@x.com", "@x.com"])
def test_customer_with_a_bad_email_is_refused(kesu: Kesu, admin: User, email: str) -> None:
    with pytest.raises(InvalidInput) as err:
        kesu.save_reference(admin, Customer(0, "Acme", email=email))
    assert err.value.key == "err.email_format"
    assert kesu.customers() == []


def test_customer_with_a_good_email_or_none_is_accepted(kesu: Kesu, admin: User) -> None:
    kesu.save_reference(admin, Customer(0, "Acme", email="buyer@acme.example"))
    kesu.save_reference(admin, Customer(0, "Beta"))
    assert len(kesu.customers()) == 2


def test_overlong_reference_text_is_refused(kesu: Kesu, admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        kesu.save_reference(admin, Product(0, "P-1", "x" * 201))
    assert err.value.key == "err.too_long"


def test_sales_may_add_a_customer_while_logging_a_call(kesu: Kesu, sales: User) -> None:
    cid = kesu.save_reference(sales, Customer(0, "Walk-in Ltd"))
    assert [c.id for c in kesu.customers()] == [cid]


def test_sales_may_not_edit_an_existing_customer(
        kesu: Kesu, sales: User, customer_id: int) -> None:
    with pytest.raises(NotAllowed):
        kesu.save_reference(sales, Customer(customer_id, "Renamed"))
    assert [c.name for c in kesu.customers()] == ["Acme Electronics"]


@pytest.mark.parametrize("item", [
    Department(0, "QA", "品管部", "Quality"),
    Product(0, "P-1", "Widget"),
    DefectType(0, "SCR", "划伤", "Scratch"),
])
def test_sales_may_not_add_departments_products_or_defect_types(
        kesu: Kesu, sales: User, item: object) -> None:
    with pytest.raises(NotAllowed):
        kesu.save_reference(sales, item)  # type: ignore[arg-type]


def test_inactive_items_are_hidden_from_pick_lists_but_listed_on_request(
        kesu: Kesu, admin: User) -> None:
    cid = kesu.save_reference(admin, Customer(0, "Gone Ltd"))
    kesu.save_reference(admin, replace(Customer(cid, "Gone Ltd"), active=False))
    assert kesu.customers() == []
    assert [c.name for c in kesu.customers(include_inactive=True)] == ["Gone Ltd"]


# ---------------------------------------------------------------- settings


def test_admin_changes_the_attachment_size_limit(kesu: Kesu, admin: User) -> None:
    kesu.set_settings(admin, {"attachment_max_mb": "5"})
    assert kesu.settings().attachment_max_mb == 5


@pytest.mark.parametrize("key, value", [
    ("attachment_max_mb", 0), ("attachment_max_mb", "lots"), ("timezone", "Mars/Olympus"),
    ("severity_a_claim", "-1"), ("severity_b_claim", "abc"), ("no_such_key", 1),
])
def test_bad_setting_values_are_refused(kesu: Kesu, admin: User, key: str, value: object) -> None:
    with pytest.raises(InvalidInput) as err:
        kesu.set_settings(admin, {key: value})
    assert err.value.params["field"] == key
    assert kesu.settings() == settings.build({})  # nothing stored, defaults still apply


def test_one_bad_value_among_several_settings_saves_none_of_them(
        kesu: Kesu, admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        kesu.set_settings(admin, {"attachment_max_mb": 5, "timezone": "Nowhere/Void"})
    assert err.value.params["field"] == "timezone"
    assert kesu.settings().attachment_max_mb == 20


def test_several_settings_are_saved_together(kesu: Kesu, admin: User) -> None:
    kesu.set_settings(admin, {"timezone": "Europe/Berlin", "severity_a_claim": "20000.5"})
    cfg = kesu.settings()
    assert (cfg.timezone, cfg.severity_a_claim) == ("Europe/Berlin", Decimal("20000.5"))


def test_only_an_admin_changes_settings(kesu: Kesu, manager: User) -> None:
    with pytest.raises(NotAllowed):
        kesu.set_settings(manager, {"timezone": "UTC"})
    assert kesu.settings().timezone == "Asia/Shanghai"
