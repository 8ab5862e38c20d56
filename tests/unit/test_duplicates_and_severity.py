"""Likely duplicates before saving, and the claim-amount severity floor (docs/procedure.md §4)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.model import Severity, User
from core.errors import InvalidInput
from core.i18n import t
from core.model import Channel
from core.rules.severity import (
    Candidate, SeverityThresholds, duplicate_reason, suggest, suggested_by_claim,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.complaints import Duplicate
from core.usecases.context import Context
from tests.unit.conftest import NOW, with_
from tests.unit.fakes import FakeClock, FakeDatabase
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


# ---------------------------------------------------------------- the criteria's suggestion (#12)

TH = SeverityThresholds(Decimal("10000"), Decimal("5000"))


@pytest.mark.parametrize("safety, external, claim, level, why", [
    (False, False, None, None, ()),
    (True, False, None, Severity.A, ("safety",)),
    (False, True, Decimal("100"), Severity.A, ("external",)),
    (False, False, Decimal("5000"), Severity.B, ("claim_b",)),
    (True, True, Decimal("15000"), Severity.A, ("safety", "external", "claim_a")),
])
def test_the_criteria_suggest_a_level_and_say_why(safety: bool, external: bool,
                                                 claim: Decimal | None,
                                                 level: Severity | None,
                                                 why: tuple[str, ...]) -> None:
    assert suggest(safety, external, claim, TH) == (level, why)


def test_a_15000_consumer_body_safety_complaint_cannot_be_logged_as_c_without_a_word(
        kesu: Context, sales: User, draft: ComplaintDraft, db: FakeDatabase) -> None:
    """Issue #12: such a complaint was saved as C without a word (and so skipped the
    dispatch approval an A needs)."""
    risky = with_(draft, channel=Channel.EXTERNAL, safety_risk=True, claimed_amount="15000",
                  severity_proposed=Severity.C)
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, risky)
    assert (err.value.key, err.value.params["suggested"]) == ("err.severity_below", "A")
    assert t(err.value.key, "zh", **err.value.params) == (
        "按严重度标准应为 A 级（涉及人身或生产安全、经媒体、律师、公安、消协或政府机关投诉、"
        "索赔金额达到 A 级门槛）。选择更低的等级请填写理由。")
    assert db.data.complaints == {}  # nothing saved
    c = uc.complaints.register_complaint(kesu, sales, with_(
        risky, severity_note="客户已书面确认为外观问题，无安全隐患"))
    assert (c.safety_risk, c.severity_note) == (True, "客户已书面确认为外观问题，无安全隐患")
    [event] = uc.complaints.complaint(kesu, sales, c.id or 0).events
    assert event.changes["severity_note"][1] == "客户已书面确认为外观问题，无安全隐患"


def test_the_suggested_level_or_higher_needs_no_reason(kesu: Context, sales: User,
                                                       draft: ComplaintDraft) -> None:
    for level in (Severity.A, Severity.B):
        uc.complaints.register_complaint(kesu, sales, with_(
            draft, claimed_amount="6000", severity_proposed=level))
    with pytest.raises(InvalidInput):
        uc.complaints.register_complaint(kesu, sales, with_(
            draft, claimed_amount="6000", severity_proposed=Severity.C))
