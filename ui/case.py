"""Shared pieces of a case: its facts, attachment gallery and timeline."""
from __future__ import annotations

import streamlit as st

from core.model import Attachment, Event, User
from core.services import ComplaintView
from ui.context import kesu, lang, local, tr

# Fields whose stored values are enum codes, translated with "<prefix>.<value>".
_ENUM_FIELDS = {"channel": "channel", "kind": "kind", "category": "category",
                "where_found": "where_found", "request": "request",
                "severity_proposed": "severity", "state": "state"}


def show_value(field: str, value: str | None) -> str:
    """A value from the event log as a user reads it."""
    if value is None or value == "":
        return tr("common.none")
    if field in _ENUM_FIELDS:
        return tr(f"{_ENUM_FIELDS[field]}.{value}")
    if field in ("sample_received",):
        return tr("common.yes") if value == "True" else tr("common.no")
    if field == "received_at":
        from datetime import datetime
        try:
            return local(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


def facts(v: ComplaintView) -> None:
    c = v.complaint
    dt = v.defect_type
    defect = (dt.name_en if lang() == "en" else dt.name_zh) if dt else None
    rows = [
        ("field.received_at", local(c.received_at)),
        ("field.received_by", v.received_by),
        ("field.channel", tr(f"channel.{c.channel.value}")),
        ("field.kind", tr(f"kind.{c.kind.value}")),
        ("field.category", tr(f"category.{c.category.value}")),
        ("field.customer", v.customer.name if v.customer else None),
        ("field.customer_ref", c.customer_ref),
        ("field.product_code", c.product_code),
        ("field.product_name", c.product_name),
        ("field.order_no", c.order_no),
        ("field.lot", c.lot),
        ("field.delivered_qty", c.delivered_qty),
        ("field.delivery_date", c.delivery_date),
        ("field.defective_qty", c.defective_qty),
        ("field.defect_type", defect),
        ("field.where_found", tr(f"where_found.{c.where_found.value}") if c.where_found else None),
        ("field.request", tr(f"request.{c.request.value}") if c.request else None),
        ("field.claimed_amount", f"{c.claimed_amount:,.2f}" if c.claimed_amount is not None
         else None),
        ("field.severity_proposed", tr(f"severity.{c.severity_proposed.value}")
         if c.severity_proposed else None),
        ("field.sample_received", tr("common.yes") if c.sample_received else tr("common.no")),
        ("field.sample_date", c.sample_date),
    ]
    cols = st.columns(3)
    for i, (key, value) in enumerate(rows):
        shown = tr("common.none") if value in (None, "") else str(value)
        cols[i % 3].text(f"{tr(key)}: {shown}")
    st.markdown(f"**{tr('field.description')}**")
    st.text(c.description)


def attachments(user: User, items: list[Attachment]) -> None:
    if not items:
        st.caption(tr("case.no_attachments"))
        return
    cols = st.columns(3)
    for i, att in enumerate(items):
        col = cols[i % 3]
        data = kesu().attachment(user, att.id)[1]
        if att.content_type.startswith("image/"):
            col.image(data, caption=att.filename, width="stretch")
        else:
            col.text(att.filename)
        col.download_button(f"{tr('common.download')} ({att.size // 1024 + 1} KB)", data,
                            file_name=att.filename, mime=att.content_type,
                            key=f"att_{att.id}", on_click="ignore")


def timeline(events: list[Event]) -> None:
    for e in reversed(events):
        with st.container(border=True):
            st.markdown(f"**{tr('action.' + e.action)}**")
            st.caption(tr("case.by", who=e.user_name, at=local(e.at)))
            for field, (old, new) in e.changes.items():
                st.text(tr("case.changed_from_to", field=tr("field." + field),
                           old=show_value(field, old), new=show_value(field, new)))
            if e.comment:
                st.text(e.comment)
