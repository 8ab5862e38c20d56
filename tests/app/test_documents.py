"""pages/complaint.py → the Documents section: the handling form and 8D report (PDF, XLSX) and
the reply letter (PDF, and its text to copy) in the customer's language, switchable."""
from __future__ import annotations

from typing import Any

from core.usecases.context import Context
from tests.app.helpers import en, open_case_tab, page_text, widget, zh
from tests.app.test_complaint import _new_case, _open, _user
from core import usecases as uc

DOWNLOADS = (("doc.form", "PDF"), ("doc.form", "XLSX"), ("doc.8d", "PDF"), ("doc.8d", "XLSX"),
             ("doc.letter", "PDF"))


def _labels(at: Any) -> list[str]:
    return [b.label for b in at.get("download_button")]


def _letter(at: Any) -> str:
    (block,) = [c.value for c in at.code]
    return str(block)


def test_the_complaint_page_offers_every_document_in_the_users_language(ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    number = uc.complaints.complaint(ref_db, _user(ref_db, "admin"), case_id).complaint.number
    at = _open(case_id)
    assert _labels(at) == []  # the documents are read and offered in their own tab (issue #14)
    open_case_tab(at, "doc.section")
    assert _labels(at) == [zh("doc.download", doc=zh(d), fmt=f) for d, f in DOWNLOADS]
    # the customer (苏州恒信, domestic) reads Chinese: the letter is Chinese by default
    assert widget(at, "radio", zh("doc.letter_lang")).value == "zh"
    letter = _letter(at)
    assert zh("doc.l.subject", number=number) in letter
    assert "轴承座内孔尺寸超差 0.05 mm，客户来料检验发现。" in letter
    assert zh("doc.l.pending") in letter  # no root cause yet

    at = _open(case_id, lang="en")
    open_case_tab(at, "doc.section", "en")
    assert _labels(at) == [en("doc.download", doc=en(d), fmt=f) for d, f in DOWNLOADS]
    assert widget(at, "radio", en("doc.letter_lang")).value == "zh"  # still the customer's


def test_the_user_switches_the_letter_language_and_signs_with_the_company(
        ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    number = uc.complaints.complaint(ref_db, _user(ref_db, "admin"), case_id).complaint.number
    at = _open(case_id)
    open_case_tab(at, "doc.section")
    widget(at, "radio", zh("doc.letter_lang")).set_value("en").run()
    letter = _letter(at)
    assert en("doc.l.subject", number=number) in letter and "Yours sincerely," in letter
    assert "关于贵司投诉的回复" not in letter
    widget(at, "text_input", zh("doc.company")).input("苏州精工制造有限公司").run()
    assert _letter(at).startswith("苏州精工制造有限公司\n")
    assert len(_labels(at)) == 5  # the downloads stay offered
    assert not at.error, page_text(at)
