"""The case documents (content from core/documents.py) drawn as PDF: fpdf2 with the CJK font
the project's own install ships (ui/fonts.py), never a system font; long texts wrap, tables
break across pages and repeat their heading row, every page has the case number and
"第 n 页 / 共 m 页". User text is only ever drawn as text: fpdf2's markdown stays off.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from core.documents import Block, Document, Fields, Paragraph, Table
from ui.fonts import cjk_font_path

FAMILY = "kesu-cjk"
# The total page count is written where this alias stands. It is a private-use character no
# keyboard types, and it is removed from every text drawn, so nothing a user typed (not even
# fpdf2's default "{nb}") is ever replaced by a number.
_ALIAS = "\ue000\ue000"
GREY = (235, 235, 235)
LINE_GREY = (150, 150, 150)


def _clean(text: str) -> str:
    """Drop the page-count alias and control characters other than line breaks and tabs."""
    return "".join(ch for ch in text.replace(_ALIAS[0], "")
                   if ch in "\n\t" or unicodedata.category(ch) != "Cc")


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
