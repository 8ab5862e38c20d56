"""Log (登记): register a complaint while the customer is on the phone; the register below."""
from __future__ import annotations

import streamlit as st

from core.model import Customer, Lang, Market
from core.usecases.complaints import CASE_ROLES
from core.usecases.complaints import Upload
from ui.context import (
    attempt, flash, form_saved, fresh_form, kesu, label, md, me, show_flash, tr,
)
from ui.forms import complaint_fields, product_picker
from ui.register import open_picked, register
from core import usecases as uc

open_picked()  # a case picked in the register opens before this page draws again
user = me()
app = kesu()
# The browser keeps a widget's value while its id stays the same, even after its session-state
# key is deleted: a new key prefix after each save gives fresh, empty widgets (log_customer,
# log_files, ... until the first save; then log_g1_customer, ...).
gen = int(st.session_state.get("kesu_log_gen", 0))
form = f"log_g{gen}" if gen else "log"
st.title(tr("log.title"))
show_flash()
if not user.has(*CASE_ROLES):  # admin is a system role: no case work (docs/procedure.md §2)
    st.info(tr("log.no_case_role"))
    register(user)
    st.stop()
st.caption(tr("log.caption"))

with st.expander(tr("log.new_customer_title")):
    nc = fresh_form("new_customer")  # a refused save keeps what was typed
    with st.form(nc):
        a, b = st.columns(2)
        # typed lists: mypy matches an inline list(Market) to streamlit's empty-options
        # overload, whose result is None
        markets: list[Market] = list(Market)
        langs: list[Lang] = list(Lang)
        name = a.text_input(tr("field.name") + " *", max_chars=200, key=f"{nc}_name")
        market = b.selectbox(tr("field.market"), markets, format_func=label("market"),
                             key=f"{nc}_market")
        contact = a.text_input(tr("field.contact"), max_chars=200, key=f"{nc}_contact")
        phone = b.text_input(tr("field.phone"), max_chars=200, key=f"{nc}_phone")
        email = a.text_input(tr("field.email"), max_chars=200, key=f"{nc}_email")
        language = b.selectbox(tr("field.language"), langs, format_func=label("lang"),
                               key=f"{nc}_lang")
        if st.form_submit_button(tr("common.add")):
            new_id = attempt(uc.reference.save_reference, app, user,
                             Customer(0, name.strip(), market, language, contact.strip(),
                                      phone.strip(), email.strip()))
            if new_id:
                form_saved("new_customer")
                st.session_state[f"{form}_customer"] = new_id
                flash("success", tr("log.customer_added", name=md(name.strip())))
                st.rerun()

cfg = uc.context.settings(app)
products = uc.reference.products(app)
product_picker(form, products)  # fills 料号/品名 at once: a callback, outside the form
with st.form("log_form"):
    draft = complaint_fields(form, uc.reference.customers(app), products,
                             uc.reference.defect_types(app))
    files = st.file_uploader(tr("field.attachments"), accept_multiple_files=True,
                             type=["jpg", "jpeg", "png", "pdf", "xlsx", "docx"],
                             help=tr("log.attachments_help", mb=cfg.attachment_max_mb),
                             max_upload_size=cfg.attachment_max_mb, key=f"{form}_files")
    above_save = st.container()  # the duplicate warning and the errors: above the button
    confirm = False
    if st.session_state.get("log_dups_seen"):  # only after a duplicate warning
        confirm = st.checkbox(tr("log.dup_confirm"), key=f"{form}_dup_ok")
    submitted = st.form_submit_button(tr("log.submit"), type="primary")


def show_duplicates() -> None:
    with above_save:
        st.warning(tr("log.dup_need_confirm"))
        st.markdown(f"**{tr('log.dup_title')}**")
        for d in st.session_state.get("log_dups_list", []):
            st.page_link("pages/complaint.py", label=tr(f"log.dup_{d.reason}", number=d.number),
                         query_params={"id": str(d.id)})


if submitted:
    with above_save:
        dups = attempt(uc.complaints.find_duplicates, app, user, draft) or []
    if dups and not confirm:
        st.session_state["log_dups_list"] = dups
        if not st.session_state.get("log_dups_seen"):
            st.session_state["log_dups_seen"] = True
            st.rerun()  # show the confirmation box inside the form
        show_duplicates()
    else:
        uploads = [Upload(f.name, f.getvalue()) for f in files or []]
        with above_save:  # every problem at once, above the button (typed values stay)
            case = attempt(uc.complaints.register_complaint, app, user, draft, uploads)
        if case is not None:
            for k in [k for k in st.session_state if str(k).startswith("log_")]:
                del st.session_state[k]
            st.session_state["kesu_log_gen"] = st.session_state.get("kesu_log_gen", 0) + 1
            flash("success", tr("log.saved", number=case.number))
            st.rerun()
elif st.session_state.get("log_dups_seen"):
    show_duplicates()

st.divider()
register(user)
