"""Complaint and friends: dataclasses and enums in domain words (SPEC §1–3)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


class StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


class Role(StrEnum):
    SALES = "sales"
    QA = "qa"
    PRODUCTION = "production"
    FINANCE = "finance"
    MANAGEMENT = "management"
    ADMIN = "admin"


class Title(StrEnum):
    """A manager's position, which decides the approval steps they may sign (SPEC §6)."""

    NONE = "none"
    QA_MANAGER = "qa_manager"
    SALES_MANAGER = "sales_manager"
    GENERAL_MANAGER = "general_manager"
    CHAIRMAN = "chairman"


class Kind(StrEnum):
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    INQUIRY = "inquiry"


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    FAX = "fax"
    LETTER = "letter"
    VISIT = "visit"
    INSPECTION = "inspection"
    WALK_IN = "walk_in"
    SUGGESTION_BOX = "suggestion_box"
    EXTERNAL = "external"


class Severity(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Request(StrEnum):
    """What the customer asks for."""

    COMPENSATION = "compensation"
    REWORK = "rework"
    REPLACEMENT = "replacement"
    RETURN = "return"
    EXPLANATION = "explanation"
    OTHER = "other"


class WhereFound(StrEnum):
    INCOMING = "incoming"
    PRODUCTION = "production"
    END_USER = "end_user"


class Category(StrEnum):
    """性质: quality 质量异常 or non-quality (service, delivery, documents, human error)."""

    QUALITY = "quality"
    NON_QUALITY = "non_quality"


class Market(StrEnum):
    DOMESTIC = "domestic"
    OVERSEAS = "overseas"


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


class State(StrEnum):
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    INVESTIGATING = "investigating"
    ROOT_CAUSE = "root_cause"
    CAPA_REVIEW = "capa_review"
    DISPOSITION = "disposition"
    PENDING_APPROVAL = "pending_approval"
    REPLYING = "replying"
    IMPLEMENTING = "implementing"
    VERIFYING = "verifying"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self not in (State.CLOSED, State.CANCELLED)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    department_id: int | None = None
    approval_level: int = 0
    title: Title = Title.NONE
    active: bool = True
    language: Lang = Lang.ZH

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


@dataclass(frozen=True)
class Department:
    id: int
    code: str
    name_zh: str
    name_en: str
    active: bool = True


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    market: Market = Market.DOMESTIC
    language: Lang = Lang.ZH
    contact: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    active: bool = True


@dataclass(frozen=True)
class Product:
    id: int
    code: str
    name: str
    active: bool = True


@dataclass(frozen=True)
class DefectType:
    id: int
    code: str
    name_zh: str
    name_en: str
    active: bool = True


@dataclass
class Complaint:
    """One case, from receipt to closure (SPEC §3). Fields decided later come with later steps."""

    id: int | None
    number: str
    received_at: datetime  # UTC, aware
    channel: Channel
    received_by_id: int
    kind: Kind
    customer_id: int
    description: str
    state: State = State.REGISTERED
    version: int = 1
    category: Category = Category.QUALITY
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
    claimed_amount: Decimal | None = None
    severity_proposed: Severity | None = None
    sample_received: bool = False
    sample_date: date | None = None
    cancel_reason: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by_id: int | None = None


# The fields a user may set when logging or editing the record (SPEC §3, "Received" .. "Problem").
EDITABLE_FIELDS: tuple[str, ...] = (
    "received_at", "channel", "kind", "category", "customer_id", "customer_ref", "product_code",
    "product_name", "order_no", "lot", "delivered_qty", "delivery_date", "defective_qty",
    "defect_type_id", "where_found", "description", "request", "claimed_amount",
    "severity_proposed", "sample_received", "sample_date",
)


@dataclass(frozen=True)
class Event:
    """One line of the append-only timeline: who, when, what changed, why."""

    id: int | None
    complaint_id: int
    at: datetime
    user_id: int
    action: str
    changes: dict[str, list[str | None]] = field(default_factory=dict)
    comment: str = ""
    user_name: str = ""


@dataclass(frozen=True)
class Attachment:
    id: int | None
    complaint_id: int
    sha256: str
    filename: str
    content_type: str
    size: int
    uploaded_by_id: int
    uploaded_at: datetime


@dataclass(frozen=True)
class RegisterRow:
    """One line of the register list."""

    id: int
    number: str
    received_at: datetime
    customer: str
    kind: Kind
    state: State
    severity: Severity | None
    product_code: str
    order_no: str
    defect_type: str
    description: str


@dataclass(frozen=True)
class RegisterFilter:
    text: str = ""
    states: tuple[State, ...] = ()
    severities: tuple[Severity, ...] = ()
    kinds: tuple[Kind, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    since: datetime | None = None  # filled by the service from date_from in the local zone
    until: datetime | None = None  # exclusive; from date_to
    sort: str = "received_at"
    descending: bool = True
    page: int = 1
    page_size: int = 50
