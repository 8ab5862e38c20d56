"""The Complaint page's lifecycle parts: progress line, action panel, dispositions, meetings."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from core.usecases.approval import CostInput
from core.usecases.approval import DispositionInput
from core.model import (
    CaseFile, CostCategory, Disposition, DispositionType, Event, Kind, PaymentMethod, ReplyMethod,
    Role, Satisfaction, State,
    User,
)
from ui.context import (
    attempt, flash, kesu, label, lang, local, now_local, settings_tz, today_local, tr,
)
from core import procedure
from core import usecases as uc
from core.documents import letter_body
from ui import chains
from ui.tabs import folded

MAIN_PATH = [State.REGISTERED, State.DISPATCHED, State.INVESTIGATING, State.ROOT_CAUSE,
             State.CAPA_REVIEW, State.DISPOSITION, State.PENDING_APPROVAL, State.REPLYING,
             State.IMPLEMENTING, State.VERIFYING, State.FOLLOW_UP, State.CLOSED]
SHORT_PATH = [State.REGISTERED, State.REPLYING, State.CLOSED]
ON_INVESTIGATE = procedure.on_page("investigate")
ON_APPROVE = procedure.on_page("approve")


def progress(case: CaseFile, events: list[Event]) -> None:
    """The procedure as a line of steps: done (by whom, when), current, still to come."""
    c = case.complaint
    path = MAIN_PATH if c.kind == Kind.COMPLAINT else SHORT_PATH
    reached: dict[str, Event] = {}
    for e in events:
        if e.action == "registered":
            reached[State.REGISTERED.value] = e
        new = e.changes.get("state", [None, None])[1]
        if isinstance(new, str) and new:
            reached[new] = e
    current = path.index(c.state) if c.state in path else -1
    parts = []
    for i, s in enumerate(path):
        name = tr("state." + s.value)  # a fixed label, never user text
        if i < current or c.state == State.CLOSED:
            parts.append(f":green[✓ {name}]")
        elif i == current:
            parts.append(f":blue-background[**{name}**]")
        else:
            parts.append(f":gray[{name}]")
    st.markdown("**" + tr("case.progress") + "**")
    st.markdown(" → ".join(parts))
    if c.state == State.CANCELLED:
        st.markdown(":red-background[" + tr("state.cancelled") + "]")
    rows = [(tr("state." + s.value), reached[s.value].user_name, local(reached[s.value].at))
            for s in path if s.value in reached and (path.index(s) <= current or current < 0)]
    detail = folded(tr("case.progress_detail"), f"progress_open_{c.id}") if rows else None
    if detail is not None and detail.open:
        with detail:
            # lines, not a data grid: the browser draws a grid even in a folded expander, and
            # it cost the Complaint page more than its data (issue #14); drawn once opened
            for state, who, when in rows:
                st.text(f"{state} · {who} · {when}")


def _run(fn: Callable[..., Any], *args: Any, ok: str = "common.saved", **kwargs: Any) -> None:
    if attempt(fn, *args, **kwargs) is not None:
        flash("success", tr(ok))
        st.rerun()


def panel(user: User, case: CaseFile) -> None:
    """Exactly the actions this user may take now; the others greyed, with the reason."""
    app = kesu()
    c = case.complaint
    options = attempt(uc.complaints.actions, app, user, c.id) or []
    allowed = [o for o in options if o.allowed]
    st.markdown("**" + tr("case.actions") + "**")
    if not allowed:
        st.caption(tr("case.no_actions"))
    for o in allowed:
        name = tr("action." + o.action)
        if o.action in ON_INVESTIGATE:
            st.page_link("pages/investigate.py", label=f"➡ {name}", query_params={"id": str(c.id)})
        elif o.action == "record_payment":  # its form is with the dispositions, below
            st.markdown(f"➡ {name} · {tr('case.pay_below')}")
        elif o.action in ON_APPROVE:
            if o.action == "approve_step":
                st.page_link("pages/approve.py", label=f"➡ {name}")
        else:
            form = folded(name, f"act_open_{o.action}_{c.id}")
            if form.open:
                with form:
                    _FORMS.get(o.action, _simple)(user, case, o.action)
    if c.customer_ack_at is None and c.state.is_open and user.has(Role.SALES, Role.MANAGEMENT):
        form = folded(tr("action.customer_acknowledged"), f"act_open_ack_{c.id}")
        if form.open:
            with form:
                _customer_ack(user, case)
    quiet = ("why.wrong_role", "why.not_on_hold", "why.wrong_kind")
    greyed = [o for o in options if not o.allowed and o.reason not in quiet]
    for o in greyed:
        st.caption(tr("case.greyed", action=tr("action." + o.action), why=tr(o.reason or "")))


def _simple(user: User, case: CaseFile, action: str) -> None:
    c = case.complaint
    with st.form(f"act_{action}"):
        comment = st.text_input(tr("field.comment"), max_chars=500)
        if st.form_submit_button(tr("action." + action), type="primary"):
            _run(uc.ACTIONS[action], kesu(), user, c.id, c.version, comment)


def _with_text(user: User, case: CaseFile, action: str) -> None:
    """The form of an action that asks for one required text (procedure.Action.text)."""
    c = case.complaint
    with st.form(f"act_{action}"):
        text = st.text_area(tr("field." + procedure.BY_NAME[action].text) + " *", max_chars=2000)
        if st.form_submit_button(tr("action." + action), type="primary"):
            _run(uc.ACTIONS[action], kesu(), user, c.id, c.version, text)


def _customer_ack(user: User, case: CaseFile) -> None:
    """ISO 10002 §8.4: when and how the customer was told we received the complaint."""
    c = case.complaint
    with st.form("act_ack"):
        a, b, d = st.columns(3)
        now = now_local()  # the company's zone, not the server's (issue #13)
        day = a.date_input(tr("field.customer_ack_date"), value=now.date(),
                           max_value=now.date(), key=f"ack_day_{c.id}")
        at = b.time_input(tr("field.customer_ack_time"), value=now.time().replace(
            second=0, microsecond=0), step=60, key=f"ack_time_{c.id}")
        how = d.text_input(tr("field.customer_ack_method") + " *", max_chars=100,
                           placeholder=tr("channel.phone"), key=f"ack_how_{c.id}")
        if st.form_submit_button(tr("common.save"), type="primary"):
            when = datetime.combine(day, at, settings_tz())
            _run(uc.closure.record_customer_ack, kesu(), user, c.id, when, how)


def _merge(user: User, case: CaseFile, action: str) -> None:
    c = case.complaint
    with st.form("act_merge"):
        target = st.text_input(tr("field.merge_target") + " *", placeholder="KS2611-001")
        reason = st.text_input(tr("field.reason"), max_chars=500)
        if st.form_submit_button(tr("action.merge"), type="primary"):
            _run(uc.closure.merge, kesu(), user, c.id, c.version, target, reason)


def _propose(user: User, case: CaseFile, action: str) -> None:
    c = case.complaint
    total = case.disposition_total
    st.caption(tr("appr.total", amount=f"{total:,.2f}"))
    with st.form("act_propose"):
        pos = st.text_area(tr("field.customer_position") + " *", value=c.customer_position,
                           max_chars=2000)
        if st.form_submit_button(tr("action.propose"), type="primary"):
            _run(uc.approval.propose, kesu(), user, c.id, c.version, pos)


def _reply(user: User, case: CaseFile, action: str) -> None:
    c = case.complaint
    with st.form("act_reply"):
        a, b = st.columns(2)
        day = a.date_input(tr("field.reply_date"), value=today_local(), max_value=today_local())
        method = b.selectbox(tr("field.reply_method"), list(ReplyMethod),
                             format_func=label("reply_method"))
        # prefilled with the reply letter (as edited on the Documents section), issue #13
        docs = attempt(uc.documents.case_documents, kesu(), user, c.id, lang())
        text = st.text_area(tr("field.reply_text") + " *", max_chars=5000, height=300,
                            value=c.reply_text or (f"{docs.letter.title}\n\n"
                                                   f"{letter_body(docs.letter)}" if docs else ""),
                            key=f"reply_text_{c.id}", help=tr("field.reply_text_help"))
        if st.form_submit_button(tr("action.reply"), type="primary"):
            _run(uc.closure.reply, kesu(), user, c.id, c.version, day, method, text)


def _follow_up(user: User, case: CaseFile, action: str) -> None:
    c = case.complaint
    with st.form("act_follow_up"):
        a, b = st.columns(2)
        day = a.date_input(tr("field.followup_date"), value=today_local(), max_value=today_local())
        contact = b.text_input(tr("field.followup_contact"), max_chars=100)
        score = a.slider(tr("field.satisfaction_score"), 1, 5, 4)
        sat = b.radio(tr("field.satisfaction"), list(Satisfaction),
                      format_func=label("satisfaction"))
        notes = st.text_area(tr("field.followup_notes"), max_chars=2000)
        lessons = st.text_area(tr("field.lessons_learned"), max_chars=2000)
        doc = st.text_input(tr("field.standard_doc"), max_chars=100)
        if st.form_submit_button(tr("action.follow_up"), type="primary"):
            _run(uc.closure.follow_up, kesu(), user, c.id, c.version, day=day, contact=contact,
                 score=score, satisfaction=sat, notes=notes, lessons=lessons, standard_doc=doc)


_FORMS: dict[str, Callable[[User, CaseFile, str], None]] = {
    **{a.name: _with_text for a in procedure.ACTIONS if a.text},
    "merge": _merge,
    "propose": _propose,
    "reply": _reply,
    "follow_up": _follow_up,
}


# ---------------------------------------------------------------- dispositions and costs


def _dept_names() -> dict[int, str]:
    return {
        d.id: (d.name_en if lang() == "en" else d.name_zh)
        for d in uc.reference.departments(kesu(), True)
    }


def dispositions(user: User, case: CaseFile) -> None:
    """Sales edits the round's proposal; everyone sees it, its steps and its execution."""
    c = case.complaint
    current = case.current(case.dispositions)
    editable = c.state == State.DISPOSITION and user.has(Role.SALES)
    if editable:
        _editor(user, case)
    elif current:
        for d in current:
            status = tr("disp.done") if d.done else tr("disp.open")
            st.text(
                f"{tr('disposition_type.' + d.type.value)} · {d.quantity or ''} · "
                f"{d.amount:,.2f} · {status}  {d.note}"
            )
        st.caption(tr("appr.total", amount=f"{case.disposition_total:,.2f}"))
    paid = attempt(uc.closure.payments, kesu(), user, c.id or 0) or []
    for d in current:
        if d.type == DispositionType.COMPENSATION and (paid or c.state == State.IMPLEMENTING):
            mine = [p for p in paid if p.disposition_id == d.id]
            total = sum((p.amount for p in mine), Decimal("0"))
            st.caption(tr("disp.paid", paid=f"{total:,.2f}", approved=f"{d.amount:,.2f}"))
            for p in mine:
                st.text(f"{p.paid_on.isoformat()} · {p.amount:,.2f} · "
                        f"{tr('payment_method.' + p.method.value)} · {p.voucher}")
    steps = case.current(case.steps)
    if steps:
        st.markdown("**" + tr("disp.steps") + "**")
        book = uc.authority.titles(kesu())
        for s in steps:
            st.text(
                f"{s.seq}. {book.name(s.title, lang())} — "
                f"{tr('step_status.' + s.status.value)}"
                f"{' · ' + local(s.decided_at) if s.decided_at else ''}"
                f"{' · ' + s.comment if s.comment else ''}"
            )
    chained = chains.section(user, case)  # rework / replacement / return, step by step
    if c.state == State.IMPLEMENTING:
        open_items = [d for d in current if not d.done and d.id not in chained]
        for d in open_items:
            if d.type == DispositionType.COMPENSATION:
                _payment_form(user, d)
                continue
            with st.form(f"exec_{d.id}"):
                st.text(f"{tr('disposition_type.' + d.type.value)} · {d.amount:,.2f}")
                a, b = st.columns(2)
                qty = a.number_input(tr("field.quantity"), min_value=0, step=1, value=d.quantity)
                note = b.text_input(tr("field.note"), max_chars=500)
                if st.form_submit_button(tr("disp.record")):
                    _run(uc.closure.record_execution, kesu(), user, d.id,
                         int(qty) if qty is not None else None, note)


def _payment_form(user: User, d: Disposition) -> None:
    """Finance records one instalment; what was typed stays when the save is refused, and
    the form is empty again once it is recorded (new widget keys: a browser keeps what its
    boxes show when only the server forgets their values)."""
    turn = st.session_state.get(f"pay_turn_{d.id}", 0)
    k = f"{d.id}_{turn}"
    with st.form(f"pay_{k}", clear_on_submit=False):
        st.markdown(f"**{tr('disp.pay')}** · {tr('disposition_type.' + d.type.value)} "
                    f"{d.amount:,.2f}")
        a, b = st.columns(2)
        paid_on = a.date_input(tr("field.paid_on"), value=today_local(),
                               max_value=today_local(), key=f"pay_on_{k}")
        amount = b.text_input(tr("field.amount"), max_chars=20, placeholder="0.00",
                              key=f"pay_amount_{k}")
        methods = list(PaymentMethod)
        method = a.selectbox(tr("field.payment_method"), methods,
                             format_func=label("payment_method"), key=f"pay_method_{k}")
        voucher = b.text_input(tr("field.voucher"), max_chars=100,
                               help=tr("disp.voucher_help"), key=f"pay_voucher_{k}")
        if st.form_submit_button(tr("disp.pay")) and attempt(
                uc.closure.record_payment, kesu(), user, d.id, paid_on, amount, method,
                voucher) is not None:
            # recorded: an empty form for the next instalment (the same amount and voucher
            # left in it invite recording this one twice)
            st.session_state[f"pay_turn_{d.id}"] = turn + 1
            flash("success", tr("common.saved"))
            st.rerun()


def _editor(user: User, case: CaseFile) -> None:
    c = case.complaint
    st.caption(tr("disp.editor_help"))
    types = {tr("disposition_type." + t.value): t for t in DispositionType}
    cats = {tr("cost_category." + x.value): x for x in CostCategory}
    depts = _dept_names()
    by_name = {v: k for k, v in depts.items()}
    current = case.current(case.dispositions)
    rows = [
        {
            "type": tr("disposition_type." + d.type.value),
            "qty": d.quantity,
            "amount": float(d.amount),
            "note": d.note,
        }
        for d in current
    ] or [{"type": list(types)[0], "qty": None, "amount": 0.0, "note": ""}]
    cost_rows = [
        {
            "cat": tr("cost_category." + x.category.value),
            "amount": float(x.amount),
            "dept": depts.get(x.department_id or 0, ""),
            "supplier": x.supplier,
            "back": float(x.charge_back),
        }
        for x in case.current(case.costs)
    ]
    cfg = st.column_config
    disp = st.data_editor(
        pd.DataFrame(rows),
        num_rows="dynamic",
        key=f"disp_{c.id}_{c.version}",
        width="stretch",
        column_config={
            "type": cfg.SelectboxColumn(tr("field.dispositions"), options=list(types),
                                        required=True),
            "qty": cfg.NumberColumn(tr("field.quantity"), min_value=0, step=1),
            "amount": cfg.NumberColumn(tr("field.amount"), min_value=0, step=0.01, format="%.2f"),
            "note": cfg.TextColumn(tr("field.note"), max_chars=500),
        },
    )
    st.markdown("**" + tr("disp.costs") + "**")
    costs = st.data_editor(
        pd.DataFrame(cost_rows, columns=["cat", "amount", "dept", "supplier", "back"]),
        num_rows="dynamic",
        key=f"cost_{c.id}_{c.version}",
        width="stretch",
        column_config={
            "cat": cfg.SelectboxColumn(tr("field.cost_category"), options=list(cats)),
            "amount": cfg.NumberColumn(tr("field.amount"), min_value=0, step=0.01, format="%.2f"),
            "dept": cfg.SelectboxColumn(tr("field.department"), options=list(by_name)),
            "supplier": cfg.TextColumn(tr("field.supplier"), max_chars=200),
            "back": cfg.NumberColumn(tr("field.charge_back"), min_value=0, step=0.01,
                                     format="%.2f"),
        },
    )
    if st.button(tr("disp.save"), key=f"save_disp_{c.id}", type="primary"):
        items = [
            DispositionInput(types[r["type"]], _int(r["qty"]), _dec(r["amount"]),
                             str(r["note"] or ""))
            for r in disp.to_dict("records")
            if r.get("type") in types
        ]
        lines = [
            CostInput(cats[r["cat"]], _dec(r["amount"]), by_name.get(r["dept"]),
                      str(r["supplier"] or ""), _dec(r["back"]))
            for r in costs.to_dict("records")
            if r.get("cat") in cats
        ]
        _run(uc.approval.set_dispositions, kesu(), user, c.id, c.version, items, lines)


def _int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _dec(v: Any) -> Decimal | None:
    return None if v is None or pd.isna(v) else Decimal(str(v)).quantize(Decimal("0.01"))
