"""The read models on the real databases (SQLite file, PostgreSQL): the register's text search,
filters, local-date range, sorting and paging (docs/procedure.md §9), the cases by state that
the worklists read, and the change feed that keeps My Tasks current (docs/architecture.md §4)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from core.model import Customer, Kind, RegisterFilter, Severity, State
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.integration.conftest import World
from core import usecases as uc

# 2026-11-01 01:00 UTC is 09:00 in Shanghai; one case a day at that time.
DAY0 = datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)


@dataclasses.dataclass
class Reg:
    app: Context
    w: World
    draft: Callable[..., ComplaintDraft]


@pytest.fixture
def reg(make_app: Callable[..., Context], world: World,
        draft: Callable[..., ComplaintDraft]) -> Reg:
    """The application ten days after DAY0, with customers Acme Corp and Beta Motors."""
    app = make_app(clock=lambda: DAY0 + timedelta(days=10))
    acme = uc.reference.save_reference(app, world.admin, Customer(0, "Acme Corp"))
    return Reg(app, world, lambda **kw: draft(**{"customer_id": acme, **kw}))


@pytest.fixture
def cases(reg: Reg) -> list[str]:
    """Five cases on five days: varied customer, kind, severity; the third cancelled."""
    beta = uc.reference.save_reference(reg.app, reg.w.admin, Customer(0, "Beta Motors"))
    specs: list[dict[str, Any]] = [
        dict(order_no="SO-A", severity_proposed=Severity.A),
        dict(order_no="SO-B", kind=Kind.SUGGESTION, description="Please use bigger boxes"),
        dict(order_no="SO-C", customer_id=beta, severity_proposed=Severity.C),
        dict(order_no="SO-D", lot="LOT-Z9", severity_proposed=Severity.A),
        dict(order_no="SO-E", kind=Kind.INQUIRY, description="When is the next delivery?"),
    ]
    made = [uc.complaints.register_complaint(
                reg.app, reg.w.sales, reg.draft(received_at=DAY0 + timedelta(days=i), **spec))
            for i, spec in enumerate(specs)]
    uc.complaints.cancel_complaint(reg.app, reg.w.sales, made[2].id or 0, 1,
                                   "entered by mistake")
    return [c.number for c in made]


def search(reg: Reg, **kw: object) -> tuple[list[str], int]:
    rows, total = uc.search.register(reg.app, reg.w.qa,
                                     RegisterFilter(**kw))  # type: ignore[arg-type]
    return [r.order_no for r in rows], total


def test_register_lists_every_case_newest_first_by_default(reg: Reg, cases: list[str]) -> None:
    assert search(reg) == (["SO-E", "SO-D", "SO-C", "SO-B", "SO-A"], 5)


def test_register_rows_carry_customer_state_and_defect_names(reg: Reg, cases: list[str]) -> None:
    rows, _ = uc.search.register(reg.app, reg.w.qa, RegisterFilter(text="SO-C"))
    (row,) = rows
    assert (row.number, row.customer, row.state, row.severity, row.defect_type) == (
        "KS2611-003",
        "Beta Motors",
        State.CANCELLED,
        Severity.C,
        "划伤|Scratch",
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("so-d", ["SO-D"]),  # order number, any case
        ("beta", ["SO-C"]),  # customer name
        ("KS2611-002", ["SO-B"]),  # case number
        ("lot-z9", ["SO-D"]),  # lot
        ("BIGGER BOXES", ["SO-B"]),  # description
        ("p-100", ["SO-E", "SO-D", "SO-C", "SO-B", "SO-A"]),  # product code
        ("100%", []),  # a wildcard character is just a character
        ("nothing like this", []),
    ],
)
def test_text_search_looks_in_number_customer_order_lot_description_and_product(
    reg: Reg, cases: list[str], text: str, expected: list[str]
) -> None:
    assert search(reg, text=text)[0] == expected


def test_filter_by_state(reg: Reg, cases: list[str]) -> None:
    assert search(reg, states=(State.CANCELLED,)) == (["SO-C"], 1)
    assert search(reg, states=(State.REGISTERED,))[1] == 4


def test_filter_by_severity(reg: Reg, cases: list[str]) -> None:
    assert search(reg, severities=(Severity.A,)) == (["SO-D", "SO-A"], 2)
    assert search(reg, severities=(Severity.A, Severity.C))[1] == 3


def test_filter_by_kind(reg: Reg, cases: list[str]) -> None:
    assert search(reg, kinds=(Kind.SUGGESTION, Kind.INQUIRY)) == (["SO-E", "SO-B"], 2)


def test_filters_combine(reg: Reg, cases: list[str]) -> None:
    assert search(reg, kinds=(Kind.COMPLAINT,), severities=(Severity.A,), text="so-a") == (
        ["SO-A"],
        1,
    )


def test_date_range_is_inclusive_of_both_local_days(reg: Reg, cases: list[str]) -> None:
    assert search(reg, date_from=date(2026, 11, 2), date_to=date(2026, 11, 4)) == (
        ["SO-D", "SO-C", "SO-B"],
        3,
    )


def test_date_range_uses_the_local_day_not_the_utc_day(reg: Reg, cases: list[str]) -> None:
    # 2026-11-07 17:00 UTC is already 2026-11-08 01:00 in Shanghai.
    uc.complaints.register_complaint(
        reg.app,
        reg.w.sales,
        reg.draft(order_no="LATE", received_at=datetime(2026, 11, 7, 17, 0, tzinfo=timezone.utc)),
    )
    assert search(reg, date_from=date(2026, 11, 8), date_to=date(2026, 11, 8)) == (["LATE"], 1)
    assert search(reg, date_to=date(2026, 11, 7))[0] == [
        "SO-E",
        "SO-D",
        "SO-C",
        "SO-B",
        "SO-A",
    ]


@pytest.mark.parametrize(
    "sort, descending, expected",
    [
        ("received_at", False, ["SO-A", "SO-B", "SO-C", "SO-D", "SO-E"]),
        ("number", True, ["SO-E", "SO-D", "SO-C", "SO-B", "SO-A"]),
        ("customer", False, ["SO-A", "SO-B", "SO-D", "SO-E", "SO-C"]),  # Acme before Beta
        ("state", False, ["SO-C", "SO-A", "SO-B", "SO-D", "SO-E"]),  # cancelled < registered
    ],
)
def test_register_sorts_by_the_chosen_column(reg: Reg, cases: list[str], sort: str,
                                             descending: bool, expected: list[str]) -> None:
    assert search(reg, sort=sort, descending=descending)[0] == expected


def test_register_pages_and_reports_the_total(reg: Reg, cases: list[str]) -> None:
    assert search(reg, page=1, page_size=2) == (["SO-E", "SO-D"], 5)
    assert search(reg, page=2, page_size=2) == (["SO-C", "SO-B"], 5)
    assert search(reg, page=3, page_size=2) == (["SO-A"], 5)
    assert search(reg, page=4, page_size=2) == ([], 5)


def test_nonsense_page_numbers_are_brought_into_range(reg: Reg, cases: list[str]) -> None:
    assert search(reg, page=0, page_size=0) == (["SO-E"], 5)
    assert search(reg, page=-3, page_size=2) == (["SO-E", "SO-D"], 5)


def test_register_all_returns_every_match_for_export(reg: Reg, cases: list[str]) -> None:
    flt = RegisterFilter(kinds=(Kind.COMPLAINT,), page=3, page_size=1)
    assert [r.order_no for r in uc.search.register_all(reg.app, reg.w.qa, flt)] == [
        "SO-D",
        "SO-C",
        "SO-A",
    ]
    assert (
        len(uc.search.register_all(reg.app, reg.w.qa, dataclasses.replace(flt, kinds=()),
                                   limit=2)) == 2
    )


def test_empty_register(reg: Reg) -> None:
    assert uc.search.register(reg.app, reg.w.qa, RegisterFilter()) == ([], 0)


# ---------------------------------------------------------------- cases by state, the change feed


def test_cases_in_states_newest_first_and_only_the_ids_asked(reg: Reg, cases: list[str]) -> None:
    with reg.app.uow() as uow:
        open_ = uow.reads.cases.in_states([State.REGISTERED])
        assert [c.order_no for c in open_] == ["SO-E", "SO-D", "SO-B", "SO-A"]
        assert [c.order_no for c in uow.reads.cases.in_states([State.REGISTERED], limit=2)] == [
            "SO-E", "SO-D"]
        some = {open_[1].id or 0, open_[3].id or 0}
        assert [c.order_no for c in uow.reads.cases.in_states([State.REGISTERED], ids=some)] == [
            "SO-D", "SO-A"]
        both = uow.reads.cases.in_states([State.REGISTERED, State.CANCELLED])
        assert len(both) == 5 and both[2].state == State.CANCELLED  # whole cases, typed


def test_the_change_feed_names_the_cases_changed_after_an_event(reg: Reg,
                                                                cases: list[str]) -> None:
    with reg.app.uow() as uow:
        newest, none_asked = uow.reads.changes.since(-1, 10)
        ids = {c.number: c.id or 0 for c in uow.reads.cases.in_states(list(State))}
    assert newest > 0 and none_asked == set()
    uc.complaints.cancel_complaint(reg.app, reg.w.sales, ids[cases[0]], 1, "duplicate")
    with reg.app.uow() as uow:
        after, changed = uow.reads.changes.since(newest, 10)
        assert after > newest and changed == {ids[cases[0]]}
        assert uow.reads.changes.since(after, 10) == (after, set())
        # at most limit + 1 cases: the caller knows a full rebuild is cheaper
        _, many = uow.reads.changes.since(0, 2)
        assert len(many) == 3
