"""Fields of the factory's own (issue #12 item 9) through the pages: the Admin editor refuses
bad input with every problem in the user's language and keeps what was typed; a field made
there is filled on the Log page, shown and edited on the Complaint page (the timeline says the
change in words), listed, filtered and exported with the register."""
from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook, load_workbook
from streamlit.testing.v1 import AppTest

from core.model import (
    Channel, ChoiceOption, CustomField, FieldType, Kind, RegisterFilter, Severity, State, User,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.app.helpers import (
    block, en, login_as, new_app, no_exception, open_case_tab, open_page, open_tab, page_text,
    unfold, values, widget, zh,
)
from ui import register
from ui.exports import to_xlsx
from core import usecases as uc

CUSTOMER = "华东电器有限公司"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _fields(app: Context) -> list[CustomField]:
    return uc.custom_fields.field_definitions(app, include_inactive=True)


def _define(app: Context, f: CustomField) -> int:
    return uc.custom_fields.save_field(app, _user(app, "admin"), f)


def _admin_page(lang: str = "zh") -> AppTest:
    """Admin on its custom fields tab (the page draws the open tab only)."""
    at = open_page("pages/admin.py", "admin", lang)
    open_tab(at, "admin_tab", (en if lang == "en" else zh)("admin.custom_fields"))
    return at


def _new_field_form(at: AppTest, lang: str = "zh"):  # noqa: ANN202 - the expander block
    return block(at, "expander", (en if lang == "en" else zh)("admin.custom_new"))


def _errors(at: AppTest) -> list[str]:
    (shown,) = values(at, "error")
    return str(shown).split("  \n")


# ---------------------------------------------------------------- the Admin editor


def test_bad_definitions_are_refused_with_every_problem_and_the_typed_text_kept(
        ref_db: Context) -> None:
    _define(ref_db, CustomField(None, "plate", "车牌号", "Vehicle plate", FieldType.TEXT))
    at = _admin_page()
    form = _new_field_form(at)
    widget(form, "text_input", zh("field.custom_key") + " *").input("plate")
    widget(form, "selectbox", zh("field.custom_type") + " *").select(FieldType.CHOICE)
    widget(form, "text_input", zh("field.label_en") + " *").input("Plate again")
    widget(form, "button", zh("common.add")).click().run()
    no_exception(at)
    assert _errors(at) == [zh("err.duplicate_value", value="plate"),
                           zh("err.required", field="label_zh"),
                           zh("err.custom_options_required")]
    assert _errors(at)[1] == "请填写「中文名称」。"
    assert [f.key for f in _fields(ref_db)] == ["plate"]  # nothing half-saved
    form = _new_field_form(at)
    assert widget(form, "text_input", zh("field.custom_key") + " *").value == "plate"
    assert widget(form, "text_input", zh("field.label_en") + " *").value == "Plate again"


def test_bad_definitions_in_english(ref_db: Context) -> None:
    at = _admin_page("en")
    form = _new_field_form(at, "en")
    widget(form, "text_input", en("field.custom_key") + " *").input("Serial No")
    widget(form, "text_input", en("field.label_zh") + " *").input("序列号")
    widget(form, "button", en("common.add")).click().run()
    no_exception(at)
    assert _errors(at) == [en("err.custom_key_format", field="custom_key"),
                           en("err.required", field="label_en")]
    assert _errors(at)[1] == "“Name (English)” is required."
    assert _fields(ref_db) == []
    form = _new_field_form(at, "en")
    assert widget(form, "text_input", en("field.label_zh") + " *").value == "序列号"


def test_an_option_line_that_cannot_be_read_is_named(ref_db: Context) -> None:
    at = _admin_page()
    form = _new_field_form(at)
    widget(form, "text_input", zh("field.custom_key") + " *").input("region")
    widget(form, "selectbox", zh("field.custom_type") + " *").select(FieldType.CHOICE)
    widget(form, "text_input", zh("field.label_zh") + " *").input("区域")
    widget(form, "text_input", zh("field.label_en") + " *").input("Region")
    widget(form, "text_area", zh("field.custom_options")).input("华北 | North\na | b | c | d")
    widget(form, "button", zh("common.add")).click().run()
    no_exception(at)
    assert values(at, "error") == [zh("err.custom_option_line", line=2)]
    assert _fields(ref_db) == []


def test_a_field_is_added_removed_and_brought_back_on_the_admin_page(ref_db: Context) -> None:
    at = _admin_page()
    form = _new_field_form(at)
    widget(form, "text_input", zh("field.custom_key") + " *").input("contract_no")
    widget(form, "text_input", zh("field.label_zh") + " *").input("合同号")
    widget(form, "text_input", zh("field.label_en") + " *").input("Contract number")
    widget(form, "selectbox", zh("field.required_from")).select(State.DISPATCHED)
    widget(form, "button", zh("common.add")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("common.saved")]
    (f,) = _fields(ref_db)
    assert (f.key, f.label_zh, f.type, f.required_from, f.active) == (
        "contract_no", "合同号", FieldType.TEXT, State.DISPATCHED, True)
    # the form is empty again for the next field
    form = _new_field_form(at)
    assert widget(form, "text_input", zh("field.custom_key") + " *").value == ""

    edit = block(at, "expander", zh("admin.custom_edit"))
    widget(edit, "selectbox", zh("admin.pick_item")).select(f.id).run()
    widget(block(at, "expander", zh("admin.custom_edit")), "button",
           zh("custom.remove")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("custom.removed", name="合同号")]
    assert _fields(ref_db)[0].active is False
    assert uc.custom_fields.field_definitions(ref_db) == []
    widget(block(at, "expander", zh("admin.custom_edit")), "button",
           zh("custom.restore")).click().run()
    no_exception(at)
    assert _fields(ref_db)[0].active is True


# ---------------------------------------------------------------- Log → Complaint → register


def test_a_field_filled_on_the_log_page_is_shown_edited_listed_and_exported(
        ref_db: Context) -> None:
    _define(ref_db, CustomField(None, "plate", "车牌号", "Vehicle plate", FieldType.TEXT,
                                required_from=State.REGISTERED))
    _define(ref_db, CustomField(None, "region", "区域", "Region", FieldType.CHOICE,
                                (ChoiceOption("north", "华北", "North"),
                                 ChoiceOption("south", "华南", "South"))))
    at = login_as(new_app(), "sales")
    at.run()
    no_exception(at)
    cust = next(c.id for c in uc.reference.customers(ref_db) if c.name == CUSTOMER)
    widget(at, "selectbox", zh("field.customer") + " *").select(cust)
    defect = next(d.id for d in uc.reference.defect_types(ref_db) if d.code == "CRACK")
    widget(at, "text_area", zh("field.description") + " *").input("运输途中外壳开裂")
    widget(at, "text_input", zh("field.product_code") + " *").input("MJ-501")
    widget(at, "selectbox", zh("field.defect_type") + " *").select(defect)
    widget(at, "button", zh("log.submit")).click().run()
    no_exception(at)
    # required from registration: refused until filled, naming the field
    assert values(at, "error") == ["请填写「车牌号」。"]
    assert uc.search.register(ref_db, _user(ref_db, "admin"), RegisterFilter())[1] == 0

    widget(at, "text_input", "车牌号 *").input("沪A 12345")
    widget(at, "selectbox", "区域").select("south")
    widget(at, "button", zh("log.submit")).click().run()
    no_exception(at)
    rows, total = uc.search.register(ref_db, _user(ref_db, "admin"), RegisterFilter())
    assert total == 1
    frame = at.dataframe[0].value
    assert list(frame["车牌号"]) == ["沪A 12345"] and list(frame["区域"]) == ["华南"]

    # the Complaint page shows the values in words and edits them
    at.query_params["id"] = str(rows[0].id)
    at.switch_page("pages/complaint.py").run()
    no_exception(at)
    assert "车牌号: 沪A 12345" in values(at, "text")
    assert "区域: 华南" in values(at, "text")
    form = unfold(at, zh("case.edit"))
    widget(form, "selectbox", "区域").select("north")
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("common.saved")]
    assert "区域: 华北" in values(at, "text")
    assert "north" not in page_text(at) and "cf:" not in page_text(at)
    timeline = open_case_tab(at, "case.timeline")
    change = zh("case.changed_from_to", field="区域", old="华南", new="华北")
    assert change in page_text(timeline)
    assert "north" not in page_text(timeline) and "cf:" not in page_text(timeline)

    # the register filters by the value and exports the column
    at.switch_page("pages/log.py").run()
    no_exception(at)
    fid = next(f.id for f in _fields(ref_db) if f.key == "plate")
    widget(at, "selectbox", zh("custom.filter")).select(fid).run()
    widget(at, "text_input", zh("custom.filter_value")).input("沪a").run()
    no_exception(at)
    assert len(at.dataframe[0].value) == 1
    widget(at, "text_input", zh("custom.filter_value")).input("京B").run()
    no_exception(at)
    assert values(at, "info") == [zh("log.no_match")]
    # the export: the page's frame of every matching row, written as the button writes it
    everything = uc.search.register_all(ref_db, _user(ref_db, "sales"), RegisterFilter())
    frame = register._frame(everything)
    sheet = load_workbook(io.BytesIO(to_xlsx(list(frame.columns), [
        list(r) for r in frame.itertuples(index=False)]))).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("车牌号") + 1).value == "沪A 12345"
    assert sheet.cell(2, header.index("区域") + 1).value == "华北"


# ---------------------------------------------------------------- the import


def test_the_import_maps_a_custom_column_and_reports_a_value_of_the_wrong_type(
        ref_db: Context) -> None:
    _define(ref_db, CustomField(None, "contract_no", "合同号", "Contract number",
                                FieldType.TEXT))
    _define(ref_db, CustomField(None, "length", "长度", "Length", FieldType.NUMBER))
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["登记日期", "客户", "投诉内容", "合同号", "长度"])
    ws.append([datetime(2025, 5, 6), CUSTOMER, "外壳划伤", "HT-2025-018", "12.5"])
    ws.append([datetime(2025, 5, 7), CUSTOMER, "包装破损", "HT-2025-019", "很长"])
    buf = io.BytesIO()
    wb.save(buf)
    at = login_as(new_app(), "admin")
    at.run()
    at.switch_page("pages/import_register.py").run()
    no_exception(at)
    widget(at, "file_uploader", zh("imp.upload")).set_value(("r.xlsx", buf.getvalue(), XLSX))
    at.run()
    no_exception(at)
    mapping = widget(at, "selectbox", "合同号")
    assert mapping.value == "cf:contract_no"
    assert zh("imp.target_custom", field={"zh": "合同号"}) in mapping.options
    assert widget(at, "selectbox", "长度").value == "cf:length"
    widget(at, "button", zh("imp.check")).click().run()
    no_exception(at)
    assert at.dataframe[0].value.iloc[0].tolist() == [
        "3", "长度", zh("imp.level.error"), zh("imp.err.custom_number"), "很长"]
    widget(at, "radio", zh("imp.mode")).set_value("clean").run()
    widget(at, "button", zh("imp.confirm", n=1)).click().run()
    no_exception(at)
    (row,) = uc.search.register_all(ref_db, _user(ref_db, "admin"), RegisterFilter())
    assert sorted(row.custom.values()) == ["12.5", "HT-2025-018"]


def test_dispatch_is_refused_on_the_complaint_page_until_the_required_field_is_filled(
        ref_db: Context) -> None:
    _define(ref_db, CustomField(None, "salesperson", "业务员", "Salesperson", FieldType.TEXT,
                                required_from=State.DISPATCHED))
    cust = next(c.id for c in uc.reference.customers(ref_db) if c.name == CUSTOMER)
    defect = next(d.id for d in uc.reference.defect_types(ref_db) if d.code == "CRACK")
    case = uc.complaints.register_complaint(ref_db, _user(ref_db, "sales"), ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.PHONE, description="外壳开裂",
        product_code="MJ-501", defect_type_id=defect, severity_proposed=Severity.C))
    at = login_as(new_app(), "sales")
    at.query_params["lang"] = "en"
    at.run()
    at.query_params["id"] = str(case.id)
    at.switch_page("pages/complaint.py").run()
    no_exception(at)
    dispatch = unfold(at, en("action.dispatch"))
    widget(dispatch, "button", en("action.dispatch")).click().run()
    no_exception(at)
    assert values(at, "error") == [
        "Fill in “Salesperson” first: it is required from “"
        + en("state.dispatched") + "” on."]
    assert uc.complaints.complaint(ref_db, _user(ref_db, "sales"), case.id or 0
                                   ).complaint.state == State.REGISTERED
    form = unfold(at, en("case.edit"))
    widget(form, "text_input", "Salesperson").input("李娜")
    widget(form, "button", en("common.save")).click().run()
    no_exception(at)
    widget(block(at, "expander", en("action.dispatch")), "button",
           en("action.dispatch")).click().run()
    no_exception(at)
    assert uc.complaints.complaint(ref_db, _user(ref_db, "sales"), case.id or 0
                                   ).complaint.state == State.DISPATCHED
    change = en("case.changed_from_to", field="Salesperson", old=en("common.none"), new="李娜")
    assert change in page_text(open_case_tab(at, "case.timeline", "en"))
