"""Fields of the factory's own on a real database (issue #12 item 9): definitions and values
come back as they went in (options, kinds, states, Decimal digits, dates), one value per case
and field, the register filters and lists them, an import converts and checks them by type,
the handling form shows them, and removing a field deletes nothing."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.documents import plain_text
from core.errors import NotAllowed
from core.importing import Options, Table
from core.model import (
    ChoiceOption, CustomField, FieldType, Kind, RegisterFilter, Severity, State,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.integration.conftest import NOW, World, engine_of
from core import usecases as uc

REGION = CustomField(None, "region", "区域", "Region", FieldType.CHOICE,
                     (ChoiceOption("north", "华北", "North"), ChoiceOption("south", "华南",
                                                                          "South")),
                     Kind.COMPLAINT, State.DISPATCHED)
LENGTH = CustomField(None, "length", "长度", "Length", FieldType.NUMBER)
MADE = CustomField(None, "made_on", "生产日期", "Made on", FieldType.DATE)
PLATE = CustomField(None, "plate", "车牌号", "Vehicle plate", FieldType.TEXT)
WARRANTY = CustomField(None, "warranty", "保修期内", "Under warranty", FieldType.YES_NO)


def _define(app: Context, world: World, *fields: CustomField) -> dict[str, int]:
    return {f.key: uc.custom_fields.save_field(app, world.admin, f) for f in fields}


def test_definitions_and_values_come_back_as_they_went_in(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    ids = _define(app, world, REGION, LENGTH, MADE, PLATE, WARRANTY)
    back = {f.key: f for f in uc.custom_fields.field_definitions(app, True)}
    assert back["region"].options == REGION.options
    assert (back["region"].kind, back["region"].required_from) == (Kind.COMPLAINT,
                                                                   State.DISPATCHED)
    assert back["region"].created_at == NOW and back["region"].created_by_id == world.admin.id
    assert back["length"].kind is None and back["length"].required_from is None
    c = uc.complaints.register_complaint(app, world.sales, draft(custom=(
        ("region", "华南"), ("length", "0.000125"), ("made_on", date(2026, 2, 28)),
        ("plate", "沪A·12345"), ("warranty", False))))
    shown = {v.field.key: v.value for v in uc.custom_fields.case_values(app, world.sales,
                                                                       c.id or 0)}
    assert shown == {"region": "south", "length": Decimal("0.000125"),
                     "made_on": date(2026, 2, 28), "plate": "沪A·12345", "warranty": False}
    with engine_of(app).connect() as conn:
        kept = dict(conn.execute(text("SELECT field_id, value FROM custom_values")).all())
    assert kept[ids["length"]] == "0.000125" and kept[ids["warranty"]] == "false"


def test_one_value_per_case_and_field(app: Context, world: World,
                                      draft: Callable[..., ComplaintDraft]) -> None:
    ids = _define(app, world, PLATE)
    c = uc.complaints.register_complaint(app, world.sales, draft(custom=(("plate", "沪A"),)))
    with pytest.raises(IntegrityError), engine_of(app).begin() as conn:
        conn.execute(text("INSERT INTO custom_values (complaint_id, field_id, value) "
                          "VALUES (:c, :f, 'x')"), {"c": c.id, "f": ids["plate"]})


def test_a_required_field_stops_the_transition_and_the_case_is_unchanged(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    _define(app, world, REGION)
    c = uc.complaints.register_complaint(app, world.sales, draft(severity_proposed=Severity.C))
    with pytest.raises(NotAllowed) as err:
        uc.investigation.dispatch(app, world.sales, c.id or 0, c.version)
    assert (err.value.key, err.value.params["state"]) == ("why.custom_field_required",
                                                          "dispatched")
    view = uc.complaints.complaint(app, world.sales, c.id or 0)
    assert (view.complaint.state, view.complaint.version, len(view.events)) == (
        State.REGISTERED, 1, 1)
    c = uc.complaints.update_complaint(app, world.sales, c.id or 0, c.version, draft(
        severity_proposed=Severity.C, custom=(("region", "north"),)))
    assert uc.investigation.dispatch(app, world.sales, c.id or 0, c.version).state == \
        State.DISPATCHED
    events = uc.complaints.complaint(app, world.sales, c.id or 0).events
    assert events[1].changes == {"cf:region": [None, "north"]}


def test_the_register_filters_and_lists_custom_values(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    ids = _define(app, world, PLATE, LENGTH, WARRANTY)
    a = uc.complaints.register_complaint(app, world.sales, draft(custom=(
        ("plate", "沪A 100%_x"), ("length", "12.5"), ("warranty", True))))
    b = uc.complaints.register_complaint(app, world.sales, draft(custom=(
        ("plate", "京B 200"), ("length", "12.50"), ("warranty", False))))
    uc.complaints.register_complaint(app, world.sales, draft())

    def found(*custom: tuple[int, str]) -> list[str]:
        rows, total = uc.search.register(app, world.sales, RegisterFilter(custom=custom))
        assert total == len(rows)
        return sorted(r.number for r in rows)

    assert found((ids["plate"], "沪a")) == [a.number]  # contains, any case
    assert found((ids["plate"], "100%_")) == [a.number]  # LIKE's wildcards are text
    assert found((ids["plate"], "%")) == [a.number]
    assert found((ids["length"], "12.5")) == sorted([a.number, b.number])
    assert found((ids["warranty"], "false")) == [b.number]
    assert found((ids["plate"], "京"), (ids["warranty"], "true")) == []
    rows = uc.search.register_all(app, world.sales, RegisterFilter(sort="number",
                                                                    descending=False))
    assert [r.custom for r in rows] == [
        {ids["plate"]: "沪A 100%_x", ids["length"]: "12.5", ids["warranty"]: "true"},
        {ids["plate"]: "京B 200", ids["length"]: "12.5", ids["warranty"]: "false"}, {}]


def test_an_import_converts_custom_columns_by_type_and_reports_the_rest(
        app: Context, world: World) -> None:
    _define(app, world, LENGTH, MADE, REGION)
    table = Table(("日期", "客户", "问题描述", "长度", "生产日期", "区域"), (
        (2, (date(2026, 3, 1), world.customer.name, "划伤", "1,200.5", 46082, "华北")),
        (3, (date(2026, 3, 2), world.customer.name, "划伤", "长", "2026-13-01", "西部")),
    ), "old.xlsx")
    mapping = uc.importing.import_mapping(app, world.admin, table.headers)
    assert mapping == {0: "received_at", 1: "customer", 2: "description", 3: "cf:length",
                       4: "cf:made_on", 5: "cf:region"}
    report = uc.importing.check_import(app, world.admin, table, mapping, Options())
    assert [(p.row, p.column, p.key) for p in report.problems] == [
        (3, "长度", "imp.err.custom_number"), (3, "生产日期", "imp.err.custom_date"),
        (3, "区域", "imp.err.custom_choice")]
    result = uc.importing.run_import(app, world.admin, table, mapping,
                                     Options(clean_only=True))
    assert result.imported == 1
    cid = uc.search.complaint_id_by_number(app, world.admin, result.numbers[0])
    shown = {v.field.key: v.value for v in uc.custom_fields.case_values(app, world.admin,
                                                                       cid or 0)}
    assert shown == {"length": Decimal("1200.5"), "made_on": date(2026, 3, 1),
                     "region": "north"}
    imported = uc.complaints.complaint(app, world.admin, cid or 0).events[0]
    assert imported.changes["cf:region"] == [None, "north"]


def test_the_handling_form_shows_the_fields_in_the_documents_language(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    _define(app, world, REGION, WARRANTY)
    c = uc.complaints.register_complaint(app, world.sales, draft(custom=(
        ("region", "south"), ("warranty", True))))
    docs = uc.documents.case_documents(app, world.sales, c.id or 0, "zh")
    form = plain_text(docs.form)
    assert "区域: 华南" in form and "保修期内: 是" in form and "south" not in form
    en = plain_text(uc.documents.case_documents(app, world.sales, c.id or 0, "en").form)
    assert "Region: South" in en and "Under warranty: Yes" in en


def test_removing_a_field_hides_it_and_deletes_nothing(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    ids = _define(app, world, PLATE)
    c = uc.complaints.register_complaint(app, world.sales, draft(custom=(("plate", "沪A"),)))
    uc.custom_fields.set_field_active(app, world.admin, ids["plate"], False)
    assert uc.custom_fields.case_values(app, world.sales, c.id or 0) == []
    assert "沪A" not in plain_text(uc.documents.case_documents(app, world.sales, c.id or 0,
                                                               "zh").form)
    with engine_of(app).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM custom_fields")).scalar() == 1
        assert conn.execute(text("SELECT value FROM custom_values")).scalar() == "沪A"
    uc.custom_fields.set_field_active(app, world.admin, ids["plate"], True)
    assert [v.value for v in uc.custom_fields.case_values(app, world.sales, c.id or 0)] == ["沪A"]
