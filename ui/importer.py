"""Admin → Import (导入): read an old register (XLSX streamed by openpyxl in read-only mode, or
CSV), map its columns, show the row-by-row report, import on confirmation (docs/procedure.md §10).

Reading refuses, with a translated message, what does not fit in bounded memory: a file over
the upload size setting, one that is not a real XLSX, parts that would unpack too large, more
than MAX_ROWS data rows (it stops reading at the first row beyond), more than MAX_COLUMNS
columns, a cell longer than MAX_CELL characters — and whatever costs more than its
core.importing.ReadBudget: blank rows before the first filled row, cells and XML elements,
cells of one row, seconds (issue #11). The header may stand below a title line and a department
line; blank rows and totals rows (合计) are left out (issue #13).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import time as clock
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st
from openpyxl import Workbook
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from core.errors import DomainError, InvalidInput
from core.i18n import t
from core.importing import (
    HEADER_LOOKAHEAD, MAX_BLANK_BEFORE_HEADER, MAX_CELL, MAX_COLUMNS, MAX_READ_CELLS,
    MAX_READ_SECONDS, MAX_ROWS, REPORT_COLUMNS, TARGETS, Cell, Options, ReadBudget, Report, Table,
    custom_targets, find_header, report_rows, row_kind, text_of,
)
from core.rules.custom_fields import labels as custom_labels
from core.model import User
from ui.context import attempt, error_message, flash, kesu, lang, md, tr, trn
from ui.exports import to_xlsx
from core import usecases as uc

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_MAGIC = b"PK\x03\x04"
# Parts openpyxl reads whole (shared strings, styles, workbook) may unpack to at most this;
# worksheets are streamed, so only their rows count.
MAX_PART_BYTES = 64 * 1024 * 1024
MAX_BLANK_RUN = 5000  # this many blank rows in a row: the data has ended (styled empty rows)

# The template register: Chinese headers (as most registers have them), in TARGETS' terms.
TEMPLATE: tuple[tuple[str, str], ...] = (
    ("投诉编号", "number"), ("投诉日期", "received_at"), ("客户名称", "customer"),
    ("类别", "kind"), ("受理渠道", "channel"), ("产品", "product_code"), ("品名", "product_name"),
    ("订单号", "order_no"), ("批号", "lot"), ("交货数量", "delivered_qty"),
    ("不良数量", "defective_qty"), ("不良类型", "defect_type"), ("问题描述", "description"),
    ("索赔金额", "claimed_amount"), ("严重度", "severity"), ("状态", "state"),
    ("结案日期", "closed_at"), ("责任部门", "responsible_department"), ("原因分析", "root_cause"),
    ("处理结果", "reply_text"),
)


# ---------------------------------------------------------------- reading a file


def read_table(filename: str, data: bytes, max_bytes: int, *, max_rows: int = MAX_ROWS,
               max_cell: int = MAX_CELL, max_columns: int = MAX_COLUMNS,
               budget: ReadBudget | None = None) -> Table:
    """The first sheet of an uploaded register, or InvalidInput saying why not."""
    budget = budget or ReadBudget(clock.monotonic)
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] or "file"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ("xlsx", "csv"):
        raise InvalidInput("imp.err.file_type")
    if len(data) > max_bytes:
        raise InvalidInput("imp.err.file_size", mb=max(1, max_bytes // (1024 * 1024)))
    rows = _xlsx_rows(name, data, budget) if ext == "xlsx" else _csv_rows(data)
    return replace(_collect(rows, max_rows, max_cell, max_columns, budget), filename=name)


def _xlsx_rows(name: str, data: bytes, budget: ReadBudget) -> Iterator[tuple[int, list[Cell]]]:
    if not data.startswith(ZIP_MAGIC):
        raise InvalidInput("imp.err.not_xlsx", name=name)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, ValueError) as e:
        raise InvalidInput("imp.err.not_xlsx", name=name) from e
    if not any(p.filename.startswith("xl/worksheets/") for p in parts):
        raise InvalidInput("imp.err.not_xlsx", name=name)
    for p in parts:
        if not p.filename.startswith("xl/worksheets/") and p.file_size > MAX_PART_BYTES:
            raise InvalidInput("imp.err.unpacked_size", mb=MAX_PART_BYTES // (1024 * 1024))
    try:
        sheet, archive = _first_sheet(data)
        sheet.budget = budget
    except DomainError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever openpyxl finds broken: not an xlsx
        raise InvalidInput("imp.err.not_xlsx", name=name) from e
    try:
        # types-openpyxl declares ReadOnlyWorksheet.iter_rows as Worksheet's (self: Worksheet)
        rows = sheet.iter_rows(values_only=True)  # type: ignore[misc]
        for number, row in enumerate(rows, start=1):
            yield number, [_plain(v) for v in row]
    except DomainError:
        raise
    except Exception as e:  # noqa: BLE001 - a broken sheet part
        raise InvalidInput("imp.err.not_xlsx", name=name) from e
    finally:
        archive.close()


def _plain(value: object) -> Cell:
    """A sheet value as core.importing takes it: a formula as its text ("=SUM(K4:K9)", never
    calculated); the rare others (a duration, rich text) as the text they show."""
    if value is None or isinstance(value, (str, int, float, Decimal, date, time)):
        return value
    if isinstance(value, ArrayFormula):
        return value.text or "=?"
    if isinstance(value, DataTableFormula):
        return "=TABLE()"
    return str(value)


class _StreamedSheet(ReadOnlyWorksheet):
    """openpyxl's read-only sheet without its size probe. When no <dimension> comes before the
    data (files from openpyxl's write-only mode and many generators), the probe parses the
    whole sheet before the first row is read: 40 s for a 1,000,000-row file. Without it the
    rows stream as they come and nothing is padded to a claimed width."""

    budget: ReadBudget | None = None

    def _get_size(self) -> None:
        return None

    def _get_source(self) -> _NoHugeText:
        # private openpyxl attributes, absent from types-openpyxl
        archive = self.parent._archive  # type: ignore[attr-defined]
        return _NoHugeText(archive.open(self._worksheet_path),  # type: ignore[attr-defined]
                           self.budget)


class _NoHugeText(io.RawIOBase):
    """The sheet's XML as the parser reads it, refused as soon as a text run (a cell) grows
    far beyond MAX_CELL: a crafted file could otherwise unpack one cell of gigabytes into
    memory before any row is seen."""

    LIMIT = MAX_CELL * 8 + 1024  # bytes: UTF-8 and XML escapes make a character up to ~6
    ROW = re.compile(rb"<(?:\w+:)?row[\s/>]")
    CELL = re.compile(rb"<(?:\w+:)?c[\s/>]")

    def __init__(self, src: Any, budget: ReadBudget | None = None) -> None:
        super().__init__()
        self.src, self.run, self.budget, self.row_cells = src, 0, budget, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self.src.read(size if size and size > 0 else 1 << 16)
        last_tag = chunk.rfind(b"<")
        if last_tag < 0:
            self.run += len(chunk)
        else:
            first_tag = chunk.find(b"<")
            longest = max((len(part) for part in chunk[first_tag:last_tag].split(b"<")),
                          default=0)
            if self.run + first_tag > self.LIMIT or longest > self.LIMIT:
                raise InvalidInput("imp.err.huge_cell", n=MAX_CELL)
            self.run = len(chunk) - last_tag
        if self.run > self.LIMIT:
            raise InvalidInput("imp.err.huge_cell", n=MAX_CELL)
        if self.budget is not None:
            self._count(chunk, self.budget)
        return chunk

    def _count(self, chunk: bytes, budget: ReadBudget) -> None:
        """XML elements, and cells since the last row tag, before openpyxl builds a row of
        them in memory (chunks are read ahead of the parser; a tag cut between two chunks may
        go uncounted, which a budget can afford)."""
        rows = [m.start() for m in self.ROW.finditer(chunk)]
        if not rows:
            self.row_cells += len(self.CELL.findall(chunk))
            longest = self.row_cells
        else:
            longest = self.row_cells + len(self.CELL.findall(chunk, 0, rows[0]))
            self.row_cells = len(self.CELL.findall(chunk, rows[-1]))
        budget.xml(chunk.count(b"<"), max(longest, self.row_cells))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self.src.close()
        super().close()


def _first_sheet(data: bytes) -> tuple[_StreamedSheet, zipfile.ZipFile]:
    """The first worksheet, streamed (load_workbook(read_only=True) minus the size probe);
    formulas as formulas, not their cached results (data_only=False): kesu says which cells
    hold one rather than trust a value it cannot check."""
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=False)
    try:
        reader.read_manifest()
        reader.read_strings()  # read whole: its size was checked before
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)  # which number formats are dates
        for sheet, rel in reader.parser.find_sheets():
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
                return (_StreamedSheet(reader.wb, sheet.name, rel.target, reader.shared_strings),
                        reader.archive)
    except BaseException:
        reader.archive.close()
        raise
    reader.archive.close()
    raise InvalidInput("imp.err.empty")


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Cell]]]:
    """CSV as Excel writes it in China: UTF-8 (with or without BOM) or GBK."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput("imp.err.encoding")
    csv.field_size_limit(max(MAX_CELL * 4, 131072))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, row in enumerate(reader, start=1):
            yield number, list(row)
    except csv.Error as e:
        raise InvalidInput("imp.err.cell_too_long", row="?", column="?", n=MAX_CELL) from e


def _collect(rows: Iterable[tuple[int, list[Cell]]], max_rows: int, max_cell: int,
             max_columns: int, budget: ReadBudget) -> Table:
    """Header and data rows, refused at the first row beyond a limit. The header is the row
    among the first HEADER_LOOKAHEAD non-blank ones that names the most fields (a title line
    and a department line above it are passed over, core.importing.find_header); blank rows
    (formulas only too) are left out, and totals rows (合计 …) kept apart."""
    top: list[tuple[int, tuple[Cell, ...]]] = []  # non-blank rows while the header is unknown
    header: tuple[int, tuple[Cell, ...]] | None = None
    body: list[tuple[int, tuple[Cell, ...]]] = []
    totals: list[int] = []
    blank_run = 0

    def take(number: int, cells: tuple[Cell, ...]) -> None:
        kind = row_kind(cells)
        if kind == "totals":
            totals.append(number)
        elif kind == "data":
            if len(body) >= max_rows:
                raise InvalidInput("imp.err.too_many_rows", n=max_rows)
            body.append((number, cells))

    def settle() -> tuple[int, tuple[Cell, ...]]:
        at = find_header([cells for _, cells in top])
        for number, cells in top[at + 1:]:
            take(number, cells)
        return top[at]

    for number, raw in rows:
        cells = [_cell(v) for v in raw]
        while cells and cells[-1] is None:
            cells.pop()
        budget.row(len(raw), not cells, bool(top))
        if not cells:
            blank_run += 1
            if top and blank_run > MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
        if len(cells) > max_columns:
            raise InvalidInput("imp.err.too_many_columns", row=number, n=max_columns)
        for i, v in enumerate(cells):
            if isinstance(v, str) and len(v) > max_cell:
                raise InvalidInput("imp.err.cell_too_long", row=number,
                                   column=get_column_letter(i + 1), n=max_cell)
        if header is not None:
            take(number, tuple(cells))
            continue
        top.append((number, tuple(cells)))
        if len(top) >= HEADER_LOOKAHEAD:
            header = settle()
    if header is None:
        if not top:
            raise InvalidInput("imp.err.empty")
        header = settle()
    header_row, header_cells = header
    headers = tuple(text_of(v) or f"({get_column_letter(i + 1)})"
                    for i, v in enumerate(header_cells))
    width = max([len(headers), *(len(c) for _, c in body)])
    headers += tuple(f"({get_column_letter(i + 1)})" for i in range(len(headers), width))
    return Table(headers, tuple(body), header_row=header_row, totals=tuple(totals))


def _cell(v: Any) -> Cell:
    if isinstance(v, str):
        return v if v.strip() else None
    if v is None or isinstance(v, (int, float, bool, date, datetime)):
        return v
    return str(v)  # times, errors (#N/A) and the like: as text


# ---------------------------------------------------------------- the template


def template_xlsx(language: str) -> bytes:
    """An empty register with the Chinese headers and two example rows (one closed)."""
    year = datetime.now().year - 1
    rows = [
        [f"KS{year % 100:02d}03-001", date(year, 3, 5), t("imp.example.customer1", language),
         "投诉", "电话", "P-100", "外壳", "SO-2403-18", "L240301", 500, 12,
         t("imp.example.defect1", language), t("imp.example.description1", language), 300,
         "B", "已结案", date(year, 3, 12), t("imp.example.dept1", language),
         t("imp.example.cause1", language), t("imp.example.result1", language)],
        ["", date(year, 11, 20), t("imp.example.customer2", language), "投诉", "邮件",
         "P-200", "包装箱", "PO-7781", "", 1000, 40, t("imp.example.defect2", language),
         t("imp.example.description2", language), "", "C", "处理中", None, "", "", ""],
    ]
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook opens on its one worksheet
    ws.title = "客户投诉登记表"
    ws.append([h for h, _ in TEMPLATE])
    for row in rows:
        ws.append(row)
    for col in ("B", "Q"):
        for cell in ws[col][1:]:
            cell.number_format = "yyyy-mm-dd"
    for i in range(1, len(TEMPLATE) + 1):
        ws.column_dimensions[get_column_letter(i)].width = 14
    ws.column_dimensions["M"].width = 40
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- the Admin tab


def import_tab(me: User) -> None:
    app = kesu()
    st.title(tr("imp.title"))
    if not uc.importing.may_import(app, me):
        st.info(tr("imp.forbidden"))
        return
    st.caption(tr("imp.intro"))
    st.download_button(tr("imp.template"), template_xlsx(lang()),
                       file_name="kesu-register-template.xlsx", mime=XLSX_MIME,
                       key="imp_template", on_click="ignore")
    cfg = uc.context.settings(app)
    st.caption(tr("imp.limits", rows=f"{MAX_ROWS:,}", cols=MAX_COLUMNS, chars=f"{MAX_CELL:,}",
                  mb=cfg.attachment_max_mb))
    st.caption(tr("imp.budgets", blank=MAX_BLANK_BEFORE_HEADER, cells=f"{MAX_READ_CELLS:,}",
                  s=f"{MAX_READ_SECONDS:.0f}"))
    round_ = st.session_state.setdefault("imp_round", 0)
    up = st.file_uploader(tr("imp.upload"), type=["xlsx", "csv"], key=f"imp_file_{round_}",
                          max_upload_size=cfg.attachment_max_mb)
    if up is None:
        return
    table = _loaded(up.name, up.getvalue(), cfg.attachment_max_bytes)
    if table is None:
        return
    sig = st.session_state["imp_loaded"][0]
    st.success(trn("imp.read", len(table.rows), name=md(table.filename), rows=len(table.rows),
                   cols=len(table.headers)))
    if table.header_row > 1:
        st.caption(tr("imp.header_row", row=table.header_row))
    mapping = _mapping(me, table, sig)
    st.markdown("**" + tr("imp.options") + "**")
    options = Options(
        create_customers=st.checkbox(tr("imp.create_customers"), key="imp_new_customers"),
        create_defect_types=st.checkbox(tr("imp.create_defects"), key="imp_new_defects"))
    state_key = (sig, tuple(sorted(mapping.items())), options)
    if st.button(tr("imp.check"), type="primary", key="imp_check"):
        with st.spinner(tr("imp.checking")):
            report = attempt(uc.importing.check_import, app, me, table, mapping, options)
        if report is not None:
            st.session_state["imp_report"] = (state_key, report)
    stored = st.session_state.get("imp_report")
    if stored is None:
        return
    if stored[0] != state_key:
        st.info(tr("imp.recheck"))
        return
    _report(stored[1])
    _confirm(me, table, mapping, options, stored[1])


def _loaded(name: str, data: bytes, max_bytes: int) -> Table | None:
    """The table of the uploaded file, read once per file (kept in the session)."""
    sig = hashlib.sha256(data).hexdigest()[:16]
    loaded = st.session_state.get("imp_loaded")
    if loaded is not None and loaded[0] == sig:
        table: Table = loaded[1]
        return table
    st.session_state.pop("imp_report", None)
    st.session_state.pop("imp_loaded", None)
    try:
        with st.spinner(tr("imp.reading")):
            table = read_table(name, data, max_bytes)
    except DomainError as err:
        st.error(error_message(err))
        return None
    st.session_state["imp_loaded"] = (sig, table)
    return table


def _mapping(me: User, table: Table, sig: str) -> dict[int, str]:
    """A select box per column, preset from the remembered mapping or the header's meaning."""
    st.markdown("**" + tr("imp.mapping") + "**")
    st.caption(tr("imp.mapping_help"))
    app = kesu()
    guessed = attempt(uc.importing.import_mapping, app, me, list(table.headers)) or {}
    own = custom_targets(uc.custom_fields.field_definitions(app))
    options = ["", *TARGETS, *own]
    samples = _samples(table)

    def shown(x: str) -> str:
        if x in own:  # a custom field: its name, marked as one
            return tr("imp.target_custom", field=custom_labels(own[x]))
        return tr("imp.target." + x) if x else tr("imp.ignore")
    mapping: dict[int, str] = {}
    cols = st.columns(4)
    for i, header in enumerate(table.headers):
        with cols[i % 4]:
            chosen = st.selectbox(
                md(header), options, index=options.index(guessed.get(i, "")),
                key=f"imp_map_{sig}_{i}", format_func=shown,
                help=tr("imp.sample", value=md(samples[i])) if samples[i] else None)
            if chosen:
                mapping[i] = chosen
    return mapping


def _samples(table: Table) -> list[str]:
    out = [""] * len(table.headers)
    for _, cells in table.rows[:50]:
        for i, v in enumerate(cells):
            if not out[i] and v is not None:
                out[i] = text_of(v)[:60]
    return out


def _report(report: Report) -> None:
    st.markdown("**" + tr("imp.report") + "**")
    rows = len(report.rows)
    summary = trn("imp.summary", rows, rows=rows, clean=rows - report.error_rows,
                  bad=report.error_rows, warnings=report.count("warning"))
    (st.warning if report.has_errors else st.success)(summary)
    if report.left_out:
        st.caption(trn("imp.left_out", report.left_out))
    if report.new_customers:
        st.info(trn("imp.new_customers", len(report.new_customers),
                    names=md("、".join(report.new_customers[:30]))))
    if report.new_defect_types:
        st.info(trn("imp.new_defects", len(report.new_defect_types),
                    names=md("、".join(report.new_defect_types[:30]))))
    if not report.problems:
        st.caption(tr("imp.no_problems"))
        return
    headers = [tr(c) for c in REPORT_COLUMNS]
    lines = report_rows(report, lang())
    st.dataframe(pd.DataFrame([[str(x) for x in line] for line in lines], columns=headers),
                 hide_index=True, width="stretch", key="imp_report_table")
    st.download_button(tr("imp.report_download"),
                       to_xlsx(headers, lines, sheet=tr("imp.report_sheet")),
                       file_name="kesu-import-report.xlsx", mime=XLSX_MIME,
                       key="imp_report_xlsx", on_click="ignore")


def _confirm(me: User, table: Table, mapping: dict[int, str], options: Options,
             report: Report) -> None:
    modes = ["all", "clean"]
    mode = st.radio(tr("imp.mode"), modes, key="imp_mode",
                    format_func=lambda m: tr("imp.mode_all" if m == "all" else "imp.mode_clean"))
    clean_only = mode == "clean"
    n = len(report.clean) if clean_only else len(report.rows)
    blocked = (report.has_errors and not clean_only) or not report.clean
    if report.has_errors and not clean_only:
        st.warning(trn("imp.fix_first", report.error_rows))
    still_open = sum(not p.closed for p in report.clean)
    if still_open:
        st.info(trn("imp.open_clock", still_open))
    if not st.button(trn("imp.confirm", n), type="primary", disabled=blocked,
                     key="imp_confirm"):
        return
    with st.status(trn("imp.importing", n), expanded=True) as status:
        bar = st.progress(0.0)

        def progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=trn("imp.progress", total, done=done,
                                                        total=total))

        result = attempt(uc.importing.run_import, kesu(), me, table, mapping,
                         replace(options, clean_only=clean_only), progress)
        if result is None:
            status.update(label=tr("imp.failed"), state="error")
            return
        status.update(state="complete")
    for key in ("imp_loaded", "imp_report"):
        st.session_state.pop(key, None)
    st.session_state["imp_round"] = st.session_state.get("imp_round", 0) + 1
    flash("success", trn("imp.done", result.imported, closed=result.closed,
                         skipped=result.skipped, customers=result.new_customers,
                         defects=result.new_defect_types))
    st.rerun()
