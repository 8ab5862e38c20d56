"""Complaint and friends: dataclasses and enums in domain words (docs/procedure.md §1–3)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any


class StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return str(self.value)


class Role(StrEnum):
    SALES = "sales"
    QA = "qa"
    PRODUCTION = "production"
    FINANCE = "finance"
    MANAGEMENT = "management"
    ADMIN = "admin"


class Title(StrEnum):
    """The codes of the titles every installation starts with. Titles are data (Admin →
    Titles: names, ranks, substitutes; core/rules/approvals.py TitleDef): a factory adds its
    own. The code `qa_manager` also carries the QA manager's rights (import, extensions)."""

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


class Validity(StrEnum):
    VALID = "valid"
    INVALID = "invalid"


class SixM(StrEnum):
    """人机料法环测: the root-cause category."""

    MAN = "man"
    MACHINE = "machine"
    MATERIAL = "material"
    METHOD = "method"
    ENVIRONMENT = "environment"
    MEASUREMENT = "measurement"


class CapaType(StrEnum):
    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"


class ItemType(StrEnum):
    """A meeting's action item (seed 4.2.1/4.2.2): corrective and preventive items become CAPA
    actions; containment and other items stay with the meeting."""

    CONTAINMENT = "containment"
    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"
    OTHER = "other"


class ContainmentType(StrEnum):
    QUARANTINE = "quarantine"
    SORTING = "sorting"
    STOP_SHIPMENT = "stop_shipment"
    OTHER = "other"


class DispositionType(StrEnum):
    COMPENSATION = "compensation"
    REWORK = "rework"
    REPLACEMENT = "replacement"
    RETURN = "return"
    EXPLANATION = "explanation"


class PaymentMethod(StrEnum):
    """How a compensation is paid (issue #12: finance's payment had no date, amount or
    voucher): a transfer, cash, a cheque, a credit note, or a deduction from the next invoice."""

    BANK_TRANSFER = "bank_transfer"
    CASH = "cash"
    CHEQUE = "cheque"
    CREDIT_NOTE = "credit_note"
    INVOICE_DEDUCTION = "invoice_deduction"


class CostCategory(StrEnum):
    COMPENSATION = "compensation"
    REWORK_LABOUR = "rework_labour"
    REWORK_MATERIAL = "rework_material"
    REPLACEMENT_GOODS = "replacement_goods"
    FREIGHT = "freight"
    SCRAP = "scrap"
    OTHER = "other"


class StepStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    VOID = "void"  # a later round replaced it


class ReplyMethod(StrEnum):
    LETTER = "letter"
    EMAIL = "email"
    PHONE = "phone"
    VISIT = "visit"
    REPORT_8D = "report_8d"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    PARTLY = "partly"
    NOT_SATISFIED = "not_satisfied"


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
    # the codes of the titles held (core/rules/approvals.py TitleDef), none for most people
    titles: frozenset[str] = frozenset()
    active: bool = True
    language: Lang = Lang.ZH
    email: str = ""  # where the optional e-mail channel reaches them (docs/procedure.md §8)
    # set by an administrator's reset: the next sign-in may only choose a new password
    must_change_password: bool = False
    display_name_en: str = ""  # signs English reply letters (migration 0022); "" = none given

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


@dataclass(frozen=True)
class SecurityEntry:
    """One line of the security log (append-only, core/usecases/security.py): what happened
    (`kind`), when (UTC), who did it (`actor_id`, and the user name used or tried), whom it
    concerned (`subject_id`), from where (`client`), and the particulars as codes and names
    (`detail`) that the Admin page puts into words. Never a password, not even a wrong one."""

    id: int
    at: datetime
    kind: str
    actor_id: int | None = None
    username: str = ""
    subject_id: int | None = None
    client: str = ""
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoginSession:
    """One login: kept on the server, named in the browser only by a random token in an
    HttpOnly cookie (its SHA-256 is what the database holds) (docs/procedure.md §11)."""

    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # the absolute end, fixed at login
    ended_at: datetime | None = None
    end_reason: str = ""  # logout, logout_all, password, deactivated, admin, idle, expired
    client: str = ""  # the address it logged in from
    agent: str = ""  # the browser, as it said (cut short)


@dataclass(frozen=True)
class Department:
    id: int
    code: str
    name_zh: str
    name_en: str
    active: bool = True
    head_id: int | None = None  # the department's head (部门主任), migration 0017


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
    department_id: int | None = None  # the sales department that looks after it


@dataclass(frozen=True)
class Product:
    id: int
    code: str
    name: str
    active: bool = True
    name_en: str = ""  # the English reply letter's name (migration 0022); "" = none given


@dataclass(frozen=True)
class DefectType:
    id: int
    code: str
    name_zh: str
    name_en: str
    active: bool = True


class FieldType(StrEnum):
    """The type of a field of the factory's own (core/rules/custom_fields.py)."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    YES_NO = "yes_no"


@dataclass(frozen=True)
class ChoiceOption:
    """One option of a choice field: a code kept with the case, its label in both languages."""

    key: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class CustomField:
    """A field of the factory's own on its complaints (issue #12 item 9: a vehicle's plate, a
    machine's serial number): typed, labelled in zh and en, for one kind or all, required from
    a state of the procedure on. Removed fields are inactive: hidden, their values kept."""

    id: int | None
    key: str  # fixed once made: the timeline and the import know the field by it
    label_zh: str
    label_en: str
    type: FieldType
    options: tuple[ChoiceOption, ...] = ()
    kind: Kind | None = None  # None: every kind
    required_from: State | None = None
    position: int = 0
    active: bool = True
    created_at: datetime | None = None
    created_by_id: int | None = None


@dataclass(frozen=True)
class CustomValue:
    """A case's value of a custom field, as text typed by the field (a number's exact digits,
    a date's ISO form, a choice's key, "true"/"false")."""

    id: int | None
    complaint_id: int
    field_id: int
    value: str


@dataclass
class Complaint:
    """One case, from receipt to closure (docs/procedure.md §3). Fields decided later come with
    later steps."""

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
    # decided later (docs/procedure.md §3 "Decided later"; set by the lifecycle actions)
    severity: Severity | None = None
    severity_reason: str = ""
    validity: Validity | None = None
    responsible_department_id: int | None = None
    dispatch_approved_by_id: int | None = None
    customer_ack_at: datetime | None = None
    customer_ack_method: str = ""
    on_hold_since: datetime | None = None
    hold_reason: str = ""
    sent_back_count: int = 0
    reopen_count: int = 0
    no_investigation_reason: str = ""
    no_investigation_by_id: int | None = None
    prod_line: str = ""
    prod_shift: str = ""
    prod_machine: str = ""
    prod_operator: str = ""
    prod_date: date | None = None
    prod_lot: str = ""
    root_cause_whys: str = ""  # the 5 Why, one per line
    root_cause_6m: SixM | None = None
    root_cause: str = ""
    customer_position: str = ""
    proposer_id: int | None = None
    approval_round: int = 0
    reply_date: date | None = None
    reply_method: ReplyMethod | None = None
    reply_text: str = ""
    verify_after: date | None = None
    verified_effective: bool | None = None
    satisfaction_score: int | None = None
    satisfaction: Satisfaction | None = None
    followup_date: date | None = None
    followup_contact: str = ""
    followup_notes: str = ""
    lessons_learned: str = ""
    standard_doc: str = ""
    merged_into_id: int | None = None
    closed_at: datetime | None = None
    # the earliest due time of the open steps, kept up to date by every action (docs/procedure.md
    # §7)
    due_at: datetime | None = None
    due_step: str = ""
    # working days from received to closed, fixed when the case closes (Stats, docs/procedure.md §9)
    close_wd: Decimal | None = None
    imported: bool = False  # came from an old Excel register (docs/procedure.md §10), numbers kept
    safety_risk: bool = False  # 涉及人身/生产安全 (a severity criterion, issue #12)
    severity_note: str = ""  # why the proposed level is below the criteria's suggestion
    # what the reply letter tells the customer of the cause (QA writes it; the internal root
    # cause never goes out unreviewed), and the letter as last edited before its PDF, in
    # `letter_lang` (issue #13, migration 0022)
    customer_summary: str = ""
    letter_text: str = ""
    letter_lang: str = ""

    @property
    def effective_severity(self) -> Severity | None:
        """QA's final severity once decided, else the proposal."""
        return self.severity or self.severity_proposed


# The fields a user may set when logging or editing the record (docs/procedure.md §3, "Received" ..
# "Problem").
EDITABLE_FIELDS: tuple[str, ...] = (
    "received_at",
    "channel",
    "kind",
    "category",
    "customer_id",
    "customer_ref",
    "product_code",
    "product_name",
    "order_no",
    "lot",
    "delivered_qty",
    "delivery_date",
    "defective_qty",
    "defect_type_id",
    "where_found",
    "description",
    "request",
    "claimed_amount",
    "severity_proposed",
    "sample_received",
    "sample_date",
    "safety_risk",
    "severity_note",
)


@dataclass(frozen=True)
class CapaAction:
    """纠正预防措施: one corrective or preventive action with owner and due date."""

    id: int | None
    complaint_id: int
    type: CapaType
    description: str
    owner_id: int
    due_date: date
    status: str = "open"  # open | done | withdrawn (kept with its reason in the event)
    evidence: str = ""
    done_at: datetime | None = None
    # the assisting department whose part it is (None: the lead department's), issue #12
    department_id: int | None = None


@dataclass(frozen=True)
class Containment:
    """临时对策: quarantine stock, sort, stop shipment — with quantities."""

    id: int | None
    complaint_id: int
    type: ContainmentType
    quantity: int | None
    note: str
    by_id: int
    at: datetime


@dataclass(frozen=True)
class Disposition:
    """处理方案: one proposed disposition of an approval round, and its execution."""

    id: int | None
    complaint_id: int
    round: int
    type: DispositionType
    quantity: int | None
    amount: Decimal
    note: str = ""
    done: bool = False
    done_qty: int | None = None
    done_note: str = ""
    done_by_id: int | None = None
    done_at: datetime | None = None


@dataclass(frozen=True)
class Payment:
    """One instalment of an approved compensation; the disposition is done when they add up
    to its amount (core/usecases/closure.py record_payment)."""

    id: int | None
    complaint_id: int
    disposition_id: int
    paid_on: date
    amount: Decimal
    method: PaymentMethod
    voucher: str
    by_id: int
    at: datetime


@dataclass(frozen=True)
class ChainStep:
    """One recorded step of a disposition's execution chain — goods received, the rework
    plan, an inspection… (core/rules/chains.py): its values by field name (quantities,
    dates as ISO text, yes/no, text)."""

    id: int | None
    complaint_id: int
    disposition_id: int
    step: str
    data: dict[str, Value]
    by_id: int
    at: datetime


@dataclass(frozen=True)
class CostLine:
    """A cost of poor quality, charged to the responsible department (or a supplier)."""

    id: int | None
    complaint_id: int
    round: int
    category: CostCategory
    amount: Decimal
    department_id: int | None
    supplier: str = ""
    charge_back: Decimal = Decimal("0")


@dataclass(frozen=True)
class ApprovalStep:
    id: int | None
    complaint_id: int
    round: int
    seq: int  # the stage: steps of one stage are signed in parallel
    title: str  # a title's code (core/rules/approvals.py TitleDef)
    status: StepStatus = StepStatus.PENDING
    decided_by_id: int | None = None
    on_behalf_of_id: int | None = None
    decided_at: datetime | None = None
    comment: str = ""
    # the matrix's titles this step stands for, when nobody but the proposer (or nobody
    # active) held them (core/rules/approvals.py plan_steps): "general_manager", and why
    moved_from: str = ""
    moved_why: str = ""
    or_higher: bool = False  # a holder of a higher title may sign it too
    rule_version: int | None = None  # the rules' version the round was planned with

    @property
    def moved_titles(self) -> tuple[str, ...]:
        return tuple(x for x in self.moved_from.split(",") if x)


@dataclass(frozen=True)
class Guest:
    """A meeting attendee without an account: name and company / department (工程部, 物资中心)."""

    name: str
    org: str = ""


@dataclass(frozen=True)
class Meeting:
    """会议记录 (seed 4.2.1): date, attendees (users and typed guests), minutes, and what it
    decided — the responsible department and the direction of the disposition; its action
    items are MeetingItem records."""

    id: int | None
    complaint_id: int
    date: date
    attendee_ids: tuple[int, ...]
    decisions: str
    by_id: int
    at: datetime
    guests: tuple[Guest, ...] = ()
    department_id: int | None = None  # the responsible department decided
    direction: DispositionType | None = None  # the disposition it points to


@dataclass(frozen=True)
class MeetingItem:
    """One action item of a meeting, with owner and due date; a corrective or preventive one
    is also the CAPA action `capa_id`."""

    id: int | None
    complaint_id: int
    meeting_id: int
    seq: int
    type: ItemType
    description: str
    owner_id: int
    due_date: date
    capa_id: int | None = None


@dataclass(frozen=True)
class Assist:
    """An assisting department of a case (e.g. 工程部协助) and what it is asked; its production
    users see the case, add their findings and CAPA actions on their part. Ended, not deleted,
    when QA takes it off."""

    id: int | None
    complaint_id: int
    department_id: int
    ask: str
    by_id: int
    at: datetime
    findings: str = ""  # the department's analysis notes
    ended_at: datetime | None = None
    ended_by_id: int | None = None


@dataclass(frozen=True)
class StepTime:
    """A timed step of a case once it is done (docs/procedure.md §7): the on-time rate per
    step on Stats."""

    id: int | None
    complaint_id: int
    step: str
    started_at: datetime
    due_at: datetime | None  # None: the clock was paused (on hold) when the step ended
    done_at: datetime
    on_time: bool


@dataclass(frozen=True)
class Assessment:
    """责任考核 (management only): none / warning / deduction with amount."""

    id: int | None
    complaint_id: int
    person: str
    decision: str  # none | warning | deduction
    amount: Decimal
    note: str
    by_id: int
    at: datetime


@dataclass
class CaseFile:
    """A complaint with everything attached to it: what the workflow's guards look at."""

    complaint: Complaint
    capa: list[CapaAction] = field(default_factory=list)
    containment: list[Containment] = field(default_factory=list)
    dispositions: list[Disposition] = field(default_factory=list)
    costs: list[CostLine] = field(default_factory=list)
    steps: list[ApprovalStep] = field(default_factory=list)
    assists: list[Assist] = field(default_factory=list)  # every one, ended ones too

    @property
    def assisting(self) -> frozenset[int]:
        """The departments assisting now (besides the lead responsible department)."""
        return frozenset(a.department_id for a in self.assists if a.ended_at is None)

    def current(self, items: list[Any]) -> list[Any]:
        """Dispositions / costs / steps of the current approval round."""
        return [x for x in items if x.round == self.complaint.approval_round]

    @property
    def disposition_total(self) -> Decimal:
        return sum((d.amount for d in self.current(self.dispositions)), Decimal("0"))


# A value as the event log keeps it: JSON's own types, so it reads back as what it was — a
# yes/no as a bool, a count or an id as an int; money, dates and codes as their exact text
# (an amount "450.00", a date "2026-12-07", a time in UTC "2026-12-07T01:30+00:00", an enum's
# value). The timeline and documents make the words a person reads from it.
Value = bool | int | str | None


def stored(v: Any) -> Value:
    """How a value is written into the event log."""
    if v is None or isinstance(v, (bool, int, str)) and not isinstance(v, enum.Enum):
        return v
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).isoformat(timespec="minutes")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, enum.Enum):
        return str(v.value)
    return str(v)  # Decimal: its exact text


@dataclass(frozen=True)
class Event:
    """One line of the append-only timeline: who, when, what changed (old and new, as typed
    values: see `stored`), why."""

    id: int | None
    complaint_id: int
    at: datetime
    user_id: int
    action: str
    changes: dict[str, list[Value]] = field(default_factory=dict)
    comment: str = ""
    user_name: str = ""


@dataclass(frozen=True)
class Notification:
    """One line of a user's inbox; the text is `notify.<kind>` formatted with `params`."""

    id: int
    user_id: int
    complaint_id: int | None
    kind: str
    params: dict[str, Any]
    created_at: datetime
    read_at: datetime | None = None


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
    due_at: datetime | None = None
    custom: dict[int, str] = field(default_factory=dict)  # custom field id -> kept value


@dataclass(frozen=True)
class RegisterLine:
    """One case as the exported register (登记表) shows it (issue #13): every column of the old
    Excel register. Names are names; codes stay codes (Kind, SixM …) for the reader's language;
    a department or defect type is "zh|en"; the CAPA, dispositions and approvals are kept as
    parts the page words."""

    id: int
    number: str
    received_at: datetime
    customer: str
    kind: Kind
    category: Category
    state: State
    severity: Severity | None
    product_code: str
    product_name: str
    order_no: str
    lot: str
    defect_type: str  # "zh|en" or ""
    description: str  # the first characters
    responsible_department: str  # "zh|en" or ""
    root_cause: str  # the first characters
    root_cause_6m: SixM | None
    capa: tuple[tuple[CapaType, str, str, str], ...]  # (type, description, owner, status)
    dispositions: tuple[tuple[DispositionType, int | None, Decimal], ...]  # current round
    compensation: Decimal  # the current round's compensation dispositions
    paid: Decimal  # the instalments paid so far
    approvals: tuple[tuple[str, str, datetime | None], ...]  # (title code, signer, when)
    reply_date: date | None
    closed_at: datetime | None
    close_wd: Decimal | None  # working days from receipt to close
    satisfaction: Satisfaction | None
    satisfaction_score: int | None
    custom: dict[int, str] = field(default_factory=dict)

    @property
    def disposition_total(self) -> Decimal:
        return sum((d[2] for d in self.dispositions), Decimal("0"))


@dataclass(frozen=True)
class RegisterFilter:
    text: str = ""
    states: tuple[State, ...] = ()
    severities: tuple[Severity, ...] = ()
    kinds: tuple[Kind, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    overdue_only: bool = False
    now: datetime | None = None  # filled by the service: overdue is due_at < now
    since: datetime | None = None  # filled by the service from date_from in the local zone
    until: datetime | None = None  # exclusive; from date_to
    sort: str = "received_at"
    descending: bool = True
    page: int = 1
    page_size: int = 50
    # the cases behind a Stats bar (docs/procedure.md §9 click-through)
    customer_id: int | None = None
    product_code: str = ""
    department_id: int | None = None
    facet: tuple[str, str] | None = None  # (dimension, key); key "" = no value
    # custom fields' values (field id, value as stored): text contains, the rest equals
    custom: tuple[tuple[int, str], ...] = ()
    exclude_cancelled: bool = False
    scope: Scope | None = None  # filled by the service: whose cases the user may see
    # count at most this many matches (the Log: "more than 10,000"); None counts them all
    count_limit: int | None = None
    # keyset paging (the default sort): the rows after this (received_at, id) of the last
    # row of the page before; page is then only the page's number, no rows are skipped
    after: tuple[datetime, int] | None = None


@dataclass(frozen=True)
class RegisterPage:
    """One page of the register: the rows, how many match (at most count_limit + 1: more
    than count_limit when capped), and whether a key-like text was answered by the case
    number / order / lot / product code / customer reference prefix (精确匹配)."""

    rows: list[RegisterRow]
    total: int
    capped: bool = False
    exact: bool = False


@dataclass(frozen=True)
class Scope:
    """The cases a user may see when record-level visibility is on (setting
    `record_visibility`, core/rules/visibility.py); None where they see every case."""

    user_id: int  # the cases they logged themselves, always
    departments: frozenset[int]
    by_customer: bool  # sales: cases of the customers their department looks after
    by_responsible: bool  # production: cases their department is responsible for
