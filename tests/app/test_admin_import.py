"""Import (导入) page: upload → mapping → report → confirm, and a refused file, in zh and en."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from streamlit.testing.v1 import AppTest

from core.importing import Options
from core.model import RegisterFilter, Role, State, Title
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from tests import old_register
from tests.app.helpers import (
    en, login_as, new_app, no_exception, open_case_tab, page_text, widget, zh,
)
from ui.context import md
from ui.importer import read_table
from core import usecases as uc

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ["编号", "登记日期", "客户", "投诉内容", "备注", "状态", "结案日期"]


def register_file() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook opens on its one worksheet
    ws.append(HEADERS)
    ws.append(["KS2505-003", datetime(2025, 5, 6), "华东电器有限公司", "外壳划伤", "急",
               "已结案", datetime(2025, 5, 9)])
    ws.append([None, "2025/6/1", "新客户贸易公司", "包装破损", "", "处理中", None])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def import_tab(lang: str = "zh") -> tuple[AppTest, Any]:
    at = login_as(new_app(), "admin")
    if lang == "en":
        at.query_params["lang"] = "en"
    at.run()
    at.switch_page("pages/import_register.py").run()
    no_exception(at)
    return at, at


def upload(at: AppTest, name: str, data: bytes, lang: str = "zh") -> Any:
    tr = zh if lang == "zh" else en
    tab = at
    widget(tab, "file_uploader", tr("imp.upload")).set_value((name, data, XLSX))
    at.run()
    no_exception(at)
    return at


def test_upload_map_check_and_import_a_register(ref_db: Context) -> None:
    at, tab = import_tab()
    assert widget(tab, "download_button", zh("imp.template"))
    tab = upload(at, "客户投诉登记表.xlsx", register_file())
    assert zh("imp.read", name=md("客户投诉登记表.xlsx"), rows=2, cols=7) in page_text(tab)
    # the mapping is guessed from the headers; 备注 means nothing to kesu
    assert widget(tab, "selectbox", "登记日期").value == "received_at"
    assert widget(tab, "selectbox", "投诉内容").value == "description"
    assert widget(tab, "selectbox", "备注").value == ""

    widget(tab, "button", zh("imp.check")).click().run()
    no_exception(at)
    tab = at
    text = page_text(tab)
    assert zh("imp.summary", rows=2, clean=1, bad=1, warnings=0) in text
    assert zh("imp.fix_first", n=1) in text
    report = tab.dataframe[0].value
    assert report.iloc[0].tolist() == [
        "3", "客户", "错误", zh("imp.err.unknown_customer", name="新客户贸易公司"),
        "新客户贸易公司"]
    assert widget(tab, "button", zh("imp.confirm", n=2)).disabled
    assert not uc.search.register(ref_db, _admin(ref_db), RegisterFilter())[1]

    # the user accepts the new customer: the old report is stale until checked again
    widget(tab, "checkbox", zh("imp.create_customers")).check().run()
    tab = at
    assert zh("imp.recheck") in page_text(tab)
    widget(tab, "button", zh("imp.check")).click().run()
    tab = at
    assert zh("imp.new_customers", n=1, names="新客户贸易公司") in page_text(tab)
    # the open row is told: its time limits count from the import, not from 2025/6/1
    assert zh("imp.open_clock", n=1) in page_text(tab)
    widget(tab, "button", zh("imp.confirm", n=2)).click().run()
    no_exception(at)
    assert zh("imp.done", n=2, closed=1, skipped=0, customers=1, defects=0) in page_text(at)

    rows, total = uc.search.register(ref_db, _admin(ref_db), RegisterFilter())
    assert total == 2
    states = {r.number: r.state for r in rows}
    assert states == {"KS2505-003": State.CLOSED, "KS2506-001": State.REGISTERED}
    open_case = next(r for r in rows if r.number == "KS2506-001")
    assert open_case.due_at is not None  # received months ago, but timed from the import
    assert open_case.due_at > datetime.now(timezone.utc)
    # the file is gone from the uploader: a second click cannot import it twice
    assert zh("imp.read", name=md("客户投诉登记表.xlsx"), rows=2, cols=7) not in page_text(at)


def test_only_the_clean_rows_when_chosen(ref_db: Context) -> None:
    at, _ = import_tab()
    tab = upload(at, "r.xlsx", register_file())
    widget(tab, "button", zh("imp.check")).click().run()
    tab = at
    widget(tab, "radio", zh("imp.mode")).set_value("clean").run()
    tab = at
    assert zh("imp.open_clock", n=1) not in page_text(tab)  # the open row is left out
    confirm = widget(tab, "button", zh("imp.confirm", n=1))
    assert not confirm.disabled
    confirm.click().run()
    no_exception(at)
    assert zh("imp.done", n=1, closed=1, skipped=1, customers=0, defects=0) in page_text(at)
    assert uc.search.register(ref_db, _admin(ref_db), RegisterFilter())[1] == 1


def test_a_column_mapped_away_asks_for_the_required_field(ref_db: Context) -> None:
    at, _ = import_tab()
    tab = upload(at, "r.xlsx", register_file())
    widget(tab, "selectbox", "客户").set_value("").run()
    tab = at
    widget(tab, "button", zh("imp.check")).click().run()
    assert zh("imp.err.required_column", field="customer") in [e.value for e in at.error]


def test_a_file_that_is_not_xlsx_is_refused_in_chinese(ref_db: Context) -> None:
    at, _ = import_tab()
    upload(at, "登记表.xlsx", b"this is not a spreadsheet")
    assert [e.value for e in at.error] == [zh("imp.err.not_xlsx", name="登记表.xlsx")]
    assert "“" not in at.error[0].value


def test_a_file_that_is_not_xlsx_is_refused_in_english(ref_db: Context) -> None:
    at, _ = import_tab("en")
    upload(at, "register.xlsx", b"this is not a spreadsheet", "en")
    assert [e.value for e in at.error] == [
        "“register.xlsx” is not a valid .xlsx file."]


def test_the_report_reads_in_english(ref_db: Context) -> None:
    at, _ = import_tab("en")
    tab = upload(at, "r.xlsx", register_file(), "en")
    widget(tab, "button", en("imp.check")).click().run()
    tab = at
    assert en("imp.summary", rows=2, clean=1, bad=1, warnings=0) in page_text(tab)
    assert tab.dataframe[0].value.iloc[0].tolist()[2:4] == [
        "Error", "No customer “新客户贸易公司” in kesu: tick “create missing customers”, "
        "or add it under Customers first."]


def _admin(app: Context) -> Any:
    user = uc.accounts.active_user(app, "admin")
    assert user is not None
    return user


def test_an_imported_case_shows_where_it_came_from_in_its_timeline(ref_db: Context) -> None:
    admin = _admin(ref_db)
    table = read_table("客户投诉登记表.xlsx", register_file(), 20 * 1024 * 1024)
    mapping = uc.importing.import_mapping(ref_db, admin, list(table.headers))
    uc.importing.run_import(ref_db, admin, table, mapping, Options(create_customers=True))
    case_id = uc.search.complaint_id_by_number(ref_db, admin, "KS2505-003")
    at = login_as(new_app(), "admin")
    at.run()
    at.query_params["id"] = str(case_id)
    at.switch_page("pages/complaint.py").run()
    no_exception(at)
    timeline = open_case_tab(at, "case.timeline")
    assert f"**{zh('action.imported')}**" in [m.value for m in timeline.markdown]
    lines = [x.value for x in timeline.text]
    for field, new in (("import_file", "客户投诉登记表.xlsx"), ("import_row", "2"),
                       ("state", zh("state.closed"))):
        assert zh("case.changed_from_to", field=zh("field." + field), old="—", new=new) \
            in lines, (field, lines)


def test_the_qa_manager_imports_and_other_qa_users_are_told_who_can(ref_db: Context) -> None:
    admin = next(u for u in uc.accounts.list_active_users(ref_db) if u.is_admin)
    uc.accounts.create_user(ref_db, admin, UserInput("qam", "孙涛", frozenset({Role.QA}), None,
                                                     frozenset({Title.QA_MANAGER})), "pw-123456")
    uc.accounts.create_user(ref_db, admin, UserInput("qe", "陈强", frozenset({Role.QA}), None),
                            "pw-123456")
    at = login_as(new_app(), "qam")
    at.run()
    at.switch_page("pages/import_register.py").run()
    no_exception(at)
    assert widget(at, "file_uploader", zh("imp.upload"))
    at = login_as(new_app(), "qe")
    at.run()
    at.switch_page("pages/import_register.py").run()
    no_exception(at)
    assert zh("imp.forbidden") in page_text(at)
    assert not at.get("file_uploader")


def test_an_old_register_with_title_totals_and_a_formula_imports_its_good_rows(
        ref_db: Context) -> None:
    """The register as factories keep it (tests/old_register.py): nothing typed in by hand —
    the header is found below the title, the mapping guessed, the 合计 row left out with a
    note, the formula reported as a formula; the good rows are imported."""
    at, _ = import_tab()
    upload(at, "2026年客户投诉登记表.xlsx", old_register.register())
    text = page_text(at)
    assert zh("imp.header_row", row=old_register.HEADER_ROW) in text
    assert widget(at, "selectbox", "客户名称").value == "customer"
    assert widget(at, "selectbox", "投诉日期").value == "received_at"
    assert widget(at, "selectbox", "序号").value == ""
    assert not [s for s in at.selectbox if s.label == old_register.TITLE]

    widget(at, "button", zh("imp.check")).click().run()
    no_exception(at)
    assert zh("imp.summary", rows=5, clean=4, bad=1, warnings=0) in page_text(at)
    assert zh("imp.left_out", n=1) in page_text(at)  # the row prepared ahead (its 序号 only)
    report = [row.tolist() for _, row in at.dataframe[0].value.iterrows()]
    assert report == [
        [str(old_register.FORMULA_ROW), "客户名称", "错误",
         zh("imp.err.formula", formula=old_register.FORMULA), old_register.FORMULA],
        [str(old_register.TOTALS_ROW), "", "说明", zh("imp.note.totals_skipped"), ""],
    ]
    assert zh("imp.err.required") not in page_text(at)

    widget(at, "radio", zh("imp.mode")).set_value("clean").run()
    widget(at, "button", zh("imp.confirm", n=4)).click().run()
    no_exception(at)
    assert zh("imp.done", n=4, closed=2, skipped=1, customers=0, defects=0) in page_text(at)
    rows, total = uc.search.register(ref_db, _admin(ref_db), RegisterFilter())
    assert total == 4
    assert {r.number: r.state == State.CLOSED for r in rows} == {
        number: closed is not None
        for number, _, _, _, _, closed in old_register.GOOD.values()}
