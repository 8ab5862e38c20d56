"""The Documents section of the Complaint page: the case documents (content from
core/documents.py) offered for download as PDF (ui/pdf.py) and XLSX (ui/xlsx.py).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

import streamlit as st

from core.documents import CaseDocuments, Document, letter_body, plain_text
from core.model import Role, User
from core.rules.complaint_fields import MAX_TEXT
from ui.context import attempt, flash, kesu, lang, tr
from ui.pdf import to_pdf
from ui.xlsx import to_xlsx
from core import usecases as uc

log = logging.getLogger("kesu")

PDF_MIME = "application/pdf"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def documents(user: User, complaint_id: int) -> None:
    """文档: the handling form and 8D report (PDF, XLSX) in the user's language and the reply
    letter (PDF, and its text to copy) in the customer's language or the one chosen here.

    The content is read now (one service call, which checks the user may see the case); the
    files are drawn only when a button is clicked (Streamlit's deferred download). Drawn in
    the Complaint page's tab 文档, the tab's label its heading."""
    st.caption(tr("doc.intro"))
    lang_key = f"doc_letter_lang_{complaint_id}"
    # the company signing, per letter language (the English letter: the English name)
    company_key = f"doc_company_{complaint_id}_{st.session_state.get(lang_key) or ''}"
    docs = attempt(uc.documents.case_documents, kesu(), user, complaint_id, lang(),
                   st.session_state.get(lang_key), st.session_state.get(company_key))
    if docs is None:
        return
    a, b = st.columns(2)
    a.radio(tr("doc.letter_lang"), ["zh", "en"], key=lang_key, horizontal=True,
            index=["zh", "en"].index(docs.letter_lang), format_func=lambda x: tr(f"lang.{x}"))
    b.text_input(tr("doc.company"), value=docs.company, key=company_key, max_chars=200)
    _summary(user, complaint_id, docs)
    _letter(user, complaint_id, docs)
    for col, (doc, formats) in zip(st.columns(3), ((docs.form, ("PDF", "XLSX")),
                                                  (docs.report, ("PDF", "XLSX")),
                                                  (docs.letter, ("PDF",))), strict=True):
        for fmt in formats:
            col.download_button(
                tr("doc.download", doc=_short_title(doc), fmt=fmt), _deferred(doc, fmt),
                file_name=f"{doc.filename}.{fmt.lower()}",
                mime=PDF_MIME if fmt == "PDF" else XLSX_MIME,
                key=f"doc_{doc.kind}_{fmt}_{complaint_id}", on_click="ignore", width="stretch")
    with st.expander(tr("doc.letter_text")):
        st.code(letter_text(docs.letter), language=None, wrap_lines=True)


def _summary(user: User, complaint_id: int, docs: CaseDocuments) -> None:
    """对客户的说明: what the letter tells the customer of the cause. QA writes it from the
    root cause; without it the letter says the findings are pending."""
    with st.expander(tr("doc.customer_summary"), expanded=not docs.customer_summary):
        st.caption(tr("doc.customer_summary_help"))
        if not user.has(Role.QA, Role.MANAGEMENT):
            st.text(docs.customer_summary or tr("doc.customer_summary_none"))
            return
        with st.form(f"doc_summary_{complaint_id}"):
            text = st.text_area(tr("field.customer_summary"), value=docs.customer_summary,
                                max_chars=MAX_TEXT, height=120,
                                key=f"doc_summary_text_{complaint_id}")
            if st.form_submit_button(tr("common.save"), type="primary") and attempt(
                    uc.documents.set_customer_summary, kesu(), user, complaint_id,
                    docs.version, text) is not None:
                flash("success", tr("common.saved"))
                st.rerun()


def _letter(user: User, complaint_id: int, docs: CaseDocuments) -> None:
    """The reply letter's text, editable before its PDF is made; kept with the case. Its
    contents are drawn once the expander is opened (a rerun): the letter's text is sent once,
    in the copyable block below, until the user asks to edit it (issue #14)."""
    edit = st.expander(tr("doc.letter_edit"), key=f"doc_letter_open_{complaint_id}",
                       on_change="rerun")
    if not edit.open:
        return
    with edit:
        st.caption(tr("doc.letter_edit_help"))
        if docs.letter_edited:
            st.caption(tr("doc.letter_edited"))
        if not user.has(Role.SALES, Role.QA, Role.MANAGEMENT):
            st.text(letter_body(docs.letter))
            return
        with st.form(f"doc_letter_{complaint_id}_{docs.letter_lang}"):
            text = st.text_area(tr("doc.letter_body"), value=letter_body(docs.letter),
                                max_chars=MAX_TEXT, height=420)
            a, b = st.columns(2)
            save = a.form_submit_button(tr("doc.letter_save"), type="primary")
            again = b.form_submit_button(tr("doc.letter_regenerate"),
                                         disabled=not docs.letter_edited)
        if (save or again) and attempt(uc.documents.save_letter, kesu(), user, complaint_id,
                                       docs.version, docs.letter_lang,
                                       "" if again else text) is not None:
            flash("success", tr("doc.letter_saved" if save else "doc.letter_regenerated"))
            st.rerun()


def _short_title(doc: Document) -> str:
    return tr({"form": "doc.form", "8d": "doc.8d", "letter": "doc.letter"}[doc.kind])


def _deferred(doc: Document, fmt: str) -> Callable[[], bytes]:
    """The file, drawn when its button is clicked (in Streamlit's download thread: no st.*)."""
    def draw() -> bytes:
        started = time.perf_counter()
        data = to_pdf(doc) if fmt == "PDF" else to_xlsx(doc)
        log.info("document %s.%s drawn in %.0f ms", doc.filename, fmt.lower(),
                 (time.perf_counter() - started) * 1000)
        return data
    return draw


def letter_text(doc: Document) -> str:
    return plain_text(doc)
