"""Due times as people read them: time left or overdue, in working hours / days."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import streamlit as st

from core.model import CaseFile, Role, Title, User
from core.rules.calendar import WorkCalendar
from core.sla import CLOCK_UNITS, Due
from ui.context import attempt, done, flash, kesu, local, md, settings_tz, today_local, tr
from ui.tabs import folded
from core import usecases as uc


def _amount(x: float) -> str:
    """One decimal, without a bare ".0": 3.6, 110 (not 110.0)."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def left_text(left: timedelta, cal: WorkCalendar, clock_hours: bool = False) -> str:
    """`还剩 5.5 工作小时` / `逾期 1.2 工作日` / `逾期 110 工作日` (on the clock for clock-hour
    and calendar-day limits: `还剩 3 天`)."""
    hours = abs(left.total_seconds()) / 3600
    if clock_hours and hours >= 24:
        amount, unit = _amount(hours / 24), tr("due.days")
    elif clock_hours:
        amount, unit = _amount(hours), tr("due.hours")
    elif hours >= cal.hours_per_day:
        amount, unit = _amount(hours / cal.hours_per_day), tr("due.working_days")
    else:
        amount, unit = _amount(hours), tr("due.working_hours")
    key = "due.overdue_by" if left.total_seconds() < 0 else "due.left"
    return tr(key, amount=amount, unit=unit)


def working_left(due: datetime, cal: WorkCalendar) -> timedelta:
    return cal.working_time_between(datetime.now(timezone.utc), due)


def show_dues(dues: list[Due]) -> None:
    """The Complaint page's time limits: every open step, its due time, time left."""
    if not dues:
        return
    cal = uc.context.calendar(kesu())
    now = datetime.now(timezone.utc)
    st.markdown("**" + tr("due.title") + "**")
    for d in dues:
        name = tr("sla." + d.step)
        if d.due is None:
            st.info(f"{name}: {tr('due.paused')}")
            continue
        left = d.time_left(now, cal) or timedelta()
        line = (f"{name} — {tr('due.due_at', at=local(d.due))} · "
                f"{left_text(left, cal, d.limit[1] in CLOCK_UNITS)}")
        if d.extended:
            line += " · " + tr("due.extended")
        if d.is_overdue(now):
            st.error(line)
        else:
            st.caption(line)
        if d.missing_years:
            st.warning(tr("due.no_calendar", years=", ".join(map(str, d.missing_years))))


def extensions(user: User, case: CaseFile, dues: list[Due]) -> None:
    """Ask for more time on an open step; the QA manager or management decides (延期)."""
    c = case.complaint
    app = kesu()
    pending = attempt(uc.timing.pending_extension, app, user, c.id)
    if pending is not None:
        st.warning(tr("ext.pending", by=md(pending.by), step=tr("sla." + pending.step),
                      due=local(pending.due), reason=md(pending.reason)))
        if user.has(Role.MANAGEMENT) or Title.QA_MANAGER in user.titles:
            with st.form(f"ext_decide_{c.id}"):
                comment = st.text_input(tr("field.comment"), max_chars=500)
                told = st.checkbox(tr("ext.informed"))
                a, b = st.columns(2)
                grant = a.form_submit_button(tr("ext.grant"), type="primary")
                refuse = b.form_submit_button(tr("ext.refuse"))
                if grant or refuse:
                    if done(uc.timing.decide_extension, app, user, c.id, c.version, grant, comment,
                            told):
                        flash("success", tr("common.saved"))
                        st.rerun()
        return
    timed = [d for d in dues if d.due is not None]
    if not timed or not user.has(Role.SALES, Role.QA, Role.PRODUCTION, Role.MANAGEMENT):
        return
    ask = folded(tr("ext.title"), f"ext_open_{c.id}")
    if not ask.open:
        return
    with ask:
        with st.form(f"ext_ask_{c.id}"):
            step = st.selectbox(tr("field.step"), [d.step for d in timed],
                                format_func=lambda s: tr("sla." + s))
            a, b = st.columns(2)
            day = a.date_input(tr("ext.new_due"), value=today_local() + timedelta(days=3),
                               min_value=today_local())
            at = b.time_input(tr("ext.new_time"), value=time(17, 30), step=1800)
            reason = st.text_area(tr("field.reason") + " *", max_chars=2000)
            if st.form_submit_button(tr("ext.title")):
                when = datetime.combine(day, at, settings_tz())
                if done(uc.timing.request_extension, app, user, c.id, c.version, step, when,
                        reason):
                    flash("success", tr("common.saved"))
                    st.rerun()
