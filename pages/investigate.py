"""Investigate (调查): the QA and responsible-department workspace for one case."""
from __future__ import annotations

import streamlit as st

from core.model import State
from ui import investigate as inv
from ui.context import attempt, kesu, me, show_flash, tr
from ui.due import show_dues
from core import usecases as uc

STATES = (State.DISPATCHED, State.INVESTIGATING, State.ROOT_CAUSE, State.CAPA_REVIEW,
          State.DISPOSITION, State.PENDING_APPROVAL, State.REPLYING, State.IMPLEMENTING,
          State.VERIFYING)
user = me()
app = kesu()
st.title(tr("inv.title"))
show_flash()
open_cases = attempt(uc.search.cases_in, app, user, STATES) or []
ids = [c.id for c in open_cases]
raw = st.query_params.get("id", "")
if raw.isdigit() and int(raw) not in ids:
    ids.insert(0, int(raw))
if not ids:
    st.info(tr("inv.none"))
    st.stop()
labels = {c.id: f"{c.number} · {tr('state.' + c.state.value)} · {c.description[:30]}"
          for c in open_cases}
if raw.isdigit() and int(raw) not in labels:
    linked = attempt(uc.complaints.case_file, app, user, int(raw))
    if linked is not None:
        x = linked.complaint
        labels[x.id] = f"{x.number} · {tr('state.' + x.state.value)} · {x.description[:30]}"
chosen = st.selectbox(tr("inv.pick"), ids, index=ids.index(int(raw)) if raw.isdigit() else 0,
                      format_func=lambda i: labels.get(i, str(i)), key="inv_case")
if str(chosen) != raw:
    st.query_params["id"] = str(chosen)
case = attempt(uc.complaints.case_file, app, user, chosen)
if case is None:
    st.stop()
c = case.complaint
st.subheader(f"{c.number} · {tr('state.' + c.state.value)}")
st.text(c.description)
st.page_link("pages/complaint.py", label=tr("log.open_case"), query_params={"id": str(c.id)})
show_dues(attempt(uc.timing.due_times, app, user, c.id) or [])
inv.step_forms(user, case)
