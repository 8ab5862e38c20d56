"""Engine creation and migrations: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
# How long a writer waits for its turn before "database is locked". The load test (bench/
# load.py: 20 users acting without pause on a busy 2-core machine) saw writers starve past
# 15 s — SQLite's busy handler polls, it does not queue — and the error reach the user.
BUSY_TIMEOUT_MS = 60_000


def data_dir() -> Path:
    """Where the SQLite file, attachments and the generated cookie key live (KESU_DATA_DIR)."""
    d = Path(os.environ.get("KESU_DATA_DIR") or ROOT / "data")
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    private(d, 0o700)  # the database, attachments, backups and the key: the service user's
    return d


def private(path: Path, mode: int = 0o600) -> None:
    """Only the service user may read it (issue #11: kesu.db and its WAL were 0644)."""
    try:
        if path.exists() and (path.stat().st_mode & 0o777) != mode:
            os.chmod(path, mode)
    except OSError:  # not ours (a read-only mount): the deployer's choice
        pass


def _private_sqlite_file(url: str) -> None:
    """The SQLite file created 0600 before SQLite opens it (its -wal and -shm files take the
    database file's permissions), and an existing one's files tightened."""
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        private(f)


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return f"sqlite:///{data_dir() / 'kesu.db'}"


def make_engine(url: str | None = None, **kw: Any) -> Engine:
    url = url or database_url()
    # SQL logging (an operator's debugging) and error messages never show parameter values:
    # password hashes, SMTP passwords and customer data are parameters
    kw.setdefault("hide_parameters", True)
    if make_url(url).get_backend_name() == "sqlite":
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                                  "check_same_thread": False}, **kw)
        _sqlite_setup(engine)
    else:
        kw.setdefault("pool_pre_ping", True)
        kw.setdefault("pool_size", 10)
        engine = create_engine(url, **kw)
    event.listen(engine, "before_cursor_execute", _without_nul, retval=True)
    return engine


def _without_nul(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                 _many: bool) -> tuple[str, Any]:
    """NUL characters leave every text parameter, on both databases alike: PostgreSQL refuses
    them in text (a crash on a search or login name typed with one), and no field has a use
    for them. The services already drop control characters from most text; this is the net."""
    return statement, _strip_nul(parameters)


def _strip_nul(p: Any) -> Any:
    if isinstance(p, str):
        return p.replace("\x00", "") if "\x00" in p else p
    if isinstance(p, dict):
        return {k: _strip_nul(v) for k, v in p.items()}
    if isinstance(p, (list, tuple)):
        return type(p)(_strip_nul(v) for v in p)
    return p


def _sqlite_setup(engine: Engine) -> None:
    """WAL, busy timeout, foreign keys; writers start with BEGIN IMMEDIATE.

    A write unit of work that first reads and then writes would otherwise fail at once with
    SQLITE_BUSY when another writer committed in between; IMMEDIATE makes it wait its turn.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("kesu_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def migrate(url: str | None = None) -> None:
    """Bring the database to the newest schema (Alembic `upgrade head`)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    command.upgrade(cfg, "head")


def make_url_safe(url: str) -> str:
    """The URL with any password hidden, for printing."""
    return make_url(url).render_as_string(hide_password=True)
