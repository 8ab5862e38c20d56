"""An event's changes as a person reads them (issue #13): names instead of ids, labels instead
of codes, 是/否 for yes/no, money as money, times in the configured zone, in the reader's
language. The event log keeps typed values (core.model.stored); this module only reads them,
so events stored before are shown the same way.

Pure: the names come in as mappings; the Complaint page (ui/case.py) and any document that
lists changes build one `EventText` per reader.
"""
from __future__ import annotations

import enum
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from core.i18n import reason_text, t
from core.model import (
    Category, Channel, Complaint, DispositionType, Event, Kind, PaymentMethod, Request,
    ReplyMethod, Satisfaction, Severity, SixM, State, Validity, Value, WhereFound,
)

# translation prefix of each enum a complaint's field holds
ENUM_PREFIX: dict[type[enum.Enum], str] = {
    Channel: "channel", Kind: "kind", Category: "category", State: "state",
    WhereFound: "where_found", Request: "request", Severity: "severity", Validity: "validity",
    SixM: "six_m", ReplyMethod: "reply_method", Satisfaction: "satisfaction",
}


def _complaint_fields() -> dict[str, object]:
    hints = typing.get_type_hints(Complaint)
    out: dict[str, object] = {}
    for name, hint in hints.items():
        args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        out[name] = args[0]
    return out


COMPLAINT_TYPES = _complaint_fields()

# codes kept by keys that are not a complaint's field (records, extensions, chains, meetings)
CODE_PREFIX: dict[str, str] = {
    "chain_step": "chain_step", "disposition": "disposition_type",
    "direction": "disposition_type", "capa_type": "capa_type", "step": "sla",
    "due_step": "sla", "letter_lang": "lang",
}
MONEY = frozenset({"claimed_amount", "total", "paid_total"})
CURRENCY_IN_LABEL = frozenset({"claimed_amount"})  # 索赔金额（元）
TIMES = frozenset({"due"})  # UTC times outside the complaint's fields
DEPARTMENTS = frozenset({"responsible_department_id", "assisting_departments",
                         "assisting_department", "meeting_department"})
USERS = frozenset({"received_by_id", "updated_by_id", "dispatch_approved_by_id",
                   "no_investigation_by_id", "proposer_id", "requester_id"})
# records whose summary is "<disposition type> <quantity> <amount>" (dispositions_set joins
# several with "; "); execution_recorded is keyed by the disposition type: "<quantity> <amount>"
DISPOSITION_TYPES = frozenset(d.value for d in DispositionType)


@dataclass(frozen=True)
class Names:
    """What ids stand for: users' display names, departments, customers, defect types in both
    languages (zh, en), cases' numbers."""

    users: Mapping[int, str] = field(default_factory=dict)
    departments: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    customers: Mapping[int, str] = field(default_factory=dict)
    defect_types: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    numbers: Mapping[int, str] = field(default_factory=dict)


class EventText:
    """Labels and values of one reader's language and zone."""

    def __init__(self, lang: str, tz: tzinfo, names: Names) -> None:
        self.lang, self.tz, self.names = lang, tz, names

    def tr(self, key: str, **params: object) -> str:
        return t(key, self.lang, **params)

    # ------------------------------------------------------------ labels

    def label(self, key: str) -> str:
        text = self.tr("field." + key)
        if text == "field." + key and key.endswith("_id"):  # received_by_id: 受理人
            return self.tr("field." + key[:-3])
        return text

    def line(self, key: str, old: Value, new: Value) -> str:
        """`客户：— → 华东电器` — one change as the timeline lists it."""
        return self.tr("case.changed_from_to", field=self.label(key), old=self.value(key, old),
                       new=self.value(key, new))

    # ------------------------------------------------------------ values

    def none(self) -> str:
        return self.tr("common.none")

    def yes_no(self, v: bool) -> str:
        return self.tr("common.yes" if v else "common.no")

    def amount(self, v: object) -> str:
        """`26000.00` → `26,000.00`."""
        try:
            return f"{Decimal(str(v)):,.2f}"
        except InvalidOperation:
            return str(v)

    def money(self, v: object) -> str:
        """`26000.00` → `26,000.00 元` / `CNY 26,000.00`."""
        return self.tr("common.money", amount=self.amount(v))

    def time(self, v: str) -> str:
        try:
            at = datetime.fromisoformat(v)
        except ValueError:
            return v
        if at.tzinfo is None:  # never stored so; read as UTC rather than the server's zone
            return at.strftime("%Y-%m-%d %H:%M")
        return at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def day(self, v: str) -> str:
        try:
            return date.fromisoformat(v[:10]).isoformat()
        except ValueError:
            return v

    def code(self, prefix: str, v: object) -> str:
        key = f"{prefix}.{v}"
        text = self.tr(key)
        return str(v) if text == key else text

    def _named(self, pair: tuple[str, str] | None) -> str:
        if pair is None:
            return "?"
        return pair[1] if self.lang == "en" and pair[1] else pair[0]

    def department(self, v: object) -> str:
        sep = ", " if self.lang == "en" else "、"
        return sep.join(self._named(self.names.departments.get(_int(x)))
                        for x in str(v).split(",") if x.strip())

    def user(self, v: object) -> str:
        return self.names.users.get(_int(v), "?")

    def value(self, key: str, v: Value) -> str:  # noqa: C901 - one branch per kind of value
        if v is None or v == "":
            return self.none()
        if isinstance(v, bool):
            return self.yes_no(v)
        if key in DEPARTMENTS:
            return self.department(v)
        if key in USERS:
            return self.user(v)
        if key == "customer_id":
            return self.names.customers.get(_int(v), "?")
        if key == "defect_type_id":
            return self._named(self.names.defect_types.get(_int(v)))
        if key == "merged_into_id":
            return self.names.numbers.get(_int(v), "?")
        if key in MONEY:  # the claimed amount's label names the currency already
            return self.money(v) if key not in CURRENCY_IN_LABEL else self.amount(v)
        if key in CODE_PREFIX:
            return self.code(CODE_PREFIX[key], v)
        if key in TIMES:
            return self.time(str(v))
        if key == "dispositions":
            return "; ".join(self.disposition(x) for x in str(v).split(";") if x.strip())
        if key in DISPOSITION_TYPES:  # execution recorded: "<qty> <amount>"
            return self.quantity_amount(str(v).split())
        if key == "containment":
            kind, _, qty = str(v).partition(" ")
            return " ".join(x for x in (self.code("containment_type", kind), qty.strip()) if x)
        if key == "capa" and v in ("done", "open", "withdrawn"):
            return self.code("capa", v)
        if key == "payment":
            return self.payment(str(v))
        if key == "severity_reason":
            return self.severity_reason(str(v))
        if key in ("no_investigation_reason", "cancel_reason"):
            return reason_text(str(v), self.lang, str(v).startswith("duplicate:"))
        kind_of = COMPLAINT_TYPES.get(key)
        if isinstance(kind_of, type) and issubclass(kind_of, enum.Enum):
            prefix = ENUM_PREFIX.get(kind_of)
            return self.code(prefix, v) if prefix else str(v)
        if kind_of is datetime or key.endswith("_at") and isinstance(v, str):
            return self.time(str(v))
        return str(v)

    def quantity_amount(self, parts: list[str]) -> str:
        """`["40", "600.00"]` → `40 · 600.00 元`; an amount alone → the money."""
        if not parts:
            return self.none()
        *qty, amount = parts
        shown = self.money(amount)
        return f"{qty[0]} · {shown}" if qty else shown

    def disposition(self, summary: str) -> str:
        """`rework 40 600.00` (the quantity may be empty) → `返工 40 · 600.00 元`."""
        kind, *rest = summary.split()
        if kind not in DISPOSITION_TYPES:
            return summary.strip()
        return f"{self.code('disposition_type', kind)} {self.quantity_amount(rest)}"

    def payment(self, text: str) -> str:
        """`600.00 bank_transfer V-123` → `600.00 元 · 银行转账 · V-123`."""
        amount, _, rest = text.partition(" ")
        method, _, voucher = rest.partition(" ")
        shown = [self.money(amount)]
        if method:
            shown.append(self.code("payment_method", method)
                         if method in {m.value for m in PaymentMethod} else method)
        if voucher.strip():
            shown.append(voucher.strip())
        return " · ".join(shown)

    def severity_reason(self, reason: str) -> str:
        return severity_reason(reason, self.lang)


def severity_reason(reason: str, lang: str) -> str:
    """`recurrence:3:B->A` as a sentence (the timeline, the Complaint page, the handling
    form); anything else as stored."""
    if reason.startswith("recurrence:"):
        try:
            _, n, change = reason.split(":", 2)
            old, new = change.split("->")
        except ValueError:
            return reason
        return t("severity.recurrence", lang, n=n, old=old, new=new)
    return reason


def merged_numbers(events: Iterable[Event]) -> dict[int, str]:
    """The numbers of the cases merged into, as the merge events name them (`merged_into_id`
    and the reason `duplicate:<number>` are written by the same event)."""
    out: dict[int, str] = {}
    for e in events:
        into = (e.changes.get("merged_into_id") or [None, None])[1]
        why = str((e.changes.get("cancel_reason") or [None, ""])[1] or "")
        if isinstance(into, int) and why.startswith("duplicate:"):
            out[into] = why.split(":", 1)[1]
    return out


def _int(v: object) -> int:
    try:
        return int(str(v).strip())
    except ValueError:
        return 0

