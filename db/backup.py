"""Backup and restore: one .tar.gz with a consistent database copy, the attachments it refers
to, and a manifest with the SHA-256 of every file (docs/procedure.md §10).

Archive layout:
    database/kesu.sqlite3 | database/kesu.pgdump   the database copy (SQLite file or pg_dump -Fc)
    attachments/<sha256>                           each referenced attachment, by its checksum
    manifest.json                                  revision, created_at, counts, checksums

Consistency while the app keeps writing: SQLite is copied with the online backup API in one
step (one read snapshot; WAL lets writers go on); PostgreSQL is dumped by pg_dump inside a
snapshot exported by a REPEATABLE READ transaction that also counts the rows and lists the
attachments. Attachment files never change once written, so copying them afterwards is safe.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, BinaryIO

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from core.backup_rules import BackupFile, BackupReport
from core.errors import DomainError, NotFound
from adapters.blobs import FileBlobStore
from db.engine import ROOT, database_url, data_dir, migrate

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/kesu.sqlite3"
PG_MEMBER = "database/kesu.pgdump"
BLOB_PREFIX = "attachments/"
ARCHIVE = re.compile(r"^kesu-backup-\d{8}-\d{6}(-\d+)?\.tar\.gz$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20

# (step, done, total): "database" then "attachments" for a backup; "verify", "database",
# "attachments", "migrate" for a restore. The command line shows them as tqdm bars.
Progress = Callable[[str, int, int], None]


def _quiet(_step: str, _done: int, _total: int) -> None:
    return None


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Snapshot:
    """What the database copy holds, read from the copy's own snapshot."""

    kind: str  # "sqlite" | "postgresql"
    revision: str
    counts: dict[str, int]
    blobs: list[str]
    schema: str = ""


@dataclass(frozen=True)
class RestoreReport:
    data_dir: Path
    database_url: str
    manifest: dict[str, Any]
    revision_before: str
    revision_after: str
    attachments: int = 0
    notes: list[str] = field(default_factory=list)


def backups_dir(data: Path | None = None) -> Path:
    return (data or data_dir()) / "backups"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    return head or ""


def _known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    return {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}


# ---------------------------------------------------------------- reading a snapshot

_COUNT_SQL = {name: f"SELECT count(*) FROM {name}"
              for name in ("complaints", "events", "attachments")}
_BLOBS_SQL = "SELECT DISTINCT sha256 FROM attachments ORDER BY sha256"


def _snapshot(kind: str, execute: Callable[[str], list[tuple[Any, ...]]],
              schema: str = "") -> Snapshot:
    rev = execute("SELECT version_num FROM alembic_version")
    counts = {name: int(execute(sql)[0][0]) for name, sql in _COUNT_SQL.items()}
    blobs = [str(r[0]) for r in execute(_BLOBS_SQL)]
    return Snapshot(kind, str(rev[0][0]) if rev else "", counts, blobs, schema)


def _copy_sqlite(url: URL, target: Path) -> Snapshot:
    source = Path(url.database or "")
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(str(source), timeout=15)
    dst = sqlite3.connect(str(target))
    try:
        # one step = one read snapshot; stepping page by page would restart on every write
        src.backup(dst, pages=-1)
    finally:
        src.close()
    try:
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
        check = dst.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(f"the database copy fails SQLite's check: {check}")
        return _snapshot("sqlite", lambda sql: dst.execute(sql).fetchall())
    except sqlite3.DatabaseError as err:
        raise BackupError(f"the database copy cannot be read: {err}") from err
    finally:
        dst.close()


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (given to pg_dump through the environment)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BackupError(
            f"{tool} is not on PATH. Install the PostgreSQL client tools of the server's version "
            f"(Debian/Ubuntu: apt-get install postgresql-client) or back up with "
            f"`pg_dump -Fc` yourself (see README, Backup and restore).")
    return path


def _dump_postgres(url: URL, target: Path) -> Snapshot:
    pg_dump = _need("pg_dump")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                snapshot_id = conn.scalar(text("SELECT pg_export_snapshot()"))
                schema = conn.scalar(text("SELECT current_schema()")) or ""
                if not schema:
                    raise BackupError("the database URL's search_path names no existing schema")
                snap = _snapshot("postgresql",
                                 lambda sql: [tuple(r) for r in conn.exec_driver_sql(sql)],
                                 schema)
                uri, env = _libpq(url)
                quoted = '"' + schema.replace('"', '""') + '"'
                # the dump sees exactly the rows counted above: same exported snapshot
                done = subprocess.run(
                    [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", "--schema", quoted,
                     "--no-owner", "--no-privileges", "--file", str(target), uri],
                    env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        return snap
    finally:
        engine.dispose()


# ---------------------------------------------------------------- backup


def _archive_name(out: Path, now: datetime) -> Path:
    base = f"kesu-backup-{now:%Y%m%d-%H%M%S}"
    path, n = out / f"{base}.tar.gz", 1
    while path.exists():
        n += 1
        path = out / f"{base}-{n}.tar.gz"
    return path


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o600
    tar.addfile(info, io.BytesIO(data))


def make_backup(url: str | None = None, data: Path | None = None, out: Path | None = None,
                progress: Progress = _quiet, now: datetime | None = None) -> BackupReport:
    """Write one archive of the database and its attachments; the app may keep running."""
    url_ = make_url(url or database_url())
    data = data or data_dir()
    out = out or backups_dir(data)
    out.mkdir(parents=True, exist_ok=True)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    kind = url_.get_backend_name()
    if kind not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {kind} database")
    blobs = FileBlobStore(data / "attachments")
    path = _archive_name(out, now)
    part = path.with_name(path.name + ".part")
    with tempfile.TemporaryDirectory(prefix="kesu-backup-", dir=out) as tmp:
        progress("database", 0, 1)
        member = SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER
        copy = Path(tmp) / Path(member).name
        snap = _copy_sqlite(url_, copy) if kind == "sqlite" else _dump_postgres(url_, copy)
        files = {member: _sha256_file(copy)}
        missing: list[str] = []
        mtime = now.timestamp()
        try:
            with tarfile.open(part, "w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
                info = tarfile.TarInfo(member)
                info.size, info.mtime, info.mode = copy.stat().st_size, mtime, 0o600
                with copy.open("rb") as f:
                    tar.addfile(info, f)
                progress("database", 1, 1)
                total = len(snap.blobs)
                progress("attachments", 0, total)
                for i, sha in enumerate(snap.blobs, 1):
                    try:
                        body = blobs.get(sha)
                    except NotFound:
                        body = None
                    if body is None or hashlib.sha256(body).hexdigest() != sha:
                        missing.append(sha)  # gone or damaged on disk: reported, not archived
                    else:
                        _add_bytes(tar, BLOB_PREFIX + sha, body, mtime)
                        files[BLOB_PREFIX + sha] = sha
                    progress("attachments", i, total)
                manifest = {
                    "format": FORMAT, "app": "kesu", "revision": snap.revision,
                    "created_at": now.isoformat().replace("+00:00", "Z"),
                    "database": snap.kind, "schema": snap.schema, "counts": snap.counts,
                    "missing_attachments": missing, "files": files,
                }
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True)
                           .encode(), mtime)
            os.chmod(part, 0o600)  # password hashes and channel secrets are inside
            os.replace(part, path)  # the folder never lists half an archive
        finally:
            part.unlink(missing_ok=True)
    return BackupReport(
        file=_info(path), revision=snap.revision, complaints=snap.counts["complaints"],
        events=snap.counts["events"], attachments=len(snap.blobs) - len(missing),
        missing_blobs=tuple(missing))


def _info(path: Path) -> BackupFile:
    st = path.stat()
    return BackupFile(path.name, st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc))


def list_backups(out: Path | None = None) -> list[BackupFile]:
    """The finished archives in the backup folder, newest first."""
    out = out or backups_dir()
    if not out.is_dir():
        return []
    found = [_info(p) for p in out.iterdir() if p.is_file() and ARCHIVE.match(p.name)]
    return sorted(found, key=lambda b: (b.created_at, b.name), reverse=True)


@dataclass
class FolderArchiver:
    """The Archiver port (core.backup_rules) on the app's database and data folder."""

    url: str
    data: Path
    out: Path | None = None

    def create(self) -> BackupReport:
        try:
            return make_backup(self.url, self.data, self.folder)
        except BackupError as err:  # e.g. pg_dump missing: the admin reads why
            raise DomainError("backup.failed_because", reason=str(err)) from err

    @property
    def folder(self) -> Path:
        return self.out or backups_dir(self.data)

    def archives(self) -> list[BackupFile]:
        return list_backups(self.folder)

    def read(self, name: str) -> bytes:
        if not ARCHIVE.match(name) or not (self.folder / name).is_file():
            raise NotFound()  # only a listed archive, never a path
        return (self.folder / name).read_bytes()


# ---------------------------------------------------------------- restore


def _safe_member(name: str) -> bool:
    if name == MANIFEST or name in (SQLITE_MEMBER, PG_MEMBER):
        return True
    return name.startswith(BLOB_PREFIX) and bool(_SHA.match(name[len(BLOB_PREFIX):]))


@contextmanager
def _reading(archive: Path) -> Iterator[tuple[tarfile.TarFile, BinaryIO]]:
    """The archive as a stream of members, and the raw file (its position shows progress)."""
    try:
        with archive.open("rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                yield tar, raw
            while gz.read(_CHUNK):  # to the end: gzip checks its CRC and length there
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise BackupError(f"{archive.name} is damaged or truncated ({err}); nothing was "
                          f"restored. Use another backup.") from err


def _stream(f: IO[bytes]) -> Iterator[bytes]:
    return iter(lambda: f.read(_CHUNK), b"")


def verify_archive(archive: Path, progress: Progress = _quiet) -> dict[str, Any]:
    """Read the whole archive and check every file against the manifest; return the manifest."""
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}")
    seen: dict[str, str] = {}
    manifest_bytes = b""
    total = archive.stat().st_size
    with _reading(archive) as (tar, raw):
        for member in tar:
            if not member.isfile() or not _safe_member(member.name) or member.name in seen:
                raise BackupError(f"{archive.name} is not a kesu backup: unexpected entry "
                                  f"{member.name!r}; nothing was restored.")
            f = tar.extractfile(member)
            assert f is not None
            h = hashlib.sha256()
            body = io.BytesIO() if member.name == MANIFEST else None
            for chunk in _stream(f):
                h.update(chunk)
                if body is not None:
                    body.write(chunk)
            seen[member.name] = h.hexdigest()
            if body is not None:
                manifest_bytes = body.getvalue()
            progress("verify", min(raw.tell(), total), total)
    if not manifest_bytes:
        raise BackupError(f"{archive.name} has no manifest: not a kesu backup; nothing was "
                          f"restored.")
    try:
        manifest: dict[str, Any] = json.loads(manifest_bytes)
        files: dict[str, str] = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as err:
        raise BackupError(f"the manifest of {archive.name} cannot be read; nothing was "
                          f"restored.") from err
    if manifest.get("format") != FORMAT or manifest.get("app") != "kesu":
        raise BackupError(f"{archive.name} is not a kesu backup of format {FORMAT}.")
    seen.pop(MANIFEST)
    bad = sorted(n for n in files if seen.get(n) != files[n])
    extra = sorted(set(seen) - set(files))
    if bad or extra:
        raise BackupError(
            f"{archive.name} failed its checksums ({len(bad)} file(s) missing or changed"
            f"{', e.g. ' + bad[0] if bad else ''}; {len(extra)} unlisted); nothing was "
            f"restored. Use another backup.")
    progress("verify", total, total)
    return manifest


def _is_empty(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def _kesu_tables(url: str) -> set[str]:
    from db.tables import Base

    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names()) & (
            set(Base.metadata.tables) | {"alembic_version"})
    finally:
        engine.dispose()


def _current_schema(url: str) -> str:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(text("SELECT current_schema()")) or "")
    finally:
        engine.dispose()


def _pg_restore(url: URL, dump: Path, schema: str) -> None:
    pg_restore = _need("pg_restore")
    uri, env = _libpq(url)
    listing = subprocess.run([pg_restore, "--list", str(dump)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"pg_restore cannot read the dump: {listing.stderr.strip()}")
    # the schema exists already (it is the URL's current schema): skip its CREATE and COMMENT
    skip = (f" SCHEMA - {schema} ", f" COMMENT - SCHEMA {schema} ")
    keep = [line for line in listing.stdout.splitlines()
            if not any(s in line + " " for s in skip)]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as f:
        f.write("\n".join(keep) + "\n")
    try:
        done = subprocess.run(
            [pg_restore, "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", "--use-list", f.name, "--dbname", uri, str(dump)],
            env=env, capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing restored): {done.stderr.strip()}")


def restore(archive: Path, data: Path, url: str | None = None,
            progress: Progress = _quiet) -> RestoreReport:
    """Bring an archive back into an empty data folder (and, for PostgreSQL, an empty schema).

    The whole archive is verified before anything is written; the database is then migrated
    to the newest schema when the backup is older.
    """
    manifest = verify_archive(archive, progress)
    kind = manifest.get("database")
    revision = str(manifest.get("revision") or "")
    if revision not in _known_revisions():
        raise BackupError(f"the backup's schema revision {revision!r} is unknown to this kesu "
                          f"(made by a newer version?): update kesu first; nothing was restored.")
    if not _is_empty(data):
        raise BackupError(f"the data folder {data} is not empty: restore only into an empty "
                          f"(or new) folder, e.g. --data-dir /srv/kesu/data-restored; nothing "
                          f"was restored.")
    notes: list[str] = []
    if kind == "sqlite":
        target_url = f"sqlite:///{data / 'kesu.db'}"
        if url and make_url(url).get_backend_name() != "sqlite":
            raise BackupError("this is a SQLite backup but DATABASE_URL names a PostgreSQL "
                              "database: unset DATABASE_URL to restore it into the data folder.")
        if url and make_url(url).database and Path(make_url(url).database or "") != (
                data / "kesu.db"):
            notes.append(f"DATABASE_URL points elsewhere; the restored database is "
                         f"{data / 'kesu.db'}")
    elif kind == "postgresql":
        if not url or make_url(url).get_backend_name() != "postgresql":
            raise BackupError("this is a PostgreSQL backup: set DATABASE_URL to the (empty) "
                              "PostgreSQL database to restore into.")
        target_url = url
        existing = _kesu_tables(url)
        if existing:
            raise BackupError(f"the database {make_url(url).render_as_string()} already has kesu "
                              f"tables ({', '.join(sorted(existing)[:4])}…): restore only into "
                              f"an empty database; nothing was restored.")
        schema = _current_schema(url)
        if schema != manifest.get("schema"):
            raise BackupError(
                f"the backup holds schema {manifest.get('schema')!r} but the database URL uses "
                f"{schema or 'no existing schema'!r}: restore into a database whose search_path "
                f"schema is {manifest.get('schema')!r}; nothing was restored.")
    else:
        raise BackupError(f"unknown database kind {kind!r} in the manifest")

    created = not data.exists()
    data.mkdir(parents=True, exist_ok=True)
    try:
        count = _unpack(archive, data, kind, target_url, manifest, progress)
        progress("migrate", 0, 1)
        migrate(target_url)
        progress("migrate", 1, 1)
    except BaseException:
        _empty_again(data, created)
        raise
    return RestoreReport(data, target_url, manifest, revision, head_revision(), count, notes)


def _unpack(archive: Path, data: Path, kind: str, url: str, manifest: dict[str, Any],
            progress: Progress) -> int:
    files: dict[str, str] = manifest["files"]
    blobs = FileBlobStore(data / "attachments")
    total, done = len([n for n in files if n.startswith(BLOB_PREFIX)]), 0
    with _reading(archive) as (tar, _), tempfile.TemporaryDirectory(dir=data) as tmp:
        for member in tar:
            f = tar.extractfile(member)
            assert f is not None
            if member.name in (SQLITE_MEMBER, PG_MEMBER):
                progress("database", 0, 1)
                copy = Path(tmp) / "db"
                with copy.open("wb") as out:
                    shutil.copyfileobj(f, out, _CHUNK)
                if _sha256_file(copy) != files[member.name]:  # changed since verify_archive
                    raise BackupError("the archive changed while it was restored")
                if kind == "sqlite":
                    os.replace(copy, data / "kesu.db")
                else:
                    _pg_restore(make_url(url), copy, str(manifest["schema"]))
                progress("database", 1, 1)
            elif member.name.startswith(BLOB_PREFIX):
                body = f.read()
                if blobs.put(body) != member.name[len(BLOB_PREFIX):]:
                    raise BackupError("the archive changed while it was restored")
                done += 1
                progress("attachments", done, total)
    return done


def _empty_again(data: Path, created: bool) -> None:
    """Undo a failed restore: the folder was empty (or new) before, so empty it again."""
    for child in data.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    if created:
        data.rmdir()
