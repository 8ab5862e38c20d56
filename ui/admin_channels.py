"""Admin → Notifications: e-mail and group-robot channels with their test buttons, the
escalation levels of overdue steps, and the outbox (docs/procedure.md §7–8)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.escalation import AUDIENCES, Level
from core.model import Lang, User
from core.outbox import CHANNELS, ROBOTS, SECURITY, ChannelConfig
from ui.context import attempt, done, flash, kesu, label, lang, local, tr, trn
from core import usecases as uc

SHOWN_LEVELS = 3


def channels(me: User) -> None:
    view = attempt(uc.channels.channel_config, kesu(), me)
    if view is None:
        return
    cfg = view.config
    st.caption(tr("chan.help"))
    with st.form("channels"):
        st.subheader(tr("chan.email_title"))
        a, b = st.columns([3, 1])
        host = a.text_input(tr("field.smtp_host"), cfg.smtp_host, max_chars=253)
        port = b.number_input(tr("field.smtp_port"), 1, 65535, cfg.smtp_port, step=1)
        security = st.selectbox(tr("field.smtp_security"), SECURITY,
                                index=SECURITY.index(cfg.smtp_security),
                                format_func=lambda x: tr("chan.security." + x))
        c, d = st.columns(2)
        user = c.text_input(tr("field.smtp_user"), cfg.smtp_user, max_chars=200)
        # the stored password is never sent to the browser: empty keeps it
        password = d.text_input(tr("field.smtp_password"), "", type="password", max_chars=200,
                                help=tr("chan.password_kept") if view.has_password else None)
        clear = d.checkbox(tr("chan.clear_password")) if view.has_password else False
        mail_from = st.text_input(tr("field.mail_from"), cfg.mail_from, max_chars=200)
        st.subheader(tr("chan.robots_title"))
        # a stored address is shown masked (its key is the robot's password): left as
        # shown it is kept, emptied it is removed, replaced it is changed
        urls = {r: st.text_input(tr(f"field.{r}_url"), cfg.url(r), max_chars=500,
                                 help=tr("chan.url_help") + "\n\n" + tr("chan.url_masked_help"))
                for r in ROBOTS}
        internal = st.checkbox(tr("field.allow_internal_hosts"), cfg.allow_internal_hosts,
                               help=tr("chan.allow_internal_help"))
        keyword = st.text_input(tr("field.dingtalk_keyword"), cfg.dingtalk_keyword, max_chars=50,
                                help=tr("chan.keyword_help"))
        st.subheader(tr("chan.general_title"))
        e, f = st.columns(2)
        langs = [x.value for x in Lang]
        robot_lang = e.selectbox(tr("field.robot_language"), langs,
                                 index=langs.index(cfg.robot_language), format_func=label("lang"))
        app_url = f.text_input(tr("field.app_url"), cfg.app_url, max_chars=500,
                               help=tr("chan.app_url_help"))
        if st.form_submit_button(tr("common.save"), type="primary"):
            new = ChannelConfig(host, int(port), security, user, "", mail_from, urls["wecom"],
                                urls["dingtalk"], keyword, urls["feishu"], robot_lang, app_url,
                                internal)
            if done(uc.channels.set_channels, kesu(), me, new, "" if clear else (password or None)):
                flash("success", tr("common.saved"))
                st.rerun()
    _tests(me, cfg)


def _tests(me: User, cfg: ChannelConfig) -> None:
    """Each channel's state and its "send a test message" button (sent now, not queued)."""
    for channel in CHANNELS:
        on = cfg.enabled(channel)
        with st.container(border=True):
            a, b = st.columns([2, 3])
            a.markdown(f"**{tr('chan.' + channel)}** · "
                       + (tr("chan.on") if on else tr("chan.off")))
            to = b.text_input(tr("chan.test_to"), key="test_to", max_chars=200,
                              disabled=not on) if channel == "email" else ""
            if a.button(tr("chan.send_test"), key=f"test_{channel}", disabled=not on):
                with st.spinner(tr("chan.send_test")):
                    result = attempt(uc.channels.send_test, kesu(), me, channel, to)
                if result is not None:
                    (st.success if result.ok else st.error)(
                        tr("chan.test_ok") if result.ok else tr("chan.test_failed"))
                    st.code(result.answer, language=None)  # the server's words, shown raw


def escalation_levels(me: User) -> None:
    st.subheader(tr("chan.escalation"))
    st.caption(tr("chan.escalation_help"))
    levels = list(uc.channels.escalation_levels(kesu()))
    book = uc.authority.titles(kesu())
    audiences = [*AUDIENCES, *(d.code for d in book.defs)]

    def who(x: str) -> str:
        return tr("audience." + x) if x in AUDIENCES else book.name(x, lang())
    with st.form("escalation"):
        chosen: list[Level] = []
        for i in range(max(SHOWN_LEVELS, len(levels))):
            lvl = levels[i] if i < len(levels) else None
            a, b = st.columns([1, 3])
            multiple = a.number_input(tr("chan.level", n=i + 1) + " · " + tr("chan.multiple"),
                                      0.0, 20.0, lvl.multiple if lvl else 0.0, step=0.5,
                                      key=f"esc_m{i}")
            to = b.multiselect(tr("chan.to"), audiences,
                               default=[x for x in lvl.to if x in audiences] if lvl else [],
                               format_func=who, key=f"esc_to{i}",
                               placeholder=tr("log.pick"))
            if multiple > 0:
                chosen.append(Level(float(multiple), tuple(to)))
        if st.form_submit_button(tr("common.save"), type="primary"):
            if done(uc.channels.set_escalation_levels, kesu(), me, chosen):
                flash("success", tr("common.saved"))
                st.rerun()


def outbox(me: User) -> None:
    st.subheader(tr("chan.outbox"))
    view = attempt(uc.channels.outbox_overview, kesu(), me)
    if view is None:
        return
    st.caption(tr("chan.outbox_counts", **view.counts))
    if view.problems:
        st.dataframe(pd.DataFrame({
            tr("outbox.status"): [tr("outbox." + i.status) for i in view.problems],
            tr("outbox.channel"): [tr("chan." + i.message.channel) for i in view.problems],
            tr("outbox.target"): [i.message.target if i.message.channel == "email" else ""
                                  for i in view.problems],
            tr("outbox.subject"): [i.message.subject or i.message.body[:80]
                                   for i in view.problems],
            tr("outbox.attempts"): [i.attempts for i in view.problems],
            tr("outbox.next_try"): [local(i.next_try_at) if i.status == "pending" else ""
                                    for i in view.problems],
            tr("outbox.error"): [i.last_error for i in view.problems],
        }), hide_index=True, width="stretch")
    else:
        st.info(tr("chan.no_problems"))
    if view.counts.get("failed") and st.button(tr("chan.retry_failed"), key="retry_failed"):
        n = attempt(uc.channels.retry_failed, kesu(), me)
        if n is not None:
            flash("success", trn("chan.retried", n))
            st.rerun()
