"""In-memory implementations of every Protocol in core/ports.py (fakes, not mocks).

They behave like db/uow.py: a unit of work sees a private copy of the committed data, and
its changes become visible to others only on commit(); leaving the block without commit()
throws them away. Complaint saves check the version (optimistic lock) like the SQL repo.
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

from core.errors import StaleCase
from core.model import (
    Attachment,
    Complaint,
    Customer,
    DefectType,
    Department,
    Event,
    Kind,
    LoginSession,
    Notification,
    Product,
    RegisterFilter,
    RegisterLine,
    RegisterPage,
    RegisterRow,
    Scope,
    SecurityEntry,
    Severity,
    State,
    User,
)
from core.outbox import ChannelConfig, DeliveryFailed, Message, OutboxItem
from core.ports import (
    AttachmentRepo,
    ComplaintRepo,
    EscalationRepo,
    EventRepo,
    LeaseRepo,
    NotificationRepo,
    SessionRepo,
    OutboxRepo,
    RecordRepo,
    RefRepo,
    SecurityLogRepo,
    SettingRepo,
    UserRepo,
)
from core.rules.severity import Candidate
from core.stats import Bar, Headline, MeetingCase, OnTime, Recurrence, StatsQuery

Ref = Department | Customer | Product | DefectType
T = TypeVar("T")


@dataclass
class Data:
    """Everything the database would hold."""

    users: dict[int, User] = field(default_factory=dict)
    password_hashes: dict[int, str] = field(default_factory=dict)
    password_changed: dict[int, datetime | None] = field(default_factory=dict)
    unlocked: dict[int, datetime] = field(default_factory=dict)
    login_attempts: list[tuple[str, datetime, bool]] = field(default_factory=list)
    login_counters: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)
    security_log: list[SecurityEntry] = field(default_factory=list)
    refs: dict[type, dict[int, Any]] = field(default_factory=lambda: {
        Department: {}, Customer: {}, Product: {}, DefectType: {}})
    complaints: dict[int, Complaint] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    attachments: dict[int, Attachment] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    records: dict[type, dict[int, Any]] = field(default_factory=dict)
    outbox: dict[int, OutboxItem] = field(default_factory=dict)
    escalations: dict[tuple[int, str, datetime, int], datetime] = field(default_factory=dict)
    leases: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    sessions: dict[int, tuple[str, LoginSession]] = field(default_factory=dict)
    last_id: dict[str, int] = field(default_factory=dict)

    def new_id(self, table: str) -> int:
        self.last_id[table] = self.last_id.get(table, 0) + 1
        return self.last_id[table]


# ---------------------------------------------------------------- repositories


class FakeUsers:
    def __init__(self, d: Data) -> None:
        self.d = d

    def get(self, user_id: int) -> User | None:
        return self.d.users.get(user_id)

    def by_username(self, username: str) -> User | None:
        return next((u for u in self.d.users.values() if u.username == username), None)

    def add(self, user: User, password_hash: str) -> int:
        if self.by_username(user.username) is not None:
            raise ValueError("unique constraint: username")
        uid = self.d.new_id("users")
        self.d.users[uid] = replace(user, id=uid)
        self.d.password_hashes[uid] = password_hash
        self.d.password_changed[uid] = None
        return uid

    def update(self, user: User) -> None:
        old = self.d.users[user.id]  # KeyError like get_one's NoResultFound
        self.d.users[user.id] = replace(user, username=old.username)

    def password_hash(self, user_id: int) -> str:
        return self.d.password_hashes[user_id]

    def set_password(self, user_id: int, password_hash: str, at: datetime,
                     must_change: bool = False) -> None:
        self.d.users[user_id] = replace(self.d.users[user_id], must_change_password=must_change)
        self.d.password_hashes[user_id] = password_hash
        self.d.password_changed[user_id] = at

    def password_changed_at(self, user_id: int) -> datetime | None:
        self.d.users[user_id]  # noqa: B018 - must exist
        return self.d.password_changed.get(user_id)

    def rehash_password(self, user_id: int, old_hash: str, new_hash: str) -> bool:
        if self.d.password_hashes[user_id] != old_hash:
            return False
        self.d.password_hashes[user_id] = new_hash
        return True

    def count(self) -> int:
        return len(self.d.users)

    def add_login_attempt(self, username: str, at: datetime, success: bool) -> None:
        self.d.login_attempts.append((username[:100], at, success))

    def failures_since(self, username: str, since: datetime) -> list[datetime]:
        return [at for name, at, ok in self.d.login_attempts
                if name == username and at >= since and not ok]

    def unlocked_at(self, username: str) -> datetime | None:
        u = self.by_username(username)
        return self.d.unlocked.get(u.id) if u else None

    def set_unlocked_at(self, username: str, at: datetime) -> None:
        u = self.by_username(username)
        if u is not None:  # like an UPDATE ... WHERE username = ? matching no row
            self.d.unlocked[u.id] = at

    def lock_counters(self, keys: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        for k in keys:
            self.d.login_counters.setdefault(k, (0, None))
        return {k: self.d.login_counters[k] for k in sorted(set(keys))}

    def set_counter(self, key: str, failures: int, last_at: datetime | None) -> None:
        if key in self.d.login_counters:
            self.d.login_counters[key] = (failures, last_at)

    def counters(self, keys: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        return {k: self.d.login_counters[k] for k in keys if k in self.d.login_counters}

    # Last in the class: a method named `list` shadows the builtin in later annotations.
    def list(self) -> list[User]:
        return sorted(self.d.users.values(), key=lambda u: u.username)


class FakeSecurityLog:
    """Append-only, like SqlSecurityLog."""

    def __init__(self, d: Data) -> None:
        self.d = d

    def add(self, entry: SecurityEntry) -> None:
        self.d.security_log.append(replace(entry, id=self.d.new_id("security_log")))

    def find(self, since: datetime | None = None, until: datetime | None = None,
             kinds: Collection[str] = (), limit: int = 5000) -> list[SecurityEntry]:
        hits = [e for e in self.d.security_log
                if (since is None or e.at >= since) and (until is None or e.at < until)
                and (not kinds or e.kind in kinds)]
        return sorted(hits, key=lambda e: (e.at, e.id), reverse=True)[:limit]


class FakeSessions:
    def __init__(self, d: Data) -> None:
        self.d = d

    def add(self, session: LoginSession, token_hash: str) -> int:
        if any(h == token_hash for h, _ in self.d.sessions.values()):
            raise ValueError("unique constraint: token_hash")
        sid = self.d.new_id("sessions")
        self.d.sessions[sid] = (token_hash, replace(session, id=sid))
        return sid

    def by_hash(self, token_hash: str) -> LoginSession | None:
        return next((s for h, s in self.d.sessions.values() if h == token_hash), None)

    def get(self, session_id: int) -> LoginSession | None:
        found = self.d.sessions.get(session_id)
        return found[1] if found else None

    def _set(self, sid: int, **values: Any) -> None:
        h, s = self.d.sessions[sid]
        self.d.sessions[sid] = (h, replace(s, **values))

    def touch(self, session_id: int, at: datetime) -> None:
        if session_id in self.d.sessions and self.d.sessions[session_id][1].last_seen_at < at:
            self._set(session_id, last_seen_at=at)

    def end(self, session_id: int, at: datetime, reason: str) -> None:
        if session_id in self.d.sessions and self.d.sessions[session_id][1].ended_at is None:
            self._set(session_id, ended_at=at, end_reason=reason)

    def end_for_user(self, user_id: int, at: datetime, reason: str,
                     keep: int | None = None) -> int:
        hits = [sid for sid, (_, s) in self.d.sessions.items()
                if s.user_id == user_id and s.ended_at is None and sid != keep]
        for sid in hits:
            self._set(sid, ended_at=at, end_reason=reason)
        return len(hits)

    def open_sessions(self, since: datetime, limit: int = 500) -> list[LoginSession]:
        found = [s for _, s in self.d.sessions.values()
                 if s.ended_at is None and s.last_seen_at >= since]
        return sorted(found, key=lambda s: s.last_seen_at, reverse=True)[:limit]


class FakeRef:
    def __init__(self, d: Data) -> None:
        self.d = d

    def _all(self, kind: type, key: str, include_inactive: bool) -> list[Any]:
        items = [x for x in self.d.refs[kind].values() if include_inactive or x.active]
        return sorted(items, key=lambda x: getattr(x, key))

    def departments(self, include_inactive: bool = False) -> list[Department]:
        return self._all(Department, "code", include_inactive)

    def customers(self, include_inactive: bool = False) -> list[Customer]:
        return self._all(Customer, "name", include_inactive)

    def products(self, include_inactive: bool = False) -> list[Product]:
        return self._all(Product, "code", include_inactive)

    def defect_types(self, include_inactive: bool = False) -> list[DefectType]:
        return self._all(DefectType, "code", include_inactive)

    def add(self, item: Ref) -> int:
        new_id = self.d.new_id(type(item).__name__)
        self.d.refs[type(item)][new_id] = replace(item, id=new_id)
        return new_id

    def update(self, item: Ref) -> None:
        table = self.d.refs[type(item)]
        if item.id not in table:
            raise KeyError(item.id)
        table[item.id] = item


class FakeComplaints:
    def __init__(self, d: Data) -> None:
        self.d = d

    def get(self, complaint_id: int) -> Complaint | None:
        c = self.d.complaints.get(complaint_id)
        return copy.copy(c) if c else None  # callers must not edit the stored row in place

    def by_number(self, number: str) -> Complaint | None:
        c = next((c for c in self.d.complaints.values() if c.number == number), None)
        return copy.copy(c) if c else None

    def next_serial(self, period: str) -> int:
        self.d.counters[period] = self.d.counters.get(period, 0) + 1
        return self.d.counters[period]

    def raise_serial(self, period: str, serial: int) -> None:
        self.d.counters[period] = max(self.d.counters.get(period, 0), serial)

    def numbers_taken(self, numbers: Sequence[str]) -> set[str]:
        wanted = set(numbers)
        return {c.number for c in self.d.complaints.values() if c.number in wanted}

    def add(self, complaint: Complaint) -> int:
        if self.by_number(complaint.number) is not None:
            raise ValueError("unique constraint: number")
        cid = self.d.new_id("complaints")
        self.d.complaints[cid] = replace(complaint, id=cid)
        return cid

    def save(self, complaint: Complaint, expected_version: int) -> None:
        assert complaint.id is not None
        cur = self.d.complaints.get(complaint.id)
        if cur is None or cur.version != expected_version:
            who = self.d.users.get(cur.updated_by_id) if cur and cur.updated_by_id else None
            raise StaleCase(who=who.display_name if who else "?",
                            at=cur.updated_at if cur else None)
        self.d.complaints[complaint.id] = copy.copy(complaint)

    def duplicate_candidates(self, customer_id: int, order_no: str, product_code: str,
                             defect_type_id: int | None, since: datetime) -> list[Candidate]:
        def hit(c: Complaint) -> bool:
            same_order = (bool(order_no) and c.customer_id == customer_id
                          and c.order_no.lower() == order_no.lower())
            same_issue = (bool(product_code) and defect_type_id is not None
                          and c.product_code.lower() == product_code.lower()
                          and c.defect_type_id == defect_type_id and c.received_at >= since)
            return c.state != State.CANCELLED and (same_order or same_issue)

        found = sorted((c for c in self.d.complaints.values() if hit(c)),
                       key=lambda c: c.received_at, reverse=True)[:20]
        return [Candidate(c.id or 0, c.number, c.customer_id, c.order_no, c.product_code,
                          c.defect_type_id, c.received_at) for c in found]


    def closed_without_days(self, limit: int) -> list[Complaint]:
        hits = [c for c in self.d.complaints.values()
                if c.state == State.CLOSED and c.closed_at is not None and c.close_wd is None]
        return sorted(hits, key=lambda c: c.id or 0)[:limit]

    def due_before(self, at: datetime, limit: int = 5000, offset: int = 0) -> list[Complaint]:
        hits = [c for c in self.d.complaints.values()
                if c.state.is_open and c.due_at is not None and c.due_at <= at]
        return sorted(hits, key=lambda c: (c.due_at or at, c.id or 0))[offset:offset + limit]

    def count_same_issue(self, product_code: str, defect_type_id: int, severity: Severity,
                         since: datetime, until: datetime) -> int:
        return sum(1 for c in self.d.complaints.values()
                   if c.product_code.lower() == product_code.lower()
                   and c.defect_type_id == defect_type_id
                   and (c.severity or c.severity_proposed) == severity
                   and since <= c.received_at <= until and c.state != State.CANCELLED)


class FakeRecords:
    """CAPA, containment, dispositions, costs, approval steps, meetings, assessments,
    delegations: one dict per type, like one table each."""

    def __init__(self, d: Data) -> None:
        self.d = d

    def _table(self, kind: type) -> dict[int, Any]:
        return self.d.records.setdefault(kind, {})

    def add(self, item: Any) -> int:
        new_id = self.d.new_id(type(item).__name__)
        self._table(type(item))[new_id] = replace(item, id=new_id)
        return new_id

    def update(self, item: Any) -> None:
        table = self._table(type(item))
        if item.id not in table:
            raise KeyError(item.id)
        table[item.id] = item

    def get(self, kind: type[T], item_id: int) -> T | None:
        return self._table(kind).get(item_id)

    def where(self, kind: type[T], **equals: Any) -> list[T]:
        rows = sorted(self._table(kind).items())
        return [x for _, x in rows if all(getattr(x, k) == v for k, v in equals.items())]

    def of_cases(self, kind: type[T], complaint_ids: Collection[int]) -> list[T]:
        ids = set(complaint_ids)
        return [x for _, x in sorted(self._table(kind).items()) if x.complaint_id in ids]

    def where_case_in(self, kind: type[T], states: Collection[State], **equals: Any
                      ) -> list[T]:
        cases = self.d.complaints
        return [x for x in self.where(kind, **equals)
                if (c := cases.get(_case_id(x))) is not None and c.state in states]


def _case_id(record: Any) -> int:
    """The case a record belongs to (every record type has `complaint_id`)."""
    return int(record.complaint_id)


class FakeNotifications:
    def __init__(self, d: Data) -> None:
        self.d = d

    def _rows(self) -> dict[int, Notification]:
        return self.d.records.setdefault(Notification, {})

    def add(self, user_id: int, complaint_id: int | None, kind: str, params: dict[str, Any],
            at: datetime) -> int:
        nid = self.d.new_id("notifications")
        self._rows()[nid] = Notification(nid, user_id, complaint_id, kind, dict(params), at)
        return nid

    def for_user(self, user_id: int, limit: int = 200) -> list[Notification]:
        rows = [n for n in self._rows().values() if n.user_id == user_id]
        return sorted(rows, key=lambda n: n.id, reverse=True)[:limit]

    def unread_count(self, user_id: int) -> int:
        return sum(1 for n in self._rows().values() if n.user_id == user_id and not n.read_at)

    def mark_read(self, user_id: int, ids: Sequence[int] | None, at: datetime) -> int:
        n = 0
        for nid, x in list(self._rows().items()):
            if x.user_id == user_id and x.read_at is None and (ids is None or nid in ids):
                self._rows()[nid] = replace(x, read_at=at)
                n += 1
        return n

    def created_between(self, user_id: int, start: datetime, end: datetime
                        ) -> list[Notification]:
        return sorted((n for n in self._rows().values()
                       if n.user_id == user_id and start <= n.created_at < end),
                      key=lambda n: n.id)


class FakeOutbox:
    def __init__(self, d: Data) -> None:
        self.d = d

    def add(self, message: Message, at: datetime) -> bool:
        if any(i.message.key == message.key for i in self.d.outbox.values()):
            return False
        oid = self.d.new_id("outbox")
        self.d.outbox[oid] = OutboxItem(oid, message, "pending", 0, at, "", at)
        return True

    def due(self, now: datetime, limit: int = 50) -> list[OutboxItem]:
        hits = [i for i in self.d.outbox.values()
                if i.status == "pending" and i.next_try_at <= now]
        return sorted(hits, key=lambda i: (i.next_try_at, i.id))[:limit]

    def claim(self, item_id: int, attempts: int, until: datetime) -> bool:
        i = self.d.outbox.get(item_id)
        if i is None or i.status != "pending" or i.attempts != attempts:
            return False
        self.d.outbox[item_id] = replace(i, attempts=attempts + 1, next_try_at=until)
        return True

    def mark_sent(self, item_id: int, at: datetime) -> None:
        self.d.outbox[item_id] = replace(self.d.outbox[item_id], status="sent", sent_at=at)

    def mark_failed(self, item_id: int, error: str, next_try_at: datetime | None) -> None:
        i = self.d.outbox[item_id]
        self.d.outbox[item_id] = (replace(i, status="failed", last_error=error)
                                  if next_try_at is None
                                  else replace(i, last_error=error, next_try_at=next_try_at))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.d.outbox.values():
            out[i.status] = out.get(i.status, 0) + 1
        return out

    def recent(self, statuses: Sequence[str], limit: int = 20) -> list[OutboxItem]:
        hits = [i for i in self.d.outbox.values() if i.status in statuses]
        return sorted(hits, key=lambda i: i.id, reverse=True)[:limit]

    def retry_failed(self, now: datetime) -> int:
        failed = [i for i in self.d.outbox.values() if i.status == "failed"]
        for i in failed:
            self.d.outbox[i.id] = replace(i, status="pending", attempts=0, next_try_at=now)
        return len(failed)


class FakeEscalations:
    def __init__(self, d: Data) -> None:
        self.d = d

    def fired(self, complaint_id: int) -> set[tuple[str, datetime, int]]:
        return {(step, started, level) for (cid, step, started, level) in self.d.escalations
                if cid == complaint_id}

    def add(self, complaint_id: int, step: str, started: datetime, level: int,
            at: datetime) -> bool:
        key = (complaint_id, step, started, level)
        if key in self.d.escalations:
            return False
        self.d.escalations[key] = at
        return True


class FakeLeases:
    def __init__(self, d: Data) -> None:
        self.d = d

    def acquire(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        cur = self.d.leases.get(name)
        if cur is not None and cur[0] != holder and cur[1] > now:
            return False
        self.d.leases[name] = (holder, until)
        return True

    def release(self, name: str, holder: str, now: datetime) -> None:
        cur = self.d.leases.get(name)
        if cur is not None and cur[0] == holder:
            self.d.leases[name] = (holder, now)


class FakeEvents:
    def __init__(self, d: Data) -> None:
        self.d = d

    def add(self, event: Event) -> int:
        eid = self.d.new_id("events")
        self.d.events.append(replace(event, id=eid, changes=copy.deepcopy(event.changes)))
        return eid

    def for_complaint(self, complaint_id: int) -> list[Event]:
        found = [e for e in self.d.events if e.complaint_id == complaint_id]
        return sorted(found, key=lambda e: (e.at, e.id or 0))


class FakeAttachments:
    def __init__(self, d: Data) -> None:
        self.d = d

    def add(self, attachment: Attachment) -> int:
        aid = self.d.new_id("attachments")
        self.d.attachments[aid] = replace(attachment, id=aid)
        return aid

    def for_complaint(self, complaint_id: int) -> list[Attachment]:
        return [a for _, a in sorted(self.d.attachments.items()) if a.complaint_id == complaint_id]

    def for_complaints(self, complaint_ids: Collection[int]) -> list[Attachment]:
        ids = set(complaint_ids)
        return [a for _, a in sorted(self.d.attachments.items()) if a.complaint_id in ids]

    def get(self, attachment_id: int) -> Attachment | None:
        return self.d.attachments.get(attachment_id)

    def many(self, attachment_ids: Collection[int]) -> list[Attachment]:
        ids = set(attachment_ids)
        return [a for i, a in sorted(self.d.attachments.items()) if i in ids]


class FakeSettings:
    """Stores JSON text, as the settings table does, so unserialisable values fail here too."""

    def __init__(self, d: Data) -> None:
        self.d = d

    def get(self, key: str) -> Any | None:
        text = self.d.settings.get(key)
        return json.loads(text) if text is not None else None

    def set(self, key: str, value: Any) -> None:
        self.d.settings[key] = json.dumps(value, ensure_ascii=False, default=str)


# ---------------------------------------------------------------- unit of work


class FakeUnitOfWork:
    """Copy-on-enter: the block works on a private copy; commit() publishes it."""

    # Typed as the ports: Protocol attributes are invariant, so FakeUsers would not match.
    users: UserRepo
    ref: RefRepo
    complaints: ComplaintRepo
    events: EventRepo
    attachments: AttachmentRepo
    settings: SettingRepo
    records: RecordRepo
    notifications: NotificationRepo
    outbox: OutboxRepo
    escalations: EscalationRepo
    leases: LeaseRepo

    def __init__(self, db: FakeDatabase, write: bool) -> None:
        self.db, self.write = db, write

    def __enter__(self) -> FakeUnitOfWork:
        self.data = copy.deepcopy(self.db.data)
        d = self.data
        self.users, self.ref, self.complaints = FakeUsers(d), FakeRef(d), FakeComplaints(d)
        self.sessions: SessionRepo = FakeSessions(d)
        self.security_log: SecurityLogRepo = FakeSecurityLog(d)
        self.events, self.attachments, self.settings = (
            FakeEvents(d), FakeAttachments(d), FakeSettings(d))
        self.records = FakeRecords(d)
        self.notifications = FakeNotifications(d)
        self.outbox, self.escalations, self.leases = (
            FakeOutbox(d), FakeEscalations(d), FakeLeases(d))
        self.reads = FakeReads(d, self.db.register_filters)
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True  # rollback: the private copy is simply never published

    def commit(self) -> None:
        if not self.write:
            raise AssertionError("commit() in a read-only unit of work")
        self.db.data = copy.deepcopy(self.data)
        self.db.commits += 1


class FakeDatabase:
    """The UowFactory: `db(write=True)` opens a unit of work on the shared data."""

    def __init__(self) -> None:
        self.data = Data()
        self.commits = 0
        self.register_filters: list[RegisterFilter] = []  # what the register was asked

    def __call__(self, write: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, write)


# ---------------------------------------------------------------- the rest of the ports


class FakeBlobs:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.files[sha] = bytes(data)
        return sha

    def get(self, sha256: str) -> bytes:
        return self.files[sha256]


class FakeHasher:
    """Reversible on purpose: tests can see what was stored. Never use outside tests."""

    def hash(self, password: str) -> str:
        return "h:" + password

    def check(self, password: str, hashed: str) -> bool:
        return hashed in ("h:" + password, "old:" + password)  # "old:": an older cost's

    def needs_rehash(self, hashed: str) -> bool:
        return not hashed.startswith("h:")


class FakeSender:
    """The Sender port: keeps what it was asked to send; `down` makes it fail like a server
    that does not answer."""

    def __init__(self) -> None:
        self.sent: list[tuple[Message, ChannelConfig]] = []
        self.down = ""  # the error to raise, or "" to deliver

    def send(self, message: Message, config: ChannelConfig) -> str:
        if self.down:
            raise DeliveryFailed(self.down)
        if not config.enabled(message.channel):
            raise DeliveryFailed(f"{message.channel} is not configured")
        self.sent.append((message, config))
        return "250 OK fake"


class FakeStats:
    """Stats are aggregated by SQL and tested on both real databases
    (tests/integration/test_stats_db.py); in memory only the service around them is tested,
    so this fake reports an empty year with the right version."""

    def __init__(self, d: Data) -> None:
        self.d = d

    def version(self) -> int:
        return max((e.id or 0 for e in self.d.events), default=0)

    def headline(self, q: StatsQuery) -> Headline:
        return Headline()

    def on_time(self, q: StatsQuery) -> list[OnTime]:
        return []

    def breakdown(self, q: StatsQuery, dimension: str) -> list[Bar]:
        return []

    def monthly(self, q: StatsQuery, months: list[str]) -> list[tuple[str, str, int]]:
        return []

    def ageing(self, q: StatsQuery, buckets: tuple[int, ...]) -> list[tuple[int, str, int]]:
        return []

    def recurrences(self, q: StatsQuery, days: int, minimum: int) -> list[Recurrence]:
        return []

    def cost(self, q: StatsQuery, months: list[str]
             ) -> list[tuple[str, str, str, str, Decimal]]:
        return []

    def open_severe(self, q: StatsQuery) -> list[MeetingCase]:
        return []


# ---------------------------------------------------------------- read models


class FakeRegister:
    """The register search is a SQL read model, tested on both databases
    (tests/integration/test_reads.py); in memory it is not imitated. This one keeps the filters
    the use cases hand it (what the use case decides: bounds, local days as instants, the
    clock) and finds nothing."""

    def __init__(self, asked: list[RegisterFilter]) -> None:
        self.asked = asked

    def search(self, flt: RegisterFilter) -> tuple[list[RegisterRow], int]:
        self.asked.append(flt)
        return [], 0

    def page(self, flt: RegisterFilter) -> RegisterPage:
        self.asked.append(flt)
        return RegisterPage([], 0)

    def ids(self, flt: RegisterFilter, limit: int) -> list[int]:
        self.asked.append(flt)
        return []

    def lines(self, ids: Sequence[int]) -> list[RegisterLine]:
        return []


class FakeCases:
    """Cases by state: a plain filter over the stored cases (no search semantics)."""

    def __init__(self, d: Data) -> None:
        self.d = d

    def in_states(self, states: Sequence[State], limit: int = 5000,
                  ids: Collection[int] | None = None) -> list[Complaint]:
        hits = [c for c in self.d.complaints.values() if c.state in states
                and (ids is None or c.id in ids)]
        return sorted(hits, key=lambda c: c.received_at, reverse=True)[:limit]

    def _waiting(self, state: State, kinds: Collection[Kind] | None,
                 department_id: int | None, not_on_hold: bool) -> list[Complaint]:
        # record-level visibility (`scope`) only narrows what My Tasks checks case by case
        return [c for c in self.d.complaints.values() if c.state == state
                and (kinds is None or c.kind in kinds)
                and (department_id is None or c.responsible_department_id == department_id)
                and not (not_on_hold and c.on_hold_since)]

    def waiting(self, state: State, order: str, offset: int, limit: int, *,
                kinds: Collection[Kind] | None = None, department_id: int | None = None,
                not_on_hold: bool = False, scope: Scope | None = None) -> list[Complaint]:
        hits = self._waiting(state, kinds, department_id, not_on_hold)
        if order == "due":
            hits = sorted((c for c in hits if c.due_at),
                          key=lambda c: (c.due_at, c.received_at, c.id or 0))
        elif order == "received":
            hits = sorted(hits, key=lambda c: (c.received_at, c.id or 0))
        else:
            hits = sorted((c for c in hits if c.due_at is None),
                          key=lambda c: (c.updated_at or c.received_at, c.id or 0), reverse=True)
        return hits[offset:offset + limit]

    def count_waiting(self, asks: Sequence[tuple[State, Collection[Kind] | None, int | None,
                                                  bool]],
                      cap: int, *, scope: Scope | None = None) -> list[dict[Kind, int]]:
        out: list[dict[Kind, int]] = []
        for state, kinds, department_id, not_on_hold in asks:
            out.append({})
            for c in self._waiting(state, kinds, department_id, not_on_hold)[:cap]:
                out[-1][c.kind] = out[-1].get(c.kind, 0) + 1
        return out


class FakeChanges:
    def __init__(self, d: Data) -> None:
        self.d = d

    def since(self, event_id: int, limit: int) -> tuple[int, set[int]]:
        newest = max((e.id or 0 for e in self.d.events), default=0)
        if event_id < 0:
            return newest, set()
        ids = sorted({e.complaint_id for e in self.d.events if (e.id or 0) > event_id})
        return newest, set(ids[:limit + 1])


class FakeReads:
    def __init__(self, d: Data, asked: list[RegisterFilter]) -> None:
        self.register, self.cases = FakeRegister(asked), FakeCases(d)
        self.changes, self.stats = FakeChanges(d), FakeStats(d)


class FakeClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _days(*spans: str) -> frozenset[date]:
    """'2025-10-01~2025-10-08' or '2025-09-28' -> the dates, inclusive."""
    out: set[date] = set()
    for span in spans:
        first, _, last = span.partition("~")
        d, end = date.fromisoformat(first), date.fromisoformat(last or first)
        while d <= end:
            out.add(d)
            d += timedelta(days=1)
    return frozenset(out)


class FakeHolidays:
    """A HolidaySource with the real official schedules of 2025 and 2026 (国务院办公厅通知),
    as the chinese-calendar package has them; no other year is known."""

    OFF = _days("2025-01-01", "2025-01-28~2025-02-04", "2025-04-04~2025-04-06",
                "2025-05-01~2025-05-05", "2025-05-31~2025-06-02", "2025-10-01~2025-10-08",
                "2026-01-01~2026-01-03", "2026-02-15~2026-02-23", "2026-04-04~2026-04-06",
                "2026-05-01~2026-05-05", "2026-06-19~2026-06-21", "2026-09-25~2026-09-27",
                "2026-10-01~2026-10-07")
    MAKEUP = _days("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
                   "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
                   "2026-10-10")

    def official(self) -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
        return self.OFF, self.MAKEUP, frozenset({2025, 2026})


def use_case(name: str) -> Any:
    """The use case of that name, whichever topic module holds it (for tests that walk a case
    through actions named in a table)."""
    from core import usecases as uc
    found = [getattr(m, name) for m in (uc.investigation, uc.approval, uc.closure, uc.timing,
                                       uc.complaints, uc.accounts, uc.worklists, uc.meetings,
                                       uc.search)
             if hasattr(m, name)]
    assert len(found) == 1, name
    return found[0]
