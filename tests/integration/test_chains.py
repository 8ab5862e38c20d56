"""Execution chains on the real databases (SQLite file, PostgreSQL): every step of a rework
recorded through the use cases comes back as typed (quantities, dates, yes/no, Chinese text),
the last one lets the case complete; the handling form's PDF and Excel list the steps; the
chains' settings are stored as data; a bad step writes nothing; migration 0018 keeps an
execution recorded before it done."""
from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from openpyxl import load_workbook

from core.errors import InvalidInput
from core.model import (
    ChainStep, Department, Disposition, DispositionType, Event, Role, State, User,
)
from core.usecases.accounts import UserInput
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from db.engine import ROOT, make_engine
from tests.integration.conftest import NOW, PASSWORD, World
from tests.integration.test_documents_render import _flat, _pages
from ui.pdf import to_pdf
from ui.xlsx import to_xlsx
from core import usecases as uc

TODAY = date(2026, 3, 15)  # NOW in Shanghai (a Sunday: the limits count from Monday)


@dataclasses.dataclass
class Team:
    mfg: User
    eng: User
    mat: User
    cid: int


def _user(app: Context, world: World, name: str, role: Role, dept: int | None) -> User:
    return uc.accounts.create_user(app, world.admin,
                                   UserInput(name, name, frozenset({role}), dept), PASSWORD)


@pytest.fixture
def team(app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> Team:
    dept = {code: uc.reference.save_reference(app, world.admin, Department(0, code, zh, code))
            for code, zh in (("MFG", "制造部"), ("ENG", "工程部"), ("MAT", "物资中心"),
                             ("SALES", "营销部"))}
    made = uc.complaints.register_complaint(app, world.sales, draft())
    cid = made.id or 0
    # as a reply leaves a case whose rework of 100 was approved (the approval itself: the
    # lifecycle tests)
    with app.uow(write=True) as uow:
        c = uow.complaints.get(cid)
        assert c is not None
        uow.complaints.save(dataclasses.replace(
            c, state=State.IMPLEMENTING, responsible_department_id=dept["MFG"],
            version=c.version + 1), c.version)
        uow.records.add(Disposition(None, cid, c.approval_round, DispositionType.REWORK, 100,
                                    Decimal("800.00")))
        uow.events.add(Event(None, cid, NOW, world.sales.id, "reply",
                             {"state": ["replying", "implementing"]}))
        uow.commit()
    return Team(_user(app, world, "mfg1", Role.PRODUCTION, dept["MFG"]),
                _user(app, world, "eng1", Role.PRODUCTION, dept["ENG"]),
                _user(app, world, "mat1", Role.PRODUCTION, dept["MAT"]), cid)


def _rework(app: Context, world: World, cid: int) -> Disposition:
    f = uc.complaints.case_file(app, world.admin, cid)
    [d] = f.current(f.dispositions)
    return d


def test_a_rework_chain_round_trips_and_lets_the_case_complete(app: Context, world: World,
                                                               team: Team) -> None:
    d = _rework(app, world, team.cid)
    steps: list[tuple[User, str, dict[str, Any]]] = [
        (team.mfg, "goods_received", {"received_qty": 100, "received_on": TODAY}),
        (team.eng, "rework_plan", {"rework_plan": "更换外壳，100% 全检", "planned_on":
                                   date(2026, 3, 20)}),
        (team.mat, "purchase", {"request_no": "请购-2603-01", "arrived_on": TODAY}),
        (team.mfg, "rework", {"reworked_qty": 100, "reworked_on": TODAY}),
        (world.qa, "inspection", {"passed_qty": 97, "failed_qty": 3, "inspected_on": TODAY}),
        (world.sales, "customer_check", {"accepted": False, "checked_on": TODAY,
                                         "check_note": "客户要求再挑一次"}),
        (team.mfg, "rework", {"reworked_qty": 3, "reworked_on": TODAY}),
        (world.qa, "inspection", {"passed_qty": 3, "failed_qty": 0, "inspected_on": TODAY}),
        (world.sales, "customer_check", {"accepted": True, "checked_on": TODAY,
                                         "check_note": ""}),
    ]
    for who, name, values in steps:
        uc.chains.record_step(app, who, d.id or 0, name, values)
    [view] = uc.chains.case_chains(app, world.admin, team.cid)
    assert view.finished and view.next is None
    assert [(r.step, r.by_id) for r in view.records] == [(n, w.id) for w, n, _ in steps]
    assert all(r.at == NOW and r.at.tzinfo is not None for r in view.records)
    assert view.records[0].data == {"received_qty": 100, "received_on": "2026-03-15"}
    assert view.records[1].data == {"rework_plan": "更换外壳，100% 全检",
                                    "planned_on": "2026-03-20"}
    assert view.records[5].data == {"accepted": False, "checked_on": "2026-03-15",
                                    "check_note": "客户要求再挑一次"}
    done = _rework(app, world, team.cid)
    assert (done.done, done.done_qty, done.done_by_id, done.done_at) == (True, 3,
                                                                         world.sales.id, NOW)
    events = [e for e in uc.complaints.complaint(app, world.admin, team.cid).events
              if e.action == "chain_step_recorded"]
    assert len(events) == len(steps)
    assert events[-1].changes["chain_done"] == [False, True]
    c = uc.complaints.case_file(app, world.admin, team.cid).complaint
    uc.closure.complete(app, world.manager, team.cid, c.version)
    assert uc.complaints.case_file(app, world.admin, team.cid).complaint.state == \
        State.VERIFYING


def test_the_handling_form_pdf_and_excel_show_every_step(app: Context, world: World,
                                                         team: Team) -> None:
    d = _rework(app, world, team.cid)
    uc.chains.record_step(app, team.mfg, d.id or 0, "goods_received",
                          {"received_qty": 100, "received_on": TODAY})
    uc.chains.record_step(app, team.eng, d.id or 0, "rework_plan",
                          {"rework_plan": "更换外壳并全检", "planned_on": date(2026, 3, 20)})
    form = uc.documents.case_documents(app, world.qa, team.cid, "zh").form
    pdf = "".join(_pages(to_pdf(form)))
    for expected in ("执行过程", "退回货物收货", "收货数量100", "工程部返工方案",
                     "返工方案更换外壳并全检", "计划完成日期2026-03-20"):
        assert _flat(expected) in pdf, expected
    book = load_workbook(io.BytesIO(to_xlsx(form)))
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert "退回货物收货" in cells and "工程部返工方案" in cells
    assert any("收货数量 100" in c for c in cells)


def test_a_refused_step_writes_nothing(app: Context, world: World, team: Team) -> None:
    d = _rework(app, world, team.cid)
    uc.chains.record_step(app, team.mfg, d.id or 0, "goods_received",
                          {"received_qty": 50, "received_on": TODAY})
    uc.chains.record_step(app, team.eng, d.id or 0, "rework_plan",
                          {"rework_plan": "返修", "planned_on": TODAY})
    uc.chains.record_step(app, team.mat, d.id or 0, "purchase",
                          {"request_no": "PR-1", "arrived_on": TODAY})
    version = uc.complaints.case_file(app, world.admin, team.cid).complaint.version
    with pytest.raises(InvalidInput) as err:
        uc.chains.record_step(app, team.mfg, d.id or 0, "rework",
                              {"reworked_qty": 60, "reworked_on": TODAY})
    assert (err.value.key, err.value.params) == ("err.chain_reworked_above",
                                                 {"n": 60, "limit": 50})
    assert uc.complaints.case_file(app, world.admin, team.cid).complaint.version == version
    with app.uow() as uow:
        assert len(uow.records.where(ChainStep, complaint_id=team.cid)) == 3


def test_the_chains_settings_are_stored_as_data(app: Context, world: World,
                                                make_app: Callable[..., Context]) -> None:
    uc.chains.set_chain_settings(app, world.admin, [
        {"chain": "rework", "step": "purchase", "on": False, "role": "production",
         "department": "", "days": 10},
        {"chain": "return", "step": "sorting", "on": True, "role": "qa", "department": "QA",
         "days": 7}])
    other = make_app()  # another instance reads what this one stored
    cfg = uc.chains.chain_settings(other, world.admin)
    assert not cfg[DispositionType.REWORK]["purchase"].on
    assert (cfg[DispositionType.RETURN]["sorting"].role,
            cfg[DispositionType.RETURN]["sorting"].department,
            cfg[DispositionType.RETURN]["sorting"].days) == (Role.QA, "QA", 7)
    assert cfg[DispositionType.REWORK]["rework_plan"].department == "ENG"  # the seed's default


# ---------------------------------------------------------------- migration 0018


def _alembic(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _filler(col: sa.Column[Any]) -> Any:
    """A value for a required column the test does not care about."""
    kind = col.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, (sa.Integer, sa.Numeric)):
        return 0
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 3, 1, 1, 30)
    if isinstance(kind, sa.Date):
        return date(2026, 3, 1)
    return ""


def _insert(conn: sa.Connection, table: sa.Table, **values: Any) -> int:
    row = {c.name: _filler(c) for c in table.columns
           if not c.nullable and not c.primary_key and c.server_default is None}
    row.update(values)
    return int(conn.execute(table.insert().values(**row).returning(table.c.id)).scalar_one())


def test_migration_0018_keeps_an_execution_recorded_before_it_done(
        db_url: str, make_app: Callable[..., Context]) -> None:
    cfg = _alembic(db_url)
    command.upgrade(cfg, "0017")
    engine = make_engine(db_url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine, only=["users", "customers", "complaints", "dispositions"])
        t = meta.tables
        with engine.begin() as conn:
            uid = _insert(conn, t["users"], username="old", display_name="老生产",
                          roles="production,management", active=True, language="zh")
            cust = _insert(conn, t["customers"], name="老客户", market="domestic",
                           language="zh", active=True)
            cid = _insert(conn, t["complaints"], number="KS2603-001", channel="phone",
                          kind="complaint", category="quality", customer_id=cust,
                          received_by_id=uid, updated_by_id=uid, state="implementing",
                          version=7, approval_round=1, description="旧投诉")
            _insert(conn, t["dispositions"], complaint_id=cid, round=1, type="rework",
                    quantity=40, amount=Decimal("300"), done=True, done_qty=40,
                    done_note="返工完成（旧记录）", done_by_id=uid,
                    done_at=datetime(2026, 3, 10, 2, 0))
        command.upgrade(cfg, "0018")
        assert "chain_steps" in sa.inspect(engine).get_table_names()
        command.downgrade(cfg, "0017")
        assert "chain_steps" not in sa.inspect(engine).get_table_names()
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
    app = make_app(clock=lambda: NOW)
    old = uc.accounts.active_user(app, "old")
    assert old is not None
    [view] = uc.chains.case_chains(app, old, cid)
    d = view.disposition
    assert (d.done, d.done_qty, d.done_note, d.done_at) == (
        True, 40, "返工完成（旧记录）", datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc))
    assert view.finished and view.records == () and view.next is None
    uc.closure.complete(app, old, cid, 7)  # nothing left to execute


def test_the_next_steps_owner_is_told_it_is_their_turn(app: Context, world: World,
                                                       team: Team) -> None:
    """Goods received by 制造部 → 工程部's people find "your turn: rework plan" in their inbox;
    物资中心 and 制造部 do not (their steps come later or are done)."""
    d = _rework(app, world, team.cid)
    uc.chains.record_step(app, team.mfg, d.id or 0, "goods_received",
                          {"received_qty": 100, "received_on": TODAY})

    def told(u: User) -> list[dict[str, Any]]:
        return [n.params for n in uc.notices.inbox(app, u) if n.kind == "chain_step_due"]
    assert [p["chain_step"] for p in told(team.eng)] == ["rework_plan"]
    assert told(team.mat) == [] and told(team.mfg) == []
    uc.chains.record_step(app, team.eng, d.id or 0, "rework_plan",
                          {"rework_plan": "返工", "planned_on": TODAY})
    assert [p["chain_step"] for p in told(team.mat)] == ["purchase"]
