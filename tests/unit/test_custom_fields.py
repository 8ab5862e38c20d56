"""Fields of a factory's own (issue #12 item 9): definitions checked as a whole, values typed
(Decimal, dates, options, yes/no), required from a state of the procedure, removed fields
hidden with their values kept, every change in the timeline in words."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import InvalidInput, NotAllowed
from core.i18n import error_text, t
from core.model import (
    ChoiceOption, CustomField, CustomValue, FieldType, Kind, Severity, State, User,
)
from core.rules import custom_fields as rules
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.unit.conftest import with_
from tests.unit.fakes import FakeDatabase
from core import usecases as uc

PLATE = CustomField(None, "plate", "车牌号", "Vehicle plate", FieldType.TEXT)
SERIAL = CustomField(None, "serial_no", "机器序列号", "Machine serial number", FieldType.TEXT)
LENGTH = CustomField(None, "length", "长度", "Length", FieldType.NUMBER)
MADE = CustomField(None, "made_on", "生产日期", "Made on", FieldType.DATE)
REGION = CustomField(None, "region", "区域", "Region", FieldType.CHOICE,
                     (ChoiceOption("north", "华北", "North"), ChoiceOption("south", "华南",
                                                                          "South")))
WARRANTY = CustomField(None, "warranty", "保修期内", "Under warranty", FieldType.YES_NO)


def add(kesu: Context, admin: User, f: CustomField) -> CustomField:
    new_id = uc.custom_fields.save_field(kesu, admin, f)
    return next(x for x in uc.custom_fields.field_definitions(kesu, True) if x.id == new_id)


def stored_values(db: FakeDatabase) -> list[CustomValue]:
    with db() as uow:
        return uow.records.where(CustomValue)


# ---------------------------------------------------------------- values: the pure rules


@pytest.mark.parametrize(("raw", "kept"), [
    ("12.50", "12.5"), ("1,200", "1200"), (Decimal("0.000"), "0"), (7, "7"), ("-3", "-3"),
    ("１２", "12"), (2.5, "2.5"), ("", ""), (None, ""),
])
def test_a_number_is_kept_as_its_exact_decimal_digits(raw: object, kept: str) -> None:
    assert rules.parse(LENGTH, raw) == kept
    assert rules.typed(LENGTH, kept) == (Decimal(kept) if kept else None)


@pytest.mark.parametrize("raw", ["twelve", "1e400", "12.1234567", True, "1" * 16])
def test_a_number_that_is_not_one_is_refused(raw: object) -> None:
    with pytest.raises(ValueError, match="custom_number"):
        rules.parse(LENGTH, raw)


@pytest.mark.parametrize(("raw", "kept"), [
    (date(2026, 3, 5), "2026-03-05"), ("2026-3-5", "2026-03-05"), ("2026/03/05", "2026-03-05"),
    ("2026年3月5日", "2026-03-05"),
])
def test_a_date_is_kept_as_a_date(raw: object, kept: str) -> None:
    assert rules.parse(MADE, raw) == kept
    assert rules.typed(MADE, kept) == date(2026, 3, 5)


@pytest.mark.parametrize("raw", ["2026-02-30", "next week", "05/03/2026", "1800-01-01"])
def test_a_date_that_is_not_one_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="custom_date"):
        rules.parse(MADE, raw)


def test_a_choice_is_kept_as_its_option_key_from_key_or_either_label() -> None:
    assert [rules.parse(REGION, x) for x in ("south", "华南", " SOUTH ", "South")] == ["south"] * 4
    with pytest.raises(ValueError, match="custom_choice"):
        rules.parse(REGION, "华东")


def test_yes_no_reads_the_usual_words() -> None:
    assert [rules.parse(WARRANTY, x) for x in (True, "是", "yes", "Y", "1")] == ["true"] * 5
    assert [rules.parse(WARRANTY, x) for x in (False, "否", "No", "0")] == ["false"] * 4
    assert rules.typed(WARRANTY, "false") is False
    with pytest.raises(ValueError, match="custom_yes_no"):
        rules.parse(WARRANTY, "maybe")


def test_text_is_trimmed_without_control_characters_and_limited() -> None:
    assert rules.parse(PLATE, "  沪A\x00 12345 ") == "沪A 12345"
    with pytest.raises(ValueError, match="too_long"):
        rules.parse(PLATE, "x" * (rules.MAX_VALUE + 1))


def test_values_are_shown_in_words_never_as_codes() -> None:
    assert rules.shown(REGION, "south", "zh") == "华南"
    assert rules.shown(REGION, "south", "en") == "South"
    assert rules.shown(WARRANTY, True, "zh") == t("common.yes", "zh")
    assert rules.shown(WARRANTY, "false", "en") == "No"
    assert rules.shown(LENGTH, "1234.5", "en") == "1,234.5"
    assert rules.shown(PLATE, None, "zh") == ""


# ---------------------------------------------------------------- required from a state


def test_required_from_a_state_means_that_state_and_every_later_one() -> None:
    f = with_field(PLATE, id=1, required_from=State.DISPATCHED)
    assert not rules.required_in(f, Kind.COMPLAINT, State.REGISTERED)
    assert rules.required_in(f, Kind.COMPLAINT, State.DISPATCHED)
    assert rules.required_in(f, Kind.COMPLAINT, State.CLOSED)
    assert not rules.required_in(f, Kind.COMPLAINT, State.CANCELLED)


def test_a_move_forward_into_the_state_needs_the_field_going_back_does_not() -> None:
    f = with_field(PLATE, id=1, required_from=State.ROOT_CAUSE)
    assert rules.missing([f], {}, Kind.COMPLAINT, State.INVESTIGATING, State.ROOT_CAUSE) == [f]
    assert rules.missing([f], {}, Kind.COMPLAINT, State.DISPATCHED, State.INVESTIGATING) == []
    assert rules.missing([f], {}, Kind.COMPLAINT, State.CAPA_REVIEW, State.ROOT_CAUSE) == []
    assert rules.missing([f], {}, Kind.COMPLAINT, State.ROOT_CAUSE, State.CANCELLED) == []
    assert rules.missing([f], {1: "沪A"}, Kind.COMPLAINT, State.INVESTIGATING,
                         State.ROOT_CAUSE) == []


def test_a_field_of_one_kind_is_neither_shown_nor_required_for_another() -> None:
    f = with_field(PLATE, id=1, kind=Kind.COMPLAINT, required_from=State.REGISTERED)
    assert rules.for_kind([f], Kind.SUGGESTION) == []
    assert rules.missing([f], {}, Kind.SUGGESTION, State.REGISTERED, State.REPLYING) == []
    assert rules.for_kind([with_field(f, active=False)], Kind.COMPLAINT) == []


def with_field(f: CustomField, **changes: object) -> CustomField:
    from dataclasses import replace
    return replace(f, **changes)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the Admin editor's checks


def test_a_field_is_added_with_a_position_after_the_others(kesu: Context, admin: User) -> None:
    a, b = add(kesu, admin, PLATE), add(kesu, admin, SERIAL)
    assert (a.key, a.label_zh, a.type, a.active, a.created_by_id) == (
        "plate", "车牌号", FieldType.TEXT, True, admin.id)
    assert [f.key for f in uc.custom_fields.field_definitions(kesu)] == ["plate", "serial_no"]
    assert b.position > a.position


def test_every_problem_of_a_definition_is_named_at_once_and_nothing_is_stored(
        kesu: Context, admin: User, db: FakeDatabase) -> None:
    add(kesu, admin, PLATE)
    commits = db.commits
    bad = CustomField(None, "plate", " ", "", FieldType.CHOICE)
    with pytest.raises(InvalidInput) as err:
        uc.custom_fields.save_field(kesu, admin, bad)
    found = [(e.key, e.params.get("field")) for e in err.value.all]
    assert found == [("err.duplicate_value", "custom_key"), ("err.required", "label_zh"),
                     ("err.required", "label_en"), ("err.custom_options_required",
                                                   "custom_options")]
    assert db.commits == commits
    assert len(uc.custom_fields.field_definitions(kesu, True)) == 1
    zh = [error_text(e, "zh") for e in err.value.all]
    en = [error_text(e, "en") for e in err.value.all]
    assert "plate" in zh[0] and "plate" in en[0]
    assert "中文名称" in zh[1] and "Name (Chinese)" in en[1]
    assert "选项" in zh[3] and "option" in en[3]


@pytest.mark.parametrize("key", ["Plate", "1plate", "plate no", "车牌", "p" * 41])
def test_a_key_is_lower_case_letters_digits_and_underscores(kesu: Context, admin: User,
                                                            key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.custom_fields.save_field(kesu, admin, with_field(PLATE, key=key))
    assert err.value.key == "err.custom_key_format"


def test_choice_options_are_read_one_a_line_with_their_codes_kept() -> None:
    options, problems = rules.parse_options("华北 | North\nsouth | 华南 | South\n\n西部\n")
    assert problems == []
    assert options == (ChoiceOption("north", "华北", "North"),
                       ChoiceOption("south", "华南", "South"), ChoiceOption("o3", "西部", "西部"))
    again, _ = rules.parse_options(rules.options_text(with_field(REGION, options=options)))
    assert again == options
    _, problems = rules.parse_options("a | b | c | d\nx | x\nx | x")
    assert [p.key for p in problems] == ["custom_option_line", "custom_option_twice"]


def test_the_key_never_changes_and_the_type_only_while_no_case_holds_a_value(
        kesu: Context, admin: User, sales: User, draft: ComplaintDraft) -> None:
    f = add(kesu, admin, LENGTH)
    f = add(kesu, admin, with_field(f, key="other", label_en="Length (mm)"))
    f = add(kesu, admin, with_field(f, type=FieldType.TEXT))  # no value yet: allowed
    assert (f.key, f.label_en, f.type) == ("length", "Length (mm)", FieldType.TEXT)
    uc.complaints.register_complaint(kesu, sales, with_(draft, custom=(("length", "12 cm"),)))
    with pytest.raises(InvalidInput) as err:
        uc.custom_fields.save_field(kesu, admin, with_field(f, type=FieldType.NUMBER))
    assert err.value.key == "err.custom_type_in_use"


def test_an_option_a_case_holds_cannot_be_removed(kesu: Context, admin: User, sales: User,
                                                  draft: ComplaintDraft) -> None:
    f = add(kesu, admin, REGION)
    uc.complaints.register_complaint(kesu, sales, with_(draft, custom=(("region", "华南"),)))
    with pytest.raises(InvalidInput) as err:
        uc.custom_fields.save_field(kesu, admin, with_field(f, options=f.options[:1]))
    assert (err.value.key, err.value.params["value"]) == ("err.custom_option_in_use", "south")
    uc.custom_fields.save_field(kesu, admin, with_field(f, options=f.options[1:]))  # north: free


def test_only_an_administrator_defines_fields(kesu: Context, sales: User) -> None:
    with pytest.raises(NotAllowed):
        uc.custom_fields.save_field(kesu, sales, PLATE)


# ---------------------------------------------------------------- values on a case


def test_values_are_registered_typed_and_shown_with_the_case(
        kesu: Context, admin: User, sales: User, draft: ComplaintDraft) -> None:
    for f in (PLATE, LENGTH, MADE, REGION, WARRANTY):
        add(kesu, admin, f)
    c = uc.complaints.register_complaint(kesu, sales, with_(draft, custom=(
        ("plate", "沪A 12345"), ("length", "12.50"), ("made_on", date(2026, 3, 5)),
        ("region", "华南"), ("warranty", True))))
    shown = {v.field.key: v.value for v in uc.custom_fields.case_values(kesu, sales, c.id or 0)}
    assert shown == {"plate": "沪A 12345", "length": Decimal("12.5"),
                     "made_on": date(2026, 3, 5), "region": "south", "warranty": True}
    registered = uc.complaints.complaint(kesu, sales, c.id or 0).events[0].changes
    assert registered["cf:length"] == [None, "12.5"]
    assert registered["cf:warranty"] == [None, True]


def test_a_wrong_value_is_refused_with_the_fields_name_and_nothing_is_stored(
        kesu: Context, admin: User, sales: User, draft: ComplaintDraft,
        db: FakeDatabase) -> None:
    add(kesu, admin, LENGTH)
    add(kesu, admin, MADE)
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, with_(draft, description="", custom=(
            ("length", "twelve"), ("made_on", "soon"))))
    assert [e.key for e in err.value.all] == ["err.required", "err.custom_number",
                                              "err.custom_date"]
    assert "长度" in error_text(err.value.all[1], "zh")
    assert "Length" in error_text(err.value.all[1], "en")
    assert stored_values(db) == []


def test_a_field_required_from_registration_must_be_filled_on_the_log_form(
        kesu: Context, admin: User, sales: User, draft: ComplaintDraft) -> None:
    add(kesu, admin, with_field(PLATE, required_from=State.REGISTERED))
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, draft)
    assert err.value.key == "err.required"
    assert error_text(err.value, "en") == t("err.required", "en", field="Vehicle plate")
    c = uc.complaints.register_complaint(kesu, sales, with_(draft, custom=(("plate", "沪A"),)))
    assert c.id


def test_a_transition_into_the_required_state_is_refused_until_the_field_is_filled(
        kesu: Context, admin: User, sales: User, qa: User, draft: ComplaintDraft) -> None:
    add(kesu, admin, with_field(SERIAL, required_from=State.INVESTIGATING))
    c = uc.complaints.register_complaint(kesu, sales, with_(draft,
                                                            severity_proposed=Severity.C))
    c = uc.investigation.dispatch(kesu, sales, c.id or 0, c.version)  # before: not needed
    with pytest.raises(NotAllowed) as err:
        uc.investigation.acknowledge(kesu, qa, c.id or 0, c.version)
    assert err.value.key == "why.custom_field_required"
    assert "机器序列号" in error_text(err.value, "zh")
    assert "Machine serial number" in error_text(err.value, "en")
    assert t("state.investigating", "en") in error_text(err.value, "en")
    assert uc.complaints.complaint(kesu, qa, c.id or 0).complaint.state == State.DISPATCHED
    c = uc.complaints.update_complaint(kesu, qa, c.id or 0, c.version,
                                       with_(draft, severity_proposed=Severity.C,
                                             custom=(("serial_no", "SN-0042"),)))
    c = uc.investigation.acknowledge(kesu, qa, c.id or 0, c.version)
    assert c.state == State.INVESTIGATING
    with pytest.raises(InvalidInput) as cleared:  # and it cannot be emptied afterwards
        uc.complaints.update_complaint(kesu, qa, c.id or 0, c.version,
                                       with_(draft, severity_proposed=Severity.C,
                                             custom=(("serial_no", ""),)))
    assert cleared.value.key == "err.required"


def test_an_edit_writes_the_old_and_new_value_into_the_timeline(
        kesu: Context, admin: User, sales: User, draft: ComplaintDraft) -> None:
    add(kesu, admin, REGION)
    add(kesu, admin, LENGTH)
    c = uc.complaints.register_complaint(kesu, sales, with_(draft, custom=(("region", "north"),)))
    c = uc.complaints.update_complaint(kesu, sales, c.id or 0, c.version, with_(draft, custom=(
        ("region", "South"), ("length", "3"))), "客户更正")
    edited = uc.complaints.complaint(kesu, sales, c.id or 0).events[-1]
    assert (edited.action, edited.changes) == (
        "edited", {"cf:region": ["north", "south"], "cf:length": [None, "3"]})
    assert c.version == 2
    with pytest.raises(InvalidInput) as err:  # the same again: nothing changed
        uc.complaints.update_complaint(kesu, sales, c.id or 0, c.version, with_(draft, custom=(
            ("region", "south"), ("length", "3.0"))))
    assert err.value.key == "err.nothing_changed"


def test_a_removed_field_is_hidden_its_values_kept_and_it_can_come_back(
        kesu: Context, admin: User, sales: User, draft: ComplaintDraft,
        db: FakeDatabase) -> None:
    f = add(kesu, admin, with_field(PLATE, required_from=State.REGISTERED))
    c = uc.complaints.register_complaint(kesu, sales, with_(draft, custom=(("plate", "沪A"),)))
    uc.custom_fields.set_field_active(kesu, admin, f.id or 0, False)
    assert uc.custom_fields.field_definitions(kesu) == []
    assert uc.custom_fields.case_values(kesu, sales, c.id or 0) == []
    uc.complaints.register_complaint(kesu, sales, draft)  # no longer required
    assert [v.value for v in stored_values(db)] == ["沪A"]
    uc.custom_fields.set_field_active(kesu, admin, f.id or 0, True)
    assert [v.value for v in uc.custom_fields.case_values(kesu, sales, c.id or 0)] == ["沪A"]


def test_a_field_for_complaints_is_not_asked_of_a_suggestion(
        kesu: Context, admin: User, sales: User, draft: ComplaintDraft) -> None:
    add(kesu, admin, with_field(PLATE, kind=Kind.COMPLAINT, required_from=State.REGISTERED))
    c = uc.complaints.register_complaint(kesu, sales, with_(draft, kind=Kind.SUGGESTION))
    assert uc.custom_fields.case_values(kesu, sales, c.id or 0) == []
