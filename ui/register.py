"""The complaint register (客户投诉登记表): search, filters, sorting, paging, export."""
from __future__ import annotations

import math
from datetime import datetime, timezone, tzinfo

import pandas as pd
import streamlit as st

from core.model import (
    CustomField, Kind, RegisterFilter, RegisterPage, RegisterRow, Severity, State, User,
)
from ui import custom_fields
from ui.context import attempt, kesu, label, lang, local, settings_tz, tr, trn
from ui import register_export
from core import usecases as uc

PAGE_SIZE = 50
COUNT_LIMIT = 10_000  # counted no further: "more than 10,000" (issue #14)
SORTS = ["received_at", "number", "customer", "state", "severity"]


def _filters(fields: list[CustomField]) -> RegisterFilter:
    a, b, c, d = st.columns([3, 2, 2, 2])
    text = a.text_input(tr("log.search"), key="reg_text", max_chars=100)
    states = b.multiselect(tr("log.filter_state"), list(State), format_func=label("state"),
                           key="reg_states", placeholder=tr("common.all"))
    sevs = c.multiselect(tr("log.filter_severity"), list(Severity), format_func=label("severity"),
                         key="reg_sevs", placeholder=tr("common.all"))
    kinds = d.multiselect(tr("log.filter_kind"), list(Kind), format_func=label("kind"),
                          key="reg_kinds", placeholder=tr("common.all"))
    # the toggles get room for their English labels ("Descending", "Overdue only" were cut)
    a, b, c, d, e = st.columns([2, 2, 2, 1.4, 1.6])
    date_from = a.date_input(tr("log.filter_from"), value=None, key="reg_from")
    date_to = b.date_input(tr("log.filter_to"), value=None, key="reg_to")
    sort = c.selectbox(tr("log.sort"), SORTS, key="reg_sort",
                       format_func=lambda s: tr("field." + ("received_at" if s == "received_at"
                                                            else s)))
    desc = d.toggle(tr("log.sort_desc"), value=True, key="reg_desc")
    overdue = e.toggle(tr("log.filter_overdue"), value=False, key="reg_overdue")
    custom = custom_fields.register_filter(fields)
    return RegisterFilter(text=text, states=tuple(states), severities=tuple(sevs),
                          kinds=tuple(kinds), date_from=date_from or None,
                          date_to=date_to or None, sort=sort, descending=desc,
                          overdue_only=overdue, custom=custom)


def _frame(rows: list[RegisterRow], fields: list[CustomField] | None = None) -> pd.DataFrame:
    i = 1 if lang() == "en" else 0
    now = datetime.now(timezone.utc)
    tz = settings_tz()  # once, not per cell: each call is a cached read (pickled value)
    kinds = {k: tr(f"kind.{k.value}") for k in Kind}  # the words once, not per row
    states = {s: tr(f"state.{s.value}") for s in State}
    return pd.DataFrame({
        tr("field.number"): [r.number for r in rows],
        tr("field.received_at"): [_local(r.received_at, tz) for r in rows],
        tr("field.customer"): [r.customer for r in rows],
        tr("field.kind"): [kinds[r.kind] for r in rows],
        tr("field.state"): [states[r.state] for r in rows],
        tr("field.severity"): [r.severity.value if r.severity else "" for r in rows],
        tr("field.product_code"): [r.product_code for r in rows],
        tr("field.order_no"): [r.order_no for r in rows],
        tr("field.defect_type"): [r.defect_type.split("|")[i] if r.defect_type else ""
                                  for r in rows],
        tr("due.column"): [_due(r.due_at, now, tz) for r in rows],
        tr("field.description_short"): [r.description for r in rows],
        **custom_fields.columns(rows, fields),
    })


def _due(due: datetime | None, now: datetime, tz: tzinfo) -> str:
    if due is None:
        return ""
    return (tr("due.overdue") + " · " if due < now else "") + _local(due, tz)


def _local(dt: datetime | None, tz: tzinfo) -> str:
    """As ui.context.local, the zone given."""
    return local(None) if dt is None else dt.astimezone(tz).strftime("%Y-%m-%d %H:%M")


@st.cache_data(ttl=60, show_spinner=False, max_entries=200)
def _search(user_id: int, flt: RegisterFilter, version: int, _user: User) -> RegisterPage:
    """One page of the register, per user, filter and data version (every change to a case
    writes an event, which moves it): paging or clicking through a search of 100,000 cases
    does not count them again (issue #6); 60 s at most for the overdue filter's clock."""
    return uc.search.register_page(kesu(), _user, flt)


GOTO = "reg_goto"  # the case picked in the register, opened before the page draws again


def _picked_row() -> None:
    """on_select of the register's table: the case of the row clicked."""
    rows = st.session_state["reg_table"].selection.rows
    ids: list[int] = st.session_state.get("reg_ids", [])
    if rows and rows[0] < len(ids):
        st.session_state[GOTO] = ids[rows[0]]


def _picked_number() -> None:
    """on_change of 打开客诉: the case of the number picked; the box is empty again."""
    ids: dict[str, int] = st.session_state.get("reg_numbers", {})
    number = st.session_state.get("reg_open")
    if number in ids:
        st.session_state[GOTO] = ids[number]
    st.session_state["reg_open"] = None


def open_picked() -> None:
    """Open the case picked in the register (a row or 打开客诉) at once, before the Log page
    draws itself again for nothing: that run sent the whole page to the browser, and the
    switch to the Complaint page came after it (issue #14)."""
    goto = st.session_state.pop(GOTO, None)
    if goto is not None:
        st.switch_page("pages/complaint.py", query_params={"id": str(goto)})


def register(user: User) -> None:
    st.subheader(tr("log.register"))
    fields = uc.custom_fields.field_definitions(kesu())  # read once for the filter, the
    flt = _filters(fields)  # columns and the export's chooser (one unit of work, not three)
    if st.session_state.get("reg_last") != flt:  # a new filter starts at page 1
        st.session_state["reg_last"] = flt
        st.session_state["reg_page"] = 1
        st.session_state["reg_after"] = {}
    page = int(st.session_state.get("reg_page", 1))
    # keyset paging: a page seen after the one before it starts after that page's last row
    # (no rows skipped by OFFSET); a page typed in directly is still found by its number
    after: dict[int, tuple[datetime, int]] = st.session_state.setdefault("reg_after", {})
    result = attempt(_search, user.id, _page(flt, page, after.get(page)),
                     uc.stats.stats_version(kesu()), user)
    if result is None:
        return
    rows, total = result.rows, result.total
    if rows:
        after[page + 1] = (rows[-1].received_at, rows[-1].id)
    if total == 0:
        filtered = flt != RegisterFilter(sort=flt.sort, descending=flt.descending)
        st.info(tr("log.no_match") if filtered else tr("log.empty"))
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    frame = _frame(rows, fields)
    st.session_state["reg_ids"] = [r.id for r in rows]
    st.dataframe(frame, hide_index=True, on_select=_picked_row, selection_mode="single-row",
                 key="reg_table", width="stretch")
    a, b, c = st.columns([2, 4, 3])
    a.number_input(tr("log.page"), min_value=1, max_value=pages, step=1, key="reg_page")
    if result.capped:  # counted no further (issue #14)
        b.caption(tr("log.page_of_many", n=f"{COUNT_LIMIT:,}", page=page,
                     pages=max(1, COUNT_LIMIT // PAGE_SIZE)))
    else:
        b.caption(trn("log.page_of", total, total=total, page=page, pages=pages))
    if result.exact:
        b.caption(tr("log.exact_match"))
    b.caption(tr("log.open_hint"))
    numbers = {r.number: r.id for r in rows}
    st.session_state["reg_numbers"] = numbers
    c.selectbox(tr("log.open_case"), list(numbers), index=None, key="reg_open",
                placeholder=tr("log.pick"), on_change=_picked_number)
    # the full register as Excel or CSV, the columns the user picks (issue #13)
    register_export.export_panel(user, flt, total, register_export.chooser(fields), st)


def _page(flt: RegisterFilter, page: int,
          after: tuple[datetime, int] | None = None) -> RegisterFilter:
    from dataclasses import replace
    return replace(flt, page=page, page_size=PAGE_SIZE, count_limit=COUNT_LIMIT,
                   after=after if flt.sort == "received_at" else None)
