"""Migration 0017 (titles and approval rules as data) keeps what an installation had: every
user's title, the approval matrix an admin had saved (as rules meaning the same), every
approval step of every case — on SQLite and PostgreSQL, from a database at 0016."""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from alembic import command
from alembic.config import Config
from typing import Any

from sqlalchemy import Connection, inspect, text

from core.rules import approvals
from db.engine import ROOT, make_engine, migrate


def _upgrade_to(url: str, rev: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, rev)


def _insert(conn: Connection, table: str, at: datetime, **known: Any) -> None:
    """A row as the schema at 0016 wants it: every required column filled."""
    values: dict[str, Any] = {}
    for c in inspect(conn).get_columns(table):
        name, kind = c["name"], str(c["type"]).upper()
        if name in known:
            values[name] = known[name]
        elif c["nullable"] or c.get("default") is not None:
            continue
        elif "INT" in kind:
            values[name] = 1
        elif "BOOL" in kind:
            values[name] = False
        elif "DATETIME" in kind or "TIMESTAMP" in kind:
            values[name] = at
        elif "DATE" in kind:
            values[name] = at.date()
        elif "NUMERIC" in kind:
            values[name] = 0
        else:
            values[name] = "x"
    cols = ", ".join(values)
    conn.execute(text(f"INSERT INTO {table} ({cols}) VALUES "
                      f"({', '.join(':' + k for k in values)})"), values)


def test_titles_matrix_and_steps_survive_the_upgrade(db_url: str) -> None:
    _upgrade_to(db_url, "0016")
    engine = make_engine(db_url)
    matrix = [{"up_to": "500", "steps": ["qa_manager"]},
              {"up_to": None, "steps": ["sales_manager", "general_manager"]}]
    at = datetime(2026, 11, 2, 3, 0)
    try:
        with engine.begin() as conn:
            for i, (name, title, level) in enumerate(
                    (("gm", "general_manager", 2), ("clerk", "none", 0), ("boss", "none", 3)), 1):
                conn.execute(text(
                    "INSERT INTO users (id, username, display_name, password_hash, roles,"
                    " approval_level, title, active, language, email, must_change_password)"
                    " VALUES (:i, :n, :n, 'x', 'management', :lvl, :t, :a, 'zh', '', :f)"),
                    {"i": i, "n": name, "t": title, "lvl": level, "a": True, "f": False})
            conn.execute(text("INSERT INTO settings (key, value) VALUES ('approval_matrix', :v)"),
                         {"v": json.dumps(matrix)})
            _insert(conn, "customers", at, id=1, name="甲公司", market="domestic",
                    language="zh")
            _insert(conn, "complaints", at, id=1, number="KS2611-0001", kind="complaint",
                    state="pending_approval", channel="phone", approval_round=0,
                    customer_id=1)
            conn.execute(text(
                "INSERT INTO approval_steps (complaint_id, round, seq, title, status,"
                " decided_by_id, decided_at, comment, moved_from, moved_why)"
                " VALUES (1, 0, 1, 'sales_manager', 'approved', 1, :at, '同意', '', ''),"
                " (1, 0, 2, 'general_manager', 'pending', NULL, NULL, '', '', '')"), {"at": at})
    except Exception:
        engine.dispose()
        raise
    try:
        migrate(db_url)
        with engine.connect() as conn:
            found = conn.execute(text("SELECT username, title FROM users")).all()
            users: dict[str, str] = {str(n): str(t) for n, t in found}
            # each keeps exactly the authority they had: the level granted nothing before
            assert users == {"gm": "general_manager", "clerk": "", "boss": ""}
            sets = conn.execute(text("SELECT id, rules FROM approval_rule_sets")).all()
            assert len(sets) == 1
            rules = approvals.rules_from_json(json.loads(sets[0][1]))
            assert rules == approvals.rules_from_matrix(matrix)
            rs = approvals.RuleSet(sets[0][0], rules)
            applies = rs.rule_for(approvals.Proposal(Decimal("800")))
            assert applies is not None
            assert [s.title for s in applies[1].steps] == ["sales_manager", "general_manager"]
            titles = json.loads(conn.execute(text(
                "SELECT value FROM settings WHERE key = 'titles'")).scalar_one())
            assert [t["code"] for t in titles] == [
                "qa_manager", "sales_manager", "general_manager", "chairman"]
            steps = conn.execute(text(
                "SELECT seq, title, status, decided_by_id, comment, or_higher, rule_version"
                " FROM approval_steps ORDER BY seq")).all()
            assert [tuple(s) for s in steps] == [
                (1, "sales_manager", "approved", 1, "同意", False, None),
                (2, "general_manager", "pending", None, "", False, None)]
    finally:
        engine.dispose()
