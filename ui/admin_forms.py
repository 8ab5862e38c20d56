"""The Admin page's forms: users and the reference lists, and settings."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from core.model import Customer, DefectType, Department, Lang, Market, Product, Role, User
from core.usecases.accounts import UserInput
from core.settings import STATS_PERIODS
from ui.context import (attempt, done, flash, kesu, label, lang, local, md, settings_changed,
                        tr)
from core import usecases as uc


def _dept_name(d: Department) -> str:
    return d.name_en if lang() == "en" else d.name_zh


def _user_form(key: str, depts: list[Department], u: User | None) -> UserInput:
    a, b = st.columns(2)
    username = a.text_input(tr("field.username") + " *", value=u.username if u else "",
                            disabled=u is not None, max_chars=32, key=f"{key}_un")
    name = b.text_input(tr("field.display_name") + " *", value=u.display_name if u else "",
                        max_chars=100, key=f"{key}_dn")
    name_en = b.text_input(tr("field.display_name_en"), value=u.display_name_en if u else "",
                           max_chars=100, key=f"{key}_dne",
                           help=tr("field.display_name_en_help"))
    roles = a.multiselect(tr("field.roles") + " *", list(Role),
                          default=sorted(u.roles) if u else [],
                          format_func=label("role"), key=f"{key}_roles")
    ids = [d.id for d in depts]
    names = {d.id: _dept_name(d) for d in depts}
    dept = b.selectbox(tr("field.department"), ids,
                       index=ids.index(u.department_id) if u and u.department_id in ids else None,
                       format_func=lambda i: names.get(i, "?"), placeholder=tr("log.pick"),
                       key=f"{key}_dept")
    book = uc.authority.titles(kesu())
    codes = [d.code for d in book.defs if d.active or (u is not None and d.code in u.titles)]
    titles = a.multiselect(tr("field.titles"), codes,
                           default=[c for c in codes if u is not None and c in u.titles],
                           format_func=lambda c: book.name(c, lang()),
                           placeholder=tr("common.none"), key=f"{key}_title")
    langs = list(Lang)
    language = a.selectbox(tr("field.language"), langs, index=langs.index(u.language) if u else 0,
                           format_func=label("lang"), key=f"{key}_lang")
    email = a.text_input(tr("field.email"), value=u.email if u else "", max_chars=200,
                         key=f"{key}_email")
    active = b.checkbox(tr("field.active"), value=u.active if u else True, key=f"{key}_act")
    return UserInput(username, name, frozenset(roles), dept, frozenset(titles), language, active,
                     email, name_en)


def users(me: User) -> None:
    app = kesu()
    all_users = attempt(uc.accounts.list_users, app, me) or []
    depts = uc.reference.departments(app, include_inactive=True)
    dept_names = {d.id: _dept_name(d) for d in depts}
    book = uc.authority.titles(app)
    sep = "、" if lang() == "zh" else ", "
    st.caption(tr("admin.never_deleted"))
    st.dataframe(pd.DataFrame({
        tr("field.username"): [u.username for u in all_users],
        tr("field.display_name"): [u.display_name for u in all_users],
        tr("field.roles"): [", ".join(tr(f"role.{r.value}") for r in sorted(u.roles))
                            for u in all_users],
        tr("field.department"): [dept_names.get(u.department_id or 0, "") for u in all_users],
        tr("field.titles"): [sep.join(book.name(t, lang()) for t in sorted(
            u.titles, key=lambda c: (-book.rank(c), c))) for u in all_users],
        tr("field.email"): [u.email for u in all_users],
        tr("field.active"): [tr("common.yes") if u.active else tr("common.no") for u in all_users],
        tr("admin.waiting"): [tr("common.yes") if uc.login_delays.is_locked(app, u.username) else ""
                              for u in all_users],
        tr("admin.must_change"): [tr("common.yes") if u.must_change_password else ""
                                  for u in all_users],
    }), hide_index=True, width="stretch")
    with st.expander(tr("admin.new_user")):
        with st.form("new_user", clear_on_submit=False):
            data = _user_form("nu", depts, None)
            pw = st.text_input(tr("admin.initial_password") + " *", type="password", key="nu_pw",
                               help=tr("account.policy", n=uc.accounts.MIN_PASSWORD))
            if st.form_submit_button(tr("common.add"), type="primary"):
                if attempt(uc.accounts.create_user, app, me, data, pw):
                    flash("success", tr("admin.user_created",
                                        name=md(data.username.strip().lower())))
                    st.rerun()
    with st.expander(tr("admin.edit_user")):
        by_id = {u.id: u for u in all_users}
        uid = st.selectbox(tr("admin.pick_user"), list(by_id), index=None,
                           format_func=lambda i: f"{by_id[i].username} · {by_id[i].display_name}",
                           placeholder=tr("log.pick"), key="eu_pick")
        if uid is not None:
            u = by_id[uid]
            with st.form(f"edit_user_{uid}"):
                data = _user_form(f"eu{uid}", depts, u)
                if st.form_submit_button(tr("common.save"), type="primary"):
                    if attempt(uc.accounts.update_user, app, me, uid, data):
                        flash("success", tr("common.saved"))
                        st.rerun()
            with st.form(f"reset_pw_{uid}", clear_on_submit=True):
                pw = st.text_input(tr("admin.new_password"), type="password",
                                   help=tr("account.policy", n=uc.accounts.MIN_PASSWORD))
                if st.form_submit_button(tr("admin.reset_password")):
                    if done(uc.accounts.reset_password, app, me, uid, pw):
                        flash("success", tr("admin.reset_done"))
                        st.rerun()
            if st.button(tr("admin.clear_delay"), key=f"unlock_{uid}"):
                if done(uc.login_delays.unlock_user, app, me, u.username):
                    flash("success", tr("admin.delay_cleared"))
                    st.rerun()


def _reference(me: User, kind: str, items: list[Any], columns: list[str],
               blank: Any, form: Callable[[str, Any], Any],
               shown: dict[str, Callable[[Any], Any]] | None = None) -> None:
    """List, add and edit one kind of reference item; items are deactivated, never deleted.
    `shown`: how a column's value reads in the list (a department's name, not its id)."""
    app = kesu()
    cells = shown or {}
    if items:
        st.dataframe(pd.DataFrame({
            tr(f"field.{c}"): [cells.get(c, _cell)(getattr(x, c)) for x in items]
            for c in columns}), hide_index=True, width="stretch")
    else:
        st.info(tr("admin.empty"))
    with st.expander(tr("admin.add_item")):
        with st.form(f"add_{kind}", clear_on_submit=True):
            item = form(f"add_{kind}", blank)
            if st.form_submit_button(tr("common.add"), type="primary"):
                if attempt(uc.reference.save_reference, app, me, item):
                    flash("success", tr("common.saved"))
                    st.rerun()
    if items:
        with st.expander(tr("admin.edit_item")):
            by_id = {x.id: x for x in items}
            pick = st.selectbox(tr("admin.pick_item"), list(by_id), index=None,
                                format_func=lambda i: str(getattr(by_id[i], columns[0])),
                                placeholder=tr("log.pick"), key=f"pick_{kind}")
            if pick is not None:
                with st.form(f"edit_{kind}_{pick}"):
                    item = form(f"edit_{kind}_{pick}", by_id[pick])
                    if st.form_submit_button(tr("common.save"), type="primary"):
                        if attempt(uc.reference.save_reference, app, me,
                                   dataclasses.replace(item, id=pick)):
                            flash("success", tr("common.saved"))
                            st.rerun()


def _cell(v: Any) -> Any:
    if isinstance(v, bool):
        return tr("common.yes") if v else tr("common.no")
    if isinstance(v, (Market, Lang)):
        return tr(f"{'market' if isinstance(v, Market) else 'lang'}.{v.value}")
    return v


def _text(key: str, name: str, value: str, required: bool = False) -> str:
    return st.text_input(tr(f"field.{name}") + (" *" if required else ""), value=value,
                         max_chars=200, key=f"{key}_{name}")


def departments(me: User) -> None:
    people = {u.id: u.display_name for u in uc.accounts.list_active_users(kesu())}

    def form(key: str, d: Department) -> Department:
        code = _text(key, "code", d.code, True)
        name_zh = _text(key, "name_zh", d.name_zh, True)
        name_en = _text(key, "name_en", d.name_en, True)
        ids = list(people)
        head = st.selectbox(tr("field.head"), ids,
                            ids.index(d.head_id) if d.head_id in people else None,
                            format_func=lambda i: people[i], placeholder=tr("common.none"),
                            help=tr("field.head_help"), key=f"{key}_h")
        return Department(d.id, code, name_zh, name_en,
                          st.checkbox(tr("field.active"), d.active, key=f"{key}_a"), head)

    _reference(me, "dept", uc.reference.departments(kesu(), True),
               ["code", "name_zh", "name_en", "head_id", "active"], Department(0, "", "", ""),
               form, {"head_id": lambda v: people.get(v, "")})


def customers(me: User) -> None:
    def form(key: str, c: Customer) -> Customer:
        a, b = st.columns(2)
        with a:
            name = _text(key, "name", c.name, True)
            contact = _text(key, "contact", c.contact)
            email = _text(key, "email", c.email)
        with b:
            markets, langs = list(Market), list(Lang)
            market = st.selectbox(tr("field.market"), markets, markets.index(c.market),
                                  format_func=label("market"), key=f"{key}_m")
            language = st.selectbox(tr("field.language"), langs, langs.index(c.language),
                                    format_func=label("lang"), key=f"{key}_l")
            phone = _text(key, "phone", c.phone)
        address = st.text_area(tr("field.address"), c.address, max_chars=1000, key=f"{key}_ad")
        ids = list(depts)
        dept = st.selectbox(tr("field.customer_department"), ids,
                            ids.index(c.department_id) if c.department_id in depts else None,
                            format_func=lambda i: depts[i], placeholder=tr("common.none"),
                            help=tr("field.customer_department_help"), key=f"{key}_d")
        active = st.checkbox(tr("field.active"), c.active, key=f"{key}_a")
        return Customer(c.id, name.strip(), market, language, contact.strip(), phone.strip(),
                        email.strip(), address.strip(), active, dept)

    depts = {d.id: _dept_name(d) for d in uc.reference.departments(kesu(), True)}
    _reference(me, "cust", uc.reference.customers(kesu(), True),
               ["name", "market", "language", "contact", "phone", "email", "department_id",
                "active"],
               Customer(0, ""), form, {"department_id": lambda v: depts.get(v, "")})


def products(me: User) -> None:
    def form(key: str, p: Product) -> Product:
        code = _text(key, "code", p.code, True).strip()
        name = _text(key, "name", p.name, True).strip()
        name_en = st.text_input(tr("field.product_name_en"), value=p.name_en, max_chars=200,
                                key=f"{key}_name_en", help=tr("field.product_name_en_help"))
        return Product(p.id, code, name,
                       st.checkbox(tr("field.active"), p.active, key=f"{key}_a"), name_en.strip())

    _reference(me, "prod", uc.reference.products(kesu(), True),
               ["code", "name", "name_en", "active"], Product(0, "", ""), form)


def defect_types(me: User) -> None:
    def form(key: str, d: DefectType) -> DefectType:
        return DefectType(d.id, _text(key, "code", d.code, True).strip(),
                          _text(key, "name_zh", d.name_zh, True).strip(),
                          _text(key, "name_en", d.name_en, True).strip(),
                          st.checkbox(tr("field.active"), d.active, key=f"{key}_a"))

    _reference(me, "defect", uc.reference.defect_types(kesu(), True),
               ["code", "name_zh", "name_en", "active"], DefectType(0, "", "", ""), form)


def settings(me: User) -> None:
    cfg = uc.context.settings(kesu())
    with st.form("settings"):
        values = {
            "attachment_max_mb": st.number_input(
                tr("field.attachment_max_mb"), 1, 200, cfg.attachment_max_mb,
                help=tr("field.attachment_max_mb_help")),
            "case_attachments_max_mb": st.number_input(tr("field.case_attachments_max_mb"), 1,
                                                       10_000, cfg.case_attachments_max_mb),
            "image_max_megapixels": st.number_input(tr("field.image_max_megapixels"), 1, 80,
                                                    cfg.image_max_megapixels),
            "timezone": st.text_input(tr("field.timezone"), cfg.timezone),
            "severity_a_claim": st.text_input(tr("field.severity_a_claim"),
                                              str(cfg.severity_a_claim)),
            "severity_b_claim": st.text_input(tr("field.severity_b_claim"),
                                              str(cfg.severity_b_claim)),
            "dispatch_approval": st.selectbox(
                tr("admin.dispatch_approval"),
                ["a_only", "all", "none"],
                index=["a_only", "all", "none"].index(cfg.dispatch_approval),
                format_func=lambda x: tr("dispatch_approval." + x),
            ),
            "company_name": st.text_input(tr("field.company_name"), cfg.company_name, max_chars=200,
                                          help=tr("field.company_name_help")),
            "company_name_en": st.text_input(tr("field.company_name_en"), cfg.company_name_en,
                                             max_chars=200,
                                             help=tr("field.company_name_en_help")),
            "session_idle_minutes": st.number_input(tr("field.session_idle_minutes"), 5, 24 * 60,
                                                    cfg.session_idle_minutes),
            "session_lifetime_hours": st.number_input(tr("field.session_lifetime_hours"), 1,
                                                      24 * 30, cfg.session_lifetime_hours),
            "record_visibility": st.selectbox(
                tr("field.record_visibility"), ["all", "department"],
                index=["all", "department"].index(cfg.record_visibility),
                format_func=lambda x: tr("record_visibility." + x),
                help=tr("field.record_visibility_help"),
            ),
            "delegation_max_days": st.number_input(tr("field.delegation_max_days"), 1, 366,
                                                   cfg.delegation_max_days,
                                                   help=tr("field.delegation_max_days_help")),
            "first_meeting_days": st.number_input(tr("field.first_meeting_days"), 0, 30,
                                                  cfg.first_meeting_days,
                                                  help=tr("field.first_meeting_days_help")),
            "qa_manager_copies": st.checkbox(tr("field.qa_manager_copies"),
                                             cfg.qa_manager_copies,
                                             help=tr("field.qa_manager_copies_help")),
            "reopen_due_from": st.selectbox(
                tr("field.reopen_due_from"), ["reopening", "first"],
                index=["reopening", "first"].index(cfg.reopen_due_from)
                if cfg.reopen_due_from in ("reopening", "first") else 0,
                format_func=lambda x: tr("reopen_due_from." + x),
                help=tr("field.reopen_due_from_help"),
            ),
            "stats_default_period": st.selectbox(
                tr("field.stats_default_period"), list(STATS_PERIODS),
                index=STATS_PERIODS.index(cfg.stats_default_period)
                if cfg.stats_default_period in STATS_PERIODS else 1,
                format_func=lambda x: tr("stats.preset." + x),
                help=tr("field.stats_default_period_help"),
            ),
        }
        if st.form_submit_button(tr("common.save"), type="primary"):
            changed = {k: v for k, v in values.items() if str(v) != str(getattr(cfg, k))}
            if changed and done(uc.reference.set_settings, kesu(), me, changed):
                settings_changed()
                flash("success", tr("admin.settings_saved"))
                st.rerun()


def sessions(me: User) -> None:
    """Who is logged in where, and ending a login (a lost phone, a shared PC)."""
    st.subheader(tr("admin.sessions"))
    views = uc.sessions.open_sessions(kesu(), me)
    if not views:
        st.info(tr("admin.no_sessions"))
        return
    st.dataframe(pd.DataFrame({
        tr("field.username"): [v.username for v in views],
        tr("field.display_name"): [v.display_name for v in views],
        tr("admin.session_since"): [local(v.session.created_at) for v in views],
        tr("admin.session_seen"): [local(v.session.last_seen_at) for v in views],
        tr("admin.session_client"): [v.session.client for v in views],
        tr("admin.session_agent"): [v.session.agent[:60] for v in views],
    }), hide_index=True, width="stretch")
    by_id = {v.session.id: v for v in views}
    with st.form("end_session"):
        sid = st.selectbox(tr("admin.session_pick"), list(by_id), index=None,
                           format_func=lambda i: f"{by_id[i].username} · {by_id[i].display_name}"
                                                 f" · {local(by_id[i].session.last_seen_at)}",
                           placeholder=tr("log.pick"))
        if st.form_submit_button(tr("admin.session_end")) and sid is not None:
            if done(uc.sessions.end_session, kesu(), me, sid):
                flash("success", tr("admin.session_ended"))
                st.rerun()
