"""The monthly summary (每月汇总, docs/procedure.md §9): one month's Stats as one XLSX (tables,
and the charts as images) and as a PDF, in the user's language, Chinese drawn with the bundled
CJK font."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XlImage
from openpyxl.styles import Alignment, Font, PatternFill

from core.model import RegisterRow, User
from core.stats import DIMENSIONS, Period, StatsFilter, StatsReport, month_keys
from ui import stats as ui
from ui.context import kesu, lang, local, tr, trn
from ui.exports import safe_cell
from ui.fonts import chart_png, cjk_font_path
from core import usecases as uc


def _month_period(key: str) -> Period:
    """'2026-11' → November 2026; '2026-Q4' → October to December 2026."""
    y, rest = key.split("-")
    if rest.startswith("Q"):
        first, months = 3 * (int(rest[1:]) - 1) + 1, 3
    else:
        first, months = int(rest), 1
    last = first + months - 1
    nxt = date(int(y) + last // 12, last % 12 + 1, 1)
    return Period(date(int(y), first, 1), date.fromordinal(nxt.toordinal() - 1))


def summary_periods(today: date) -> list[str]:
    """The months of the last two years, newest first, each ended quarter just above its last
    month: '2026-12', '2026-11', '2026-10', '2026-Q3', '2026-09', …"""
    out: list[str] = []
    for key in reversed(month_keys(today, 24)):
        y, m = (int(x) for x in key.split("-"))
        if m % 3 == 0 and date(y, m, 1) < today.replace(day=1):  # a quarter that has ended
            out.append(f"{y}-Q{m // 3}")
        out.append(key)
    return out


def cases_frame(rows: list[RegisterRow]) -> pd.DataFrame:
    """The period's cases, one a line, in words (the summary's last table)."""
    return pd.DataFrame(
        {
            tr("field.number"): [r.number for r in rows],
            tr("field.received_at"): [local(r.received_at)[:10] for r in rows],
            tr("field.customer"): [r.customer for r in rows],
            tr("field.kind"): [tr(f"kind.{r.kind.value}") for r in rows],
            tr("field.severity"): [r.severity.value if r.severity else "" for r in rows],
            tr("field.state"): [tr(f"state.{r.state.value}") for r in rows],
            tr("field.product_code"): [r.product_code for r in rows],
            tr("field.defect_type"): [r.defect_type for r in rows],
            tr("field.description_short"): [r.description[:80] for r in rows],
        }
    )


def _tables(r: StatsReport, rows: list[RegisterRow] | None = None
            ) -> list[tuple[str, pd.DataFrame]]:
    out = [
        (tr("stats.sheet.headline"), ui.headline_table(r)),
        (tr("stats.sheet.on_time"), ui.on_time_table(r)),
    ]
    for dim in DIMENSIONS:
        frame = (
            ui.pareto_frame(r.pareto[dim])
            .drop(columns=["key"])
            .rename(
                columns={
                    "label": ui.dimension_title(dim),
                    "count": tr("stats.count"),
                    "share": "%",
                    "cumulative": tr("stats.cumulative"),
                }
            )
        )
        out.append((tr("stats.pareto_title", what=ui.dimension_title(dim)), frame))
    out += [
        (tr("stats.trend_title"), ui.monthly_frame(r)),
        (tr("stats.ageing_title"), ui.ageing_frame(r)),
        (tr("stats.tab.recurrence"), ui.recurrence_frame(r)),
        (tr("stats.cost_title"), ui.cost_frame(r)),
    ]
    if rows is not None:
        out.append((trn("stats.period_cases", len(rows)), cases_frame(rows)))
    return out


def _charts(r: StatsReport) -> list[tuple[str, bytes]]:
    charts: list[tuple[str, Any]] = [
        (
            tr("stats.pareto_title", what=ui.dimension_title(d)),
            ui.pareto_chart(r.pareto[d], ui.dimension_title(d)),
        )
        for d in DIMENSIONS
        if r.pareto[d]
    ]
    charts += [
        (tr("stats.trend_title"), ui.monthly_chart(r)),
        (tr("stats.ageing_title"), ui.ageing_chart(r)),
    ]
    if r.cost:
        charts.append((tr("stats.cost_title"), ui.cost_chart(r)))
    # a plot 260 high (names and legends come on top): two charts fit on an A4 page
    return [
        (title, chart_png(c.properties(width=720, height=260).to_json(), scale=1.5))
        for title, c in charts
    ]


def summary_xlsx(title: str, r: StatsReport, pngs: list[tuple[str, bytes]],
                 rows: list[RegisterRow] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = tr("stats.sheet.summary")[:31]
    bold, head = Font(bold=True, size=12), PatternFill("solid", fgColor="DDE7F3")
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=16)
    row = 3
    for name, frame in _tables(r, rows):
        ws.cell(row, 1, name).font = bold
        row += 1
        for j, col in enumerate(frame.columns, start=1):
            c = ws.cell(row, j, str(col))
            c.font, c.fill = bold, head
        for values in frame.itertuples(index=False):
            row += 1
            for j, v in enumerate(values, start=1):
                ws.cell(row, j, safe_cell(v)).alignment = Alignment(wrap_text=True, vertical="top")
        row += 2
    for col, width in zip("ABCDEF", (34, 16, 16, 14, 14, 14), strict=False):
        ws.column_dimensions[col].width = width
    charts = wb.create_sheet(tr("stats.sheet.charts")[:31])
    at = 1
    for name, png in pngs:
        charts.cell(at, 1, name).font = bold
        img = XlImage(io.BytesIO(png))
        img.anchor = f"A{at + 1}"
        charts.add_image(img)
        at += int(img.height / 20) + 4
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=9)
        self.cell(0, 8, f"{self.footer_text}    {self.page_no()} / {{nb}}", align="C")


def summary_pdf(title: str, r: StatsReport, pngs: list[tuple[str, bytes]],
                rows: list[RegisterRow] | None = None) -> bytes:
    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    pdf.footer_text = title
    pdf.add_font("cjk", fname=str(cjk_font_path()))
    pdf.add_font("cjk", style="B", fname=str(cjk_font_path()))  # headings: same face
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 12, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    for name, frame in _tables(r, rows):
        if frame.empty:
            continue
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 9, name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        with pdf.table(text_align="LEFT", line_height=5.5, first_row_as_headings=True) as t:
            t.row([str(c) for c in frame.columns])
            for values in frame.itertuples(index=False):
                t.row([ui.figure_text(v, missing="") for v in values])
        pdf.ln(4)
    pdf.add_page()
    for name, png in pngs:  # two charts a page
        size = XlImage(io.BytesIO(png))  # the PNG's pixel size (openpyxl reads it)
        height = pdf.epw * size.height / size.width
        if pdf.get_y() + 9 + height > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 9, name, new_x="LMARGIN", new_y="NEXT")
        pdf.image(io.BytesIO(png), w=pdf.epw)
        pdf.ln(6)
    return bytes(pdf.output())


def build(user: User, flt: StatsFilter, month: str) -> tuple[str, bytes, bytes]:
    period = _month_period(month)
    r = uc.stats.stats(
        kesu(),
        user,
        StatsFilter(period, flt.customer_id, flt.product_code, flt.department_id, flt.severity,
                    flt.kind),
    )
    rows = uc.stats.period_cases(kesu(), user, StatsFilter(
        period, flt.customer_id, flt.product_code, flt.department_id, flt.severity, flt.kind))
    title = tr("stats.summary_title", month=_period_name(month))
    pngs = _charts(r)
    return title, summary_xlsx(title, r, pngs, rows), summary_pdf(title, r, pngs, rows)


def _period_name(key: str) -> str:
    y, rest = key.split("-")
    return tr("stats.quarter", year=y, q=rest[1:]) if rest.startswith("Q") else key


def summary_downloads(user: User, flt: StatsFilter) -> None:
    st.subheader(tr("stats.summary"))
    months = summary_periods(uc.stats.stats_today(kesu()))
    a, b, c, d = st.columns([2, 2, 2, 2])
    last = [k for k in months if "Q" not in k][1]  # last month first
    month = a.selectbox(tr("stats.summary_period"), months, index=months.index(last),
                        key="summary_month",
                        format_func=_period_name)
    key = f"summary_{month}_{lang()}_{hash(flt)}"
    if b.button(tr("stats.summary_make"), key="summary_make", width="stretch"):
        with st.status(tr("stats.summary_making"), expanded=False) as status:
            st.session_state[key] = build(user, flt, month)
            status.update(label=tr("stats.summary_ready"), state="complete")
    made = st.session_state.get(key)
    if made:
        _, xlsx, pdf = made
        c.download_button(tr("stats.summary_xlsx"), xlsx, file_name=f"kesu-{month}.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          key="summary_xlsx", on_click="ignore", width="stretch")
        d.download_button(tr("stats.summary_pdf"), pdf, file_name=f"kesu-{month}.pdf",
                          mime="application/pdf", key="summary_pdf", on_click="ignore",
                          width="stretch")
