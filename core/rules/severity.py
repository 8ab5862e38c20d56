"""Severity criteria and likely-duplicate rules (docs/procedure.md §4)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.model import Severity

DUPLICATE_WINDOW = timedelta(days=30)
# Claim thresholds are settings (docs/procedure.md §4); these are the defaults.
DEFAULT_A_CLAIM = Decimal("10000")
DEFAULT_B_CLAIM = Decimal("5000")


@dataclass(frozen=True)
class SeverityThresholds:
    a_claim: Decimal = DEFAULT_A_CLAIM
    b_claim: Decimal = DEFAULT_B_CLAIM


def suggested_by_claim(claim: Decimal | None, th: SeverityThresholds) -> Severity | None:
    """A floor suggested by the claimed amount alone: ≥ A-threshold → A, ≥ B-threshold → B."""
    if claim is None:
        return None
    if claim >= th.a_claim:
        return Severity.A
    if claim >= th.b_claim:
        return Severity.B
    return None


SEVERITY_RANK = {Severity.D: 0, Severity.C: 1, Severity.B: 2, Severity.A: 3}
SUGGESTION_REASONS = ("safety", "external", "claim_a", "claim_b")


def suggest(safety_risk: bool, external: bool, claim: Decimal | None,
            th: SeverityThresholds) -> tuple[Severity | None, tuple[str, ...]]:
    """The level the criteria ask for (docs/procedure.md §4) and why: a safety or health risk,
    or a complaint through the media, a lawyer, the police, a consumer body or a government
    office (the channel "external") → A; a claim at or above the A / B threshold → A / B.
    None when no criterion applies (C or D is the person's judgement)."""
    reasons: list[str] = []
    level: Severity | None = None
    if safety_risk:
        reasons.append("safety")
    if external:
        reasons.append("external")
    by_claim = suggested_by_claim(claim, th)
    if by_claim is not None:
        reasons.append("claim_a" if by_claim == Severity.A else "claim_b")
    if safety_risk or external or by_claim == Severity.A:
        level = Severity.A
    elif by_claim == Severity.B:
        level = Severity.B
    return level, tuple(reasons)


def below(chosen: Severity, suggested: Severity | None) -> bool:
    """Whether `chosen` is a lower level than the criteria suggest (a reason is then asked)."""
    return suggested is not None and SEVERITY_RANK[chosen] < SEVERITY_RANK[suggested]


@dataclass(frozen=True)
class Candidate:
    """What duplicate detection needs to know of an existing case."""

    id: int
    number: str
    customer_id: int
    order_no: str
    product_code: str
    defect_type_id: int | None
    received_at: datetime


def duplicate_reason(new_customer_id: int, new_order_no: str, new_product_code: str,
                     new_defect_type_id: int | None, new_received_at: datetime,
                     other: Candidate) -> str | None:
    """Why `other` looks like the same complaint, or None (docs/procedure.md §4, Log page warning).

    Same customer and order number; or same product code and defect type within 30 days.
    """
    order = new_order_no.strip().lower()
    if order and new_customer_id == other.customer_id and order == other.order_no.strip().lower():
        return "same_order"
    code = new_product_code.strip().lower()
    if (code and new_defect_type_id is not None
            and code == other.product_code.strip().lower()
            and new_defect_type_id == other.defect_type_id
            and abs(new_received_at - other.received_at) <= DUPLICATE_WINDOW):
        return "same_issue"
    return None


RECURRENCE_LIMIT = 3
_UP = {Severity.D: Severity.C, Severity.C: Severity.B, Severity.B: Severity.A,
       Severity.A: Severity.A}


def escalate(severity: Severity, same_issue_count: int) -> tuple[Severity, bool]:
    """对同一问题在1个月内超过3次: at 3 or more cases of the same issue in 30 days at the same
    severity (this one included), the severity rises one level (D→C→B→A) — docs/procedure.md §4."""
    if same_issue_count >= RECURRENCE_LIMIT and severity != Severity.A:
        return _UP[severity], True
    return severity, False
