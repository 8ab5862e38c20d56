"""Use cases. Each one loads, checks, calls the domain, and commits (docs/architecture.md §3).

Every service takes the acting user (re-read from the database, so a deactivated user or a
stale session can do nothing) and plain values, and returns plain values or domain objects.
"""
from __future__ import annotations

import dataclasses
import enum
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from core import settings as settings_mod
from core.errors import AccountLocked, InvalidInput, LoginFailed, NotAllowed, NotFound
from core.model import (
    Attachment, CaseFile, Category, Channel, Complaint, Customer, DefectType, Department,
    Event, Kind, Lang, Product, RegisterFilter, RegisterRow, Request, Role, Severity,
    State, Title, User, WhereFound,
)
from core.channels import Channels
from core.importing import Importing
from core.documents import Documents
from core.lifecycle import Lifecycle
from core.stats import Stats
from core.timing import Timing
from core.outbox import EMAIL
from core.ports import (
    BlobStore, Clock, HolidaySource, PasswordHasher, Sender, UnitOfWork, UowFactory,
)
from core.rules import lockout, numbering
from core.rules.severity import Candidate, duplicate_reason

MAX_TEXT = 5000
MAX_SHORT = 100
MAX_PASSWORD_BYTES = 72  # bcrypt's limit
MIN_PASSWORD = 8
SESSIONS_ENDED = "sessions_ended:{}"  # setting per user id: when they last logged out
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
USERNAME = re.compile(r"^[a-z0-9_.-]{2,32}$")
CASE_ROLES = (Role.SALES, Role.QA, Role.PRODUCTION, Role.FINANCE, Role.MANAGEMENT)
EDIT_ROLES = (Role.SALES, Role.QA, Role.MANAGEMENT)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class ComplaintDraft:
    """What the Log page sends; values already typed by the form widgets."""

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


@dataclass(frozen=True)
class Duplicate:
    id: int
    number: str
    reason: str  # "same_order" | "same_issue"


@dataclass(frozen=True)
class ComplaintView:
    complaint: Complaint
    events: list[Event]
    attachments: list[Attachment]
    customer: Customer | None
    defect_type: DefectType | None
    received_by: str
    can_edit: bool
    can_cancel: bool


@dataclass(frozen=True)
class UserInput:
    username: str
    display_name: str
    roles: frozenset[Role]
    department_id: int | None = None
    approval_level: int = 0
    title: Title = Title.NONE
    language: Lang = Lang.ZH
    active: bool = True
    email: str = ""


@dataclass
class Kesu(Channels, Timing, Importing, Lifecycle, Stats, Documents):
    """The application: services wired to a unit-of-work factory, blob store, hasher and clock
    (and, for the optional notification channels, a sender)."""

    uow: UowFactory
    blobs: BlobStore
    hasher: PasswordHasher
    clock: Clock = field(default=utcnow)
    holidays: HolidaySource | None = None
    sender: Sender | None = None

    # ------------------------------------------------------------ helpers

    def _actor(self, uow: UnitOfWork, actor: User) -> User:
        fresh = uow.users.get(actor.id)
        if fresh is None or not fresh.active:
            raise NotAllowed("err.inactive_user")
        return fresh

    def _require(self, user: User, *roles: Role) -> None:
        if not user.has(*roles):
            raise NotAllowed("err.role_required", roles=",".join(r.value for r in roles))

    def settings(self) -> settings_mod.Settings:
        with self.uow() as uow:
            return self._settings(uow)

    def _settings(self, uow: UnitOfWork) -> settings_mod.Settings:
        return settings_mod.build({k: uow.settings.get(k) for k in settings_mod.DEFAULTS})

    # ------------------------------------------------------------ logins

    def needs_first_admin(self) -> bool:
        with self.uow() as uow:
            return uow.users.count() == 0

    def create_first_admin(self, username: str, display_name: str, password: str) -> User:
        """The one-time set-up screen: only while there is no user at all."""
        with self.uow(write=True) as uow:
            if uow.users.count() > 0:
                raise NotAllowed("err.already_set_up")
            user = self._new_user(uow, UserInput(username, display_name, frozenset({Role.ADMIN})),
                                  password)
            uow.commit()
            return user

    def authenticate(self, username: str, password: str) -> User:
        """Check a login; count failures; lock after 5 in 15 minutes (docs/procedure.md §11)."""
        name = username.strip().lower()
        now = self.clock()
        with self.uow(write=True) as uow:
            until = self._locked_until(uow, name, now)
            if until is not None:
                raise AccountLocked(minutes=_minutes_left(until, now))
            # a name no account can have (control characters, quotes, wildcards...) is simply
            # wrong: it is not looked up
            user = uow.users.by_username(name) if USERNAME.match(name) else None
            ok = (user is not None and user.active and bool(password)
                  and self.hasher.check(password.strip(), uow.users.password_hash(user.id)))
            uow.users.add_login_attempt(name, now, ok)
            uow.commit()
            if not ok or user is None:
                until = self._locked_until(uow, name, now)
                if until is not None:
                    raise AccountLocked(minutes=_minutes_left(until, now))
                raise LoginFailed()
            return user

    def _locked_until(self, uow: UnitOfWork, name: str, now: datetime) -> datetime | None:
        since = now - lockout.WINDOW - lockout.LOCK_FOR
        return lockout.locked_until(uow.users.failures_since(name, since), now,
                                    uow.users.unlocked_at(name))

    def is_locked(self, username: str) -> bool:
        with self.uow() as uow:
            return self._locked_until(uow, username.strip().lower(), self.clock()) is not None

    def unlock_user(self, actor: User, username: str) -> None:
        with self.uow(write=True) as uow:
            self._require(self._actor(uow, actor), Role.ADMIN)
            uow.users.set_unlocked_at(username.strip().lower(), self.clock())
            uow.commit()

    def session_user(self, username: str, issued_at: datetime | None = None) -> User | None:
        """The user a login cookie stands for, or None if it no longer may log in.

        A cookie issued before the last password change, or for a deactivated user, is refused.
        """
        name = username.strip().lower()
        if not USERNAME.match(name):
            return None
        with self.uow() as uow:
            user = uow.users.by_username(name)
            if user is None or not user.active:
                return None
            changed = uow.users.password_changed_at(user.id)
            if issued_at is not None and changed is not None and issued_at < changed:
                return None
            ended = uow.settings.get(SESSIONS_ENDED.format(user.id))
            if issued_at is not None and ended and issued_at < datetime.fromisoformat(ended):
                return None  # issued before the user logged out: a copied cookie
            return user

    def end_sessions(self, actor: User) -> None:
        """Log out: every login cookie this user holds now is refused from now on, so a copy
        of the cookie cannot be replayed (their other browsers log in again too)."""
        with self.uow(write=True) as uow:
            me = uow.users.get(actor.id)
            if me is None:
                raise NotAllowed("err.inactive_user")
            uow.settings.set(SESSIONS_ENDED.format(me.id), self.clock().isoformat())
            uow.commit()

    def change_password(self, actor: User, old: str, new: str) -> None:
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            if not self.hasher.check(old.strip(), uow.users.password_hash(me.id)):
                raise InvalidInput("err.old_password_wrong")
            uow.users.set_password(me.id, self._hash_new(new), self.clock())
            uow.commit()

    def reset_password(self, actor: User, user_id: int, new: str) -> None:
        with self.uow(write=True) as uow:
            self._require(self._actor(uow, actor), Role.ADMIN)
            if uow.users.get(user_id) is None:
                raise NotFound()
            uow.users.set_password(user_id, self._hash_new(new), self.clock())
            uow.commit()

    def _hash_new(self, password: str) -> str:
        pw = password.strip()
        if len(pw) < MIN_PASSWORD:
            raise InvalidInput("err.password_short", n=MIN_PASSWORD)
        if len(pw.encode()) > MAX_PASSWORD_BYTES:
            raise InvalidInput("err.password_long", n=MAX_PASSWORD_BYTES)
        return self.hasher.hash(pw)

    def set_language(self, actor: User, lang: Lang) -> None:
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            uow.users.update(dataclasses.replace(me, language=lang))
            uow.commit()

    # ------------------------------------------------------------ users (admin)

    def list_active_users(self) -> list[User]:
        """Who may log in (for the login cookie machinery; no password hashes)."""
        with self.uow() as uow:
            return [u for u in uow.users.list() if u.active]

    def list_users(self, actor: User) -> list[User]:
        with self.uow() as uow:
            self._actor(uow, actor)
            return uow.users.list()

    def create_user(self, actor: User, data: UserInput, password: str) -> User:
        with self.uow(write=True) as uow:
            self._require(self._actor(uow, actor), Role.ADMIN)
            user = self._new_user(uow, data, password)
            uow.commit()
            return user

    def _new_user(self, uow: UnitOfWork, data: UserInput, password: str) -> User:
        name = data.username.strip().lower()
        if not USERNAME.match(name):
            raise InvalidInput("err.username_format")
        if uow.users.by_username(name) is not None:
            raise InvalidInput("err.username_taken", name=name)
        self._check_user(uow, data)
        user = User(0, name, data.display_name.strip(), data.roles, data.department_id,
                    data.approval_level, data.title, data.active, data.language,
                    data.email.strip())
        uid = uow.users.add(user, self._hash_new(password))
        return dataclasses.replace(user, id=uid)

    def _check_user(self, uow: UnitOfWork, data: UserInput) -> None:
        if not data.display_name.strip() or len(data.display_name) > MAX_SHORT:
            raise InvalidInput("err.required", field="display_name")
        if not data.roles:
            raise InvalidInput("err.required", field="roles")
        if not 0 <= data.approval_level <= 3:
            raise InvalidInput("err.approval_level")
        if data.department_id is not None and data.department_id not in {
                d.id for d in uow.ref.departments(include_inactive=True)}:
            raise InvalidInput("err.unknown", field="department")
        email = data.email.strip()
        if email and (len(email) > MAX_SHORT * 2 or not EMAIL.match(email)):
            raise InvalidInput("err.email_format")

    def update_user(self, actor: User, user_id: int, data: UserInput) -> User:
        """Roles, department, level, title, name, language, active, e-mail. Users are never
        deleted."""
        with self.uow(write=True) as uow:
            me = self._require_admin(uow, actor)
            old = uow.users.get(user_id)
            if old is None:
                raise NotFound()
            self._check_user(uow, data)
            if me.id == user_id and (not data.active or Role.ADMIN not in data.roles):
                raise InvalidInput("err.cannot_demote_self")
            new = dataclasses.replace(
                old, display_name=data.display_name.strip(), roles=data.roles,
                department_id=data.department_id, approval_level=data.approval_level,
                title=data.title, language=data.language, active=data.active,
                email=data.email.strip())
            uow.users.update(new)
            uow.commit()
            return new

    def _require_admin(self, uow: UnitOfWork, actor: User) -> User:
        me = self._actor(uow, actor)
        self._require(me, Role.ADMIN)
        return me

    # ------------------------------------------------------------ reference data

    def departments(self, include_inactive: bool = False) -> list[Department]:
        with self.uow() as uow:
            return uow.ref.departments(include_inactive)

    def customers(self, include_inactive: bool = False) -> list[Customer]:
        with self.uow() as uow:
            return uow.ref.customers(include_inactive)

    def products(self, include_inactive: bool = False) -> list[Product]:
        with self.uow() as uow:
            return uow.ref.products(include_inactive)

    def defect_types(self, include_inactive: bool = False) -> list[DefectType]:
        with self.uow() as uow:
            return uow.ref.defect_types(include_inactive)

    def save_reference(self, actor: User, item: Department | Customer | Product | DefectType
                       ) -> int:
        """Add (id 0) or update a department, customer, product or defect type.

        Admin may do all; anyone who logs complaints may add a customer inline.
        """
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            if not (me.is_admin or (isinstance(item, Customer) and item.id == 0
                                    and me.has(*CASE_ROLES))):
                raise NotAllowed("err.role_required", roles="admin")
            self._check_reference(uow, item)
            if item.id == 0:
                new_id = uow.ref.add(item)
            else:
                uow.ref.update(item)
                new_id = item.id
            uow.commit()
            return new_id

    def _check_reference(self, uow: UnitOfWork, item: Any) -> None:
        text_fields = [f.name for f in dataclasses.fields(item)
                       if isinstance(getattr(item, f.name), str)]
        for name in text_fields:
            if len(getattr(item, name)) > (MAX_TEXT if name == "address" else MAX_SHORT * 2):
                raise InvalidInput("err.too_long", field=name)
        existing: list[Any]
        if isinstance(item, Customer):
            existing = uow.ref.customers(include_inactive=True)
            key, label = item.name.strip(), "name"
            if item.email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", item.email):
                raise InvalidInput("err.email_format")
        elif isinstance(item, Product):
            existing = uow.ref.products(include_inactive=True)
            key, label = item.code.strip(), "code"
        elif isinstance(item, DefectType):
            existing = uow.ref.defect_types(include_inactive=True)
            key, label = item.code.strip(), "code"
            if not item.name_zh.strip() or not item.name_en.strip():
                raise InvalidInput("err.required", field="name")
        else:
            existing = uow.ref.departments(include_inactive=True)
            key, label = item.code.strip(), "code"
            if not item.name_zh.strip() or not item.name_en.strip():
                raise InvalidInput("err.required", field="name")
        if not key:
            raise InvalidInput("err.required", field=label)
        for other in existing:
            if other.id != item.id and getattr(other, label).strip().lower() == key.lower():
                raise InvalidInput("err.duplicate_value", value=key)

    # ------------------------------------------------------------ settings (admin)

    def set_settings(self, actor: User, values: dict[str, Any]) -> None:
        """Validate every value first, then store them all (nothing half-saved)."""
        with self.uow(write=True) as uow:
            self._require_admin(uow, actor)
            stored = {}
            for key, value in values.items():
                try:
                    stored[key] = settings_mod.validate(key, value)
                except (ValueError, InvalidOperation, TypeError) as e:
                    raise InvalidInput("err.setting_invalid", field=key, why=str(e)) from e
            for key, value in stored.items():
                uow.settings.set(key, value)
            if stored.keys() & {"work_start", "work_end", "timezone"}:
                self._refresh_due_times(uow)  # working hours moved: so do the due times
            uow.commit()

    # ------------------------------------------------------------ complaints

    def find_duplicates(self, actor: User, draft: ComplaintDraft,
                        exclude_id: int | None = None) -> list[Duplicate]:
        """Likely duplicates of a draft, for the warning before saving (docs/procedure.md §4)."""
        if draft.customer_id is None:
            return []
        received = draft.received_at or self.clock()
        with self.uow() as uow:
            self._actor(uow, actor)
            cands: list[Candidate] = uow.complaints.duplicate_candidates(
                draft.customer_id, draft.order_no.strip(), draft.product_code.strip(),
                draft.defect_type_id, received - timedelta(days=30))
        out = []
        for c in cands:
            if c.id == exclude_id:
                continue
            why = duplicate_reason(draft.customer_id, draft.order_no, draft.product_code,
                                   draft.defect_type_id, received, c)
            if why:
                out.append(Duplicate(c.id, c.number, why))
        return out

    def register_complaint(self, actor: User, draft: ComplaintDraft,
                           uploads: Sequence[Upload] = ()) -> Complaint:
        """Log a complaint (anyone logged in — 首问负责); returns it with its new number."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            self._require(me, *CASE_ROLES)
            cfg = self._settings(uow)
            values = self._validated(uow, draft, now)
            checked = [self._check_upload(u, cfg) for u in uploads]
            period = numbering.period_of(values["received_at"], cfg.tz)
            number = numbering.format_number(period, uow.complaints.next_serial(period))
            c = Complaint(id=None, number=number, received_by_id=me.id, created_at=now,
                          updated_at=now, updated_by_id=me.id, **values)
            c.due_at, c.due_step = self._due(uow, CaseFile(c), [], now)
            c.id = uow.complaints.add(c)
            uow.events.add(Event(None, c.id, now, me.id, "registered",
                                 {k: [None, _show(v)] for k, v in values.items()
                                  if v is not None and v != "" and v is not False}))
            self._store_uploads(uow, me, c.id, checked, now)
            uow.commit()
            return c

    def update_complaint(self, actor: User, complaint_id: int, expected_version: int,
                         draft: ComplaintDraft, comment: str = "") -> Complaint:
        """Edit the logged facts; one event lists every changed field, old and new."""
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            case = self._case_file(uow, complaint_id)
            c = case.complaint
            if not self._may_edit(me, c):
                raise NotAllowed("err.cannot_edit", state=c.state.value)
            self._check_version(uow, case, expected_version)
            values = self._validated(uow, draft, now, keep_received=c.received_at)
            changes = {k: [_show(getattr(c, k)), _show(v)] for k, v in values.items()
                       if getattr(c, k) != v}
            if not changes:
                raise InvalidInput("err.nothing_changed")
            # through _touch: a changed fact can open or move a time limit (returned goods)
            new = self._touch(uow, case, me, now, "edited", changes,
                              comment.strip()[:MAX_TEXT], values=values)
            uow.commit()
            return new

    def cancel_complaint(self, actor: User, complaint_id: int, expected_version: int,
                         reason: str) -> Complaint:
        """撤销: sales before investigation starts, management any time; the case stays visible."""
        return self.cancel(actor, complaint_id, expected_version, reason)

    def add_attachments(self, actor: User, complaint_id: int, uploads: Sequence[Upload]) -> int:
        now = self.clock()
        with self.uow(write=True) as uow:
            me = self._actor(uow, actor)
            c = self._get(uow, complaint_id)
            if not self._may_edit(me, c):
                raise NotAllowed("err.cannot_edit", state=c.state.value)
            if not uploads:
                raise InvalidInput("err.required", field="attachments")
            cfg = self._settings(uow)
            checked = [self._check_upload(u, cfg) for u in uploads]
            self._store_uploads(uow, me, complaint_id, checked, now)
            uow.commit()
            return len(checked)

    def complaint(self, actor: User, complaint_id: int) -> ComplaintView:
        with self.uow() as uow:
            me = self._actor(uow, actor)
            c = self._get(uow, complaint_id)
            names = {u.id: u.display_name for u in uow.users.list()}
            events = [dataclasses.replace(e, user_name=names.get(e.user_id, "?"))
                      for e in uow.events.for_complaint(complaint_id)]
            customers = {x.id: x for x in uow.ref.customers(include_inactive=True)}
            defects = {x.id: x for x in uow.ref.defect_types(include_inactive=True)}
            return ComplaintView(
                c, events, uow.attachments.for_complaint(complaint_id),
                customers.get(c.customer_id),
                defects.get(c.defect_type_id) if c.defect_type_id else None,
                names.get(c.received_by_id, "?"), self._may_edit(me, c), self._may_cancel(me, c))

    def complaint_id_by_number(self, actor: User, number: str) -> int | None:
        with self.uow() as uow:
            self._actor(uow, actor)
            c = uow.complaints.by_number(number.strip().upper())
            return c.id if c else None

    def attachment(self, actor: User, attachment_id: int) -> tuple[Attachment, bytes]:
        with self.uow() as uow:
            self._actor(uow, actor)
            att = uow.attachments.get(attachment_id)
            if att is None:
                raise NotFound()
        return att, self.blobs.get(att.sha256)

    def register(self, actor: User, flt: RegisterFilter) -> tuple[list[RegisterRow], int]:
        """One page of the register and the total number of matching cases."""
        with self.uow() as uow:
            self._actor(uow, actor)
            return uow.complaints.search(self._bounded(uow, flt, flt.page, flt.page_size))

    def _bounded(self, uow: UnitOfWork, flt: RegisterFilter, page: int,
                 page_size: int) -> RegisterFilter:
        """The filter with local dates turned into UTC instants and a sane page."""
        tz = self._settings(uow).tz
        since = (datetime.combine(flt.date_from, datetime.min.time(), tz)
                 if flt.date_from else None)
        until = (datetime.combine(flt.date_to + timedelta(days=1), datetime.min.time(), tz)
                 if flt.date_to else None)
        return dataclasses.replace(flt, text=_CONTROL.sub("", flt.text)[:MAX_SHORT],
                                   since=since, until=until, now=self.clock(),
                                   page=max(page, 1),
                                   page_size=min(max(page_size, 1), 100_000))

    def register_all(self, actor: User, flt: RegisterFilter,
                     limit: int = 100_000) -> list[RegisterRow]:
        """Every matching row (for export), up to `limit`."""
        with self.uow() as uow:
            self._actor(uow, actor)
            rows, _ = uow.complaints.search(self._bounded(uow, flt, 1, limit))
        return rows

    # ------------------------------------------------------------ complaint rules

    @staticmethod
    def _may_edit(me: User, c: Complaint) -> bool:
        return c.state.is_open and (me.has(*EDIT_ROLES) or me.id == c.received_by_id)

    @staticmethod
    def _may_cancel(me: User, c: Complaint) -> bool:
        """Sales before `investigating`, management any time (docs/procedure.md §5)."""
        if not c.state.is_open:
            return False
        if me.has(Role.MANAGEMENT):
            return True
        return me.has(Role.SALES) and c.state in (State.REGISTERED, State.DISPATCHED)

    def _get(self, uow: UnitOfWork, complaint_id: int) -> Complaint:
        c = uow.complaints.get(complaint_id)
        if c is None:
            raise NotFound()
        return c

    def _validated(self, uow: UnitOfWork, d: ComplaintDraft, now: datetime,
                   keep_received: datetime | None = None) -> dict[str, Any]:
        """Check a draft against docs/procedure.md §3/§5 and return the typed values to store."""
        if d.customer_id is None:
            raise InvalidInput("err.required", field="customer")
        if d.customer_id not in {c.id for c in uow.ref.customers(include_inactive=True)}:
            raise InvalidInput("err.unknown", field="customer")
        if d.kind is None:
            raise InvalidInput("err.required", field="kind")
        if d.channel is None:
            raise InvalidInput("err.required", field="channel")
        description = _clean(d.description, MAX_TEXT, "description")
        if not description:
            raise InvalidInput("err.required", field="description")
        received = d.received_at or keep_received or now
        if received.tzinfo is None:
            raise InvalidInput("err.invalid_input")
        if received > now + timedelta(minutes=5):
            raise InvalidInput("err.future_date", field="received_at")
        # a day after the date, whatever the zone: delivered before the complaint came;
        # samples or returned goods arrive later, but not in the future
        for name, day, latest in (("delivery_date", d.delivery_date, received),
                                  ("sample_date", d.sample_date, now)):
            if day is not None and day > latest.date() + timedelta(days=1):
                raise InvalidInput("err.future_date", field=name)
        for name in ("delivered_qty", "defective_qty"):
            q = getattr(d, name)
            if q is not None and not (0 <= q <= 10**9):
                raise InvalidInput("err.quantity", field=name)
        if (d.delivered_qty is not None and d.defective_qty is not None
                and d.defective_qty > d.delivered_qty):
            raise InvalidInput("err.defective_gt_delivered")
        amount = _money(d.claimed_amount)
        product_code = _clean(d.product_code, MAX_SHORT, "product_code")
        if d.defect_type_id is not None and d.defect_type_id not in {
                x.id for x in uow.ref.defect_types(include_inactive=True)}:
            raise InvalidInput("err.unknown", field="defect_type")
        if d.kind == Kind.COMPLAINT and d.category == Category.QUALITY:
            if not product_code:
                raise InvalidInput("err.required", field="product_code")
            if d.defect_type_id is None:
                raise InvalidInput("err.required", field="defect_type")
        return {
            "received_at": received.astimezone(timezone.utc), "channel": d.channel,
            "kind": d.kind, "category": d.category, "customer_id": d.customer_id,
            "customer_ref": _clean(d.customer_ref, MAX_SHORT, "customer_ref"),
            "product_code": product_code,
            "product_name": _clean(d.product_name, MAX_SHORT * 2, "product_name"),
            "order_no": _clean(d.order_no, MAX_SHORT, "order_no"),
            "lot": _clean(d.lot, MAX_SHORT, "lot"),
            "delivered_qty": d.delivered_qty, "delivery_date": d.delivery_date,
            "defective_qty": d.defective_qty, "defect_type_id": d.defect_type_id,
            "where_found": d.where_found, "description": description, "request": d.request,
            "claimed_amount": amount, "severity_proposed": d.severity_proposed,
            "sample_received": bool(d.sample_received),
            "sample_date": d.sample_date if d.sample_received else None,
        }

    # ------------------------------------------------------------ attachments

    def _check_upload(self, u: Upload, cfg: settings_mod.Settings) -> tuple[str, str, bytes]:
        """(safe filename, content type, bytes) or InvalidInput: type by extension AND content."""
        name = safe_filename(u.filename)
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in settings_mod.ALLOWED_UPLOADS:
            raise InvalidInput("err.file_type", name=name,
                               allowed=", ".join(sorted(settings_mod.ALLOWED_UPLOADS)))
        if len(u.data) > cfg.attachment_max_bytes:
            raise InvalidInput("err.file_size", name=name, mb=cfg.attachment_max_mb)
        if not u.data:
            raise InvalidInput("err.file_empty", name=name)
        ctype, magics = settings_mod.ALLOWED_UPLOADS[ext]
        if not any(u.data.startswith(m) for m in magics):
            raise InvalidInput("err.file_mislabelled", name=name)
        return name, ctype, u.data

    def _store_uploads(self, uow: UnitOfWork, me: User, complaint_id: int,
                       checked: list[tuple[str, str, bytes]], now: datetime) -> None:
        for name, ctype, data in checked:
            sha = self.blobs.put(data)
            uow.attachments.add(Attachment(None, complaint_id, sha, name, ctype, len(data),
                                           me.id, now))
            uow.events.add(Event(None, complaint_id, now, me.id, "attachment_added",
                                 {"attachment": [None, name]}))


# ---------------------------------------------------------------- small pure helpers


def safe_filename(name: str) -> str:
    """The last path part, without control characters; never empty."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return base[:120] or "file"


def _clean(text: str, limit: int, name: str) -> str:
    """Trimmed text without NUL/control characters (newlines and tabs kept)."""
    s = _CONTROL.sub("", text or "").strip()
    if len(s) > limit:
        raise InvalidInput("err.too_long", field=name, n=limit)
    return s


def _money(value: Decimal | str | None) -> Decimal | None:
    """A non-negative amount with at most 2 decimals (money is Decimal — never float)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as e:
        raise InvalidInput("err.amount", field="claimed_amount") from e
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12") \
            or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("err.amount", field="claimed_amount")
    return amount.quantize(Decimal("0.01"))


def _show(v: Any) -> str | None:
    """How a value is written into the event log."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).isoformat(timespec="minutes")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, enum.Enum):
        return str(v.value)
    return str(v)


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))

