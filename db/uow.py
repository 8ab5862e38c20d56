"""Repositories and the unit of work: rows <-> domain objects, mapped explicitly
(docs/architecture.md §4)."""

from __future__ import annotations

import builtins
import enum
import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from core.errors import StaleCase
from core.model import (
    ApprovalStep,
    Assessment,
    Attachment,
    CapaAction,
    CapaType,
    Complaint,
    Containment,
    ContainmentType,
    CostCategory,
    CostLine,
    Customer,
    DefectType,
    Department,
    Disposition,
    DispositionType,
    Payment,
    PaymentMethod,
    ChainStep,
    ChoiceOption,
    CustomField,
    CustomValue,
    FieldType,
    Kind,
    Event,
    Lang,
    LoginSession,
    SecurityEntry,
    Market,
    Meeting,
    MeetingItem,
    Assist,
    Guest,
    ItemType,
    Notification,
    Product,
    Role,
    Severity,
    State,
    StepTime,
    StepStatus,
    User,
)
from core.outbox import CHANNELS_KEY, SECRET_FIELDS, Message, OutboxItem
from core.ports import Cipher
from core.rules.approvals import Delegation, RuleSetRecord
from core.rules.severity import Candidate
from db import rollups
from db import search
from db.reads import SqlReads
from db.rows import SEVERITY, complaint_from, complaint_values
from db.tables import (
    ApprovalRuleSetRow,
    ApprovalStepRow,
    AssessmentRow,
    AttachmentRow,
    CapaActionRow,
    ComplaintRow,
    ContainmentRow,
    CostLineRow,
    CustomerRow,
    CustomFieldRow,
    CustomValueRow,
    DefectTypeRow,
    DelegationRow,
    DepartmentRow,
    DispositionRow,
    PaymentRow,
    ChainStepRow,
    EscalationRow,
    EventRow,
    LeaseRow,
    LoginAttemptRow,
    LoginCounterRow,
    SecurityLogRow,
    SessionRow,
    MeetingRow,
    MeetingItemRow,
    AssistRow,
    NotificationRow,
    NumberCounterRow,
    OutboxRow,
    ProductRow,
    SettingRow,
    StepTimeRow,
    UserRow,
)

T = TypeVar("T")

# ---------------------------------------------------------------- users


def _user(r: UserRow) -> User:
    return User(r.id, r.username, r.display_name,
                frozenset(Role(x) for x in r.roles.split(",") if x), r.department_id,
                frozenset(x for x in (r.title or "").split(",") if x), r.active,
                Lang(r.language), r.email,
                bool(r.must_change_password), r.display_name_en or "")


def _session(r: SessionRow) -> LoginSession:
    return LoginSession(r.id, r.user_id, r.created_at, r.last_seen_at, r.expires_at, r.ended_at,
                        r.end_reason, r.client, r.agent)


class SqlSessions:
    def __init__(self, s: Session) -> None:
        self.s = s

    def add(self, session: LoginSession, token_hash: str) -> int:
        r = SessionRow(token_hash=token_hash, user_id=session.user_id,
                       created_at=session.created_at, last_seen_at=session.last_seen_at,
                       expires_at=session.expires_at, client=session.client[:64],
                       agent=session.agent[:200])
        self.s.add(r)
        self.s.flush()
        return r.id

    def by_hash(self, token_hash: str) -> LoginSession | None:
        r = self.s.scalars(select(SessionRow).where(SessionRow.token_hash == token_hash)).first()
        return _session(r) if r else None

    def get(self, session_id: int) -> LoginSession | None:
        r = self.s.get(SessionRow, session_id)
        return _session(r) if r else None

    def touch(self, session_id: int, at: datetime) -> None:
        self.s.execute(update(SessionRow).where(SessionRow.id == session_id,
                                                SessionRow.last_seen_at < at)
                       .values(last_seen_at=at))

    def end(self, session_id: int, at: datetime, reason: str) -> None:
        self.s.execute(update(SessionRow).where(SessionRow.id == session_id,
                                                SessionRow.ended_at.is_(None))
                       .values(ended_at=at, end_reason=reason))

    def end_for_user(self, user_id: int, at: datetime, reason: str,
                     keep: int | None = None) -> int:
        q = update(SessionRow).where(SessionRow.user_id == user_id, SessionRow.ended_at.is_(None))
        if keep is not None:
            q = q.where(SessionRow.id != keep)
        res = self.s.execute(q.values(ended_at=at, end_reason=reason))
        return int(res.rowcount)  # type: ignore[attr-defined]

    def open_sessions(self, since: datetime, limit: int = 500) -> builtins.list[LoginSession]:
        q = (select(SessionRow)
             .where(SessionRow.ended_at.is_(None), SessionRow.last_seen_at >= since)
             .order_by(SessionRow.last_seen_at.desc())
             .limit(limit))
        return [_session(r) for r in self.s.scalars(q)]


class SqlUsers:
    def __init__(self, s: Session) -> None:
        self.s = s

    def get(self, user_id: int) -> User | None:
        r = self.s.get(UserRow, user_id)
        return _user(r) if r else None

    def by_username(self, username: str) -> User | None:
        r = self.s.scalars(select(UserRow).where(UserRow.username == username)).first()
        return _user(r) if r else None

    def list(self) -> list[User]:
        return [_user(r) for r in self.s.scalars(select(UserRow).order_by(UserRow.username))]

    def add(self, user: User, password_hash: str) -> int:
        r = UserRow(username=user.username, display_name=user.display_name,
                    password_hash=password_hash, roles=",".join(sorted(user.roles)),
                    department_id=user.department_id, title=",".join(sorted(user.titles)),
                    active=user.active, language=user.language.value,
                    email=user.email, display_name_en=user.display_name_en)
        self.s.add(r)
        self.s.flush()
        return r.id

    def update(self, user: User) -> None:
        r = self.s.get_one(UserRow, user.id)
        r.display_name, r.roles = user.display_name, ",".join(sorted(user.roles))
        r.department_id, r.title = user.department_id, ",".join(sorted(user.titles))
        r.active, r.language = user.active, user.language.value
        r.email = user.email
        r.display_name_en = user.display_name_en

    def password_hash(self, user_id: int) -> str:
        return self.s.get_one(UserRow, user_id).password_hash

    def set_password(self, user_id: int, password_hash: str, at: datetime,
                     must_change: bool = False) -> None:
        r = self.s.get_one(UserRow, user_id)
        r.password_hash, r.password_changed_at = password_hash, at
        r.must_change_password = must_change

    def password_changed_at(self, user_id: int) -> datetime | None:
        return self.s.get_one(UserRow, user_id).password_changed_at

    def rehash_password(self, user_id: int, old_hash: str, new_hash: str) -> bool:
        done = self.s.execute(update(UserRow).where(UserRow.id == user_id,
                                                    UserRow.password_hash == old_hash)
                              .values(password_hash=new_hash))
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def count(self) -> int:
        return self.s.scalar(select(func.count()).select_from(UserRow)) or 0

    def add_login_attempt(self, username: str, at: datetime, success: bool) -> None:
        self.s.add(LoginAttemptRow(username=username[:100], at=at, success=success))

    # builtins.list: inside this class `list` is the method above.
    def failures_since(self, username: str, since: datetime) -> builtins.list[datetime]:
        q = select(LoginAttemptRow.at).where(
            LoginAttemptRow.username == username,
            LoginAttemptRow.at >= since,
            LoginAttemptRow.success.is_(False),
        )
        return list(self.s.scalars(q))

    def unlocked_at(self, username: str) -> datetime | None:
        return self.s.scalar(select(UserRow.unlocked_at).where(UserRow.username == username))

    def set_unlocked_at(self, username: str, at: datetime) -> None:
        self.s.execute(update(UserRow).where(UserRow.username == username).values(unlocked_at=at))

    def lock_counters(self, keys: Sequence[str]
                      ) -> dict[str, tuple[int, datetime | None]]:
        """Insert-if-missing, then SELECT … FOR UPDATE in key order (one order for every
        caller: no deadlock). PostgreSQL holds the rows until commit; SQLite's write
        transaction (BEGIN IMMEDIATE) already holds the whole database."""
        ordered = sorted(set(keys))
        for k in ordered:
            _insert_new(self.s, LoginCounterRow, {"key": k, "failures": 0, "last_at": None},
                        ["key"])
        q = (select(LoginCounterRow).where(LoginCounterRow.key.in_(ordered))
             .order_by(LoginCounterRow.key).with_for_update())
        rows = self.s.execute(q.execution_options(populate_existing=True)).scalars()
        return {r.key: (r.failures, r.last_at) for r in rows}

    def set_counter(self, key: str, failures: int, last_at: datetime | None) -> None:
        self.s.execute(update(LoginCounterRow).where(LoginCounterRow.key == key)
                       .values(failures=failures, last_at=last_at))

    def counters(self, keys: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        q = select(LoginCounterRow).where(LoginCounterRow.key.in_(list(keys)))
        return {r.key: (r.failures, r.last_at) for r in self.s.scalars(q)}


class SqlSecurityLog:
    """Append-only: INSERT and SELECT, nothing else."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def add(self, entry: SecurityEntry) -> None:
        self.s.add(SecurityLogRow(at=entry.at, kind=entry.kind[:40], actor_id=entry.actor_id,
                                  username=entry.username[:100], subject_id=entry.subject_id,
                                  client=entry.client[:64],
                                  detail=json.dumps(entry.detail, ensure_ascii=False)))

    def find(self, since: datetime | None = None, until: datetime | None = None,
             kinds: Collection[str] = (), limit: int = 5000) -> list[SecurityEntry]:
        q = select(SecurityLogRow).order_by(SecurityLogRow.at.desc(), SecurityLogRow.id.desc())
        if since is not None:
            q = q.where(SecurityLogRow.at >= since)
        if until is not None:
            q = q.where(SecurityLogRow.at < until)
        if kinds:
            q = q.where(SecurityLogRow.kind.in_(list(kinds)))
        return [SecurityEntry(r.id, r.at, r.kind, r.actor_id, r.username, r.subject_id,
                              r.client, dict(json.loads(r.detail or "{}")))
                for r in self.s.scalars(q.limit(limit))]


# ---------------------------------------------------------------- reference data

_REF: dict[type, type[DepartmentRow | CustomerRow | ProductRow | DefectTypeRow]] = {
    Department: DepartmentRow,
    Customer: CustomerRow,
    Product: ProductRow,
    DefectType: DefectTypeRow,
}


def _customer(r: CustomerRow) -> Customer:
    return Customer(r.id, r.name, Market(r.market), Lang(r.language), r.contact, r.phone, r.email,
                    r.address, r.active, r.department_id)


class SqlRef:
    def __init__(self, s: Session) -> None:
        self.s = s

    def _all(self, row: Any, order: Any, include_inactive: bool) -> list[Any]:
        q = select(row).order_by(order)
        if not include_inactive:
            q = q.where(row.active.is_(True))
        return list(self.s.scalars(q))

    def departments(self, include_inactive: bool = False) -> list[Department]:
        return [
            Department(r.id, r.code, r.name_zh, r.name_en, r.active, r.head_id)
            for r in self._all(DepartmentRow, DepartmentRow.code, include_inactive)
        ]

    def customers(self, include_inactive: bool = False) -> list[Customer]:
        return [_customer(r) for r in self._all(CustomerRow, CustomerRow.name, include_inactive)]

    def products(self, include_inactive: bool = False) -> list[Product]:
        return [
            Product(r.id, r.code, r.name, r.active, r.name_en or "")
            for r in self._all(ProductRow, ProductRow.code, include_inactive)
        ]

    def defect_types(self, include_inactive: bool = False) -> list[DefectType]:
        return [
            DefectType(r.id, r.code, r.name_zh, r.name_en, r.active)
            for r in self._all(DefectTypeRow, DefectTypeRow.code, include_inactive)
        ]

    @staticmethod
    def _values(item: Any) -> dict[str, Any]:
        v = {k: getattr(item, k) for k in item.__dataclass_fields__ if k != "id"}
        return {k: (x.value if isinstance(x, (Market, Lang)) else x) for k, x in v.items()}

    def add(self, item: Department | Customer | Product | DefectType) -> int:
        r = _REF[type(item)](**self._values(item))
        self.s.add(r)
        self.s.flush()
        return int(r.id)

    def update(self, item: Department | Customer | Product | DefectType) -> None:
        r = self.s.get_one(_REF[type(item)], item.id)
        for k, v in self._values(item).items():
            setattr(r, k, v)


# ---------------------------------------------------------------- complaints


_CASES: Any = ComplaintRow.__table__  # a Table: its UPDATE is Core, not ORM
_SAVE = update(_CASES).where(_CASES.c.id == bindparam("_id"),
                             _CASES.c.version == bindparam("_version"))


class SqlComplaints:
    def __init__(self, s: Session, lock: bool = False) -> None:
        self.s, self.lock = s, lock
        # case id -> (version, searchable text) as `get` read it: what `save` compares
        self._read: dict[int, tuple[int, list[Any]]] = {}

    def get(self, complaint_id: int) -> Complaint | None:
        """In a write unit of work the case row is locked until commit (FOR NO KEY UPDATE on
        PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers): everything read
        after it is current, so a concurrent action meets the new version -> StaleCase,
        rather than a mix of the old case and the other writer's records."""
        r = self.s.get(ComplaintRow, complaint_id, populate_existing=True,
                       with_for_update={"key_share": True} if self.lock else None)
        if r is None:
            return None
        self._read[r.id] = (r.version, [getattr(r, c) for c in search.TEXT_COLUMNS])
        return complaint_from(r)

    def by_number(self, number: str) -> Complaint | None:
        r = self.s.scalars(select(ComplaintRow).where(ComplaintRow.number == number)).first()
        return complaint_from(r) if r else None

    def next_serial(self, period: str) -> int:
        """Atomically take the next serial of a month: insert-if-missing, then increment.

        The UPDATE takes a row lock (PostgreSQL) / the write lock (SQLite), so two concurrent
        registrations can never get the same serial.
        """
        dialect = self.s.get_bind().dialect.name
        ins_mod: Any = postgresql if dialect == "postgresql" else sqlite
        self.s.execute(
            ins_mod.insert(NumberCounterRow)
            .values(period=period, last_serial=0)
            .on_conflict_do_nothing(index_elements=["period"])
        )
        serial = self.s.execute(
            update(NumberCounterRow)
            .where(NumberCounterRow.period == period)
            .values(last_serial=NumberCounterRow.last_serial + 1)
            .returning(NumberCounterRow.last_serial)
        ).scalar_one()
        return int(serial)

    def raise_serial(self, period: str, serial: int) -> None:
        dialect = self.s.get_bind().dialect.name
        ins_mod: Any = postgresql if dialect == "postgresql" else sqlite
        self.s.execute(
            ins_mod.insert(NumberCounterRow)
            .values(period=period, last_serial=0)
            .on_conflict_do_nothing(index_elements=["period"])
        )
        self.s.execute(
            update(NumberCounterRow)
            .where(NumberCounterRow.period == period, NumberCounterRow.last_serial < serial)
            .values(last_serial=serial)
        )

    def numbers_taken(self, numbers: Sequence[str]) -> set[str]:
        found: set[str] = set()
        wanted = list(numbers)
        for i in range(0, len(wanted), 500):  # bounded IN lists
            found.update(
                self.s.scalars(
                    select(ComplaintRow.number).where(ComplaintRow.number.in_(wanted[i : i + 500]))
                )
            )
        return found

    def add(self, complaint: Complaint) -> int:
        r = ComplaintRow(**complaint_values(complaint))
        self.s.add(r)
        self.s.flush()
        search.index_case(self.s, r.id, complaint_values(complaint), new=True)
        return r.id

    def save(self, complaint: Complaint, expected_version: int) -> None:
        """Write only if nobody else changed the case since it was read (optimistic lock)."""
        rollups.touched(self.s).add(int(complaint.id or 0))  # Stats rollups, at commit
        values = complaint_values(complaint)
        # the search rows are written again only when the searchable text changed: the text as
        # `get` read it in this unit of work (when its version is the one replaced), else read
        loaded = self.s.identity_map.get(self.s.identity_key(ComplaintRow, complaint.id))
        seen = self._read.pop(int(complaint.id or 0), None)
        before: Any
        if seen is not None and seen[0] == expected_version:
            before = seen[1]
        else:
            searched = [getattr(ComplaintRow, c) for c in search.TEXT_COLUMNS]
            before = self.s.execute(select(*searched).where(ComplaintRow.id == complaint.id)
                                    ).first()
        # one UPDATE built once, its SET from the values' names (an ORM update of ~77 values
        # built at every save cost more than running it: issue #14); the row read above is
        # expired, so a later read in this unit of work sees the new values
        res = self.s.execute(_SAVE, {**values, "_id": complaint.id, "_version": expected_version})
        if loaded is not None:
            self.s.expire(loaded)
        if res.rowcount != 1:  # type: ignore[attr-defined]
            cur = self.s.get(ComplaintRow, complaint.id, populate_existing=True)
            who = self.s.get(UserRow, cur.updated_by_id) if cur and cur.updated_by_id else None
            raise StaleCase(who=who.display_name if who else "?",
                            at=cur.updated_at if cur else None)
        if before is None or search.document(dict(zip(search.TEXT_COLUMNS, before,
                                                       strict=True))) != search.document(values):
            search.index_case(self.s, int(complaint.id or 0), values, new=False)

    def duplicate_candidates(self, customer_id: int, order_no: str, product_code: str,
                             defect_type_id: int | None, since: datetime) -> list[Candidate]:
        ors: list[Any] = []
        if order_no:
            ors.append(
                and_(ComplaintRow.customer_id == customer_id,
                     func.lower(ComplaintRow.order_no) == order_no.lower())
            )
        if product_code and defect_type_id is not None:
            ors.append(
                and_(func.lower(ComplaintRow.product_code) == product_code.lower(),
                     ComplaintRow.defect_type_id == defect_type_id,
                     ComplaintRow.received_at >= since)
            )
        if not ors:
            return []
        q = (
            select(ComplaintRow)
            .where(or_(*ors), ComplaintRow.state != State.CANCELLED.value)
            .order_by(ComplaintRow.received_at.desc())
            .limit(20)
        )
        return [
            Candidate(r.id, r.number, r.customer_id, r.order_no, r.product_code, r.defect_type_id,
                      r.received_at)
            for r in self.s.scalars(q)
        ]

    def closed_without_days(self, limit: int) -> list[Complaint]:
        rows = self.s.scalars(
            select(ComplaintRow)
            .where(ComplaintRow.state == State.CLOSED.value, ComplaintRow.closed_at.is_not(None),
                   ComplaintRow.close_wd.is_(None))
            .order_by(ComplaintRow.id)
            .limit(limit)
        )
        return [complaint_from(r) for r in rows]

    def due_before(self, at: datetime, limit: int = 5000, offset: int = 0) -> list[Complaint]:
        open_states = [x.value for x in State if x.is_open]
        q = (
            select(ComplaintRow)
            .where(ComplaintRow.state.in_(open_states), ComplaintRow.due_at <= at)
            .order_by(ComplaintRow.due_at, ComplaintRow.id)
            .limit(limit)
            .offset(offset)
        )
        return [complaint_from(r) for r in self.s.scalars(q)]

    def count_same_issue(self, product_code: str, defect_type_id: int, severity: Severity,
                         since: datetime, until: datetime) -> int:
        """Cases of the same issue at the same severity (final, else proposed) in a window."""
        sev = SEVERITY
        q = (
            select(func.count())
            .select_from(ComplaintRow)
            .where(func.lower(ComplaintRow.product_code) == product_code.lower(),
                   ComplaintRow.defect_type_id == defect_type_id, sev == severity.value,
                   ComplaintRow.received_at >= since, ComplaintRow.received_at <= until,
                   ComplaintRow.state != State.CANCELLED.value)
        )
        return int(self.s.scalar(q) or 0)


# ---------------------------------------------------------------- events, attachments, settings


_INSERTS: dict[Any, Any] = {}
_UPDATES: dict[Any, Any] = {}


def _insert(row: Any) -> Any:
    """INSERT … RETURNING id of a table, built once (Core: no ORM flush per row)."""
    if row not in _INSERTS:
        t = row.__table__
        _INSERTS[row] = insert(t).returning(t.c.id)
    return _INSERTS[row]


def _update(row: Any) -> Any:
    """UPDATE of one row by id (`_id`), its SET from the parameters' names, built once."""
    if row not in _UPDATES:
        t = row.__table__
        _UPDATES[row] = update(t).where(t.c.id == bindparam("_id"))
    return _UPDATES[row]


class SqlEvents:
    def __init__(self, s: Session) -> None:
        self.s = s

    def add(self, event: Event) -> int:
        rollups.touched(self.s).add(event.complaint_id)  # Stats rollups, at commit
        return int(self.s.execute(_insert(EventRow), {
            "complaint_id": event.complaint_id, "at": event.at, "user_id": event.user_id,
            "action": event.action, "changes": json.dumps(event.changes, ensure_ascii=False),
            "comment": event.comment}).scalar_one())

    def for_complaint(self, complaint_id: int) -> list[Event]:
        q = (
            select(EventRow)
            .where(EventRow.complaint_id == complaint_id)
            .order_by(EventRow.at, EventRow.id)
        )
        return [
            Event(r.id, r.complaint_id, r.at, r.user_id, r.action, json.loads(r.changes), r.comment)
            for r in self.s.scalars(q)
        ]


_RECORDS: dict[type, Any] = {
    CapaAction: CapaActionRow,
    Containment: ContainmentRow,
    Disposition: DispositionRow,
    CostLine: CostLineRow,
    ApprovalStep: ApprovalStepRow,
    Meeting: MeetingRow,
    MeetingItem: MeetingItemRow,
    Assist: AssistRow,
    Assessment: AssessmentRow,
    Delegation: DelegationRow,
    StepTime: StepTimeRow,
    Payment: PaymentRow,
    RuleSetRecord: ApprovalRuleSetRow,
    ChainStep: ChainStepRow,
    CustomField: CustomFieldRow,
    CustomValue: CustomValueRow,
}
_TYPE_ENUM = {CapaAction: CapaType, Containment: ContainmentType, Disposition: DispositionType,
              MeetingItem: ItemType, CustomField: FieldType}


def _converter(kind: type[Any], name: str) -> Callable[[Any], Any] | None:
    """How a record's field is made from its column (None: as stored)."""
    if name == "attendee_ids":
        return lambda x: tuple(json.loads(x or "[]"))
    if name == "data" and kind is ChainStep:
        return lambda x: json.loads(x or "{}")
    if name == "guests":
        return lambda x: tuple(Guest(str(n), str(o)) for n, o in json.loads(x or "[]"))
    if name == "options" and kind is CustomField:
        return lambda x: tuple(ChoiceOption(*map(str, o)) for o in json.loads(x or "[]"))
    enums: dict[tuple[type[Any], str], type[enum.Enum]] = {
        (CustomField, "kind"): Kind, (CustomField, "required_from"): State,
        (Meeting, "direction"): DispositionType}
    if (kind, name) in enums:
        e = enums[kind, name]
        return lambda x: e(x) if x else None
    always: dict[tuple[type[Any], str], Callable[[Any], Any]] = {
        **{(k, "type"): t for k, t in _TYPE_ENUM.items()}, (CostLine, "category"): CostCategory,
        (ApprovalStep, "status"): StepStatus, (Payment, "method"): PaymentMethod}
    return always.get((kind, name))


_CONVERTERS: dict[type[Any], tuple[tuple[str, Callable[[Any], Any] | None], ...]] = {}


def _converters(kind: type[Any]) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """Each field of a record type with its converter, worked out once per type (a list of
    records is mapped field by field, row after row)."""
    conv = _CONVERTERS.get(kind)
    if conv is None:
        conv = _CONVERTERS[kind] = tuple((name, _converter(kind, name))
                                         for name in kind.__dataclass_fields__)
    return conv


class SqlRecords:
    """CAPA, containment, dispositions, costs, approval steps, meetings, assessments,
    delegations: mapped field by field between the dataclass and its row."""

    def __init__(self, s: Session) -> None:
        self.s = s

    @staticmethod
    def _to_row_values(item: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in item.__dataclass_fields__:
            if name == "id":
                continue
            v = getattr(item, name)
            if name == "attendee_ids":
                v = json.dumps(list(v))
            elif name == "data" and isinstance(item, ChainStep):
                v = json.dumps(v, ensure_ascii=False)
            elif name == "guests":
                v = json.dumps([[g.name, g.org] for g in v], ensure_ascii=False)
            elif name == "options" and isinstance(item, CustomField):
                v = json.dumps([[o.key, o.label_zh, o.label_en] for o in v], ensure_ascii=False)
            elif isinstance(v, enum.Enum):
                v = v.value
            out[name] = v
        return out

    @staticmethod
    def _from_row(kind: type[Any], r: Any) -> Any:
        return kind(**{name: getattr(r, name) if f is None else f(getattr(r, name))
                       for name, f in _converters(kind)})

    @staticmethod
    def _from_mapping(kind: type[Any], r: Mapping[str, Any]) -> Any:
        return kind(**{name: r[name] if f is None else f(r[name])
                       for name, f in _converters(kind)})

    # Core statements, built once per table (an ORM add + flush or get + flush cost ~1 ms of
    # Python each, several per action: issue #14); nothing reads these rows through the
    # session's identity map (get: populate_existing; the rest: plain rows)
    def add(self, item: Any) -> int:
        return int(self.s.execute(_insert(_RECORDS[type(item)]),
                                  self._to_row_values(item)).scalar_one())

    def update(self, item: Any) -> None:
        done = self.s.execute(_update(_RECORDS[type(item)]),
                              {**self._to_row_values(item), "_id": item.id})
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise NoResultFound(f"{type(item).__name__} {item.id}")

    # populate_existing: a record read again after the case lock shows the database's
    # current values, not the ones this session loaded before waiting for the lock
    def get(self, kind: type[T], item_id: int) -> T | None:
        r = self.s.get(_RECORDS[kind], item_id, populate_existing=True)
        return self._from_row(kind, r) if r else None

    def where(self, kind: type[T], **equals: Any) -> list[T]:
        # plain rows, not ORM objects (always the database's current values, as
        # populate_existing gave): every case file and My Tasks read these (issue #6)
        table = _RECORDS[kind].__table__
        q = select(table).order_by(table.c.id)  # every column: the table (one to coerce)
        for k, v in equals.items():
            q = q.where(table.c[k] == (v.value if isinstance(v, enum.Enum) else v))
        return self._read(kind, q)

    def of_cases(self, kind: type[T], complaint_ids: Collection[int]) -> list[T]:
        ids = sorted(complaint_ids)
        table = _RECORDS[kind].__table__
        out: list[T] = []
        for i in range(0, len(ids), 500):  # SQLite's bound parameters, kept well below
            out += self._read(kind, select(table)
                              .where(table.c.complaint_id.in_(ids[i:i + 500])))
        return sorted(out, key=lambda x: x.id)  # type: ignore[attr-defined]

    def where_case_in(self, kind: type[T], states: Collection[State], **equals: Any
                      ) -> list[T]:
        table = _RECORDS[kind].__table__
        # IN a sub-query, not a join: SQLite takes the cases' ids from a state index alone
        # instead of looking up each record's (wide) case row — 9.7 -> 4.3 ms for qa's CAPA
        cases = select(ComplaintRow.id).where(
            ComplaintRow.state.in_(sorted(s.value for s in states)))
        q = select(table).where(table.c.complaint_id.in_(cases)).order_by(table.c.id)
        for k, v in equals.items():
            q = q.where(table.c[k] == (v.value if isinstance(v, enum.Enum) else v))
        return self._read(kind, q)

    def _read(self, kind: type[T], q: Any) -> list[T]:
        result = self.s.execute(q)
        # each field by its column's position, passed by position (no dict per row: My
        # Tasks reads hundreds of CAPA actions; the fields are the columns, in field order)
        at = {k: i for i, k in enumerate(result.keys())}
        conv = [(at[name], f) for name, f in _converters(kind)]
        return [kind(*[r[i] if f is None else f(r[i]) for i, f in conv]) for r in result]


class SqlNotifications:
    def __init__(self, s: Session) -> None:
        self.s = s

    def add(self, user_id: int, complaint_id: int | None, kind: str, params: dict[str, Any],
            at: datetime) -> int:
        return int(self.s.execute(_insert(NotificationRow), {
            "user_id": user_id, "complaint_id": complaint_id, "kind": kind,
            "params": json.dumps(params, ensure_ascii=False, default=str),
            "created_at": at, "read_at": None}).scalar_one())

    def for_user(self, user_id: int, limit: int = 200) -> list[Notification]:
        q = (
            select(NotificationRow)
            .where(NotificationRow.user_id == user_id)
            .order_by(NotificationRow.id.desc())
            .limit(limit)
        )
        return [
            Notification(r.id, r.user_id, r.complaint_id, r.kind, json.loads(r.params),
                         r.created_at, r.read_at)
            for r in self.s.scalars(q)
        ]

    def unread_count(self, user_id: int) -> int:
        q = (
            select(func.count())
            .select_from(NotificationRow)
            .where(NotificationRow.user_id == user_id, NotificationRow.read_at.is_(None))
        )
        return int(self.s.scalar(q) or 0)

    def mark_read(self, user_id: int, ids: Sequence[int] | None, at: datetime) -> int:
        q = update(NotificationRow).where(
            NotificationRow.user_id == user_id, NotificationRow.read_at.is_(None)
        )
        if ids is not None:
            q = q.where(NotificationRow.id.in_(list(ids)))
        return int(self.s.execute(q.values(read_at=at)).rowcount)  # type: ignore[attr-defined]

    def created_between(self, user_id: int, start: datetime, end: datetime
                        ) -> list[Notification]:
        """A user's notices of start <= created_at < end, oldest first (the daily digest)."""
        q = (
            select(NotificationRow)
            .where(NotificationRow.user_id == user_id, NotificationRow.created_at >= start,
                   NotificationRow.created_at < end)
            .order_by(NotificationRow.id)
        )
        return [
            Notification(r.id, r.user_id, r.complaint_id, r.kind, json.loads(r.params),
                         r.created_at, r.read_at)
            for r in self.s.scalars(q)
        ]


class SqlAttachments:
    def __init__(self, s: Session) -> None:
        self.s = s

    @staticmethod
    def _att(r: AttachmentRow) -> Attachment:
        return Attachment(r.id, r.complaint_id, r.sha256, r.filename, r.content_type, r.size,
                          r.uploaded_by_id, r.uploaded_at)

    def add(self, attachment: Attachment) -> int:
        r = AttachmentRow(complaint_id=attachment.complaint_id, sha256=attachment.sha256,
                          filename=attachment.filename, content_type=attachment.content_type,
                          size=attachment.size, uploaded_by_id=attachment.uploaded_by_id,
                          uploaded_at=attachment.uploaded_at)
        self.s.add(r)
        self.s.flush()
        return r.id

    def for_complaint(self, complaint_id: int) -> list[Attachment]:
        q = (
            select(AttachmentRow)
            .where(AttachmentRow.complaint_id == complaint_id)
            .order_by(AttachmentRow.id)
        )
        return [self._att(r) for r in self.s.scalars(q)]

    def for_complaints(self, complaint_ids: Collection[int]) -> list[Attachment]:
        return self._in(AttachmentRow.complaint_id, complaint_ids)

    def get(self, attachment_id: int) -> Attachment | None:
        r = self.s.get(AttachmentRow, attachment_id)
        return self._att(r) if r else None

    def many(self, attachment_ids: Collection[int]) -> list[Attachment]:
        return self._in(AttachmentRow.id, attachment_ids)

    def _in(self, column: Any, values: Collection[int]) -> list[Attachment]:
        """The attachments whose `column` is one of `values`, in id order."""
        wanted = sorted(values)
        out: list[Attachment] = []
        for i in range(0, len(wanted), 500):
            q = select(AttachmentRow).where(column.in_(wanted[i:i + 500]))
            out += [self._att(r) for r in self.s.scalars(q)]
        return sorted(out, key=lambda a: a.id or 0)


log = logging.getLogger("kesu.db")
# Settings fields kept encrypted (Fernet, adapters/security.py), marked by this prefix.
ENCRYPTED: dict[str, tuple[str, ...]] = {CHANNELS_KEY: SECRET_FIELDS}
SEALED = "enc:v1:"


class SqlSettings:
    """Read all at once, on first use in the unit of work: a service asks for settings many
    times (time zone, calendar, limits, matrix...), and most keys are absent, which the
    session's identity map cannot remember — so each ask was a query (benchmark, issue #6)."""

    def __init__(self, s: Session, cipher: Cipher) -> None:
        self.s = s
        self.cipher = cipher
        self._stored: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._stored is None:
            self._stored = {
                k: v for k, v in self.s.execute(select(SettingRow.key, SettingRow.value))
            }
        return self._stored

    def get(self, key: str) -> Any | None:
        text = self._all().get(key)
        if text is None:
            return None
        value = json.loads(text)
        if key in ENCRYPTED and isinstance(value, dict):
            value = {k: self._reveal(key, k, v) if k in ENCRYPTED[key] else v
                     for k, v in value.items()}
        return value

    def _reveal(self, key: str, name: str, v: Any) -> Any:
        if not (isinstance(v, str) and v.startswith(SEALED)):
            return v  # stored before encryption (sealed at the next start: seal_secrets)
        try:
            return self.cipher.decrypt(v[len(SEALED):])
        except ValueError:  # encrypted with another key: as if not set, and said in the log
            log.error("setting %s.%s cannot be decrypted with this server's secret key "
                      "(KESU_SECRET_KEY); enter it again on Admin", key, name)
            return ""

    def set(self, key: str, value: Any) -> None:
        r = self.s.get(SettingRow, key)
        if key in ENCRYPTED and isinstance(value, dict):
            value = {k: SEALED + self.cipher.encrypt(v)
                     if k in ENCRYPTED[key] and isinstance(v, str) and v else v
                     for k, v in value.items()}
        text = json.dumps(value, ensure_ascii=False, default=str)
        if r is None:
            self.s.add(SettingRow(key=key, value=text))
        else:
            r.value = text
        self._all()[key] = text


def _insert_new(s: Session, row: Any, values: dict[str, Any], keys: list[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True if the row went in, False if its key was there.

    On PostgreSQL a concurrent insert of the same key waits for the other transaction and
    then does nothing, so exactly one of two racing writers gets True.
    """
    dialect: Any = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    # RETURNING says whether a row went in (an ORM-executed INSERT reports no rowcount)
    res = s.execute(
        dialect.insert(row)
        .values(**values)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(*row.__table__.primary_key.columns)
    )
    return res.first() is not None


def _outbox_item(r: OutboxRow) -> OutboxItem:
    return OutboxItem(r.id, Message(r.key, r.channel, r.target, r.subject, r.body), r.status,
                      r.attempts, r.next_try_at, r.last_error, r.created_at, r.sent_at)


class SqlOutbox:
    """The outbox; claiming is one conditional UPDATE, so two senders never take one row."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def add(self, message: Message, at: datetime) -> bool:
        m = message
        return _insert_new(
            self.s,
            OutboxRow,
            {
                "key": m.key[:200],
                "channel": m.channel,
                "target": m.target[:500],
                "subject": m.subject[:300],
                "body": m.body,
                "status": "pending",
                "attempts": 0,
                "next_try_at": at,
                "last_error": "",
                "created_at": at,
            },
            ["key"],
        )

    def due(self, now: datetime, limit: int = 50) -> list[OutboxItem]:
        q = (
            select(OutboxRow)
            .where(OutboxRow.status == "pending", OutboxRow.next_try_at <= now)
            .order_by(OutboxRow.next_try_at, OutboxRow.id)
            .limit(limit)
        )
        return [_outbox_item(r) for r in self.s.scalars(q)]

    def claim(self, item_id: int, attempts: int, until: datetime) -> bool:
        res = self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.status == "pending",
                   OutboxRow.attempts == attempts)
            .values(attempts=attempts + 1, next_try_at=until)
        )
        return int(res.rowcount) == 1  # type: ignore[attr-defined]

    def mark_sent(self, item_id: int, at: datetime) -> None:
        self.s.execute(
            update(OutboxRow).where(OutboxRow.id == item_id).values(status="sent", sent_at=at)
        )

    def mark_failed(self, item_id: int, error: str, next_try_at: datetime | None) -> None:
        values: dict[str, Any] = {"last_error": error}
        if next_try_at is None:
            values["status"] = "failed"
        else:
            values["next_try_at"] = next_try_at
        self.s.execute(update(OutboxRow).where(OutboxRow.id == item_id).values(**values))

    def counts(self) -> dict[str, int]:
        q = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
        return {str(status): int(n) for status, n in self.s.execute(q)}

    def recent(self, statuses: Sequence[str], limit: int = 20) -> list[OutboxItem]:
        q = (
            select(OutboxRow)
            .where(OutboxRow.status.in_(list(statuses)))
            .order_by(OutboxRow.id.desc())
            .limit(limit)
        )
        return [_outbox_item(r) for r in self.s.scalars(q)]

    def retry_failed(self, now: datetime) -> int:
        res = self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.status == "failed")
            .values(status="pending", attempts=0, next_try_at=now)
        )
        return int(res.rowcount)  # type: ignore[attr-defined]


class SqlEscalations:
    def __init__(self, s: Session) -> None:
        self.s = s

    def fired(self, complaint_id: int) -> set[tuple[str, datetime, int]]:
        q = select(EscalationRow.step, EscalationRow.started_at, EscalationRow.level).where(
            EscalationRow.complaint_id == complaint_id
        )
        return {(step, started, level) for step, started, level in self.s.execute(q)}

    def add(self, complaint_id: int, step: str, started: datetime, level: int,
            at: datetime) -> bool:
        return _insert_new(
            self.s,
            EscalationRow,
            {
                "complaint_id": complaint_id,
                "step": step,
                "started_at": started,
                "level": level,
                "at": at,
            },
            ["complaint_id", "step", "started_at", "level"],
        )


class SqlLeases:
    def __init__(self, s: Session) -> None:
        self.s = s

    def acquire(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Insert-if-missing, else one conditional UPDATE: it takes the row lock (PostgreSQL)
        or the write lock (SQLite), and a racing second UPDATE re-reads the row and finds it
        held — so two processes never both hold the lease."""
        if _insert_new(self.s, LeaseRow, {"name": name, "holder": holder, "expires_at": until},
                       ["name"]):
            return True
        res = self.s.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name,
                   or_(LeaseRow.expires_at <= now, LeaseRow.holder == holder))
            .values(holder=holder, expires_at=until)
        )
        return int(res.rowcount) == 1  # type: ignore[attr-defined]

    def release(self, name: str, holder: str, now: datetime) -> None:
        self.s.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, LeaseRow.holder == holder)
            .values(expires_at=now)
        )


# ---------------------------------------------------------------- unit of work


class SqlUnitOfWork:
    """One transaction; leaving the block without commit() rolls back (docs/architecture.md §3)."""

    def __init__(self, factory: sessionmaker[Session], write: bool, cipher: Cipher) -> None:
        self.factory, self.write, self.cipher = factory, write, cipher

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self.factory()
        if self.write:
            self.session.connection(execution_options={"kesu_write": True})
        s = self.session
        self.users, self.ref = SqlUsers(s), SqlRef(s)
        self.sessions = SqlSessions(s)
        self.security_log = SqlSecurityLog(s)
        self.complaints = SqlComplaints(s, lock=self.write)
        self.events, self.attachments = SqlEvents(s), SqlAttachments(s)
        self.settings = SqlSettings(s, self.cipher)
        self.records = SqlRecords(s)
        self.reads = SqlReads(s)
        self.notifications = SqlNotifications(s)
        self.outbox, self.escalations, self.leases = SqlOutbox(s), SqlEscalations(s), SqlLeases(s)
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        rollups.before_commit(self.session)  # the Stats rollups of the cases written
        self.session.commit()


class SqlUowFactory:
    def __init__(self, engine: Engine, cipher: Cipher) -> None:
        self.engine = engine
        self.cipher = cipher
        self.factory = sessionmaker(bind=engine, expire_on_commit=False)

    def __call__(self, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.factory, write, self.cipher)

    def seal_secrets(self) -> int:
        """Encrypt the secrets a version before encryption stored in clear; how many
        settings were rewritten (at start, after the migrations: adapters/wiring.py)."""
        sealed = 0
        with self(write=True) as uow:
            for key, names in ENCRYPTED.items():
                raw = uow.session.get(SettingRow, key)
                data = json.loads(raw.value) if raw is not None else None
                if isinstance(data, dict) and any(
                        isinstance(data.get(n), str) and data[n] and not data[n].startswith(SEALED)
                        for n in names):
                    uow.settings.set(key, data)
                    sealed += 1
            uow.commit()
        return sealed
