"""My account: change my own password and my interface language."""
from __future__ import annotations

import streamlit as st

from ui.auth import leave_for_signin, session_id
from ui.context import attempt, done, flash, kesu, me, show_flash, tr
from core import notify
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
st.subheader(tr("account.notices"))
st.caption(tr("account.notices_help"))
prefs = attempt(uc.notices.notice_preferences, kesu(), user) or notify.Preferences()
if not user.email:
    st.caption(tr("account.no_email"))
with st.form("notice_prefs"):
    head = st.columns([3, 1, 1])
    head[0].markdown("**" + tr("account.notice_kind") + "**")
    head[1].markdown("**" + tr("account.notice_inbox") + "**")
    head[2].markdown("**" + tr("account.notice_email") + "**")
    channel_label = {"inbox": tr("account.notice_inbox"), "email": tr("account.notice_email")}
    chosen: dict[tuple[str, str], bool] = {}
    for kind in notify.KINDS:
        row = st.columns([3, 1, 1], vertical_alignment="center")
        row[0].text(tr("notice_kind." + kind))
        for col, channel in zip(row[1:], notify.CHANNELS, strict=True):
            chosen[channel, kind] = col.checkbox(
                channel_label[channel], prefs.wants(channel, kind),
                key=f"np_{channel}_{kind}", label_visibility="collapsed")
    timings = {"at_once": tr("account.email_at_once"), "digest": tr("account.email_digest")}
    timing = st.radio(tr("account.email_timing"), list(timings),
                      index=1 if prefs.digest else 0, horizontal=True, key="np_digest",
                      format_func=timings.__getitem__,
                      help=tr("account.email_digest_help"))
    if st.form_submit_button(tr("account.save_notices"), key="np_save"):
        choice = notify.Preferences(frozenset(k for k, on in chosen.items() if not on),
                                    timing == "digest")
        if done(uc.notices.set_notice_preferences, kesu(), user, choice):
            flash("success", tr("account.notices_saved"))
            st.rerun()
st.subheader(tr("account.sessions"))
st.caption(tr("account.sessions_help"))
if st.button(tr("account.log_out_everywhere"), key="log_out_everywhere"):
    if attempt(uc.sessions.log_out_everywhere, kesu(), user) is not None:
        leave_for_signin()
