"""Record-level visibility (issue #11 item 8), on the real database: with the setting on,
sales see their department's customers, production its department's cases, everyone what
they logged; QA and management all. The register, a number search, the export, the Stats
drill-down, the case itself, its documents and attachments, and My Tasks obey it."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from core import usecases as uc
from core.errors import NotFound
from core.model import Customer, Department, RegisterFilter, Role, User
from core.usecases.accounts import UserInput
from core.usecases.complaints import ComplaintDraft, Upload
from core.usecases.context import Context
from tests.integration.conftest import PASSWORD, World, engine_of

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
       b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


@dataclass
class Firm:
    east: User  # sales, 华东营销部
    north: User  # sales, 华北营销部
    press: User  # production, 冲压车间
    east_case: int
    north_case: int
    own_case: int  # logged by `north` for an east customer
    numbers: dict[int, str]


def _dept(app: Context, admin: User, code: str, zh: str, en: str) -> int:
    return uc.reference.save_reference(app, admin, Department(0, code, zh, en))


def _user(app: Context, admin: User, name: str, role: Role, dept: int) -> User:
    return uc.accounts.create_user(app, admin, UserInput(name, name, frozenset({role}), dept),
                                   PASSWORD)


@pytest.fixture
def firm(app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> Firm:
    admin = world.admin
    east_d, north_d = (_dept(app, admin, "S-E", "华东营销部", "Sales East"),
                       _dept(app, admin, "S-N", "华北营销部", "Sales North"))
    press_d = _dept(app, admin, "PRESS", "冲压车间", "Press shop")
    save = uc.reference.save_reference
    east_c = save(app, admin, Customer(0, "上海甲公司", department_id=east_d))
    north_c = save(app, admin, Customer(0, "北京乙公司", department_id=north_d))
    east, north = (_user(app, admin, "east", Role.SALES, east_d),
                   _user(app, admin, "north", Role.SALES, north_d))
    press = _user(app, admin, "press", Role.PRODUCTION, press_d)
    cases = [uc.complaints.register_complaint(app, who, draft(customer_id=cust))
             for who, cust in ((east, east_c), (north, north_c), (north, east_c))]
    engine = engine_of(app)
    with engine.begin() as conn:  # QA assigned the east case to the press shop
        conn.execute(text("UPDATE complaints SET responsible_department_id = :d WHERE id = :i"),
                     {"d": press_d, "i": cases[0].id})
    uc.reference.set_settings(app, admin, {"record_visibility": "department"})
    return Firm(east, north, press, cases[0].id or 0, cases[1].id or 0, cases[2].id or 0,
                {c.id or 0: c.number for c in cases})


def _register(app: Context, who: User) -> set[int]:
    rows, total = uc.search.register(app, who, RegisterFilter(page_size=100))
    assert total == len(rows)
    return {r.id for r in rows}


def test_each_sees_their_departments_cases_and_their_own(app: Context, world: World,
                                                          firm: Firm) -> None:
    assert _register(app, firm.east) == {firm.east_case, firm.own_case}  # their customers
    assert _register(app, firm.north) == {firm.north_case, firm.own_case}  # logged it
    assert _register(app, firm.press) == {firm.east_case}  # responsible for it
    everything = {firm.east_case, firm.north_case, firm.own_case}
    assert _register(app, world.qa) == everything
    assert _register(app, world.manager) == everything
    assert {r.id for r in uc.search.register_all(app, firm.east, RegisterFilter())} == {
        firm.east_case, firm.own_case}  # the export
    exported = uc.search.register_export(app, firm.east, RegisterFilter(), batch=1)
    assert exported.total == 2  # the Log page's Excel register (issue #13)
    assert {line.id for batch in exported.batches for line in batch} == {
        firm.east_case, firm.own_case}


def test_a_case_out_of_sight_is_not_found_whichever_way(app: Context, world: World,
                                                        firm: Firm) -> None:
    other = firm.north_case
    for read in (uc.complaints.complaint, uc.complaints.case_file, uc.documents.case_records,
                 uc.timing.due_times):
        with pytest.raises(NotFound):
            read(app, firm.east, other)
    assert uc.search.complaint_id_by_number(app, firm.east, firm.numbers[other]) is None
    assert uc.search.complaint_id_by_number(app, world.qa, firm.numbers[other]) == other
    with pytest.raises(NotFound):  # nor can they act on it
        uc.investigation.dispatch(app, firm.east, other, 1)
    with pytest.raises(NotFound):
        uc.complaints.add_attachments(app, firm.east, other, [Upload("a.png", PNG)])
    uc.complaints.add_attachments(app, firm.north, other, [Upload("a.png", PNG)])
    [att] = uc.complaints.complaint(app, firm.north, other).attachments
    with pytest.raises(NotFound):
        uc.complaints.attachment(app, firm.east, att.id or 0)
    assert uc.complaints.attachment(app, firm.north, att.id or 0)[1] == PNG


def test_my_tasks_list_only_cases_in_sight(app: Context, world: World, firm: Firm) -> None:
    assert {t.complaint_id for t in uc.worklists.tasks(app, firm.east)} <= {firm.east_case,
                                                                             firm.own_case}
    assert firm.north_case not in {t.complaint_id for t in uc.worklists.tasks(app, firm.east)}
    assert {t.complaint_id for t in uc.worklists.tasks(app, firm.north)} >= {firm.north_case}


def test_switched_off_everyone_sees_everything_again(app: Context, world: World,
                                                     firm: Firm) -> None:
    uc.reference.set_settings(app, world.admin, {"record_visibility": "all"})
    everything = {firm.east_case, firm.north_case, firm.own_case}
    assert _register(app, firm.east) == everything
    assert uc.complaints.complaint(app, firm.east, firm.north_case).complaint.id == firm.north_case


def test_a_customer_added_on_the_log_page_belongs_to_its_sales_department(
        app: Context, world: World, firm: Firm) -> None:
    new_id = uc.reference.save_reference(app, firm.east, Customer(0, "杭州丙公司",
                                                                   department_id=None))
    [c] = [x for x in uc.reference.customers(app) if x.id == new_id]
    assert c.department_id == firm.east.department_id
    made = dataclasses.replace(c, id=0, name="苏州丁公司", department_id=firm.north.department_id)
    other = uc.reference.save_reference(app, firm.east, made)  # not another's department
    assert [x.department_id for x in uc.reference.customers(app) if x.id == other] == [
        firm.east.department_id]
