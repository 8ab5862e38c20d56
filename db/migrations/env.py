"""Alembic environment: runs migrations on the URL given by db.engine (SQLite or PostgreSQL)."""
from typing import Any

from alembic import context
from sqlalchemy import Connection

from db.engine import database_url, make_engine
from db.tables import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK = 4711  # PostgreSQL advisory lock: two app instances never migrate at once


def _dbapi(connection: Connection) -> Any:
    """The driver's own connection (SQLite PRAGMAs go there, outside any transaction)."""
    raw = connection.connection.driver_connection
    assert raw is not None  # None only once the connection is closed
    return raw


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or database_url()
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it; with foreign keys on, dropping the old
            # copy fails when other tables point at it. Off during the migration, checked after.
            _dbapi(connection).execute("PRAGMA foreign_keys=OFF")
        else:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
            connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=sqlite)
        try:
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                connection.commit()
                bad = _dbapi(connection).execute(
                    "PRAGMA foreign_key_check").fetchall()
                if bad:
                    raise RuntimeError(f"foreign key check failed after migration: {bad[:5]}")
        finally:
            if sqlite:
                _dbapi(connection).execute("PRAGMA foreign_keys=ON")
            else:
                connection.rollback()
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
                connection.commit()
    engine.dispose()


run_migrations_online()
