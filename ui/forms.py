"""The complaint form's widgets, shared by the Log page (new) and the Complaint page (edit)."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import streamlit as st

from core.model import (
    Category, Channel, Complaint, Customer, DefectType, Kind, Product, Request, Severity,
    WhereFound,
)
from core.rules.complaint_fields import conditionally_required
from core.usecases.complaints import ComplaintDraft
from ui import custom_fields
from ui.context import kesu, label, now_local, settings_tz, today_local, tr
from core import usecases as uc


def _index(options: list[Any], value: Any) -> int | None:
    return options.index(value) if value in options else None


def complaint_fields(key: str, customers: list[Customer], products: list[Product],
                     defects: list[DefectType], c: Complaint | None = None) -> ComplaintDraft:
    """Render every field of docs/procedure.md §3 (inside a form) and return what the user entered.

    Essentials come first so a clerk can log while the customer is on the phone.
    """
    cfg = uc.context.settings(kesu())
    tz = settings_tz()
    cust_ids = [x.id for x in customers]
    cust_names = {x.id: x.name for x in customers}
    st.markdown(f"**{tr('log.essentials')}**")
    a, b = st.columns(2)
    customer_id = a.selectbox(tr("field.customer") + " *", cust_ids,
                              index=_index(cust_ids, c.customer_id if c else None),
                              format_func=lambda i: cust_names.get(i, "?"),
                              placeholder=tr("log.pick"), key=f"{key}_customer")
    kinds = list(Kind)
    kind = b.radio(tr("field.kind") + " *", kinds, index=kinds.index(c.kind) if c else 0,
                   format_func=label("kind"), horizontal=True, key=f"{key}_kind")
    channels = list(Channel)
    channel = a.selectbox(tr("field.channel") + " *", channels,
                          index=channels.index(c.channel) if c else 0,
                          format_func=label("channel"), key=f"{key}_channel")
    cats = list(Category)
    category = b.radio(tr("field.category"), cats, index=cats.index(c.category) if c else 0,
                       format_func=label("category"), horizontal=True, key=f"{key}_category")
    received = c.received_at.astimezone(tz) if c else now_local()
    r1, r2 = a.columns(2)
    rdate = r1.date_input(tr("field.received_date"), value=received.date(),
                          max_value=today_local(), key=f"{key}_rdate")
    rtime = r2.time_input(tr("field.received_time"), value=received.time().replace(
        second=0, microsecond=0), step=60, key=f"{key}_rtime")
    customer_ref = b.text_input(tr("field.customer_ref"), value=c.customer_ref if c else "",
                                max_chars=100, key=f"{key}_cref")
    description = st.text_area(tr("field.description") + " *", value=c.description if c else "",
                               max_chars=5000, height=110, key=f"{key}_desc")

    st.markdown(f"**{tr('log.product')}**")
    a, b, d = st.columns(3)
    needed = required_fields(key, c)
    # no value=: the product pick writes these two keys (Streamlit warns about both)
    st.session_state.setdefault(f"{key}_pcode", c.product_code if c else "")
    st.session_state.setdefault(f"{key}_pname", c.product_name if c else "")
    product_code = b.text_input(_starred("field.product_code", "product_code", needed),
                                max_chars=100, help=tr("log.quality_required_help"),
                                key=f"{key}_pcode")
    product_name = d.text_input(tr("field.product_name"), max_chars=200, key=f"{key}_pname")
    order_no = a.text_input(tr("field.order_no"), value=c.order_no if c else "", max_chars=100,
                            key=f"{key}_order")
    lot = b.text_input(tr("field.lot"), value=c.lot if c else "", max_chars=100, key=f"{key}_lot")
    delivery_date = d.date_input(tr("field.delivery_date"), value=c.delivery_date if c else None,
                                 max_value=today_local(), key=f"{key}_ddate")
    delivered = a.number_input(tr("field.delivered_qty"), min_value=0, step=1,
                               value=c.delivered_qty if c else None, key=f"{key}_dqty")
    defective = b.number_input(tr("field.defective_qty"), min_value=0, step=1,
                               value=c.defective_qty if c else None, key=f"{key}_fqty")
    defect_ids = [x.id for x in defects]
    defect_names = {x.id: (x.name_zh if st.session_state.get("lang") != "en" else x.name_en)
                    for x in defects}
    defect_type_id = d.selectbox(_starred("field.defect_type", "defect_type", needed),
                                 defect_ids,
                                 index=_index(defect_ids, c.defect_type_id if c else None),
                                 format_func=lambda i: defect_names.get(i, "?"),
                                 help=tr("log.quality_required_help"),
                                 placeholder=tr("log.pick"), key=f"{key}_defect")
    wheres = list(WhereFound)
    where_found = a.selectbox(tr("field.where_found"), wheres,
                              index=_index(wheres, c.where_found if c else None),
                              format_func=label("where_found"), placeholder=tr("log.pick"),
                              key=f"{key}_where")

    st.markdown(f"**{tr('log.problem')}**")
    a, b, d = st.columns(3)
    reqs = list(Request)
    request = a.selectbox(tr("field.request"), reqs, index=_index(reqs, c.request if c else None),
                          format_func=label("request"), placeholder=tr("log.pick"),
                          key=f"{key}_request")
    claimed = b.text_input(tr("field.claimed_amount"),
                           value=str(c.claimed_amount) if c and c.claimed_amount is not None
                           else "", max_chars=20, key=f"{key}_amount", placeholder="0.00")
    sevs = list(Severity)
    severity = d.selectbox(
        tr("field.severity_proposed"), sevs,
        index=_index(sevs, c.severity_proposed if c else None), format_func=label("severity"),
        placeholder=tr("log.pick"), key=f"{key}_sev",
        help=tr("severity.help", a=f"{cfg.severity_a_claim:,.0f}",
                b=f"{cfg.severity_b_claim:,.0f}"))
    sample = a.checkbox(tr("field.sample_received"), value=c.sample_received if c else False,
                        key=f"{key}_sample")
    sample_date = b.date_input(tr("field.sample_date"), value=c.sample_date if c else None,
                               max_value=today_local(), key=f"{key}_sdate")
    safety = d.checkbox(tr("field.safety_risk"), value=c.safety_risk if c else False,
                        key=f"{key}_safety")
    severity_note = st.text_input(tr("field.severity_note"),
                                  value=c.severity_note if c else "", max_chars=500,
                                  help=tr("field.severity_note_help"), key=f"{key}_sevnote")

    custom = custom_fields.inputs(key, kind, c)  # the factory's own fields

    received_at = datetime.combine(rdate or received.date(), rtime or time(0), tz)
    if c and received_at == received.replace(second=0, microsecond=0):
        received_at = c.received_at  # untouched: keep the stored seconds (no phantom change)
    return ComplaintDraft(
        customer_id=customer_id, kind=kind, channel=channel, description=description,
        category=category, received_at=received_at, customer_ref=customer_ref,
        product_code=product_code, product_name=product_name, order_no=order_no, lot=lot,
        delivered_qty=_int(delivered), delivery_date=_day(delivery_date),
        defective_qty=_int(defective), defect_type_id=defect_type_id, where_found=where_found,
        request=request, claimed_amount=claimed, severity_proposed=severity,
        sample_received=bool(sample), sample_date=_day(sample_date), safety_risk=bool(safety),
        severity_note=severity_note, custom=custom)


def product_picker(key: str, products: list[Product]) -> None:
    """Pick a product from the list: its 料号 and 品名 are filled in at once (a callback, so
    outside the form of `complaint_fields(key, …)`, whose fields it fills)."""
    prod_ids = [p.id for p in products]
    prod_names = {p.id: f"{p.code} · {p.name}" for p in products}
    st.selectbox(tr("log.product_pick"), prod_ids, index=None,
                 format_func=lambda i: prod_names.get(i, "?"), help=tr("log.product_pick_help"),
                 placeholder=tr("log.pick"), key=f"{key}_prodpick", on_change=_fill_product,
                 args=(key, {p.id: p for p in products}))


def _fill_product(key: str, products: dict[int, Product]) -> None:
    chosen = products.get(st.session_state.get(f"{key}_prodpick"))  # type: ignore[arg-type]
    if chosen is not None:
        st.session_state[f"{key}_pcode"] = chosen.code
        st.session_state[f"{key}_pname"] = chosen.name


def required_fields(key: str, c: Complaint | None) -> frozenset[str]:
    """The fields the kind and category chosen so far make required (a quality complaint names
    its product and defect): the form's stars follow what the check will ask for."""
    kind = st.session_state.get(f"{key}_kind", c.kind if c else list(Kind)[0])
    category = st.session_state.get(f"{key}_category", c.category if c else list(Category)[0])
    return conditionally_required(kind, category)  # the edit checks as the register


def _starred(label_key: str, field: str, needed: frozenset[str]) -> str:
    return tr(label_key) + (" *" if field in needed else "")


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def _day(v: Any) -> date | None:
    return v if isinstance(v, date) else None
