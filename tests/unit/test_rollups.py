"""A case's share of the Stats rollups (db/rollups.py `parts`; decision 0016): the rules that
make a sum of days equal the direct queries."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from db.rollups import ANY_DAY, CaseFacts, parts

TZ = ZoneInfo("Asia/Shanghai")


def row(**kw: Any) -> SimpleNamespace:
    base: dict[str, Any] = dict(
        id=1, state="root_cause", received_at=datetime(2026, 1, 4, 15, 50, tzinfo=timezone.utc),
        closed_at=None, close_wd=None, validity=None, severity=None, severity_proposed="B",
        defect_type_id=7, root_cause_6m=None, responsible_department_id=None, customer_id=3,
        product_code="GJ-880", followup_date=None, satisfaction_score=None, sent_back_count=0)
    return SimpleNamespace(**{**base, **kw})


def measures(p: dict[tuple[str, date, str], tuple[int, Decimal]]) -> set[str]:
    return {m for m, _, _ in p}


def test_a_case_counts_on_its_local_day_not_its_utc_day() -> None:
    got = parts(CaseFacts(row()), TZ)  # 15:50 UTC on the 4th is 23:50 in Shanghai
    assert ("received", date(2026, 1, 4), "") in got
    got = parts(CaseFacts(row(received_at=datetime(2026, 1, 4, 16, 10, tzinfo=timezone.utc))),
                TZ)
    assert ("received", date(2026, 1, 5), "") in got
    assert got[("open", ANY_DAY, "")] == (1, Decimal(0))


def test_a_cancelled_case_counts_only_its_finished_steps() -> None:
    done = datetime(2026, 1, 5, 2, tzinfo=timezone.utc)
    got = parts(CaseFacts(row(state="cancelled"), steps=[("dispatch", True, done)]), TZ)
    assert got == {("step", date(2026, 1, 5), "dispatch|1"): (1, Decimal(0))}


def test_each_approval_day_carries_the_one_before_so_a_period_counts_the_case_once() -> None:
    first = datetime(2026, 1, 12, 3, tzinfo=timezone.utc)
    again = datetime(2026, 2, 11, 1, tzinfo=timezone.utc)
    got = parts(CaseFacts(row(sent_back_count=1), approvals=[again, first, first]), TZ)
    assert {k: v for k, v in got.items() if k[0] == "ftr"} == {
        ("ftr", date(2026, 1, 12), "0|"): (1, Decimal(0)),
        ("ftr", date(2026, 2, 11), "0|2026-01-12"): (1, Decimal(0)),
    }


def test_cost_counts_only_approved_rounds_by_the_lines_department_else_the_cases() -> None:
    facts = CaseFacts(row(responsible_department_id=4),
                      costs=[(Decimal("1000"), Decimal("200"), 1, None),
                             (Decimal("50"), Decimal("0"), 1, 9),
                             (Decimal("300"), Decimal("0"), 2, None)],
                      rounds={1: True, 2: False})
    got = parts(facts, TZ)
    day = date(2026, 1, 4)
    assert got[("cost", day, "4")] == (1, Decimal("1000"))
    assert got[("back", day, "4")] == (1, Decimal("200"))
    assert got[("cost", day, "9")] == (1, Decimal("50"))
    assert sum(a for (m, _, _), (_, a) in got.items() if m == "cost") == Decimal("1050")


def test_closed_case_counts_closed_working_days_and_no_longer_open() -> None:
    closed = datetime(2026, 1, 20, 2, tzinfo=timezone.utc)
    got = parts(CaseFacts(row(state="closed", closed_at=closed, close_wd=Decimal("8.50"))), TZ)
    assert ("wd", date(2026, 1, 20), "8.5") in got
    assert ("gone", date(2026, 1, 20), "") in got
    assert "open" not in measures(got)


def test_assisting_departments_count_with_the_lead_and_none_only_without_either() -> None:
    got = parts(CaseFacts(row(responsible_department_id=4), helpers={4, 6}), TZ)
    assert {k for m, _, k in got if m == "d:department_assist"} == {"4", "6"}
    got = parts(CaseFacts(row()), TZ)
    assert {k for m, _, k in got if m == "d:department_assist"} == {""}
