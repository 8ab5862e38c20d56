"""The Complaint page's meetings (会议记录, seed 4.2.1): the list, the first meeting's prompt and
the form — attendees from the users or typed, several typed action items, what was decided.
A refused save keeps everything typed; a saved one empties the form."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core import workflow
from core.model import CaseFile, DispositionType, ItemType, Meeting, MeetingItem, Role, User
from core.rules.meetings import ItemDraft
from ui.context import attempt, flash, kesu, label, lang, local, today_local, tr
from core import usecases as uc

GUEST_ROWS, ITEM_ROWS = 2, 1  # rows the form starts with; buttons add more


def prompt(user: User, case: CaseFile) -> None:
    """The first meeting's due time while the case waits for it (setting first_meeting_days)."""
    c = case.complaint
    if not user.has(Role.SALES, Role.QA, Role.MANAGEMENT):
        return
    due = attempt(uc.meetings.first_meeting_due, kesu(), user, c.id)
    if due is not None:
        st.warning(tr("case.first_meeting_due", at=local(due)))


def section(user: User, case: CaseFile) -> None:
    c = case.complaint
    app = kesu()
    users = {u.id: u.display_name for u in uc.accounts.list_active_users(app)}  # to pick
    # names of everyone, also of those who have left since (a meeting keeps its attendees)
    names = {u.id: u.display_name for u in uc.accounts.list_users(app, user)}
    depts = {d.id: (d.name_en if lang() == "en" else d.name_zh)
             for d in uc.reference.departments(app, True)}
    st.markdown(f"**{tr('case.meetings')}**")
    found = uc.meetings.meetings(app, user, c.id or 0)
    items = uc.meetings.meeting_items(app, user, c.id or 0)
    if not found:
        st.caption(tr("meeting.none"))
    for m in found:
        _show(m, [x for x in items if x.meeting_id == m.id], names, depts)
    # production of another department is not offered a form it could not save
    if c.state.is_open and user.has(Role.SALES, Role.QA, Role.PRODUCTION, Role.MANAGEMENT) \
            and workflow.not_own_department(case, user) is None:
        with st.expander(tr("meeting.record")):
            form(user, case, users, depts)


def _show(m: Meeting, items: list[MeetingItem], users: dict[int, str],
          depts: dict[int, str]) -> None:
    sep = "、" if lang() == "zh" else ", "
    people = [users.get(i, "?") for i in m.attendee_ids] + [
        tr("meeting.guest_line", name=g.name, org=g.org) if g.org else g.name for g in m.guests]
    st.text(f"{m.date} · {sep.join(people)}")
    st.text(m.decisions)
    decided = [f"{tr('field.meeting_department')}: {depts.get(m.department_id, '?')}"
               if m.department_id else "",
               f"{tr('field.direction')}: {tr('disposition_type.' + m.direction.value)}"
               if m.direction else ""]
    if any(decided):
        st.caption(" · ".join(x for x in decided if x))
    for x in items:
        st.text(f"{x.seq}. [{tr('item_type.' + x.type.value)}] {x.description} · "
                f"{users.get(x.owner_id, '?')} · {x.due_date}")


def _key(cid: int) -> str:
    """The form's widget keys carry a generation: a saved meeting starts a fresh form."""
    return f"meeting_{cid}_{st.session_state.get(f'meeting_gen_{cid}', 0)}"


def _more(name: str) -> None:
    st.session_state[name] = int(st.session_state.get(name, 0)) + 1


def form(user: User, case: CaseFile, users: dict[int, str], depts: dict[int, str]) -> None:
    c = case.complaint
    k = _key(c.id or 0)
    n_guests = GUEST_ROWS + int(st.session_state.get(f"{k}_guests_more", 0))
    n_items = max(0, ITEM_ROWS + int(st.session_state.get(f"{k}_items_more", 0)))
    a, b, d = st.columns(3)
    a.button(tr("meeting.add_guest"), key=f"{k}_add_guest", on_click=_more,
             args=(f"{k}_guests_more",))
    b.button(tr("meeting.add_item"), key=f"{k}_add_item", on_click=_more,
             args=(f"{k}_items_more",))
    if n_items:
        d.button(tr("meeting.remove_item"), key=f"{k}_drop_item",
                 on_click=st.session_state.__setitem__,
                 args=(f"{k}_items_more", n_items - ITEM_ROWS - 1))
    with st.form(k):
        day = st.date_input(tr("field.meeting_date"), value=today_local(),
                            max_value=today_local(), key=f"{k}_day")
        who = st.multiselect(tr("field.attendees"), list(users), format_func=lambda i: users[i],
                             placeholder=tr("log.pick"), key=f"{k}_who")
        st.caption(tr("field.guests"))
        guests = []
        for i in range(n_guests):
            x, y = st.columns(2)
            guests.append((x.text_input(tr("field.guest_name"), max_chars=100,
                                        key=f"{k}_gname_{i}"),
                           y.text_input(tr("field.guest_org"), max_chars=100,
                                        key=f"{k}_gorg_{i}")))
        text = st.text_area(tr("field.decisions") + " *", max_chars=3000, key=f"{k}_text")
        x, y = st.columns(2)
        dept = x.selectbox(tr("field.meeting_department"), list(depts), index=None,
                           format_func=lambda i: depts[i], placeholder=tr("log.pick"),
                           key=f"{k}_dept")
        direction = y.selectbox(tr("field.direction"), list(DispositionType), index=None,
                                format_func=label("disposition_type"),
                                placeholder=tr("log.pick"), key=f"{k}_direction")
        st.markdown(f"**{tr('meeting.items')}**")
        drafts = [_item(k, i, users) for i in range(n_items)]
        if st.form_submit_button(tr("common.save"), type="primary"):
            typed = [d for d in drafts if d.description.strip() or d.owner_id or d.due_date]
            if attempt(uc.meetings.add_meeting, kesu(), user, c.id, day, who, text, typed,
                       guests=guests, department_id=dept, direction=direction):
                _more(f"meeting_gen_{c.id}")
                flash("success", tr("common.saved"))
                st.rerun()


def _item(k: str, i: int, users: dict[int, str]) -> ItemDraft:
    st.caption(tr("meeting.item_n", n=i + 1))
    x, y, z = st.columns([1, 1, 1])
    kind: Any = x.selectbox(tr("field.item_type"), list(ItemType), format_func=label("item_type"),
                            key=f"{k}_itype_{i}")
    owner = y.selectbox(tr("field.owner"), list(users), index=None,
                        format_func=lambda u: users[u], placeholder=tr("log.pick"),
                        key=f"{k}_iowner_{i}")
    due = z.date_input(tr("field.due_date"), value=None, key=f"{k}_idue_{i}")
    desc = st.text_input(tr("field.capa_description"), max_chars=1000, key=f"{k}_idesc_{i}")
    return ItemDraft(desc, owner, due, kind)

