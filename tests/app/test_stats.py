"""pages/stats.py: the Stats page (统计) as a manager sees it, in Chinese and English.

The figures themselves are tested against hand-computed data in
tests/integration/test_stats_db.py; here: what the page shows for them — empty state, headline
figures with their labels, date-range presets, the Pareto click-through to the cases, a bad
custom range, a role without access, and the monthly summary downloads.
"""
from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from core.errors import NotAllowed
from core.i18n import tn
from core.model import Category, Channel, Kind, RegisterFilter, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.stats import Period, StatsFilter, preset
from tests.app.helpers import (
    block, elements, en, login_as, new_app, no_exception, open_page, open_tab, open_url, values,
    widget, zh,
)
from core import usecases as uc

PAGE = "pages/stats.py"
DIM_CUSTOMER = "苏州恒信精密机械有限公司"
CRACK_CUSTOMER = "华东电器有限公司"


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _tx(lang: str) -> Any:  # noqa: ANN401 - zh or en
    return en if lang == "en" else zh


def _register(app: Context, customer: str, defect_code: str, description: str) -> tuple[int, str]:
    cust = next(c.id for c in uc.reference.customers(app) if c.name == customer)
    defect = next(d.id for d in uc.reference.defect_types(app) if d.code == defect_code)
    case = uc.complaints.register_complaint(app, _user(app, "sales"), ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.EMAIL, description=description,
        product_code="GJ-880", product_name="精密轴承座", delivered_qty=500, defective_qty=12,
        defect_type_id=defect))
    assert case.id is not None
    return case.id, case.number


def _this_months_cases(app: Context) -> dict[str, list[str]]:
    """Four cases received now: two out of dimension, one crack, one more out of dimension
    that is then cancelled (cancelled cases are not counted). Numbers by defect code."""
    dim = [_register(app, DIM_CUSTOMER, "DIM", f"轴承座内孔尺寸超差，第 {i} 批。")
           for i in (1, 2)]
    crack = _register(app, CRACK_CUSTOMER, "CRACK", "外壳开裂。")
    gone_id, _ = _register(app, DIM_CUSTOMER, "DIM", "重复登记。")
    gone = uc.complaints.complaint(app, _user(app, "admin"), gone_id).complaint
    uc.complaints.cancel_complaint(app, _user(app, "sales"), gone_id, gone.version,
                                   "重复登记，与前一单为同一问题。")
    return {"DIM": [n for _, n in dim], "CRACK": [crack[1]]}


def _stats_page(username: str = "manager", lang: str = "zh",
                period: str | None = "this_month") -> AppTest:
    """The page on `period` (chosen as a user would; None: the range it opens with) — the
    tests' cases are received today, which the default range, last week, never holds."""
    at = open_page(PAGE, username, lang)
    if period is not None:
        widget(at, "selectbox", _tx(lang)("stats.range")).select(period).run()
        no_exception(at)
    return at


def _set(app: Context, case_id: int, **values: object) -> None:
    """Facts decided later in the procedure (severity, validity), set in the database."""
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from db import rollups
    from db.tables import ComplaintRow
    with Session(app.uow.engine) as s:  # type: ignore[attr-defined]
        s.execute(update(ComplaintRow).where(ComplaintRow.id == case_id).values(**values))
        s.commit()
        rollups.rebuild(s)  # written behind the application's back: the Stats rollups again
        s.commit()


def _metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, (label, [m.label for m in at.metric])
    return str(found[0])


def _headline(at: AppTest, lang: str) -> dict[str, str]:
    tx = _tx(lang)
    return {k: _metric(at, tx(f"stats.h.{k}")) for k in (
        "received_valid", "invalid", "closed", "open", "overdue", "avg_days", "p90_days", "ftr",
        "satisfaction", "cost", "charged_back")}


def _period(at: AppTest, lang: str) -> str:
    label = f"**{_tx(lang)('stats.period')}**"
    found = [v.split("\n", 1)[1] for v in values(at, "markdown") if v.startswith(label)]
    assert len(found) == 1, values(at, "markdown")
    return found[0]


def _open_tab(at: AppTest, label: str) -> Any:  # noqa: ANN401 - the tab block
    """Open a tab as a click would (the tabs run only the open one)."""
    at.session_state["stats_tab"] = label
    at.run()
    no_exception(at)
    return block(at, "tabs", label)


def _pareto_tab(at: AppTest, lang: str) -> Any:  # noqa: ANN401 - the tab block
    return block(at, "tabs", _tx(lang)("stats.tab.pareto"))


def _choose_category(at: AppTest, lang: str, label: str) -> None:
    box = widget(_pareto_tab(at, lang), "selectbox", _tx(lang)("stats.cases_for"))
    assert box.value is None  # nothing chosen until the user asks
    box.select_index(list(box.options).index(label)).run()
    no_exception(at)


# ---------------------------------------------------------------- empty database


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_empty_database_shows_zeros_and_says_why(ref_db: Context, lang: str) -> None:
    tx = _tx(lang)
    at = _stats_page(lang=lang)
    assert values(at, "title") == [tx("stats.title")]
    assert tx("sidebar.signed_in_as", name=_user(ref_db, "manager").display_name) in values(
        at.sidebar, "caption")  # app.py ran around the page
    assert not at.error
    assert tx("stats.empty_period") in values(at, "info")
    h = _headline(at, lang)
    assert (h["received_valid"], h["invalid"], h["closed"], h["open"], h["overdue"]) == (
        "0", "0", "0", "0", "0")
    assert (h["avg_days"], h["p90_days"], h["ftr"], h["satisfaction"]) == ("—",) * 4
    assert h["cost"] == h["charged_back"] == "¥0"
    # the Pareto tab says there is nothing to show instead of drawing an empty chart
    assert tx("stats.empty") in values(_pareto_tab(at, lang), "info")
    assert not _pareto_tab(at, lang).get("vega_lite_chart")


# ---------------------------------------------------------------- with cases


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_headline_figures_with_their_labels(ref_db: Context, lang: str) -> None:
    _this_months_cases(ref_db)
    tx = _tx(lang)
    at = _stats_page(lang=lang)
    assert not at.error
    today = uc.stats.stats_today(ref_db)
    month = preset("this_month", today)
    assert _period(at, lang) == f"{month.start:%Y-%m-%d} ~ {month.end:%Y-%m-%d}"
    h = _headline(at, lang)
    assert h["received_valid"] == "3"  # the cancelled one is not counted
    assert h["invalid"] == "0"
    assert h["open"] == "3" and h["closed"] == "0"
    assert tx("stats.empty_period") not in values(at, "info")
    # the other language's labels are nowhere
    other = zh if lang == "en" else en
    labels = [m.label for m in at.metric]
    assert other("stats.h.received_valid") not in labels and other("stats.h.open") not in labels
    assert [t.label for t in at.tabs] == [
        tx("stats.tab.pareto"), tx("stats.tab.meeting", n=0),
        *[tx(f"stats.tab.{k}") for k in ("trend", "ageing", "recurrence", "cost", "tables")]]
    # only the open tab runs: the Pareto tab has content, the others none yet
    assert block(at, "tabs", tx("stats.tab.pareto")).get("vega_lite_chart")
    assert not block(at, "tabs", tx("stats.tab.tables")).dataframe
    # the Tables tab, once opened, lists the same headline figures
    table = _open_tab(at, tx("stats.tab.tables")).dataframe[0].value
    row = table[table[tx("stats.col.figure")] == tx("stats.h.received")]
    assert [str(v) for v in row[tx("stats.col.this")]] == ["3"]
    # a change against nothing is a dash, not "None"
    row = table[table[tx("stats.col.figure")] == tx("stats.h.received")]
    assert [str(v) for v in row[tx("stats.col.change")]] == ["—"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_last_month_changes_the_period_shown(ref_db: Context, lang: str) -> None:
    _this_months_cases(ref_db)
    tx = _tx(lang)
    at = _stats_page(lang=lang)
    today = uc.stats.stats_today(ref_db)
    this, last = preset("this_month", today), preset("last_month", today)
    assert _period(at, lang) == f"{this.start:%Y-%m-%d} ~ {this.end:%Y-%m-%d}"
    widget(at, "selectbox", tx("stats.range")).select("last_month").run()
    no_exception(at)
    assert _period(at, lang) == f"{last.start:%Y-%m-%d} ~ {last.end:%Y-%m-%d}"
    before = preset("last_month", last.start)  # the month before last
    assert tx("stats.vs", start=f"{before.start:%Y-%m-%d}", end=f"{before.end:%Y-%m-%d}") in (
        values(at, "caption"))
    # this month's cases are not last month's
    assert _headline(at, lang)["received_valid"] == "0"
    assert tx("stats.empty_period") in values(at, "info")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pareto_lists_categories_and_shows_the_cases_behind_one(ref_db: Context,
                                                                 lang: str) -> None:
    numbers = _this_months_cases(ref_db)
    tx = _tx(lang)
    dim_label = {"zh": "尺寸超差", "en": "Out of dimension"}[lang]
    crack_label = {"zh": "开裂", "en": "Crack"}[lang]
    at = _stats_page(lang=lang)
    tab = _pareto_tab(at, lang)
    assert tab.get("vega_lite_chart")  # the chart is drawn
    table = tab.dataframe[0].value
    title = tx("stats.dim.defect_type")
    assert list(table[title]) == [dim_label, crack_label]  # biggest first
    assert list(table[tx("stats.count")]) == [2, 1]
    assert list(table[tx("stats.cumulative")]) == pytest.approx([66.7, 100.0], abs=0.1)

    _choose_category(at, lang, dim_label)
    tab = _pareto_tab(at, lang)
    assert f"**{tx('stats.cases_title', what=dim_label, n=2)}**" in values(tab, "markdown")
    cases = tab.dataframe[0].value
    assert sorted(cases[tx("field.number")]) == sorted(numbers["DIM"])
    assert set(cases[tx("field.customer")]) == {DIM_CUSTOMER}
    assert numbers["CRACK"][0] not in set(cases[tx("field.number")])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_not_classified_is_counted_apart_and_shows_its_cases(ref_db: Context,
                                                              lang: str) -> None:
    """A case without a defect type (a non-quality complaint) is no bar "未填" — while cases
    are analysed it would be the tallest — but a count beside the chart; choosing "未填"
    lists the case (its key is the empty text, which once read as "nothing chosen")."""
    numbers = _this_months_cases(ref_db)
    tx = _tx(lang)
    cust = next(c.id for c in uc.reference.customers(ref_db) if c.name == CRACK_CUSTOMER)
    case = uc.complaints.register_complaint(ref_db, _user(ref_db, "sales"), ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.PHONE,
        category=Category.NON_QUALITY, description="客户电话反映交货延迟三天。"))
    at = _stats_page(lang=lang)
    tab = _pareto_tab(at, lang)
    table = tab.dataframe[0].value
    assert tx("stats.none") not in list(table[tx("stats.dim.defect_type")])
    assert sum(table[tx("stats.count")]) == 3  # the classified cases only
    assert tn("stats.unclassified", 1, lang, what=tx("stats.dim.defect_type")) in values(
        tab, "caption")
    # by root-cause category nothing is classified yet: all four apart, no bars at all
    widget(tab, "radio", tx("stats.by")).set_value("six_m").run()
    tab = _pareto_tab(at, lang)
    assert tn("stats.unclassified", 4, lang, what=tx("stats.dim.six_m")) in values(
        tab, "caption")
    assert not tab.get("vega_lite_chart")
    widget(tab, "radio", tx("stats.by")).set_value("defect_type").run()
    _choose_category(at, lang, tx("stats.none"))
    tab = _pareto_tab(at, lang)
    assert f"**{tn('stats.cases_title', 1, lang, what=tx('stats.none'))}**" in values(
        tab, "markdown")
    cases = tab.dataframe[0].value
    assert list(cases[tx("field.number")]) == [case.number]
    assert case.number not in numbers["DIM"] + numbers["CRACK"]


def test_pareto_by_customer_shows_that_customers_cases(ref_db: Context) -> None:
    numbers = _this_months_cases(ref_db)
    at = _stats_page()
    widget(_pareto_tab(at, "zh"), "radio", zh("stats.by")).set_value("customer").run()
    no_exception(at)
    table = _pareto_tab(at, "zh").dataframe[0].value
    assert list(table[zh("stats.dim.customer")]) == [DIM_CUSTOMER, CRACK_CUSTOMER]
    _choose_category(at, "zh", CRACK_CUSTOMER)
    tab = _pareto_tab(at, "zh")
    assert f"**{zh('stats.cases_title', what=CRACK_CUSTOMER, n=1)}**" in values(tab, "markdown")
    assert list(tab.dataframe[0].value[zh("field.number")]) == numbers["CRACK"]


def test_demo_cases_over_half_a_year(demo_db: Context) -> None:
    """Cases walked through the procedure by bench.demo: the page counts what the register
    lists (received in the range, cancelled ones left out) and draws every chart."""
    today = uc.stats.stats_today(demo_db)
    start = today - timedelta(days=220)
    rows, total = uc.search.register(demo_db, _user(demo_db, "admin"), RegisterFilter(
        date_from=start, date_to=today, exclude_cancelled=True, page_size=1000))
    assert total == len(rows) > 0
    at = _stats_page(lang="en", period="custom")
    widget(at, "date_input", en("stats.from")).set_value(start).run()
    no_exception(at)
    assert not at.error
    h = _headline(at, "en")
    assert int(h["received_valid"]) + int(h["invalid"]) == total
    assert int(h["closed"]) > 0 and h["avg_days"] != "—"
    table = _pareto_tab(at, "en").dataframe[0].value
    for tab in ("pareto", "trend", "ageing", "cost"):  # each tab draws its chart when opened
        assert _open_tab(at, en(f"stats.tab.{tab}")).get("vega_lite_chart")
    report = uc.stats.stats(demo_db, _user(demo_db, "manager"), StatsFilter(Period(start, today)))
    assert sum(table[en("stats.count")]) + report.unclassified["defect_type"] == total


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_custom_range_ending_before_it_starts_says_so(ref_db: Context, lang: str) -> None:
    _this_months_cases(ref_db)
    tx = _tx(lang)
    at = _stats_page(lang=lang, period="custom")
    today = uc.stats.stats_today(ref_db)
    widget(at, "date_input", tx("stats.from")).set_value(today).run()
    widget(at, "date_input", tx("stats.to")).set_value(today - timedelta(days=5)).run()
    no_exception(at)
    assert values(at, "error") == [tx("err.stats_range")]
    assert not at.metric and not at.tabs  # no figures for a range that does not exist
    # putting the end right shows the figures again
    widget(at, "date_input", tx("stats.to")).set_value(today).run()
    no_exception(at)
    assert not at.error
    assert _headline(at, lang)["received_valid"] == "3"


# ---------------------------------------------------------------- access


def test_admin_only_user_gets_the_forbidden_message(ref_db: Context) -> None:
    at = login_as(new_app(), "admin").run()
    with pytest.raises(ValueError):  # no Stats page in an administrator's navigation
        at.switch_page(PAGE)
    # the Stats address typed by the administrator (a bookmark, a shared link): the page
    # answers with the forbidden message, not the figures
    assert _stats_page("manager").metric  # what a manager sees there
    at = open_url(PAGE, "admin")
    no_exception(at)
    assert values(at, "error") == [zh("err.page_forbidden")]
    assert not at.metric and not at.get("vega_lite_chart")
    assert values(at, "title") == []
    # and the services refuse, whatever page the call came from
    admin = _user(ref_db, "admin")
    flt = StatsFilter(preset("this_month", uc.stats.stats_today(ref_db)))
    with pytest.raises(NotAllowed):
        uc.stats.stats(ref_db, admin, flt)
    with pytest.raises(NotAllowed):
        uc.stats.stats_cases(ref_db, admin, flt, "customer", "1")


# ---------------------------------------------------------------- monthly summary


def _downloads(at: AppTest) -> dict[str, str]:
    return {b.label: b.proto.url for b in elements(at, "download_button")}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_monthly_summary_button_offers_excel_and_pdf(ref_db: Context, lang: str) -> None:
    _numbers = _this_months_cases(ref_db)
    tx = _tx(lang)
    at = _stats_page(lang=lang)
    assert tx("stats.summary") in values(at, "subheader")
    assert tx("stats.summary_xlsx") not in _downloads(at)
    month = preset("this_month", uc.stats.stats_today(ref_db)).start.strftime("%Y-%m")
    widget(at, "selectbox", tx("stats.summary_period")).select(month).run()
    widget(at, "button", tx("stats.summary_make")).click().run()
    no_exception(at)
    assert not at.error
    got = _downloads(at)
    assert got[tx("stats.summary_xlsx")].endswith(".xlsx")
    assert got[tx("stats.summary_pdf")].endswith(".pdf")
    # the files made for this month (kept for the download buttons) hold this month's figures
    made = [v for k, v in at.session_state.to_dict().items()
            if k.startswith(f"summary_{month}_{lang}_")]
    assert len(made) == 1
    title, xlsx, pdf = made[0]
    assert title == tx("stats.summary_title", month=month)
    assert pdf.startswith(b"%PDF")
    ws = load_workbook(io.BytesIO(xlsx)).worksheets[0]
    cells = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    assert cells[0][0] == title
    assert [tx("stats.h.received"), 3] in [r[:2] for r in cells]
    # it ends with the month's cases, one a line, in words (not the cancelled one)
    at_list = [r[0] for r in cells].index(tn("stats.period_cases", 3, lang))
    header, *lines = cells[at_list + 1:at_list + 5]
    assert list(header[:3]) == [tx("field.number"), tx("field.received_at"), tx("field.customer")]
    numbers = _numbers
    assert sorted(str(r[0]) for r in lines) == sorted(numbers["DIM"] + numbers["CRACK"])
    assert {r[2] for r in lines} == {DIM_CUSTOMER, CRACK_CUSTOMER}
    assert {r[5] for r in lines} == {tx("state.registered")}


# ---------------------------------------------------------------- issue #13: for the meeting


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_opens_on_last_week_or_on_the_range_the_administrator_chose(ref_db: Context,
                                                                     lang: str) -> None:
    today = uc.stats.stats_today(ref_db)
    at = _stats_page(lang=lang, period=None)
    last = preset("last_week", today)
    assert widget(at, "selectbox", _tx(lang)("stats.range")).value == "last_week"
    assert _period(at, lang) == f"{last.start:%Y-%m-%d} ~ {last.end:%Y-%m-%d}"
    uc.reference.set_settings(ref_db, _user(ref_db, "admin"),
                              {"stats_default_period": "this_quarter"})
    at = _stats_page(lang=lang, period=None)
    quarter = preset("this_quarter", today)
    assert _period(at, lang) == f"{quarter.start:%Y-%m-%d} ~ {quarter.end:%Y-%m-%d}"


def test_the_setting_is_on_the_admin_settings_form(ref_db: Context) -> None:
    at = open_page("pages/admin.py", "admin")
    settings = open_tab(at, "admin_tab", zh("admin.settings"))
    box = widget(settings, "selectbox", zh("field.stats_default_period"))
    assert box.value == "last_week"
    assert zh("stats.preset.this_month") in box.options  # offered in words


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_invalid_complaints_are_counted_apart(ref_db: Context, lang: str) -> None:
    numbers = _this_months_cases(ref_db)
    gone = next(r.id for r in uc.search.register(ref_db, _user(ref_db, "admin"), RegisterFilter(
        text=numbers["CRACK"][0]))[0])
    _set(ref_db, gone, validity="invalid")
    h = _headline(_stats_page(lang=lang), lang)
    assert (h["received_valid"], h["invalid"]) == ("2", "1")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_open_a_and_b_cases_as_a_table_for_the_meeting(ref_db: Context, lang: str) -> None:
    numbers = _this_months_cases(ref_db)
    tx = _tx(lang)
    ids = {r.number: r.id for r in uc.search.register(
        ref_db, _user(ref_db, "admin"), RegisterFilter(page_size=100))[0]}
    a_case, c_case = numbers["DIM"]
    _set(ref_db, ids[a_case], severity="A")
    _set(ref_db, ids[c_case], severity="C")
    _set(ref_db, ids[numbers["CRACK"][0]], severity_proposed="B", severity=None)
    # the list is of open cases now, whatever the range: last week shows it too
    at = _stats_page(lang=lang, period=None)
    label = tx("stats.tab.meeting", n=2)
    assert label in [t.label for t in at.tabs]
    table = _open_tab(at, label).dataframe[0].value
    assert list(table.columns) == [tx("field.number"), tx("field.customer"),
                                   tx("field.severity"), tx("field.state"),
                                   tx("field.responsible_department"), tx("stats.col.due"),
                                   tx("stats.col.owner")]
    assert list(table[tx("field.number")]) == [a_case, numbers["CRACK"][0]]  # A first
    assert list(table[tx("field.customer")]) == [DIM_CUSTOMER, CRACK_CUSTOMER]
    assert list(table[tx("field.severity")]) == [tx("severity.A"), tx("severity.B")]
    assert set(table[tx("field.state")]) == {tx("state.registered")}
    # registered: it waits for the salesperson who took it, by name (English name in English)
    sales = _user(ref_db, "sales")
    name = sales.display_name_en if lang == "en" and sales.display_name_en else sales.display_name
    assert set(table[tx("stats.col.owner")]) == {name}
    assert all(str(v)[:2] == "20" for v in table[tx("stats.col.due")])  # a local date and time


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overdue_says_what_it_is_compared_with(ref_db: Context, lang: str) -> None:
    tx = _tx(lang)
    at = _stats_page(lang=lang, period=None)
    [card] = [m for m in at.metric if m.label == tx("stats.h.overdue")]
    report = uc.stats.stats(ref_db, _user(ref_db, "manager"),
                            StatsFilter(preset("last_week", uc.stats.stats_today(ref_db))))
    assert report.overdue_before_at == report.now - timedelta(days=7)
    assert card.proto.help.startswith(tx("stats.help.overdue_vs", at="", n=0)[:8])
    assert f"{(report.now - timedelta(days=7)).astimezone(_zone(ref_db)):%Y-%m-%d}" in (
        card.proto.help)


def _zone(app: Context) -> Any:  # noqa: ANN401 - a ZoneInfo
    from core.usecases import context
    with app.uow() as uow:
        return context.settings_of(app, uow).tz


def test_the_summary_offers_quarters(ref_db: Context) -> None:
    at = _stats_page()
    box = widget(at, "selectbox", zh("stats.summary_period"))
    quarters = [o for o in box.options if "季度" in o]
    assert quarters and all(o.endswith("季度") for o in quarters)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_security_log_names_the_chosen_range_in_words(ref_db: Context, lang: str) -> None:
    tx = _tx(lang)
    admin = _user(ref_db, "admin")
    uc.reference.set_settings(ref_db, admin, {"stats_default_period": "this_month"})
    uc.reference.set_settings(ref_db, admin, {"stats_default_period": "this_quarter"})
    at = open_page("pages/admin.py", "admin", lang)
    no_exception(at)
    [df] = open_tab(at, "admin_tab", tx("admin.security")).dataframe
    details = [str(r[tx("seclog.col.detail")]) for r in df.value.to_dict("records")]
    assert tx("seclog.change", what=tx("field.stats_default_period"),
              old=tx("stats.preset.this_month"), new=tx("stats.preset.this_quarter")) in details
    assert not any("this_quarter" in d for d in details)
