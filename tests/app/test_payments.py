"""Finance records a compensation in instalments on the Complaint page (issue #12 item 5):
date, amount, method, voucher; a payment above what is left is refused in words, with what
was typed kept; the instalments are listed with the paid total."""
from __future__ import annotations

import dataclasses

from datetime import date
from decimal import Decimal

from streamlit.testing.v1 import AppTest

from core import usecases as uc
from core.model import DispositionType, Kind, ReplyMethod, State, User, Validity
from core.usecases.approval import DispositionInput
from core.usecases.context import Context
from tests.app.helpers import (
    en, login_as, new_app, no_exception, open_case_tab, page_text, values, widget, zh,
)


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _implementing(app: Context) -> int:
    """A demo case waiting for its dispositions: sales proposes a compensation of 800.00,
    every step the demo's rules give it is signed, and the customer is replied to."""
    admin, sales = _user(app, "admin"), _user(app, "sales")
    # a case at the dispositions (as QA's approval of the CAPA plan leaves it; the demo's
    # story may have none there, or further on)
    c = next(x for x in uc.search.cases_in(app, admin, [
        State.DISPOSITION, State.ROOT_CAUSE, State.CAPA_REVIEW, State.REPLYING,
        State.IMPLEMENTING]) if x.kind == Kind.COMPLAINT and x.validity != Validity.INVALID)
    cid = c.id or 0
    if c.state != State.DISPOSITION:
        with app.uow(write=True) as uow:
            fresh = uow.complaints.get(cid)
            assert fresh is not None
            uow.complaints.save(dataclasses.replace(
                fresh, state=State.DISPOSITION, approval_round=fresh.approval_round + 1,
                version=fresh.version + 1), fresh.version)
            uow.commit()
        c = uc.complaints.case_file(app, admin, cid).complaint
    c = uc.approval.set_dispositions(app, sales, cid, c.version, [
        DispositionInput(DispositionType.COMPENSATION, None, Decimal("800.00"))])
    c = uc.approval.propose(app, sales, cid, c.version, "客户接受赔款")
    signers = [_user(app, n) for n in ("manager", "gm", "chairman", "qamanager")]
    while c.state == State.PENDING_APPROVAL:
        case = uc.complaints.case_file(app, admin, cid)
        [step, *_] = uc.approval.pending_stage(case)
        who = next(u for u in signers if step.title in u.titles)
        c = uc.approval.approve_step(app, who, cid, c.version, "同意")
    uc.closure.reply(app, sales, cid, c.version, date.today(), ReplyMethod.LETTER,
                     "已书面答复客户")
    return cid


def _open(cid: int, lang: str) -> AppTest:
    at = login_as(new_app(), "finance")
    if lang == "en":
        at.query_params["lang"] = "en"
    at.query_params["id"] = str(cid)
    at.switch_page("pages/complaint.py").run()
    no_exception(at)
    open_case_tab(at, "case.records", lang)  # where the payment form is
    return at


def test_finance_pays_in_two_instalments_in_chinese(demo_db: Context) -> None:
    cid = _implementing(demo_db)
    at = _open(cid, "zh")
    widget(at, "text_input", zh("field.amount"), index=0).input("300")
    widget(at, "text_input", zh("field.voucher"), index=0).input("HK-001")
    widget(at, "button", zh("disp.pay")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("common.saved")]
    assert zh("disp.paid", paid="300.00", approved="800.00") in page_text(at)
    # the form is empty again (seen in Chromium: the recorded amount and voucher stayed under
    # the listed instalment, one click from recording it twice)
    assert widget(at, "text_input", zh("field.amount"), index=0).value == ""
    assert widget(at, "text_input", zh("field.voucher"), index=0).value == ""
    widget(at, "text_input", zh("field.amount"), index=0).input("600")
    widget(at, "text_input", zh("field.voucher"), index=0).input("HK-002")
    widget(at, "button", zh("disp.pay")).click().run()
    no_exception(at)
    assert values(at, "error") == [zh("err.payment_above", left="500.00", approved="800.00")]
    assert widget(at, "text_input", zh("field.voucher"), index=0).value == "HK-002"  # kept
    widget(at, "text_input", zh("field.amount"), index=0).input("500")
    widget(at, "button", zh("disp.pay")).click().run()
    no_exception(at)
    paid = uc.closure.payments(demo_db, _user(demo_db, "finance"), cid)
    assert [(str(p.amount), p.voucher) for p in paid] == [("300.00", "HK-001"),
                                                          ("500.00", "HK-002")]
    f = uc.complaints.case_file(demo_db, _user(demo_db, "finance"), cid)
    assert all(d.done for d in f.current(f.dispositions))


def test_the_payment_form_in_english_says_what_is_missing(demo_db: Context) -> None:
    cid = _implementing(demo_db)
    at = _open(cid, "en")
    widget(at, "text_input", en("field.amount"), index=0).input("100")
    widget(at, "button", en("disp.pay")).click().run()  # a transfer needs its voucher
    no_exception(at)
    assert values(at, "error") == [en("err.required", field="voucher")]
    assert uc.closure.payments(demo_db, _user(demo_db, "finance"), cid) == []
