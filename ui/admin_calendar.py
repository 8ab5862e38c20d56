"""Admin → Calendar and time limits: working hours, official schedules, company days, limits."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from core import sla
from core.model import User
from ui.context import attempt, done, flash, kesu, settings_changed, tr, trn
from core import usecases as uc

STEPS = list(sla.DEFAULT_LIMITS)


def calendar(me: User) -> None:
    app = kesu()
    status = uc.timing.calendar_status(app)
    cfg = uc.context.settings(app)
    st.subheader(tr("admin.calendar"))
    st.caption(tr("admin.known_years", years=_years(status.known_years)))
    if status.missing_next_year:
        next_year = datetime.now(cfg.tz).year + 1
        st.warning(tr("admin.missing_next", year=next_year))
    with st.form("work_hours"):
        a, b = st.columns(2)
        start = a.text_input(tr("field.work_start"), cfg.work_start, max_chars=5)
        end = b.text_input(tr("field.work_end"), cfg.work_end, max_chars=5)
        if st.form_submit_button(tr("common.save")):
            if done(uc.reference.set_settings, app, me, {"work_start": start, "work_end": end}):
                settings_changed()
                flash("success", tr("admin.settings_saved"))
                st.rerun()
    with st.form("paste_year"):
        st.markdown("**" + tr("admin.paste_year") + "**")
        year = st.number_input(tr("admin.year"), 2000, 2100,
                               datetime.now(cfg.tz).year + 1, step=1)
        text = st.text_area(tr("admin.paste_year"), height=160, help=tr("admin.paste_help"),
                            placeholder=tr("admin.paste_help"), label_visibility="collapsed")
        if st.form_submit_button(tr("common.save")):
            n = attempt(uc.timing.set_calendar_year, app, me, int(year), text)
            if n:
                flash("success", trn("admin.saved_days", n))
                st.rerun()
    with st.form("overrides"):
        st.markdown("**" + tr("admin.overrides") + "**")
        off = st.text_area(tr("admin.extra_off"), " ".join(d.isoformat() for d in status.extra_off))
        work = st.text_area(tr("admin.extra_work"),
                            " ".join(d.isoformat() for d in status.extra_work))
        if st.form_submit_button(tr("common.save")):
            if done(uc.timing.set_calendar_overrides, app, me, off, work):
                flash("success", tr("admin.settings_saved"))
                st.rerun()


def limits(me: User) -> None:
    st.subheader(tr("admin.limits"))
    st.caption(tr("admin.limits_help"))
    current = uc.timing.sla_limits(kesu())
    units = {tr("unit." + u): u for u in sla.UNITS}
    every = tr("rules.any")  # the limit of every severity, stored as "*"
    rows = [{"step": tr("sla." + step), "sev": every if sev == "*" else sev, "amount": amount,
             "unit": tr("unit." + unit)}
            for step in STEPS for sev, (amount, unit) in sorted(current.get(step, {}).items())]
    edited = st.data_editor(
        pd.DataFrame(rows), key="sla_editor", width="stretch", hide_index=True,
        disabled=["step", "sev"],
        column_config={
            "step": st.column_config.TextColumn(tr("field.step")),
            "sev": st.column_config.TextColumn(tr("field.severity")),
            "amount": st.column_config.NumberColumn(tr("admin.limit_amount"), min_value=0.5,
                                                    max_value=1000, step=0.5),
            "unit": st.column_config.SelectboxColumn(tr("admin.limit_unit"),
                                                     options=list(units))})
    if st.button(tr("common.save"), key="save_sla", type="primary"):
        by_label = {tr("sla." + s): s for s in STEPS}
        new: dict[str, dict[str, tuple[float, str]]] = {}
        for r in edited.to_dict("records"):
            new.setdefault(by_label[r["step"]], {})["*" if r["sev"] == every else r["sev"]] = (
                float(r["amount"]), units.get(r["unit"], "wd"))
        if done(uc.timing.set_sla_limits, kesu(), me, new):
            flash("success", tr("admin.settings_saved"))
            st.rerun()


def _years(years: list[int]) -> str:
    if not years:
        return "—"
    return f"{years[0]}–{years[-1]}" if years == list(range(years[0], years[-1] + 1)) \
        else ", ".join(map(str, years))
