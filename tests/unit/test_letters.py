"""The reply letter a customer gets (issue #13): QA's summary for the customer instead of the
internal root cause, the letter's text edited before its PDF and kept with the case, and the
English letter in English — the product's, the signer's and the company's English names."""
from __future__ import annotations

import dataclasses
import re

import pytest

from core.documents import CaseDocuments, Paragraph, letter_body, plain_text, with_body
from core.errors import NotAllowed
from core.i18n import t
from core.model import Category, Lang, Product, Role, State, Validity
from core.usecases.accounts import UserInput
from tests.unit import test_lifecycle as lc
from tests.unit.test_lifecycle import Case, World, drive, log
from core import usecases as uc

w = lc.w  # the lifecycle tests' World: users, departments, a valid draft
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f]")


def _english_customer(w: World) -> None:
    customer = next(c for c in uc.reference.customers(w.kesu, True)
                    if c.id == w.draft.customer_id)
    uc.reference.save_reference(w.kesu, w.admin, dataclasses.replace(
        customer, language=Lang.EN, contact="Ms. Moore"))


def _docs(w: World, case: Case, letter_lang: str | None = None) -> CaseDocuments:
    return uc.documents.case_documents(w.kesu, w.sales, case.id, "zh", letter_lang)


def _rename(w: World, zh: str, en: str) -> None:
    """The salesperson who replies gets a Chinese name, and maybe an English one."""
    s = w.sales
    uc.accounts.update_user(w.kesu, w.admin, s.id or 0, UserInput(
        s.username, zh, s.roles, s.department_id, s.titles, s.language, s.active, s.email, en))


@pytest.fixture
def replied(w: World) -> Case:
    """A quality complaint the customer was answered on, with a summary for the customer."""
    case = drive(w, State.IMPLEMENTING)
    case.once(lambda: uc.documents.set_customer_summary(
        w.kesu, w.qa, case.id, case.c.version, "A worn fixture scratched the housing."))
    return case


def test_the_english_letter_names_product_signer_and_company_in_english(
        w: World, replied: Case) -> None:
    _english_customer(w)
    w.setting("company_name", "华东精密制造有限公司")
    w.setting("company_name_en", "East China Precision Co., Ltd.")
    assert not [p for p in uc.reference.products(w.kesu, True) if p.code == "P-100"]
    uc.reference.save_reference(w.kesu, w.admin, Product(0, "P-100", "外壳", True,
                                                           "Precision housing"))
    _rename(w, "王小明", "Wang Xiaoming")
    text = plain_text(_docs(w, replied).letter)
    assert "Precision housing (P-100)" in text
    assert "Wang Xiaoming" in text and "王小明" not in text
    assert "East China Precision Co., Ltd." in text and "华东" not in text
    assert CJK.findall(text) == []  # every text of this case was typed in English
    # the Chinese letter keeps the Chinese names
    zh = plain_text(_docs(w, replied, "zh").letter)
    assert "王小明" in zh and "华东精密制造有限公司" in zh


def test_without_english_names_the_english_letter_falls_back_to_latin_ones(
        w: World, replied: Case) -> None:
    _english_customer(w)
    _rename(w, "王小明", "")
    text = plain_text(_docs(w, replied).letter)
    assert "王小明" not in text and w.sales.username in text  # the user name (pinyin)
    assert "Housing (P-100)" in text  # the case's product name: not Chinese, kept


def test_a_complaint_typed_in_chinese_is_described_by_its_defect_in_english(w: World) -> None:
    _english_customer(w)
    case = log(w, description="外壳划伤，共 12 件", product_name="外壳")
    letter = _docs(w, case).letter
    text = plain_text(letter)
    assert "Scratch, 12 pieces affected." in text
    assert "外壳" not in text and "with P-100, order SO-1" in text  # the code stands alone
    bare = log(w, description="发票单价有误", defect_type_id=None, defective_qty=None,
               category=Category.NON_QUALITY)
    text = plain_text(_docs(w, bare).letter)
    assert "As described in your complaint." in text and "—" not in text.split("reported")[1]


def test_an_invalid_complaints_chinese_reason_is_not_quoted_in_english(w: World) -> None:
    _english_customer(w)
    case = drive(w, State.INVESTIGATING)
    case.do("classify", w.qa, Validity.INVALID, reason="客户使用不当")
    text = plain_text(_docs(w, case).letter)
    assert t("doc.l.invalid_short", "en") in text and "客户使用不当" not in text
    assert "客户使用不当" in plain_text(_docs(w, case, "zh").letter)


def test_without_a_summary_the_letter_says_pending_and_never_copies_the_root_cause(
        w: World) -> None:
    case = drive(w, State.IMPLEMENTING)
    text = plain_text(_docs(w, case).letter)
    assert case.c.root_cause and case.c.root_cause not in text
    assert t("doc.l.pending", "zh") in text


def test_only_qa_or_management_write_the_summary_and_the_event_keeps_it(
        w: World, replied: Case) -> None:
    before = replied.c
    for who in (w.sales, w.prod, w.finance):
        with pytest.raises(NotAllowed):
            uc.documents.set_customer_summary(w.kesu, who, replied.id, replied.c.version, "x")
    assert replied.c == before
    last = replied.events[-1]
    assert last.action == "customer_summary_set"
    assert last.changes["customer_summary"] == [None, "A worn fixture scratched the housing."]


def test_the_edited_letter_is_what_the_pdf_is_made_from_and_is_kept(w: World,
                                                                     replied: Case) -> None:
    before = _docs(w, replied)
    assert not before.letter_edited and before.letter_generated == letter_body(before.letter)
    edited = before.letter_generated.replace("A worn fixture", "A worn clamping fixture") \
        + "\nP.S. Samples were sent back on Monday.\n"
    replied.once(lambda: uc.documents.save_letter(w.kesu, w.sales, replied.id, replied.c.version,
                                                  "zh", edited))
    after = _docs(w, replied)
    assert after.letter_edited
    body = letter_body(after.letter)
    assert "A worn clamping fixture" in body and "P.S. Samples were sent back" in body
    assert dict(after.letter.header) == dict(before.letter.header)  # header, reference, date
    event = replied.events[-1]
    assert event.action == "letter_edited" and "P.S. Samples" in event.comment
    # the English letter is not the edited Chinese one
    assert not _docs(w, replied, "en").letter_edited
    # back to kesu's text
    replied.once(lambda: uc.documents.save_letter(w.kesu, w.sales, replied.id, replied.c.version,
                                                  "zh", ""))
    assert not _docs(w, replied).letter_edited


def test_production_and_finance_do_not_edit_the_letter(w: World, replied: Case) -> None:
    for who in (w.prod, w.finance):
        assert not who.has(Role.SALES, Role.QA, Role.MANAGEMENT)
        with pytest.raises(NotAllowed):
            uc.documents.save_letter(w.kesu, who, replied.id, replied.c.version, "zh", "x")


def test_a_letter_body_survives_being_edited_unchanged(w: World, replied: Case) -> None:
    letter = _docs(w, replied).letter
    body = letter_body(letter)
    again = with_body(letter, body)
    assert letter_body(again) == body
    assert all(isinstance(b, Paragraph) for s in again.sections for b in s.blocks)
