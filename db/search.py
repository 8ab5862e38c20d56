"""The register search's indexes (issue #14): which path answers a search, and the search
structures kept with the cases.

A search text takes one of these paths (db/reads.py builds the SQL):

- **key**: text that looks like a case number, order number, lot, product code or customer
  reference (`looks_like_key`: printable ASCII, no spaces, a digit) is first matched as a
  prefix of those five columns, case-insensitively, through b-tree indexes on `upper(column)`
  (migration 0024). A prefix is a range, `upper(col) >= X AND upper(col) < X || U+10FFFF`:
  SQLite's b-tree compares UTF-8 as bytes (= code points); on PostgreSQL the indexes and the
  comparison use COLLATE "C", so a database made with a linguistic collation (zh_CN.UTF-8)
  still orders by code point and the range is exactly "starts with". A LIKE 'x%' would need
  NOCASE columns on SQLite and text_pattern_ops on PostgreSQL, and the escaping of % and _.
  When the key path finds nothing, the text is searched as free text.
- **trigram** (3 characters or more): on PostgreSQL a GIN `pg_trgm` index over the seven text
  columns joined by U+001F (`DOC_SQL`, an expression index the database keeps itself); on
  SQLite an FTS5 table with the trigram tokenizer (`search_text`, one row per case, rowid = the
  case's id) gives candidates, which the old LIKE condition then checks.
- **bigram** (exactly 2 characters, both CJK-like: `is_gram`): the table `complaint_bigrams`
  holds every pair of adjacent such characters of a case's searchable text; a trigram index
  cannot answer a 2-character word (划伤, 开裂).
- **scan**: anything else (a single character, 2 characters with a Latin letter or a digit,
  or no trigram index: pg_trgm could not be created) is the old LIKE over the columns. With the
  count capped and rows in date order, the scan stops early when the text is common.

The customer's name is matched in the small customers table on every path (as before).
The bigram table and the FTS5 table are written by the unit of work when a case's searchable
text changes (`index_case`), by `bench/synth.py` in bulk (`index_rows`), by migration 0024 for
existing cases and by `manage.py search-rebuild` (`rebuild`).
"""
from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

log = logging.getLogger("kesu.search")

# the columns searched as text, in the order they are joined
TEXT_COLUMNS = ("number", "product_code", "order_no", "description", "product_name", "lot",
                "customer_ref")
# the columns a key-like text is matched against as a prefix
KEY_COLUMNS = ("number", "order_no", "lot", "product_code", "customer_ref")
SEP = "\x1f"  # between the columns: a control character, removed from every search text
# PostgreSQL: the searchable text as one expression, identical in the index and the query
# (chr(31) = SEP; every column is NOT NULL)
DOC_SQL = "(" + " || chr(31) || ".join(f"complaints.{c}" for c in TEXT_COLUMNS) + ")"
TRGM_INDEX = "ix_search_complaints_trgm"
FTS_TABLE = "search_text"
BIGRAMS = "complaint_bigrams"
KEY_INDEX = "ix_search_upper_{}"
HIGHEST = "\U0010ffff"
BATCH = 2000


@functools.lru_cache(maxsize=65536)  # a few thousand characters, asked millions of times
def is_gram(ch: str) -> bool:
    """A character of the bigram index: a letter or digit outside ASCII that has no case
    (Chinese, Japanese kana, …), so LIKE and ILIKE match it alike on both databases."""
    return (ord(ch) > 127 and ch.lower() == ch.upper()
            and unicodedata.category(ch)[0] in "LN")


def bigrams(doc: str) -> set[str]:
    """Every pair of adjacent gram characters in the text."""
    return {doc[i:i + 2] for i in range(len(doc) - 1) if is_gram(doc[i]) and is_gram(doc[i + 1])}


def looks_like_key(q: str) -> bool:
    """A case number, order number, lot, product code or customer reference as typed:
    printable ASCII without spaces, with a digit, 3 to 100 characters (KS2612-3308, PO-88231,
    L2601A)."""
    return (3 <= len(q) <= 100 and all(33 <= ord(c) <= 126 for c in q)
            and any(c.isdigit() for c in q))


def key_range(q: str) -> tuple[str, str]:
    """The prefix `q` as a range of upper-cased values: [Q, Q + U+10FFFF)."""
    lo = q.upper()
    return lo, lo + HIGHEST


def path_of(q: str, trigram: bool) -> str:
    """Which free-text path answers `q` (key-like text is tried as a key first): 'trigram',
    'bigram' or 'scan'."""
    if len(q) >= 3 and trigram:
        return "trigram"
    if len(q) == 2 and is_gram(q[0]) and is_gram(q[1]):
        return "bigram"
    return "scan"


def fts_phrase(q: str) -> str:
    """An FTS5 phrase matching the text as a substring (trigram tokenizer)."""
    return '"' + q.replace('"', '""') + '"'


def document(values: Mapping[str, Any]) -> str:
    return SEP.join(str(values.get(c) or "") for c in TEXT_COLUMNS)


# ---------------------------------------------------------------- what exists


_trigram: dict[str, bool] = {}
_warned: set[str] = set()


def has_trigram(conn: Connection | Session) -> bool:
    """Whether this database has the trigram structure (the pg_trgm index or the FTS5
    table); looked up once per database and schema. Without it free text is scanned."""
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    dialect = bind.dialect.name
    if dialect == "sqlite":
        key = f"sqlite:{bind.engine.url.database}"
        q = "SELECT count(*) FROM sqlite_master WHERE name = :n"
        name = FTS_TABLE
    else:  # a test's schema is in the URL's options (search_path)
        key = bind.engine.url.render_as_string()
        q = ("SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() "
             "AND indexname = :n")
        name = TRGM_INDEX
    if key not in _trigram:
        found = bool(conn.execute(text(q), {"n": name}).scalar())
        if not found and key not in _warned:
            _warned.add(key)
            log.warning("search: no trigram index (%s) in this database: free-text search "
                        "scans the cases (LIKE); run the migrations with rights to create "
                        "the pg_trgm extension, then `manage.py search-rebuild`", name)
        if found:  # a missing one may come (a migration): asked again next time
            _trigram[key] = found
        return found
    return _trigram[key]


# ---------------------------------------------------------------- writing


def _fts(conn: Connection | Session) -> bool:
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    return bind.dialect.name == "sqlite" and has_trigram(conn)


def index_case(conn: Connection | Session, complaint_id: int, values: Mapping[str, Any],
               new: bool) -> None:
    """(Re)write one case's search rows from its column values."""
    doc = document(values)
    if not new:
        conn.execute(text(f"DELETE FROM {BIGRAMS} WHERE complaint_id = :i"), {"i": complaint_id})
    grams = [{"g": g, "i": complaint_id} for g in sorted(bigrams(doc))]
    if grams:
        conn.execute(text(f"INSERT INTO {BIGRAMS} (bigram, complaint_id) VALUES (:g, :i)"), grams)
    if _fts(conn):
        if not new:
            conn.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :i"), {"i": complaint_id})
        conn.execute(text(f"INSERT INTO {FTS_TABLE} (rowid, doc) VALUES (:i, :d)"),
                     {"i": complaint_id, "d": doc})


def index_rows(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """New cases' search rows in bulk (synth, the migration, the rebuild): each row has the
    case's `id` and its text columns."""
    grams = [(g, r["id"]) for r in rows for g in sorted(bigrams(document(r)))]
    if grams and conn.dialect.name == "postgresql":
        # COPY: ~25 pairs a case, millions for the migration of a big database
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(
                f"COPY {BIGRAMS} (bigram, complaint_id) FROM STDIN") as copy:
            for row in grams:
                copy.write_row(row)
    elif grams:
        conn.execute(text(f"INSERT INTO {BIGRAMS} (bigram, complaint_id) VALUES (:g, :i)"),
                     [{"g": g, "i": i} for g, i in grams])
    if rows and _fts(conn):
        conn.execute(text(f"INSERT INTO {FTS_TABLE} (rowid, doc) VALUES (:i, :d)"),
                     [{"i": r["id"], "d": document(r)} for r in rows])


def _batches(conn: Connection) -> Iterable[list[dict[str, Any]]]:
    cols = ", ".join(("id", *TEXT_COLUMNS))
    last = 0
    while True:
        rows = [dict(r._mapping) for r in conn.execute(text(
            f"SELECT {cols} FROM complaints WHERE id > :last ORDER BY id LIMIT {BATCH}"),
            {"last": last})]
        if not rows:
            return
        yield rows
        last = int(rows[-1]["id"])


def fill(conn: Connection, progress: Callable[[int, int], object] | None = None) -> int:
    """Write every case's search rows into empty search tables; returns the number of cases."""
    total = int(conn.execute(text("SELECT count(*) FROM complaints")).scalar() or 0)
    done = 0
    for rows in _batches(conn):
        index_rows(conn, rows)
        done += len(rows)
        if progress:
            progress(done, total)
    return done


def rebuild(conn: Connection, progress: Callable[[int, int], object] | None = None) -> int:
    """Empty the search tables and fill them again from the cases (`manage.py
    search-rebuild`: after writing cases outside the application, or once pg_trgm can be
    created)."""
    upgrade(conn)
    conn.execute(text(f"DELETE FROM {BIGRAMS}"))
    if _fts(conn):
        conn.execute(text(f"DELETE FROM {FTS_TABLE}"))
    return fill(conn, progress)


def own_object(name: str | None) -> bool:
    """The search's tables and indexes that the models do not declare (expression indexes,
    the FTS5 table and its shadow tables): left out of the schema comparison."""
    return bool(name) and (str(name).startswith(FTS_TABLE) or str(name).startswith("ix_search_"))


def key_index_names() -> list[str]:
    return [KEY_INDEX.format(c) for c in KEY_COLUMNS]


def upgrade(conn: Connection, say: Callable[[str], object] = log.info) -> None:
    """The search structures (migration 0024): key indexes, the trigram index or FTS5 table;
    the bigram table is made by the migration itself."""
    pg = conn.dialect.name == "postgresql"
    for c in KEY_COLUMNS:
        expr = f'(upper({c})) COLLATE "C"' if pg else f"upper({c})"
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {KEY_INDEX.format(c)} "
                          f"ON complaints ({expr})"))
    if pg:
        schema = _trgm_schema(conn, say)
        if schema:
            conn.execute(text(
                f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON complaints USING gin "
                f'({DOC_SQL} "{schema}".gin_trgm_ops)'))
        return
    try:
        conn.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} "
                          "USING fts5(doc, tokenize='trigram')"))
    except Exception as e:  # noqa: BLE001 - an SQLite without FTS5 or its trigram tokenizer
        say(f"search: no FTS5 trigram table ({e}): free-text search scans the cases")


def _trgm_schema(conn: Connection, say: Callable[[str], object]) -> str | None:
    """The schema of pg_trgm, created in `public` if missing (tests drop their own schema
    with CASCADE: an extension there would go with it). None when it cannot be created."""
    q = text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
             "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")
    found = conn.execute(q).scalar()
    if found:
        return str(found)
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
    except Exception as e:  # noqa: BLE001 - no rights, or not installed on the server
        found = conn.execute(q).scalar()  # or another session created it meanwhile
        if found:
            return str(found)
        say(f"search: the pg_trgm extension cannot be created ({str(e).splitlines()[0]}): "
            "free-text search scans the cases (LIKE) until it is created and "
            "`manage.py search-rebuild` is run")
        return None
    found = conn.execute(q).scalar()
    return str(found) if found else None
