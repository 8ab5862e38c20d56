"""The Documents section of the Complaint page: the case documents (content from
core/documents.py) offered for download as PDF (ui/pdf.py) and XLSX (ui/xlsx.py).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

import streamlit as st

from core.documents import Document, plain_text
from core.model import User
from ui.context import attempt, kesu, lang, tr
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
    files are drawn only when a button is clicked (Streamlit's deferred download)."""
    st.subheader(tr("doc.section"))
    st.caption(tr("doc.intro"))
    lang_key, company_key = f"doc_letter_lang_{complaint_id}", f"doc_company_{complaint_id}"
    docs = attempt(uc.documents.case_documents, kesu(), user, complaint_id, lang(),
                   st.session_state.get(lang_key), st.session_state.get(company_key))
    if docs is None:
        return
    a, b = st.columns(2)
    a.radio(tr("doc.letter_lang"), ["zh", "en"], key=lang_key, horizontal=True,
            index=["zh", "en"].index(docs.letter_lang), format_func=lambda x: tr(f"lang.{x}"))
    b.text_input(tr("doc.company"), value=docs.company, key=company_key, max_chars=200)
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
