"""Stats (统计): the weekly quality meeting's figures, made to be screen-shared (SPEC §9)."""
from __future__ import annotations

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
with st.expander(tr("stats.definitions")):
    st.markdown(tr("stats.definitions_text"))
ui.headline(report)
if report.current.received == 0 and report.current.closed == 0:
    st.info(tr("stats.empty_period"))
pareto, trend, ageing, recur, cost, tables = st.tabs([
    tr("stats.tab.pareto"), tr("stats.tab.trend"), tr("stats.tab.ageing"),
    tr("stats.tab.recurrence"), tr("stats.tab.cost"), tr("stats.tab.tables")])
with pareto:
    ui.pareto_section(user, report)
with trend:
    st.altair_chart(ui.monthly_chart(report), width="stretch")
    ui.downloads("trend", ui.monthly_frame(report), "trend")
with ageing:
    st.altair_chart(ui.ageing_chart(report), width="stretch")
    ui.downloads("ageing", ui.ageing_frame(report), "ageing")
with recur:
    frame = ui.recurrence_frame(report)
    st.caption(tr("stats.recurrence_help"))
    if frame.empty:
        st.info(tr("stats.no_recurrence"))
    else:
        st.dataframe(frame, hide_index=True, width="stretch")
        ui.downloads("recurrences", frame, "recur")
with cost:
    st.altair_chart(ui.cost_chart(report), width="stretch")
    ui.downloads("cost", ui.cost_frame(report), "cost")
with tables:
    ui.table(ui.headline_table(report))
    ui.downloads("headline", ui.headline_table(report), "headline")
    ui.table(ui.on_time_table(report))
    ui.downloads("on-time", ui.on_time_table(report), "on_time")
st.divider()
summary_downloads(user, flt)
