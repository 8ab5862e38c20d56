"""Stats (统计) in a real browser: a manager picks last month, clicks the tallest bar of the
Pareto chart, gets the cases behind it and opens one; then makes the monthly summary and
downloads it as PDF and Excel.

The module runs its own server with 60 demo cases (`manage.py demo --cases 60`, no background
thread): the demo's case dates are fixed offsets back from today (seed 7), and with 60 cases
every 27-day window of the last two months holds at least six of them, so "last month" has
cases whatever today's date (20 cases, as the shared server has, leave a 37-day gap).
"""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from core.stats import preset
from tests.e2e.conftest import ARTIFACTS, running_server, screenshot_if_failed
from tests.e2e.helpers import ZH, choose, click_button, heading, idle, login, settle

CASES = 60
STATS_TITLE = "统计 · 质量周会"
ZONE = ZoneInfo("Asia/Shanghai")  # the demo's configured time zone
# a bar's aria-label: its (wrapped) axis name, then the tooltip: category name, count, …
BAR = re.compile(r"^axis: .+?; 件数: (?P<n>\d+); 不良类型: (?P<label>.+?);")
NUMBER = re.compile(r"^KS\d{4}-\d{3,}$")


@pytest.fixture(scope="module")
def stats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("kesu-stats-e2e"), CASES,
                        ARTIFACTS / "stats-server.log", background=False) as url:
        yield url


@pytest.fixture
def page(browser: Browser, stats_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookie) on this module's server; screenshot on failure."""
    context = browser.new_context(base_url=stats_url, locale="zh-CN", accept_downloads=True,
                                  viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    try:
        yield pg
    finally:
        screenshot_if_failed(request, [pg])
        context.close()


def _open_stats(page: Page, by_address: bool = False) -> None:
    """Log in as a manager, then open Stats from the sidebar or by its address (a new
    session, logged in again from the cookie)."""
    page.goto("/?lang=zh")
    login(page, ZH, "manager")
    settle(page, 500)
    if by_address:
        page.goto("/stats")
    else:
        page.get_by_role("link", name="统计", exact=True).click()
    expect(heading(page, STATS_TITLE)).to_be_visible()
    idle(page)
    settle(page)


def _last_month_shown() -> list[str]:
    """"start ~ end" of last month (either side of a midnight passing during the test)."""
    shown = []
    for _ in range(2):
        p = preset("last_month", datetime.now(ZONE).date())
        shown.append(f"{p.start:%Y-%m-%d} ~ {p.end:%Y-%m-%d}")
    return shown


def test_last_months_pareto_bar_lists_its_cases_and_opens_one(page: Page) -> None:
    _open_stats(page)
    choose(page, "日期范围", "上月")
    idle(page)
    settle(page)
    # the period is written next to the range picker ("统计期间" over "start ~ end")
    period = page.get_by_test_id("stMarkdownContainer").filter(has_text="统计期间").first
    expect(period).to_contain_text(re.compile("|".join(map(re.escape, _last_month_shown()))))

    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    expect(chart.get_by_text("柏拉图：不良类型")).to_be_visible()
    bars = chart.locator("g.mark-rect path")
    expect(bars.first).to_be_visible()
    found = [BAR.match(bars.nth(i).get_attribute("aria-label") or "")
             for i in range(bars.count())]
    assert all(found), [bars.nth(i).get_attribute("aria-label") for i in range(bars.count())]
    counts = [int(m["n"]) for m in found if m]
    assert counts == sorted(counts, reverse=True)  # a Pareto: the tallest bar first
    first = found[0]
    assert first is not None
    label, n = first["label"], int(first["n"])

    bars.first.scroll_into_view_if_needed()
    settle(page)
    bars.first.click()  # the selection goes back to Python (on_select="rerun")
    expect(page.get_by_text(f"{label}：{n} 件客诉", exact=True)).to_be_visible()
    expect(page.get_by_role("combobox", name="查看此类别的客诉")).to_have_value(label)
    idle(page)
    settle(page)

    grids = page.get_by_test_id("stDataFrame")
    cases = grids.filter(has=page.locator("th", has_text="编号")).first
    numbers = cases.locator("td[role=gridcell]").filter(has_text=NUMBER)
    expect(numbers.first).to_be_attached()
    shown = numbers.all_text_contents()
    assert 1 <= len(shown) <= n and len(set(shown)) == len(shown)
    number = shown[0]

    # tick the first row (its row-marker cell, left of the number) -> that case's page
    cases.evaluate("e => e.scrollIntoView({block: 'center'})")
    settle(page)
    box = cases.bounding_box()
    assert box is not None
    header = cases.locator("th").first.bounding_box()
    row_h = header["height"] if header and header["height"] > 0 else 35
    page.mouse.click(box["x"] + 15, box["y"] + row_h * 1.5)
    expect(heading(page, ZH.case_title.format(number=number))).to_be_visible()
    assert re.search(r"/complaint\?id=\d+", page.url)


def test_monthly_summary_downloads_as_pdf_and_excel(page: Page, tmp_path: Path) -> None:
    # By address: in the session of the login itself, the first click on "make" is lost
    # (ui/auth.py's repeated cookie write unmounts its component in that run, and the extra
    # rerun this starts interrupts the summary being made; a second click works).
    _open_stats(page, by_address=True)
    month = page.get_by_role("combobox", name="月份 / 季度")
    month.scroll_into_view_if_needed()
    chosen = month.input_value()
    assert re.fullmatch(r"\d{4}-\d{2}", chosen)  # last month by default (not a quarter)
    click_button(page, "生成汇总")
    pdf_button = page.get_by_role("button", name="下载汇总（PDF）", exact=True)
    expect(pdf_button).to_be_visible(timeout=120_000)  # charts drawn as images: seconds
    idle(page)
    settle(page)

    with page.expect_download() as got:
        pdf_button.click()
    assert got.value.suggested_filename == f"kesu-{chosen}.pdf"
    pdf = tmp_path / "summary.pdf"
    got.value.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    # pypdf puts spaces (or NULs) between the glyphs of the embedded CJK font
    text = re.sub(r"[\s\x00]+", "", "".join(p.extract_text() or "" for p in reader.pages))
    assert f"客诉汇总{chosen}" in text
    assert "主要指标" in text and "柏拉图：不良类型" in text
    assert len(reader.pages) >= 3  # tables, then the charts

    settle(page, 500)
    with page.expect_download() as got:
        page.get_by_role("button", name="下载汇总（Excel）", exact=True).click()
    assert got.value.suggested_filename == f"kesu-{chosen}.xlsx"
    xlsx = tmp_path / "summary.xlsx"
    got.value.save_as(xlsx)
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["汇总", "图表"]
    summary = wb["汇总"]
    assert summary["A1"].value == f"客诉汇总 {chosen}"
    firsts = [r[0] for r in summary.iter_rows(values_only=True)]
    assert "主要指标" in firsts and "收到" in firsts
    # the chart images are there (_images is private, not in openpyxl's stubs)
    assert len(wb["图表"]._images) >= 3  # type: ignore[attr-defined]
