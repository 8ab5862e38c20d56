"""Due times as people read them: time left or overdue, in working hours / days."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import streamlit as st

from core.rules.calendar import WorkCalendar
from core.sla import Due
from ui.context import kesu, local, tr


def left_text(left: timedelta, cal: WorkCalendar, clock_hours: bool = False) -> str:
    """`还剩 5.5 工作小时` / `逾期 1.2 工作日` (clock hours for 24-hour limits)."""
    hours = abs(left.total_seconds()) / 3600
    if clock_hours:
        amount, unit = f"{hours:.1f}", tr("due.hours")
    elif hours >= cal.hours_per_day:
        amount, unit = f"{hours / cal.hours_per_day:.1f}", tr("due.working_days")
    else:
        amount, unit = f"{hours:.1f}", tr("due.working_hours")
    key = "due.overdue_by" if left.total_seconds() < 0 else "due.left"
    return tr(key, amount=amount, unit=unit)


def working_left(due: datetime, cal: WorkCalendar) -> timedelta:
    return cal.working_time_between(datetime.now(timezone.utc), due)


def show_dues(dues: list[Due]) -> None:
    """The Complaint page's time limits: every open step, its due time, time left."""
    if not dues:
        return
    cal = kesu().calendar()
    now = datetime.now(timezone.utc)
    st.markdown("**" + tr("due.title") + "**")
    for d in dues:
        name = tr("sla." + d.step)
        if d.due is None:
            st.info(f"{name}: {tr('due.paused')}")
            continue
        left = d.time_left(now, cal) or timedelta()
        line = (f"{name} — {tr('due.due_at', at=local(d.due))} · "
                f"{left_text(left, cal, d.limit[1] == 'h')}")
        if d.extended:
            line += " · " + tr("due.extended")
        if d.is_overdue(now):
            st.error(line)
        else:
            st.caption(line)
        if d.missing_years:
            st.warning(tr("due.no_calendar", years=", ".join(map(str, d.missing_years))))
