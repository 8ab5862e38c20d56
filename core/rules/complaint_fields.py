"""The one check of a complaint's own fields (docs/procedure.md §3, §5, §10): the Log page's
register, the edit and the import all go through `check`, which finds every problem at once,
each naming its field, and returns the values to store.

Pure: what exists (customers, defect types) and the time come in as arguments."""

from __future__ import annotations

import re
from collections.abc import Collection
import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from core.model import Category, Channel, Kind, Request, Severity, WhereFound
from core.rules import severity as severity_rules

MAX_TEXT = 5000  # a description, a root cause, a reply
MAX_SHORT = 100  # an order number, a lot, a product code
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# How long each short text may be (the description is MAX_TEXT).
LIMITS = {
    "customer_ref": MAX_SHORT,
    "product_code": MAX_SHORT,
    "product_name": MAX_SHORT * 2,
    "order_no": MAX_SHORT,
    "lot": MAX_SHORT,
}

# A registration may say it was received a little ahead of the server's clock (clocks drift).
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class ComplaintDraft:
    """A complaint's own facts as typed values: what the Log page's form and an imported row
    become before they are checked."""

    customer_id: int | None
    kind: Kind | None
    channel: Channel | None
    description: str
    category: Category = Category.QUALITY
    received_at: datetime | None = None
    customer_ref: str = ""
    product_code: str = ""
    product_name: str = ""
    order_no: str = ""
    lot: str = ""
    delivered_qty: int | None = None
    delivery_date: date | None = None
    defective_qty: int | None = None
    defect_type_id: int | None = None
    where_found: WhereFound | None = None
    request: Request | None = None
    claimed_amount: Decimal | str | None = None
    severity_proposed: Severity | None = None
    sample_received: bool = False
    sample_date: date | None = None
    safety_risk: bool = False
    severity_note: str = ""
    # the fields of the factory's own: (key, what was entered), checked by
    # core/rules/custom_fields.py
    custom: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Problem:
    """One field at fault: `key` is neutral ("required", "too_long", …); the Log page says it
    as `err.<key>`, the import report as `imp.err.<key>`."""

    field: str
    key: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


def clean_text(value: str | None) -> str:
    """Trimmed text without NUL or control characters (newlines and tabs kept)."""
    return CONTROL.sub("", value or "").strip()


def parse_money(value: Decimal | str | None) -> Decimal | None:
    """A non-negative amount with at most 2 decimals, or None when empty; ValueError when it
    is not one (money is Decimal, never float)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as e:
        raise ValueError(str(value)) from e
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12") \
            or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(str(value))
    return amount.quantize(Decimal("0.01"))


def conditionally_required(kind: Kind | None, category: Category | None,
                           new_case: bool = True) -> frozenset[str]:
    """The fields a case taken in now needs beyond the always-required ones: a quality
    complaint names its product code and defect type (docs/procedure.md §3)."""
    if new_case and kind == Kind.COMPLAINT and category == Category.QUALITY:
        return frozenset({"product_code", "defect_type"})
    return frozenset()


def check(d: ComplaintDraft, now: datetime, customers: Collection[int] | None,
          defect_types: Collection[int], new_case: bool = True,
          keep_received: datetime | None = None,
          thresholds: severity_rules.SeverityThresholds | None = None,
          ) -> tuple[dict[str, Any], list[Problem]]:
    """The values to store and every problem found, in the order of the form.

    `customers` None: the caller resolved the customer itself (an import creates new ones).
    `new_case` False: an old register's row, kept as history — the rules for a case taken in
    now (a quality complaint names its product and defect; received defaults to now) do not
    apply, and a missing receipt time is the caller's to report."""
    found: list[Problem] = []

    def problem(name: str, key: str, **params: Any) -> None:
        found.append(Problem(name, key, params))

    if customers is not None:
        if d.customer_id is None:
            problem("customer", "required")
        elif d.customer_id not in customers:
            problem("customer", "unknown")
    if d.kind is None:
        problem("kind", "required")
    if d.channel is None:
        problem("channel", "required")
    texts = {name: clean_text(getattr(d, name)) for name in ("description", *LIMITS)}
    for name, s in texts.items():
        limit = LIMITS.get(name, MAX_TEXT)
        if len(s) > limit:
            problem(name, "too_long", n=limit)
            texts[name] = ""
        elif name == "description" and not s:
            problem(name, "required")
    received = d.received_at or keep_received or (now if new_case else None)
    if received is not None:
        if received.tzinfo is None:
            problem("received_at", "invalid_input")
            received = None
        elif received > now + CLOCK_SLACK:
            problem("received_at", "future_date")
    # a day after the date, whatever the zone: delivered before the complaint came;
    # samples or returned goods arrive later, but not in the future
    for name, day, latest in (("delivery_date", d.delivery_date, received or now),
                              ("sample_date", d.sample_date, now)):
        if day is not None and day > latest.date() + timedelta(days=1):
            problem(name, "future_date")
    for name in ("delivered_qty", "defective_qty"):
        q = getattr(d, name)
        if q is not None and not (0 <= q <= 10**9):
            problem(name, "quantity")
    if d.delivered_qty is not None and d.defective_qty is not None \
            and d.defective_qty > d.delivered_qty:
        problem("defective_qty", "defective_gt_delivered")
    try:
        amount = parse_money(d.claimed_amount)
    except ValueError:
        problem("claimed_amount", "amount")
        amount = None
    if d.defect_type_id is not None and d.defect_type_id not in defect_types:
        problem("defect_type", "unknown")
    needed = conditionally_required(d.kind, d.category, new_case)
    if "product_code" in needed and not texts["product_code"]:
        problem("product_code", "required")
    if "defect_type" in needed and d.defect_type_id is None:
        problem("defect_type", "required")
    note = clean_text(d.severity_note)
    if len(note) > MAX_TEXT:
        problem("severity_note", "too_long", n=MAX_TEXT)
        note = ""
    if new_case and d.severity_proposed is not None and not note:
        # a level below what the criteria suggest needs a word why (docs/procedure.md §4)
        suggested, reasons = severity_rules.suggest(
            d.safety_risk, d.channel == Channel.EXTERNAL,
            amount if isinstance(amount, Decimal) else None,
            thresholds or severity_rules.SeverityThresholds())
        if severity_rules.below(d.severity_proposed, suggested) and suggested is not None:
            problem("severity_note", "severity_below", suggested=suggested.value,
                    criteria=",".join(reasons))
    values = {
        "received_at": received.astimezone(timezone.utc) if received else None,
        "channel": d.channel,
        "kind": d.kind,
        "category": d.category,
        "customer_id": d.customer_id,
        **texts,
        "delivered_qty": d.delivered_qty,
        "delivery_date": d.delivery_date,
        "defective_qty": d.defective_qty,
        "defect_type_id": d.defect_type_id,
        "where_found": d.where_found,
        "request": d.request,
        "claimed_amount": amount,
        "severity_proposed": d.severity_proposed,
        "sample_received": bool(d.sample_received),
        "sample_date": d.sample_date if d.sample_received else None,
        "safety_risk": bool(d.safety_risk),
        "severity_note": note,
    }
    return values, found
