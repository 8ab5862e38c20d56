"""Investigate as a workspace (issue #13): the case's facts and photos beside the forms, QA's
send-back reason at the top for production, the case picker's labels current after an action."""
from __future__ import annotations

from datetime import date
from typing import Any

from streamlit.testing.v1 import AppTest

from core import usecases as uc
from core.model import CapaType, Category, Channel, Kind, Request, Severity, SixM, User, Validity
from core.outbox import note_text
from core.usecases.complaints import ComplaintDraft, Upload
from core.usecases.context import Context
from tests.app.helpers import (
    en, login_as, new_app, no_exception, page_text, values, widget, zh,
)
from tests.integration.test_upload_images import png

REASON = "5 Why 只问到第二层，定位销为什么磨损没有分析；请补充点检记录。"


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _dispatched(app: Context) -> int:
    sales = _user(app, "sales")
    cust = uc.reference.customers(app)[0].id
    defect = uc.reference.defect_types(app)[0].id
    case = uc.complaints.register_complaint(app, sales, ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.EMAIL,
        description="轴承座内孔尺寸超差 0.05 mm", product_code="GJ-880", product_name="精密轴承座",
        order_no="SO-4711", lot="L-0612", delivered_qty=500, defective_qty=12,
        defect_type_id=defect, request=Request.REWORK, severity_proposed=Severity.C))
    cid = case.id or 0
    uc.complaints.add_attachments(app, sales, cid, [Upload("不良照片.png", png(64, 48))])
    uc.investigation.dispatch(app, sales, cid, uc.complaints.complaint(
        app, sales, cid).complaint.version)
    return cid


def _sent_back(app: Context) -> tuple[int, User]:
    """A case whose analysis QA sent back to production with REASON."""
    cid = _dispatched(app)
    qa, prod = _user(app, "qa"), _user(app, "prod")
    c = uc.investigation.acknowledge(app, qa, cid, _version(app, cid))
    c = uc.investigation.classify(app, qa, cid, c.version, Validity.VALID, Category.QUALITY,
                                  Severity.C, prod.department_id)
    c = uc.investigation.save_analysis(app, prod, cid, c.version, prod_line="3号线",
                                       prod_date=date(2026, 11, 20), prod_lot="P-1120",
                                       whys=["定位偏移", "定位销磨损"], six_m=SixM.MACHINE,
                                       root_cause="夹具定位销磨损")
    uc.investigation.add_capa(app, prod, cid, CapaType.CORRECTIVE, "更换定位销", prod.id or 0,
                              date(2099, 12, 31))
    c = uc.investigation.submit_analysis(app, prod, cid, _version(app, cid))
    uc.investigation.send_back(app, qa, cid, c.version, REASON)
    return cid, prod


def _version(app: Context, cid: int) -> int:
    return uc.complaints.complaint(app, _user(app, "sales"), cid).complaint.version


def _open(cid: int, username: str, lang: str = "zh") -> AppTest:
    at = login_as(new_app(), username)
    if lang == "en":
        at.query_params["lang"] = "en"
    at.query_params["id"] = str(cid)
    at.switch_page("pages/investigate.py").run()
    no_exception(at)
    return at


def test_the_picker_says_the_new_state_after_signing(ref_db: Context) -> None:
    cid = _dispatched(ref_db)
    at = _open(cid, "qa")
    before = widget(at, "selectbox", zh("inv.pick"))
    assert any(zh("state.dispatched") in o for o in before.options)
    widget(at, "button", zh("action.acknowledge")).click().run()
    no_exception(at)
    picker = widget(at, "selectbox", zh("inv.pick"))
    assert picker.key != before.key  # a picker drawn anew, not the one that said 已发单
    assert any(zh("state.investigating") in o for o in picker.options), picker.options
    assert not any(zh("state.dispatched") in o for o in picker.options)
    assert picker.value == cid  # still on the same case


def test_the_case_facts_and_photos_are_beside_the_forms(ref_db: Context) -> None:
    cid = _dispatched(ref_db)
    for lang, tr in (("zh", zh), ("en", en)):
        at = _open(cid, "qa", lang)
        text = page_text(at)
        assert tr("inv.facts") in text
        assert "精密轴承座" in text and "SO-4711" in text and "L-0612" in text
        assert f"{tr('inv.qty_defective_delivered')}: 12 / 500" in text
        assert f"{tr('field.request')}: {tr('request.rework')}" in text
        assert "轴承座内孔尺寸超差 0.05 mm" in text
        images: list[Any] = list(at.get("image"))
        assert len(images) == 1 and images[0].captions == ["不良照片.png"]


def test_production_sees_why_qa_sent_the_analysis_back(ref_db: Context) -> None:
    cid, prod = _sent_back(ref_db)
    qa = _user(ref_db, "qa")
    at = _open(cid, "prod")
    shown = values(at, "warning")
    assert any(REASON in w and qa.display_name in w for w in shown), shown
    assert widget(at, "button", zh("inv.save_analysis")) is not None  # the form to redo it
    at = _open(cid, "prod", "en")
    assert any(REASON in w for w in values(at, "warning"))
    # the notice production got names the reason, in either language
    notes = [n for n in uc.notices.inbox(ref_db, prod) if n.kind == "sent_back"]
    assert notes and all(REASON in note_text(n.kind, n.params, lang)
                         for n in notes for lang in ("zh", "en"))
    # once the analysis is handed in again the old reason is no longer shown
    c = uc.investigation.submit_analysis(ref_db, prod, cid, _version(ref_db, cid))
    assert c.state.value == "capa_review"
    at = _open(cid, "qa")
    assert not any(REASON in w for w in values(at, "warning"))


def test_a_notice_stored_before_the_reason_still_reads() -> None:
    text = note_text("sent_back", {"number": "KS2612-001", "by": "李工"}, "zh")
    assert "{" not in text and "李工" in text
