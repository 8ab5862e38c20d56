"""The Investigate page's forms, one per step of the investigation."""
from __future__ import annotations

import streamlit as st

from core.model import (
    CapaAction, CapaType, CaseFile, Channel, Category, ContainmentType, Role, Severity, SixM,
    State, User, Validity,
)
from core.rules import severity as severity_rules
from core.usecases.complaints import Upload
from core.usecases.worklists import CAPA_WORK
from ui.case import decisions
from ui.context import (
    attempt, flash, form_saved, fresh_form, kesu, label, lang, md, today_local, tr,
)
from core import usecases as uc


def _done(result: object) -> None:
    if result is not None:
        flash("success", tr("common.saved"))
        st.rerun()


def step_forms(user: User, case: CaseFile) -> None:
    c = case.complaint
    app = kesu()
    if uc.assisting.helping_only(case, user):  # an assisting department: its own part only
        if c.state in (State.ROOT_CAUSE, State.CAPA_REVIEW, State.IMPLEMENTING,
                       State.VERIFYING):
            decisions(case, records=False)  # what the lead has found so far
        if c.state in uc.assisting.OPEN_WORK:
            assisting(user, case)
        if c.state in (State.ROOT_CAUSE, State.CAPA_REVIEW) or c.state in CAPA_WORK:
            capa(user, case, part=user.department_id)
        return
    if c.state == State.DISPATCHED:
        a, b = st.columns(2)
        if a.button(tr("action.acknowledge"), type="primary", width="stretch"):
            _done(attempt(uc.investigation.acknowledge, app, user, c.id, c.version))
        with b.popover(tr("action.return_to_sales"), width="stretch"):
            missing = st.text_area(tr("field.missing_info") + " *", key="missing")
            if st.button(tr("common.submit"), key="ret"):
                _done(
                    attempt(uc.investigation.return_to_sales, app, user, c.id, c.version, missing)
                )
    if c.state == State.INVESTIGATING:
        containment(user, case)
        classify(user, case)
    if c.state in (State.ROOT_CAUSE, State.CAPA_REVIEW, State.IMPLEMENTING, State.VERIFYING):
        decisions(case, records=False)
    if c.state == State.ROOT_CAUSE:
        containment(user, case)
        analysis(user, case)
    if c.state in uc.assisting.OPEN_WORK:
        assisting(user, case)
    if c.state in (State.ROOT_CAUSE, State.CAPA_REVIEW) or c.state in CAPA_WORK:
        capa(user, case)
    if c.state == State.ROOT_CAUSE:
        if st.button(tr("action.submit_analysis"), type="primary"):
            _done(attempt(uc.investigation.submit_analysis, app, user, c.id, c.version))
    if c.state == State.CAPA_REVIEW:
        review(user, case)
    if c.state == State.VERIFYING:
        verify(user, case)


def containment(user: User, case: CaseFile) -> None:
    c = case.complaint
    st.markdown(f"**{tr('inv.containment')}**")
    for x in case.containment:
        st.text(f"{tr('containment_type.' + x.type.value)} · {x.quantity or ''} · {x.note}")
    if not case.containment:
        st.caption(tr("inv.no_containment"))
    k = fresh_form(f"cont_{c.id}")  # a refused save keeps what was typed
    with st.form(k):
        a, b = st.columns(2)
        kind = a.selectbox(tr("field.containment"), list(ContainmentType),
                           format_func=label("containment_type"), key=f"{k}_kind")
        qty = b.number_input(tr("field.quantity"), min_value=0, step=1, value=None,
                             key=f"{k}_qty")
        note = st.text_input(tr("field.note"), max_chars=500, key=f"{k}_note")
        if st.form_submit_button(tr("common.add")):
            if attempt(uc.investigation.add_containment, kesu(), user, c.id, kind,
                       int(qty) if qty is not None else None, note) is not None:
                form_saved(f"cont_{c.id}")
                _done(True)


def classify(user: User, case: CaseFile) -> None:
    c = case.complaint
    depts = {
        d.id: (d.name_en if lang() == "en" else d.name_zh) for d in uc.reference.departments(kesu())
    }
    st.markdown(f"**{tr('inv.classify')}**")
    cfg = uc.context.settings(kesu())
    suggested, criteria = severity_rules.suggest(
        c.safety_risk, c.channel == Channel.EXTERNAL, c.claimed_amount,
        severity_rules.SeverityThresholds(cfg.severity_a_claim, cfg.severity_b_claim))
    if suggested is not None:  # what the criteria ask for; a lower level needs a reason
        st.info(tr("severity.suggested", suggested=suggested.value, criteria=",".join(criteria)))
    if c.severity_note:
        st.caption(f"{tr('field.severity_note')}: {md(c.severity_note)}")
    with st.form(f"classify_{c.id}"):
        validity = st.radio(tr("field.validity"), list(Validity), format_func=label("validity"),
                            horizontal=True)
        a, b = st.columns(2)
        cats = list(Category)
        category = a.selectbox(tr("field.category"), cats, index=cats.index(c.category),
                               format_func=label("category"))
        sevs = list(Severity)
        severity = b.selectbox(tr("field.severity"), sevs,
                               index=sevs.index(c.severity_proposed) if c.severity_proposed else 2,
                               format_func=label("severity"), help=tr("inv.escalation_help"))
        dept = a.selectbox(tr("field.responsible_department"), list(depts), index=None,
                           format_func=lambda i: depts[i], placeholder=tr("log.pick"))
        helping = b.multiselect(tr("field.assisting_departments"), list(depts),
                                format_func=lambda i: depts[i], placeholder=tr("log.pick"),
                                help=tr("inv.assisting_help"))
        ask = st.text_input(tr("field.assist_ask"), max_chars=500)
        reason = st.text_area(tr("field.reason"), max_chars=2000,
                              help=tr("field.invalid_reason") + "\n\n"
                              + tr("inv.reason_below_help"))
        if st.form_submit_button(tr("common.submit"), type="primary"):
            _done(
                attempt(uc.investigation.classify, kesu(), user, c.id, c.version, validity,
                        category, severity, dept, reason, {d: ask for d in helping})
            )


def assisting(user: User, case: CaseFile) -> None:
    """The assisting departments, what each is asked and its findings; QA changes them, an
    assisting department's production users write their findings (issue #12)."""
    c = case.complaint
    depts = {d.id: (d.name_en if lang() == "en" else d.name_zh)
             for d in uc.reference.departments(kesu(), True)}
    live = [a for a in case.assists if a.ended_at is None]
    if not live and not user.has(Role.QA, Role.MANAGEMENT):
        return
    st.markdown(f"**{tr('inv.assisting')}**")
    for a in live:
        st.text(tr("inv.assist_line", dept=depts.get(a.department_id, "?"), ask=a.ask or "—"))
        st.caption(f"{tr('field.findings')}: {a.findings}" if a.findings
                   else tr("inv.no_findings"))
        if user.has(Role.PRODUCTION) and user.department_id == a.department_id:
            with st.form(f"findings_{a.id}"):
                text = st.text_area(tr("field.findings") + " *", a.findings, max_chars=3000)
                if st.form_submit_button(tr("inv.save_findings")):
                    _done(attempt(uc.assisting.save_findings, kesu(), user, c.id, text))
    if user.has(Role.QA, Role.MANAGEMENT) and c.state != State.INVESTIGATING:
        with st.expander(tr("inv.set_assisting")):
            st.caption(tr("inv.assisting_help"))
            current = {a.department_id: a.ask for a in live}
            chosen = st.multiselect(tr("field.assisting_departments"),
                                    [d for d in depts if d != c.responsible_department_id],
                                    default=list(current), format_func=lambda i: depts[i],
                                    placeholder=tr("log.pick"), key=f"assist_{c.id}")
            asks = {d: st.text_input(tr("inv.assist_ask_for", dept=depts[d]), current.get(d, ""),
                                     max_chars=500, key=f"assist_{c.id}_{d}") for d in chosen}
            if st.button(tr("common.save"), key=f"assist_save_{c.id}"):
                _done(attempt(uc.assisting.set_assisting, kesu(), user, c.id, c.version, asks))


def analysis(user: User, case: CaseFile) -> None:
    c = case.complaint
    st.markdown(f"**{tr('inv.analysis')}**")
    with st.form(f"analysis_{c.id}_{c.version}"):
        a, b, d = st.columns(3)
        line = a.text_input(tr("field.prod_line"), c.prod_line, max_chars=100)
        shift = b.text_input(tr("field.prod_shift"), c.prod_shift, max_chars=100)
        machine = d.text_input(tr("field.prod_machine"), c.prod_machine, max_chars=100)
        operator = a.text_input(tr("field.prod_operator"), c.prod_operator, max_chars=100)
        pdate = b.date_input(tr("field.prod_date"), value=c.prod_date, max_value=today_local())
        lot = d.text_input(tr("field.prod_lot"), c.prod_lot or c.lot, max_chars=100)
        old = (c.root_cause_whys.split("\n") + [""] * 5)[:5]
        whys = [
            st.text_input(tr("inv.why_n", n=i + 1), old[i], max_chars=300, key=f"why{i}")
            for i in range(5)
        ]
        sixes = list(SixM)
        six = st.radio(tr("field.root_cause_6m"), sixes,
                       index=sixes.index(c.root_cause_6m) if c.root_cause_6m else None,
                       format_func=label("six_m"), horizontal=True)
        cause = st.text_area(tr("field.root_cause") + " *", c.root_cause, max_chars=3000)
        if st.form_submit_button(tr("inv.save_analysis"), type="primary"):
            _done(
                attempt(uc.investigation.save_analysis, kesu(), user, c.id, c.version,
                        prod_line=line, prod_shift=shift, prod_machine=machine,
                        prod_operator=operator, prod_date=pdate, prod_lot=lot, whys=whys, six_m=six,
                        root_cause=cause)
            )


def capa(user: User, case: CaseFile, part: int | None = None) -> None:
    """The CAPA actions and the form to add one; `part`: an assisting department's user, who
    completes only its own part's actions (or those they own)."""
    c = case.complaint
    users = {u.id: u.display_name for u in uc.accounts.list_active_users(kesu())}  # to pick
    names = {u.id: u.display_name for u in uc.accounts.list_users(kesu(), user)}  # left too
    depts = {d.id: (d.name_en if lang() == "en" else d.name_zh)
             for d in uc.reference.departments(kesu(), True)}
    st.markdown(f"**{tr('inv.capa')}**")
    if not case.capa:
        st.caption(tr("inv.no_capa"))
    for a in case.capa:
        mark = "[" + tr("capa." + a.status) + "]"
        st.text(
            f"{mark} {tr('capa_type.' + a.type.value)} · {a.description} · "
            f"{names.get(a.owner_id, '?')} · {a.due_date}"
            + (f" · {depts.get(a.department_id, '?')}" if a.department_id else "")
        )
        if a.status == "done" and a.evidence:
            st.caption(f"{tr('field.evidence')}: {md(a.evidence)}")
        mine = part is None or a.department_id == part or a.owner_id == user.id
        if mine and a.status == "open" and (c.state == State.ROOT_CAUSE
                                            or c.state in CAPA_WORK):
            with st.popover(tr("inv.mark_done")):
                ev = st.text_area(tr("field.evidence") + " *", key=f"ev_{a.id}",
                                  help=tr("inv.evidence_help"))
                mb = uc.context.settings(kesu()).attachment_max_mb
                files = st.file_uploader(tr("inv.evidence_files"), accept_multiple_files=True,
                                         type=["jpg", "jpeg", "png", "pdf", "xlsx", "docx"],
                                         max_upload_size=mb, key=f"evf_{a.id}",
                                         help=tr("log.attachments_help", mb=mb))
                if st.button(tr("inv.mark_done"), key=f"done_{a.id}"):
                    _done(attempt(uc.investigation.complete_capa, kesu(), user, a.id, ev,
                                  [Upload(f.name, f.getvalue()) for f in files or []]))
        if a.status == "open" and (part is None or a.department_id == part) and (
                c.state in (State.ROOT_CAUSE, State.CAPA_REVIEW) or c.state in CAPA_WORK):
            with st.expander(tr("inv.capa_change", n=case.capa.index(a) + 1)):
                _capa_form(user, case, users, f"capa_edit_{a.id}", a)
    if c.state in (State.ROOT_CAUSE, State.CAPA_REVIEW):
        _capa_form(user, case, users, fresh_form(f"capa_{c.id}"))  # a saved one: a fresh form


def _capa_form(user: User, case: CaseFile, users: dict[int, str], k: str,
               a: CapaAction | None = None) -> None:
    """Add a CAPA action, or (with `a`) change or withdraw it with a reason. A refused save
    keeps everything typed (keyed widgets, no rerun); a saved new action empties the form."""
    c = case.complaint
    types = list(CapaType)
    owners = list(users) if a is None or a.owner_id in users else [a.owner_id, *users]
    with st.form(k, clear_on_submit=False):
        x, y = st.columns(2)
        kind = x.selectbox(tr("field.capa_type"), types, index=types.index(a.type) if a else 0,
                           format_func=label("capa_type"), key=f"{k}_type")
        owner = y.selectbox(tr("field.owner") + " *", owners,
                            index=owners.index(a.owner_id) if a else None,
                            format_func=lambda i: users.get(i, "?"), placeholder=tr("log.pick"),
                            key=f"{k}_owner")
        text = st.text_input(tr("field.capa_description") + " *", value=a.description if a else "",
                             max_chars=1000, key=f"{k}_text")
        x, y = st.columns(2)
        due = x.date_input(tr("field.due_date") + " *", value=a.due_date if a else None,
                           min_value=min(today_local(), a.due_date) if a else today_local(),
                           key=f"{k}_due")
        reason = "" if a is None else y.text_input(
            tr("field.reason") + " *", max_chars=500, key=f"{k}_reason",
            help=tr("inv.capa_reason_help"))
        problems = st.container()  # every problem at once, above the buttons
        if a is None:
            if st.form_submit_button(tr("inv.add_capa")):
                with problems:
                    added = attempt(uc.investigation.add_capa, kesu(), user, c.id, kind, text,
                                    owner, due)
                if added is not None:
                    form_saved(f"capa_{c.id}")
                    _done(True)
            return
        p, q = st.columns(2)
        if p.form_submit_button(tr("inv.capa_save_change"), type="primary"):
            with problems:
                _done(attempt(uc.investigation.edit_capa, kesu(), user, a.id, kind, text, owner,
                              due, reason))
        if q.form_submit_button(tr("inv.capa_withdraw")):
            with problems:
                _done(attempt(uc.investigation.withdraw_capa, kesu(), user, a.id, reason))


def review(user: User, case: CaseFile) -> None:
    c = case.complaint
    st.markdown(f"**{tr('inv.review')}**")
    a, b = st.columns(2)
    if a.button(tr("action.approve_capa"), type="primary", width="stretch"):
        _done(attempt(uc.investigation.approve_capa, kesu(), user, c.id, c.version))
    with b.popover(tr("action.send_back"), width="stretch"):
        reason = st.text_area(tr("field.reason") + " *", key="sendback")
        if st.button(tr("common.submit"), key="sb"):
            _done(attempt(uc.investigation.send_back, kesu(), user, c.id, c.version, reason))


def verify(user: User, case: CaseFile) -> None:
    c = case.complaint
    st.markdown(f"**{tr('inv.verify')}**")
    with st.form(f"verify_{c.id}"):
        verdict = st.radio(tr("field.verdict"), ["effective", "not_effective", "schedule"],
                           format_func=lambda v: tr("verdict." + v), horizontal=True)
        days = st.number_input(tr("field.schedule_days"), 1, 365, 30)
        note = st.text_area(tr("field.note"), max_chars=2000)
        if st.form_submit_button(tr("common.submit"), type="primary"):
            if verdict == "schedule":
                _done(
                    attempt(uc.closure.verify, kesu(), user, c.id, c.version, None, note, int(days))
                )
            else:
                _done(
                    attempt(uc.closure.verify, kesu(), user, c.id, c.version,
                            verdict == "effective", note)
                )
