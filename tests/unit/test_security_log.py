"""The security log (issue #11 item 6): what an administrator finds there after sign-ins,
session ends, account changes and configuration changes — and what is never there (a
password). core/usecases/security.py on the in-memory fakes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from core.errors import DomainError, InvalidInput, NotAllowed
from core.model import Role, SecurityEntry, Title, User
from core.rules.approvals import TitleDef
from core.usecases import security
from core.usecases.accounts import UserInput
from core.usecases.context import Context
from tests.unit.conftest import NOW, PASSWORD
from tests.unit.fakes import FakeClock
from core import usecases as uc

TODAY = date(2026, 11, 10)


def log(kesu: Context, admin: User, *kinds: str) -> list[SecurityEntry]:
    return security.security_log(kesu, admin, TODAY, TODAY, kinds)


def test_sign_ins_are_logged_with_the_name_tried_and_the_address_never_the_password(
        kesu: Context, admin: User, sales: User) -> None:
    uc.sessions.log_in(kesu, "sally", PASSWORD, "10.0.0.7")
    for name in ("sally", "Nobody"):
        with pytest.raises(DomainError):
            uc.sessions.log_in(kesu, name, "Secret-Guess-1", "10.0.0.66")
    ok, = log(kesu, admin, "login_ok")
    assert (ok.actor_id, ok.subject_id, ok.client) == (sales.id, sales.id, "10.0.0.7")
    unknown, wrong = log(kesu, admin, "login_failed")  # newest first
    assert (wrong.username, wrong.subject_id, wrong.detail["why"]) == ("sally", sales.id, "wrong")
    assert (unknown.username, unknown.subject_id, unknown.detail["why"]) == (
        "nobody", None, "unknown")
    assert unknown.client == "10.0.0.66" and unknown.actor_id is None
    everything = repr(kesu.uow.data.security_log)  # type: ignore[attr-defined]
    assert "Secret-Guess" not in everything and PASSWORD not in everything


def test_a_hostile_name_is_logged_without_control_characters(kesu: Context, admin: User) -> None:
    with pytest.raises(DomainError):
        uc.sessions.log_in(kesu, "x\x1b[2J\n" + "a" * 300, "whatever", "10.0.0.1")
    e, = log(kesu, admin, "login_failed")
    assert "\x1b" not in e.username and "\n" not in e.username and len(e.username) <= 100


def test_session_ends_are_logged_with_why(kesu: Context, admin: User, sales: User,
                                          clock: FakeClock) -> None:
    a = uc.sessions.log_in(kesu, "sally", PASSWORD, "10.0.0.7")
    uc.sessions.log_out(kesu, a.token)
    b = uc.sessions.log_in(kesu, "sally", PASSWORD)
    uc.sessions.end_session(kesu, admin, b.session.id)
    uc.sessions.log_in(kesu, "sally", PASSWORD)
    uc.sessions.log_out_everywhere(kesu, sales)
    c = uc.sessions.log_in(kesu, "sally", PASSWORD)
    clock.advance(hours=9)  # past the idle time
    assert uc.sessions.session_of(kesu, c.token) is None
    ended = security.security_log(kesu, admin, TODAY, TODAY + timedelta(days=1),
                                  ["session_ended"])
    assert [e.detail["reason"] for e in ended] == ["idle", "logout_all", "admin", "logout"]
    assert {e.subject_id for e in ended} == {sales.id}
    assert ended[2].actor_id == admin.id and ended[3].client == "10.0.0.7"


def test_account_changes_are_logged(kesu: Context, admin: User, sales: User) -> None:
    both = frozenset({Title.SALES_MANAGER, Title.QA_MANAGER})
    uc.accounts.update_user(kesu, admin, sales.id, UserInput(
        "sally", "Sally", frozenset({Role.SALES, Role.QA}), titles=both))
    uc.accounts.update_user(kesu, admin, sales.id, UserInput(
        "sally", "Sally", frozenset({Role.SALES, Role.QA}), titles=both, active=False))
    uc.accounts.reset_password(kesu, admin, sales.id, "temp-Rt5-wq")
    uc.login_delays.unlock_user(kesu, admin, "sally")
    changes = {e.detail["what"]: (e.detail["old"], e.detail["new"])
               for e in log(kesu, admin, "user_changed")}
    assert changes == {"roles": ("sales", "qa,sales"),
                       "title": ("", "qa_manager,sales_manager")}
    assert [e.subject_id for e in log(kesu, admin, "user_deactivated")] == [sales.id]
    reset, = log(kesu, admin, "password_reset")
    assert (reset.actor_id, reset.subject_id) == (admin.id, sales.id)
    assert log(kesu, admin, "delay_cleared")[0].subject_id == sales.id
    created = log(kesu, admin, "user_created")
    assert {e.subject_id for e in created} == {admin.id, sales.id}


def test_my_password_change_and_a_wrong_current_password_are_logged(
        kesu: Context, admin: User, sales: User) -> None:
    with pytest.raises(InvalidInput):
        uc.accounts.change_password(kesu, sales, "Not-It-123", "maple-river-42")
    uc.accounts.change_password(kesu, sales, PASSWORD, "maple-river-42")
    changed, = log(kesu, admin, "password_changed")
    assert changed.actor_id == sales.id
    failed, = log(kesu, admin, "login_failed")
    assert failed.detail["why"] == "account" and failed.actor_id == sales.id
    assert "maple" not in repr(kesu.uow.data.security_log)  # type: ignore[attr-defined]


def test_configuration_changes_are_logged(kesu: Context, admin: User, make_user: Any) -> None:
    boss = make_user("gina", Role.MANAGEMENT, titles=frozenset({Title.GENERAL_MANAGER}))
    deputy = make_user("dave", Role.MANAGEMENT)
    uc.reference.set_settings(kesu, admin, {"timezone": "Europe/Berlin",
                                            "attachment_max_mb": 20})
    uc.authority.set_titles(kesu, admin, [*uc.authority.titles(kesu).defs,
                                         TitleDef("vp_sales", "营销副总", "VP sales", 40)])
    version = uc.authority.save_rules(kesu, admin, uc.authority.rule_set(kesu).rules)
    uc.timing.set_calendar_overrides(kesu, admin, "2026-12-28", "")
    uc.channels.set_escalation_levels(kesu, admin, list(uc.channels.escalation_levels(kesu)))
    did = uc.delegation.set_delegation(kesu, boss, deputy.id, TODAY, TODAY + timedelta(days=3))
    uc.delegation.revoke_delegation(kesu, admin, did)
    kinds = [e.kind for e in log(kesu, admin)]
    for kind in ("settings_changed", "titles_changed", "rules_changed", "calendar_changed",
                 "escalation_changed", "delegation_set", "delegation_revoked"):
        assert kind in kinds, kind
    titles, = log(kesu, admin, "titles_changed")
    assert titles.actor_id == admin.id and "vp_sales:40" in titles.detail["new"]
    rules, = log(kesu, admin, "rules_changed")
    assert (rules.actor_id, rules.detail["version"]) == (admin.id, str(version))
    tz, = [e for e in log(kesu, admin, "settings_changed") if e.detail["field"] == "timezone"]
    assert (tz.detail["old"], tz.detail["new"]) == ("", "Europe/Berlin")
    named, = log(kesu, admin, "delegation_set")
    assert (named.actor_id, named.subject_id, named.detail["manager"]) == (
        boss.id, deputy.id, "gina")


def test_only_an_administrator_reads_the_log_and_filters_work(
        kesu: Context, admin: User, sales: User, clock: FakeClock) -> None:
    with pytest.raises(NotAllowed):
        security.security_log(kesu, sales, TODAY, TODAY)
    uc.sessions.log_in(kesu, "sally", PASSWORD)
    clock.advance(days=2)
    uc.sessions.log_in(kesu, "sally", PASSWORD)
    assert len(security.security_log(kesu, admin, TODAY, TODAY, ["login_ok"])) == 1
    assert len(security.security_log(kesu, admin, TODAY, TODAY + timedelta(days=2),
                                     ["login_ok"])) == 2
    assert security.security_log(kesu, admin, TODAY, TODAY, ["password_reset"]) == []
    with pytest.raises(InvalidInput):
        security.security_log(kesu, admin, TODAY, TODAY - timedelta(days=1))
    with pytest.raises(InvalidInput):
        security.security_log(kesu, admin, TODAY, TODAY, ["drop table"])


def test_days_are_the_configured_zone_s_days(kesu: Context, admin: User, sales: User) -> None:
    # NOW is 10:00 in Shanghai on 10 Nov: the entry belongs to that day, not the UTC one
    assert NOW.hour == 2
    uc.sessions.log_in(kesu, "sally", PASSWORD)
    assert security.security_log(kesu, admin, TODAY - timedelta(days=1),
                                 TODAY - timedelta(days=1)) == []


def test_the_log_has_no_way_to_change_or_remove_an_entry() -> None:
    from core.ports import SecurityLogRepo
    assert {n for n in vars(SecurityLogRepo) if not n.startswith("_")} == {"add", "find"}


def test_a_backup_is_logged_with_its_file(kesu: Context, admin: User) -> None:
    from datetime import datetime, timezone

    from core.backup_rules import BackupFile, BackupReport, Backups

    class Archiver:
        def create(self) -> BackupReport:
            return BackupReport(BackupFile("kesu-backup-20261110-100000.tar.gz", 10,
                                           datetime.now(timezone.utc)), "0013", 0, 0, 0)

    Backups(kesu.uow, Archiver()).make_backup(admin)  # type: ignore[arg-type]
    everything = security.security_log(kesu, admin, date(2000, 1, 1), date(2000, 12, 31))
    assert everything == []  # (a real clock: today, not the test's day)
    today = datetime.now(timezone.utc).date()
    made, = security.security_log(kesu, admin, today - timedelta(days=1),
                                  today + timedelta(days=1), ["backup_made"])
    assert made.actor_id == admin.id and made.detail["file"].startswith("kesu-backup-")


def test_channels_limits_and_a_calendar_year_are_logged(kesu: Context, admin: User) -> None:
    from dataclasses import replace
    view = uc.channels.channel_config(kesu, admin)
    uc.channels.set_channels(kesu, admin, replace(view.config, smtp_host="mail.example",
                                                          mail_from="kesu@mail.example"))
    uc.timing.set_sla_limits(kesu, admin, {"dispatch": {"*": (2.0, "wh")}})
    uc.timing.set_calendar_year(kesu, admin, 2031, "2031-01-01 off")
    kinds = [e.kind for e in log(kesu, admin)]
    assert {"channels_changed", "limits_changed", "calendar_changed"} <= set(kinds)
    year, = log(kesu, admin, "calendar_changed")
    assert year.detail == {"year": "2031", "days": "1"}
    assert "mail.example" not in repr(log(kesu, admin))  # no channel settings in the log
