"""Admin → 核决权限 / Approval authority: the titles (names, ranks, substitutes), the approval
rules (conditions → ordered steps, saved as versions), "who would sign?", the versions."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from core import usecases as uc
from core.model import DispositionType, Kind, Market, Severity, User
from core.rules import approvals
from ui.context import attempt, done, flash, kesu, label, lang, local, md, moved_sentence, tr

_SEP = {"zh": "、", "en": ", "}
NONE = "—"  # the titles grid's "no substitute" (an empty cell would read "None")


def _sep() -> str:
    return _SEP.get(lang(), ", ")


def title_names(book: approvals.Titles) -> dict[str, str]:
    return {d.code: book.name(d.code, lang()) for d in book.defs}


def steps_in_words(book: approvals.Titles, steps: tuple[approvals.RuleStep, ...]) -> str:
    out = ""
    for i, s in enumerate(steps):
        name = book.name(s.title, lang()) + (tr("rules.or_higher_mark") if s.or_higher else "")
        out += name if i == 0 else ((" + " if s.parallel else " → ") + name)
    return out


def conditions_in_words(r: approvals.Rule) -> str:
    parts = []
    if r.dispositions:
        parts.append(_sep().join(tr("disposition_type." + t) for t in sorted(r.dispositions)))
    if r.over is not None and r.up_to is not None:
        parts.append(tr("rules.band_between", over=f"{r.over:,}", up_to=f"{r.up_to:,}"))
    elif r.over is not None:
        parts.append(tr("rules.band_over", over=f"{r.over:,}"))
    elif r.up_to is not None:
        parts.append(tr("rules.band_up_to", up_to=f"{r.up_to:,}"))
    if r.severities:
        parts.append(tr("rules.severity_is", levels="/".join(sorted(r.severities))))
    if r.kinds:
        parts.append(_sep().join(tr("kind." + k) for k in sorted(r.kinds)))
    if r.markets:
        parts.append(_sep().join(tr("market." + m) for m in sorted(r.markets)))
    if not parts:
        return tr("rules.any")
    return ("；" if lang() == "zh" else "; ").join(parts)


# ---------------------------------------------------------------- titles


def titles(me: User) -> None:
    st.subheader(tr("titles.header"))
    st.caption(tr("titles.help"))
    book = uc.authority.titles(kesu())
    rows = [{"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "rank": d.rank,
             "substitute": d.substitute or NONE, "active": d.active} for d in book.defs]
    codes = [NONE, *(d.code for d in book.defs)]  # none: the next higher rank signs
    edited = st.data_editor(
        pd.DataFrame(rows, columns=["code", "name_zh", "name_en", "rank", "substitute",
                                    "active"]),
        num_rows="dynamic", key="titles_editor", width="stretch", hide_index=True,
        column_config={
            "code": st.column_config.TextColumn(tr("titles.code"), help=tr("titles.code_help"),
                                                max_chars=approvals.MAX_CODE),
            "name_zh": st.column_config.TextColumn(tr("titles.name_zh"), max_chars=100),
            "name_en": st.column_config.TextColumn(tr("titles.name_en"), max_chars=100),
            "rank": st.column_config.NumberColumn(tr("titles.rank"), help=tr("titles.rank_help"),
                                                  min_value=0, max_value=1000, step=1),
            "substitute": st.column_config.SelectboxColumn(
                tr("titles.substitute"), help=tr("titles.substitute_help"), options=codes,
                format_func=lambda c: book.name(str(c), lang()) if c != NONE else NONE),
            "active": st.column_config.CheckboxColumn(tr("field.active"), default=True),
        })
    if st.button(tr("common.save"), key="save_titles", type="primary"):
        defs = []
        for r in edited.to_dict("records"):
            if not any(_cell(r.get(k)) for k in ("code", "name_zh", "name_en")):
                continue  # an empty new row
            rank = r.get("rank")
            defs.append(approvals.TitleDef(
                _cell(r.get("code")), _cell(r.get("name_zh")), _cell(r.get("name_en")),
                int(rank) if rank is not None and not pd.isna(rank) else -1,
                _cell(r.get("substitute")).replace(NONE, ""), bool(r.get("active", True))))
        if done(uc.authority.set_titles, kesu(), me, defs):
            flash("success", tr("admin.settings_saved"))
            st.rerun()


def _cell(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip()


# ---------------------------------------------------------------- rules


def rules(me: User) -> None:
    st.subheader(tr("rules.header"))
    st.caption(tr("rules.help"))
    book = uc.authority.titles(kesu())
    current = uc.authority.rule_set(kesu())
    listed = list(current.rules)
    st.dataframe(pd.DataFrame({
        "#": list(range(1, len(listed) + 1)),
        tr("rules.name"): [r.name for r in listed],
        tr("rules.conditions"): [conditions_in_words(r) for r in listed],
        tr("rules.steps"): [steps_in_words(book, r.steps) for r in listed],
    }), hide_index=True, width="stretch")
    st.caption(tr("rules.version", version=current.version or "—")
               + (" · " + local(current.created_at) if current.created_at else ""))
    for g in approvals.gaps(current.rules):
        st.warning(tr("rules.gap", type=tr("disposition_type." + g[0]), over=g[1],
                      up_to=g[2] if g[2] is not None else "∞"))
    choices = [0, *range(1, len(listed) + 1)]
    pick = st.selectbox(tr("rules.edit"), choices, key="rule_pick",
                        format_func=lambda i: tr("rules.new") if i == 0
                        else f"{i}. {listed[i - 1].name}")
    _rule_form(me, book, listed, int(pick or 0))


def _rule_form(me: User, book: approvals.Titles, listed: list[approvals.Rule], pick: int) -> None:
    r = listed[pick - 1] if pick else approvals.Rule("", ())
    k = f"rule{pick}_{len(listed)}"
    names = title_names(book)
    active_codes = book.active_codes()
    with st.container(border=True):
        name = st.text_input(tr("rules.name") + " *", r.name, max_chars=100, key=f"{k}_name")
        a, b = st.columns(2)
        types = a.multiselect(tr("rules.dispositions"), [t.value for t in DispositionType],
                              default=sorted(r.dispositions), format_func=label("disposition_type"),
                              placeholder=tr("rules.any"), key=f"{k}_types")
        sevs = b.multiselect(tr("field.severity"), [s.value for s in Severity],
                             default=sorted(r.severities), placeholder=tr("rules.any"),
                             key=f"{k}_sev")
        over = a.text_input(tr("rules.over"), "" if r.over is None else str(r.over),
                            help=tr("rules.over_help"), max_chars=20, key=f"{k}_over")
        up_to = b.text_input(tr("rules.up_to"), "" if r.up_to is None else str(r.up_to),
                             help=tr("rules.up_to_help"), max_chars=20, key=f"{k}_up")
        kinds = a.multiselect(tr("field.kind"), [x.value for x in Kind], default=sorted(r.kinds),
                              format_func=label("kind"), placeholder=tr("rules.any"),
                              key=f"{k}_kinds")
        markets = b.multiselect(tr("field.market"), [m.value for m in Market],
                                default=sorted(r.markets), format_func=label("market"),
                                placeholder=tr("rules.any"), key=f"{k}_mk")
        st.markdown("**" + tr("rules.steps") + "**")
        st.caption(tr("rules.steps_help"))
        steps = st.data_editor(
            pd.DataFrame([{"title": s.title, "or_higher": s.or_higher, "parallel": s.parallel}
                          for s in r.steps], columns=["title", "or_higher", "parallel"]),
            num_rows="dynamic", key=f"{k}_steps", width="stretch", hide_index=True,
            column_config={
                "title": st.column_config.SelectboxColumn(
                    tr("field.title"), options=active_codes,
                    format_func=lambda c: names.get(str(c), str(c))),
                "or_higher": st.column_config.CheckboxColumn(tr("rules.or_higher"),
                                                             default=False),
                "parallel": st.column_config.CheckboxColumn(tr("rules.parallel"),
                                                            help=tr("rules.parallel_help"),
                                                            default=False),
            })
        position = st.number_input(tr("rules.position"), 1, len(listed) + (0 if pick else 1),
                                   pick or len(listed) + 1, key=f"{k}_pos",
                                   help=tr("rules.position_help"))
        c1, c2 = st.columns(2)
        save = c1.button(tr("common.save"), key=f"{k}_save", type="primary")
        remove = bool(pick) and c2.button(tr("rules.remove"), key=f"{k}_rm")
    if not (save or remove):
        return
    out = list(listed)
    if remove:
        out.pop(pick - 1)
    else:
        bad = [f for f, v in (("over", over), ("up_to", up_to)) if v.strip()
               and _decimal(v) is None]
        if bad:
            st.error(tr("err.rule_amount"))
            return
        rule_steps = []
        for row in steps.to_dict("records"):
            code = _cell(row.get("title"))
            if not code and not row.get("or_higher") and not row.get("parallel"):
                continue  # an empty new row
            rule_steps.append(approvals.RuleStep(code, bool(row.get("or_higher")),
                                                 bool(row.get("parallel"))))
        new = approvals.Rule(name, tuple(rule_steps), frozenset(types), _decimal(over),
                             _decimal(up_to), frozenset(sevs), frozenset(kinds), frozenset(markets))
        if pick:
            out.pop(pick - 1)
        out.insert(int(position) - 1, new)
    version = attempt(uc.authority.save_rules, kesu(), me, out)
    if version is not None:
        flash("success", tr("rules.saved", version=version))
        st.rerun()


def _decimal(v: str) -> Decimal | None:
    try:
        d = Decimal(v.replace(",", "").strip())
    except ArithmeticError:
        return None
    return d if d.is_finite() else None


# ---------------------------------------------------------------- tester, versions


def who_would_sign(me: User) -> None:
    """Try the rules: types, a total, a severity, kind, market and a proposer → the rule that
    applies and the steps of the round as it would be planned now, and who could sign each."""
    with st.expander(tr("admin.who_signs"), expanded=False):
        people = {u.id: u.display_name for u in uc.accounts.list_active_users(kesu())}
        book = uc.authority.titles(kesu())
        with st.form("who_signs"):
            a, b, c = st.columns(3)
            types = a.multiselect(tr("rules.dispositions"), list(DispositionType),
                                  default=[DispositionType.COMPENSATION],
                                  format_func=label("disposition_type"), placeholder=tr("log.pick"))
            total = b.text_input(tr("appr.trial_total"), "8000", max_chars=20)
            severity = c.selectbox(tr("field.severity"), list(Severity), index=None,
                                   format_func=label("severity"), placeholder=tr("common.none"))
            kind = a.selectbox(tr("field.kind"), list(Kind), format_func=label("kind"))
            market = b.selectbox(tr("field.market"), list(Market), format_func=label("market"))
            proposer = c.selectbox(tr("appr.trial_proposer"), list(people), index=None,
                                   format_func=lambda i: people[i], placeholder=tr("log.pick"))
            tried = st.form_submit_button(tr("appr.trial"))
        if not tried:
            return
        found = attempt(uc.authority.who_would_sign, kesu(), me, total, severity, proposer,
                        types, (kind or Kind.COMPLAINT).value,
                        market.value if market else None)
        if found is None:
            return
        if not found.rule:
            st.warning(tr("err.no_rule", total=total, severity=severity or "—"))
            return
        st.markdown(md(tr("rules.applies", rule=found.rule, name=found.name,
                          version=found.version or "—")))
        for x in found.steps:
            title = book.name(x.step.title, lang())
            who = _sep().join(x.people)
            st.markdown(f"{x.step.stage}. **{md(title)}** — "
                        f"{md(who) if who else tr('appr.trial_nobody')}")
            if x.step.moved_from:
                st.caption(moved_sentence(book, x.step.title, x.step.moved_from, x.step.why))


def versions(me: User) -> None:
    with st.expander(tr("rules.versions")):
        found = attempt(uc.authority.rule_versions, kesu(), me) or []
        people = {u.id: u.display_name for u in attempt(uc.accounts.list_users, kesu(), me) or []}
        book = uc.authority.titles(kesu())
        for v in found:
            who = (people.get(v.created_by_id, "") if v.created_by_id
                   else tr("rules.by_upgrade"))
            st.markdown(md(tr("rules.version_line", version=v.version, when=local(v.created_at),
                              who=who, n=len(v.rules))))
            st.caption("  \n".join(f"{i}. {md(r.name)} — {md(conditions_in_words(r))}: "
                                   f"{md(steps_in_words(book, r.steps))}"
                                   for i, r in enumerate(v.rules, 1)))


def preset(me: User) -> None:
    """Apply a shipped preset: departments, titles, rules, chains and fields of another kind
    of company, through the same checks as the editors above (users are left alone)."""
    with st.expander(tr("presets.header")):
        st.caption(tr("presets.help"))
        names = uc.presets.names()
        shown = {n: uc.presets.read(n) for n in names}
        key = st.selectbox(tr("presets.pick"), names, format_func=lambda n: shown[n].name(lang()),
                           key="preset_pick")
        if key is None:
            return
        p = shown[key]
        st.markdown(md(p.about(lang())))
        book = approvals.Titles(p.titles)
        st.caption(tr("presets.titles", names=_sep().join(d.name(lang()) for d in p.titles)))
        st.caption("  \n".join(f"{i}. {md(r.name)} — {md(steps_in_words(book, r.steps))}"
                                for i, r in enumerate(p.rules, 1)))
        if p.fields:
            st.caption(tr("presets.fields", names=_sep().join(
                f.label_en if lang() == "en" else f.label_zh for f in p.fields)))
        if st.button(tr("presets.apply"), key="preset_apply"):
            done_ = attempt(uc.presets.apply_named, kesu(), me, key)
            if done_ is not None:
                flash("success", tr("presets.applied", name=p.name(lang()),
                                    version=done_["rules_version"]))
                st.rerun()


def page(me: User) -> None:
    preset(me)
    titles(me)
    st.divider()
    rules(me)
    who_would_sign(me)
    versions(me)
