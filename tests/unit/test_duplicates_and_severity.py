"""Likely duplicates before saving, and the claim-amount severity floor (docs/procedure.md §4)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.model import Severity, User
from core.rules.severity import (
    Candidate, SeverityThresholds, duplicate_reason, suggested_by_claim,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.complaints import Duplicate
from core.usecases.context import Context
from tests.unit.conftest import NOW, with_
from tests.unit.fakes import FakeClock
from core import usecases as uc

T0 = datetime(2026, 10, 1, 2, 0, tzinfo=timezone.utc)


def other(**kw: object) -> Candidate:
    base: dict[str, object] = dict(id=1, number="KS2610-001", customer_id=1, order_no="SO-1",
                                   product_code="P-100", defect_type_id=7, received_at=T0)
    return Candidate(**{**base, **kw})  # type: ignore[arg-type]


# ---------------------------------------------------------------- the rule


def test_same_customer_and_order_is_a_duplicate_whatever_the_date() -> None:
    assert duplicate_reason(1, " so-1 ", "", None, T0 + timedelta(days=200),
                            other()) == "same_order"


def test_same_order_number_of_another_customer_is_not_a_duplicate() -> None:
    assert duplicate_reason(2, "SO-1", "", None, T0, other()) is None


def test_same_product_and_defect_within_thirty_days_is_a_duplicate() -> None:
    assert duplicate_reason(2, "", "p-100", 7, T0 + timedelta(days=30),
                            other()) == "same_issue"


def test_same_product_and_defect_after_thirty_one_days_is_not() -> None:
    assert duplicate_reason(2, "", "P-100", 7, T0 + timedelta(days=31), other()) is None


def test_same_product_with_another_defect_is_not_a_duplicate() -> None:
    assert duplicate_reason(2, "", "P-100", 8, T0, other()) is None


def test_empty_order_and_product_never_match() -> None:
    assert duplicate_reason(1, "", "", None, T0, other(order_no="", product_code="")) is None


@pytest.mark.parametrize("claim, expected", [
    (None, None), (Decimal("4999.99"), None), (Decimal("5000"), Severity.B),
    (Decimal("9999.99"), Severity.B), (Decimal("10000"), Severity.A),
])
def test_claim_amount_suggests_a_severity_floor(claim: Decimal | None,
                                                expected: Severity | None) -> None:
    assert suggested_by_claim(claim, SeverityThresholds()) == expected


def test_claim_thresholds_come_from_settings() -> None:
    th = SeverityThresholds(a_claim=Decimal("100"), b_claim=Decimal("50"))
    assert suggested_by_claim(Decimal("100"), th) == Severity.A


# ---------------------------------------------------------------- the service


@pytest.fixture
def first(kesu: Context, sales: User, draft: ComplaintDraft, clock: FakeClock) -> int:
    c = uc.complaints.register_complaint(kesu, sales, with_(draft, received_at=NOW))
    return c.id or 0


def test_same_customer_and_order_is_reported_before_saving(kesu: Context, sales: User,
                                                           draft: ComplaintDraft, first: int,
                                                           other_defect_id: int) -> None:
    new = with_(draft, product_code="P-999", defect_type_id=other_defect_id)
    assert uc.complaints.find_duplicates(kesu, sales, new) == [
        Duplicate(first, "KS2611-001", "same_order")
    ]


def test_same_product_and_defect_from_another_customer_within_30_days_is_reported(
    kesu: Context,
    sales: User,
    draft: ComplaintDraft,
    first: int,
    other_customer_id: int,
    clock: FakeClock,
) -> None:
    clock.advance(days=30)
    new = with_(draft, customer_id=other_customer_id, order_no="X-1", received_at=None)
    assert [d.reason for d in uc.complaints.find_duplicates(kesu, sales, new)] == ["same_issue"]


def test_same_product_and_defect_after_31_days_is_not_reported(kesu: Context, sales: User,
                                                               draft: ComplaintDraft, first: int,
                                                               other_customer_id: int,
                                                               clock: FakeClock) -> None:
    clock.advance(days=31)
    new = with_(draft, customer_id=other_customer_id, order_no="X-1", received_at=None)
    assert uc.complaints.find_duplicates(kesu, sales, new) == []


def test_cancelled_cases_are_not_reported_as_duplicates(kesu: Context, sales: User,
                                                        draft: ComplaintDraft, first: int) -> None:
    uc.complaints.cancel_complaint(kesu, sales, first, 1, "test entry")
    assert uc.complaints.find_duplicates(kesu, sales, draft) == []


def test_the_case_being_edited_is_not_its_own_duplicate(kesu: Context, sales: User,
                                                        draft: ComplaintDraft, first: int) -> None:
    assert uc.complaints.find_duplicates(kesu, sales, draft, exclude_id=first) == []


def test_unrelated_draft_has_no_duplicates(kesu: Context, sales: User, draft: ComplaintDraft,
                                           first: int, other_customer_id: int,
                                           other_defect_id: int) -> None:
    new = with_(draft, customer_id=other_customer_id, order_no="SO-1",
                defect_type_id=other_defect_id)
    assert uc.complaints.find_duplicates(kesu, sales, new) == []


def test_draft_without_a_customer_has_no_duplicates(kesu: Context, sales: User,
                                                    draft: ComplaintDraft, first: int) -> None:
    assert uc.complaints.find_duplicates(kesu, sales, with_(draft, customer_id=None)) == []


def test_duplicate_warning_does_not_block_registration(kesu: Context, sales: User,
                                                       draft: ComplaintDraft, first: int) -> None:
    assert uc.complaints.register_complaint(kesu, sales, draft).number == "KS2611-002"
    assert len(uc.complaints.find_duplicates(kesu, sales, draft)) == 2
