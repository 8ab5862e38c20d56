"""The execution chains on the Complaint page (issue #12 item 5): for each rework, replacement
or return, the steps recorded (in words), the step to record next with its owner and due
time, and its form for whoever may record it; and the Admin table of the chains' settings."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd
import streamlit as st

from core import usecases as uc
from core.model import CaseFile, ChainStep, DispositionType, User
from core.rules import chains as rules
from core.usecases.chains import ChainView
from ui.context import attempt, done, flash, kesu, lang, local, today_local, tr


def _details(s: ChainStep) -> str:
    """A recorded step's values in words."""
    parts = []
    for name, v in s.data.items():
        if v is None or v == "":
            continue
        shown = (tr("common.yes") if v else tr("common.no")) if isinstance(v, bool) else str(v)
        parts.append(f"{tr('field.' + name)} {shown}")
    return ("；" if lang() == "zh" else "; ").join(parts)


def _owner(setting: rules.StepSetting, dept: int | None, depts: dict[int, str]) -> str:
    where = depts.get(dept or 0) or tr("chain.responsible")
    return f"{where} · {tr('role.' + setting.role.value)}"


def section(user: User, case: CaseFile) -> set[int]:
    """The chains of the case's current dispositions; the ids of the dispositions shown."""
    views = attempt(uc.chains.case_chains, kesu(), user, case.complaint.id or 0) or []
    if not views:
        return set()
    shown = [v for v in views if v.records or v.finished or v.why_not != "why.wrong_state"]
    if not shown:  # proposed or approved, not yet in execution: nothing to show yet
        return set()
    names = {u.id: u.display_name for u in uc.accounts.list_active_users(kesu())}
    depts = {d.id: (d.name_en if lang() == "en" else d.name_zh)
             for d in uc.reference.departments(kesu(), True)}
    st.markdown("**" + tr("chain.title") + "**")
    for v in shown:
        d = v.disposition
        with st.container(border=True):
            st.markdown("**" + tr("disposition_type." + d.type.value) + "**"
                        + (f" · {tr('field.quantity')} {d.quantity}" if d.quantity else ""))
            for r in v.records:
                st.text(f"✓ {tr('chain_step.' + r.step)} · {_details(r)} · "
                        f"{names.get(r.by_id, '?')} · {local(r.at)}")
                if r.step == "customer_check" and r.data.get("accepted") is False:
                    st.caption(tr("chain.redo"))
            if v.finished:
                st.caption(tr("chain.finished"))
                continue
            _next(user, v, depts)
    return {v.disposition.id or 0 for v in shown}


def _next(user: User, v: ChainView, depts: dict[int, str]) -> None:
    if v.next is None:
        return
    setting, dept = next((s, x) for sd, s, x in v.steps if sd.name == v.next.name)
    owner = _owner(setting, dept, depts)
    line = tr("chain.next", chain_step=v.next.name, owner=owner)
    if v.due_at is not None:
        overdue = v.due_at < datetime.now(timezone.utc)
        due = local(v.due_at)
        line += " · " + (tr("chain.overdue", due=due) if overdue else tr("chain.due", due=due))
    st.caption(line)
    if v.why_not is None:
        _form(user, v)
    elif v.why_not != "why.wrong_state":
        st.caption(tr("chain.waiting", owner=owner))


def _form(user: User, v: ChainView) -> None:
    """The next step's fields; what was typed stays when the save is refused."""
    d, step = v.disposition, v.next
    assert step is not None
    key = f"chain_{d.id}_{step.name}_{len(v.records)}"
    with st.form(key, clear_on_submit=False):
        st.markdown("**" + tr("chain_step." + step.name) + "**")
        values: dict[str, Any] = {}
        for f in step.fields:
            label = tr("field." + f.name) + (" *" if f.required else "")
            k = f"{key}_{f.name}"
            if f.kind == rules.QTY:  # no lower bound here: the rule says what is wrong
                values[f.name] = st.number_input(label, value=None, step=1, key=k)
            elif f.kind == rules.DAY:
                values[f.name] = st.date_input(label, value=today_local(),
                                               max_value=today_local(), key=k)
            elif f.kind == rules.PLANNED:
                values[f.name] = st.date_input(label, value=today_local(), key=k)
            elif f.kind == rules.YES_NO:
                values[f.name] = st.radio(label, [True, False], index=None, horizontal=True,
                                          format_func=lambda x: tr("common.yes" if x
                                                                   else "common.no"), key=k)
            elif f.name == "rework_plan":
                values[f.name] = st.text_area(label, max_chars=rules.TEXT_MAX, key=k)
            else:
                values[f.name] = st.text_input(label, max_chars=200, key=k)
        if st.form_submit_button(tr("chain.record"), type="primary"):
            if attempt(uc.chains.record_step, kesu(), user, d.id, step.name, values) is not None:
                flash("success", tr("common.saved"))
                st.rerun()


# ---------------------------------------------------------------- Admin → Settings

_ROLES = [r.value for r in rules.ROLES]


def settings(me: User) -> None:
    """Which steps each chain has, who does each, and its time limit (working days)."""
    st.subheader(tr("admin.chains"))
    st.caption(tr("admin.chains_help"))
    cfg = uc.chains.chain_settings(kesu(), me)
    departments = uc.reference.departments(kesu(), True)
    dept_label = {d.code: f"{d.code} · {d.name_en if lang() == 'en' else d.name_zh}"
                  for d in departments}
    blank = tr("chain.responsible")
    by_label = {v: k for k, v in dept_label.items()} | {blank: ""}
    chain_label = {t: tr("disposition_type." + t.value) for t in DispositionType}
    step_label = {s: tr("chain_step." + s) for s in rules.STEP_DEFS}
    keys = [(kind.value, name) for kind, steps in cfg.items() for name in steps]
    rows = [{"chain": chain_label[kind], "step": step_label[name], "on": s.on,
             "role": tr("role." + s.role.value),
             "department": dept_label.get(s.department, blank) if s.department else blank,
             "days": s.days}
            for kind, steps in cfg.items() for name, s in steps.items()]
    role_by_label = {tr("role." + r): r for r in _ROLES}
    cc = st.column_config
    edited = st.data_editor(
        pd.DataFrame(rows), key="chain_editor", hide_index=True, width="stretch",
        disabled=["chain", "step"], num_rows="fixed",
        column_config={
            "chain": cc.TextColumn(tr("admin.chain_col_chain")),
            "step": cc.TextColumn(tr("admin.chain_col_step")),
            "on": cc.CheckboxColumn(tr("admin.chain_col_on")),
            "role": cc.SelectboxColumn(tr("admin.chain_col_role"), options=list(role_by_label),
                                       required=True),
            "department": cc.SelectboxColumn(tr("admin.chain_col_department"),
                                             options=[blank, *dept_label.values()]),
            "days": cc.NumberColumn(tr("admin.chain_col_days"), step=1),
        })
    if st.button(tr("common.save"), key="save_chains", type="primary"):
        data = [{"chain": chain, "step": step, "on": bool(r["on"]),
                 "role": role_by_label.get(str(r["role"]), ""),
                 "department": by_label.get(str(r["department"] or blank), str(r["department"])),
                 "days": None if pd.isna(r["days"]) else r["days"]}
                for (chain, step), r in zip(keys, edited.to_dict("records"), strict=True)]
        if done(uc.chains.set_chain_settings, kesu(), me, data):
            flash("success", tr("admin.settings_saved"))
            st.rerun()

