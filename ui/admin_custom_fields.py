"""Admin → Custom fields: the fields a factory adds to its complaints (issue #12 item 9).
A field is removed by hiding it (its data stays) and can be brought back."""
from __future__ import annotations

from dataclasses import replace
import pandas as pd
import streamlit as st

from core.errors import InvalidInput
from core.model import CustomField, FieldType, Kind, State, User
from core.rules import custom_fields as rules
from ui.context import attempt, done, error_message, flash, kesu, label, md, tr
from ui.custom_fields import name
from core import usecases as uc


def _kind(k: Kind | None) -> str:
    return tr("custom.every_kind") if k is None else tr(f"kind.{k.value}")


def _state(s: State | None) -> str:
    return tr("custom.never_required") if s is None else tr(f"state.{s.value}")


def _form(key: str, f: CustomField | None) -> CustomField | None:
    """The definition as entered (None: the options cannot be read — said on the page)."""
    a, b = st.columns(2)
    field_key = a.text_input(tr("field.custom_key") + " *", value=f.key if f else "",
                             max_chars=40, disabled=f is not None, help=tr("custom.key_help"),
                             key=f"{key}_key")
    types = list(FieldType)
    kind_type = b.selectbox(tr("field.custom_type") + " *", types,
                            index=types.index(f.type) if f else 0,
                            format_func=label("field_type"), key=f"{key}_type")
    zh = a.text_input(tr("field.label_zh") + " *", value=f.label_zh if f else "",
                      max_chars=rules.MAX_LABEL, key=f"{key}_zh")
    en = b.text_input(tr("field.label_en") + " *", value=f.label_en if f else "",
                      max_chars=rules.MAX_LABEL, key=f"{key}_en")
    kinds: list[Kind | None] = [None, *Kind]
    kind = a.selectbox(tr("field.custom_kind"), kinds, index=kinds.index(f.kind) if f else 0,
                       format_func=_kind, key=f"{key}_kind")
    states: list[State | None] = [None, *rules.ORDER]
    required = b.selectbox(tr("field.required_from"), states,
                           index=states.index(f.required_from) if f else 0,
                           format_func=_state, key=f"{key}_req")
    text = st.text_area(tr("field.custom_options"), value=rules.options_text(f) if f else "",
                        max_chars=5000, height=110, help=tr("custom.options_help"),
                        key=f"{key}_options")
    options, problems = rules.parse_options(text)
    if problems and kind_type == FieldType.CHOICE:
        first, *rest = (InvalidInput(f"err.{p.key}", field="custom_options", **p.params)
                        for p in problems)
        st.session_state[f"{key}_problem"] = error_message(
            InvalidInput(first.key, others=rest, **first.params))
        return None
    st.session_state.pop(f"{key}_problem", None)
    return CustomField(f.id if f else None, field_key, zh, en, kind_type, options, kind,
                       required, f.position if f else 0, f.active if f else True)


def _save(me: User, key: str, f: CustomField | None) -> None:
    if f is None:
        st.error(st.session_state.get(f"{key}_problem", tr("err.invalid_input")))
        return
    if attempt(uc.custom_fields.save_field, kesu(), me, f):
        st.session_state["cf_gen"] = int(st.session_state.get("cf_gen", 0)) + 1
        flash("success", tr("common.saved"))
        st.rerun()


def editor(me: User) -> None:
    st.caption(tr("admin.custom_fields_help"))
    fields = uc.custom_fields.field_definitions(kesu(), include_inactive=True)
    if fields:
        st.dataframe(pd.DataFrame({
            tr("field.custom_key"): [f.key for f in fields],
            tr("field.label_zh"): [f.label_zh for f in fields],
            tr("field.label_en"): [f.label_en for f in fields],
            tr("field.custom_type"): [tr(f"field_type.{f.type.value}") for f in fields],
            tr("field.custom_kind"): [_kind(f.kind) for f in fields],
            tr("field.required_from"): [_state(f.required_from) for f in fields],
            tr("field.custom_options"): ["、".join(rules.shown(f, o.key, "zh") for o in f.options)
                                         if f.options else "" for f in fields],
            tr("field.active"): [tr("common.yes") if f.active else tr("common.no")
                                 for f in fields],
        }), hide_index=True, width="stretch")
    else:
        st.info(tr("admin.custom_none"))
    gen = int(st.session_state.get("cf_gen", 0))  # a fresh, empty form after each save
    with st.expander(tr("admin.custom_new"), expanded=not fields):
        with st.form(f"cf_new_{gen}"):
            new = _form(f"cf_new_{gen}", None)
            if st.form_submit_button(tr("common.add"), type="primary"):
                _save(me, f"cf_new_{gen}", new)
    if not fields:
        return
    with st.expander(tr("admin.custom_edit")):
        by_id = {f.id or 0: f for f in fields}
        pick = st.selectbox(tr("admin.pick_item"), list(by_id), index=None,
                            format_func=lambda i: f"{by_id[i].key} · {name(by_id[i])}",
                            placeholder=tr("log.pick"), key="cf_pick")
        if pick is None:
            return
        f = by_id[pick]
        with st.form(f"cf_edit_{pick}_{gen}"):
            edited = _form(f"cf_edit_{pick}_{gen}", f)
            if st.form_submit_button(tr("common.save"), type="primary"):
                _save(me, f"cf_edit_{pick}_{gen}", edited and replace(edited, key=f.key))
        if f.active and st.button(tr("custom.remove"), key=f"cf_remove_{pick}"):
            if done(uc.custom_fields.set_field_active, kesu(), me, pick, False):
                flash("success", tr("custom.removed", name=md(name(f))))
                st.rerun()
        if not f.active and st.button(tr("custom.restore"), key=f"cf_restore_{pick}"):
            if done(uc.custom_fields.set_field_active, kesu(), me, pick, True):
                flash("success", tr("custom.restored", name=md(name(f))))
                st.rerun()
