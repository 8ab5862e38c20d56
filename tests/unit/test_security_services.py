"""Security, service layer: every use case (core/usecases/: a public function of the context) is in
PERMISSIONS below, which says who may call it. Pages and URLs are not the guard — the services
are (docs/procedure.md §2) — so each service is attacked here directly, on the in-memory fakes.

The attack surface of kesu, attack → where it is tested (issue #6 "Security"):

- A public service nobody classified (a new service forgotten) →
  test_every_public_service_has_a_permission_entry (this module).
- Every service called by every user who must not call it → NotAllowed (or the named
  DomainError), no commit, no event, no version bump, no blob stored →
  test_every_forbidden_caller_is_refused_and_nothing_is_written; the same call by each allowed
  user succeeds (so the refusal is the role's, not a broken set-up) →
  test_every_allowed_caller_succeeds (this module).
- Services without an acting user (login machinery, reference lists, the worker's jobs) take no
  `actor`, write nothing a page could abuse → test_system_services_take_no_actor, and
  tests/unit/test_security_static.py (worker-only jobs are never called from pages/ or ui/).
- A stale session: a deactivated user's old User object → refused by every service
  (test_a_deactivated_user_is_refused_by_every_service here + tests/unit/test_permissions.py);
  a forged User object carrying roles the database does not give → test_forged_roles_*;
  a session of a deactivated user or from before a password change → refused by
  sessions.session_of (tests/unit/test_sessions.py); the pages: tests/app/test_security_pages.py.
- Production of another department acting on a case (hold/resume to stop its clock, a
  meeting whose items become CAPA actions, an extension request) → refused
  (PERMISSIONS rows "hold", "resume", "add_meeting", "request_extension"; fixed in
  core/workflow.py not_own_department).
- Segregation of duties: proposer signs own disposition, deputy outside dates, own extension →
  tests/unit/test_lifecycle.py (test_proposer_cannot_approve_own_disposition, ...) and
  test_a_user_cannot_decide_their_own_extension here.
- Login: growing delays instead of a lockout → tests/unit/test_login_delays.py,
  tests/integration/test_search_and_lockout.py (a wildcard login name locks only itself:
  test_security_db.py); no password / hash in the logs, SQL log included →
  tests/integration/test_security_db.py; no password, hash or cookie value in the real
  server's log → tests/e2e/test_security_browser.py; logout ends the session on the server,
  so a copy of the cookie is worthless → tests/unit/test_sessions.py,
  tests/app/test_security_pages.py, tests/e2e/test_security_browser.py; an open
  session or a cookie from before a password reset, a deactivation or a logout elsewhere →
  the login form at the next run → tests/app/test_security_pages.py.
- Uploads: path traversal in names, NUL, absolute paths, oversize, mislabelled (.exe as .jpg,
  HTML as .pdf) → test_upload_* here (refused with a translated message, nothing stored).
- HTML/JS payloads in every free-text field and in a file name → shown as text in Chromium:
  tests/e2e/test_security_browser.py; no `unsafe_allow_html` with user text:
  tests/unit/test_security_static.py. Markdown in user text (an image from another server, a
  javascript: link) written with st.markdown / captions / alerts → escaped by ui.context.md:
  tests/e2e/test_security_browser.py (test_markdown_in_user_text_is_shown_as_text),
  tests/unit/test_security_static.py (test_md_escapes_every_markdown_character).
- SQL metacharacters in register search and filters, both databases →
  tests/integration/test_security_db.py; NUL characters (PostgreSQL refuses them) in any
  text → stripped from every parameter (db/engine.py), no crash:
  test_nul_characters_in_stored_text_never_crash; attachment storage by hash only →
  test_the_blob_store_never_reads_outside_its_folder.
- Spreadsheet formula injection in XLSX/CSV exports → tests/unit/test_security_static.py.
- Secrets in the repository (private keys, passwords, tokens, a constant cookie key) →
  tests/unit/test_security_static.py.
- Forbidden pages by st.switch_page, URL deep link, stale session →
  tests/app/test_security_pages.py, tests/e2e/test_security_browser.py.
"""
from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from core import notify
from core import settings as settings_mod
from core.rules import approvals
from core.errors import DomainError, InvalidInput, NotAllowed
from core.escalation import DEFAULT_LEVELS
from core.i18n import T, t
from core.importing import Options, Table
from core.usecases.approval import CostInput
from core.usecases.approval import DispositionInput
from core.model import (
    CapaType, ContainmentType, CostCategory, Customer, CustomField, Department, DefectType,
    FieldType,
    DispositionType, Lang, PaymentMethod, Product, RegisterFilter, Role, State, User,
)
from core.outbox import ChannelConfig
from core.usecases.complaints import Upload
from core.usecases.accounts import UserInput
from core.usecases.common import safe_filename
from core.stats import Period, StatsFilter
from tests.unit.conftest import NOW, PASSWORD, with_
from tests.unit.fakes import FakeDatabase, FakeSender
from tests.unit import test_lifecycle as lifecycle_tests
from tests.unit.test_lifecycle import DUE, TAKES, TODAY, Case, World, drive, log, ready
from tests.unit.test_permissions import EVERY_SERVICE
from core import usecases as uc

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8

# ---------------------------------------------------------------- who is who in the World

# The World of tests/unit/test_lifecycle.py: sales, QA, QA manager, production of the
# responsible department and of another one, finance, management with and without titles.
w = lifecycle_tests.w

ACTORS = ("admin", "sales", "qa", "qam", "prod", "other_prod", "finance", "boss", "sm", "gm",
          "chairman")
MANAGEMENT = frozenset({"boss", "sm", "gm", "chairman"})
QA = frozenset({"qa", "qam"})
SALES = frozenset({"sales"})
ADMIN = frozenset({"admin"})
EVERYONE = frozenset(ACTORS)
CASE_WORKERS = EVERYONE - ADMIN          # every role but admin (CASE_ROLES)
EDITORS = SALES | QA | MANAGEMENT        # EDIT_ROLES, plus whoever logged the case (sales here)
DEPT_WORK = QA | MANAGEMENT | {"prod"}   # _may_work: QA, management, the responsible department


def actor(w: World, name: str) -> User:
    return getattr(w, name)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Rule:
    """One way to call a service: `prepare` builds the situation in which the allowed users
    succeed; `call` makes the call as `u`. `allowed` are World attribute names."""

    allowed: frozenset[str]
    call: Callable[[World, Any, User], object]
    prepare: Callable[[World], Any] = lambda w: None
    refusal: type[DomainError] = NotAllowed
    name: str = ""


@dataclass(frozen=True)
class System:
    """A service without an acting user, and why that is safe."""

    why: str


Entry = tuple[Rule, ...] | System


def _take(action: str, allowed: frozenset[str]) -> tuple[Rule, ...]:
    """A workflow transition, from the state where it may be taken (tests/unit/test_lifecycle)."""
    return (Rule(allowed, lambda w, case, u: TAKES[action].call(w, case, u),
                 lambda w: ready(w, action), name=action),)


def _case(state: State = State.REGISTERED) -> Callable[[World], Case]:
    return lambda w: drive(w, state)


def _dispositions(w: World) -> Case:
    case = drive(w, State.DISPOSITION)
    return case


def _assisted(w: World) -> Case:
    """A case in root-cause analysis that other_prod's department is asked to assist in."""
    case = drive(w, State.ROOT_CAUSE)
    uc.assisting.set_assisting(w.kesu, w.qa, case.id, case.c.version,
                               {w.other_prod.department_id or 0: "核对治具图纸"})
    return case


def _implementing(w: World) -> Case:
    return drive(w, State.IMPLEMENTING)


def _capa_id(case: Case) -> int:
    return case.file.capa[0].id or 0


def _payment_id(case: Case) -> int:
    return next(d.id or 0 for d in case.file.current(case.file.dispositions)
                if d.type == DispositionType.COMPENSATION)


def _reworking(w: World) -> Case:
    """A rework of 12 approved and replied to: its chain waits for the goods to come back."""
    case = drive(w, State.DISPOSITION)
    lifecycle_tests.propose(w, case, DispositionInput(DispositionType.REWORK, 12, "200"))
    lifecycle_tests.sign_all(w, case)
    lifecycle_tests._reply(w, case)
    return case


def _rework_id(case: Case) -> int:
    return next(d.id or 0 for d in case.file.current(case.file.dispositions)
                if d.type == DispositionType.REWORK)


def _requested(w: World) -> Case:
    case = drive(w, State.INVESTIGATING)
    uc.timing.request_extension(w.kesu, w.qa, case.id, case.c.version, "investigation",
                                NOW + timedelta(days=30), "等待客户寄样")
    return case


def _held(w: World) -> Case:
    case = drive(w, State.ROOT_CAUSE)
    uc.closure.hold(w.kesu, w.qa, case.id, case.c.version, "等待样品")
    return case


def _with_attachment(w: World) -> int:
    case = log(w)
    uc.complaints.add_attachments(w.kesu, w.sales, case.id, [Upload("a.png", PNG)])
    return uc.complaints.complaint(w.kesu, w.admin, case.id).attachments[0].id or 0


def _channels_on(w: World) -> None:
    w.kesu.sender = FakeSender()
    uc.channels.set_channels(w.kesu, w.admin, ChannelConfig(smtp_host="mail.factory.cn",
                                                            mail_from="kesu@factory.cn"))


IMPORTERS = ADMIN | {"qam"}
OLD_REGISTER = Table(("日期", "客户", "问题描述"),
                     ((2, (date(2025, 3, 4), "Acme Electronics", "划伤 12 pcs")),))
OLD_MAPPING = {0: "received_at", 1: "customer", 2: "description"}


def _or_refuse(answer: object) -> object:
    """For a yes/no question (may_import): "no" counts as the refusal."""
    if not answer:
        raise NotAllowed("err.not_allowed")
    return answer


def _stats_filter() -> StatsFilter:
    return StatsFilter(Period(date(2026, 1, 1), date(2026, 12, 31)))


def _delegate_gm(w: World, case: Any, u: User) -> object:
    """The attack: name yourself deputy of the general manager to sign in their place."""
    deputy = w.boss if u.id == w.gm.id else u
    return uc.delegation.set_delegation(w.kesu, u, deputy.id, TODAY, TODAY + timedelta(days=7),
                                      w.gm.id)


PERMISSIONS: dict[str, Entry] = {
    # ------------------------------------------------------------ without an acting user
    "needs_first_admin": System("login page: whether the one-time set-up screen shows"),
    "create_first_admin": System("refused once any user exists (test_create_first_admin_*)"),
    "authenticate": System("the login itself; counts failures, growing delays "
                           "(test_login_delays.py)"),
    "is_locked": System("whether a name's next sign-in must wait"),
    "pending_password_change": System(
        "the sign-in route: the token must name a live session of a user an administrator "
        "reset (test_login_delays.py)"),
    "set_own_password": System(
        "the forced change after a reset: only for the session's own user, only while "
        "the reset flag is set (test_login_delays.py)"),
    "active_user": System("a user looked up by name for the command line and the demo loader; "
                          "no page calls it (test_active_user_*)"),
    "log_in": System("the login itself: authenticate, then a new session (test_sessions.py)"),
    "session_of": System("the session cookie's check: the token must name an open session of an "
                         "active user (tests/unit/test_sessions.py)"),
    "log_out": System("ends only the session whose token it is handed"),
    "list_active_users": System(
        "names for the login machinery and pickers; no hashes "
        "(test_list_active_users_carries_no_password_hash)"
    ),
    "store_uploads": System("checks files and puts them in the blob store, nothing of a case "
                            "changes; complete_capa checks the actor before and after"),
    "departments": System("reference list, read only"),
    "customers": System("reference list, read only"),
    "products": System("reference list, read only"),
    "defect_types": System("reference list, read only"),
    "settings": System(
        "configuration read by every page, read only; no secrets "
        "(the SMTP password is in channel_config, admin only)"
    ),
    "calendar": System("working calendar, read only"),
    "calendar_status": System("working calendar, read only"),
    "sla_limits": System("time limits in force, read only"),
    "titles": System("the approval titles' names and ranks, read only (every approval page)"),
    "rule_set": System("the approval rules in force, read only"),
    "escalation_levels": System("escalation levels, read only"),
    "escalate_overdue": System(
        "the worker's job (adapters/scheduler.py), never called from a page "
        "(tests/unit/test_security_static.py)"
    ),
    "remind_scheduled_checks": System(
        "the worker's job (adapters/scheduler.py): a scheduled effectiveness check's reminder, "
        "never called from a page"
    ),
    "send_digests": System(
        "the worker's job (adapters/scheduler.py): the daily digest e-mails, never called from "
        "a page"
    ),
    "fill_close_days": System(
        "start-up / migration job (adapters/wiring.py), derived values only, "
        "never called from a page (tests/unit/test_security_static.py)"
    ),
    "stats_today": System("today's date in the configured zone"),
    "stats_opening": System("today's date and the range Stats opens with (a setting)"),
    "stats_version": System("a counter used as the Stats page's cache key"),
    # ------------------------------------------------------------ accounts and administration
    "change_password": (
        Rule(EVERYONE,
             lambda w, x, u: uc.accounts.change_password(w.kesu, u, PASSWORD, "a new password")),
    ),
    "log_out_everywhere": (Rule(EVERYONE,
                                lambda w, x, u: uc.sessions.log_out_everywhere(w.kesu, u)),),
    "open_sessions": (Rule(ADMIN, lambda w, x, u: uc.sessions.open_sessions(w.kesu, u)),),
    "end_session": (Rule(ADMIN, lambda w, x, u: uc.sessions.end_session(w.kesu, u, 1)),),
    "set_language": (Rule(EVERYONE, lambda w, x, u: uc.accounts.set_language(w.kesu, u, Lang.EN)),),
    "list_users": (Rule(EVERYONE, lambda w, x, u: uc.accounts.list_users(w.kesu, u)),),
    "create_user": (
        Rule(
            ADMIN,
            lambda w, x, u: uc.accounts.create_user(
                w.kesu, u, UserInput("mallory", "Mallory", frozenset({Role.ADMIN})), PASSWORD
            ),
        ),
    ),
    "update_user": (
        Rule(
            ADMIN,
            lambda w, x, u: uc.accounts.update_user(
                w.kesu,
                u,
                w.finance.id,
                UserInput("fay", "Fay", frozenset({Role.FINANCE, Role.ADMIN})),
            ),
        ),
    ),
    "reset_password": (
        Rule(ADMIN,
             lambda w, x, u: uc.accounts.reset_password(w.kesu, u, w.gm.id, "hijacked password")),
    ),
    "unlock_user": (Rule(ADMIN, lambda w, x, u: uc.login_delays.unlock_user(w.kesu, u, "gina")),),
    "set_settings": (
        Rule(ADMIN, lambda w, x, u: uc.reference.set_settings(w.kesu, u, {"attachment_max_mb": 1})),
    ),
    "save_reference": (
        Rule(
            CASE_WORKERS | ADMIN,
            lambda w, x, u: uc.reference.save_reference(
                w.kesu, u, Customer(0, f"New customer of {u.username}")
            ),
            name="add customer inline",
        ),
        Rule(
            ADMIN,
            lambda w, x, u: uc.reference.save_reference(
                w.kesu, u, Customer(w.draft.customer_id or 0, "Renamed")
            ),
            name="edit customer",
        ),
        Rule(ADMIN,
             lambda w, x, u: uc.reference.save_reference(w.kesu, u, Product(0, "P-9", "Nine")),
             name="add product"),
        Rule(
            ADMIN,
            lambda w, x, u: uc.reference.save_reference(w.kesu, u,
                                                        Department(0, "EVIL", "恶", "Evil")),
            name="add department",
        ),
        Rule(
            ADMIN,
            lambda w, x, u: uc.reference.save_reference(w.kesu, u,
                                                        DefectType(0, "NEW", "新", "New")),
            name="add defect type",
        ),
    ),
    "set_titles": (
        Rule(
            ADMIN,
            lambda w, x, u: uc.authority.set_titles(
                w.kesu, u, [*approvals.DEFAULT_TITLES,
                            approvals.TitleDef("vp_sales", "营销副总", "VP sales", 40)]
            ),
        ),
    ),
    "save_rules": (
        Rule(ADMIN, lambda w, x, u: uc.authority.save_rules(w.kesu, u, approvals.DEFAULT_RULES)),
    ),
    "rule_versions": (Rule(ADMIN, lambda w, x, u: uc.authority.rule_versions(w.kesu, u)),),
    "apply": (Rule(ADMIN, lambda w, x, u: uc.presets.apply(w.kesu, u,
                                                          uc.presets.read("retail"))),),
    "apply_named": (Rule(ADMIN, lambda w, x, u: uc.presets.apply_named(w.kesu, u, "pcb")),),
    "set_calendar_year": (
        Rule(ADMIN, lambda w, x, u: uc.timing.set_calendar_year(w.kesu, u, 2027, "2027-01-01 off")),
    ),
    "set_calendar_overrides": (
        Rule(ADMIN, lambda w, x, u: uc.timing.set_calendar_overrides(w.kesu, u, "2026-12-31", "")),
    ),
    "set_sla_limits": (
        Rule(ADMIN,
             lambda w, x, u: uc.timing.set_sla_limits(w.kesu, u, {"dispatch": {"*": (2, "wh")}})),
    ),
    "channel_config": (Rule(ADMIN, lambda w, x, u: uc.channels.channel_config(w.kesu, u)),),
    "set_channels": (
        Rule(
            ADMIN,
            lambda w, x, u: uc.channels.set_channels(
                w.kesu, u, ChannelConfig(smtp_host="evil.example", mail_from="x@evil.example")
            ),
        ),
    ),
    "set_escalation_levels": (
        Rule(ADMIN,
             lambda w, x, u: uc.channels.set_escalation_levels(w.kesu, u, list(DEFAULT_LEVELS))),
    ),
    "send_test": (
        Rule(ADMIN, lambda w, x, u: uc.channels.send_test(w.kesu, u, "email", "a@factory.cn"),
             _channels_on),
    ),
    "outbox_overview": (Rule(ADMIN, lambda w, x, u: uc.channels.outbox_overview(w.kesu, u)),),
    "retry_failed": (Rule(ADMIN, lambda w, x, u: uc.channels.retry_failed(w.kesu, u)),),
    "set_delegation": (
        Rule(ADMIN | {"gm"}, _delegate_gm, name="name oneself deputy of the general manager"),
    ),
    "delegations": (Rule(EVERYONE, lambda w, x, u: uc.delegation.delegations(w.kesu, u)),),
    "security_log": (Rule(ADMIN, lambda w, x, u: uc.security.security_log(w.kesu, u, TODAY,
                                                                          TODAY)),),
    "who_would_sign": (
        Rule(ADMIN, lambda w, x, u: uc.authority.who_would_sign(w.kesu, u, "8000", None, None)),
    ),
    "revoke_delegation": (
        Rule(ADMIN | {"gm", "boss"},
             lambda w, did, u: uc.delegation.revoke_delegation(w.kesu, u, did),
             lambda w: uc.delegation.set_delegation(w.kesu, w.gm, w.boss.id, TODAY,
                                                  TODAY + timedelta(days=7)),
             name="end the general manager's delegation (only they, their deputy, an admin)"),
    ),
    # ------------------------------------------------------------ reading
    "complaint": (
        Rule(EVERYONE, lambda w, c, u: uc.complaints.complaint(w.kesu, u, c.id), _case()),
    ),
    "complaint_id_by_number": (
        Rule(EVERYONE, lambda w, c, u: uc.search.complaint_id_by_number(w.kesu, u, c.c.number),
             _case()),
    ),
    "case_file": (
        Rule(EVERYONE, lambda w, c, u: uc.complaints.case_file(w.kesu, u, c.id), _case()),
    ),
    "cases_in": (
        Rule(EVERYONE, lambda w, c, u: uc.search.cases_in(w.kesu, u, [State.REGISTERED])),
    ),
    "actions": (Rule(EVERYONE, lambda w, c, u: uc.complaints.actions(w.kesu, u, c.id), _case()),),
    "due_times": (Rule(EVERYONE, lambda w, c, u: uc.timing.due_times(w.kesu, u, c.id), _case()),),
    "attachment": (
        Rule(EVERYONE, lambda w, a, u: uc.complaints.attachment(w.kesu, u, a), _with_attachment),
    ),
    "attachment_thumbnail": (
        Rule(EVERYONE, lambda w, a, u: uc.complaints.attachment_thumbnail(w.kesu, u, a),
             _with_attachment),
    ),
    "attachment_thumbnails": (
        Rule(EVERYONE, lambda w, a, u: uc.complaints.attachment_thumbnails(w.kesu, u, [a]),
             _with_attachment),
    ),
    "register": (
        Rule(EVERYONE, lambda w, x, u: uc.search.register(w.kesu, u, RegisterFilter())),
    ),
    "register_page": (
        Rule(EVERYONE, lambda w, x, u: uc.search.register_page(w.kesu, u, RegisterFilter())),
    ),
    "register_all": (
        Rule(EVERYONE, lambda w, x, u: uc.search.register_all(w.kesu, u, RegisterFilter())),
    ),
    "register_export": (
        Rule(EVERYONE, lambda w, x, u: list(uc.search.register_export(
            w.kesu, u, RegisterFilter()).batches)),
    ),
    "find_duplicates": (
        Rule(EVERYONE, lambda w, x, u: uc.complaints.find_duplicates(w.kesu, u, w.draft)),
    ),
    "meetings": (
        Rule(EVERYONE, lambda w, c, u: uc.meetings.meetings(w.kesu, u, c.id), _case()),
    ),
    "pending_extension": (
        Rule(EVERYONE, lambda w, c, u: uc.timing.pending_extension(w.kesu, u, c.id), _requested),
    ),
    "tasks": (Rule(EVERYONE, lambda w, x, u: uc.worklists.tasks(w.kesu, u)),),
    "task_list": (Rule(EVERYONE, lambda w, x, u: uc.worklists.task_list(w.kesu, u)),),
    "first_tasks": (Rule(EVERYONE, lambda w, x, u: uc.task_pages.first_tasks(w.kesu, u)),),
    "pending_approvals": (
        Rule(EVERYONE, lambda w, x, u: uc.approve_queue.pending_approvals(w.kesu, u)),
    ),
    "inbox": (Rule(EVERYONE, lambda w, x, u: uc.notices.inbox(w.kesu, u)),),
    "unread_count": (Rule(EVERYONE, lambda w, x, u: uc.notices.unread_count(w.kesu, u)),),
    "mark_read": (Rule(EVERYONE, lambda w, x, u: uc.notices.mark_read(w.kesu, u)),),
    "notice_preferences": (
        Rule(EVERYONE, lambda w, x, u: uc.notices.notice_preferences(w.kesu, u)),
    ),
    "set_notice_preferences": (
        Rule(EVERYONE, lambda w, x, u: uc.notices.set_notice_preferences(
            w.kesu, u, notify.Preferences(digest=True))),
    ),
    "assessments": (
        Rule(MANAGEMENT, lambda w, c, u: uc.meetings.assessments(w.kesu, u, c.id), _case()),
    ),
    "stats": (Rule(CASE_WORKERS, lambda w, x, u: uc.stats.stats(w.kesu, u, _stats_filter())),),
    "period_cases": (
        Rule(CASE_WORKERS, lambda w, x, u: uc.stats.period_cases(w.kesu, u, _stats_filter())),
    ),
    "stats_cases": (
        Rule(
            CASE_WORKERS,
            lambda w, x, u: uc.stats.stats_cases(w.kesu, u, _stats_filter(), "customer",
                                                 str(w.draft.customer_id)),
        ),
    ),
    # ------------------------------------------------------------ logging and editing a case
    "register_complaint": (
        Rule(
            CASE_WORKERS,
            lambda w, x, u: uc.complaints.register_complaint(
                w.kesu, u, with_(w.draft, order_no=f"SO-{u.username}"), [Upload("p.png", PNG)]
            ),
        ),
    ),
    "update_complaint": (
        Rule(
            EDITORS,
            lambda w, c, u: uc.complaints.update_complaint(
                w.kesu, u, c.id, c.c.version, with_(w.draft, description=f"edited by {u.username}")
            ),
            _case(),
        ),
    ),
    "add_attachments": (
        Rule(EDITORS,
             lambda w, c, u: uc.complaints.add_attachments(w.kesu, u, c.id, [Upload("b.png", PNG)]),
             _case()),
    ),
    "cancel_complaint": (
        Rule(SALES | MANAGEMENT,
             lambda w, c, u: uc.complaints.cancel_complaint(w.kesu, u, c.id, c.c.version, "录错了"),
             _case()),
    ),
    "record_customer_ack": (
        Rule(SALES | MANAGEMENT,
             lambda w, c, u: uc.closure.record_customer_ack(w.kesu, u, c.id, NOW, "phone"),
             _case()),
    ),
    # ------------------------------------------------------------ the workflow transitions
    "approve_dispatch": _take("approve_dispatch", MANAGEMENT),
    "dispatch": _take("dispatch", SALES | MANAGEMENT),
    "route_short": _take("route_short", SALES | MANAGEMENT),
    "return_to_sales": _take("return_to_sales", QA),
    "acknowledge": _take("acknowledge", QA),
    "classify": _take("classify_valid", QA) + _take("classify_invalid", QA),
    "submit_analysis": _take("submit_analysis", MANAGEMENT | {"prod"}),
    "send_back": _take("send_back", QA),
    "approve_capa": _take("approve_capa", QA),
    "propose": _take("propose", SALES),
    "approve_step": _take("approve_step", frozenset({"sm"})),
    "reject_step": _take("reject_step", frozenset({"sm"})),
    "reply": _take("reply", SALES),
    "complete": _take("complete", MANAGEMENT | {"prod", "finance"}),
    "verify": _take("verify", QA),
    "follow_up": _take("follow_up", SALES),
    "cancel": _take("cancel", SALES | MANAGEMENT),
    "merge": (
        Rule(
            SALES | QA | MANAGEMENT,
            lambda w, c, u: uc.closure.merge(w.kesu, u, c[0].id, c[0].c.version, c[1].c.number,
                                             "重复"),
            lambda w: (log(w), log(w, lot="L9")),
        ),
    ),
    "reopen": _take("reopen", QA | MANAGEMENT),
    # production only on its own department's cases: not before one is assigned, never on
    # another department's (holding a case stops its clock)
    "hold": _take("hold", SALES | QA | MANAGEMENT)
    + (
        Rule(SALES | QA | MANAGEMENT | {"prod"},
             lambda w, c, u: uc.closure.hold(w.kesu, u, c.id, c.c.version, "等待样品"),
             _case(State.ROOT_CAUSE), name="assigned"),
    ),
    "resume": _take("resume", SALES | QA | MANAGEMENT)
    + (
        Rule(SALES | QA | MANAGEMENT | {"prod"},
             lambda w, c, u: uc.closure.resume(w.kesu, u, c.id, c.c.version), _held,
             name="assigned"),
    ),
    # ------------------------------------------------------------ case records
    "add_containment": (
        Rule(
            DEPT_WORK,
            lambda w, c, u: uc.investigation.add_containment(w.kesu, u, c.id,
                                                             ContainmentType.QUARANTINE, 10,
                                                             "on hold"),
            _case(State.ROOT_CAUSE),
        ),
    ),
    "save_analysis": (
        Rule(
            DEPT_WORK,
            lambda w, c, u: uc.investigation.save_analysis(w.kesu, u, c.id, c.c.version,
                                                           root_cause=f"found by {u.username}"),
            _case(State.ROOT_CAUSE),
        ),
    ),
    "add_capa": (
        Rule(
            DEPT_WORK,
            lambda w, c, u: uc.investigation.add_capa(w.kesu, u, c.id, CapaType.CORRECTIVE,
                                                      "Replace fixture", w.prod.id, DUE),
            _case(State.ROOT_CAUSE),
        ),
    ),
    "complete_capa": (
        Rule(
            DEPT_WORK,
            lambda w, c, u: uc.investigation.complete_capa(w.kesu, u, _capa_id(c),
                                                           "photo of the new fixture"),
            _implementing,
        ),
    ),
    "edit_capa": (
        Rule(
            DEPT_WORK,
            lambda w, c, u: uc.investigation.edit_capa(w.kesu, u, _capa_id(c),
                                                       CapaType.CORRECTIVE, "Replace the fixture",
                                                       w.prod.id, DUE, "clearer"),
            _implementing,
        ),
    ),
    "withdraw_capa": (
        Rule(
            DEPT_WORK,
            lambda w, c, u: uc.investigation.withdraw_capa(w.kesu, u, _capa_id(c),
                                                           "done by another action"),
            _implementing,
        ),
    ),
    "set_dispositions": (
        Rule(
            SALES,
            lambda w, c, u: uc.approval.set_dispositions(
                w.kesu,
                u,
                c.id,
                c.c.version,
                [DispositionInput(DispositionType.COMPENSATION, None, "500")],
                [CostInput(CostCategory.COMPENSATION, "500", w.press)],
            ),
            _dispositions,
        ),
    ),
    "record_execution": (
        Rule(MANAGEMENT | {"finance"},
             lambda w, c, u: uc.closure.record_execution(w.kesu, u, _payment_id(c), None, "paid"),
             _implementing),
    ),
    "record_payment": (
        Rule(MANAGEMENT | {"finance"},
             lambda w, c, u: uc.closure.record_payment(w.kesu, u, _payment_id(c), TODAY, "1",
                                                       PaymentMethod.CASH),
             _implementing, name="one instalment of the compensation"),
    ),
    "payments": (
        Rule(EVERYONE, lambda w, c, u: uc.closure.payments(w.kesu, u, c.id), _case()),
    ),
    "chain_settings": (Rule(EVERYONE, lambda w, c, u: uc.chains.chain_settings(w.kesu, u)),),
    "set_chain_settings": (
        Rule(ADMIN, lambda w, c, u: uc.chains.set_chain_settings(
            w.kesu, u, [{"chain": "rework", "step": "purchase", "on": False,
                         "role": "production", "department": "", "days": 10}])),
    ),
    "case_chains": (
        Rule(EVERYONE, lambda w, c, u: uc.chains.case_chains(w.kesu, u, c.id), _case()),
    ),
    "record_step": (
        Rule(MANAGEMENT | {"prod"},
             lambda w, c, u: uc.chains.record_step(w.kesu, u, _rework_id(c), "goods_received",
                                                   {"received_qty": 12, "received_on": TODAY}),
             _reworking, name="the first step of a rework's chain"),
    ),
    "add_meeting": (
        Rule(
            SALES | QA | MANAGEMENT | {"prod"},
            lambda w, c, u: uc.meetings.add_meeting(w.kesu, u, c.id, TODAY, [w.qa.id, w.prod.id],
                                                    "8D meeting"),
            _case(State.ROOT_CAUSE),
        ),
    ),
    "meeting_items": (
        Rule(EVERYONE, lambda w, c, u: uc.meetings.meeting_items(w.kesu, u, c.id), _case()),
    ),
    "first_meeting_due": (
        Rule(EVERYONE, lambda w, c, u: uc.meetings.first_meeting_due(w.kesu, u, c.id), _case()),
    ),
    "set_assisting": (
        Rule(
            QA | MANAGEMENT,
            lambda w, c, u: uc.assisting.set_assisting(
                w.kesu, u, c.id, c.c.version, {w.other_prod.department_id or 0: "BOM 变更记录"}),
            _case(State.ROOT_CAUSE),
        ),
    ),
    "save_findings": (
        Rule(
            frozenset({"other_prod"}),  # production of the department asked to assist only
            lambda w, c, u: uc.assisting.save_findings(w.kesu, u, c.id, "治具图纸已核对"),
            _assisted,
        ),
    ),
    "add_assessment": (
        Rule(
            MANAGEMENT,
            lambda w, c, u: uc.meetings.add_assessment(w.kesu, u, c.id, "Line 3 leader", "warning",
                                                       None),
            _case(State.ROOT_CAUSE),
        ),
    ),
    "request_extension": (
        Rule(
            SALES | QA | MANAGEMENT,
            lambda w, c, u: uc.timing.request_extension(w.kesu, u, c.id, c.c.version,
                                                        "investigation", NOW + timedelta(days=30),
                                                        "等待客户寄样"),
            _case(State.INVESTIGATING),
        ),
        Rule(
            SALES | QA | MANAGEMENT | {"prod"},
            lambda w, c, u: uc.timing.request_extension(w.kesu, u, c.id, c.c.version, "reply",
                                                        NOW + timedelta(days=30), "等待供应商"),
            _case(State.ROOT_CAUSE),
            name="assigned",
        ),
    ),
    # ------------------------------------------------------------ documents and import
    "case_records": (
        Rule(EVERYONE, lambda w, c, u: uc.documents.case_records(w.kesu, u, c.id), _case()),
    ),
    "case_documents": (
        Rule(EVERYONE, lambda w, c, u: uc.documents.case_documents(w.kesu, u, c.id, "en"), _case()),
    ),
    "save_letter": (
        Rule(SALES | QA | MANAGEMENT,
             lambda w, c, u: uc.documents.save_letter(w.kesu, u, c.id, c.c.version, "en",
                                                      f"Dear customer, from {u.username}"),
             _case()),
    ),
    "set_customer_summary": (
        Rule(QA | MANAGEMENT,
             lambda w, c, u: uc.documents.set_customer_summary(w.kesu, u, c.id, c.c.version,
                                                               "夹具磨损，已更换并加点检"),
             _case()),
    ),
    # ------------------------------------------------------------ fields of their own
    "field_definitions": System("the custom fields' definitions, read only (every form)"),
    "save_field": (
        Rule(ADMIN, lambda w, x, u: uc.custom_fields.save_field(
            w.kesu, u, CustomField(None, "plate", "车牌号", "Plate", FieldType.TEXT))),
    ),
    "set_field_active": (
        Rule(ADMIN, lambda w, f, u: uc.custom_fields.set_field_active(w.kesu, u, f, False),
             lambda w: uc.custom_fields.save_field(
                 w.kesu, w.admin, CustomField(None, "plate", "车牌号", "Plate",
                                              FieldType.TEXT))),
    ),
    "case_values": (
        Rule(EVERYONE, lambda w, c, u: uc.custom_fields.case_values(w.kesu, u, c.id), _case()),
    ),
    "may_import": (
        Rule(IMPORTERS, lambda w, x, u: _or_refuse(uc.importing.may_import(w.kesu, u))),
    ),
    "import_mapping": (
        Rule(IMPORTERS,
             lambda w, x, u: uc.importing.import_mapping(w.kesu, u, OLD_REGISTER.headers)),
    ),
    "check_import": (
        Rule(
            IMPORTERS,
            lambda w, x, u: uc.importing.check_import(w.kesu, u, OLD_REGISTER, OLD_MAPPING,
                                                      Options()),
        ),
    ),
    "run_import": (
        Rule(
            IMPORTERS,
            lambda w, x, u: uc.importing.run_import(w.kesu, u, OLD_REGISTER, OLD_MAPPING,
                                                    Options()),
        ),
    ),
    "decide_extension": (
        Rule(
            MANAGEMENT | {"qam"},
            lambda w, c, u: uc.timing.decide_extension(w.kesu, u, c.id, c.c.version, True, "ok",
                                                       True),
            _requested,
        ),
    ),
}


# every topic module of the package (a new one is checked without being listed here); the
# pipeline and the value checks are what use cases are made of, not entries of their own
USE_CASE_MODULES = tuple(
    getattr(uc, name) for name in uc.__all__ if name not in ("ACTIONS", "pipeline", "common")
)


def _use_cases() -> dict[str, Callable[..., Any]]:
    """Every use case: a public function of a use-case module that takes the context first
    (helpers that take a unit of work run inside another use case's and are not entries)."""
    found: dict[str, Callable[..., Any]] = {}
    for mod in USE_CASE_MODULES:
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            params = list(inspect.signature(fn).parameters)
            if (
                fn.__module__ == mod.__name__
                and not name.startswith("_")
                and params[:1] == ["ctx"]
                and "uow" not in params
            ):
                assert name not in found, f"two use cases named {name}"
                found[name] = fn
    return found


def _public_services() -> set[str]:
    return set(_use_cases())


def _rules() -> list[tuple[str, Rule]]:
    return [
        (name, r)
        for name, entry in sorted(PERMISSIONS.items())
        if not isinstance(entry, System)
        for r in entry
    ]


def _rule_id(item: tuple[str, Rule]) -> str:
    name, r = item
    return f"{name}[{r.name}]" if r.name else name


RULES = _rules()


# ---------------------------------------------------------------- the table is complete


def test_every_public_service_has_a_permission_entry() -> None:
    services = _public_services()
    missing = sorted(services - PERMISSIONS.keys())
    stale = sorted(PERMISSIONS.keys() - services)
    assert not missing, f"public services without a permission entry (add them): {missing}"
    assert not stale, f"permission entries for services that no longer exist: {stale}"


def test_system_services_take_no_actor_and_the_others_do() -> None:
    for name, entry in PERMISSIONS.items():
        params = inspect.signature(_use_cases()[name]).parameters
        if isinstance(entry, System):
            assert "actor" not in params, f"{name} takes an actor: give it a role rule"
        else:
            assert "actor" in params, f"{name} takes no actor: who may call it?"


def test_steps_taken_inside_a_use_case_are_not_called_by_pages() -> None:
    """A public function of a use-case module that takes a unit-of-work factory instead of
    the context (`login_delays.claim` / `succeeded` / `wait`: they count and clear sign-in
    failures with no actor) is a step of another use case; no page, ui or adapter module may
    call it, since it has no permission entry of its own."""
    steps = {f"{mod.__name__.rsplit('.', 1)[1]}.{name}"
             for mod in USE_CASE_MODULES
             for name, fn in inspect.getmembers(mod, inspect.isfunction)
             if fn.__module__ == mod.__name__ and not name.startswith("_")
             and list(inspect.signature(fn).parameters)[:1] == ["uows"]}
    assert {"login_delays.claim", "login_delays.succeeded", "login_delays.wait"} <= steps
    root = Path(__file__).resolve().parents[2]
    calls = [(str(f.relative_to(root)), step)
             for folder in ("pages", "ui", "adapters") for f in (root / folder).rglob("*.py")
             for step in steps if f"uc.{step}(" in f.read_text(encoding="utf-8")]
    assert not calls, calls


# ---------------------------------------------------------------- every forbidden caller


def _snapshot(w: World) -> tuple[int, Any, int]:
    files = getattr(w.kesu.blobs, "files", {})
    return w.db.commits, w.db.data, len(files)


@pytest.mark.parametrize("item", RULES, ids=_rule_id)
def test_every_forbidden_caller_is_refused_and_nothing_is_written(w: World,
                                                                  item: tuple[str, Rule]) -> None:
    name, rule = item
    ctx = rule.prepare(w)
    before = _snapshot(w)
    let_in = []
    for who in sorted(EVERYONE - rule.allowed):
        try:
            rule.call(w, ctx, actor(w, who))
        except rule.refusal as e:
            assert e.key in T, f"{name} as {who}: untranslated refusal {e.key}"
        else:
            let_in.append(who)
        assert _snapshot(w) == before, f"{name} as {who} wrote something"
    assert not let_in, f"{name} let in {let_in}"


@pytest.mark.parametrize("item", RULES, ids=_rule_id)
def test_every_allowed_caller_succeeds(w: World, item: tuple[str, Rule]) -> None:
    """The other half of the table: the refusals above are the role's, not the set-up's."""
    name, rule = item
    for who in sorted(rule.allowed):
        ctx = rule.prepare(w)
        try:
            rule.call(w, ctx, actor(w, who))
        except DomainError as e:
            pytest.fail(f"{name} refused {who}: {e.key}")


def test_the_table_names_every_forbidden_role_somewhere() -> None:
    """Each role is refused by some service, so no role is accidentally all-powerful."""
    for who in ACTORS:
        if who in MANAGEMENT:
            continue  # management "sees everything"; still refused the admin services
        assert any(who not in r.allowed for _, r in RULES), who
    assert all(any(m not in r.allowed for _, r in RULES) for m in MANAGEMENT)


# ---------------------------------------------------------------- stale sessions, forged users


DEACTIVATED_MAY = {
    "unread_count": "a count of one's own inbox lines, nothing else",
}
YES_NO = {"may_import"}  # re-reads the stored user, like the services it guards


@pytest.mark.parametrize("item", [x for x in RULES if x[0] not in EVERY_SERVICE], ids=_rule_id)
def test_a_deactivated_user_is_refused_by_every_service(w: World, item: tuple[str, Rule]) -> None:
    """(test_permissions.py covers the services it lists; this covers the rest.)"""
    name, rule = item
    ctx = rule.prepare(w)
    if rule.allowed == ADMIN:  # an admin cannot deactivate themself: a second admin leaves
        who = uc.accounts.create_user(w.kesu, w.admin,
                                      UserInput("root2", "Root 2", frozenset({Role.ADMIN})),
                                      PASSWORD)
    else:
        who = actor(w, sorted(rule.allowed - ADMIN)[0])
    uc.accounts.update_user(
        w.kesu,
        w.admin,
        who.id,
        UserInput(who.username, who.display_name, who.roles, who.department_id, who.titles,
                  active=False),
    )
    before = _snapshot(w)
    if name in DEACTIVATED_MAY:
        rule.call(w, ctx, who)
        return
    with pytest.raises(NotAllowed) as err:
        rule.call(w, ctx, who)  # the stale User object still says active
    # a yes/no question (may_import) answers "no", which _or_refuse turns into the refusal
    assert err.value.key == ("err.not_allowed" if name in YES_NO else "err.inactive_user")
    assert _snapshot(w) == before


@pytest.mark.parametrize(
    "service", ["set_channels", "reset_password", "approve_step", "record_execution", "assessments"]
)
def test_forged_roles_on_the_callers_user_object_do_not_count(w: World, service: str) -> None:
    """A page that hands in a User with extra roles and titles gains nothing: roles are read
    from the database."""
    rule = next(r for n, r in RULES if n == service)
    ctx = rule.prepare(w)
    forged = dataclasses.replace(w.sales, roles=frozenset(Role), titles=w.gm.titles | w.sm.titles,
                                 department_id=w.press)
    before = _snapshot(w)
    with pytest.raises(NotAllowed):
        rule.call(w, ctx, forged)
    assert _snapshot(w) == before


def test_a_user_cannot_decide_their_own_extension(w: World) -> None:
    case = drive(w, State.INVESTIGATING)
    uc.timing.request_extension(w.kesu, w.boss, case.id, case.c.version, "investigation",
                                NOW + timedelta(days=30), "waiting")
    before = _snapshot(w)
    with pytest.raises(NotAllowed) as err:
        uc.timing.decide_extension(w.kesu, w.boss, case.id, case.c.version, True)
    assert err.value.key == "why.own_extension"
    assert _snapshot(w) == before


def test_active_user_refuses_a_deactivated_or_unknown_user(w: World) -> None:
    uc.accounts.update_user(w.kesu, w.admin, w.sales.id,
                            UserInput("sally", "Sally", frozenset({Role.SALES}), active=False))
    assert uc.accounts.active_user(w.kesu, "sally") is None
    assert uc.accounts.active_user(w.kesu, "nobody") is None
    assert uc.accounts.active_user(w.kesu, "") is None


def test_create_first_admin_is_refused_once_a_user_exists(w: World) -> None:
    before = _snapshot(w)
    with pytest.raises(NotAllowed):
        uc.accounts.create_first_admin(w.kesu, "mallory", "Mallory", PASSWORD)
    assert _snapshot(w) == before


def test_list_active_users_carries_no_password_hash(w: World) -> None:
    hashes = set(w.db.data.password_hashes.values())
    for u in uc.accounts.list_active_users(w.kesu):
        assert not any(h in repr(u) for h in hashes)


def test_channel_config_never_returns_the_smtp_password(w: World) -> None:
    uc.channels.set_channels(
        w.kesu,
        w.admin,
        ChannelConfig(smtp_host="mail.x.cn", smtp_user="kesu", mail_from="k@x.cn"),
        "s3cret-smtp",
    )
    view = uc.channels.channel_config(w.kesu, w.admin)
    assert "s3cret-smtp" not in repr(view)
    assert "s3cret-smtp" not in repr(uc.context.settings(w.kesu))


# ---------------------------------------------------------------- upload attacks


TRAVERSAL = [
    "../../etc/passwd.png",
    "..\\..\\windows\\win.ini.png",
    "/etc/cron.d/x.png",
    "C:\\Windows\\system32\\x.png",
    "a\x00.png",
    "..",
    "../",
    "\x00",
    "....//x.png",
    "%2e%2e%2fx.png",
    "/",
    "x.png\x00.exe",
]


@pytest.mark.parametrize("name", TRAVERSAL)
def test_upload_names_lose_every_path_part(name: str) -> None:
    safe = safe_filename(name)
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert safe not in ("", ".", "..") and not safe.startswith(".")


@pytest.mark.parametrize("name", TRAVERSAL)
def test_a_traversal_name_is_stored_as_a_plain_name_or_refused(w: World, name: str) -> None:
    case = log(w)
    try:
        uc.complaints.add_attachments(w.kesu, w.sales, case.id, [Upload(name, PNG)])
    except InvalidInput as e:
        assert e.key in T
        assert uc.complaints.complaint(w.kesu, w.admin, case.id).attachments == []
        return
    stored = uc.complaints.complaint(w.kesu, w.admin, case.id).attachments[0].filename
    assert stored == safe_filename(name)
    assert stored.endswith(".png") and "/" not in stored and "\\" not in stored


def _refused(w: World, upload: Upload, key: str) -> str:
    case = log(w)
    before = _snapshot(w)
    with pytest.raises(InvalidInput) as err:
        uc.complaints.add_attachments(w.kesu, w.sales, case.id, [Upload("ok.png", PNG), upload])
    assert err.value.key == key
    assert _snapshot(w) == before  # not even the good file of the batch
    with pytest.raises(InvalidInput):
        uc.complaints.register_complaint(w.kesu, w.sales, with_(w.draft, order_no="SO-up"),
                                         [upload])
    assert _snapshot(w) == before
    text = t(err.value.key, "en", **err.value.params)
    assert upload.filename.split("/")[-1][:20] in text or "file" in text.lower()
    return text


def test_upload_over_the_size_setting_is_refused_and_nothing_stored(w: World) -> None:
    uc.reference.set_settings(w.kesu, w.admin, {"attachment_max_mb": 1})
    big = Upload("big.png", PNG + b"\x00" * (1024 * 1024))
    text = _refused(w, big, "err.file_size")
    assert "1" in text


@pytest.mark.parametrize(
    "upload",
    [
        Upload("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),  # an .exe
        Upload("report.pdf", b"<!DOCTYPE html><script>alert(1)</script>"),  # HTML
        Upload("scan.png", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        Upload("note.pdf", b"\xef\xbb\xbf<html><body onload=alert(1)>"),
    ],
    ids=["exe-as-jpg", "html-as-pdf", "svg-as-png", "bom-html-as-pdf"],
)
def test_mislabelled_upload_is_refused_and_nothing_stored(w: World, upload: Upload) -> None:
    _refused(w, upload, "err.file_mislabelled")


@pytest.mark.parametrize(
    "name", ["evil.exe", "page.html", "x.svg", "run.js", "a.bat", "noextension", "x.png.exe"]
)
def test_a_dangerous_type_is_refused_by_extension(w: World, name: str) -> None:
    _refused(w, Upload(name, PNG), "err.file_type")
    assert not {n.rsplit(".", 1)[-1] for n in [name] if "." in n} & set(
        settings_mod.ALLOWED_UPLOADS
    )


def test_an_empty_upload_is_refused(w: World) -> None:
    _refused(w, Upload("empty.png", b""), "err.file_empty")


def test_uploads_are_refused_on_a_closed_case(w: World) -> None:
    case = drive(w, State.CLOSED)
    before = _snapshot(w)
    with pytest.raises(NotAllowed):
        uc.complaints.add_attachments(w.kesu, w.qa, case.id, [Upload("late.png", PNG)])
    assert _snapshot(w) == before


def test_register_filter_text_loses_control_characters(w: World) -> None:
    """SQL metacharacters are tested on the real databases (test_security_db.py); here: the
    service never hands NUL or control characters to a repository."""
    log(w)
    uc.search.register(w.kesu, w.qa, RegisterFilter(text="SO-1\x00\x1b"))
    assert isinstance(w.kesu.uow, FakeDatabase)
    assert w.kesu.uow.register_filters[-1].text == "SO-1"


def test_naive_datetimes_are_refused_not_crashing(w: World) -> None:
    with pytest.raises(InvalidInput):
        uc.complaints.register_complaint(w.kesu, w.sales,
                                         with_(w.draft, received_at=datetime(2026, 11, 9)))
    assert isinstance(w.kesu.uow, FakeDatabase) and not w.kesu.uow.data.complaints
    assert NOW.tzinfo is timezone.utc
