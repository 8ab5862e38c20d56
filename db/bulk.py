"""Many rows into one table at once: COPY on PostgreSQL (through psycopg 3), executemany
elsewhere — for the bulk writers (bench/synth.py, the Stats rollups' rebuild), not for the
unit of work's few rows (issue #14: a million cases)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

from sqlalchemy import Connection, Table, insert
from sqlalchemy.orm import Session

Db = Union[Session, Connection]


def insert_rows(db: Db, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the caller's transaction."""
    if not rows:
        return
    conn = db.connection() if isinstance(db, Session) else db
    if conn.dialect.driver == "psycopg":
        _copy(conn, table, rows)
    else:
        conn.execute(insert(table), list(rows))


def _copy(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """The rows by COPY, several times faster than executemany. The values go through the
    columns' own bind processing (UTC times), and the columns the rows leave out get their
    scalar defaults, as insert() would give them."""
    keys = list(rows[0])
    extra = [c for c in table.columns if c.name not in rows[0] and c.default is not None
             and c.default.is_scalar]
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(n) for n in [*keys, *(c.name for c in extra)])
    procs = [table.c[k].type.bind_processor(conn.dialect) for k in keys]
    fixed = [getattr(c.default, "arg", None) for c in extra]
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([p(row[k]) if p else row[k] for k, p in zip(keys, procs, strict=True)]
                           + fixed)
