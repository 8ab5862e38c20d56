"""pages/complaint.py: one case's facts and timeline; edit and cancel when the user may."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import NotAllowed
from core.model import Channel, Kind, RegisterFilter, Request, Severity, State, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.app.helpers import (
    elements, en, has_block, login_as, new_app, no_exception, open_case_tab, page_text,
    unfold, values, widget, zh,
)
from core import usecases as uc

CUSTOMER = "苏州恒信精密机械有限公司"


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _new_case(app: Context, by: str = "sales", **kw: object) -> int:
    """A case with known facts, logged through the service."""
    cust = next(c.id for c in uc.reference.customers(app) if c.name == CUSTOMER)
    defect = next(d.id for d in uc.reference.defect_types(app) if d.code == "DIM")
    case = uc.complaints.register_complaint(app, _user(app, by), ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.EMAIL,
        description="轴承座内孔尺寸超差 0.05 mm，客户来料检验发现。", product_code="GJ-880",
        product_name="精密轴承座", order_no="SO-4711", lot="L-OLD", delivered_qty=500,
        defective_qty=12, defect_type_id=defect, request=Request.REWORK,
        claimed_amount="800", **kw))  # type: ignore[arg-type]
    assert case.id is not None
    return case.id


def _open(case_id: int | str | None, username: str = "sales", lang: str = "zh") -> AppTest:
    at = login_as(new_app(), username)
    if lang == "en":
        at.query_params["lang"] = "en"
    at.run()
    if case_id is not None:
        at.query_params["id"] = str(case_id)
    at.switch_page("pages/complaint.py").run()
    no_exception(at)
    return at


def _edit_form(at: AppTest):  # noqa: ANN202 - the expander block
    """The edit form, drawn once its expander is opened (issue #14)."""
    return unfold(at, zh("case.edit"))


def _cancel_form(at: AppTest):  # noqa: ANN202 - the expander block of the action panel
    return unfold(at, zh("action.cancel"))  # drawn once opened (issue #14)


def _tab(at: AppTest, key: str, lang: str = "zh"):  # noqa: ANN202 - the tab block
    """Open the tab (the page draws the open one only) and return it."""
    return open_case_tab(at, key, lang)


# ---------------------------------------------------------------- reading


def test_without_an_id_the_page_asks_for_a_case(ref_db: Context) -> None:
    at = _open(None)
    assert values(at, "title") == [zh("nav.complaint")]
    assert zh("case.none") in values(at, "info")
    assert widget(at, "text_input", zh("case.pick"))

    at = _open(None, lang="en")
    assert values(at, "title") == [en("nav.complaint")]
    assert en("case.none") in values(at, "info")


def test_shows_number_facts_and_timeline(ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    c = uc.complaints.complaint(ref_db, _user(ref_db, "admin"), case_id).complaint
    at = _open(case_id)
    assert values(at, "title") == [zh("case.title", number=c.number)]
    text = page_text(at)
    assert f"**{zh('field.state')}: {zh('state.registered')}**" in text
    for line in (f"{zh('field.customer')}: {CUSTOMER}", f"{zh('field.product_code')}: GJ-880",
                 f"{zh('field.order_no')}: SO-4711", f"{zh('field.defect_type')}: 尺寸超差",
                 f"{zh('field.channel')}: {zh('channel.email')}",
                 f"{zh('field.request')}: {zh('request.rework')}",
                 f"{zh('field.claimed_amount')}: 800.00",
                 f"{zh('field.received_by')}: 王丽（营销）",
                 "轴承座内孔尺寸超差 0.05 mm，客户来料检验发现。"):
        assert line in page_text(at).splitlines(), line  # the facts: lines in 3 columns
    # who took each step of the procedure, and when
    [step] = values(unfold(at, zh("case.progress_detail")), "text")
    assert step.startswith(f"{zh('state.registered')} · 王丽（营销） · ")
    # the timeline: the registration event with who and what
    timeline = _tab(at, "case.timeline")
    assert timeline.label == f"{zh('case.timeline')} (1)"
    assert f"**{zh('action.registered')}**" in values(timeline, "markdown")
    assert any(s.startswith("王丽（营销） · ") for s in values(timeline, "caption"))
    assert zh("case.changed_from_to", field=zh("field.lot"), old="—", new="L-OLD") in \
        values(timeline, "text")

    at = _open(case_id, lang="en")
    assert values(at, "title") == [en("case.title", number=c.number)]
    assert f"{en('field.defect_type')}: Out of dimension" in page_text(at).splitlines()
    assert f"**{en('action.registered')}**" in values(_tab(at, "case.timeline", "en"), "markdown")


def test_a_demo_case_opens_from_the_register_list(demo_db: Context) -> None:
    rows, _ = uc.search.register(demo_db, _user(demo_db, "admin"), RegisterFilter())
    at = login_as(new_app(), "qa").run()
    widget(at, "selectbox", zh("log.open_case")).select(rows[0].number).run()
    no_exception(at)
    assert values(at, "title") == [zh("case.title", number=rows[0].number)]
    assert at.query_params.get("id") == str(rows[0].id)
    assert rows[0].customer in page_text(at)


def test_unknown_id_says_not_found(ref_db: Context) -> None:
    at = _open(99999)
    assert values(at, "error") == [zh("err.not_found")]
    assert [p.label for p in elements(at, "page_link")] == [zh("common.back")]


def test_open_a_case_by_its_number(ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    number = uc.complaints.complaint(ref_db, _user(ref_db, "admin"), case_id).complaint.number
    at = _open(None)
    widget(at, "text_input", zh("case.pick")).input("ks0001-999").run()
    assert values(at, "warning") == [zh("case.not_found", number="ks0001\\-999")]  # as typed
    widget(at, "text_input", zh("case.pick")).input(number.lower()).run()
    no_exception(at)
    assert values(at, "title") == [zh("case.title", number=number)]
    assert at.query_params.get("id") == str(case_id)


# ---------------------------------------------------------------- editing and cancelling


def test_editing_a_field_writes_an_event_shown_in_the_timeline(ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    at = _open(case_id)
    form = _edit_form(at)
    widget(form, "text_input", zh("field.lot")).input("L-NEW")
    widget(form, "text_input", zh("case.edit_comment")).input("客户更正批号")
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("common.saved")]
    assert f"{zh('field.lot')}: L-NEW" in page_text(at).splitlines()  # the facts tab, still open
    timeline = _tab(at, "case.timeline")
    assert timeline.label == f"{zh('case.timeline')} (2)"
    assert f"**{zh('action.edited')}**" in values(timeline, "markdown")
    change = zh("case.changed_from_to", field=zh("field.lot"), old="L-OLD", new="L-NEW")
    assert values(timeline, "text")[:2] == [change, "客户更正批号"]  # newest first

    view = uc.complaints.complaint(ref_db, _user(ref_db, "admin"), case_id)
    assert view.complaint.lot == "L-NEW" and view.complaint.version == 2
    edited = view.events[-1]
    assert edited.action == "edited" and edited.changes == {"lot": ["L-OLD", "L-NEW"]}
    assert edited.comment == "客户更正批号"
    assert edited.user_id == _user(ref_db, "sales").id


def test_an_invalid_edit_saves_nothing(ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    at = _open(case_id, lang="en")
    form = unfold(at, en("case.edit"))
    widget(form, "text_input", en("field.claimed_amount")).input("abc")
    widget(form, "button", en("common.save")).click().run()
    no_exception(at)
    assert values(at, "error") == [en("err.amount", field="claimed_amount")]
    assert values(at, "error") == ["“Claimed amount (CNY)” must be an amount ≥ 0 with at most "
                                   "2 decimals."]
    view = uc.complaints.complaint(ref_db, _user(ref_db, "admin"), case_id)
    assert view.complaint.version == 1 and len(view.events) == 1


def test_saving_without_a_change_says_nothing_changed(ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    at = _open(case_id)
    widget(_edit_form(at), "button", zh("common.save")).click().run()
    no_exception(at)
    assert values(at, "error") == [zh("err.nothing_changed")]
    assert len(uc.complaints.complaint(ref_db, _user(ref_db, "admin"), case_id).events) == 1


def test_cancel_needs_a_reason_then_cancels_and_keeps_the_case(ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    at = _open(case_id)
    widget(_cancel_form(at), "button", zh("action.cancel")).click().run()
    no_exception(at)
    assert values(at, "error") == [zh("err.required", field="cancel_reason")]
    view = uc.complaints.complaint(ref_db, _user(ref_db, "admin"), case_id)
    assert view.complaint.state == State.REGISTERED

    form = _cancel_form(at)
    widget(form, "text_area", zh("field.cancel_reason") + " *").input("客户撤回投诉")
    widget(form, "button", zh("action.cancel")).click().run()
    no_exception(at)
    assert values(at, "success")[0] in (zh("common.saved"), zh("case.cancelled_done"))
    assert values(at, "warning") == [zh("case.cancelled", reason="客户撤回投诉")]
    assert f"**{zh('field.state')}: {zh('state.cancelled')}**" in values(at, "markdown")
    # a cancelled case stays visible (its facts tab, open) but can be neither edited nor
    # cancelled again
    assert "轴承座内孔尺寸超差 0.05 mm，客户来料检验发现。" in values(at, "text")
    assert not has_block(at, "expander", zh("case.edit"))
    assert not has_block(at, "expander", zh("action.cancel"))
    timeline = _tab(at, "case.timeline")
    assert values(timeline, "markdown")[0] == f"**{zh('action.cancel')}**"
    assert zh("case.changed_from_to", field=zh("field.state"), old=zh("state.registered"),
              new=zh("state.cancelled")) in values(timeline, "text")
    assert "客户撤回投诉" in values(timeline, "text")

    c = uc.complaints.complaint(ref_db, _user(ref_db, "admin"), case_id).complaint
    assert c.state == State.CANCELLED and c.cancel_reason == "客户撤回投诉"

    at = _open(case_id, lang="en")
    assert values(at, "warning") == [en("case.cancelled", reason="客户撤回投诉")]
    assert f"**{en('field.state')}: {en('state.cancelled')}**" in values(at, "markdown")


def test_a_merged_duplicate_says_which_case_it_went_into(ref_db: Context) -> None:
    survivor, dup = _new_case(ref_db), _new_case(ref_db)
    sales = _user(ref_db, "sales")
    number = uc.complaints.complaint(ref_db, sales, survivor).complaint.number
    uc.closure.merge(ref_db, sales, dup,
                     uc.complaints.complaint(ref_db, sales, dup).complaint.version, number,
                     "同一批货")
    at = _open(dup)
    shown = [w.replace("\\", "") for w in values(at, "warning")]  # Markdown-escaped
    assert shown == [zh("case.cancelled", reason=zh("reason.duplicate", number=number))]
    at = _open(dup, lang="en")
    shown = [w.replace("\\", "") for w in values(at, "warning")]
    assert shown == [en("case.cancelled", reason=f"A duplicate of {number}, merged into it")]


def test_a_cancel_reason_is_shown_as_typed_not_as_markdown(ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    typed = "![x](http://evil.example/p.png) **客户**撤回"
    sales = _user(ref_db, "sales")
    uc.closure.cancel(ref_db, sales, case_id,
                      uc.complaints.complaint(ref_db, sales, case_id).complaint.version, typed)
    at = _open(case_id)
    [shown] = values(at, "warning")
    assert "![x](http" not in shown and "**客户**" not in shown  # escaped for Markdown
    assert shown.replace("\\", "") == zh("case.cancelled", reason=typed)


def test_returned_goods_show_a_week_for_their_analysis(ref_db: Context) -> None:
    case_id = _new_case(ref_db, sample_received=True, severity_proposed=Severity.B)
    for who, action in (("sales", uc.investigation.dispatch), ("qa", uc.investigation.acknowledge)):
        user = _user(ref_db, who)
        action(ref_db, user, case_id,
               uc.complaints.complaint(ref_db, user, case_id).complaint.version)
    at = _open(case_id, "qa")
    [line] = [c for c in values(at, "caption") if c.startswith(zh("sla.returned_goods") + " — ")]
    assert line.endswith(
        " · " + zh("due.left", amount="7", unit=zh("due.days"))
    ) or line.endswith(" · " + zh("due.left", amount="6.9", unit=zh("due.days"))), line
    at = _open(case_id, "qa", lang="en")
    assert any(
        c.startswith("Returned goods analysed — due ") and c.endswith(" days left")
        for c in values(at, "caption")
    )


# ---------------------------------------------------------------- forbidden


def test_finance_reads_but_may_neither_edit_nor_cancel(ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    at = _open(case_id, username="finance")
    assert "轴承座内孔尺寸超差 0.05 mm，客户来料检验发现。" in values(at, "text")
    assert not has_block(at, "expander", zh("case.edit"))
    assert not has_block(at, "expander", zh("action.cancel"))
    assert zh("case.no_actions") in values(at, "caption")

    at = _open(case_id, username="finance", lang="en")
    assert not has_block(at, "expander", en("case.edit"))
    assert en("case.no_actions") in values(at, "caption")

    # the services refuse too, whatever page or URL the call came from
    finance = _user(ref_db, "finance")
    c = uc.complaints.complaint(ref_db, finance, case_id).complaint
    draft = ComplaintDraft(customer_id=c.customer_id, kind=c.kind, channel=c.channel,
                           description="篡改", product_code=c.product_code,
                           defect_type_id=c.defect_type_id)
    with pytest.raises(NotAllowed):
        uc.complaints.update_complaint(ref_db, finance, case_id, c.version, draft)
    with pytest.raises(NotAllowed):
        uc.complaints.cancel_complaint(ref_db, finance, case_id, c.version, "不想要了")
    assert uc.complaints.complaint(ref_db, finance, case_id).complaint.version == 1


def test_production_may_not_cancel_but_management_may(ref_db: Context) -> None:
    case_id = _new_case(ref_db)
    at = _open(case_id, username="prod")
    assert not has_block(at, "expander", zh("action.cancel"))
    at = _open(case_id, username="manager")
    assert has_block(at, "expander", zh("action.cancel"))


def test_a_damaged_photo_shows_its_name_and_does_not_break_the_page(demo_db: Context) -> None:
    """A file that passes the type check (JPEG magic bytes) but cannot be decoded."""
    from core.usecases.complaints import Upload

    cust = next(c.id for c in uc.reference.customers(demo_db) if c.name == CUSTOMER)
    case = uc.complaints.register_complaint(
        demo_db,
        _user(demo_db, "sales"),
        ComplaintDraft(customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.PHONE,
                       description="照片损坏", product_code="GJ-880",
                       defect_type_id=next(d.id for d in uc.reference.defect_types(demo_db))),
        [Upload("坏照片.jpg", b"\xff\xd8\xff" + b"not really a picture" * 20)],
    )
    at = _open(case.id)
    assert "坏照片.jpg" in page_text(_tab(at, "case.attachments"))
