"""The case documents (content from core/documents.py) drawn as XLSX: one sheet, merged
title, wrapped text, column widths, A4 print setup with the case number and page header.
Cells are formula-injection safe (ui.exports.safe_cell); text is cleaned as for the PDF.
"""
from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from core.documents import Document, Fields, Paragraph, Table
from ui.exports import safe_cell
from ui.pdf import _LONG, _clean  # the same text cleaning and "long value" rule as the PDF

_COLS = 12
_COL_WIDTH = 9.5  # characters; 12 × 9.5 fits A4 portrait when fitted to the page width
_LINE_PT = 15.0
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FILL = PatternFill("solid", fgColor="EBEBEB")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _display_width(text: str) -> int:
    """Columns a line needs: CJK and other wide characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _lines(text: str, width_chars: float) -> int:
    per_line = max(width_chars * 1.1, 1.0)
    return sum(max(1, math.ceil(_display_width(line) / per_line))
               for line in (text.splitlines() or [""]))


class _Sheet:
    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.row = 1
        self.merges: list[CellRange] = []

    def put(self, col: int, span: int, value: str, *, fill: bool = False, box: bool = True,
            font: Font | None = None, align: Alignment = _WRAP) -> float:
        """Write a value into `span` columns from `col` (merged); return the height it needs."""
        cell = self.ws.cell(self.row, col, safe_cell(_clean(value)))
        cell.alignment = align
        if font is not None:
            cell.font = font
        if fill:
            cell.fill = _FILL
        if span > 1:  # collected, set at the end: ws.merge_cells() checks every earlier merge
            self.merges.append(CellRange(min_col=col, min_row=self.row, max_col=col + span - 1,
                                         max_row=self.row))
        if box:
            for c in range(col, col + span):
                self.ws.cell(self.row, c).border = _BOX
        return _lines(value, span * _COL_WIDTH) * _LINE_PT

    def end_row(self, height: float) -> None:
        self.ws.row_dimensions[self.row].height = min(max(height, _LINE_PT), 409)
        self.row += 1

    def line(self, value: str, *, fill: bool = False, font: Font | None = None,
             box: bool = False) -> None:
        self.end_row(self.put(1, _COLS, value, fill=fill, font=font, box=box))


def _spans(widths: Sequence[int], total: int = _COLS) -> list[int]:
    """Sheet columns for each table column, proportional to its width, at least one each."""
    n = len(widths)
    if n >= total:
        return [1] * n
    raw = [w * total / sum(widths) for w in widths]
    spans = [max(1, int(x)) for x in raw]
    while sum(spans) > total:
        i = max(range(n), key=lambda j: spans[j] - raw[j])
        spans[i] -= 1
    while sum(spans) < total:
        i = max(range(n), key=lambda j: raw[j] - spans[j])
        spans[i] += 1
    return spans


def _xlsx_fields(sh: _Sheet, fields: Fields) -> None:
    pending: list[tuple[str, str]] = []

    def flush() -> None:
        height, col = 0.0, 1
        for label, value in pending:
            height = max(height, sh.put(col, 2, label, fill=True), sh.put(col + 2, 4, value))
            col += 6
        sh.end_row(height)
        pending.clear()

    for label, value in fields.rows:
        if len(value) > _LONG or "\n" in value:
            if pending:
                flush()
            sh.end_row(max(sh.put(1, 2, label, fill=True), sh.put(3, _COLS - 2, value)))
            continue
        pending.append((label, value))
        if len(pending) == 2:
            flush()
    if pending:
        flush()


def _xlsx_table(sh: _Sheet, table: Table) -> None:
    spans = _spans(table.widths)
    for values, head in ([(table.columns, True)] + [(r, False) for r in table.rows]):
        height, col = 0.0, 1
        for value, span in zip(values, spans, strict=True):
            height = max(height, sh.put(col, span, value, fill=head))
            col += span
        sh.end_row(height)


def to_xlsx(doc: Document) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = doc.number[:31] or "kesu"
    for i in range(1, _COLS + 1):
        ws.column_dimensions[get_column_letter(i)].width = _COL_WIDTH
    sh = _Sheet(ws)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if doc.company:
        sh.end_row(max(sh.put(1, _COLS, doc.company, box=False, font=Font(size=14),
                              align=centre), 22))
    sh.end_row(max(sh.put(1, _COLS, doc.title, box=False, font=Font(size=16, bold=True),
                          align=centre), 26))
    sh.line(f"{doc.number}    {doc.generated}", font=Font(size=9, color="666666"))
    _xlsx_fields(sh, Fields(doc.header))
    for section in doc.sections:
        sh.row += 1
        if section.title:
            sh.line(section.title, fill=True, font=Font(bold=True, size=11), box=True)
        for block in section.blocks:
            if isinstance(block, Paragraph):
                if block.label:
                    sh.line(block.label, font=Font(size=9, color="555555"))
                sh.line(block.text)
            else:
                if block.caption:
                    sh.line(block.caption, font=Font(size=9, color="555555"))
                if isinstance(block, Fields):
                    _xlsx_fields(sh, block)
                else:
                    _xlsx_table(sh, block)
    ws.merged_cells = MultiCellRange(sh.merges)
    _print_setup(ws, doc)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _print_setup(ws: Worksheet, doc: Document) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    setup, header, footer = ws.sheet_properties.pageSetUpPr, ws.oddHeader, ws.oddFooter
    # openpyxl creates all three with the sheet (its types allow None)
    assert setup is not None and header is not None and footer is not None
    setup.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.7

    def escaped(text: str) -> str:  # "&" starts a code in Excel's header language
        return _clean(text).replace("&", "&&")

    header.left.text = escaped(f"{doc.number}  {doc.title}")
    header.left.size = 8
    header.right.text = escaped(doc.page_label).replace("{n}", "&P").replace("{m}", "&N")
    header.right.size = 8
    footer.left.text = escaped(doc.generated)
    footer.left.size = 7
