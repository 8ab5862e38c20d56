"""Register search with hostile text, and login delays shared by several app instances."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import inspect, text

from core.errors import AccountLocked, LoginFailed
from core.model import Kind, RegisterFilter, State
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.integration.conftest import NOW, PASSWORD, World, engine_of
from core import usecases as uc

INJECTION = "'; DROP TABLE complaints;--"


@pytest.fixture
def cases(app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> dict[str, str]:
    """Five cases; name -> case number."""
    specs = {
        "percent": draft(description="合格率 100% 达标"),
        "underscore": draft(description="普通描述", lot="lot_A"),
        "quote": draft(description=f"客户 O'Brien 写道 {INJECTION}"),
        "lookalike": draft(description="lotXA 100 percent", kind=Kind.SUGGESTION),
        "backslash": draft(description="路径 C:\\temp\\x", order_no="PO-9"),
    }
    return {
        name: uc.complaints.register_complaint(app, world.sales, d).number
        for name, d in specs.items()
    }


def _found(app: Context, world: World, cases: dict[str, str], query: str) -> set[str]:
    rows, total = uc.search.register(app, world.qa, RegisterFilter(text=query))
    assert total == len(rows)
    by_number = {v: k for k, v in cases.items()}
    return {by_number[r.number] for r in rows}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("%", {"percent"}),
        ("100%", {"percent"}),
        ("_", {"underscore"}),
        ("lot_A", {"underscore"}),
        ("LOT_a", {"underscore"}),
        ("'", {"quote"}),
        ("o'brien", {"quote"}),
        (INJECTION, {"quote"}),
        ("'; DROP TABLE complaints; --", set()),
        ("\\", {"backslash"}),
        ("C:\\temp", {"backslash"}),
        ("%%", set()),
        ("percent", {"lookalike"}),
        ("合格率", {"percent"}),
        ("华东", {"percent", "underscore", "quote", "lookalike", "backslash"}),  # customer name
        ("  ", {"percent", "underscore", "quote", "lookalike", "backslash"}),
        ("KS2603-003", {"quote"}),
        ("po-9", {"backslash"}),
    ],
)
def test_register_search_treats_text_literally(app: Context, world: World, cases: dict[str, str],
                                               query: str, expected: set[str]) -> None:
    assert _found(app, world, cases, query) == expected
    assert "complaints" in inspect(engine_of(app)).get_table_names()
    with engine_of(app).connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM complaints")) == 5


def test_register_rows_filters_and_pages(app: Context, world: World,
                                         draft: Callable[..., ComplaintDraft]) -> None:
    long = "长" * 200
    first = uc.complaints.register_complaint(
        app,
        world.sales,
        draft(description=long, received_at=datetime(2026, 3, 2, 15, 30, tzinfo=timezone.utc)),
    )
    second = uc.complaints.register_complaint(app, world.sales,
                                              draft(kind=Kind.INQUIRY, description="询问"))
    uc.complaints.cancel_complaint(app, world.sales, second.id or 0, 1, "误录")

    rows, total = uc.search.register(app, world.qa, RegisterFilter())
    assert total == 2 and [r.number for r in rows] == [second.number, first.number]
    row = rows[1]
    assert row.customer == "华东电子有限公司" and row.defect_type == "划伤|Scratch"
    assert row.description == "长" * 120 and row.received_at == first.received_at
    assert row.state is State.REGISTERED and row.kind is Kind.COMPLAINT

    def numbers(**kw: Any) -> list[str]:
        return [r.number for r in uc.search.register(app, world.qa, RegisterFilter(**kw))[0]]

    assert numbers(states=(State.CANCELLED,)) == [second.number]
    assert numbers(kinds=(Kind.COMPLAINT,)) == [first.number]
    # 2026-03-02 15:30 UTC is already 03-02 23:30 in Shanghai, NOW is 03-15 12:00 there
    assert numbers(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2)) == [first.number]
    assert numbers(date_from=date(2026, 3, 3)) == [second.number]
    assert numbers(sort="number", descending=False) == [first.number, second.number]
    page2, total = uc.search.register(app, world.qa, RegisterFilter(page=2, page_size=1))
    assert total == 2 and [r.number for r in page2] == [first.number]
    assert [r.number for r in uc.search.register_all(app, world.qa, RegisterFilter())] == [
        second.number,
        first.number,
    ]


def test_login_delays_count_failures_across_app_instances(
        app: Context, world: World, make_app: Callable[..., Context]) -> None:
    now = [NOW]

    def clock() -> datetime:
        return now[0]

    # three failed attempts, spread over three separate instances and five minutes: the third
    # already says to wait (core/rules/logins.py: 3 free, then 1, 2, 4 … s)
    for i in range(3):
        instance = make_app(clock=clock)
        with pytest.raises((LoginFailed, AccountLocked)) as info:
            uc.accounts.authenticate(instance, "Sales1" if i % 2 else "sales1", "wrong password")
        now[0] += timedelta(minutes=2, seconds=30) if i < 2 else timedelta(0)
    assert info.value.params == {"seconds": 1}

    later = make_app(clock=clock)
    assert uc.login_delays.is_locked(later, "sales1")
    assert not uc.login_delays.is_locked(later, "qa1")
    with pytest.raises(AccountLocked):
        uc.accounts.authenticate(later, "sales1", PASSWORD)  # even the right password
    with engine_of(app).connect() as conn:
        assert conn.scalar(text(
            "SELECT failures FROM login_counters WHERE key = 'name:sales1'")) == 3
    assert uc.accounts.authenticate(later, "qa1", PASSWORD) == world.qa  # others are not affected

    # the wait ends a second after the third failure, seen by yet another instance
    now[0] += timedelta(seconds=1)
    assert uc.accounts.authenticate(make_app(clock=clock), "sales1", PASSWORD) == world.sales


def test_admin_clearing_a_delay_is_seen_by_other_instances(
        app: Context, world: World, make_app: Callable[..., Context]) -> None:
    for _ in range(2):
        with pytest.raises(LoginFailed):
            uc.accounts.authenticate(app, "sales1", "nope-nope")
    with pytest.raises(AccountLocked):
        uc.accounts.authenticate(make_app(), "sales1", "nope-nope")
    assert uc.login_delays.is_locked(make_app(), "sales1")
    uc.login_delays.unlock_user(make_app(), world.admin, "sales1")
    other = make_app()
    assert not uc.login_delays.is_locked(other, "sales1")
    assert uc.accounts.authenticate(other, "sales1", PASSWORD) == world.sales
