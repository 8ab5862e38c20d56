"""The one check of a complaint's own fields (core/rules/complaint_fields.py): every problem at
once, in the form's order; the Log page, the edit and the import share it (docs/procedure.md
§3, §10)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.importing import Known, Options, Table, validate
from core.model import Category, Channel, Kind
from core.rules.complaint_fields import ComplaintDraft, Problem, check

NOW = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
GOOD = ComplaintDraft(customer_id=1, kind=Kind.COMPLAINT, channel=Channel.PHONE,
                      description="外壳开裂 3 件", product_code="MJ-501", defect_type_id=7,
                      claimed_amount="1,500.50", delivered_qty=100, defective_qty=3)


def problems(d: ComplaintDraft, **kw: object) -> list[tuple[str, str]]:
    return [(p.field, p.key) for p in check(d, NOW, {1}, {7}, **kw)[1]]  # type: ignore[arg-type]


def test_a_good_draft_gives_typed_values_and_no_problem() -> None:
    values, found = check(GOOD, NOW, {1}, {7})
    assert found == []
    assert values["claimed_amount"] == Decimal("1500.50")
    assert values["received_at"] == NOW  # received now when not said
    assert values["description"] == "外壳开裂 3 件"


def test_an_empty_form_names_every_missing_field_in_the_forms_order() -> None:
    empty = ComplaintDraft(customer_id=None, kind=None, channel=None, description="  ")
    assert problems(empty) == [("customer", "required"), ("kind", "required"),
                               ("channel", "required"), ("description", "required")]
    quality = replace(empty, kind=Kind.COMPLAINT)
    assert problems(quality)[-2:] == [("product_code", "required"), ("defect_type", "required")]


def test_bad_values_are_all_reported_together() -> None:
    bad = replace(GOOD, customer_id=99, order_no="x" * 101, defective_qty=101,
                  claimed_amount="1.001", defect_type_id=8,
                  received_at=NOW + timedelta(hours=1), delivery_date=date(2026, 12, 1))
    assert problems(bad) == [
        ("customer", "unknown"), ("order_no", "too_long"), ("received_at", "future_date"),
        ("delivery_date", "future_date"), ("defective_qty", "defective_gt_delivered"),
        ("claimed_amount", "amount"), ("defect_type", "unknown")]
    assert check(bad, NOW, {1}, {7})[1][1] == Problem("order_no", "too_long", {"n": 100})


def test_a_clock_a_few_minutes_ahead_is_tolerated() -> None:
    assert problems(replace(GOOD, received_at=NOW + timedelta(minutes=4))) == []


def test_a_naive_time_is_refused_not_guessed() -> None:
    assert problems(replace(GOOD, received_at=datetime(2026, 11, 9, 8, 0))) == [
        ("received_at", "invalid_input")]


def test_history_rows_need_no_product_and_no_receipt_time() -> None:
    old = replace(GOOD, product_code="", defect_type_id=None, category=Category.QUALITY)
    assert problems(old, new_case=False) == []
    assert check(old, NOW, {1}, {7}, new_case=False)[0]["received_at"] is None
    assert problems(old) == [("product_code", "required"), ("defect_type", "required")]


@pytest.mark.parametrize("row, key", [
    ({"defective_qty": 9, "delivered_qty": 5}, "imp.err.defective_gt_delivered"),
    ({"description": ""}, "imp.err.required"),
    ({"order_no": "x" * 101}, "imp.err.too_long"),
])
def test_the_import_reports_what_the_log_page_refuses(row: dict[str, object], key: str) -> None:
    cells = {"received_at": "2026-11-09", "customer": "华东", "description": "划伤",
             "defective_qty": 1, "delivered_qty": 5, **row}
    headers = list(cells)
    table = Table(headers, [(2, tuple(cells.values()))])  # type: ignore[arg-type]
    known = Known({"华东": (1, "华东")}, {}, {}, {}, frozenset(), timezone.utc,  # type: ignore[arg-type]
                  date(2026, 11, 10))
    report = validate(table, dict(enumerate(headers)), known, Options())
    assert [p.key for p in report.problems if p.level == "error"] == [key]
    on_the_log_page = problems(replace(GOOD, **row))  # type: ignore[arg-type]
    assert [k for _, k in on_the_log_page] == [key.removeprefix("imp.err.")]
