"""Inbox (消息): notifications about my cases, newest first; open the case, mark read."""
from __future__ import annotations

import streamlit as st

from core.outbox import note_text
from ui.context import attempt, done, kesu, lang, local, me, show_flash, tr
from core import usecases as uc

user = me()
app = kesu()
st.title(tr("inbox.title"))
show_flash()
items = attempt(uc.notices.inbox, app, user) or []
unread = [n for n in items if n.read_at is None]
if unread and st.button(tr("inbox.mark_all"), key="read_all"):
    if done(uc.notices.mark_read, app, user, None):
        st.rerun()
if not items:
    st.info(tr("inbox.empty"))
for n in items:
    with st.container(border=True):
        a, b = st.columns([5, 1])
        text = note_text(n.kind, n.params, lang())
        a.markdown(("**" + tr("inbox.new") + "** · " if n.read_at is None else "")
                   + local(n.created_at))
        a.text(text)
        if n.complaint_id and b.button(tr("log.open_case"), key=f"open_{n.id}"):
            uc.notices.mark_read(app, user, [n.id])
            st.switch_page("pages/complaint.py", query_params={"id": str(n.complaint_id)})
