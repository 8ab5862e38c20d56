"""Investigate (调查): the QA and responsible-department workspace for one case."""
from __future__ import annotations

import zlib

import streamlit as st

from core.model import State
from ui import investigate as inv
from ui.case import brief, sent_back_note
from ui.context import attempt, kesu, local, md, me, show_flash, tr
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
# keyed by what the labels say: after an action the picker is drawn anew with the case's new
# state (a kept widget showed 已发单 after signing, issue #13); the query keeps the choice
said = zlib.crc32("|".join(f"{i}:{labels.get(i, '')}" for i in ids).encode())
chosen = st.selectbox(tr("inv.pick"), ids, index=ids.index(int(raw)) if raw.isdigit() else 0,
                      format_func=lambda i: labels.get(i, str(i)), key=f"inv_case_{said}")
if str(chosen) != raw:
    st.query_params["id"] = str(chosen)
case = attempt(uc.complaints.case_file, app, user, chosen)
if case is None:
    st.stop()
c = case.complaint
st.subheader(f"{c.number} · {tr('state.' + c.state.value)}")
view = attempt(uc.complaints.complaint, app, user, chosen)
back = sent_back_note(view.events) if view is not None else None
if back is not None and c.state == State.ROOT_CAUSE:  # why QA wants the analysis again
    st.warning(tr("inv.sent_back_reason", by=md(back.user_name), at=local(back.at),
                  reason=md(back.comment)))
if view is not None:
    brief(user, view)
else:
    st.text(c.description)
st.page_link("pages/complaint.py", label=tr("log.open_case"), query_params={"id": str(c.id)})
show_dues(attempt(uc.timing.due_times, app, user, c.id) or [])
inv.step_forms(user, case)
