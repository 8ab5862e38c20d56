"""Rendering the case documents (content from core/documents.py) as PDF and XLSX, and the
Documents section of the Complaint page.

PDF: fpdf2 with the CJK font the project's own install ships (ui/fonts.py), never a system
font; long texts wrap, tables break across pages and repeat their heading row, every page has
the case number and "第 n 页 / 共 m 页". XLSX: one sheet, merged title, wrapped text, column
widths, A4 print setup with the same header. User text is only ever drawn as text: fpdf2's
markdown stays off, and cells are formula-injection safe (ui.exports.safe_cell).
"""
from __future__ import annotations

import io
import logging
import math
import re
import unicodedata
import time
from collections.abc import Callable, Sequence

import streamlit as st
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, WrapMode, XPos, YPos
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from core.documents import Block, Document, Fields, Paragraph, Table, plain_text
from core.model import User
from ui.context import attempt, kesu, lang, tr
from ui.exports import safe_cell
from ui.fonts import cjk_font_path

log = logging.getLogger("kesu")

FAMILY = "kesu-cjk"
# The total page count is written where this alias stands. It is a private-use character no
# keyboard types, and it is removed from every text drawn, so nothing a user typed (not even
# fpdf2's default "{nb}") is ever replaced by a number.
_ALIAS = "\ue000\ue000"
GREY = (235, 235, 235)
LINE_GREY = (150, 150, 150)
PDF_MIME = "application/pdf"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _clean(text: str) -> str:
    """Drop the page-count alias and control characters other than line breaks and tabs."""
    return "".join(ch for ch in text.replace(_ALIAS[0], "")
                   if ch in "\n\t" or unicodedata.category(ch) != "Cc")


# ---------------------------------------------------------------- PDF

# A line may break between any two CJK characters and at spaces, never inside a Latin word
# (unless the word is wider than the line) and never before closing punctuation (避头点).
_UNITS = re.compile(r"\s+|[^\s\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
                    r"\u3000-\u303f]+|.")
_NO_BREAK_BEFORE = frozenset("，。、；：！？）》」』】〕〉…,.;:!?)]}%")


def _wrap(pdf: FPDF, text: str, width: float) -> str:
    """`text` with line breaks so that every line fits `width` (mm) at the current font."""
    widths: dict[str, float] = {}

    def w(unit: str) -> float:
        if unit not in widths:
            widths[unit] = pdf.get_string_width(unit)
        return widths[unit]

    out: list[str] = []
    for para in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for unit in _UNITS.findall(para):
            if unit.isspace():
                if line:
                    line.append(" ")
                    used += w(" ")
                continue
            size = w(unit)
            if used + size > width and line:
                carry: list[str] = []
                if unit in _NO_BREAK_BEFORE and len(line) > 1 and not line[-1].isspace():
                    carry = [line.pop()]  # the last character goes along with the punctuation
                out.append("".join(line).rstrip())
                line, used = carry, sum(w(u) for u in carry)
            if size <= width:
                line.append(unit)
                used += size
                continue
            for ch in unit:  # a word wider than the line: break it by characters
                if used + w(ch) > width and line:
                    out.append("".join(line).rstrip())
                    line, used = [], 0.0
                line.append(ch)
                used += w(ch)
        out.append("".join(line).rstrip())
    return "\n".join(out)


class _Pdf(FPDF):
    def __init__(self, doc: Document) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc = doc
        self.set_margins(15, 18, 15)
        self.set_auto_page_break(True, margin=16)
        self.alias_nb_pages(_ALIAS, align="L")
        self.add_font(FAMILY, fname=str(cjk_font_path()))
        # the subset keeps the whole font's bounding box: recomputing it from every glyph's
        # outline was half of the time a document took
        for font in self.fonts.values():
            if hasattr(font, "ttfont"):
                font.ttfont.recalcBBoxes = False
        self.set_font(FAMILY, size=10)
        self.set_title(_clean(f"{doc.number} {doc.title}"))
        self.set_creator("kesu")

    def header(self) -> None:
        self.set_font(FAMILY, size=8)
        self.set_text_color(90, 90, 90)
        self.set_xy(self.l_margin, 8)
        width = self.epw / 2
        self.cell(width, 5, _clean(f"{self.doc.number}  ·  {self.doc.title}"))
        page = _clean(self.doc.page_label).format(n=self.page_no(), m=_ALIAS)
        self.cell(width, 5, page, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*LINE_GREY)
        self.line(self.l_margin, 13.5, self.w - self.r_margin, 13.5)
        self.set_text_color(0, 0, 0)
        self.set_y(18)
        self.set_font(FAMILY, size=10)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=7)
        self.set_text_color(120, 120, 120)
        self.cell(0, 4, _clean(self.doc.generated), align="L")
        self.set_text_color(0, 0, 0)


def to_pdf(doc: Document) -> bytes:
    pdf = _Pdf(doc)
    pdf.add_page()
    letter = doc.kind == "letter"
    if doc.company:
        pdf.set_font(FAMILY, size=15)
        pdf.multi_cell(0, 8, _clean(doc.company), align="C", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
        pdf.ln(1)
    pdf.set_font(FAMILY, size=13 if letter else 16)
    pdf.multi_cell(0, 8, _clean(doc.title), align="L" if letter else "C",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    _pdf_fields(pdf, Fields(doc.header), letter)
    pdf.ln(3)
    for section in doc.sections:
        if section.title:
            _pdf_section_title(pdf, section.title, letter)
        for block in section.blocks:
            _pdf_block(pdf, block, letter)
        pdf.ln(2 if letter else 3)
    return bytes(pdf.output())


def _pdf_section_title(pdf: _Pdf, title: str, letter: bool) -> None:
    if pdf.will_page_break(24):  # never a heading alone at the foot of a page
        pdf.add_page()
    pdf.set_font(FAMILY, size=11.5)
    if letter:
        pdf.multi_cell(0, 7, _clean(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.set_fill_color(*GREY)
        pdf.multi_cell(0, 7, _clean(title), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font(FAMILY, size=10)


def _pdf_block(pdf: _Pdf, block: Block, letter: bool) -> None:
    if isinstance(block, Paragraph):
        if block.label:
            pdf.set_font(FAMILY, size=8.5)
            pdf.set_text_color(90, 90, 90)
            pdf.multi_cell(0, 5, _wrap(pdf, _clean(block.label), _inner(pdf)),
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_text_color(0, 0, 0)
        pdf.set_font(FAMILY, size=11 if letter else 10)
        pdf.multi_cell(0, 6 if letter else 5.5, _wrap(pdf, _clean(block.text), _inner(pdf)),
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=WrapMode.CHAR)
        pdf.ln(1.5)
    elif isinstance(block, Fields):
        _pdf_caption(pdf, block.caption)
        _pdf_fields(pdf, block, letter)
        pdf.ln(1.5)
    else:
        _pdf_caption(pdf, block.caption)
        _pdf_table(pdf, block)
        pdf.ln(1.5)


def _pdf_caption(pdf: _Pdf, caption: str) -> None:
    if not caption:
        return
    if pdf.will_page_break(16):
        pdf.add_page()
    pdf.set_font(FAMILY, size=8.5)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(0, 5, _wrap(pdf, _clean(caption), _inner(pdf)), new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _inner(pdf: FPDF) -> float:
    """The text width of a full-width multi_cell."""
    return pdf.epw - 2 * pdf.c_margin - 0.2


_LONG = 34  # a value longer than this gets a whole row
_PAD = 1.3  # mm of padding left and right in a table cell


def _cell_text(pdf: FPDF, text: str, width_mm: float) -> str:
    return _wrap(pdf, _clean(text), width_mm - 2 * _PAD - 0.3)


_ROW_LINES = 40  # a table row never grows taller than a page: longer cells continue below


def _split_row(cells: Sequence[str]) -> list[list[str]]:
    """A row of wrapped cells as one or more rows of at most _ROW_LINES lines each (fpdf2
    cannot draw a row taller than a page; a 5,000-character comment would be one)."""
    lines = [c.split("\n") for c in cells]
    parts = max(1, max(math.ceil(len(x) / _ROW_LINES) for x in lines))
    return [["\n".join(x[i * _ROW_LINES:(i + 1) * _ROW_LINES]) for x in lines]
            for i in range(parts)]


def _pdf_fields(pdf: _Pdf, fields: Fields, letter: bool) -> None:
    """Label/value boxes, two pairs a row; a long value takes the whole row."""
    if not fields.rows:
        return
    label_style = FontFace(fill_color=GREY, color=(60, 60, 60))
    pdf.set_font(FAMILY, size=9)
    label_w, value_w = pdf.epw * 0.18, pdf.epw * 0.32
    with pdf.table(col_widths=(18, 32, 18, 32), first_row_as_headings=False,
                   text_align="LEFT", v_align="TOP", line_height=4.8, padding=(1, _PAD),
                   wrapmode=WrapMode.CHAR, borders_layout=TableBordersLayout.NONE if letter
                   else TableBordersLayout.ALL) as table:
        pending: list[tuple[str, str]] = []

        def flush() -> None:
            row = table.row()
            for label, value in pending:
                row.cell(_cell_text(pdf, label, label_w), style=None if letter else label_style)
                row.cell(_cell_text(pdf, value, value_w))
            if len(pending) == 1:
                row.cell("", colspan=2)
            pending.clear()

        for label, value in fields.rows:
            if len(value) > _LONG or "\n" in value:
                if pending:
                    flush()
                for part in _split_row([_cell_text(pdf, label, label_w),
                                        _cell_text(pdf, value, pdf.epw - label_w)]):
                    row = table.row()
                    row.cell(part[0], style=None if letter else label_style)
                    row.cell(part[1], colspan=3)
                continue
            pending.append((label, value))
            if len(pending) == 2:
                flush()
        if pending:
            flush()
    pdf.set_font(FAMILY, size=10)


def _pdf_table(pdf: _Pdf, table: Table) -> None:
    pdf.set_font(FAMILY, size=8.5)
    heading = FontFace(fill_color=GREY, emphasis="")
    total = sum(table.widths)
    mm = [pdf.epw * w / total for w in table.widths]
    with pdf.table(col_widths=table.widths, headings_style=heading, text_align="LEFT",
                   v_align="TOP",
                   line_height=4.4, padding=(1, _PAD), wrapmode=WrapMode.CHAR,
                   repeat_headings=1) as t:
        head = t.row()
        for col, width in zip(table.columns, mm, strict=True):
            head.cell(_cell_text(pdf, col, width))
        for values in table.rows:
            wrapped = [_cell_text(pdf, v, width) for v, width in zip(values, mm, strict=True)]
            for part in _split_row(wrapped):
                row = t.row()
                for text in part:
                    row.cell(text)
    pdf.set_font(FAMILY, size=10)


# ---------------------------------------------------------------- XLSX

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
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.7

    def escaped(text: str) -> str:  # "&" starts a code in Excel's header language
        return _clean(text).replace("&", "&&")

    ws.oddHeader.left.text = escaped(f"{doc.number}  {doc.title}")
    ws.oddHeader.left.size = 8
    ws.oddHeader.right.text = escaped(doc.page_label).replace("{n}", "&P").replace("{m}", "&N")
    ws.oddHeader.right.size = 8
    ws.oddFooter.left.text = escaped(doc.generated)
    ws.oddFooter.left.size = 7


# ---------------------------------------------------------------- the Complaint page section


def documents(user: User, complaint_id: int) -> None:
    """文档: the handling form and 8D report (PDF, XLSX) in the user's language and the reply
    letter (PDF, and its text to copy) in the customer's language or the one chosen here.

    The content is read now (one service call, which checks the user may see the case); the
    files are drawn only when a button is clicked (Streamlit's deferred download)."""
    st.subheader(tr("doc.section"))
    st.caption(tr("doc.intro"))
    lang_key, company_key = f"doc_letter_lang_{complaint_id}", f"doc_company_{complaint_id}"
    docs = attempt(kesu().case_documents, user, complaint_id, lang(),
                   st.session_state.get(lang_key), st.session_state.get(company_key))
    if docs is None:
        return
    a, b = st.columns(2)
    a.radio(tr("doc.letter_lang"), ["zh", "en"], key=lang_key, horizontal=True,
            index=["zh", "en"].index(docs.letter_lang), format_func=lambda x: tr(f"lang.{x}"))
    b.text_input(tr("doc.company"), value=docs.company, key=company_key, max_chars=200)
    for col, (doc, formats) in zip(st.columns(3), ((docs.form, ("PDF", "XLSX")),
                                                  (docs.report, ("PDF", "XLSX")),
                                                  (docs.letter, ("PDF",))), strict=True):
        for fmt in formats:
            col.download_button(
                tr("doc.download", doc=_short_title(doc), fmt=fmt), _deferred(doc, fmt),
                file_name=f"{doc.filename}.{fmt.lower()}",
                mime=PDF_MIME if fmt == "PDF" else XLSX_MIME,
                key=f"doc_{doc.kind}_{fmt}_{complaint_id}", on_click="ignore", width="stretch")
    with st.expander(tr("doc.letter_text")):
        st.code(letter_text(docs.letter), language=None, wrap_lines=True)


def _short_title(doc: Document) -> str:
    return tr({"form": "doc.form", "8d": "doc.8d", "letter": "doc.letter"}[doc.kind])


def _deferred(doc: Document, fmt: str) -> Callable[[], bytes]:
    """The file, drawn when its button is clicked (in Streamlit's download thread: no st.*)."""
    def draw() -> bytes:
        started = time.perf_counter()
        data = to_pdf(doc) if fmt == "PDF" else to_xlsx(doc)
        log.info("document %s.%s drawn in %.0f ms", doc.filename, fmt.lower(),
                 (time.perf_counter() - started) * 1000)
        return data
    return draw


def letter_text(doc: Document) -> str:
    return plain_text(doc)
