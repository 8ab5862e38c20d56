"""Meetings as the seed runs them (4.2.1) and assisting departments (issue #12 items 7-8)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

from core.errors import InvalidInput, NotAllowed, NotFound
from core.model import (
    Assist, CapaType, Category, Department, DispositionType, Guest, ItemType, Kind, Role, Severity,
    State, User, Validity,
)
from core.rules import meetings as rules
from core.rules.calendar import WorkCalendar
from core.rules.meetings import ItemDraft
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.unit.conftest import MakeUser, with_
from tests.unit.fakes import FakeClock
from core import usecases as uc

TODAY = date(2026, 11, 10)
AT = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------- pure rules


def test_typed_guests_are_trimmed_and_blank_rows_dropped() -> None:
    assert rules.guests([(" 王工 ", " 工程部 "), ("", ""), ("李四", "")]) == (
        Guest("王工", "工程部"), Guest("李四", ""))


def test_a_guest_company_without_a_name_is_refused() -> None:
    with pytest.raises(InvalidInput) as e:
        rules.guests([("", "物资中心")])
    assert e.value.params == {"field": "guest_name"}


def test_every_problem_of_the_action_items_is_numbered() -> None:
    problems = rules.item_problems(
        [ItemDraft("ok", 1, TODAY), ItemDraft("no owner", None, TODAY),
         ItemDraft("late", 1, TODAY - timedelta(days=1), ItemType.CONTAINMENT),
         ItemDraft("", 1, None, ItemType.OTHER)], TODAY, frozenset({1}))
    assert [(p.key, p.params["n"], p.params["field"]) for p in problems] == [
        ("err.item_required", 2, "owner"),
        ("err.item_past_date", 3, "due_date"),
        ("err.item_required", 4, "capa_description"),
        ("err.item_required", 4, "due_date"),
    ]


def test_an_inactive_owner_is_no_owner() -> None:
    [p] = rules.item_problems([ItemDraft("x", 7, TODAY)], TODAY, frozenset({1}))
    assert p.params["field"] == "owner"


def test_the_first_meeting_waits_only_when_the_setting_is_on() -> None:
    assert rules.first_meeting_pending(Kind.COMPLAINT, State.DISPATCHED, 2, held=False)
    assert not rules.first_meeting_pending(Kind.COMPLAINT, State.DISPATCHED, 0, held=False)
    assert not rules.first_meeting_pending(Kind.COMPLAINT, State.DISPATCHED, 2, held=True)
    assert not rules.first_meeting_pending(Kind.INQUIRY, State.DISPATCHED, 2, held=False)
    assert not rules.first_meeting_pending(Kind.COMPLAINT, State.ROOT_CAUSE, 2, held=False)


def test_the_first_meeting_is_due_n_working_days_after_dispatch() -> None:
    from zoneinfo import ZoneInfo
    cal = WorkCalendar(tz=ZoneInfo("Asia/Shanghai"))
    friday_10 = datetime(2026, 11, 13, 2, 0, tzinfo=timezone.utc)
    # two working days from Friday 10:00 is Tuesday 10:00 (the weekend does not count)
    assert rules.first_meeting_due(friday_10, 2, cal) == datetime(2026, 11, 17, 2, 0,
                                                                  tzinfo=timezone.utc)


def test_assisting_departments_change_by_adding_ending_and_rewording() -> None:
    now = AT
    cur = [Assist(1, 9, 3, "图纸", 1, now), Assist(2, 9, 4, "采购", 1, now),
           Assist(3, 9, 5, "old", 1, now, ended_at=now)]
    ch = rules.assist_change(cur, {3: "图纸 与 BOM", 5: "再次协助", 6: ""}, lead=2)
    assert ch.added == ((5, "再次协助"), (6, ""))
    assert [a.department_id for a in ch.ended] == [4]
    assert [(a.department_id, ask) for a, ask in ch.reworded] == [(3, "图纸 与 BOM")]


def test_the_lead_department_cannot_also_assist() -> None:
    with pytest.raises(InvalidInput) as e:
        rules.assist_change([], {2: ""}, lead=2)
    assert e.value.key == "err.assist_is_lead"


# ---------------------------------------------------------------- use cases


@dataclass
class Crew:
    kesu: Context
    sales: User
    qa: User
    lead: User  # production of the lead responsible department
    eng: User  # production of engineering (工程部), asked to assist
    other: User  # production of a third department
    press: int
    engineering: int
    materials: int


@pytest.fixture
def crew(kesu: Context, admin: User, make_user: MakeUser, sales: User, qa: User) -> Crew:
    ids = [uc.reference.save_reference(kesu, admin, Department(0, code, zh, en))
           for code, zh, en in (("PRS", "冲压车间", "Press shop"), ("ENG", "工程部", "Engineering"),
                                ("MAT", "物资中心", "Materials"))]
    return Crew(kesu, sales, qa, make_user("lead", Role.PRODUCTION, department_id=ids[0]),
                make_user("eng", Role.PRODUCTION, department_id=ids[1]),
                make_user("mat", Role.PRODUCTION, department_id=ids[2]), *ids)


def _case(w: Crew, draft: ComplaintDraft, state: State = State.ROOT_CAUSE,
          assisting: dict[int, str] | None = None) -> int:
    c = uc.complaints.register_complaint(w.kesu, w.sales,
                                         with_(draft, severity_proposed=Severity.C))
    cid = c.id or 0

    def v() -> int:
        return uc.complaints.case_file(w.kesu, w.qa, cid).complaint.version

    uc.investigation.dispatch(w.kesu, w.sales, cid, v())
    if state == State.DISPATCHED:
        return cid
    uc.investigation.acknowledge(w.kesu, w.qa, cid, v())
    if state == State.INVESTIGATING:
        return cid
    uc.investigation.classify(w.kesu, w.qa, cid, v(), Validity.VALID, Category.QUALITY,
                              Severity.C, w.press, "", assisting)
    return cid


def test_a_meeting_keeps_typed_guests_decisions_and_typed_items(crew: Crew,
                                                                draft: ComplaintDraft) -> None:
    w = crew
    cid = _case(w, draft)
    due = TODAY + timedelta(days=14)
    uc.meetings.add_meeting(
        w.kesu, w.sales, cid, TODAY, [w.qa.id], "确认客诉现象；冲压车间主责，工程部协助",
        [ItemDraft("库存隔离", w.lead.id, TODAY, ItemType.CONTAINMENT),
         ItemDraft("更换夹具", w.lead.id, due, ItemType.CORRECTIVE),
         ItemDraft("夹具纳入点检", w.qa.id, due, ItemType.PREVENTIVE),
         ItemDraft("通知客户", w.sales.id, due, ItemType.OTHER)],
        guests=[("王工", "工程部"), ("赵主任", "物资中心")], department_id=w.press,
        direction=DispositionType.REWORK)
    [m] = uc.meetings.meetings(w.kesu, w.qa, cid)
    assert m.guests == (Guest("王工", "工程部"), Guest("赵主任", "物资中心"))
    assert (m.attendee_ids, m.department_id, m.direction) == ((w.qa.id,), w.press,
                                                              DispositionType.REWORK)
    items = uc.meetings.meeting_items(w.kesu, w.qa, cid)
    assert [(x.seq, x.type) for x in items] == [
        (1, ItemType.CONTAINMENT), (2, ItemType.CORRECTIVE), (3, ItemType.PREVENTIVE),
        (4, ItemType.OTHER)]
    capa = uc.complaints.case_file(w.kesu, w.qa, cid).capa
    # only the corrective and the preventive item became CAPA actions, linked from the items
    assert [(a.type, a.description) for a in capa] == [(CapaType.CORRECTIVE, "更换夹具"),
                                                       (CapaType.PREVENTIVE, "夹具纳入点检")]
    assert [x.capa_id for x in items] == [None, capa[0].id, capa[1].id, None]
    last = uc.complaints.complaint(w.kesu, w.qa, cid).events[-1]
    assert last.changes["meeting_department"] == [None, str(w.press)]
    assert last.changes["direction"] == [None, "rework"]


def test_typed_attendees_alone_make_a_meeting(crew: Crew, draft: ComplaintDraft) -> None:
    cid = _case(crew, draft)
    uc.meetings.add_meeting(crew.kesu, crew.sales, cid, TODAY, [], "现场确认",
                            guests=[("王工", "工程部")])
    assert len(uc.meetings.meetings(crew.kesu, crew.qa, cid)) == 1


def test_a_meeting_with_many_problems_says_them_all_and_saves_nothing(
        crew: Crew, draft: ComplaintDraft) -> None:
    w = crew
    cid = _case(w, draft)
    before = uc.complaints.case_file(w.kesu, w.qa, cid)
    with pytest.raises(InvalidInput) as e:
        uc.meetings.add_meeting(w.kesu, w.sales, cid, TODAY, [], "决定",
                                [ItemDraft("a", None, TODAY),
                                 ItemDraft("b", w.lead.id, TODAY - timedelta(days=1))])
    assert [x.key for x in e.value.all] == ["err.meeting_no_attendee", "err.item_required",
                                            "err.item_past_date"]
    after = uc.complaints.case_file(w.kesu, w.qa, cid)
    assert after.complaint.version == before.complaint.version and after.capa == []
    assert uc.meetings.meetings(w.kesu, w.qa, cid) == []


def test_the_first_meeting_is_qas_task_with_its_due_time_until_one_is_held(
        crew: Crew, draft: ComplaintDraft, admin: User, clock: FakeClock) -> None:
    w = crew
    cid = _case(w, draft, State.DISPATCHED)
    assert "first_meeting" not in {t.kind for t in uc.worklists.tasks(w.kesu, w.qa)}
    assert uc.meetings.first_meeting_due(w.kesu, w.qa, cid) is None  # the setting is off
    uc.reference.set_settings(w.kesu, admin, {"first_meeting_days": 2})
    [task] = [t for t in uc.worklists.tasks(w.kesu, w.qa) if t.kind == "first_meeting"]
    # dispatched Tuesday 10:00 (Shanghai): due Thursday 10:00
    assert task.complaint_id == cid
    assert task.due_at == datetime(2026, 11, 12, 2, 0, tzinfo=timezone.utc)
    assert uc.meetings.first_meeting_due(w.kesu, w.qa, cid) == task.due_at
    assert "first_meeting" not in {t.kind for t in uc.worklists.tasks(w.kesu, w.sales)}
    uc.meetings.add_meeting(w.kesu, w.sales, cid, TODAY, [w.qa.id], "首次会议")
    assert "first_meeting" not in {t.kind for t in uc.worklists.tasks(w.kesu, w.qa)}
    assert uc.meetings.first_meeting_due(w.kesu, w.qa, cid) is None


def test_an_assisting_department_sees_its_task_adds_findings_and_capa_on_its_part(
        crew: Crew, draft: ComplaintDraft, admin: User) -> None:
    w = crew
    uc.reference.set_settings(w.kesu, admin, {"record_visibility": "department"})
    cid = _case(w, draft, assisting={w.engineering: "核对治具图纸"})
    [task] = [t for t in uc.worklists.tasks(w.kesu, w.eng) if t.kind == "assist"]
    assert (task.complaint_id, task.summary) == (cid, "核对治具图纸")
    uc.complaints.case_file(w.kesu, w.eng, cid)  # may see it; a third department may not
    with pytest.raises(NotFound):  # as if it did not exist
        uc.complaints.case_file(w.kesu, w.other, cid)
    uc.investigation.add_capa(w.kesu, w.eng, cid, CapaType.CORRECTIVE, "修改治具图纸", w.eng.id,
                              TODAY + timedelta(days=7))
    [a] = uc.complaints.case_file(w.kesu, w.qa, cid).capa
    assert a.department_id == w.engineering
    uc.assisting.save_findings(w.kesu, w.eng, cid, "图纸公差过松")
    assert "assist" not in {t.kind for t in uc.worklists.tasks(w.kesu, w.eng)}
    with pytest.raises(NotAllowed):
        uc.assisting.save_findings(w.kesu, w.lead, cid, "主责部门不是协助部门")
    ev = uc.complaints.complaint(w.kesu, w.qa, cid).events
    assert ev[-2].changes["assisting_department"] == [None, str(w.engineering)]
    # the classification's own event names the assisting departments
    [classified] = [e for e in ev if e.action == "classify_valid"]
    assert classified.changes["assisting_departments"] == [None, str(w.engineering)]


def test_a_third_department_can_neither_add_capa_nor_complete_the_assisting_part(
        crew: Crew, draft: ComplaintDraft) -> None:
    w = crew
    cid = _case(w, draft, assisting={w.engineering: ""})
    with pytest.raises(NotAllowed):
        uc.investigation.add_capa(w.kesu, w.other, cid, CapaType.CORRECTIVE, "x", w.other.id,
                                  TODAY)
    uc.investigation.add_capa(w.kesu, w.lead, cid, CapaType.CORRECTIVE, "主责的对策", w.lead.id,
                              TODAY)
    [lead_part] = uc.complaints.case_file(w.kesu, w.qa, cid).capa
    assert lead_part.department_id is None
    with pytest.raises(NotAllowed):  # engineering completes only its own part
        uc.investigation.complete_capa(w.kesu, w.eng, lead_part.id or 0, "done")


def test_qa_changes_the_assisting_departments_later_and_ended_ones_lose_the_case(
        crew: Crew, draft: ComplaintDraft, admin: User) -> None:
    w = crew
    uc.reference.set_settings(w.kesu, admin, {"record_visibility": "department"})
    cid = _case(w, draft, assisting={w.engineering: "图纸"})
    v = uc.complaints.case_file(w.kesu, w.qa, cid).complaint.version
    uc.assisting.set_assisting(w.kesu, w.qa, cid, v, {w.materials: "来料批次"})
    case = uc.complaints.case_file(w.kesu, w.qa, cid)
    assert case.assisting == frozenset({w.materials})
    assert len(case.assists) == 2  # the ended one is kept
    with pytest.raises(NotFound):
        uc.complaints.case_file(w.kesu, w.eng, cid)
    uc.complaints.case_file(w.kesu, w.other, cid)
    last = uc.complaints.complaint(w.kesu, w.qa, cid).events[-1]
    assert (last.action, last.changes["assisting_departments"]) == (
        "assisting_set", [str(w.engineering), str(w.materials)])
    with pytest.raises(NotAllowed):
        uc.assisting.set_assisting(w.kesu, w.lead, cid, case.complaint.version, {})
    with pytest.raises(InvalidInput):
        uc.assisting.set_assisting(w.kesu, w.qa, cid, case.complaint.version, {w.press: ""})


def test_only_an_assisting_departments_production_works_on_its_part_only(
        crew: Crew, draft: ComplaintDraft) -> None:
    """The Investigate page offers them their findings and CAPA part, not the lead's forms."""
    w = crew
    cid = _case(w, draft, assisting={w.engineering: "评估夹具"})
    case = uc.complaints.case_file(w.kesu, w.qa, cid)
    assert uc.assisting.helping_only(case, w.eng)
    assert not uc.assisting.helping_only(case, w.lead)  # the lead department
    assert not uc.assisting.helping_only(case, w.qa)
    assert not uc.assisting.helping_only(case, w.other)  # not asked: not theirs at all
