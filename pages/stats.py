"""Stats (统计): the weekly quality meeting's figures, made to be screen-shared (docs/procedure.md
§9)."""

from __future__ import annotations

from functools import partial

import streamlit as st

from ui import stats as ui
from ui.context import me, tr
from ui.stats_summary import summary_downloads

user = me()
st.title(tr("stats.title"))
flt = ui.filters(user)
if flt is None:
    st.stop()
report = ui.report(user, flt)
if report is None:
    st.stop()
ui.headline(report)
if report.current.received == 0 and report.current.closed == 0:
    st.info(tr("stats.empty_period"))
# only the open tab runs (on_change="rerun"): one chart is built per click, not six
pareto, meeting, trend, ageing, recur, cost, tables = st.tabs(
    [
        tr("stats.tab.pareto"),
        tr("stats.tab.meeting", n=len(report.meeting_cases)),
        tr("stats.tab.trend"),
        tr("stats.tab.ageing"),
        tr("stats.tab.recurrence"),
        tr("stats.tab.cost"),
        tr("stats.tab.tables"),
    ],
    key="stats_tab",
    on_change="rerun",
)
if pareto.open:
    with pareto:
        ui.pareto_section(user, report)
if meeting.open:
    with meeting:
        ui.meeting_section(report)
for tab, name, chart, to_frame in (
    (trend, "trend", ui.monthly_chart, ui.monthly_frame),
    (ageing, "ageing", ui.ageing_chart, ui.ageing_frame),
    (cost, "cost", ui.cost_chart, ui.cost_frame),
):
    if tab.open:  # a chart and its table's downloads
        with tab:
            st.altair_chart(chart(report), width="stretch")
            ui.downloads(name, partial(to_frame, report), name)
if recur.open:
    with recur:
        frame = ui.recurrence_frame(report)
        st.caption(tr("stats.recurrence_help"))
        if frame.empty:
            st.info(tr("stats.no_recurrence"))
        else:
            st.dataframe(frame, hide_index=True, width="stretch")
            ui.downloads("recurrences", lambda: frame, "recur")
if tables.open:
    with tables:
        ui.table(ui.headline_table(report))
        ui.downloads("headline", partial(ui.headline_table, report), "headline")
        ui.table(ui.on_time_table(report))
        ui.downloads("on-time", partial(ui.on_time_table, report), "on_time")
with st.expander(tr("stats.definitions")):
    st.markdown(tr("stats.definitions_text"))
st.divider()
summary_downloads(user, flt)
