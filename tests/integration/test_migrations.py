"""Alembic migrations build exactly the schema of db/tables.py, and re-running them is a no-op."""
from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from db import search
from db.engine import ROOT, make_engine, migrate
from db.tables import Base


def _schema(engine: Engine) -> dict[str, Any]:
    """Tables -> (columns with nullability, index names, unique constraints)."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for t in insp.get_table_names():
        out[t] = (
            {c["name"]: c["nullable"] for c in insp.get_columns(t)},
            sorted(i["name"] or "" for i in insp.get_indexes(t)),
            sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)),
        )
    return out


def _head() -> str:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def test_migrations_from_empty_create_every_table_and_column(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert inspect(engine).get_table_names() == [], "the test database must start empty"
        migrate(db_url)
        insp = inspect(engine)
        # the search's FTS5 table (SQLite) is not a model (db/search.py)
        tables = {t for t in insp.get_table_names() if not search.own_object(t)}
        assert tables == set(Base.metadata.tables) | {"alembic_version"}
        for name, table in Base.metadata.tables.items():
            cols = {c["name"]: c for c in insp.get_columns(name)}
            assert set(cols) == {c.name for c in table.columns}, name
            for c in table.columns:
                assert cols[c.name]["nullable"] == c.nullable, f"{name}.{c.name} nullability"
            indexes = {i["name"] for i in insp.get_indexes(name)}
            assert {i.name for i in table.indexes} <= indexes, name
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == _head()
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models_exactly(db_url: str) -> None:
    """Alembic's own autogenerate comparison finds nothing to add, drop or alter."""
    migrate(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            # but for the search's expression indexes and FTS5 table (db/search.py)
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_name": lambda name, _kind, _parent: not search.own_object(name)})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        engine.dispose()


def test_upgrade_head_twice_is_a_no_op_and_keeps_data(db_url: str) -> None:
    migrate(db_url)
    engine = make_engine(db_url)
    try:
        before = _schema(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO settings (key, value) VALUES ('timezone', "
                              "'\"Asia/Shanghai\"')"))
        migrate(db_url)
        assert _schema(engine) == before
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() \
                == [_head()]
            assert conn.execute(text("SELECT value FROM settings WHERE key = 'timezone'")
                                ).scalars().all() == ['"Asia/Shanghai"']
            # the titles the upgrade to 0017 stored, once
            assert conn.execute(text("SELECT count(*) FROM settings")).scalar() == 2
    finally:
        engine.dispose()
