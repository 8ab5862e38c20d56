"""Meetings and assisting departments on a real database (issue #12 items 7-8): every field
comes back, record-level visibility in SQL lets an assisting department see the case, and
migration 0020 turns an old meeting's one action item into its first item."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from core.model import (
    CapaType, Category, Channel, Customer, DefectType, Department, DispositionType, Guest,
    ItemType, Kind, RegisterFilter, Role, Severity, Validity,
)
from core.rules.meetings import ItemDraft
from core.usecases.accounts import UserInput
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from db.engine import ROOT, migrate
from tests.integration.conftest import PASSWORD, engine_of
from core import usecases as uc

TODAY = date(2026, 3, 15)


def _crew(app: Context) -> tuple:  # type: ignore[type-arg]
    admin = uc.accounts.create_first_admin(app, "admin", "Admin", PASSWORD)
    press, eng = (uc.reference.save_reference(app, admin, Department(0, c, zh, en))
                  for c, zh, en in (("PRS", "冲压车间", "Press"), ("ENG", "工程部", "Engineering")))

    def user(name: str, role: Role, dept: int | None = None):  # type: ignore[no-untyped-def]
        return uc.accounts.create_user(app, admin, UserInput(name, name, frozenset({role}), dept),
                                       PASSWORD)

    sales, qa = user("sales", Role.SALES), user("qa", Role.QA)
    lead, helper = user("lead", Role.PRODUCTION, press), user("eng", Role.PRODUCTION, eng)
    cust = uc.reference.save_reference(app, admin, Customer(0, "Acme"))
    defect = uc.reference.save_reference(app, admin, DefectType(0, "SCR", "划伤", "Scratch"))
    return admin, press, eng, sales, qa, lead, helper, cust, defect


def test_meeting_and_assisting_department_round_trip(app: Context) -> None:
    admin, press, eng, sales, qa, lead, helper, cust, defect = _crew(app)
    uc.reference.set_settings(app, admin, {"record_visibility": "department"})
    c = uc.complaints.register_complaint(app, sales, ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.PHONE, description="划伤 12 件",
        product_code="P-1", defect_type_id=defect, severity_proposed=Severity.C))
    cid = c.id or 0

    def v() -> int:
        return uc.complaints.case_file(app, qa, cid).complaint.version

    uc.investigation.dispatch(app, sales, cid, v())
    uc.investigation.acknowledge(app, qa, cid, v())
    uc.investigation.classify(app, qa, cid, v(), Validity.VALID, Category.QUALITY, Severity.C,
                              press, "", {eng: "核对治具图纸"})
    due = TODAY + timedelta(days=10)
    uc.meetings.add_meeting(app, sales, cid, TODAY, [qa.id], "冲压车间主责，工程部协助",
                            [ItemDraft("隔离库存", lead.id, TODAY, ItemType.CONTAINMENT),
                             ItemDraft("更换夹具", lead.id, due, ItemType.CORRECTIVE)],
                            guests=[("王工", "工程部")], department_id=press,
                            direction=DispositionType.REWORK)
    [m] = uc.meetings.meetings(app, qa, cid)
    assert (m.guests, m.department_id, m.direction) == ((Guest("王工", "工程部"),), press,
                                                        DispositionType.REWORK)
    items = uc.meetings.meeting_items(app, qa, cid)
    assert [(x.seq, x.type, x.due_date) for x in items] == [
        (1, ItemType.CONTAINMENT, TODAY), (2, ItemType.CORRECTIVE, due)]
    # the assisting department sees the case in the register (SQL) and its task, adds its part
    rows, total = uc.search.register(app, helper, RegisterFilter())
    assert total == 1 and rows[0].id == cid
    assert [t.kind for t in uc.worklists.tasks(app, helper)] == ["assist"]
    uc.investigation.add_capa(app, helper, cid, CapaType.PREVENTIVE, "图纸加公差", helper.id, due)
    uc.assisting.save_findings(app, helper, cid, "图纸公差过松")
    case = uc.complaints.case_file(app, qa, cid)
    assert [(a.description, a.department_id) for a in case.capa] == [
        ("更换夹具", None), ("图纸加公差", eng)]
    [a] = case.assists
    assert (a.department_id, a.ask, a.findings, a.ended_at) == (eng, "核对治具图纸",
                                                                "图纸公差过松", None)
    v2 = case.complaint.version
    uc.assisting.set_assisting(app, qa, cid, v2, {})
    assert uc.search.register(app, helper, RegisterFilter())[1] == 0


def test_migration_0020_makes_an_old_meetings_action_item_its_first_item(
        app: Context, db_url: str) -> None:
    admin, press, eng, sales, qa, lead, helper, cust, defect = _crew(app)
    c = uc.complaints.register_complaint(app, sales, ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.PHONE, description="x",
        product_code="P-1", defect_type_id=defect))
    cid = c.id or 0
    _downgrade(db_url, "0020")  # the migrations after 0020 first, as a 0019 database lacks them
    # a meeting as kesu recorded it before 0020: its one item a corrective CAPA action, no link
    with engine_of(app).begin() as conn:
        conn.execute(text("INSERT INTO capa_actions (complaint_id, type, description, owner_id, "
                          "due_date, status, evidence) VALUES (:c, 'corrective', '自行添加', :o, "
                          ":d, 'open', '')"), {"c": cid, "o": lead.id, "d": TODAY})
        conn.execute(text("INSERT INTO events (complaint_id, at, user_id, action, changes, "
                          "comment) VALUES (:c, '2026-03-15 04:00:00', :u, 'capa_added', "
                          "'{\"capa\": [null, \"自行添加\"]}', '')"), {"c": cid, "u": lead.id})
        conn.execute(text("INSERT INTO capa_actions (complaint_id, type, description, owner_id, "
                          "due_date, status, evidence) VALUES (:c, 'corrective', '夹具点检', :o, "
                          ":d, 'open', '')"), {"c": cid, "o": qa.id, "d": TODAY})
        conn.execute(text("INSERT INTO meetings (complaint_id, date, attendee_ids, decisions, "
                          "by_id, at, guests) VALUES (:c, :d, '[1]', '决定', :u, "
                          "'2026-03-15 05:00:00', '[]')"), {"c": cid, "d": TODAY, "u": sales.id})
        conn.execute(text("INSERT INTO events (complaint_id, at, user_id, action, changes, "
                          "comment) VALUES (:c, '2026-03-15 05:00:00', :u, 'meeting_recorded', "
                          "'{\"action_items\": [null, 1]}', '')"), {"c": cid, "u": sales.id})
        conn.execute(text("DELETE FROM meeting_items"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0019'"))
    # 0020 again: drop what it made, then upgrade from 0019 as an old database would
    with engine_of(app).begin() as conn:
        conn.execute(text("DROP TABLE case_assists"))
        conn.execute(text("DROP TABLE meeting_items"))
    _drop_0020_columns(app)
    migrate(db_url)
    [item] = uc.meetings.meeting_items(app, qa, cid)
    capa = uc.complaints.case_file(app, qa, cid).capa
    assert (item.seq, item.type, item.description, item.owner_id, item.capa_id) == (
        1, ItemType.CORRECTIVE, "夹具点检", qa.id, capa[1].id)
    [m] = uc.meetings.meetings(app, qa, cid)
    assert (m.decisions, m.guests, m.department_id, m.direction) == ("决定", (), None, None)


def _downgrade(db_url: str, rev: str) -> None:
    from alembic import command
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    command.downgrade(cfg, rev)


def _drop_0020_columns(app: Context) -> None:
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    with engine_of(app).begin() as conn:
        op = Operations(MigrationContext.configure(conn))
        with op.batch_alter_table("capa_actions") as t:
            t.drop_constraint("fk_capa_actions_department_id", type_="foreignkey")
            t.drop_column("department_id")
        with op.batch_alter_table("meetings") as t:
            t.drop_constraint("fk_meetings_department_id", type_="foreignkey")
            t.drop_column("direction")
            t.drop_column("department_id")
            t.drop_column("guests")
