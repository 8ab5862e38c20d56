"""SQLAlchemy tables as typed *Row classes; changes go through Alembic (db/migrations)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC, always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class DepartmentRow(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    head_id: Mapped[int | None] = mapped_column(Integer)  # a user's id (migration 0017)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(100))
    roles: Mapped[str] = mapped_column(String(200))  # comma-separated Role values
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # comma-separated title codes (migration 0017; the approval level column is gone)
    title: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(5), default="zh")
    email: Mapped[str] = mapped_column(String(200), default="")  # migration 0005
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unlocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)  # 0010
    display_name_en: Mapped[str] = mapped_column(String(100), default="")  # 0022


class SessionRow(Base):
    """A login session (migration 0009): the token's SHA-256, never the token."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(String(20), default="")
    client: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str] = mapped_column(String(200), default="")
    __table_args__ = (Index("ix_sessions_user", "user_id", "ended_at"),)


class LoginAttemptRow(Base):
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    success: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (Index("ix_login_attempts_user_at", "username", "at"),)


class LoginCounterRow(Base):
    """Sign-in failures per account name or client address (migration 0010,
    core/rules/logins.py); updated under a row lock."""

    __tablename__ = "login_counters"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SecurityLogRow(Base):
    """The security log (migration 0013): inserted, never updated or deleted (db/uow.py
    SqlSecurityLog has no such path)."""

    __tablename__ = "security_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(100), default="")
    subject_id: Mapped[int | None] = mapped_column(Integer)
    client: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON object of strings
    __table_args__ = (Index("ix_security_log_at", "at"),
                      Index("ix_security_log_kind_at", "kind", "at"))


class CustomerRow(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    market: Mapped[str] = mapped_column(String(20), default="domestic")
    language: Mapped[str] = mapped_column(String(5), default="zh")
    contact: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the sales department that looks after it (migration 0012; record-level visibility)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))


class ProductRow(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    name_en: Mapped[str] = mapped_column(String(200), default="")  # migration 0022


class DefectTypeRow(Base):
    __tablename__ = "defect_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CustomFieldRow(Base):
    """The fields a factory adds to its complaints (migration 0019); never deleted, removed
    ones are inactive."""

    __tablename__ = "custom_fields"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    label_zh: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))
    options: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[key, zh, en], ...]
    kind: Mapped[str | None] = mapped_column(String(20))
    required_from: Mapped[str | None] = mapped_column(String(30))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CustomValueRow(Base):
    """A case's value of a custom field, as text typed by the field (migration 0019)."""

    __tablename__ = "custom_values"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id"), index=True)
    value: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (Index("ux_custom_values_case_field", "complaint_id", "field_id",
                            unique=True),)


class NumberCounterRow(Base):
    """The last serial handed out per YYMM period; never decremented, so never reused."""

    __tablename__ = "number_counters"
    period: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)


class ComplaintRow(Base):
    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20), default="quality")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    customer_ref: Mapped[str] = mapped_column(String(100), default="")
    product_code: Mapped[str] = mapped_column(String(100), default="", index=True)
    product_name: Mapped[str] = mapped_column(String(200), default="")
    order_no: Mapped[str] = mapped_column(String(100), default="", index=True)
    lot: Mapped[str] = mapped_column(String(100), default="")
    delivered_qty: Mapped[int | None] = mapped_column(Integer)
    delivery_date: Mapped[date | None] = mapped_column(Date)
    defective_qty: Mapped[int | None] = mapped_column(Integer)
    defect_type_id: Mapped[int | None] = mapped_column(ForeignKey("defect_types.id"))
    where_found: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    request: Mapped[str | None] = mapped_column(String(20))
    claimed_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    severity_proposed: Mapped[str | None] = mapped_column(String(1))
    sample_received: Mapped[bool] = mapped_column(Boolean, default=False)
    sample_date: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # decided later (migration 0002)
    severity: Mapped[str | None] = mapped_column(String(1))
    severity_reason: Mapped[str] = mapped_column(Text, default="")
    validity: Mapped[str | None] = mapped_column(String(10))
    responsible_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    dispatch_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    customer_ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customer_ack_method: Mapped[str] = mapped_column(String(100), default="")
    on_hold_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    sent_back_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    no_investigation_reason: Mapped[str] = mapped_column(Text, default="")
    no_investigation_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    prod_line: Mapped[str] = mapped_column(String(100), default="")
    prod_shift: Mapped[str] = mapped_column(String(100), default="")
    prod_machine: Mapped[str] = mapped_column(String(100), default="")
    prod_operator: Mapped[str] = mapped_column(String(100), default="")
    prod_date: Mapped[date | None] = mapped_column(Date)
    prod_lot: Mapped[str] = mapped_column(String(100), default="")
    root_cause_whys: Mapped[str] = mapped_column(Text, default="")
    root_cause_6m: Mapped[str | None] = mapped_column(String(20))
    root_cause: Mapped[str] = mapped_column(Text, default="")
    customer_position: Mapped[str] = mapped_column(Text, default="")
    proposer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approval_round: Mapped[int] = mapped_column(Integer, default=1)
    reply_date: Mapped[date | None] = mapped_column(Date)
    reply_method: Mapped[str | None] = mapped_column(String(20))
    reply_text: Mapped[str] = mapped_column(Text, default="")
    verify_after: Mapped[date | None] = mapped_column(Date)
    verified_effective: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction_score: Mapped[int | None] = mapped_column(Integer)
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    followup_date: Mapped[date | None] = mapped_column(Date)
    followup_contact: Mapped[str] = mapped_column(String(200), default="")
    followup_notes: Mapped[str] = mapped_column(Text, default="")
    lessons_learned: Mapped[str] = mapped_column(Text, default="")
    standard_doc: Mapped[str] = mapped_column(String(200), default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # migration 0003
    due_step: Mapped[str] = mapped_column(String(30), default="")
    close_wd: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))  # migration 0006
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    safety_risk: Mapped[bool] = mapped_column(Boolean, default=False)  # migration 0015
    severity_note: Mapped[str] = mapped_column(Text, default="")
    customer_summary: Mapped[str] = mapped_column(Text, default="")  # migration 0022
    letter_text: Mapped[str] = mapped_column(Text, default="")
    letter_lang: Mapped[str] = mapped_column(String(5), default="")
    __table_args__ = (
        Index("ix_complaints_issue", "product_code", "defect_type_id", "received_at"),
        # Stats (migration 0007): covering indexes, the figures read no case row
        Index("ix_complaints_stats_received", "received_at", "state", "kind", "customer_id",
              "responsible_department_id", "severity", "severity_proposed", "defect_type_id",
              "root_cause_6m", "product_code", "closed_at"),
        Index("ix_complaints_stats_closed", "closed_at", "state", "close_wd", "sent_back_count"),
        Index("ix_complaints_stats_followup", "followup_date", "satisfaction_score"),
        # Stats' figures of the open cases now (ageing, overdue) and of the cases not closed at
        # a past moment (overdue then), read from the index alone (migration 0029)
        Index("ix_complaints_stats_open", "state", "received_at", "due_at", "on_hold_since",
              "severity", "severity_proposed"),
        Index("ix_complaints_stats_unclosed", "closed_at", "state", "received_at", "due_at"),
        # My Tasks (migration 0023, decision 0014): the first waiting cases of a state in a
        # worklist's order, read without sorting all of them
        Index("ix_complaints_tasks_due", "state", "due_at", "received_at", "id"),
        Index("ix_complaints_tasks_received", "state", "received_at", "id"),
        Index("ix_complaints_tasks_updated", "state", "updated_at", "id"),
    )


class ComplaintBigramRow(Base):
    """Each pair of adjacent Chinese characters in a case's searchable text: the register
    search's 2-character words (db/search.py, migration 0024)."""
    __tablename__ = "complaint_bigrams"
    bigram: Mapped[str] = mapped_column(String(2), primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True,
                                              index=True)
    __table_args__ = {"sqlite_with_rowid": False}


class StepTimeRow(Base):
    """A timed step once done: started, due, done, on time (migration 0006)."""
    __tablename__ = "step_times"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    step: Mapped[str] = mapped_column(String(30))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)
    on_time: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (Index("ix_step_times_done", "done_at", "step"),
                      Index("ix_step_times_stats", "done_at", "step", "on_time",
                            "complaint_id"))  # migration 0007


class EventRow(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[str] = mapped_column(Text, default="{}")  # JSON {field: [old, new]}
    comment: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_events_action_at", "action", "at"),)  # Stats (migration 0006)


class AttachmentRow(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SettingRow(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON


class CapaActionRow(Base):
    __tablename__ = "capa_actions"
    # my open actions (My Tasks) without walking every action I ever owned (migration 0026)
    __table_args__ = (Index("ix_capa_actions_owner_status", "owner_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    evidence: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # an assisting department's part (migration 0020)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))


class ContainmentRow(Base):
    __tablename__ = "containments"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DispositionRow(Base):
    __tablename__ = "dispositions"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_qty: Mapped[int | None] = mapped_column(Integer)
    done_note: Mapped[str] = mapped_column(Text, default="")
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CostLineRow(Base):
    __tablename__ = "cost_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(30))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    supplier: Mapped[str] = mapped_column(String(200), default="")
    charge_back: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))


class ApprovalStepRow(Base):
    __tablename__ = "approval_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
    moved_from: Mapped[str] = mapped_column(String(200), default="")  # migration 0014
    moved_why: Mapped[str] = mapped_column(String(20), default="")
    or_higher: Mapped[bool] = mapped_column(Boolean, default=False)  # migration 0017
    rule_version: Mapped[int | None] = mapped_column(Integer)


class ApprovalRuleSetRow(Base):
    """A version of the approval rules (migration 0017): rounds keep the version they began
    under; the newest applies to new rounds."""

    __tablename__ = "approval_rule_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    rules: Mapped[str] = mapped_column(Text)  # JSON, core/rules/approvals.py rules_to_json
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PaymentRow(Base):
    """Compensation instalments (migration 0016)."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    disposition_id: Mapped[int] = mapped_column(ForeignKey("dispositions.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    method: Mapped[str] = mapped_column(String(20))
    voucher: Mapped[str] = mapped_column(String(100), default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChainStepRow(Base):
    """Recorded steps of the execution chains (migration 0018)."""

    __tablename__ = "chain_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    disposition_id: Mapped[int] = mapped_column(ForeignKey("dispositions.id"), index=True)
    step: Mapped[str] = mapped_column(String(30))
    data: Mapped[str] = mapped_column(Text, default="{}")  # JSON {field: value}
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeetingRow(Base):
    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    attendee_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of user ids
    decisions: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # migration 0020: typed guests (JSON [[name, org], ...]) and what the meeting decided
    guests: Mapped[str] = mapped_column(Text, default="[]")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    direction: Mapped[str | None] = mapped_column(String(20))


class MeetingItemRow(Base):
    """A meeting's action items (migration 0020)."""

    __tablename__ = "meeting_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date] = mapped_column(Date)
    capa_id: Mapped[int | None] = mapped_column(ForeignKey("capa_actions.id"))


class AssistRow(Base):
    """A case's assisting departments (migration 0020)."""

    __tablename__ = "case_assists"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    ask: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    findings: Mapped[str] = mapped_column(Text, default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AssessmentRow(Base):
    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    person: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    note: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DelegationRow(Base):
    __tablename__ = "delegations"
    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class NotificationRow(Base):
    """In-app inbox (docs/procedure.md §8): one row per recipient."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON for the translated text
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)


class OutboxRow(Base):
    """Messages for e-mail / group robots, delivered with retry; `key` makes them unique."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(20))  # email | wecom | dingtalk | feishu
    target: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EscalationRow(Base):
    """Each escalation level fires once per step of a case (docs/procedure.md §7)."""

    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    step: Mapped[str] = mapped_column(String(30))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ux_escalations_once", "complaint_id", "step", "started_at",
                            "level", unique=True),)


class LeaseRow(Base):
    """A named lease: only its holder runs the scheduler's jobs until it expires."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatsFactRow(Base):
    """One case's share of the Stats rollups, as last added: the parts it counts in (JSON list
    of [measure, day, key, n, amount]); subtracted when the case changes (db/rollups.py,
    migration 0025)."""

    __tablename__ = "stats_facts"
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    parts: Mapped[str] = mapped_column(Text, default="[]")


class StatsRollupRow(Base):
    """Stats aggregated per local day: a count and an amount per measure, day and key (a
    dimension's value, a severity, a step…) (db/rollups.py, migration 0025)."""

    __tablename__ = "stats_rollups"
    measure: Mapped[str] = mapped_column(String(24), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal("0"))


class StatsRecurrenceRow(Base):
    """Each case that counts in Stats' recurrences (not cancelled, with a product and a defect
    type): its issue, when it was received, and how many cases of the same issue were received
    in the 30 days up to it, itself included (db/rollups.py, migration 0027)."""

    __tablename__ = "stats_recurrences"
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    product_code: Mapped[str] = mapped_column(String(100))
    defect_type_id: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    n: Mapped[int] = mapped_column(Integer)
    # a period's recurring issues: one index range, no case row read
    __table_args__ = (Index("ix_stats_recurrences_period", "received_at", "n", "product_code",
                            "defect_type_id"),)
