"""Investigate tells QA what the severity criteria ask for (issue #12 item 6), in English too,
and a lower level without a reason is refused in words."""
from __future__ import annotations

from core import usecases as uc
from core.model import Channel, Kind, Request, Severity, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.app.helpers import en, login_as, new_app, no_exception, values, widget


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def test_qa_sees_the_suggestion_and_a_lower_level_needs_a_reason(ref_db: Context) -> None:
    sales, gm, qa = (_user(ref_db, n) for n in ("sales", "gm", "qa"))
    cust = uc.reference.customers(ref_db)[0].id
    defect = uc.reference.defect_types(ref_db)[0].id
    case = uc.complaints.register_complaint(ref_db, sales, ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.EXTERNAL,
        description="消协转来：产品漏电", product_code="GJ-880", defect_type_id=defect,
        request=Request.COMPENSATION, claimed_amount="15000", severity_proposed=Severity.A,
        safety_risk=True))
    cid = case.id or 0
    c = uc.investigation.approve_dispatch(ref_db, gm, cid, case.version, "同意")
    c = uc.investigation.dispatch(ref_db, sales, cid, c.version)
    uc.investigation.acknowledge(ref_db, qa, cid, c.version)

    at = login_as(new_app(), "qa")
    at.query_params["lang"] = "en"
    at.query_params["id"] = str(cid)
    at.switch_page("pages/investigate.py").run()
    no_exception(at)
    criteria = "safety,external,claim_a"
    assert en("severity.suggested", suggested="A", criteria=criteria) in values(at, "info")
    widget(at, "selectbox", en("field.severity")).select(Severity.C)
    depts = uc.reference.departments(ref_db)
    widget(at, "selectbox", en("field.responsible_department")).select(depts[0].id)
    widget(at, "button", en("common.submit")).click().run()
    no_exception(at)
    assert en("err.severity_below", suggested="A", criteria=criteria) in values(at, "error")
    assert uc.complaints.complaint(ref_db, qa, cid).complaint.severity is None  # not saved
