"""Backup and restore on the real database (SQLite file and PostgreSQL), docs/procedure.md §10.

A backup is taken while another application instance keeps registering complaints with
attachments; the archive is restored into an empty data folder (PostgreSQL: an empty schema),
the app is built on it, and the cases are compared with what the services showed before.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from core.rules.numbering import parse_number
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.complaints import Upload
from db.backup import BackupError, head_revision, make_backup, restore, verify_archive
from db.engine import ROOT
from adapters.wiring import build_app
from tests.integration.conftest import NOW, World, engine_of
from core import usecases as uc

Case = tuple[str, int, list[bytes]]  # number, events, attachment bytes


def _png(tag: str) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + f"{tag} 照片 ".encode() * 40


def _cases(app: Context, world: World) -> dict[str, Case]:
    """Every case as a user sees it through the services: number, events, attachment bytes."""
    with engine_of(app).connect() as conn:
        ids = list(conn.scalars(text("SELECT id FROM complaints ORDER BY id")))
    out: dict[str, Case] = {}
    for cid in ids:
        view = uc.complaints.complaint(app, world.qa, cid)
        files = [uc.complaints.attachment(app, world.qa, a.id or 0)[1] for a in view.attachments]
        out[view.complaint.number] = (view.complaint.number, len(view.events), files)
    return out


def _empty_the_database(url: str, apps: list[Context]) -> None:
    """PostgreSQL: the test's schema dropped and made again, as on a new server."""
    for a in apps:
        engine_of(a).dispose()
    schema = make_url(url).query["options"].split("=", 1)[1]  # type: ignore[union-attr]
    engine = create_engine(make_url(url).set(query={}), poolclass=NullPool,
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def _target(db_url: str, tmp_path: Path, apps: list[Context]) -> tuple[Path, str]:
    """Where a restore goes: a new data folder, and the database URL to restore into."""
    restored = tmp_path / "restored"
    if db_url.startswith("sqlite"):
        return restored, f"sqlite:///{restored / 'kesu.db'}"
    _empty_the_database(db_url, apps)
    return restored, db_url


def _restored_app(data: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Context:
    monkeypatch.setenv("KESU_DATA_DIR", str(data))
    monkeypatch.setenv("DATABASE_URL", url)
    return dataclasses.replace(build_app(url, run_migrations=False), clock=lambda: NOW)


def test_backup_while_registering_restores_the_same_cases_and_numbering_goes_on(
        app: Context, world: World, draft: Callable[..., ComplaintDraft],
        make_app: Callable[..., Context], db_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        uc.complaints.register_complaint(app, world.sales, draft(lot=f"B{i}"),
                                         [Upload(f"b{i}.png", _png(f"before {i}"))])
    uc.complaints.register_complaint(app, world.sales, draft(lot="shared"),
                                     [Upload("s.png", _png("before 0"))])

    writer, stop = make_app(), threading.Event()
    registered: list[str] = []
    running, errors = threading.Event(), []

    def keep_registering() -> None:
        try:
            while not stop.is_set():
                k = len(registered)
                made = uc.complaints.register_complaint(writer, world.sales, draft(lot=f"W{k}"),
                                                        [Upload(f"w{k}.png", _png(f"writer {k}"))])
                registered.append(made.number)
                if k >= 2:
                    running.set()
        except Exception as err:  # noqa: BLE001 - reported by the test below
            errors.append(err)
            running.set()

    thread = threading.Thread(target=keep_registering)
    thread.start()
    try:
        assert running.wait(60)
        report = make_backup(db_url, Path(os.environ["KESU_DATA_DIR"]), tmp_path / "out")
        written_during = len(registered)
        while len(registered) < written_during + 2 and thread.is_alive():
            stop.wait(0.01)  # a few more after the backup: they must not be in it
    finally:
        stop.set()
        thread.join(60)
    assert not errors, errors
    before = _cases(app, world)
    assert len(before) == 4 + len(registered)

    archive = tmp_path / "out" / report.file.name
    manifest = verify_archive(archive)
    assert report.missing_blobs == ()
    assert manifest["counts"]["complaints"] == report.complaints
    assert 4 + 3 <= report.complaints < len(before)  # the writer's later cases are not in it
    assert report.attachments == report.complaints - 1  # the shared bytes are stored once

    data, url = _target(db_url, tmp_path, [app, writer])
    done = restore(archive, data, url)
    assert done.revision_after == head_revision()
    restored = _restored_app(data, url, monkeypatch)
    after = _cases(restored, world)
    # a consistent copy: the first N cases, each exactly as it was (events, attachment bytes)
    assert len(after) == report.complaints
    assert after == {n: before[n] for n in after}
    serials = sorted(parse_number(n)[1] for n in after)  # type: ignore[index]
    assert serials == list(range(1, len(after) + 1))
    with engine_of(restored).connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM events")) == manifest["counts"]["events"]

    new = uc.complaints.register_complaint(restored, world.sales, draft(lot="after restore"),
                                           [Upload("new.png", _png("after"))])
    assert new.number not in after
    assert parse_number(new.number)[1] == len(after) + 1  # type: ignore[index]
    assert uc.complaints.attachment(
        restored,
        world.qa,
        uc.complaints.complaint(restored, world.qa, new.id or 0).attachments[0].id or 0,
    )[1] == _png("after")


def _corrupt(archive: Path, at: int) -> None:
    with archive.open("r+b") as f:
        f.seek(at)
        byte = f.read(1)
        f.seek(at)
        f.write(bytes([byte[0] ^ 0xFF]))


def _rewrite(archive: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Rewrite the archive with one file's bytes changed but a valid gzip/tar around them."""
    with tarfile.open(archive, "r:gz") as tar:
        items = [(m, tar.extractfile(m).read()) for m in tar]  # type: ignore[union-attr]
    with tarfile.open(archive, "w:gz") as tar:
        for m, body in items:
            body = change(m.name, body)
            m.size = len(body)
            tar.addfile(m, io.BytesIO(body))


def _no_files(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def test_damaged_truncated_or_tampered_archives_are_refused_and_nothing_is_written(
    app: Context, world: World, draft: Callable[..., ComplaintDraft], db_url: str, tmp_path: Path
) -> None:
    uc.complaints.register_complaint(app, world.sales, draft(), [Upload("a.png", _png("a"))])
    report = make_backup(db_url, Path(os.environ["KESU_DATA_DIR"]), tmp_path / "out")
    good = tmp_path / "out" / report.file.name
    target = tmp_path / "target"

    flipped = tmp_path / "flipped.tar.gz"
    flipped.write_bytes(good.read_bytes())
    _corrupt(flipped, flipped.stat().st_size // 2)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    tampered = tmp_path / "tampered.tar.gz"
    tampered.write_bytes(good.read_bytes())
    _rewrite(tampered, lambda name, body: body + b"!" if name.startswith("attachments/") else body)
    no_manifest = tmp_path / "other.tar.gz"
    with tarfile.open(no_manifest, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("attachments/" + "0" * 64), io.BytesIO(b""))

    for bad, words in [
        (flipped, "damaged"),
        (truncated, "truncated"),
        (tampered, "failed its checksums"),
        (no_manifest, "no manifest"),
    ]:
        with pytest.raises(BackupError, match=words) as err:
            restore(bad, target, db_url)
        assert "nothing was restored" in str(err.value)
        assert _no_files(target)
    # the database was not touched either: the original still has its one case
    with engine_of(app).connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM complaints")) == 1


def test_a_non_empty_target_is_refused(app: Context, world: World,
                                       draft: Callable[..., ComplaintDraft], db_url: str,
                                       tmp_path: Path) -> None:
    uc.complaints.register_complaint(app, world.sales, draft())
    report = make_backup(db_url, Path(os.environ["KESU_DATA_DIR"]), tmp_path / "out")
    archive = tmp_path / "out" / report.file.name
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("someone's file")
    with pytest.raises(BackupError, match="not empty"):
        restore(archive, busy, db_url if db_url.startswith("postgresql") else None)
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    if db_url.startswith("postgresql"):
        # an empty folder, but the database still has kesu's tables
        with pytest.raises(BackupError, match="already has kesu tables"):
            restore(archive, tmp_path / "empty", db_url)
        assert _no_files(tmp_path / "empty")
    with engine_of(app).connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM complaints")) == 1


def test_a_referenced_attachment_missing_from_the_store_is_reported(
    app: Context, world: World, draft: Callable[..., ComplaintDraft], db_url: str, tmp_path: Path
) -> None:
    uc.complaints.register_complaint(app, world.sales, draft(),
                                     [Upload("a.png", _png("kept")), Upload("b.png", _png("lost"))])
    lost = hashlib.sha256(_png("lost")).hexdigest()
    (Path(os.environ["KESU_DATA_DIR"]) / "attachments" / lost[:2] / lost).unlink()
    report = make_backup(db_url, Path(os.environ["KESU_DATA_DIR"]), tmp_path / "out")
    assert report.missing_blobs == (lost,)
    assert report.attachments == 1
    manifest = verify_archive(tmp_path / "out" / report.file.name)
    assert manifest["missing_attachments"] == [lost]


def _migrate_to(url: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, revision)


def test_a_backup_of_an_older_schema_is_migrated_to_the_newest_on_restore(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _migrate_to(db_url, "0001")
    engine = create_engine(db_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO departments (code, name_zh, name_en, active) "
                "VALUES ('QA', '品质部', 'Quality', true)"
            )
        )
    engine.dispose()
    report = make_backup(db_url, Path(os.environ["KESU_DATA_DIR"]), tmp_path / "out")
    assert report.revision == "0001"
    data, url = _target(db_url, tmp_path, [])
    done = restore(tmp_path / "out" / report.file.name, data, url)
    assert (done.revision_before, done.revision_after) == ("0001", head_revision())
    app = _restored_app(data, url, monkeypatch)
    assert uc.accounts.needs_first_admin(
        app
    )  # the restored, migrated database works through services
    assert [d.name_zh for d in uc.reference.departments(app)] == ["品质部"]
    uc.accounts.create_first_admin(app, "admin", "管理员", "correct-horse-1")
    assert not uc.accounts.needs_first_admin(app)


def _manage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=300)


def test_manage_py_backup_and_restore_commands(app: Context, world: World,
                                               draft: Callable[..., ComplaintDraft], db_url: str,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    made = uc.complaints.register_complaint(app, world.sales, draft(),
                                            [Upload("a.png", _png("cli"))])
    out = tmp_path / "out"
    done = _manage("backup", "--out", str(out))
    assert done.returncode == 0, done.stderr
    archives = sorted(out.glob("kesu-backup-*.tar.gz"))
    assert len(archives) == 1
    assert oct(archives[0].stat().st_mode & 0o777) == "0o600"
    assert "1 complaints" in done.stdout and "1 attachments" in done.stdout
    assert "database" in done.stderr and "attachments" in done.stderr  # the progress bars
    with gzip.open(archives[0]) as gz, tarfile.open(fileobj=gz) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert names[-1] == "manifest.json"
    assert manifest["database"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    assert manifest["revision"] == head_revision()
    assert set(manifest["files"]) == set(names) - {"manifest.json"}

    data, url = _target(db_url, tmp_path, [app])
    monkeypatch.setenv("DATABASE_URL", url)
    refused = _manage("restore", str(archives[0]), "--data-dir", str(out))
    assert refused.returncode != 0 and "not empty" in refused.stderr
    done = _manage("restore", str(archives[0]), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert "1 complaints" in done.stdout and f"KESU_DATA_DIR={data}" in done.stdout
    restored = _restored_app(data, url, monkeypatch)
    view = uc.complaints.complaint(restored, world.qa, made.id or 0)
    assert view.complaint.number == made.number
    assert uc.complaints.attachment(restored, world.qa, view.attachments[0].id or 0)[1] == _png(
        "cli"
    )
    assert view.events[0].at == NOW
