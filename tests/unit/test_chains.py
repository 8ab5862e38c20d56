"""Execution chains after approval (issue #12 item 5, docs/procedure.md §6): the steps of a
rework, a replacement and a return, their order, owners, time limits and checks — as rules
(core/rules/chains.py) and through the use cases on the in-memory fakes."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from core.documents import Table
from core.errors import InvalidInput, NotAllowed
from core.i18n import t
from core.model import (
    ChainStep, Department, Disposition, DispositionType, Event, Role, State, User,
)
from core.rules import chains
from core.rules.chains import ChainError
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.unit.conftest import NOW, MakeUser, with_
from tests.unit.fakes import FakeDatabase
from core import usecases as uc

TODAY = date(2026, 11, 10)  # NOW in Shanghai (a Tuesday)
REWORK, REPLACEMENT, RETURN = (DispositionType.REWORK, DispositionType.REPLACEMENT,
                               DispositionType.RETURN)
DEFAULT = chains.settings_from(None)


def rec(step: str, **data: Any) -> ChainStep:
    return ChainStep(None, 1, 1, step, data, 1, NOW)


def names(steps: tuple[chains.StepDef, ...]) -> list[str]:
    return [s.name for s in steps]


def refused(key: str, fn: Any, *args: Any) -> dict[str, Any]:
    with pytest.raises(ChainError) as err:
        fn(*args)
    assert err.value.key == key
    return err.value.params


# ---------------------------------------------------------------- the rules


def test_the_default_rework_chain_is_the_seed_procedure_433() -> None:
    assert names(chains.steps_of(REWORK, DEFAULT)) == [
        "goods_received", "rework_plan", "purchase", "rework", "inspection", "customer_check"]
    owners = {n: (s.role, s.department) for n, s in DEFAULT[REWORK].items()}
    assert owners["rework_plan"] == (Role.PRODUCTION, "ENG")  # 工程部 writes the plan
    assert owners["purchase"] == (Role.PRODUCTION, "MAT")  # 物资中心 buys
    assert owners["rework"] == (Role.PRODUCTION, "MFG")  # 制造部 reworks
    assert owners["inspection"] == (Role.QA, "QA")  # 品质保障部 inspects
    assert owners["customer_check"] == (Role.SALES, "SALES")  # 营销部 has the customer check
    assert names(chains.steps_of(REPLACEMENT, DEFAULT)) == ["manufacturing_order", "shipped"]
    assert names(chains.steps_of(RETURN, DEFAULT)) == ["return_received", "sorting"]
    assert not chains.has_chain(DispositionType.EXPLANATION, DEFAULT)
    assert not chains.has_chain(DispositionType.COMPENSATION, DEFAULT)  # its payments


def test_a_company_without_purchase_requests_switches_the_step_off() -> None:
    cfg = chains.settings_from({"rework": {"purchase": {"on": False}}})
    assert "purchase" not in names(chains.steps_of(REWORK, cfg))
    done = [rec("goods_received", received_qty=10), rec("rework_plan")]
    assert chains.next_step(REWORK, cfg, done).name == "rework"  # type: ignore[union-attr]
    assert chains.next_step(REWORK, DEFAULT, done).name == "purchase"  # type: ignore[union-attr]


def test_steps_go_in_order_and_are_recorded_once() -> None:
    params = refused("err.chain_step_order", chains.check_turn, REWORK, "rework", DEFAULT, [])
    assert params == {"chain_step": "goods_received"}
    refused("err.chain_step_done", chains.check_turn, REWORK, "goods_received", DEFAULT,
            [rec("goods_received", received_qty=10)])
    assert t("err.chain_step_order", "zh", **params) == "请先记录“退回货物收货”。"
    assert t("err.chain_step_order", "en", **params) == "Record “Returned goods received” first."


def _check(kind: DispositionType, step: str, values: dict[str, Any],
           records: list[ChainStep], planned: int | None = None,
           cfg: chains.ChainSettings = DEFAULT) -> None:
    chains.check(kind, step, chains.parse(chains.STEP_DEFS[step], values), cfg, records,
                 planned, TODAY)


RECEIVED = [rec("goods_received", received_qty=100, received_on="2026-11-02"),
            rec("rework_plan", rework_plan="换外壳", planned_on="2026-11-20"),
            rec("purchase", request_no="PR-1", arrived_on="2026-11-05")]


def test_no_more_reworked_than_received() -> None:
    params = refused("err.chain_reworked_above", _check, REWORK, "rework",
                     {"reworked_qty": 120, "reworked_on": TODAY}, RECEIVED)
    assert params == {"n": 120, "limit": 100}
    assert t("err.chain_reworked_above", "zh", **params) == "返工数量 120 多于收到的数量 100。"
    _check(REWORK, "rework", {"reworked_qty": 100, "reworked_on": TODAY}, RECEIVED)


def test_no_more_received_than_the_disposition_approved() -> None:
    """Issue #12: 500 returned pieces were accepted for a rework of 160."""
    params = refused("err.chain_received_above", _check, REWORK, "goods_received",
                     {"received_qty": 500, "received_on": TODAY}, [], 160)
    assert params == {"n": 500, "limit": 160}
    assert t("err.chain_received_above", "zh", **params).startswith(
        "收货数量 500 多于处置方案核准的数量 160")
    assert t("err.chain_received_above", "en", **params).startswith(
        "The quantity received (500) is more than the approved disposition's quantity (160)")
    refused("err.chain_received_above", _check, RETURN, "return_received",
            {"received_qty": 21, "received_on": TODAY}, [], 20)
    _check(REWORK, "goods_received", {"received_qty": 160, "received_on": TODAY}, [], 160)
    _check(REWORK, "goods_received", {"received_qty": 120, "received_on": TODAY}, [], 160)
    _check(REWORK, "goods_received", {"received_qty": 500, "received_on": TODAY}, [], None)


def test_without_a_receiving_step_the_approved_quantity_is_the_limit() -> None:
    cfg = chains.settings_from({"rework": {"goods_received": {"on": False},
                                           "purchase": {"on": False}}})
    plan = [rec("rework_plan", rework_plan="x", planned_on="2026-11-20")]
    refused("err.chain_reworked_above", _check, REWORK, "rework",
            {"reworked_qty": 13, "reworked_on": TODAY}, plan, 12, cfg)


def test_inspected_pass_and_fail_are_no_more_than_reworked() -> None:
    reworked = [*RECEIVED, rec("rework", reworked_qty=80, reworked_on="2026-11-09")]
    params = refused("err.chain_inspected_above", _check, REWORK, "inspection",
                     {"passed_qty": 70, "failed_qty": 11, "inspected_on": TODAY}, reworked)
    assert params == {"n": 81, "limit": 80}
    _check(REWORK, "inspection", {"passed_qty": 70, "failed_qty": 10, "inspected_on": TODAY},
           reworked)


def test_sorting_quantities_add_up_to_the_received_quantity() -> None:
    back = [rec("return_received", received_qty=50, received_on="2026-11-03")]
    values = {"good_qty": 30, "scrap_qty": 10, "rework_qty": 5, "discount_qty": 4,
              "receipt_no": "RK-9", "sorted_on": TODAY}
    params = refused("err.chain_sorting_sum", _check, RETURN, "sorting", values, back)
    assert params == {"n": 49, "total": 50}
    assert t("err.chain_sorting_sum", "en", **params) == (
        "The sorted quantities add up to 49; they must add up to the 50 received.")
    _check(RETURN, "sorting", {**values, "discount_qty": 5}, back)


@pytest.mark.parametrize("bad", [-1, "-3", "2.5", "abc", 2.5])
def test_a_quantity_is_a_whole_number_not_below_zero(bad: Any) -> None:
    params = refused("err.quantity", chains.parse, chains.STEP_DEFS["goods_received"],
                     {"received_qty": bad, "received_on": TODAY})
    assert params == {"field": "received_qty"}
    assert t("err.quantity", "zh", **params) == "「收货数量」须为非负整数。"


def test_required_values_are_named() -> None:
    params = refused("err.required", chains.parse, chains.STEP_DEFS["shipped"],
                     {"shipped_on": TODAY, "delivery_note": "  "})
    assert t("err.required", "en", **params).count("Delivery note / tracking no.") == 1
    kept = chains.parse(chains.STEP_DEFS["customer_check"],
                        {"accepted": False, "checked_on": TODAY, "check_note": ""})
    assert kept == {"accepted": False, "checked_on": "2026-11-10", "check_note": ""}


def test_dates_are_not_in_the_future_nor_before_the_step_before() -> None:
    refused("err.future_date", _check, REWORK, "goods_received",
            {"received_qty": 5, "received_on": TODAY + timedelta(days=1)}, [])
    params = refused("err.chain_date_order", _check, REWORK, "rework",
                     {"reworked_qty": 5, "reworked_on": date(2026, 11, 4)}, RECEIVED)
    assert params == {"field": "reworked_on", "prev": "2026-11-05"}
    # a plan's date lies ahead: allowed
    _check(REWORK, "rework_plan", {"rework_plan": "x", "planned_on": TODAY + timedelta(days=30)},
           RECEIVED[:1])


def test_a_customer_who_does_not_accept_opens_rework_inspection_and_check_again() -> None:
    done = [*RECEIVED, rec("rework", reworked_qty=100), rec("inspection", passed_qty=100),
            rec("customer_check", accepted=False)]
    assert chains.next_step(REWORK, DEFAULT, done).name == "rework"  # type: ignore[union-attr]
    assert not chains.finished(REWORK, DEFAULT, done)
    again = [*done, rec("rework", reworked_qty=100), rec("inspection", passed_qty=100),
             rec("customer_check", accepted=True)]
    assert chains.finished(REWORK, DEFAULT, again)
    assert chains.done_quantity(REWORK, again) == 100


def test_who_may_record_a_step() -> None:
    plan = DEFAULT[REWORK]["rework_plan"]  # production of 工程部
    eng = User(1, "e", "E", frozenset({Role.PRODUCTION}), department_id=4)
    mfg = User(2, "m", "M", frozenset({Role.PRODUCTION}), department_id=3)
    qa = User(3, "q", "Q", frozenset({Role.QA}), department_id=9)
    boss = User(4, "b", "B", frozenset({Role.MANAGEMENT}))
    assert chains.may_record(plan, eng, 4, 3) is None
    assert chains.may_record(plan, mfg, 4, 3) == "why.not_your_department"
    assert chains.may_record(plan, qa, 4, 3) == "why.wrong_role"
    assert chains.may_record(plan, boss, 4, 3) is None
    received = DEFAULT[REWORK]["goods_received"]  # the case's responsible department
    assert chains.may_record(received, mfg, None, 3) is None
    assert chains.may_record(received, eng, None, 3) == "why.not_your_department"
    assert chains.may_record(DEFAULT[REWORK]["inspection"], qa, 5, 3) is None


@pytest.mark.parametrize("row,key", [
    ({"department": "NOPE"}, "err.chain_department"),
    ({"days": 0}, "err.chain_days"),
    ({"days": None}, "err.chain_days"),
    ({"role": "admin"}, "err.chain_role"),
    ({"step": "polish"}, "err.chain_unknown_step"),
])
def test_settings_rows_are_checked(row: dict[str, Any], key: str) -> None:
    good = {"chain": "rework", "step": "purchase", "on": False, "role": "production",
            "department": "MAT", "days": 10}
    assert chains.validate([good], {"MAT"}) == {"rework": {"purchase": {
        "on": False, "role": "production", "department": "MAT", "days": 10}}}
    refused(key, chains.validate, [good, {**good, **row}], {"MAT"})


# ---------------------------------------------------------------- the use cases


@dataclass
class Shop:
    kesu: Context
    db: FakeDatabase
    admin: User
    sales: User
    qa: User
    mfg: User  # production of 制造部, the responsible department
    eng: User  # production of 工程部
    mat: User  # production of 物资中心
    paint: User  # production of another department
    boss: User
    cid: int


def _implementing(db: FakeDatabase, cid: int, who: User, mfg: int,
                  *items: tuple[DispositionType, int | None]) -> None:
    """The case as a reply leaves it: approved dispositions, in execution (the approval
    itself is tested in test_lifecycle.py)."""
    with db(write=True) as uow:
        c = uow.complaints.get(cid)
        assert c is not None
        uow.complaints.save(replace(c, state=State.IMPLEMENTING, responsible_department_id=mfg,
                                    version=c.version + 1), c.version)
        for kind, qty in items:
            uow.records.add(Disposition(None, cid, c.approval_round, kind, qty, Decimal("500")))
        uow.events.add(Event(None, cid, NOW, who.id, "reply",
                             {"state": ["replying", "implementing"]}))
        uow.commit()


@pytest.fixture
def shop(kesu: Context, db: FakeDatabase, admin: User, make_user: MakeUser, sales: User,
         qa: User, manager: User, draft: ComplaintDraft) -> Shop:
    dept = {code: uc.reference.save_reference(kesu, admin, Department(0, code, zh, code))
            for code, zh in (("MFG", "制造部"), ("ENG", "工程部"), ("MAT", "物资中心"),
                             ("PNT", "涂装部"), ("QA", "品质保障部"), ("SALES", "营销部"))}
    made = uc.complaints.register_complaint(kesu, sales, with_(draft, received_at=NOW))
    _implementing(db, made.id or 0, sales, dept["MFG"], (REWORK, 100))
    return Shop(kesu, db, admin, sales, qa,
                make_user("ming", Role.PRODUCTION, department_id=dept["MFG"]),
                make_user("eric", Role.PRODUCTION, department_id=dept["ENG"]),
                make_user("matt", Role.PRODUCTION, department_id=dept["MAT"]),
                make_user("otto", Role.PRODUCTION, department_id=dept["PNT"]),
                manager, made.id or 0)


def _disposition(s: Shop, kind: DispositionType = REWORK) -> Disposition:
    f = uc.complaints.case_file(s.kesu, s.admin, s.cid)
    return next(d for d in f.current(f.dispositions) if d.type == kind)


def _events(s: Shop) -> list[Event]:
    return uc.complaints.complaint(s.kesu, s.admin, s.cid).events


def step(s: Shop, who: User, name: str, **values: Any) -> None:
    """Record a step through the use case: one event, one record."""
    n, m = len(_events(s)), len(uc.chains.case_chains(s.kesu, s.admin, s.cid)[0].records)
    uc.chains.record_step(s.kesu, who, _disposition(s).id or 0, name, values)
    assert len(_events(s)) == n + 1
    assert len(uc.chains.case_chains(s.kesu, s.admin, s.cid)[0].records) == m + 1


def test_the_rework_chain_from_goods_back_to_the_customers_check_lets_the_case_complete(
        shop: Shop) -> None:
    s = shop
    with pytest.raises(NotAllowed) as err:  # not before the chain is finished
        uc.closure.complete(s.kesu, s.mfg, s.cid, uc.complaints.case_file(
            s.kesu, s.admin, s.cid).complaint.version)
    assert err.value.key == "why.disposition_open"
    step(s, s.mfg, "goods_received", received_qty=100, received_on=TODAY)
    step(s, s.eng, "rework_plan", rework_plan="更换外壳并全检", planned_on=TODAY)
    step(s, s.mat, "purchase", request_no="PR-2611-01", arrived_on=TODAY)
    step(s, s.mfg, "rework", reworked_qty=100, reworked_on=TODAY)
    step(s, s.qa, "inspection", passed_qty=98, failed_qty=2, inspected_on=TODAY)
    assert not _disposition(s).done
    step(s, s.sales, "customer_check", accepted=True, checked_on=TODAY, check_note="")
    d = _disposition(s)
    assert (d.done, d.done_qty, d.done_by_id) == (True, 100, s.sales.id)
    last = _events(s)[-1]
    assert last.action == "chain_step_recorded"
    assert last.changes["chain_step"] == [None, "customer_check"]
    assert last.changes["chain_done"] == [False, True]
    assert last.changes["accepted"] == [None, True]
    c = uc.complaints.case_file(s.kesu, s.admin, s.cid).complaint
    uc.closure.complete(s.kesu, s.mfg, s.cid, c.version)
    assert uc.complaints.case_file(s.kesu, s.admin, s.cid).complaint.state == State.VERIFYING


def test_bad_input_saves_nothing(shop: Shop) -> None:
    s = shop
    before = (len(_events(s)), uc.complaints.case_file(s.kesu, s.admin, s.cid).complaint.version)
    for values, key in (({"received_qty": -5, "received_on": TODAY}, "err.quantity"),
                        ({"received_qty": 5, "received_on": TODAY + timedelta(days=2)},
                         "err.future_date"),
                        ({"received_on": TODAY}, "err.required")):
        with pytest.raises(InvalidInput) as err:
            uc.chains.record_step(s.kesu, s.mfg, _disposition(s).id or 0, "goods_received",
                                  values)
        assert err.value.key == key
    step(s, s.mfg, "goods_received", received_qty=100, received_on=TODAY)
    with pytest.raises(InvalidInput) as err:
        uc.chains.record_step(s.kesu, s.mfg, _disposition(s).id or 0, "rework",
                              {"reworked_qty": 1, "reworked_on": TODAY})
    assert (err.value.key, err.value.params) == ("err.chain_step_order",
                                                 {"chain_step": "rework_plan"})
    assert len(_events(s)) == before[0] + 1
    assert len(uc.chains.case_chains(s.kesu, s.admin, s.cid)[0].records) == 1


def test_production_records_only_its_own_departments_steps(shop: Shop) -> None:
    s = shop
    for who in (s.paint, s.eng):  # the goods come back to the responsible department
        with pytest.raises(NotAllowed) as err:
            uc.chains.record_step(s.kesu, who, _disposition(s).id or 0, "goods_received",
                                  {"received_qty": 1, "received_on": TODAY})
        assert err.value.key == "why.not_your_department"
    with pytest.raises(NotAllowed) as err:
        uc.chains.record_step(s.kesu, s.sales, _disposition(s).id or 0, "goods_received",
                              {"received_qty": 1, "received_on": TODAY})
    assert err.value.key == "why.wrong_role"
    step(s, s.boss, "goods_received", received_qty=1, received_on=TODAY)  # management may


def test_the_next_step_is_in_my_tasks_with_its_working_day_limit(shop: Shop) -> None:
    s = shop
    mine = [t for t in uc.worklists.tasks(s.kesu, s.mfg) if t.complaint_id == s.cid]
    assert [t.kind for t in mine] == ["chain_step"]
    # Tuesday 10:00 + 2 working days (08:30–17:30) = Thursday 10:00 in Shanghai
    assert mine[0].due_at == datetime(2026, 11, 12, 2, 0, tzinfo=timezone.utc)
    assert not [t for t in uc.worklists.tasks(s.kesu, s.eng) if t.complaint_id == s.cid]
    step(s, s.mfg, "goods_received", received_qty=100, received_on=TODAY)
    assert [t.kind for t in uc.worklists.tasks(s.kesu, s.eng)
            if t.complaint_id == s.cid] == ["chain_step"]
    # My Tasks' first tasks too, though the case is another department's (decision 0014)
    assert [t.kind for t in uc.task_pages.first_tasks(s.kesu, s.eng).items
            if t.complaint_id == s.cid] == ["chain_step"]
    view = uc.chains.case_chains(s.kesu, s.eng, s.cid)[0]
    assert (view.next.name if view.next else None, view.why_not) == ("rework_plan", None)
    assert uc.chains.case_chains(s.kesu, s.mfg, s.cid)[0].why_not == "why.not_your_department"


def test_the_admin_switches_purchase_off_and_the_chain_skips_it(shop: Shop) -> None:
    s = shop
    row = {"chain": "rework", "step": "purchase", "on": False, "role": "production",
           "department": "MAT", "days": 10}
    with pytest.raises(NotAllowed):
        uc.chains.set_chain_settings(s.kesu, s.boss, [row])
    with pytest.raises(InvalidInput) as err:  # one bad row: nothing stored
        uc.chains.set_chain_settings(s.kesu, s.admin, [row, {**row, "step": "rework",
                                                             "days": 400}])
    assert err.value.params == {"chain_step": "rework"}
    assert uc.chains.chain_settings(s.kesu, s.admin)[REWORK]["purchase"].on
    uc.chains.set_chain_settings(s.kesu, s.admin, [row])
    assert not uc.chains.chain_settings(s.kesu, s.admin)[REWORK]["purchase"].on
    assert uc.chains.chain_settings(s.kesu, s.admin)[REWORK]["rework"].on  # others kept
    uc.chains.set_chain_settings(s.kesu, s.admin,
                                 [{**row, "step": "rework", "on": True, "days": 7}])
    cfg = uc.chains.chain_settings(s.kesu, s.admin)
    assert (cfg[REWORK]["purchase"].on, cfg[REWORK]["rework"].days) == (False, 7)  # kept
    step(s, s.mfg, "goods_received", received_qty=100, received_on=TODAY)
    step(s, s.eng, "rework_plan", rework_plan="x", planned_on=TODAY)
    view = uc.chains.case_chains(s.kesu, s.admin, s.cid)[0]
    assert view.next is not None and view.next.name == "rework"


def test_replacement_and_return_chains_finish_their_dispositions(
        kesu: Context, db: FakeDatabase, admin: User, sales: User, make_user: MakeUser,
        draft: ComplaintDraft, manager: User) -> None:
    mfg = uc.reference.save_reference(kesu, admin, Department(0, "MFG", "制造部", "MFG"))
    uc.reference.save_reference(kesu, admin, Department(0, "SALES", "营销部", "Sales"))
    prod = make_user("ming", Role.PRODUCTION, department_id=mfg)
    made = uc.complaints.register_complaint(kesu, sales, with_(draft, received_at=NOW))
    cid = made.id or 0
    _implementing(db, cid, sales, mfg, (REPLACEMENT, 20), (RETURN, 20))
    f = uc.complaints.case_file(kesu, admin, cid)
    rep, ret = f.current(f.dispositions)
    uc.chains.record_step(kesu, sales, rep.id or 0, "manufacturing_order",
                          {"mo_number": "MO-2611-7", "order_qty": 20,
                           "planned_ship_on": TODAY + timedelta(days=5)})
    uc.chains.record_step(kesu, prod, rep.id or 0, "shipped",
                          {"shipped_on": TODAY, "delivery_note": "SF1234567890"})
    uc.chains.record_step(kesu, prod, ret.id or 0, "return_received",
                          {"received_qty": 20, "received_on": TODAY})
    with pytest.raises(InvalidInput) as err:
        uc.chains.record_step(kesu, prod, ret.id or 0, "sorting",
                              {"good_qty": 15, "scrap_qty": 3, "rework_qty": 0,
                               "discount_qty": 0, "receipt_no": "RK-1", "sorted_on": TODAY})
    assert err.value.key == "err.chain_sorting_sum"
    uc.chains.record_step(kesu, prod, ret.id or 0, "sorting",
                          {"good_qty": 15, "scrap_qty": 3, "rework_qty": 0,
                           "discount_qty": 2, "receipt_no": "RK-1", "sorted_on": TODAY})
    f = uc.complaints.case_file(kesu, admin, cid)
    assert [(d.type, d.done, d.done_qty) for d in f.current(f.dispositions)] == [
        (REPLACEMENT, True, 20), (RETURN, True, 20)]


def test_the_handling_form_lists_every_step_in_words(shop: Shop) -> None:
    s = shop
    step(s, s.mfg, "goods_received", received_qty=100, received_on=TODAY)
    step(s, s.eng, "rework_plan", rework_plan="更换外壳", planned_on=TODAY)
    docs = uc.documents.case_documents(s.kesu, s.admin, s.cid, "zh")
    tables = [b for sec in docs.form.sections for b in sec.blocks
              if isinstance(b, Table) and b.caption == t("doc.chain_steps", "zh")]
    assert len(tables) == 1
    rows = tables[0].rows
    assert [r[1] for r in rows] == ["退回货物收货", "工程部返工方案"]
    assert rows[0][0] == "返工" and "收货数量 100" in rows[0][2]
    assert "返工方案 更换外壳" in rows[1][2]
