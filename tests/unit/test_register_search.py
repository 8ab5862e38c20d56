"""The register list: text search, filters, local-date range, sorting and paging (docs/procedure.md
§9)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from core.model import Kind, RegisterFilter, Severity, State, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.unit.conftest import with_
from tests.unit.fakes import FakeClock, FakeDatabase
from core import usecases as uc

# 2026-11-01 01:00 UTC is 09:00 in Shanghai; one case a day at that time.
DAY0 = datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def cases(kesu: Context, sales: User, draft: ComplaintDraft, clock: FakeClock,
          other_customer_id: int, db: FakeDatabase) -> list[str]:
    """Five cases on five days: varied customer, kind, severity; the third cancelled."""
    clock.set(DAY0 + timedelta(days=10))
    specs: list[dict[str, Any]] = [
        dict(order_no="SO-A", severity_proposed=Severity.A),
        dict(order_no="SO-B", kind=Kind.SUGGESTION, description="Please use bigger boxes"),
        dict(order_no="SO-C", customer_id=other_customer_id, severity_proposed=Severity.C),
        dict(order_no="SO-D", lot="LOT-Z9", severity_proposed=Severity.A),
        dict(order_no="SO-E", kind=Kind.INQUIRY, description="When is the next delivery?"),
    ]
    numbers = []
    for i, spec in enumerate(specs):
        c = uc.complaints.register_complaint(
            kesu, sales, with_(draft, received_at=DAY0 + timedelta(days=i), **spec)
        )
        numbers.append(c.number)
    uc.complaints.cancel_complaint(kesu, sales, db.data.complaints[3].id or 0, 1,
                                   "entered by mistake")
    return numbers


def search(kesu: Context, actor: User, **kw: object) -> tuple[list[str], int]:
    rows, total = uc.search.register(kesu, actor, RegisterFilter(**kw))  # type: ignore[arg-type]
    return [r.order_no for r in rows], total


def test_register_lists_every_case_newest_first_by_default(kesu: Context, qa: User,
                                                           cases: list[str]) -> None:
    assert search(kesu, qa) == (["SO-E", "SO-D", "SO-C", "SO-B", "SO-A"], 5)


def test_register_rows_carry_customer_state_and_defect_names(kesu: Context, qa: User,
                                                             cases: list[str]) -> None:
    rows, _ = uc.search.register(kesu, qa, RegisterFilter(text="SO-C"))
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
    kesu: Context, qa: User, cases: list[str], text: str, expected: list[str]
) -> None:
    assert search(kesu, qa, text=text)[0] == expected


def test_filter_by_state(kesu: Context, qa: User, cases: list[str]) -> None:
    assert search(kesu, qa, states=(State.CANCELLED,)) == (["SO-C"], 1)
    assert search(kesu, qa, states=(State.REGISTERED,))[1] == 4


def test_filter_by_severity(kesu: Context, qa: User, cases: list[str]) -> None:
    assert search(kesu, qa, severities=(Severity.A,)) == (["SO-D", "SO-A"], 2)
    assert search(kesu, qa, severities=(Severity.A, Severity.C))[1] == 3


def test_filter_by_kind(kesu: Context, qa: User, cases: list[str]) -> None:
    assert search(kesu, qa, kinds=(Kind.SUGGESTION, Kind.INQUIRY)) == (["SO-E", "SO-B"], 2)


def test_filters_combine(kesu: Context, qa: User, cases: list[str]) -> None:
    assert search(kesu, qa, kinds=(Kind.COMPLAINT,), severities=(Severity.A,), text="so-a") == (
        ["SO-A"],
        1,
    )


def test_date_range_is_inclusive_of_both_local_days(kesu: Context, qa: User,
                                                    cases: list[str]) -> None:
    assert search(kesu, qa, date_from=date(2026, 11, 2), date_to=date(2026, 11, 4)) == (
        ["SO-D", "SO-C", "SO-B"],
        3,
    )


def test_date_range_uses_the_local_day_not_the_utc_day(kesu: Context, qa: User, sales: User,
                                                       draft: ComplaintDraft,
                                                       cases: list[str]) -> None:
    # 2026-11-07 17:00 UTC is already 2026-11-08 01:00 in Shanghai.
    uc.complaints.register_complaint(
        kesu,
        sales,
        with_(draft, order_no="LATE",
              received_at=datetime(2026, 11, 7, 17, 0, tzinfo=timezone.utc)),
    )
    assert search(kesu, qa, date_from=date(2026, 11, 8), date_to=date(2026, 11, 8)) == (["LATE"], 1)
    assert search(kesu, qa, date_to=date(2026, 11, 7))[0] == [
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
def test_register_sorts_by_the_chosen_column(kesu: Context, qa: User, cases: list[str], sort: str,
                                             descending: bool, expected: list[str]) -> None:
    assert search(kesu, qa, sort=sort, descending=descending)[0] == expected


def test_register_pages_and_reports_the_total(kesu: Context, qa: User, cases: list[str]) -> None:
    assert search(kesu, qa, page=1, page_size=2) == (["SO-E", "SO-D"], 5)
    assert search(kesu, qa, page=2, page_size=2) == (["SO-C", "SO-B"], 5)
    assert search(kesu, qa, page=3, page_size=2) == (["SO-A"], 5)
    assert search(kesu, qa, page=4, page_size=2) == ([], 5)


def test_nonsense_page_numbers_are_brought_into_range(kesu: Context, qa: User,
                                                      cases: list[str]) -> None:
    assert search(kesu, qa, page=0, page_size=0) == (["SO-E"], 5)
    assert search(kesu, qa, page=-3, page_size=2) == (["SO-E", "SO-D"], 5)


def test_register_all_returns_every_match_for_export(kesu: Context, qa: User,
                                                     cases: list[str]) -> None:
    flt = RegisterFilter(kinds=(Kind.COMPLAINT,), page=3, page_size=1)
    assert [r.order_no for r in uc.search.register_all(kesu, qa, flt)] == [
        "SO-D",
        "SO-C",
        "SO-A",
    ]
    assert (
        len(uc.search.register_all(kesu, qa, dataclasses.replace(flt, kinds=()), limit=2)) == 2
    )


def test_empty_register(kesu: Context, qa: User) -> None:
    assert uc.search.register(kesu, qa, RegisterFilter()) == ([], 0)
