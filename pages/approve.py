"""Approve (核决): pending approval steps, made for a phone — facts first, big buttons."""
from __future__ import annotations

import streamlit as st

from ui.approve import card, delegation
from ui.context import attempt, kesu, me, show_flash, tr

user = me()
st.title(tr("appr.title"))
show_flash()
cards = attempt(kesu().pending_approvals, user) or []
if not cards:
    st.info(tr("appr.empty"))
for c in cards:
    card(user, c)
delegation(user)
