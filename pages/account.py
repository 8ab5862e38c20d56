"""My account: change my own password and my interface language."""
from __future__ import annotations

import streamlit as st

from ui.auth import leave_for_signin, session_id
from ui.context import attempt, done, flash, kesu, me, show_flash, tr
from core import usecases as uc

user = me()
st.title(tr("account.title"))
show_flash()
st.text(f"{tr('field.username')}: {user.username}    "
        f"{tr('field.display_name')}: {user.display_name}")
st.subheader(tr("account.change_password"))
st.caption(tr("account.policy", n=uc.accounts.MIN_PASSWORD))
with st.form("change_password", clear_on_submit=True):
    old = st.text_input(tr("account.old"), type="password")
    new = st.text_input(tr("account.new"), type="password")
    new2 = st.text_input(tr("account.new2"), type="password")
    if st.form_submit_button(tr("common.save"), type="primary"):
        if new != new2:
            st.error(tr("setup.mismatch"))
        elif done(uc.accounts.change_password, kesu(), user, old, new, session_id()):
            flash("success", tr("account.changed"))
            st.rerun()
st.subheader(tr("account.sessions"))
st.caption(tr("account.sessions_help"))
if st.button(tr("account.log_out_everywhere"), key="log_out_everywhere"):
    if attempt(uc.accounts.log_out_everywhere, kesu(), user) is not None:
        leave_for_signin()
