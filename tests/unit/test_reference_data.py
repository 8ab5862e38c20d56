"""Departments, customers, products, defect types and settings: validated admin data
(docs/procedure.md §9)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from core import settings
from core.errors import InvalidInput, NotAllowed
from core.model import Customer, DefectType, Department, Product, User
from core.usecases.context import Context
from core import usecases as uc


def test_admin_adds_each_kind_of_reference_item(kesu: Context, admin: User) -> None:
    uc.reference.save_reference(kesu, admin, Department(0, "QA", "品管部", "Quality"))
    uc.reference.save_reference(kesu, admin, Customer(0, "Acme"))
    uc.reference.save_reference(kesu, admin, Product(0, "P-1", "Widget"))
    uc.reference.save_reference(kesu, admin, DefectType(0, "SCR", "划伤", "Scratch"))
    assert [d.code for d in uc.reference.departments(kesu)] == ["QA"]
    assert [c.name for c in uc.reference.customers(kesu)] == ["Acme"]
    assert [p.code for p in uc.reference.products(kesu)] == ["P-1"]
    assert [t.name_en for t in uc.reference.defect_types(kesu)] == ["Scratch"]


@pytest.mark.parametrize(
    "item, duplicate",
    [
        (Department(0, "QA", "品管部", "Quality"), Department(0, " qa ", "品质部", "QC")),
        (Customer(0, "Acme Ltd"), Customer(0, "ACME LTD")),
        (Product(0, "P-100", "Housing"), Product(0, "p-100", "Other")),
        (DefectType(0, "SCR", "划伤", "Scratch"), DefectType(0, "scr", "刮花", "Scuff")),
    ],
)
def test_duplicate_code_or_name_is_refused_case_insensitively(kesu: Context, admin: User,
                                                              item: object,
                                                              duplicate: object) -> None:
    uc.reference.save_reference(kesu, admin, item)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as err:
        uc.reference.save_reference(kesu, admin, duplicate)  # type: ignore[arg-type]
    assert err.value.key == "err.duplicate_value"


def test_duplicate_check_includes_inactive_items(kesu: Context, admin: User) -> None:
    pid = uc.reference.save_reference(kesu, admin, Product(0, "P-1", "Old widget"))
    uc.reference.save_reference(kesu, admin, Product(pid, "P-1", "Old widget", active=False))
    assert uc.reference.products(kesu) == []
    with pytest.raises(InvalidInput):
        uc.reference.save_reference(kesu, admin, Product(0, "P-1", "New widget"))


def test_an_item_may_be_saved_again_under_its_own_code(kesu: Context, admin: User) -> None:
    did = uc.reference.save_reference(kesu, admin, DefectType(0, "SCR", "划伤", "Scratch"))
    uc.reference.save_reference(kesu, admin, DefectType(did, "scr", "划痕", "Scratch mark"))
    assert [(t.code, t.name_zh) for t in uc.reference.defect_types(kesu)] == [("scr", "划痕")]


@pytest.mark.parametrize(
    "item",
    [
        Department(0, "QA", "", "Quality"),
        Department(0, "QA", "品管部", "  "),
        DefectType(0, "SCR", "划伤", ""),
        DefectType(0, "SCR", " ", "Scratch"),
    ],
)
def test_department_and_defect_type_need_both_names(kesu: Context, admin: User,
                                                    item: object) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.reference.save_reference(kesu, admin, item)  # type: ignore[arg-type]
    assert err.value.params == {"field": "name"}


@pytest.mark.parametrize(
    "item, field",
    [
        (Customer(0, "   "), "name"),
        (Product(0, "", "Widget"), "code"),
        (Department(0, " ", "品管部", "Quality"), "code"),
        (DefectType(0, "", "划伤", "Scratch"), "code"),
    ],
)
def test_code_or_customer_name_is_required(kesu: Context, admin: User, item: object,
                                           field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.reference.save_reference(kesu, admin, item)  # type: ignore[arg-type]
    assert err.value.params == {"field": field}


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two words@x.com", "@x.com"])
def test_customer_with_a_bad_email_is_refused(kesu: Context, admin: User, email: str) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.reference.save_reference(kesu, admin, Customer(0, "Acme", email=email))
    assert err.value.key == "err.email_format"
    assert uc.reference.customers(kesu) == []


def test_customer_with_a_good_email_or_none_is_accepted(kesu: Context, admin: User) -> None:
    uc.reference.save_reference(kesu, admin, Customer(0, "Acme", email="buyer@acme.example"))
    uc.reference.save_reference(kesu, admin, Customer(0, "Beta"))
    assert len(uc.reference.customers(kesu)) == 2


def test_overlong_reference_text_is_refused(kesu: Context, admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.reference.save_reference(kesu, admin, Product(0, "P-1", "x" * 201))
    assert err.value.key == "err.too_long"


def test_sales_may_add_a_customer_while_logging_a_call(kesu: Context, sales: User) -> None:
    cid = uc.reference.save_reference(kesu, sales, Customer(0, "Walk-in Ltd"))
    assert [c.id for c in uc.reference.customers(kesu)] == [cid]


def test_sales_may_not_edit_an_existing_customer(kesu: Context, sales: User,
                                                 customer_id: int) -> None:
    with pytest.raises(NotAllowed):
        uc.reference.save_reference(kesu, sales, Customer(customer_id, "Renamed"))
    assert [c.name for c in uc.reference.customers(kesu)] == ["Acme Electronics"]


@pytest.mark.parametrize(
    "item",
    [
        Department(0, "QA", "品管部", "Quality"),
        Product(0, "P-1", "Widget"),
        DefectType(0, "SCR", "划伤", "Scratch"),
    ],
)
def test_sales_may_not_add_departments_products_or_defect_types(kesu: Context, sales: User,
                                                                item: object) -> None:
    with pytest.raises(NotAllowed):
        uc.reference.save_reference(kesu, sales, item)  # type: ignore[arg-type]


def test_inactive_items_are_hidden_from_pick_lists_but_listed_on_request(kesu: Context,
                                                                         admin: User) -> None:
    cid = uc.reference.save_reference(kesu, admin, Customer(0, "Gone Ltd"))
    uc.reference.save_reference(kesu, admin, replace(Customer(cid, "Gone Ltd"), active=False))
    assert uc.reference.customers(kesu) == []
    assert [c.name for c in uc.reference.customers(kesu, include_inactive=True)] == ["Gone Ltd"]


# ---------------------------------------------------------------- settings


def test_admin_changes_the_attachment_size_limit(kesu: Context, admin: User) -> None:
    uc.reference.set_settings(kesu, admin, {"attachment_max_mb": "5"})
    assert uc.context.settings(kesu).attachment_max_mb == 5


@pytest.mark.parametrize(
    "key, value",
    [
        ("attachment_max_mb", 0),
        ("attachment_max_mb", "lots"),
        ("timezone", "Mars/Olympus"),
        ("severity_a_claim", "-1"),
        ("severity_b_claim", "abc"),
        ("no_such_key", 1),
    ],
)
def test_bad_setting_values_are_refused(kesu: Context, admin: User, key: str,
                                        value: object) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.reference.set_settings(kesu, admin, {key: value})
    assert err.value.params["field"] == key
    assert uc.context.settings(kesu) == settings.build({})  # nothing stored, defaults still apply


def test_one_bad_value_among_several_settings_saves_none_of_them(kesu: Context,
                                                                 admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.reference.set_settings(kesu, admin, {"attachment_max_mb": 5, "timezone": "Nowhere/Void"})
    assert err.value.params["field"] == "timezone"
    assert uc.context.settings(kesu).attachment_max_mb == 20


def test_several_settings_are_saved_together(kesu: Context, admin: User) -> None:
    uc.reference.set_settings(kesu, admin,
                              {"timezone": "Europe/Berlin", "severity_a_claim": "20000.5"})
    cfg = uc.context.settings(kesu)
    assert (cfg.timezone, cfg.severity_a_claim) == ("Europe/Berlin", Decimal("20000.5"))


def test_only_an_admin_changes_settings(kesu: Context, manager: User) -> None:
    with pytest.raises(NotAllowed):
        uc.reference.set_settings(kesu, manager, {"timezone": "UTC"})
    assert uc.context.settings(kesu).timezone == "Asia/Shanghai"
