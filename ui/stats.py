"""Stats page widgets (统计, docs/procedure.md §9): filters, headline figures, charts made to be
screen-shared (large type, one colour per severity everywhere), click-through to the cases."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from numbers import Integral, Real
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from core.model import Kind, Severity, User
from core.stats import (
    AGE_BUCKETS, ASSIST_DIMENSION, DIMENSIONS, PRESETS, Bar, Headline, MeetingCase, StatsFilter,
    StatsReport, change, custom, owner_audience, preset, wrap_label,
)
from ui.context import attempt, kesu, lang, local, md, tr, trn
from ui.exports import to_csv, to_xlsx
from core import usecases as uc

SEVERITY_COLOURS = {"A": "#c62828", "B": "#ef6c00", "C": "#1565c0", "D": "#78909c",
                    "": "#bdbdbd"}
FONT = 16  # chart text size: readable on a shared screen
CHART_HEIGHT = 380
PARETO_HEIGHT = 300  # the plot; the names below it on up to three lines
HEADLINE_ROW = 7  # headline cards per row


def sev_label(s: str) -> str:
    return tr(f"severity.{s}") if s else tr("stats.sev_none")


def sev_scale() -> alt.Scale:
    keys = list(SEVERITY_COLOURS)
    return alt.Scale(domain=[sev_label(k) for k in keys], range=list(SEVERITY_COLOURS.values()))


def styled(chart: Any) -> Any:
    return (chart.configure_axis(labelFontSize=FONT, titleFontSize=FONT, labelLimit=220)
            .configure_legend(labelFontSize=FONT, titleFontSize=FONT)
            .configure_title(fontSize=FONT + 4)
            .configure_view(strokeWidth=0))


# ------------------------------------------------------------------ filters


def filters(user: User) -> StatsFilter | None:
    """The date range (opening on the setting stats_default_period) and, folded, the rest —
    one row, so the figures and the Pareto fit the first screen."""
    today, opening = uc.stats.stats_opening(kesu())
    a, rest, more = st.columns([1, 1, 2], vertical_alignment="bottom")
    name = a.selectbox(tr("stats.range"), PRESETS, index=PRESETS.index(opening),
                       format_func=lambda p: tr(f"stats.preset.{p}"), key="stats_preset")
    if name == "custom":
        b, c = rest.columns(2)
        start = b.date_input(tr("stats.from"), value=preset(opening, today).start,
                             key="stats_from")
        end = c.date_input(tr("stats.to"), value=today, key="stats_to")
        period = attempt(custom, start if isinstance(start, date) else None,
                         end if isinstance(end, date) else None)
        if period is None:
            return None
    else:
        period = preset(name, today)
        rest.markdown(f"**{tr('stats.period')}**  \n{period.start:%Y-%m-%d} ~ "
                      f"{period.end:%Y-%m-%d}")
    with more.expander(tr("stats.more_filters")):
        app = kesu()
        x, y, z, u, v = st.columns(5)
        customers = {c.id: c.name for c in uc.reference.customers(app)}
        depts = {
            d.id: (d.name_en if lang() == "en" else d.name_zh)
            for d in uc.reference.departments(app)
        }
        customer = x.selectbox(tr("field.customer"), [None, *customers], key="stats_customer",
                               format_func=lambda k: tr("stats.all") if k is None else customers[k])
        product = y.text_input(tr("field.product_code"), key="stats_product", max_chars=100)
        dept = z.selectbox(tr("field.responsible_department"), [None, *depts], key="stats_dept",
                           format_func=lambda k: tr("stats.all") if k is None else depts[k])
        sev = u.selectbox(
            tr("field.severity"),
            [None, *Severity],
            key="stats_sev",
            format_func=lambda s: tr("stats.all") if s is None else tr(f"severity.{s.value}"),
        )
        kind = v.selectbox(
            tr("field.kind"),
            [None, *Kind],
            key="stats_kind",
            format_func=lambda k: tr("stats.all") if k is None else tr(f"kind.{k.value}"),
        )
    return StatsFilter(period, customer, product.strip(), dept, sev, kind)


@st.cache_data(ttl=120, show_spinner=False, max_entries=64)
def _cached(user_id: int, flt: StatsFilter, version: int, _user: User) -> StatsReport:
    """Cached per user, filter and data version: any change to a case (a new event) moves
    the version, so figures are never staler than the last write."""
    report: StatsReport = uc.stats.stats(kesu(), _user, flt)
    return report


def report(user: User, flt: StatsFilter) -> StatsReport | None:
    version = uc.stats.stats_version(kesu())
    return attempt(_cached, user.id, flt, version, user)


# ------------------------------------------------------------------ headline


def _num(v: Decimal | int | None, suffix: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, Decimal) and suffix == "money":
        return f"¥{v:,.0f}"
    return f"{v}{suffix}"


def _delta(now: Decimal | int | None, before: Decimal | int | None) -> str | None:
    d = change(now, before)
    return None if d is None else f"{d:+}%"


def headline(r: StatsReport) -> None:
    cur, prev = r.current, r.previous
    b = r.before
    st.caption(tr("stats.vs", start=f"{b.start:%Y-%m-%d}", end=f"{b.end:%Y-%m-%d}"))
    then = local(r.overdue_before_at) if r.overdue_before_at else "—"
    cards: list[list[tuple[str, str, str | None, str, str]]] = [
        [
            ("received_valid", _num(cur.received_valid),
             _delta(cur.received_valid, prev.received_valid), "inverse", ""),
            ("invalid", _num(cur.invalid), _delta(cur.invalid, prev.invalid), "inverse", ""),
            ("closed", _num(cur.closed), _delta(cur.closed, prev.closed), "normal", ""),
            ("open", _num(cur.open), _delta(cur.open, prev.open), "inverse", ""),
            # against the cases overdue at the same moment of the period before
            ("overdue", _num(cur.overdue), _delta(cur.overdue, prev.overdue), "inverse",
             tr("stats.help.overdue_vs", at=then, n=prev.overdue)),
            ("avg_days", _num(cur.avg_days), _delta(cur.avg_days, prev.avg_days), "inverse", ""),
            ("p90_days", _num(cur.p90_days), _delta(cur.p90_days, prev.p90_days), "inverse", ""),
        ],
        [
            (
                "ftr",
                _num(cur.ftr_rate, "%"),
                _delta(cur.ftr_rate, prev.ftr_rate),
                "normal",
                tr("stats.ftr_n", ok=cur.ftr_ok, n=cur.ftr_total),
            ),
            (
                "satisfaction",
                _num(cur.satisfaction),
                _delta(cur.satisfaction, prev.satisfaction),
                "normal",
                trn("stats.n", cur.satisfaction_n),
            ),
            ("cost", _num(cur.cost, "money"), _delta(cur.cost, prev.cost), "inverse", ""),
            (
                "charged_back",
                _num(cur.charged_back, "money"),
                _delta(cur.charged_back, prev.charged_back),
                "normal",
                "",
            ),
            *[
                (
                    f"on_time.{o.step}",
                    _num(o.rate, "%"),
                    None,
                    "normal",
                    tr("stats.on_time_n", ok=o.on_time, n=o.total),
                )
                for o in _key_steps(r)
            ],
        ],
    ]
    flat = [card for row in cards for card in row]
    # seven a row, two rows: on a 1920-pixel shared screen the Pareto fits below them
    for row in (flat[i : i + HEADLINE_ROW] for i in range(0, len(flat), HEADLINE_ROW)):
        cols = st.columns(HEADLINE_ROW)
        for col, (key, value, delta, colour, help_) in zip(cols, row, strict=False):
            title = (
                tr("stats.on_time", what=tr("stats.step." + key.split(".", 1)[1]))
                if key.startswith("on_time.")
                else tr(f"stats.h.{key}")
            )
            col.metric(
                title,
                value,
                delta,
                delta_color=colour,  # type: ignore[arg-type]
                help=help_ or tr(f"stats.help.{key.split('.')[0]}"),
                border=True,
                height="stretch",
            )


def _key_steps(r: StatsReport) -> list[Any]:
    """The two on-time rates the meeting asks about first: the reply, then dispatch."""
    order = ("reply", "dispatch", "investigation", "containment")
    known = [o for o in r.on_time if o.step in order]
    return sorted(known, key=lambda o: order.index(o.step))[:2]


def on_time_table(r: StatsReport) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("stats.col.step"): [tr(f"sla.{o.step}") for o in r.on_time],
            tr("stats.col.on_time"): [o.on_time for o in r.on_time],
            tr("stats.col.total"): [o.total for o in r.on_time],
            tr("stats.col.rate"): [
                float(o.rate) if o.rate is not None else None for o in r.on_time
            ],
        }
    )


def headline_table(r: StatsReport) -> pd.DataFrame:
    keys = (
        "received",
        "received_valid",
        "invalid",
        "closed",
        "open",
        "overdue",
        "avg_days",
        "p90_days",
        "ftr",
        "satisfaction",
        "cost",
        "charged_back",
    )

    def values(h: Headline) -> list[Any]:
        return [
            h.received,
            h.received_valid,
            h.invalid,
            h.closed,
            h.open,
            h.overdue,
            h.avg_days,
            h.p90_days,
            h.ftr_rate,
            h.satisfaction,
            h.cost,
            h.charged_back,
        ]

    now, before = values(r.current), values(r.previous)
    # object columns: counts stay whole numbers next to days and rates
    return pd.DataFrame(
        {
            tr("stats.col.figure"): [tr(f"stats.h.{k}") for k in keys],
            tr("stats.col.this"): pd.Series([_plain(v) for v in now], dtype=object),
            tr("stats.col.before"): pd.Series([_plain(v) for v in before], dtype=object),
            tr("stats.col.change"): pd.Series(
                [_plain(change(a, b)) for a, b in zip(now, before, strict=True)], dtype=object
            ),
        }
    )


def _plain(v: Any) -> Any:
    return float(v) if isinstance(v, Decimal) else v


def figure_text(v: Any, missing: str = "—") -> str:
    """A figure as read on a screen or on paper: 85,100 (not 85100.0), 3.79, 14.3, 0."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return missing
    if isinstance(v, bool) or not isinstance(v, Real | Decimal):
        return str(v)
    if isinstance(v, Integral):  # numpy's integers too
        return f"{int(v):,}"
    return f"{float(v):,.2f}".rstrip("0").rstrip(".")


def table(frame: pd.DataFrame) -> None:
    """A figures table on screen: a missing figure reads "—" (not "None"), figures as text
    to the right. The downloads keep the frame as it is (numbers, empty cells)."""
    shown = frame.copy()
    for c in frame.columns[1:]:
        shown[c] = [figure_text(v) for v in frame[c]]
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.TextColumn(alignment="right") for c in frame.columns[1:]
        },
    )


# ------------------------------------------------------------------ charts


def pareto_frame(bars: list[Bar]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": [b.key for b in bars],
            "label": [b.label(lang()) for b in bars],
            "count": [b.count for b in bars],
            "share": [float(b.share) for b in bars],
            "cumulative": [float(b.cumulative) for b in bars],
        }
    )


def axis_names(labels: list[str], plot_px: int) -> list[str]:
    """Each bar's name wrapped to its bar's width (lines joined by a newline, split again by
    the axis): whole customer and product names, upright, none cut at 150 pixels."""
    per_bar = plot_px / max(len(labels), 1)
    width = max(3, min(12, int(per_bar / (FONT + 1))))  # wide characters a line
    out: list[str] = []
    for label in labels:
        name = "\n".join(wrap_label(label, width, lines=3 if width > 4 else 4))
        while name in out:  # two names alike once cut: still two bars
            name += "\u200b"
        out.append(name)
    return out


def pareto_chart(bars: list[Bar], title: str, plot_px: int = 1400) -> Any:
    df = pareto_frame(bars)
    df["axis"] = axis_names(list(df["label"]), plot_px)
    order = list(df["axis"])
    pick = alt.selection_point(name="bar", fields=["key", "label"], on="click")
    x = alt.X("axis:N", sort=order, title=None,
              axis=alt.Axis(labelAngle=0, labelOverlap=False, labelLimit=0,
                            labelExpr="split(datum.value, '\\n')", labelLineHeight=FONT + 3,
                            labelPadding=6))
    base = alt.Chart(df).encode(x=x)
    bars_ = (
        base.mark_bar(color="#1565c0", cursor="pointer")
        .encode(
            y=alt.Y("count:Q", title=tr("stats.count"), axis=alt.Axis(tickMinStep=1, format="d")),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.55)),
            tooltip=[
                alt.Tooltip("label:N", title=title),
                alt.Tooltip("count:Q", title=tr("stats.count")),
                alt.Tooltip("share:Q", title="%"),
                alt.Tooltip("cumulative:Q", title=tr("stats.cumulative")),
            ],
        )
        .add_params(pick)
    )
    scale = alt.Scale(domain=[0, 100])
    line = base.mark_line(
        color="#e65100", point=alt.OverlayMarkDef(color="#e65100", size=60), strokeWidth=3
    ).encode(
        y=alt.Y("cumulative:Q", title=tr("stats.cumulative"), scale=scale,
                axis=alt.Axis(orient="right", values=[0, 20, 40, 60, 80, 100]))
    )
    rule = (
        alt.Chart(pd.DataFrame({"y": [80]}))
        .mark_rule(color="#e65100", strokeDash=[6, 4])
        .encode(y=alt.Y("y:Q", scale=scale, axis=None))
    )
    # "80%" at the right end, by the cumulative axis, clear of the tallest (first) bar
    mark = (
        alt.Chart(pd.DataFrame({"y": [80], "t": ["80%"]}))
        .mark_text(align="right", dx=-4, dy=-8, color="#e65100", fontSize=FONT)
        .encode(y=alt.Y("y:Q", scale=scale, axis=None), text="t:N", x=alt.value(alt.expr("width")))
    )
    return styled(
        alt.layer(bars_, line, rule, mark)
        .resolve_scale(y="independent")
        .properties(title=tr("stats.pareto_title", what=title), height=PARETO_HEIGHT)
    )


def monthly_frame(r: StatsReport) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("stats.month"): [m for m, _, _ in r.monthly],
            tr("field.severity"): [sev_label(s) for _, s, _ in r.monthly],
            tr("stats.count"): [n for _, _, n in r.monthly],
        }
    )


def monthly_chart(r: StatsReport) -> Any:
    df = monthly_frame(r)
    m, s, n = df.columns
    return styled(
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X(
                f"{m}:O",
                sort=r.months,
                title=None,
                scale=alt.Scale(domain=r.months),
                # slanted, not vertical: readable across the room; every month named
                axis=alt.Axis(labelAngle=-45, labelOverlap=False),
            ),
            y=alt.Y(f"{n}:Q", title=n, axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color(f"{s}:N", scale=sev_scale(), title=s),
            tooltip=[m, s, n],
        )
        .properties(title=tr("stats.trend_title"), height=CHART_HEIGHT)
    )


def ageing_frame(r: StatsReport) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("stats.age"): [_age(b) for b, _, _ in r.ageing],
            tr("field.severity"): [sev_label(s) for _, s, _ in r.ageing],
            tr("stats.count"): [n for _, _, n in r.ageing],
        }
    )


def _age(lo: int) -> str:
    i = AGE_BUCKETS.index(lo)
    if i + 1 < len(AGE_BUCKETS):
        return tr("stats.age_range", lo=lo, hi=AGE_BUCKETS[i + 1] - 1)
    return tr("stats.age_over", lo=lo)


def ageing_chart(r: StatsReport) -> Any:
    df = ageing_frame(r)
    a, s, n = df.columns
    return styled(
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X(f"{a}:O", sort=[_age(b) for b in AGE_BUCKETS], title=a,
                    axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{n}:Q", title=n, axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color(f"{s}:N", scale=sev_scale(), title=s),
            tooltip=[a, s, n],
        )
        .properties(title=tr("stats.ageing_title"), height=CHART_HEIGHT)
    )


def cost_frame(r: StatsReport) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("stats.month"): [m for m, _, _, _, _ in r.cost],
            tr("field.responsible_department"): [
                (en if lang() == "en" else zh) or tr("stats.none") for _, _, zh, en, _ in r.cost
            ],
            tr("stats.amount"): [float(a) for _, _, _, _, a in r.cost],
        }
    )


def cost_chart(r: StatsReport) -> Any:
    df = cost_frame(r)
    m, d, a = df.columns
    return styled(
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X(f"{m}:O", sort=r.months, title=None, scale=alt.Scale(domain=r.months),
                    axis=alt.Axis(labelAngle=-45, labelOverlap=False)),
            # departments' legend below: on the right its long names narrow the plot
            y=alt.Y(f"{a}:Q", title=a),
            # a named palette: the same department colours on screen and in the summary PDF
            color=alt.Color(f"{d}:N", title=d, legend=alt.Legend(orient="bottom"),
                            scale=alt.Scale(scheme="tableau10")),
            tooltip=[m, d, alt.Tooltip(f"{a}:Q", format=",.2f")],
        )
        .properties(title=tr("stats.cost_title"), height=CHART_HEIGHT)
    )


def recurrence_frame(r: StatsReport) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("stats.issue"): [
                x.label_en if lang() == "en" else x.label_zh for x in r.recurrences
            ],
            tr("stats.times_30d"): [x.count for x in r.recurrences],
            tr("stats.last"): [local(x.last) for x in r.recurrences],
        }
    )


def dimension_title(dim: str) -> str:
    return tr(f"stats.dim.{dim}")


# ------------------------------------------------------------------ downloads and click-through


def downloads(name: str, frame: Callable[[], pd.DataFrame], key: str) -> None:
    """Every Stats table to Excel and CSV (formula injection neutralised by ui/exports).
    The files are written when the button is clicked, not on every run of the page."""

    def file(kind: str) -> bytes:
        f = frame()
        cols, data = list(f.columns), [list(r) for r in f.itertuples(index=False)]
        return (to_xlsx if kind == "xlsx" else to_csv)(cols, data)

    a, b, _ = st.columns([1, 1, 4])
    a.download_button(tr("stats.xlsx"), lambda: file("xlsx"), file_name=f"kesu-{name}.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      key=f"dl_x_{key}", on_click="ignore")
    b.download_button(tr("stats.csv"), lambda: file("csv"), file_name=f"kesu-{name}.csv",
                      mime="text/csv", key=f"dl_c_{key}", on_click="ignore")


@st.cache_data(max_entries=64, show_spinner=False)
def pareto_spec(bars: tuple[Bar, ...], title: str, language: str) -> dict[str, Any]:
    """The Pareto's Vega-Lite spec, made once per bars, title and language (the texts are in
    it): altair checks a chart against the Vega-Lite schema each time it is turned into a
    spec, ~70 ms a run on this machine, and building it as much again — the warm Stats page
    was 150–250 ms, most of it this."""
    spec: dict[str, Any] = pareto_chart(list(bars), title).to_dict(validate=False)
    return spec


def pareto_section(user: User, r: StatsReport) -> None:
    c1, c2 = st.columns([5, 2], vertical_alignment="center")
    dim = c1.radio(tr("stats.by"), DIMENSIONS, format_func=dimension_title, horizontal=True,
                   key="stats_dim", label_visibility="collapsed")
    if dim == "department" and ASSIST_DIMENSION in r.pareto and c2.toggle(
            tr("stats.with_assists"), key="stats_assists", help=tr("stats.with_assists_help")):
        dim = ASSIST_DIMENSION
    bars = r.pareto[dim]
    missing = r.unclassified.get(dim, 0)
    if missing:  # not a category: told apart, its cases one pick away
        st.caption(trn("stats.unclassified", missing, what=dimension_title(dim)))
    if not bars:
        st.info(tr("stats.empty"))
    else:
        event = st.vega_lite_chart(spec=pareto_spec(tuple(bars), dimension_title(dim), lang()),
                                   on_select="rerun", key=f"pareto_{dim}", width="stretch")
    picked = _picked(event) if bars else None
    labels = {b.key: b.label(lang()) for b in bars if b.key != "*others*"}
    if missing:
        labels[""] = tr("stats.none")
    if not labels:
        return
    chosen = st.selectbox(tr("stats.cases_for"), list(labels), format_func=labels.__getitem__,
                          index=list(labels).index(picked) if picked in labels else None,
                          placeholder=tr("stats.click_bar"), key=f"stats_pick_{dim}_{picked}")
    if picked == "*others*":
        st.info(tr("err.stats_bar"))
    if chosen is not None:  # "" is the cases not classified yet
        cases(user, r.filter, dim, chosen, labels[chosen])
    if not bars:
        return
    st.dataframe(
        pareto_frame(bars)
        .drop(columns=["key"])
        .rename(
            columns={
                "label": dimension_title(dim),
                "count": tr("stats.count"),
                "share": "%",
                "cumulative": tr("stats.cumulative"),
            }
        ),
        hide_index=True,
        width="stretch",
    )
    downloads(f"pareto-{dim}", lambda: pareto_frame(bars), f"pareto_{dim}")


# ------------------------------------------------------------------ the meeting's A/B list


def owner_text(m: MeetingCase) -> str:
    """Who the case waits for now, in words."""
    who = owner_audience(m.state, m.due_step)
    if who == "sales":
        return m.salesperson(lang())
    if who == "department" and m.department(lang()):
        return m.department(lang())
    if who == "step_title":
        return tr("stats.owner.approvers")
    return tr("role.qa")


def meeting_frame(r: StatsReport) -> pd.DataFrame:
    now = r.now
    return pd.DataFrame(
        {
            tr("field.number"): [m.number for m in r.meeting_cases],
            tr("field.customer"): [m.customer for m in r.meeting_cases],
            tr("field.severity"): [sev_label(m.severity) for m in r.meeting_cases],
            tr("field.state"): [tr(f"state.{m.state}") for m in r.meeting_cases],
            tr("field.responsible_department"): [m.department(lang()) or "—"
                                                 for m in r.meeting_cases],
            tr("stats.col.due"): [
                "—" if m.due_at is None else (
                    tr("stats.due_overdue", at=local(m.due_at)) if m.due_at < now
                    else local(m.due_at))
                for m in r.meeting_cases
            ],
            tr("stats.col.owner"): [owner_text(m) for m in r.meeting_cases],
        }
    )


def meeting_section(r: StatsReport) -> None:
    st.caption(tr("stats.meeting_help"))
    if not r.meeting_cases:
        st.info(tr("stats.no_meeting_cases"))
        return
    frame = meeting_frame(r)
    event = st.dataframe(frame, hide_index=True, on_select="rerun", selection_mode="single-row",
                         key="stats_meeting", width="stretch")
    chosen = event.selection.rows if event and hasattr(event, "selection") else []
    if chosen:
        st.switch_page("pages/complaint.py",
                       query_params={"id": str(r.meeting_cases[chosen[0]].id)})
    st.caption(tr("log.open_hint"))
    downloads("open-a-b", lambda: frame, "meeting")


def _picked(event: Any) -> str | None:
    try:
        points = event["selection"]["bar"]
    except (KeyError, TypeError):
        return None
    return str(points[0]["key"]) if points else None


def cases(user: User, flt: StatsFilter, dim: str, key: str, title: str) -> None:
    found = attempt(uc.stats.stats_cases, kesu(), user, flt, dim, key, 1, 200)
    if found is None:
        return
    rows, total = found
    st.markdown(f"**{trn('stats.cases_title', total, what=md(title))}**")
    frame = pd.DataFrame(
        {
            tr("field.number"): [r.number for r in rows],
            tr("field.received_at"): [local(r.received_at) for r in rows],
            tr("field.customer"): [r.customer for r in rows],
            tr("field.state"): [tr(f"state.{r.state.value}") for r in rows],
            tr("field.severity"): [r.severity.value if r.severity else "" for r in rows],
            tr("field.description_short"): [r.description for r in rows],
        }
    )
    event = st.dataframe(frame, hide_index=True, on_select="rerun", selection_mode="single-row",
                         key=f"stats_cases_{dim}_{key}", width="stretch")
    chosen = event.selection.rows if event and hasattr(event, "selection") else []
    if chosen:
        st.switch_page("pages/complaint.py", query_params={"id": str(rows[chosen[0]].id)})
    if total > len(rows):
        st.caption(tr("stats.more_cases", shown=len(rows), n=total))
    st.caption(tr("log.open_hint"))
