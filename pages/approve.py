"""Approve (核决): pending approval steps, made for a phone — facts first, big buttons."""
from __future__ import annotations

import streamlit as st

from ui.approve import card, thumbnails
from ui.delegations import delegations
from ui.context import attempt, kesu, me, show_flash, tr
from core import usecases as uc

SHOWN = 10  # cards at a time: a phone screen, and a manager back from a trip (issue #6)

user = me()
st.title(tr("appr.title"))
show_flash()
shown = int(st.session_state.get("appr_shown", SHOWN))
cards = attempt(uc.approve_queue.pending_approvals, kesu(), user, shown + 1) or []
if not cards:
    st.info(tr("appr.empty"))
book = uc.authority.titles(kesu())
thumbs = thumbnails(user, cards[:shown])
for c in cards[:shown]:
    card(user, c, book, thumbs)
if len(cards) > shown:
    st.button(tr("appr.more", n=SHOWN), key="appr_more", width="stretch",
              on_click=st.session_state.__setitem__, args=("appr_shown", shown + SHOWN))
delegations(user)
