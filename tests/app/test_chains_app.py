"""The rework chain on the Complaint page (issue #12 item 5): production records the goods that
came back and the rework in their forms; a negative quantity and more reworked than received
are refused with a clear message in the user's language, nothing is half-saved and what was
typed stays in the form; the steps recorded are listed in words."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

from streamlit.testing.v1 import AppTest

from core import usecases as uc
from core.model import ChainStep, Disposition, DispositionType, Event, Kind, State, User
from core.usecases.context import Context
from tests.app.helpers import (
    en, login_as, new_app, no_exception, open_case_tab, open_tab, page_text, values, widget, zh,
)


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _reworking(app: Context) -> tuple[int, int]:
    """A demo case as a reply leaves it after a rework of 100 was approved, for 制造部 (the
    demo's production user); (case id, disposition id)."""
    admin = _user(app, "admin")
    c = next(x for x in uc.search.cases_in(app, admin, [State.REPLYING, State.IMPLEMENTING,
                                                        State.VERIFYING, State.FOLLOW_UP])
             if x.kind == Kind.COMPLAINT)
    mfg = next(d.id for d in uc.reference.departments(app, True) if d.code == "MFG")
    with app.uow(write=True) as uow:
        fresh = uow.complaints.get(c.id or 0)
        assert fresh is not None
        # a round of its own: the rework is the only disposition on the page
        round_ = fresh.approval_round + 1
        uow.complaints.save(dataclasses.replace(
            fresh, state=State.IMPLEMENTING, responsible_department_id=mfg,
            approval_round=round_, version=fresh.version + 1), fresh.version)
        did = uow.records.add(Disposition(None, fresh.id or 0, round_,
                                          DispositionType.REWORK, 100, Decimal("0")))
        uow.events.add(Event(None, fresh.id or 0, app.clock(), admin.id, "reply",
                             {"state": ["replying", "implementing"]}))
        uow.commit()
    return c.id or 0, did


def _records(app: Context, cid: int) -> list[ChainStep]:
    with app.uow() as uow:
        return uow.records.where(ChainStep, complaint_id=cid)


def _open(cid: int, username: str, lang: str = "zh") -> AppTest:
    """The Complaint page on its records tab, where the chain is."""
    at = login_as(new_app(), username)
    if lang == "en":
        at.query_params["lang"] = "en"
    at.query_params["id"] = str(cid)
    at.switch_page("pages/complaint.py").run()
    no_exception(at)
    open_case_tab(at, "case.records", lang)
    return at


def test_production_records_the_goods_back_and_a_negative_quantity_is_refused(
        demo_db: Context) -> None:
    cid, _ = _reworking(demo_db)
    at = _open(cid, "prod")
    assert zh("chain.next", chain_step="goods_received",
              owner=f"制造部 · {zh('role.production')}") in page_text(at)
    qty = zh("field.received_qty") + " *"
    widget(at, "number_input", qty).set_value(-5)
    widget(at, "button", zh("chain.record")).click().run()
    no_exception(at)
    assert values(at, "error") == [zh("err.quantity", field="received_qty")]
    assert values(at, "error") == ["「收货数量」须为非负整数。"]
    assert widget(at, "number_input", qty).value == -5  # what was typed stays
    assert _records(demo_db, cid) == []  # nothing half-saved
    widget(at, "number_input", qty).set_value(100)
    widget(at, "button", zh("chain.record")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("common.saved")]
    [saved] = _records(demo_db, cid)
    assert (saved.step, saved.data["received_qty"]) == ("goods_received", 100)
    text = page_text(at)
    assert f"✓ {zh('chain_step.goods_received')} · 收货数量 100" in text
    # the plan is engineering's: production of 制造部 is told whom the chain waits for
    assert zh("chain.waiting", owner=f"工程部 · {zh('role.production')}") in text
    assert zh("chain.record") not in [b.label for b in at.button]


def _to_rework(app: Context, did: int) -> None:
    """Goods back, the plan and the purchase recorded (by management, who may record any)."""
    gm = _user(app, "gm")
    today = app.clock().astimezone(uc.context.settings(app).tz).date()
    uc.chains.record_step(app, gm, did, "goods_received",
                          {"received_qty": 100, "received_on": today})
    uc.chains.record_step(app, gm, did, "rework_plan",
                          {"rework_plan": "更换外壳", "planned_on": today})
    uc.chains.record_step(app, gm, did, "purchase", {"request_no": "PR-1", "arrived_on": today})


def test_more_reworked_than_received_is_refused_in_chinese_and_english(
        demo_db: Context) -> None:
    cid, did = _reworking(demo_db)
    _to_rework(demo_db, did)
    for lang, tr in (("zh", zh), ("en", en)):
        at = _open(cid, "prod", lang)
        qty = tr("field.reworked_qty") + " *"
        widget(at, "number_input", qty).set_value(120)
        widget(at, "button", tr("chain.record")).click().run()
        no_exception(at)
        assert values(at, "error") == [tr("err.chain_reworked_above", n=120, limit=100)]
        assert widget(at, "number_input", qty).value == 120
        assert [r.step for r in _records(demo_db, cid)] == ["goods_received", "rework_plan",
                                                            "purchase"]
    assert values(at, "error") == [
        "The reworked quantity (120) is more than the quantity received (100)."]
    widget(at, "number_input", en("field.reworked_qty") + " *").set_value(100)
    widget(at, "button", en("chain.record")).click().run()
    no_exception(at)
    assert [r.step for r in _records(demo_db, cid)][-1] == "rework"
    assert en("chain.next", chain_step="inspection",
              owner=f"Quality assurance · {en('role.qa')}") in page_text(at)


def test_the_chain_form_is_not_offered_to_another_department(demo_db: Context) -> None:
    cid, _ = _reworking(demo_db)
    at = _open(cid, "qa")
    assert zh("chain.record") not in [b.label for b in at.button]
    assert zh("chain.waiting", owner=f"制造部 · {zh('role.production')}") in page_text(at)


def _admin_settings(lang: str = "zh") -> AppTest:
    at = login_as(new_app(), "admin")
    if lang == "en":
        at.query_params["lang"] = "en"
    at.switch_page("pages/admin.py").run()
    no_exception(at)
    open_tab(at, "admin_tab", (en if lang == "en" else zh)("admin.settings"))
    return at


def test_the_admin_switches_purchase_off_and_a_bad_limit_is_refused(demo_db: Context) -> None:
    admin = _user(demo_db, "admin")
    rows = [(k.value, n) for k, steps in uc.chains.chain_settings(demo_db, admin).items()
            for n in steps]
    purchase, rework = rows.index(("rework", "purchase")), rows.index(("rework", "rework"))
    at = _admin_settings("en")
    # a step's limit of 0 working days, and purchase switched off, in one save
    at.session_state["chain_editor"] = {"edited_rows": {purchase: {"on": False},
                                                        rework: {"days": 0}},
                                        "added_rows": [], "deleted_rows": []}
    at.button(key="save_chains").click().run()
    no_exception(at)
    assert values(at, "error") == [en("err.chain_days", chain_step="rework")]
    assert values(at, "error") == [
        "The time limit of “Production rework” must be 1 to 365 working days."]
    cfg = uc.chains.chain_settings(demo_db, admin)
    assert cfg[DispositionType.REWORK]["purchase"].on  # nothing half-saved
    at.session_state["chain_editor"] = {"edited_rows": {purchase: {"on": False}},
                                        "added_rows": [], "deleted_rows": []}
    at.button(key="save_chains").click().run()
    no_exception(at)
    assert en("admin.settings_saved") in values(at, "success")
    cfg = uc.chains.chain_settings(demo_db, admin)
    assert not cfg[DispositionType.REWORK]["purchase"].on
    assert cfg[DispositionType.REWORK]["rework"].days == 5
