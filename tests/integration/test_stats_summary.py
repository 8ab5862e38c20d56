"""The monthly summary (每月汇总) of the fixed October data set as XLSX and PDF: the tables
hold the hand-computed figures, the charts are embedded images, the PDF's Chinese text reads
back (the CJK font comes from the pip-installed mplfonts package)."""
# ruff: noqa: F811  (the fixture `fixed` comes from test_stats_db)
from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook
from pypdf import PageObject, PdfReader
from pypdf.generic import DictionaryObject

from tests.integration.test_stats_db import Fixed, fixed  # noqa: F401
from ui import stats as ui_stats
from ui import stats_summary


def _build(fixed: Fixed, monkeypatch) -> tuple[str, bytes, bytes]:  # noqa: ANN001
    monkeypatch.setattr(stats_summary, "kesu", lambda: fixed.app)
    monkeypatch.setattr(ui_stats, "kesu", lambda: fixed.app)
    return stats_summary.build(fixed.boss, fixed.report().filter, "2026-10")


def test_the_xlsx_holds_the_figures_and_the_charts(fixed: Fixed, monkeypatch) -> None:  # noqa: ANN001
    title, xlsx, _ = _build(fixed, monkeypatch)
    assert title == "客诉汇总 2026-10"
    wb = load_workbook(io.BytesIO(xlsx))
    summary, charts = wb.worksheets
    cells = [[c.value for c in row] for row in summary.iter_rows()]
    assert cells[0][0] == title
    assert any(r[:3] == ["收到", 5, 1] for r in cells)  # this period, the one before
    assert any(r[:3] == ["外观划伤", 3, 60.0] for r in cells)
    assert any(r[:2] == ["客诉损失", 1500.0] for r in cells)
    # it ends with the month's cases, in words (the cancelled one left out)
    first = [r[0] for r in cells].index("本期客诉（5 件）")
    assert cells[first + 1][:3] == ["编号", "受理时间", "客户"]
    listed = cells[first + 2:first + 7]
    assert [r[0] for r in listed] == ["KS2610-001", "KS2610-002", "KS2610-003", "KS2610-004",
                                      "KS2610-007"]
    assert listed[0][2] == "甲公司" and listed[0][5] == "已结案"
    # five Pareto charts, trend, ageing (and cost); _images is private, not in openpyxl's stubs
    assert len(charts._images) >= 6  # type: ignore[attr-defined]


def _page_fonts(page: PageObject) -> dict[Any, Any]:
    """A page's font dictionary, empty if it has none (pypdf types values as any PdfObject)."""
    resources = page["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    fonts = resources.get("/Font")
    return dict(fonts.get_object()) if fonts is not None else {}


def test_the_pdf_reads_back_in_chinese(fixed: Fixed, monkeypatch) -> None:  # noqa: ANN001
    _, _, pdf = _build(fixed, monkeypatch)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    # pypdf reads fpdf2's ToUnicode map of the CFF font with a NUL before each glyph
    # (poppler's pdftotext reads it clean); what matters is that the characters are there
    text = re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in reader.pages))
    for expected in ("客诉汇总2026-10", "外观划伤", "甲公司", "制造部", "GJ-880精密轴承座",
                     "本期客诉（5件）", "KS2610-007", "第7号客诉"):
        assert expected in text
    assert len(reader.pages) >= 5  # tables, then the charts two to a page
    fonts = {str(f) for p in reader.pages for f in _page_fonts(p).values()}
    assert fonts  # the CJK font is embedded, not referenced by name


def test_a_quarter_lists_the_quarters_cases(fixed: Fixed, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(stats_summary, "kesu", lambda: fixed.app)
    monkeypatch.setattr(ui_stats, "kesu", lambda: fixed.app)
    title, xlsx, _ = stats_summary.build(fixed.boss, fixed.report().filter, "2026-Q4")
    assert title == "客诉汇总 2026 年第 4 季度"
    cells = [[c.value for c in row] for row in load_workbook(io.BytesIO(xlsx)).worksheets[0]
             .iter_rows()]
    first = [r[0] for r in cells].index("本期客诉（6 件）")  # October and November's case 8
    assert cells[first + 7][0] == "KS2610-008"
