"""The meeting form on the Complaint page (会议记录, seed 4.2.1; issue #12 item 7): a form with
problems says them all — no attendee, an action item without owner or due date, a due date in
the past — naming the item, in Chinese and English; nothing is saved and what was typed stays.
A good save records users and typed guests, two typed items (the corrective one becomes a CAPA
action, the containment one stays with the meeting) and what was decided, and the timeline says
it in words."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from streamlit.testing.v1 import AppTest

from core import usecases as uc
from core.model import (
    CapaType, Channel, DispositionType, ItemType, Kind, Meeting, MeetingItem, Request, Severity,
    State, User,
)
from core.rules.meetings import ItemDraft
from core.usecases.accounts import UserInput
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.app.helpers import (
    block, en, login_as, new_app, no_exception, open_case_tab, open_tab, page_text, values,
    widget, zh,
)


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _case(app: Context) -> int:
    """An open demo complaint under analysis."""
    admin = _user(app, "admin")
    c = next(x for x in uc.search.cases_in(app, admin, [State.ROOT_CAUSE])
             if x.kind == Kind.COMPLAINT)
    return c.id or 0


def _open(cid: int, username: str, lang: str = "zh") -> AppTest:
    at = login_as(new_app(), username)
    if lang == "en":
        at.query_params["lang"] = "en"
    at.query_params["id"] = str(cid)
    at.switch_page("pages/complaint.py").run()
    no_exception(at)
    return at


def _today(app: Context) -> date:
    return app.clock().astimezone(uc.context.settings(app).tz).date()


def _saved(app: Context, cid: int) -> tuple[list[Meeting], list[MeetingItem]]:
    qa = _user(app, "qa")
    return uc.meetings.meetings(app, qa, cid), uc.meetings.meeting_items(app, qa, cid)


def _form(at: AppTest, tr: Any) -> Any:
    return block(at, "expander", tr("meeting.record"))


def _default_tab(at: AppTest) -> int:
    """Which of the Complaint page's tabs it opens on (0: the first, the facts)."""
    found: list[int] = []

    def walk(node: Any) -> None:
        if getattr(node, "type", None) == "tab_container":
            found.append(node.proto.tab_container.default_tab_index)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    assert len(found) == 1
    return found[0]


def _errors(at: AppTest, tr: Any) -> list[str]:
    """The form's messages (the page's own, such as an overdue limit, are elsewhere)."""
    return values(_form(at, tr), "error")


def test_a_meeting_with_problems_says_them_all_saves_nothing_and_keeps_what_was_typed(
        demo_db: Context) -> None:
    cid = _case(demo_db)
    today = _today(demo_db)
    owner = _user(demo_db, "prod")
    for lang, tr in (("zh", zh), ("en", en)):
        at = _open(cid, "qa", lang)
        assert _default_tab(at) == 0
        open_case_tab(at, "case.records", lang)  # where the meeting form is
        form = _form(at, tr)
        minutes = tr("field.decisions") + " *"
        widget(form, "text_area", minutes).input("更换定位销，全检库存")
        widget(form, "text_input", tr("field.capa_description")).input("隔离在库品")
        # no attendee, and the item has neither owner nor due date
        widget(form, "button", tr("common.save")).click().run()
        no_exception(at)
        assert _errors(at, tr) == ["  \n".join([
            tr("err.meeting_no_attendee"),
            tr("err.item_required", n=1, field="owner"),
            tr("err.item_required", n=1, field="due_date")])]
        assert _saved(demo_db, cid) == ([], [])
        form = _form(at, tr)
        assert widget(form, "text_area", minutes).value == "更换定位销，全检库存"
        assert widget(form, "text_input", tr("field.capa_description")).value == "隔离在库品"
        # a typed guest, an owner, and a due date in the past
        widget(form, "text_input", tr("field.guest_name"), 0).input("王工")
        widget(form, "text_input", tr("field.guest_org"), 0).input("工程部")
        widget(form, "selectbox", tr("field.owner")).set_value(owner.id)
        widget(form, "date_input", tr("field.due_date")).set_value(today - timedelta(days=1))
        widget(form, "button", tr("common.save")).click().run()
        no_exception(at)
        assert _errors(at, tr) == [tr("err.item_past_date", n=1, field="due_date")]
        assert _saved(demo_db, cid) == ([], [])
        form = _form(at, tr)
        assert widget(form, "text_input", tr("field.guest_name"), 0).value == "王工"
        assert widget(form, "text_input", tr("field.guest_org"), 0).value == "工程部"
        assert widget(form, "text_area", minutes).value == "更换定位销，全检库存"
        assert widget(form, "selectbox", tr("field.owner")).value == owner.id
    assert _errors(at, en) == ["Action item 1: “Due date” cannot be before today."]
    at = _open(cid, "qa")
    open_case_tab(at, "case.records")
    widget(_form(at, zh), "button", zh("common.save")).click().run()
    # an empty form: its two required parts, in plain Chinese
    assert _errors(at, zh) == ["请至少填写一名参会人员：从用户中选择，或输入姓名与单位/部门。  \n"
                               "请填写「会议决议」。"]


def test_a_good_meeting_is_saved_with_guests_items_and_decisions_in_words(
        demo_db: Context) -> None:
    cid = _case(demo_db)
    today = _today(demo_db)
    qa, prod, sales = (_user(demo_db, n) for n in ("qa", "prod", "sales"))
    eng = next(d for d in uc.reference.departments(demo_db, True) if d.code == "ENG")
    capa_before = len(uc.complaints.case_file(demo_db, qa, cid).capa)
    at = _open(cid, "qa")
    open_case_tab(at, "case.records")
    widget(_form(at, zh), "button", zh("meeting.add_item")).click().run()
    no_exception(at)
    form = _form(at, zh)
    widget(form, "multiselect", zh("field.attendees")).set_value([qa.id, sales.id])
    widget(form, "text_input", zh("field.guest_name"), 0).input("王工")
    widget(form, "text_input", zh("field.guest_org"), 0).input("工程部")
    widget(form, "text_area", zh("field.decisions") + " *").input("定位销磨损，工程部改夹具")
    widget(form, "selectbox", zh("field.meeting_department")).set_value(eng.id)
    widget(form, "selectbox", zh("field.direction")).set_value(DispositionType.REWORK)
    kinds = [w for w in form.selectbox if w.label == zh("field.item_type")]
    assert len(kinds) == 2
    kinds[0].set_value(ItemType.CORRECTIVE)
    kinds[1].set_value(ItemType.CONTAINMENT)
    for i, (text, who) in enumerate((("更换定位销", prod), ("隔离在库品 200 件", qa))):
        widget(form, "text_input", zh("field.capa_description"), i).input(text)
        widget(form, "selectbox", zh("field.owner"), i).set_value(who.id)
        widget(form, "date_input", zh("field.due_date"), i).set_value(today + timedelta(days=7))
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert _errors(at, zh) == []
    assert zh("common.saved") in values(at, "success")
    [m], items = _saved(demo_db, cid)
    assert (set(m.attendee_ids), [(g.name, g.org) for g in m.guests]) == (
        {qa.id, sales.id}, [("王工", "工程部")])
    assert (m.department_id, m.direction) == (eng.id, DispositionType.REWORK)
    assert [(x.seq, x.type, x.description, x.owner_id) for x in items] == [
        (1, ItemType.CORRECTIVE, "更换定位销", prod.id),
        (2, ItemType.CONTAINMENT, "隔离在库品 200 件", qa.id)]
    capa = uc.complaints.case_file(demo_db, qa, cid).capa
    assert len(capa) == capa_before + 1  # only the corrective item became a CAPA action
    assert items[0].capa_id == capa[-1].id and items[1].capa_id is None
    assert (capa[-1].type, capa[-1].description, capa[-1].owner_id) == (
        CapaType.CORRECTIVE, "更换定位销", prod.id)
    # the page stays on the records tab, where the meeting is (not on the facts)
    assert _default_tab(at) == 1
    # the form starts afresh; the meeting is listed in words
    form = _form(at, zh)
    assert widget(form, "text_area", zh("field.decisions") + " *").value == ""
    text = page_text(at)
    assert f"{today} · {qa.display_name}、{sales.display_name}、王工（工程部）" in text
    assert f"{zh('field.meeting_department')}: 工程部 · {zh('field.direction')}: 返工" in text
    assert f"1. [纠正措施] 更换定位销 · {prod.display_name} · {today + timedelta(days=7)}" in text
    # the timeline: the department by name, the direction translated, never an id or a code
    text = page_text(open_case_tab(at, "case.timeline"))
    assert zh("case.changed_from_to", field=zh("field.meeting_department"), old="—",
              new="工程部") in text
    assert zh("case.changed_from_to", field=zh("field.direction"), old="—", new="返工") in text
    for code in ("rework", str(eng.id)):
        assert zh("case.changed_from_to", field=zh("field.direction"), old="—", new=code) \
            not in text
        assert zh("case.changed_from_to", field=zh("field.meeting_department"), old="—",
                  new=code) not in text


def test_the_meeting_form_in_english_lists_the_meeting_in_english(demo_db: Context) -> None:
    cid = _case(demo_db)
    today = _today(demo_db)
    qa = _user(demo_db, "qa")
    eng = next(d for d in uc.reference.departments(demo_db, True) if d.code == "ENG")
    admin = _user(demo_db, "admin")
    mat = _user(demo_db, "mat")  # takes part in the meeting, then leaves the company
    uc.meetings.add_meeting(demo_db, qa, cid, today, [qa.id, mat.id], "Jig pin worn",
                            [ItemDraft("Sort the stock", mat.id, today, ItemType.CONTAINMENT)],
                            guests=[("Wang", "Engineering")], department_id=eng.id,
                            direction=DispositionType.REPLACEMENT)
    uc.accounts.update_user(demo_db, admin, mat.id or 0, UserInput(
        mat.username, mat.display_name, mat.roles, mat.department_id, active=False))
    at = _open(cid, "qa", "en")
    text = page_text(open_case_tab(at, "case.records", "en"))
    # the one who has left is still named (not "?")
    assert f"{today} · {qa.display_name}, {mat.display_name}, Wang (Engineering)" in text
    assert f"1. [Containment] Sort the stock · {mat.display_name} · {today}" in text
    assert (f"{en('field.meeting_department')}: {eng.name_en} · "
            f"{en('field.direction')}: {en('disposition_type.replacement')}") in text
    text = page_text(open_case_tab(at, "case.timeline", "en"))
    assert en("case.changed_from_to", field=en("field.meeting_department"),
              old=en("common.none"), new=eng.name_en) in text


def _dispatched(app: Context) -> tuple[int, str]:
    """A fresh complaint, dispatched to QA; (id, number)."""
    sales = _user(app, "sales")
    cust = uc.reference.customers(app)[0].id
    defect = uc.reference.defect_types(app)[0].id
    case = uc.complaints.register_complaint(app, sales, ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.EMAIL,
        description="外壳开裂，客户要求换货", product_code="GJ-880", defect_type_id=defect,
        request=Request.REPLACEMENT, severity_proposed=Severity.C))
    cid = case.id or 0
    uc.investigation.dispatch(app, sales, cid, case.version)
    return cid, case.number


def _turn_on_first_meeting(days: int, lang: str) -> None:
    """The administrator sets the first meeting's limit on Admin → Settings."""
    tr = en if lang == "en" else zh
    at = login_as(new_app(), "admin")
    if lang == "en":
        at.query_params["lang"] = "en"
    at.switch_page("pages/admin.py").run()
    no_exception(at)
    tab = open_tab(at, "admin_tab", tr("admin.settings"))
    widget(tab, "number_input", tr("field.first_meeting_days")).set_value(days)
    [save] = [b for b in tab.button if b.key == f"FormSubmitter:settings-{tr('common.save')}"]
    save.click().run()
    no_exception(at)
    assert tr("admin.settings_saved") in values(at, "success")


def test_the_first_meeting_setting_puts_it_in_qa_tasks_with_its_due_time(
        demo_db: Context) -> None:
    cid, number = _dispatched(demo_db)
    qa = _user(demo_db, "qa")
    # off by default: no task, no prompt (read through the use cases: My Tasks keeps a list
    # for a minute, and a setting writes no case event)
    assert uc.context.settings(demo_db).first_meeting_days == 0
    assert "first_meeting" not in {t.kind for t in uc.worklists.tasks(demo_db, qa)}
    assert uc.meetings.first_meeting_due(demo_db, qa, cid) is None
    assert not any(w.startswith("首次会议") for w in values(_open(cid, "qa"), "warning"))

    _turn_on_first_meeting(2, "zh")
    assert uc.context.settings(demo_db).first_meeting_days == 2
    due = uc.meetings.first_meeting_due(demo_db, qa, cid)
    assert due is not None
    shown = due.astimezone(uc.context.settings(demo_db).tz).strftime("%Y-%m-%d %H:%M")
    at = _open_tasks("qa")
    # the demo may have other dispatched cases waiting for their first meeting
    assert any(s.startswith(f"{zh('task.first_meeting')} (") for s in values(at, "subheader"))
    text = page_text(at)
    assert f"**{number}** · C · " in text
    assert any(line.startswith(zh("due.due_at", at=shown) + " · ") for line in text.split("\n"))
    at = _open(cid, "qa")
    assert zh("case.first_meeting_due", at=shown) in values(at, "warning")
    assert "请在“对策与方案”中记录会议" in zh("case.first_meeting_due", at=shown)
    at = _open(cid, "qa", "en")
    assert en("case.first_meeting_due", at=shown) in values(at, "warning")

    # held: the task and the prompt are gone
    uc.meetings.add_meeting(demo_db, qa, cid, _today(demo_db), [qa.id], "首次会议：换货")
    at = _open_tasks("qa")
    assert not any(s.startswith(zh("task.first_meeting")) for s in values(at, "subheader"))
    at = _open(cid, "qa")
    assert zh("case.first_meeting_due", at=shown) not in values(at, "warning")


def test_the_first_meeting_limit_reads_in_english_off_by_default_within_0_to_30(
        demo_db: Context) -> None:
    at = login_as(new_app(), "admin")
    at.query_params["lang"] = "en"
    at.switch_page("pages/admin.py").run()
    no_exception(at)
    tab = open_tab(at, "admin_tab", en("admin.settings"))
    box = widget(tab, "number_input",
                 "First meeting within (working days after dispatch, 0 = not timed)")
    assert (box.min, box.max, box.value) == (0, 30, 0)
    assert box.help == en("field.first_meeting_days_help")
    _turn_on_first_meeting(5, "en")
    assert uc.context.settings(demo_db).first_meeting_days == 5


def _open_tasks(username: str) -> AppTest:
    at = login_as(new_app(), username)
    at.switch_page("pages/tasks.py").run()
    no_exception(at)
    return at


def test_an_assessment_saved_on_the_records_tab_comes_back_to_it(demo_db: Context) -> None:
    cid = _case(demo_db)
    at = _open(cid, "manager")
    open_case_tab(at, "case.records")
    form = block(at, "expander", zh("action.assessment_recorded"))
    widget(form, "text_input", zh("field.person") + " *").input("李娜")
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert zh("common.saved") in values(at, "success")
    assert _default_tab(at) == 1
    assert any(line.startswith("李娜 · ") for line in values(at, "text"))  # listed there
    [saved] = uc.meetings.assessments(demo_db, _user(demo_db, "manager"), cid)
    assert saved.person == "李娜"
