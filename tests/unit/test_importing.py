"""Importing an old Excel register (docs/procedure.md §10): the mapping guess, the parsing of the
usual Excel
forms, the row-by-row check, and the import through the services on the in-memory fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidInput, NotAllowed
from core.importing import (
    MAPPING_KEY,
    Known,
    Options,
    Table,
    find_header,
    guess_mapping,
    norm,
    normal_number,
    parse_amount,
    parse_date,
    parse_qty,
    parse_severity,
    parse_status,
    remember,
    report_rows,
    row_kind,
    validate,
)
from core.model import (
    CaseFile,
    Category,
    Channel,
    Customer,
    Department,
    Kind,
    Role,
    Severity,
    State,
    Title,
    User,
)
from core import sla
from core.rules import numbering
from core.usecases.context import Context
from tests.unit.conftest import MakeUser
from tests import old_register
from tests.unit.fakes import FakeDatabase
from ui.importer import read_table
from core import usecases as uc

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 10)
HEADERS = (
    "投诉编号",
    "投诉日期",
    "客户名称",
    "问题描述",
    "不良数量",
    "交货数量",
    "严重度",
    "状态",
    "结案日期",
    "索赔金额",
    "不良类型",
    "责任部门",
)
MAPPING = {
    0: "number",
    1: "received_at",
    2: "customer",
    3: "description",
    4: "defective_qty",
    5: "delivered_qty",
    6: "severity",
    7: "state",
    8: "closed_at",
    9: "claimed_amount",
    10: "defect_type",
    11: "responsible_department",
}


def row(number: Any = "", received: Any = "2026-03-05", customer: Any = "Acme Electronics",
        description: Any = "划伤", defective: Any = None, delivered: Any = None,
        severity: Any = None, status: Any = None, closed: Any = None, amount: Any = None,
        defect: Any = None, department: Any = None) -> tuple[Any, ...]:
    return (
        number,
        received,
        customer,
        description,
        defective,
        delivered,
        severity,
        status,
        closed,
        amount,
        defect,
        department,
    )


def table(*rows: tuple[Any, ...], headers: tuple[str, ...] = HEADERS) -> Table:
    return Table(headers, tuple((i + 2, r) for i, r in enumerate(rows)), "登记表.xlsx")


def known(**kw: Any) -> Known:
    base: dict[str, Any] = dict(
        customers={"acme electronics": (1, "Acme Electronics")},
        defect_types={"scr": 7, "划伤": 7, "scratch": 7},
        departments={"制造部": 3},
        products={"p-100": ("P-100", "Housing")},
        numbers_taken=frozenset({"KS2603-001"}),
        tz=TZ,
        today=TODAY,
    )
    base.update(kw)
    return Known(**base)


def check(*rows: tuple[Any, ...], options: Options | None = None, **kw: Any) -> Any:
    return validate(table(*rows), MAPPING, known(**kw), options or Options())


def problems(report: Any) -> list[tuple[int, str, str, str]]:
    return [(p.row, p.column, p.level, p.key) for p in report.problems]


# ---------------------------------------------------------------- the mapping guess


def test_chinese_headers_are_mapped_to_their_fields() -> None:
    headers = [
        "序号",
        "投诉编号",
        "登记日期",
        "客户",
        "型号",
        "品名",
        "订单号",
        "批号",
        "数量",
        "不良数量",
        "不良类型",
        "投诉内容",
        "等级",
        "状态",
        "结案日期",
        "责任部门",
        "原因分析",
        "纠正措施",
        "金额",
    ]
    got = {headers[i]: f for i, f in guess_mapping(headers).items()}
    assert got == {
        "投诉编号": "number",
        "登记日期": "received_at",
        "客户": "customer",
        "型号": "product_code",
        "品名": "product_name",
        "订单号": "order_no",
        "批号": "lot",
        "数量": "delivered_qty",
        "不良数量": "defective_qty",
        "不良类型": "defect_type",
        "投诉内容": "description",
        "等级": "severity",
        "状态": "state",
        "结案日期": "closed_at",
        "责任部门": "responsible_department",
        "原因分析": "root_cause",
        "纠正措施": "reply_text",
        "金额": "claimed_amount",
    }


def test_english_headers_with_punctuation_and_units_are_mapped() -> None:
    headers = [
        "No.",
        "Received",
        "Customer Name",
        "Product",
        "Order",
        "Lot",
        "Defect",
        "Description",
        "Status",
        "Closed",
        "Root cause",
        "Claimed (CNY)",
    ]
    got = [guess_mapping(headers).get(i) for i in range(len(headers))]
    assert got == [
        "number",
        "received_at",
        "customer",
        "product_code",
        "order_no",
        "lot",
        "defect_type",
        "description",
        "state",
        "closed_at",
        "root_cause",
        "claimed_amount",
    ]


def test_a_header_containing_a_synonym_is_guessed_and_unknown_ones_are_left_out() -> None:
    got = guess_mapping(["投诉日期(年/月/日)", "客户名称（全称）", "备注", ""])
    assert got == {0: "received_at", 1: "customer"}


def test_each_field_is_guessed_for_one_column_only() -> None:
    assert guess_mapping(["日期", "投诉日期", "客户"]) == {0: "received_at", 2: "customer"}


def test_the_remembered_choice_wins_over_the_guess() -> None:
    headers = ["单据", "日期", "备注"]
    learnt = remember({}, headers, {0: "number", 2: "description", 1: "received_at"})
    assert guess_mapping(headers, learnt) == {0: "number", 1: "received_at", 2: "description"}
    # ignoring a column the user mapped before is remembered too
    again = remember(learnt, headers, {0: "number", 1: "received_at"})
    assert guess_mapping(headers, again) == {0: "number", 1: "received_at"}


def test_a_mapping_without_the_required_fields_is_refused_naming_them() -> None:
    with pytest.raises(InvalidInput) as e:
        validate(table(row()), {0: "number", 1: "received_at"}, known(), Options())
    assert e.value.key == "imp.err.required_column"
    assert e.value.params["field"] == "customer,description"


def test_two_columns_for_one_field_are_refused() -> None:
    mapping = {**MAPPING, 4: "description"}
    with pytest.raises(InvalidInput) as e:
        validate(table(row()), mapping, known(), Options())
    assert e.value.key == "imp.err.mapped_twice"
    assert (e.value.params["a"], e.value.params["b"]) == ("问题描述", "不良数量")


# ---------------------------------------------------------------- parsing cells


@pytest.mark.parametrize(
    "value, expected",
    [
        (datetime(2024, 3, 5), date(2024, 3, 5)),
        (datetime(2024, 3, 5, 14, 30), datetime(2024, 3, 5, 14, 30)),
        (date(2024, 3, 5), date(2024, 3, 5)),
        ("2024-03-05", date(2024, 3, 5)),
        ("2024/3/5", date(2024, 3, 5)),
        ("2024.3.5", date(2024, 3, 5)),
        ("2024年3月5日", date(2024, 3, 5)),
        ("2024 年 3 月 5 号", date(2024, 3, 5)),
        ("２０２４－０３－０５", date(2024, 3, 5)),  # full-width digits from a Chinese IME
        ("20240305", date(2024, 3, 5)),
        (20240305, date(2024, 3, 5)),
        ("2024-03-05 09:15", datetime(2024, 3, 5, 9, 15)),
        ("2024年3月5日 9:15", datetime(2024, 3, 5, 9, 15)),
        (45356, date(2024, 3, 5)),  # an Excel serial number in a cell formatted as a number
        (45356.5, datetime(2024, 3, 5, 12, 0)),
    ],
)
def test_the_usual_excel_date_forms_are_read(value: Any, expected: Any) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value",
                         ["2024-02-30", "5/3/2024", "下周", "", True, time(9, 0), "2024-13-01", -3])
def test_what_is_not_a_date_is_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        (12, 12),
        (12.0, 12),
        ("1,200", 1200),
        ("12 pcs", 12),
        ("12件", 12),
        ("0", 0),
        (Decimal("5"), 5),
        ("３０", 30),
    ],
)
def test_quantities_are_whole_numbers(value: Any, expected: int) -> None:
    assert parse_qty(value) == expected


@pytest.mark.parametrize("value", [-1, 2.5, "2.5", "abc", "-3", True, 10**10, "1e3"])
def test_negative_fractional_or_text_quantities_are_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_qty(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        (300, Decimal("300.00")),
        (1234.56, Decimal("1234.56")),
        ("1,200.50", Decimal("1200.50")),
        ("¥300", Decimal("300.00")),
        ("300元", Decimal("300.00")),
        ("RMB 88", Decimal("88.00")),
        (Decimal("0.1"), Decimal("0.10")),
    ],
)
def test_amounts_are_decimal_never_float(value: Any, expected: Decimal) -> None:
    got = parse_amount(value)
    assert got == expected and isinstance(got, Decimal)
    assert str(got) == str(expected)


@pytest.mark.parametrize("value", [-5, "1.234", 0.1 + 0.2, "about 300", "NaN", "Infinity"])
def test_bad_amounts_are_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_amount(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("A", Severity.A),
        ("b", Severity.B),
        ("A级", Severity.A),
        ("C 轻微", Severity.C),
        ("严重", Severity.A),
        ("一般", Severity.B),
        ("轻微", Severity.C),
        ("建议", Severity.D),
        ("Critical", Severity.A),
        ("minor", Severity.C),
    ],
)
def test_severity_letters_and_words(value: str, expected: Severity) -> None:
    assert parse_severity(value) == expected


@pytest.mark.parametrize("value", ["E", "高", "Danger", "AB"])
def test_unknown_severities_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_severity(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("已结案", True),
        ("结案", True),
        ("Closed", True),
        ("处理中", False),
        ("未结案", False),
        ("open", False),
        ("调查中", False),
        ("搁置", None),
    ],
)
def test_status_words(value: str, expected: bool | None) -> None:
    assert parse_status(value) is expected


def test_numbers_in_kesu_form_are_written_in_capitals_others_kept_as_given() -> None:
    assert normal_number(" ks2403-007 ") == "KS2403-007"
    assert normal_number("2024-031") == "2024-031"
    assert normal_number(17.0) == "17"


# ---------------------------------------------------------------- checking rows


def test_a_clean_row_gives_typed_values_and_no_problem() -> None:
    report = check(
        row("KS2603-009", "2026/3/5", " acme  electronics ", "外壳划伤", 12, "500", "B", "已结案",
            "2026年3月9日", "1,200.5", "划伤", "制造部")
    )
    assert report.problems == []
    plan = report.rows[0]
    assert plan.ok and plan.closed and plan.number == "KS2603-009"
    assert plan.customer_id == 1 and plan.customer == "Acme Electronics"
    assert plan.defect_type_id == 7
    v = plan.values
    assert v["received_at"] == datetime(2026, 3, 4, 16, 0, tzinfo=timezone.utc)  # Shanghai 0:00
    assert v["closed_at"] == datetime(2026, 3, 8, 16, 0, tzinfo=timezone.utc)
    assert (v["defective_qty"], v["delivered_qty"]) == (12, 500)
    assert v["claimed_amount"] == Decimal("1200.50")
    assert v["severity_proposed"] == Severity.B
    assert v["responsible_department_id"] == 3
    assert (v["kind"], v["channel"], v["category"]) == (
        Kind.COMPLAINT,
        Channel.PHONE,
        Category.QUALITY,
    )


def test_required_fields_missing_are_errors_in_excel_row_and_column_terms() -> None:
    report = check(row(received=None), row(customer="  "), row(description=None))
    assert problems(report) == [
        (2, "投诉日期", "error", "imp.err.required"),
        (3, "客户名称", "error", "imp.err.required"),
        (4, "问题描述", "error", "imp.err.required"),
    ]
    assert report.error_rows == 3 and report.clean == []


def test_each_bad_value_is_reported_with_its_column_and_value() -> None:
    report = check(
        row(received="03/05/2026", defective=-2, delivered="很多", severity="E", amount="三百")
    )
    assert {(p.column, p.key, p.value) for p in report.problems} == {
        ("投诉日期", "imp.err.date", "03/05/2026"),
        ("不良数量", "imp.err.quantity", "-2"),
        ("交货数量", "imp.err.quantity", "很多"),
        ("严重度", "imp.err.severity", "E"),
        ("索赔金额", "imp.err.amount", "三百"),
    }


def test_future_dates_and_closing_before_receiving_are_errors() -> None:
    report = check(row(received="2026-12-01"), row(received="2026-03-05", closed="2026-03-01"))
    assert problems(report) == [
        (2, "投诉日期", "error", "imp.err.future"),
        (3, "结案日期", "error", "imp.err.closed_before_received"),
    ]


def test_more_defective_than_delivered_is_an_error() -> None:
    report = check(row(defective=20, delivered=10))
    assert problems(report) == [(2, "不良数量", "error", "imp.err.defective_gt_delivered")]


def test_closed_without_a_closed_date_is_an_error_and_a_closed_date_closes_the_case() -> None:
    report = check(row(status="已结案"), row(closed="2026-03-09"), row(status="处理中"))
    assert problems(report) == [(2, "状态", "error", "imp.err.closed_without_date")]
    assert [r.closed for r in report.rows] == [True, True, False]


def test_open_status_with_a_closed_date_is_imported_closed_with_a_warning() -> None:
    report = check(row(status="处理中", closed="2026-03-09"), row(status="搁置"))
    assert problems(report) == [
        (2, "状态", "warning", "imp.warn.open_with_closed_date"),
        (3, "状态", "warning", "imp.warn.status_unknown"),
    ]
    assert [r.closed for r in report.rows] == [True, False]
    assert report.clean == report.rows  # warnings do not stop a row


def test_a_number_in_kesu_already_or_twice_in_the_file_is_an_error() -> None:
    report = check(row("KS2603-001"), row("OLD-7"), row("old-7"), row("OLD-7"))
    assert problems(report) == [
        (2, "投诉编号", "error", "imp.err.number_taken"),
        (5, "投诉编号", "error", "imp.err.number_twice"),
    ]
    twice = report.problems[1]
    assert twice.params == {"number": "OLD-7", "first": 3}
    assert [r.number for r in report.rows] == ["KS2603-001", "OLD-7", "old-7", "OLD-7"]


def test_a_number_too_long_for_the_register_is_an_error() -> None:
    report = check(row("X" * 21))
    assert problems(report) == [(2, "投诉编号", "error", "imp.err.number_long")]


@pytest.mark.parametrize("number", ["![x](http://e.cn)", "KS*1*", "<b>1</b>", "#1", "[a]"])
def test_markdown_or_html_in_a_number_is_an_error(number: str) -> None:
    assert problems(check(row(number))) == [(2, "投诉编号", "error", "imp.err.number_chars")]


@pytest.mark.parametrize("number", ["KS 2025/01-(A)", "客诉-2025.01", "QA_17"])
def test_numbers_of_old_registers_in_their_usual_forms_are_kept(number: str) -> None:
    report = check(row(number))
    assert problems(report) == [] and report.clean[0].number == number


def test_an_unknown_customer_is_an_error_unless_the_user_asks_to_create_it() -> None:
    refused = check(row(customer="新客户"), row(customer="新客户"))
    assert [p.key for p in refused.problems] == ["imp.err.unknown_customer"] * 2
    offered = check(row(customer="新客户"), row(customer=" 新客户"),
                    options=Options(create_customers=True))
    assert [(p.level, p.key) for p in offered.problems] == [
        ("note", "imp.note.customer_created")
    ] * 2
    assert offered.new_customers == ["新客户"]  # once, however many rows name it
    assert len(offered.clean) == 2


def test_an_unknown_defect_type_is_kept_as_text_or_created() -> None:
    kept = check(row(defect="气泡"))
    assert [(p.level, p.key) for p in kept.problems] == [("warning", "imp.warn.defect_kept")]
    assert kept.rows[0].defect_type == "气泡" and kept.rows[0].defect_type_id is None
    created = check(row(defect="气泡"), options=Options(create_defect_types=True))
    assert created.new_defect_types == ["气泡"]
    assert [p.key for p in created.problems] == ["imp.note.defect_created"]


def test_a_known_product_fills_in_the_code_or_the_name() -> None:
    t = Table(("日期", "客户", "内容", "料号"),
              ((2, ("2026-03-05", "Acme Electronics", "x", "p-100")),), "f.xlsx")
    report = validate(t, {0: "received_at", 1: "customer", 2: "description", 3: "product_code"},
                      known(), Options())
    assert report.rows[0].values["product_name"] == "Housing"
    assert report.rows[0].values["product_code"] == "p-100"  # as given


def test_an_over_long_text_is_an_error() -> None:
    report = check(row(description="长" * 5001))
    assert problems(report) == [(2, "问题描述", "error", "imp.err.too_long")]


def test_a_file_without_data_rows_is_an_error() -> None:
    assert [p.key for p in check().problems] == ["imp.err.no_rows"]


def test_the_report_reads_in_chinese_and_english() -> None:
    report = check(row("KS2603-001"))
    (zh,) = report_rows(report, "zh")
    (en,) = report_rows(report, "en")
    assert zh == (2, "投诉编号", "错误", "编号 KS2603-001 在系统中已存在。", "KS2603-001")
    assert en == (
        2,
        "投诉编号",
        "Error",
        "The number KS2603-001 exists in kesu already.",
        "KS2603-001",
    )


# ---------------------------------------------------------------- an old register as kept


def old_known() -> Known:
    return known(customers={norm(old_register.CUSTOMER): (1, old_register.CUSTOMER),
                            norm(old_register.OTHER_CUSTOMER): (2, old_register.OTHER_CUSTOMER)},
                 defect_types={norm(d): 7 for d in ("外观划伤", "开裂", "焊接不良")},
                 numbers_taken=frozenset())


def test_an_old_register_is_read_below_its_title_and_department_lines() -> None:
    table = read_table("登记表.xlsx", old_register.register(), 20 * 1024 * 1024)
    assert table.headers == old_register.HEADERS  # not the merged title
    assert table.header_row == old_register.HEADER_ROW
    assert table.totals == (old_register.TOTALS_ROW,)
    # blank rows 7 and 10 left out; every row keeps the number Excel shows
    assert [n for n, _ in table.rows] == [5, 6, 8, 9, 11, 12]
    assert guess_mapping(table.headers) == {
        1: "number", 2: "received_at", 3: "customer", 4: "product_code", 5: "defect_type",
        6: "description", 7: "delivered_qty", 8: "defective_qty", 9: "claimed_amount",
        10: "state", 11: "closed_at"}


def test_an_old_register_gives_its_good_rows_and_reports_only_the_formula() -> None:
    table = read_table("登记表.xlsx", old_register.register(), 20 * 1024 * 1024)
    report = validate(table, guess_mapping(table.headers), old_known(), Options())
    # the totals row is a note, the formula an error of its row: nothing else is wrong
    assert problems(report) == [
        (old_register.FORMULA_ROW, "客户名称", "error", "imp.err.formula"),
        (old_register.TOTALS_ROW, "", "note", "imp.note.totals_skipped"),
    ]
    formula = report.problems[0]
    assert formula.value == old_register.FORMULA
    assert formula.text("zh") == ("公式单元格，未计算：" + old_register.FORMULA
                                  + "（请在 Excel 中粘贴为数值）。")
    assert formula.text("en").startswith("A formula cell, not calculated: =VLOOKUP(")
    # the row prepared ahead (only its 序号) is no row with errors: it is not there at all
    assert [p.row for p in report.rows] == [5, 6, 8, 9, old_register.FORMULA_ROW]
    assert report.left_out == 1
    assert [p.row for p in report.clean] == list(old_register.GOOD)
    for plan in report.clean:
        number, received, customer, delivered, defective, closed = old_register.GOOD[plan.row]
        assert plan.number == number
        assert plan.customer == customer
        assert plan.values["received_at"].astimezone(TZ).date() == received
        assert (plan.values["delivered_qty"], plan.values["defective_qty"]) == (delivered,
                                                                                defective)
        closed_at = plan.values["closed_at"]
        assert (closed_at.astimezone(TZ).date() if closed_at else None) == closed
        assert plan.closed == (closed is not None)
    by_row = {p.row: p for p in report.clean}
    assert by_row[8].values["claimed_amount"] == Decimal("150.50")  # full-width digits
    assert by_row[5].values["claimed_amount"] == Decimal("300.00")


def test_a_formula_cell_is_a_formula_never_required_but_empty_nor_calculated() -> None:
    report = check(row(number="2026-9", received="=TODAY()", customer="=B7",
                       description="=C2&D2"))
    assert problems(report) == [
        (2, "投诉日期", "error", "imp.err.formula"),
        (2, "客户名称", "error", "imp.err.formula"),
        (2, "问题描述", "error", "imp.err.formula"),
    ]
    assert [p.value for p in report.problems] == ["=TODAY()", "=B7", "=C2&D2"]
    assert not report.clean
    # a row with formulas only in the columns imported is a row prepared ahead: left out
    assert problems(check(row(received="=TODAY()", customer="=B7", description="=C2&D2"),
                          row())) == []


def test_a_closed_row_whose_close_date_is_a_formula_names_the_formula_only() -> None:
    report = check(row(status="已结案", closed="=B2+7"))
    assert problems(report) == [(2, "结案日期", "error", "imp.err.formula")]


@pytest.mark.parametrize("cells, kind", [
    ((), "blank"),
    ((None, "  ", None), "blank"),
    ((6, None, None), "data"),
    (("=ROW()-4", None, "=IF(B9=\"\",\"\",TODAY()-B9)"), "blank"),  # prepared ahead
    (("合计", None, "=SUM(H5:H12)", 1200, "=SUM(J5:J12)"), "totals"),
    (("小计：", "12", 3.5, "-"), "totals"),
    (("3月合计", "１，２００"), "totals"),
    (("合计", "12 件", "￥1,200.50"), "totals"),
    ((None, "总 计", Decimal("88.50")), "totals"),
    (("Total", "=SUM(A1:A3)"), "totals"),
    (("合计", "华东电器有限公司", 12), "data"),  # a name beside it: a data row
    (("KS2603-001", "合计不良 12 件", 12), "data"),
])
def test_blank_and_totals_rows_are_told_from_data_rows(cells: tuple[Any, ...],
                                                       kind: str) -> None:
    assert row_kind(cells) == kind


def test_the_header_is_the_row_naming_the_most_fields() -> None:
    rows: list[tuple[Any, ...]] = [
        ("2026年客户投诉登记表",),
        ("品质保障部  编制：王芳", None, "日期：", datetime(2026, 3, 31)),
        ("序号", "投诉日期", "客户名称", "问题描述"),
        (1, "2026.03.02", "华东电器有限公司", "客户反馈产品问题"),
    ]
    assert find_header(rows) == 2
    assert find_header(rows[2:]) == 0
    # no row looks like a header: the first one is taken, as before
    assert find_header([("A", "B"), ("x", "y")]) == 0
    assert find_header([]) == 0


@pytest.mark.parametrize("value, expected", [
    ("2026.03.12", date(2026, 3, 12)),
    ("2026/3/12", date(2026, 3, 12)),
    ("2026年3月12日", date(2026, 3, 12)),
    ("２０２６．０３．１２", date(2026, 3, 12)),
    ("２０２６年３月１２日", date(2026, 3, 12)),
    (46093, date(2026, 3, 12)),
    (46093.0, date(2026, 3, 12)),
    ("46093", date(2026, 3, 12)),  # a serial kept as text
    ("４６０９３", date(2026, 3, 12)),
])
def test_dates_as_clerks_type_them_and_serial_dates(value: Any, expected: date) -> None:
    assert parse_date(value) == expected


def test_full_width_numbers_and_quantities_are_folded() -> None:
    assert normal_number("ｋｓ２６０３－００７") == "KS2603-007"
    assert parse_qty("１，２００") == 1200
    assert parse_amount("￥１５０.５０") == Decimal("150.50")


# ---------------------------------------------------------------- the service (fakes)


@pytest.fixture
def qa_manager(make_user: MakeUser) -> User:
    return make_user("qm", Role.QA, titles=frozenset({Title.QA_MANAGER}))


@pytest.fixture
def refs(kesu: Context, admin: User, customer_id: int, defect_id: int) -> None:
    uc.reference.save_reference(kesu, admin, Department(0, "PROD", "制造部", "Production"))


def register_table(*rows: tuple[Any, ...]) -> Table:
    return table(*rows)


def test_only_an_administrator_or_the_qa_manager_may_import(kesu: Context, admin: User,
                                                            qa_manager: User, qa: User,
                                                            manager: User, refs: None) -> None:
    t = register_table(row())
    assert uc.importing.check_import(kesu, admin, t, MAPPING, Options()).clean
    assert uc.importing.check_import(kesu, qa_manager, t, MAPPING, Options()).clean
    for who in (qa, manager):
        assert not uc.importing.may_import(kesu, who)
        with pytest.raises(NotAllowed):
            uc.importing.check_import(kesu, who, t, MAPPING, Options())
        with pytest.raises(NotAllowed):
            uc.importing.run_import(kesu, who, t, MAPPING, Options())


def test_a_clean_register_is_imported_with_its_numbers_dates_and_events(kesu: Context, admin: User,
                                                                        db: FakeDatabase,
                                                                        refs: None) -> None:
    t = register_table(
        row("KS2603-007", "2026-03-02", description="外壳划伤", severity="A", status="已结案",
            closed="2026-03-06", amount="300", defect="SCR", department="制造部"),
        row("OLD-2025-17", "2025/12/1", description="包装破损", severity="轻微"),
        row("", "2026年3月20日", description="颜色偏差"),
    )
    result = uc.importing.run_import(kesu, admin, t, MAPPING, Options())
    assert (result.imported, result.skipped, result.closed) == (3, 0, 1)
    by_number = {c.number: c for c in db.data.complaints.values()}
    assert set(by_number) == {"KS2603-007", "OLD-2025-17", "KS2603-008"}
    closed = by_number["KS2603-007"]
    assert closed.state == State.CLOSED and closed.imported
    assert closed.received_at == datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)
    assert closed.closed_at == datetime(2026, 3, 5, 16, 0, tzinfo=timezone.utc)
    assert closed.close_wd == Decimal("4.00")  # Mon 2 March .. Thu 5 March, whole days
    assert closed.severity == closed.severity_proposed == Severity.A
    assert closed.claimed_amount == Decimal("300.00") and closed.responsible_department_id
    assert closed.due_at is None
    open_ = by_number["OLD-2025-17"]
    assert open_.state == State.REGISTERED and open_.imported and open_.closed_at is None
    assert open_.severity is None and open_.severity_proposed == Severity.C
    assert open_.close_wd is None and open_.due_at is not None  # it follows the procedure now
    assert open_.received_by_id == admin.id
    # the number given to a row without one does not meet the imported KS2603-007
    assert db.data.counters["2603"] == 8
    events = [e for e in db.data.events if e.action == "imported"]
    assert len(events) == 3
    first = next(e for e in events if e.complaint_id == closed.id)
    assert first.changes["import_file"] == [None, "登记表.xlsx"]
    assert first.changes["import_row"] == [None, 2]
    assert first.changes["state"] == [None, "closed"]
    assert first.changes["defect_type"] == [None, "SCR"]


def test_open_imported_cases_start_their_clocks_at_the_import_not_when_received(kesu: Context,
                                                                                admin: User,
                                                                                db: FakeDatabase,
                                                                                refs: None) -> None:
    """A months-old open case from the register is not overdue (nor escalated) on arrival;
    a case logged in kesu with the same received date is."""
    t = register_table(row("OLD-2025-17", "2025/12/1", description="包装破损", severity="轻微"))
    uc.importing.run_import(kesu, admin, t, MAPPING, Options())
    imported = next(iter(db.data.complaints.values()))
    now = kesu.clock()
    assert imported.due_step == "dispatch"
    assert imported.due_at is not None and now < imported.due_at < now + timedelta(days=3)
    assert uc.channels.escalate_overdue(kesu) == 0
    assert sla.open_steps(CaseFile(imported), []) == [("dispatch", imported.created_at)]
    logged_then = replace(imported, imported=False)  # the same case logged in kesu back then
    assert sla.open_steps(CaseFile(logged_then), []) == [("dispatch", imported.received_at)]


def test_new_registrations_never_meet_an_imported_number(kesu: Context, admin: User, sales: User,
                                                         db: FakeDatabase, refs: None,
                                                         draft: Any) -> None:
    period = numbering.period_of(datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc), TZ)
    uc.importing.run_import(kesu, admin, register_table(row(f"KS{period}-041", "2026-11-02")),
                            MAPPING, Options())
    new = uc.complaints.register_complaint(kesu, sales, draft)
    assert new.number == f"KS{period}-042"


def test_any_error_and_nothing_is_written(kesu: Context, admin: User, db: FakeDatabase,
                                          refs: None) -> None:
    before = db.commits
    t = register_table(row("KS2603-020", customer="新客户"), row("KS2603-021"),
                       row(received="昨天"))
    with pytest.raises(InvalidInput) as e:
        uc.importing.run_import(kesu, admin, t, MAPPING, Options(create_customers=True))
    assert e.value.key == "imp.err.not_clean" and e.value.params == {"n": 1}
    assert db.commits == before
    assert db.data.complaints == {} and db.data.counters == {}
    assert [c.name for c in db.data.refs[Customer].values()] == ["Acme Electronics"]


def test_clean_rows_only_imports_the_good_rows_and_counts_the_others(kesu: Context, admin: User,
                                                                     db: FakeDatabase,
                                                                     refs: None) -> None:
    t = register_table(row("KS2603-020", customer="新客户"), row("KS2603-021", severity="Z"),
                       row(received="昨天"))
    result = uc.importing.run_import(kesu, admin, t, MAPPING,
                                     Options(create_customers=True, clean_only=True))
    assert (result.imported, result.skipped, result.new_customers) == (1, 2, 1)
    (c,) = db.data.complaints.values()
    assert c.number == "KS2603-020"
    assert db.data.refs[Customer][c.customer_id].name == "新客户"


def test_clean_rows_only_with_no_clean_row_imports_nothing(kesu: Context, admin: User,
                                                           db: FakeDatabase, refs: None) -> None:
    with pytest.raises(InvalidInput) as e:
        uc.importing.run_import(kesu, admin, register_table(row(received=None)), MAPPING,
                                Options(clean_only=True))
    assert e.value.key == "imp.err.nothing_clean"
    assert db.data.complaints == {}


def test_missing_defect_types_are_created_when_asked(kesu: Context, admin: User, db: FakeDatabase,
                                                     refs: None) -> None:
    t = register_table(row(defect="气泡"), row(defect="气泡"), row(defect="划伤"))
    result = uc.importing.run_import(kesu, admin, t, MAPPING, Options(create_defect_types=True))
    assert result.new_defect_types == 1
    ids = [c.defect_type_id for c in db.data.complaints.values()]
    assert ids[0] == ids[1] and ids[0] is not None and ids[2] != ids[0]


def test_the_chosen_mapping_is_remembered_for_the_next_file(kesu: Context, admin: User,
                                                            db: FakeDatabase, refs: None) -> None:
    headers = ("单据", "日期", "客户名称", "异常情况")
    t = Table(headers, ((2, ("A-1", "2026-03-02", "Acme Electronics", "x")),), "f.csv")
    assert uc.importing.import_mapping(kesu, admin, headers) == {1: "received_at", 2: "customer"}
    mapping = {0: "number", 1: "received_at", 2: "customer", 3: "description"}
    uc.importing.run_import(kesu, admin, t, mapping, Options())
    assert uc.importing.import_mapping(kesu, admin, headers) == mapping
    assert "异常情况" in (db.data.settings[MAPPING_KEY])


def test_checking_writes_nothing(kesu: Context, admin: User, db: FakeDatabase, refs: None) -> None:
    before = db.commits
    report = uc.importing.check_import(kesu, admin, register_table(row(), row(customer="新")),
                                       MAPPING, Options(create_customers=True))
    assert len(report.clean) == 2 and report.new_customers == ["新"]
    assert db.commits == before
