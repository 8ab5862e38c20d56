"""Shared pieces of a case: its facts, attachment gallery and timeline."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from core import event_text
from core.event_text import EventText, Names, merged_numbers
from core.model import Attachment, CaseFile, Event, Role, User
from core.usecases.complaints import ComplaintView
from core.i18n import reason_text
from core.rules.custom_fields import EVENT_PREFIX
from ui import custom_fields
from ui.context import (
    attempt, flash, form_saved, fresh_form, kesu, lang, local, log, md, settings_tz, tr,
)
from core import usecases as uc

def reader(events: list[Event] | None = None) -> EventText:
    """How this reader reads an event's values (core/event_text.py): names, labels, local
    times in their language (`events`: the merged-into cases' numbers they name)."""
    app = kesu()
    me = st.session_state.get("kesu_user")
    users = uc.accounts.list_users(app, me) if me is not None else \
        uc.accounts.list_active_users(app)
    names = Names(
        users={u.id or 0: u.display_name for u in users},
        departments={d.id or 0: (d.name_zh, d.name_en)
                     for d in uc.reference.departments(app, True)},
        customers={c.id or 0: c.name for c in uc.reference.customers(app, True)},
        defect_types={d.id or 0: (d.name_zh, d.name_en)
                      for d in uc.reference.defect_types(app, True)},
        numbers=merged_numbers(events or []),
    )
    return EventText(lang(), settings_tz(), names)


def facts(v: ComplaintView) -> None:
    c = v.complaint
    dt = v.defect_type
    defect = (dt.name_en if lang() == "en" else dt.name_zh) if dt else None
    rows = [
        ("field.received_at", local(c.received_at)),
        ("field.received_by", v.received_by),
        ("field.channel", tr(f"channel.{c.channel.value}")),
        ("field.kind", tr(f"kind.{c.kind.value}")),
        ("field.category", tr(f"category.{c.category.value}")),
        ("field.customer", v.customer.name if v.customer else None),
        ("field.customer_ref", c.customer_ref),
        ("field.product_code", c.product_code),
        ("field.product_name", c.product_name),
        ("field.order_no", c.order_no),
        ("field.lot", c.lot),
        ("field.delivered_qty", c.delivered_qty),
        ("field.delivery_date", c.delivery_date),
        ("field.defective_qty", c.defective_qty),
        ("field.defect_type", defect),
        ("field.where_found", tr(f"where_found.{c.where_found.value}") if c.where_found else None),
        ("field.request", tr(f"request.{c.request.value}") if c.request else None),
        ("field.claimed_amount", f"{c.claimed_amount:,.2f}" if c.claimed_amount is not None
         else None),
        ("field.severity_proposed", tr(f"severity.{c.severity_proposed.value}")
         if c.severity_proposed else None),
        ("field.sample_received", tr("common.yes") if c.sample_received else tr("common.no")),
        ("field.safety_risk", tr("common.yes") if c.safety_risk else tr("common.no")),
        ("field.severity_note", c.severity_note or None),
        ("field.sample_date", c.sample_date),
    ]
    # one text of lines per column, not an element per fact: the Complaint page's first view
    # sent and drew 24 of them (issue #14)
    lines = [f"{tr(key)}: {tr('common.none') if value in (None, '') else value}"
             for key, value in rows]
    for i, col in enumerate(st.columns(3)):
        col.text("\n".join(lines[i::3]))
    st.markdown(f"**{tr('field.description')}**")
    st.text(c.description)


BRIEF_PHOTOS = 4  # thumbnails beside the Investigate forms; every file is on the Complaint page


def brief(user: User, v: ComplaintView) -> None:
    """The case as the people investigating it need it beside their forms (issue #13): who
    complains about what, how many, what they ask for, the description, and the photos."""
    c = v.complaint
    dt = v.defect_type
    defect = (dt.name_en if lang() == "en" else dt.name_zh) if dt else None
    product = " ".join(x for x in (c.product_code, c.product_name) if x)
    qty = (f"{c.defective_qty if c.defective_qty is not None else '?'} / "
           f"{c.delivered_qty if c.delivered_qty is not None else '?'}"
           if c.defective_qty is not None or c.delivered_qty is not None else None)
    rows = [
        ("field.customer", v.customer.name if v.customer else None),
        ("inv.product", product),
        ("field.order_no", c.order_no), ("field.lot", c.lot),
        ("inv.qty_defective_delivered", qty),
        ("field.defect_type", defect),
        ("field.request", tr(f"request.{c.request.value}") if c.request else None),
        ("field.claimed_amount", f"{c.claimed_amount:,.2f}"  # the label names the currency
         if c.claimed_amount is not None else None),
        ("field.received_at", local(c.received_at)),
    ]
    photos = [a for a in v.attachments if a.content_type.startswith("image/")]
    with st.container(border=True):
        st.markdown(f"**{tr('inv.facts')}**")
        left, right = st.columns([3, 2]) if photos else (st.container(), None)
        pairs = left.columns(2)  # short facts side by side: the forms stay near the top
        for i, (key, value) in enumerate((k, x) for k, x in rows if x not in (None, "")):
            pairs[i % 2].text(f"{tr(key)}: {value}")
        left.text(c.description)
        if right is not None:
            cols = right.columns(2)
            shown = 0
            for att in photos:
                if shown < BRIEF_PHOTOS and picture(cols[shown % 2], user, att, att.filename):
                    shown += 1
            if len(v.attachments) > shown:
                right.caption(tr("inv.more_files", n=len(v.attachments) - shown))


def sent_back_note(events: list[Event]) -> Event | None:
    """QA's latest send-back, while the analysis it sent back is not submitted again."""
    for e in reversed(events):
        if e.action == "send_back":
            return e
        if e.action == "submit_analysis":
            return None
    return None


def picture(where: Any, user: User, att: Attachment, caption: str | None = None,
            thumbs: Mapping[int, bytes | None] | None = None) -> bool:
    """Show a picture attachment as its thumbnail (at most 1,600 px, made by kesu: never the
    uploaded bytes); False (and nothing shown) when it has none — not readable, or above the
    pixel limit. Every page that shows an attachment goes through here (issue #11).
    `thumbs`: the thumbnails already read for a page of them (uc attachment_thumbnails)."""
    assert att.id is not None  # listed attachments are stored ones
    if not att.content_type.startswith("image/"):
        return False
    thumb = thumbs[att.id] if thumbs is not None and att.id in thumbs else \
        uc.complaints.attachment_thumbnail(kesu(), user, att.id)
    if thumb is None:
        return False
    try:
        where.image(thumb, caption=caption, width="stretch")
    except Exception:  # noqa: BLE001 - PIL raises several kinds for a damaged image
        log.warning("attachment thumbnail could not be shown: %s", att.id)
        return False
    return True


def attachments(user: User, items: list[Attachment]) -> None:
    """The case's files: pictures as thumbnails; every file, the original, only downloads
    (st.download_button: Content-Disposition attachment, never rendered by the browser)."""
    if not items:
        st.caption(tr("case.no_attachments"))
        return
    cols = st.columns(3)
    for i, att in enumerate(items):
        col = cols[i % 3]
        assert att.id is not None  # listed attachments are stored ones
        if not picture(col, user, att, att.filename):
            col.text(att.filename)
            col.caption(tr("case.download_only"))
        col.download_button(f"{tr('common.download')} ({att.size // 1024 + 1} KB)",
                            _original(user, att.id), file_name=att.filename,
                            mime=att.content_type, key=f"att_{att.id}", on_click="ignore")


def _original(user: User, attachment_id: int) -> Any:
    """The original's bytes, read only when the download is asked for."""
    return lambda: uc.complaints.attachment(kesu(), user, attachment_id)[1]


TIMELINE_SHOWN = 50  # newest first; a long history at once cost the Complaint page (issue #6)


def timeline(events: list[Event]) -> None:
    key = f"timeline_all_{events[0].complaint_id}" if events else "timeline_all"
    shown = len(events) if st.session_state.get(key) else TIMELINE_SHOWN
    listed = list(reversed(events))[:shown]
    # a custom field's change is named by its label, its values in words (issue #12)
    own = custom_fields.by_event_key() if any(
        k.startswith(EVENT_PREFIX) for e in listed for k in e.changes) else {}
    words = reader(events)
    for e in listed:
        with st.container(border=True):
            st.markdown(f"**{tr('action.' + e.action)}**")
            st.caption(tr("case.by", who=md(e.user_name), at=local(e.at)))
            for field, (old, new) in e.changes.items():
                f = own.get(field)
                if f is not None:
                    st.text(tr("case.changed_from_to", field=custom_fields.name(f),
                               old=custom_fields.text_of(f, old) or tr("common.none"),
                               new=custom_fields.text_of(f, new) or tr("common.none")))
                    continue
                st.text(words.line(field, old, new))
            if e.comment:
                st.text(e.comment)
    if len(events) > shown:
        st.button(tr("case.timeline_all", n=len(events)), key=f"btn_{key}",
                  on_click=st.session_state.__setitem__, args=(key, True))


def severity_note(reason: str) -> str:
    """`recurrence:3:B->A` as a sentence."""
    return event_text.severity_reason(reason, lang())


def decisions(case: CaseFile, records: bool = True) -> None:
    """What QA and the responsible department decided, and what came of it (with
    `records`, also the containment and CAPA lists)."""
    c = case.complaint
    names = {u.id: u.display_name for u in uc.accounts.list_active_users(kesu())}
    depts = {d.id: (d.name_en if lang() == "en" else d.name_zh)
             for d in uc.reference.departments(kesu(), True)}
    rows = [
        ("field.validity", tr(f"validity.{c.validity.value}") if c.validity else None),
        ("field.severity", tr(f"severity.{c.severity.value}") if c.severity else None),
        ("field.responsible_department", depts.get(c.responsible_department_id or 0)),
        ("field.prod_line", c.prod_line),
        ("field.prod_shift", c.prod_shift),
        ("field.prod_machine", c.prod_machine),
        ("field.prod_operator", c.prod_operator),
        ("field.prod_date", c.prod_date),
        ("field.prod_lot", c.prod_lot),
        ("field.root_cause_6m", tr(f"six_m.{c.root_cause_6m.value}") if c.root_cause_6m else None),
        ("field.sent_back_count", c.sent_back_count or None),
        ("field.reply_date", c.reply_date),
        (
            "field.reply_method",
            tr(f"reply_method.{c.reply_method.value}") if c.reply_method else None,
        ),
        ("field.verify_after", c.verify_after),
        (
            "field.satisfaction",
            tr(f"satisfaction.{c.satisfaction.value}") if c.satisfaction else None,
        ),
        ("field.satisfaction_score", c.satisfaction_score),
        ("field.customer_ack_at", local(c.customer_ack_at) if c.customer_ack_at else None),
    ]
    shown = [(k, v) for k, v in rows if v not in (None, "")]
    if c.severity_reason:
        st.info(severity_note(c.severity_reason))
    if c.no_investigation_reason:
        st.text(
            f"{tr('field.no_investigation_reason')}: "
            f"{reason_text(c.no_investigation_reason, lang(), c.merged_into_id is not None)} "
            f"({names.get(c.no_investigation_by_id or 0, '?')})"
        )
    cols = st.columns(3)
    for i, (key, value) in enumerate(shown):
        cols[i % 3].text(f"{tr(key)}: {value}")
    for key, text in (
        ("field.root_cause_whys", c.root_cause_whys),
        ("field.root_cause", c.root_cause),
        ("field.reply_text", c.reply_text),
        ("field.followup_notes", c.followup_notes),
        ("field.lessons_learned", c.lessons_learned),
    ):
        if text:
            st.markdown(f"**{tr(key)}**")
            st.text(text)
    if not records:
        return
    if case.containment:
        st.markdown(f"**{tr('field.containment')}**")
        for x in case.containment:
            st.text(f"{tr('containment_type.' + x.type.value)} · {x.quantity or ''} · {x.note}")
    if case.capa:
        st.markdown(f"**{tr('inv.capa')}**")
        for a in case.capa:
            mark = "[" + tr(f"capa.{a.status}") + "]"  # open, done or withdrawn
            st.text(
                f"{mark} {tr('capa_type.' + a.type.value)} · {a.description} · "
                f"{names.get(a.owner_id, '?')} · {a.due_date}"
                + (f" · {a.evidence}" if a.evidence else "")
            )


def meetings(user: User, case: CaseFile) -> None:
    """会议记录 on the case; for management also the responsibility assessment."""
    from ui import meetings as meeting_ui  # ui.meetings: the list, the form, the prompt

    c = case.complaint
    app = kesu()
    meeting_ui.section(user, case)
    if user.has(Role.MANAGEMENT):
        st.markdown(f"**{tr('case.assessment')}**")
        for x in uc.meetings.assessments(app, user, c.id or 0):
            st.text(f"{x.person} · {tr('assessment.' + x.decision)} · {x.amount:,.2f} · {x.note}")
        with st.expander(tr("action.assessment_recorded")):
            k = fresh_form(f"assess_{c.id}")  # a refused save keeps what was typed
            with st.form(k):
                person = st.text_input(tr("field.person") + " *", max_chars=200, key=f"{k}_p")
                decision = st.radio(tr("field.assessment"), ["none", "warning", "deduction"],
                                    format_func=lambda d: tr("assessment." + d), horizontal=True,
                                    key=f"{k}_d")
                amount = st.text_input(tr("field.amount"), max_chars=20, key=f"{k}_a")
                note = st.text_input(tr("field.note"), max_chars=500, key=f"{k}_n")
                if st.form_submit_button(tr("common.save")):
                    if attempt(uc.meetings.add_assessment, app, user, c.id, person, decision,
                               amount or None, note):
                        form_saved(f"assess_{c.id}")
                        flash("success", tr("common.saved"))
                        st.rerun()
