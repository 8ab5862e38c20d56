"""The security log on a real database (SQLite here, PostgreSQL in CI): entries survive the
round trip in words an administrator can read (Chinese included), times in UTC, filters by
day of the configured zone and by kind, and no code path changes or removes a row."""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from core.errors import DomainError
from core.model import Role
from core.usecases import security
from core.usecases.accounts import UserInput
from core.usecases.context import Context
from tests.integration.conftest import NOW, PASSWORD, World, engine_of
from core import usecases as uc

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 15)  # NOW is 12:00 in Shanghai


def test_sign_ins_and_account_changes_round_trip(app: Context, world: World) -> None:
    uc.sessions.log_in(app, "sales1", PASSWORD, "192.168.1.20")
    with pytest.raises(DomainError):
        uc.sessions.log_in(app, "王五", "Guess-2026", "192.168.1.66")
    uc.accounts.update_user(app, world.admin, world.qa.id, UserInput(
        "qa1", world.qa.display_name, frozenset({Role.QA, Role.SALES}),
        world.qa.department_id))
    entries = security.security_log(app, world.admin, DAY, DAY)
    by_kind = {e.kind: e for e in entries}
    assert by_kind["login_ok"].client == "192.168.1.20"
    assert by_kind["login_ok"].at == NOW and by_kind["login_ok"].at.utcoffset() == timedelta(0)
    failed = by_kind["login_failed"]
    assert (failed.username, failed.detail, failed.subject_id) == (
        "王五", {"why": "unknown"}, None)
    assert by_kind["user_changed"].detail == {"what": "roles", "old": "qa",
                                              "new": "qa,sales"}
    assert security.security_log(app, world.admin, DAY + timedelta(days=1),
                                 DAY + timedelta(days=1)) == []
    with engine_of(app).connect() as conn:
        stored = " ".join(str(r) for r in conn.execute(text("SELECT * FROM security_log")))
    assert "Guess-2026" not in stored and PASSWORD not in stored


def test_no_code_updates_or_deletes_security_log_rows() -> None:
    code = "\n".join(p.read_text(encoding="utf-8") for folder in ("core", "db", "ui", "adapters")
                     for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)
    assert not re.search(r"(update|delete)\(\s*SecurityLogRow", code)
    assert not re.search(r"(UPDATE|DELETE FROM)\s+security_log", code, re.IGNORECASE)
    from db.uow import SqlSecurityLog
    assert {n for n in vars(SqlSecurityLog) if not n.startswith("_")} == {"add", "find"}
