"""pages/complaint.py → the reply letter (issue #13): QA's summary for the customer written on
the page, the letter's text edited before its PDF and kept, the reply form prefilled from the
letter, and the English letter's PDF in English when the English names are given."""
from __future__ import annotations

import dataclasses
import io
import re

from pypdf import PdfReader

from core.model import Customer, Lang, Market, Product, State
from core.usecases.accounts import UserInput
from core.usecases.context import Context
from tests.app.helpers import block, no_exception, open_case_tab, unfold, widget, zh
from tests.app.test_complaint import _new_case, _open, _user
from ui.pdf import to_pdf
from core import usecases as uc

CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f]")
SUMMARY = "轴承座夹具磨损导致内孔超差，已更换夹具并加严首件检验。"


def _docs(cid: int, username: str):  # noqa: ANN202 - an AppTest
    """The Complaint page of case `cid` for `username`, its tab 文档 open (issue #14)."""
    at = _open(cid, username)
    open_case_tab(at, "doc.section")
    return at


def _letter(at) -> str:  # noqa: ANN001 - an AppTest
    (text,) = [c.value for c in at.code]
    return str(text)


def _replying(app: Context, cid: int) -> None:
    """The case waiting for its reply (the steps before it are other tests' business)."""
    with app.uow(write=True) as uow:
        c = uow.complaints.get(cid)
        assert c is not None
        uow.complaints.save(dataclasses.replace(c, state=State.REPLYING, version=c.version + 1),
                            c.version)
        uow.commit()


def _version(app: Context, cid: int) -> int:
    return uc.complaints.case_file(app, _user(app, "admin"), cid).complaint.version


def test_qa_writes_the_summary_the_letter_gives_instead_of_pending(ref_db: Context) -> None:
    cid = _new_case(ref_db)
    at = _docs(cid, "qa")
    assert zh("doc.l.pending") in _letter(at)
    form = block(at, "expander", zh("doc.customer_summary"))
    widget(form, "text_area", zh("field.customer_summary")).input(SUMMARY)
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert not at.error
    letter = _letter(at)
    assert SUMMARY in letter and zh("doc.l.pending") not in letter
    # sales reads it, and cannot change it
    at = _docs(cid, "sales")
    assert not block(at, "expander", zh("doc.customer_summary")).get("text_area")
    assert SUMMARY in _letter(at)


def test_the_letter_edited_before_its_pdf_is_kept_and_prefills_the_reply(
        ref_db: Context) -> None:
    cid = _new_case(ref_db)
    _replying(ref_db, cid)
    number = uc.complaints.case_file(ref_db, _user(ref_db, "admin"), cid).complaint.number
    at = _docs(cid, "sales")
    reply = unfold(at, zh("action.reply"))
    prefilled = widget(reply, "text_area", zh("field.reply_text") + " *").value
    assert zh("doc.l.subject", number=number) in prefilled  # the letter, not an empty box
    assert zh("doc.l.regards") in prefilled

    edit = unfold(at, zh("doc.letter_edit"))
    body = widget(edit, "text_area", zh("doc.letter_body"))
    assert zh("doc.l.pending") in body.value  # prefilled with kesu's letter
    body.input(body.value.replace(zh("doc.l.pending"), "我司已安排工程师本周到厂分析。"))
    widget(edit, "button", zh("doc.letter_save")).click().run()
    no_exception(at)
    assert not at.error
    assert "我司已安排工程师本周到厂分析。" in _letter(at)
    kept = uc.complaints.case_file(ref_db, _user(ref_db, "admin"), cid).complaint
    assert "我司已安排工程师本周到厂分析。" in kept.letter_text and kept.letter_lang == "zh"
    pdf = to_pdf(uc.documents.case_documents(ref_db, _user(ref_db, "sales"), cid, "zh").letter)
    assert "我司已安排工程师本周到厂分析" in _pdf_text(pdf)

    at = _docs(cid, "sales")  # the reply form now starts from the edited letter
    reply = unfold(at, zh("action.reply"))
    assert "我司已安排工程师本周到厂分析。" in widget(
        reply, "text_area", zh("field.reply_text") + " *").value
    # back to kesu's text
    edit = unfold(at, zh("doc.letter_edit"))
    widget(edit, "button", zh("doc.letter_regenerate")).click().run()
    assert "我司已安排工程师本周到厂分析。" not in _letter(at)


def test_the_english_letter_pdf_is_in_english_when_english_names_are_given(
        ref_db: Context) -> None:
    admin, sales = _user(ref_db, "admin"), _user(ref_db, "sales")
    cust = uc.reference.save_reference(ref_db, admin, Customer(
        0, "Northwind Motors Ltd.", Market.OVERSEAS, Lang.EN, "Mr. Smith"))
    cid = _english_case(ref_db, cust)
    product = next((p for p in uc.reference.products(ref_db, True) if p.code == "GJ-880"), None)
    uc.reference.save_reference(ref_db, admin, dataclasses.replace(
        product, name_en="Precision bearing housing") if product else Product(
        0, "GJ-880", "精密轴承座", True, "Precision bearing housing"))
    uc.accounts.update_user(ref_db, admin, sales.id or 0, UserInput(
        sales.username, sales.display_name, sales.roles, sales.department_id, sales.titles,
        sales.language, sales.active, sales.email, "Li Wei"))
    uc.reference.set_settings(ref_db, admin, {"company_name": "苏州精工制造有限公司",
                                              "company_name_en": "Suzhou Precision Co., Ltd."})
    uc.documents.set_customer_summary(ref_db, _user(ref_db, "qa"), cid, _version(ref_db, cid),
                                      "A worn fixture let the bore go out of tolerance.")
    uc.documents.save_letter(ref_db, sales, cid, _version(ref_db, cid), "zh", "中文版已编辑")

    at = _docs(cid, "sales")  # a Chinese user; the customer reads English
    assert widget(at, "radio", zh("doc.letter_lang")).value == "en"
    shown = _letter(at)
    assert CJK.findall(shown) == [], shown
    pdf = _pdf_text(to_pdf(uc.documents.case_documents(ref_db, sales, cid, "zh").letter))
    assert CJK.findall(pdf) == []
    for name in ("Preci", "bearing", "LiWei", "SuzhouPrecisionCo.,Ltd.", "Aworn"):
        assert name in pdf, name
    assert sales.display_name not in pdf


def _english_case(app: Context, customer_id: int) -> int:
    """A case typed in Chinese (as sales types them), for an English-speaking customer."""
    from core.model import Channel, Kind
    from core.usecases.complaints import ComplaintDraft
    defect = next(d.id for d in uc.reference.defect_types(app) if d.code == "DIM")
    c = uc.complaints.register_complaint(app, _user(app, "sales"), ComplaintDraft(
        customer_id=customer_id, kind=Kind.COMPLAINT, channel=Channel.EMAIL,
        description="轴承座内孔尺寸超差 0.05 mm。", product_code="GJ-880",
        product_name="精密轴承座", order_no="PO-88", defective_qty=12, defect_type_id=defect))
    return c.id or 0


def _pdf_text(pdf: bytes) -> str:
    """The PDF's text without whitespace, read as tests/integration/test_documents_render.py
    reads it (the CJK font's two-byte codes told to pypdf as Identity-H)."""
    from pypdf.generic import DictionaryObject, NameObject, StreamObject
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        fonts = resources["/Font"].get_object()
        assert isinstance(fonts, DictionaryObject)
        for ref in fonts.values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type0" and isinstance(
                    font["/Encoding"].get_object(), StreamObject):
                font[NameObject("/Encoding")] = NameObject("/Identity-H")
    return "".join(re.sub(r"\s+", "", page.extract_text() or "") for page in reader.pages)
