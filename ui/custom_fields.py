"""The fields of the factory's own (issue #12 item 9) on the forms, the Complaint page, the
register and the timeline; the Admin editor is ui/admin_custom_fields.py."""
from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from core.model import Complaint, CustomField, FieldType, Kind, RegisterRow, State
from core.rules import custom_fields as rules
from ui.context import kesu, lang, me, tr
from core import usecases as uc


def name(f: CustomField) -> str:
    return rules.label(f, lang())


def text_of(f: CustomField, value: Any) -> str:
    """A value in words in the user's language; "" when empty."""
    return rules.shown(f, value, lang())


def inputs(key: str, kind: Kind, c: Complaint | None = None) -> tuple[tuple[str, Any], ...]:
    """A widget per field a case of `kind` shows (inside the form), filled with the case's
    values; what was entered, by field key (checked by the use case)."""
    fields = rules.for_kind(uc.custom_fields.field_definitions(kesu()), kind)
    if not fields:
        return ()
    kept: dict[str, Any] = {}
    if c is not None and c.id is not None:
        kept = {v.field.key: v.value for v in uc.custom_fields.case_values(kesu(), me(), c.id)}
    state = c.state if c is not None else State.REGISTERED
    st.markdown(f"**{tr('custom.section')}**")
    cols = st.columns(3)
    out: list[tuple[str, Any]] = []
    for i, f in enumerate(fields):
        with cols[i % 3]:
            out.append((f.key, _widget(f"{key}_cf_{f.key}", f, kept.get(f.key),
                                       rules.reached(state, f.required_from))))
    return tuple(out)


def _widget(key: str, f: CustomField, value: Any, required: bool) -> Any:
    shown = name(f) + (" *" if required else "")
    help_ = (tr("custom.required_help", state=f.required_from.value)
             if f.required_from is not None else None)
    if f.type == FieldType.DATE:
        return st.date_input(shown, value=value, min_value=date(1900, 1, 1),
                             max_value=date(2999, 12, 31), help=help_, key=key)
    if f.type == FieldType.CHOICE:
        keys = [o.key for o in f.options]
        return st.selectbox(shown, keys, index=keys.index(value) if value in keys else None,
                            format_func=lambda k: text_of(f, k), placeholder=tr("log.pick"),
                            help=help_, key=key)
    if f.type == FieldType.YES_NO:
        return st.selectbox(shown, [True, False], index=None if value is None else
                            (0 if value else 1), format_func=lambda v: text_of(f, v),
                            placeholder=tr("log.pick"), help=help_, key=key)
    return st.text_input(shown, value="" if value is None else str(value),
                         max_chars=rules.MAX_VALUE, help=help_, key=key)


def facts(complaint_id: int) -> None:
    """The case's own fields, under its facts (nothing when the factory has none)."""
    values = uc.custom_fields.case_values(kesu(), me(), complaint_id)
    if not values:
        return
    st.markdown(f"**{tr('custom.section')}**")
    cols = st.columns(3)
    for i, v in enumerate(values):
        cols[i % 3].text(f"{name(v.field)}: {text_of(v.field, v.value) or tr('common.none')}")


def register_filter(fields: list[CustomField] | None = None) -> tuple[tuple[int, str], ...]:
    """A filter of the register by one custom field's value (none when there are no fields);
    a value that is not of the field's type filters nothing and says so. `fields`: the
    active fields if the caller has read them already."""
    if fields is None:
        fields = uc.custom_fields.field_definitions(kesu())
    if not fields:
        return ()
    by_id = {f.id or 0: f for f in fields}
    a, b = st.columns([2, 3])
    fid = a.selectbox(tr("custom.filter"), list(by_id), index=None,
                      format_func=lambda i: name(by_id[i]), placeholder=tr("common.all"),
                      key="reg_cf")
    if fid is None:
        return ()
    f = by_id[fid]
    with b:
        raw = _widget(f"reg_cf_value_{fid}", f, None, False) if f.type in (
            FieldType.CHOICE, FieldType.YES_NO, FieldType.DATE) else st.text_input(
            tr("custom.filter_value"), key=f"reg_cf_value_{fid}", max_chars=100)
    try:
        value = rules.parse(f, raw)
    except ValueError as e:
        st.warning(tr(f"err.{e}", field=rules.labels(f), n=rules.MAX_VALUE))
        return ()
    return ((fid, value),) if value else ()


def columns(rows: list[RegisterRow],
            fields: list[CustomField] | None = None) -> dict[str, list[str]]:
    """The register's columns of the active fields (`fields` if read already), values in
    words."""
    if fields is None:
        fields = uc.custom_fields.field_definitions(kesu())
    return {name(f): [text_of(f, r.custom.get(f.id or 0, "")) for r in rows] for f in fields}


def by_event_key() -> dict[str, CustomField]:
    """Every field, removed ones too, by the name its changes carry in the timeline."""
    return {rules.event_key(f): f for f in uc.custom_fields.field_definitions(kesu(), True)}
