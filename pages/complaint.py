"""Complaint (detail): every fact, the attachments, the timeline; edit and cancel when allowed."""
from __future__ import annotations

import streamlit as st

from core.usecases.complaints import Upload
from ui.actions import dispositions, panel, progress
from ui.due import extensions, show_dues
from ui.case import attachments, decisions, facts, meetings, timeline
from ui.custom_fields import facts as custom_facts
from ui.meetings import prompt as first_meeting_prompt
from core.i18n import reason_text
from ui.context import attempt, flash, kesu, lang, local, md, me, show_flash, tr, trn
from ui.documents import documents
from ui.forms import complaint_fields, product_picker
from ui.tabs import lazy_tabs
from core import usecases as uc

user = me()
app = kesu()



def _open_number() -> None:
    """on_change of the number box: open the case and empty the box. (Deleting the key and
    rerunning left the number in the browser's box, which sent it again with the next click:
    the case reopened and that click's success message was lost.)"""
    number = str(st.session_state.get("case_number", "")).strip()
    found = attempt(uc.search.complaint_id_by_number, app, user, number) if number else None
    if found is not None:
        st.query_params["id"] = str(found)
        st.session_state["case_number"] = ""


def lookup() -> None:
    """Open a case by its number (KS2611-001)."""
    number = st.text_input(tr("case.pick"), key="case_number", placeholder="KS2611-001",
                           on_change=_open_number)
    if number.strip():
        st.warning(tr("case.not_found", number=md(number.strip())))


raw = st.query_params.get("id", "")
if not raw.isdigit():
    st.title(tr("nav.complaint"))
    st.info(tr("case.none"))
    lookup()
    st.page_link("pages/log.py", label=tr("common.back"))
    st.stop()

view = attempt(uc.complaints.complaint, app, user, int(raw))
if view is None:
    st.page_link("pages/log.py", label=tr("common.back"))
    st.stop()
c = view.complaint
assert c.id is not None  # a complaint read from the database has its id
case = uc.complaints.case_file(app, user, c.id)
st.title(tr("case.title", number=c.number))
st.markdown(f"**{tr('field.state')}: {tr('state.' + c.state.value)}**")
show_flash()
if c.cancel_reason:
    merged = c.merged_into_id is not None
    st.warning(tr("case.cancelled", reason=md(reason_text(c.cancel_reason, lang(), merged))))
if c.on_hold_since:
    st.warning(tr("case.on_hold", reason=md(c.hold_reason), since=local(c.on_hold_since)))
progress(case, view.events)
dues = attempt(uc.timing.due_times, app, user, c.id) or []
show_dues(dues)
extensions(user, case, dues)
panel(user, case)
first_meeting_prompt(user, case)

# only the open tab runs and is drawn (issue #14); it stays open after a save made on it (the
# timeline's count in its label changes) and a language switch. One per case: another case
# opens on its facts.
tabs = lazy_tabs(f"case_tab_{c.id}", [
    ("facts", tr("case.facts")), ("records", tr("case.records")),
    ("files", f"{tr('case.attachments')} ({len(view.attachments)})"),
    ("timeline", f"{tr('case.timeline')} ({len(view.events)})"),
    ("documents", tr("doc.section"))])
if tabs["records"].open:
    with tabs["records"]:
        decisions(case)
        dispositions(user, case)
        meetings(user, case)
if tabs["facts"].open:
    with tabs["facts"]:
        facts(view)
        custom_facts(c.id)
        # the edit form is drawn once the expander is opened (a rerun): folded, it was ~5 KB
        # sent with every view of the case (issue #14)
        edit = st.expander(tr("case.edit"), key=f"case_edit_{c.id}", on_change="rerun") \
            if view.can_edit else None
        if edit is not None and edit.open:
            with edit:
                products = uc.reference.products(app)
                product_picker(f"edit{c.id}v{c.version}", products)  # fills 料号/品名 at once
                with st.form("edit_case"):
                    draft = complaint_fields(f"edit{c.id}v{c.version}",
                                             uc.reference.customers(app, True), products,
                                             uc.reference.defect_types(app, True), c)
                    comment = st.text_input(tr("case.edit_comment"), max_chars=500)
                    if st.form_submit_button(tr("common.save"), type="primary"):
                        if attempt(uc.complaints.update_complaint, app, user, c.id, c.version,
                                   draft, comment):
                            flash("success", tr("common.saved"))
                            st.rerun()
if tabs["files"].open:
    with tabs["files"]:
        attachments(user, view.attachments)
        if view.can_edit:
            with st.form("add_files", clear_on_submit=True):
                cfg = uc.context.settings(app)
                files = st.file_uploader(tr("case.add_attachments"), accept_multiple_files=True,
                                         type=["jpg", "jpeg", "png", "pdf", "xlsx", "docx"],
                                         help=tr("upload.help", mb=cfg.attachment_max_mb,
                                                 case_mb=cfg.case_attachments_max_mb,
                                                 mp=cfg.image_max_megapixels),
                                         max_upload_size=cfg.attachment_max_mb)
                if st.form_submit_button(tr("case.upload")):
                    n = attempt(uc.complaints.add_attachments, app, user, c.id,
                                [Upload(f.name, f.getvalue()) for f in files or []])
                    if n:
                        flash("success", trn("case.uploaded", n))
                        st.rerun()
if tabs["timeline"].open:
    with tabs["timeline"]:
        timeline(view.events)
if tabs["documents"].open:
    with tabs["documents"]:
        documents(user, c.id)
st.divider()
lookup()
st.page_link("pages/log.py", label=tr("common.back"))
