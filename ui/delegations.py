"""Delegations (代理人): naming a deputy for a trip or a holiday, listing and revoking them —
on the Approve page for a manager and their deputy, on Admin for everyone (issue #11)."""
from __future__ import annotations

from datetime import timedelta

import streamlit as st

from core import usecases as uc
from core.model import User
from core.usecases.delegation import DelegationView
from ui.context import attempt, done, flash, kesu, local, md, today_local, tr

SHOWN = 20  # the newest; older ones stay recorded


def delegations(user: User, admin: bool = False) -> None:
    """The form (a title holder for themselves; an admin for any title holder) and the list."""
    views = attempt(uc.delegation.delegations, kesu(), user) or []
    if not user.titles and not admin and not views:
        return
    with st.expander(tr("appr.delegations"), expanded=admin or any(v.current for v in views)):
        if admin or user.titles:
            _form(user, admin)
        _listing(user, views)


def _form(user: User, admin: bool) -> None:
    people = uc.accounts.list_active_users(kesu())
    managers = {u.id: u.display_name for u in people if u.titles}
    max_days = uc.context.settings(kesu()).delegation_max_days
    st.markdown(f"**{tr('appr.delegate')}**")
    with st.form("admin_delegate" if admin else "delegate"):
        boss: int | None = user.id
        if admin:
            boss = st.selectbox(tr("field.signs_for"), list(managers), index=None,
                                format_func=lambda i: managers[i], placeholder=tr("log.pick"))
        # not "everyone but the manager picked above": in a form that pick is only known on
        # submit, and options that change then would drop the deputy picked
        deputies = {u.id: u.display_name for u in people if admin or u.id != user.id}
        deputy = st.selectbox(tr("field.deputy"), list(deputies), index=None,
                              format_func=lambda i: deputies[i], placeholder=tr("log.pick"))
        a, b = st.columns(2)
        first = today_local()
        start = a.date_input(tr("field.start"), value=first, min_value=first)
        last = first + timedelta(days=max_days - 1)
        end = b.date_input(tr("field.end"), value=min(first + timedelta(days=7), last),
                           min_value=first, max_value=last)
        st.caption(tr("appr.delegation_rule", days=max_days))
        if st.form_submit_button(tr("common.save")):
            if boss is None:
                st.error(tr("err.required", field="signs_for"))
            elif deputy is None:
                st.error(tr("err.required", field="deputy"))
            elif attempt(uc.delegation.set_delegation, kesu(), user, deputy, start, end, boss):
                flash("success", tr("appr.delegated"))
                st.rerun()


def _status(v: DelegationView) -> str:
    d = v.delegation
    if d.revoked_at is not None:
        return tr("appr.delegation_revoked", name=md(v.revoked_by), at=local(d.revoked_at))
    if not v.current:
        return tr("appr.delegation_ended")
    if d.start > today_local():
        return tr("appr.delegation_upcoming")
    return tr("appr.delegation_active")


def _listing(user: User, views: list[DelegationView]) -> None:
    if not views:
        st.caption(tr("appr.no_delegations"))
        return
    for v in views[:SHOWN]:
        d = v.delegation
        with st.container(border=True):
            st.markdown(tr("appr.delegation_line", deputy=md(v.deputy), manager=md(v.manager),
                           start=d.start.isoformat(), end=d.end.isoformat()))
            by = (tr("appr.delegation_by", name=md(v.created_by), at=local(d.created_at))
                  if d.created_at is not None else "")
            st.caption(" · ".join(x for x in (_status(v), by) if x))
            if v.revocable and st.button(tr("appr.revoke"), key=f"revoke_{d.id}",
                                         width="stretch"):
                if done(uc.delegation.revoke_delegation, kesu(), user, d.id or 0):
                    flash("success", tr("appr.revoked_delegation"))
                    st.rerun()
    if len(views) > SHOWN:
        st.caption(tr("appr.delegations_more", n=len(views) - SHOWN))
