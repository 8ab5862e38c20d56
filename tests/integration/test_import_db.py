"""Importing an old register through the real services on SQLite and PostgreSQL: files read by
ui/importer.py, all-or-nothing really writes nothing, clean-rows mode, numbers kept, counters
raised, events written; and the reader refuses what does not fit in bounded memory."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import text

from core.errors import InvalidInput
from core.importing import MAX_CELL, MAX_ROWS, Options, Table
from core.model import RegisterFilter, State
from core.usecases.context import Context
from tests import old_register
from tests.integration.conftest import World, engine_of
from ui.importer import read_table, template_xlsx
from core import usecases as uc

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
HEADERS = ["投诉编号", "投诉日期", "客户名称", "产品", "不良数量", "交货数量", "不良类型",
           "问题描述", "严重度", "状态", "结案日期", "索赔金额", "责任部门"]


def xlsx(rows: Sequence[Sequence[Any]], headers: Sequence[str] = HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook opens on its one worksheet
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def good_rows(customer: str) -> list[list[Any]]:
    return [
        ["KS2603-005", datetime(2026, 3, 2), customer, "P-100", 12, 500, "划伤",
         "外壳划伤 12 件", "A", "已结案", date(2026, 3, 6), 300, "品质部"],
        ["2025-118", "2025/12/1", customer, "P-200", None, None, "SCRATCH", "包装破损",
         "一般", "处理中", None, None, None],
        [None, "2026年3月10日", customer, "P-100", "3", "100", None, "颜色偏差", None, None,
         None, "88.5", None],
    ]


def load(data: bytes, name: str = "客户投诉登记表.xlsx") -> Table:
    return read_table(name, data, 20 * MB)


def mapping(app: Context, world: World, table: Table) -> dict[int, str]:
    return uc.importing.import_mapping(app, world.admin, list(table.headers))


def count(app: Context, sql: str) -> int:
    with engine_of(app).connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_a_clean_register_is_imported_with_its_numbers_dates_states_and_events(
        app: Context, world: World, draft: Any) -> None:
    table = load(xlsx(good_rows(world.customer.name)))
    m = mapping(app, world, table)
    assert len(m) == len(HEADERS)  # every Chinese header recognised
    report = uc.importing.check_import(app, world.admin, table, m, Options())
    assert not report.has_errors, report.problems
    result = uc.importing.run_import(app, world.admin, table, m, Options())
    assert (result.imported, result.closed, result.skipped) == (3, 1, 0)
    assert result.numbers == ("KS2603-005", "2025-118", "KS2603-006")

    rows, total = uc.search.register(app, world.admin, RegisterFilter(page_size=10))
    assert total == 3
    by_number = {r.number: r for r in rows}
    closed = uc.complaints.complaint(app, world.admin, by_number["KS2603-005"].id)
    c = closed.complaint
    assert c.imported and c.state == State.CLOSED
    assert c.received_at == datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)
    assert c.closed_at == datetime(2026, 3, 5, 16, 0, tzinfo=timezone.utc)
    assert c.close_wd == Decimal("4.00")
    assert c.defect_type_id == world.defect.id
    assert c.responsible_department_id == world.department.id
    assert c.claimed_amount == Decimal("300.00")
    (event,) = closed.events
    assert event.action == "imported" and event.user_id == world.admin.id
    assert event.changes["import_file"] == [None, "客户投诉登记表.xlsx"]
    assert event.changes["import_row"] == [None, 2]

    old = uc.complaints.complaint(app, world.admin, by_number["2025-118"].id).complaint
    assert old.state == State.REGISTERED and old.imported and old.due_at is not None
    third = uc.complaints.complaint(app, world.admin, by_number["KS2603-006"].id).complaint
    assert (third.defective_qty, third.delivered_qty) == (3, 100)
    assert third.claimed_amount == Decimal("88.50")
    # the next registration of March 2026 comes after the imported numbers
    assert uc.complaints.register_complaint(app, world.sales, draft()).number == "KS2603-007"


def test_any_error_writes_nothing_not_even_the_customers_to_create(
        app: Context, world: World) -> None:
    rows = good_rows("新客户有限公司")
    rows[2][1] = "下周三"  # one bad date
    table = load(xlsx(rows))
    m = mapping(app, world, table)
    customers = count(app, "SELECT count(*) FROM customers")
    with pytest.raises(InvalidInput) as e:
        uc.importing.run_import(app, world.admin, table, m, Options(create_customers=True))
    assert e.value.key == "imp.err.not_clean" and e.value.params == {"n": 1}
    assert count(app, "SELECT count(*) FROM complaints") == 0
    assert count(app, "SELECT count(*) FROM events") == 0
    assert count(app, "SELECT count(*) FROM number_counters") == 0
    assert count(app, "SELECT count(*) FROM customers") == customers


def test_only_the_clean_rows_when_the_user_says_so(app: Context, world: World) -> None:
    rows = good_rows("新客户有限公司")
    rows[1][4] = -5  # a negative quantity
    rows[2][0] = "KS2603-005"  # the number of row 2 again
    table = load(xlsx(rows))
    m = mapping(app, world, table)
    report = uc.importing.check_import(app, world.admin, table, m, Options(create_customers=True))
    assert [(p.row, p.column, p.key) for p in report.problems if p.level == "error"] == [
        (3, "不良数量", "imp.err.quantity"), (4, "投诉编号", "imp.err.number_twice")]
    result = uc.importing.run_import(app, world.admin, table, m,
                                     Options(create_customers=True, clean_only=True))
    assert (result.imported, result.skipped, result.new_customers) == (1, 2, 1)
    assert count(app, "SELECT count(*) FROM complaints") == 1
    assert count(app, "SELECT count(*) FROM customers WHERE name = '新客户有限公司'") == 1
    assert count(app, "SELECT last_serial FROM number_counters WHERE period = '2603'") == 5


def test_a_number_already_in_kesu_is_refused(app: Context, world: World, draft: Any) -> None:
    taken = uc.complaints.register_complaint(app, world.sales, draft()).number
    table = load(xlsx([[taken, "2026-03-02", world.customer.name, "", "", "", "", "x"]]))
    report = uc.importing.check_import(app, world.admin, table, mapping(app, world, table),
                                       Options())
    assert [p.key for p in report.problems] == ["imp.err.number_taken"]


def test_a_gbk_csv_register_is_read_and_imported(app: Context, world: World) -> None:
    csv_text = (
        "编号,登记日期,客户,问题描述,数量\r\n"
        f'旧-001,2026/3/3,{world.customer.name},"划伤，两处",1200\r\n'
    )
    table = load(csv_text.encode("gbk"), "登记表.csv")
    assert table.rows == ((2, ("旧-001", "2026/3/3", world.customer.name, "划伤，两处", "1200")),)
    result = uc.importing.run_import(app, world.admin, table, mapping(app, world, table), Options())
    assert result.numbers == ("旧-001",)


def test_the_template_imports_once_its_customers_exist(app: Context, world: World) -> None:
    table = load(template_xlsx("zh"))
    m = mapping(app, world, table)
    report = uc.importing.check_import(app, world.admin, table, m, Options(create_customers=True))
    assert not report.has_errors, report.problems
    assert len(report.rows) == 2


# ---------------------------------------------------------------- refusals of the reader


@pytest.fixture(scope="module")
def million_rows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A register of 1,000,000 data rows, written by openpyxl's write-only mode."""
    path = tmp_path_factory.mktemp("import") / "million.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("登记表")
    ws.append(["问题描述"])
    for i in range(1_000_000):
        ws.append([i])
    wb.save(path)
    return path


_MEASURE = """
import json, sys, time
from core.errors import InvalidInput
from ui.importer import read_table

def peak():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) // 1024

data = open(sys.argv[1], "rb").read()
before, start = peak(), time.perf_counter()
try:
    read_table(sys.argv[1], data, 50 * 1024 * 1024)
    key = None
except InvalidInput as e:
    key = e.key
print(json.dumps({"key": key, "seconds": time.perf_counter() - start,
                  "rss_before_mib": before, "rss_peak_mib": peak()}))
"""


def measure(path: Path) -> dict[str, Any]:
    """Read a file in a fresh process: what it answered and how much memory it took."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=600)
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(path.name, found)  # the numbers for the report (pytest -s)
    return found


def test_a_million_row_file_is_refused_at_the_row_limit_in_bounded_memory(
    million_rows: Path,
) -> None:
    found = measure(million_rows)
    assert found["key"] == "imp.err.too_many_rows"
    assert found["rss_peak_mib"] - found["rss_before_mib"] < 100  # the 168 MB sheet streamed


def test_a_file_with_a_huge_cell_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """One cell unpacking to 300 MB (a crafted file; Excel itself stops at 32,767)."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" '
        't="inlineStr"><is><t>问题描述</t></is></c></row><row r="2"><c r="A2" '
        't="inlineStr"><is><t>'
    ).encode()
    path = tmp_path / "huge-cell.xlsx"
    base = _minimal_xlsx()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, src.read(info.filename))
        with out.open("xl/worksheets/sheet1.xml", "w") as f:
            f.write(sheet)
            for _ in range(300):
                f.write(b"y" * MB)
            f.write(b"</t></is></c></row></sheetData></worksheet>")
    assert path.stat().st_size < MB
    found = measure(path)
    assert found["key"] == "imp.err.huge_cell"
    assert found["rss_peak_mib"] - found["rss_before_mib"] < 100


def _minimal_xlsx() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)
    ws.append(["问题描述"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_cell_over_the_limit_is_refused_naming_row_and_column() -> None:
    data = xlsx([["x", "2026-03-02", "c", "p", 1, 1, "d", "长" * (MAX_CELL + 1)]])
    with pytest.raises(InvalidInput) as e:
        load(data)
    assert e.value.key == "imp.err.cell_too_long"
    assert e.value.params == {"row": 2, "column": "H", "n": MAX_CELL}


def test_too_many_rows_columns_and_files_too_big_or_not_xlsx_are_refused() -> None:
    limit = xlsx([["x"]] * 5, headers=["问题描述"])
    with pytest.raises(InvalidInput) as e:
        read_table("a.xlsx", limit, 20 * MB, max_rows=4)
    assert (e.value.key, e.value.params) == ("imp.err.too_many_rows", {"n": 4})
    assert len(read_table("a.xlsx", limit, 20 * MB, max_rows=5).rows) == 5
    assert MAX_ROWS == 20_000

    with pytest.raises(InvalidInput) as e:
        load(xlsx([], headers=[f"列{i}" for i in range(201)]))
    assert e.value.key == "imp.err.too_many_columns"

    with pytest.raises(InvalidInput) as e:
        read_table("a.xlsx", limit, len(limit) - 1)
    assert e.value.key == "imp.err.file_size"

    for name, data, key in [
        ("a.xlsx", b"\xd0\xcf\x11\xe0 an old .xls renamed", "imp.err.not_xlsx"),
        ("a.xlsx", b"PK\x03\x04 but not a zip", "imp.err.not_xlsx"),
        ("a.xlsx", _zip({"hello.txt": b"hi"}), "imp.err.not_xlsx"),
        ("a.xls", limit, "imp.err.file_type"),
        ("a.csv", "编号\n１".encode("utf-16"), "imp.err.encoding"),
        ("a.csv", b"", "imp.err.empty"),
    ]:
        with pytest.raises(InvalidInput) as e:
            read_table(name, data, 20 * MB)
        assert e.value.key == key, name


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_blank_rows_are_left_out_and_rows_keep_their_excel_numbers() -> None:
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook opens on its one worksheet
    ws["B3"], ws["C3"] = "日期", "问题描述"
    ws["B4"], ws["C4"] = datetime(2026, 3, 2), "a"
    ws["C7"] = "b"
    buf = io.BytesIO()
    wb.save(buf)
    table = load(buf.getvalue())
    assert table.headers == ("(A)", "日期", "问题描述")
    assert [n for n, _ in table.rows] == [4, 7]
    assert table.rows[0][1][1] == datetime(2026, 3, 2)


def test_an_old_register_as_factories_keep_it_imports_its_good_rows(app: Context,
                                                                   world: World) -> None:
    """Title and department lines above the header, blank and totals rows, a formula in a
    customer cell, full-width digits, serial and dotted dates (tests/old_register.py): the
    mapping is the guess, the good rows are imported, the formula row is left out."""
    table = load(old_register.register(), "2026年客户投诉登记表.xlsx")
    assert table.header_row == old_register.HEADER_ROW
    m = mapping(app, world, table)
    options = Options(create_customers=True, clean_only=True)
    report = uc.importing.check_import(app, world.admin, table, m, options)
    assert [(p.row, p.key) for p in report.problems if p.level == "error"
            or p.key == "imp.note.totals_skipped"] == [
        (old_register.FORMULA_ROW, "imp.err.formula"),
        (old_register.TOTALS_ROW, "imp.note.totals_skipped")]
    result = uc.importing.run_import(app, world.admin, table, m, options)
    assert (result.imported, result.skipped, result.closed) == (4, 1, 2)
    assert set(result.numbers) == {g[0] for g in old_register.GOOD.values()}

    rows, total = uc.search.register(app, world.admin, RegisterFilter(page_size=20))
    assert total == 4  # neither the formula row, the totals row nor the prepared row
    tz = ZoneInfo("Asia/Shanghai")
    for row_number, (number, received, customer, delivered, defective,
                     closed) in old_register.GOOD.items():
        (found,) = [r for r in rows if r.number == number]
        case = uc.complaints.complaint(app, world.admin, found.id)
        c = case.complaint
        assert c.received_at.astimezone(tz).date() == received, number
        assert (c.delivered_qty, c.defective_qty) == (delivered, defective), number
        assert (c.state == State.CLOSED) == (closed is not None), number
        if closed is not None:
            assert c.closed_at is not None and c.closed_at.astimezone(tz).date() == closed
        (event,) = case.events
        assert event.changes["import_row"] == [None, row_number]
        assert event.changes["customer"] == [None, customer]
    (third,) = [r for r in rows if r.number == "QA-2602-03"]
    assert uc.complaints.complaint(app, world.admin, third.id).complaint.claimed_amount \
        == Decimal("150.50")
