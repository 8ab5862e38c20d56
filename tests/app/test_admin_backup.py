"""pages/admin.py → Backup: an admin makes a backup now and sees it listed for download; the
restore is shown as a command; the service refuses anyone but an active admin."""
from __future__ import annotations

import dataclasses
import os
import tarfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import NotAllowed, NotFound
from core.model import User
from core.usecases.context import Context
from db.backup import verify_archive
from tests.app.conftest import DEMO_CASES
from tests.app.helpers import (
    block, en, login_as, new_app, no_exception, open_page, open_tab, values, widget, zh,
)
from ui.admin_backup import service
from core import usecases as uc


def _user(app: Context, name: str) -> User:
    user = uc.accounts.active_user(app, name)
    assert user is not None
    return user


def _tab(username: str = "admin", lang: str = "zh") -> tuple[AppTest, object]:
    at = open_page("pages/admin.py", username, lang)
    return at, open_tab(at, "admin_tab", (en if lang == "en" else zh)("admin.backup"))


def _archives() -> list[Path]:
    return sorted((Path(os.environ["KESU_DATA_DIR"]) / "backups").glob("kesu-backup-*.tar.gz"))


def test_admin_makes_a_backup_and_it_is_listed_for_download(demo_db: Context) -> None:
    at, tab = _tab(lang="en")
    assert values(tab, "info") == [en("backup.none")]
    assert not _archives()

    widget(tab, "button", en("backup.make")).click().run()
    no_exception(at)
    tab = block(at, "tabs", en("admin.backup"))
    [archive] = _archives()
    manifest = verify_archive(archive)
    assert manifest["counts"]["complaints"] == DEMO_CASES  # read from the database copy
    [status] = tab.status  # type: ignore[attr-defined]
    size = status.label.split("(")[1].split(";")[0]
    assert size.endswith(" KB")
    assert status.label == en("backup.done", name=archive.name, size=size, complaints=DEMO_CASES,
                              events=manifest["counts"]["events"],
                              attachments=manifest["counts"]["attachments"])
    assert status.state == "complete"
    listed = values(tab, "text")
    assert len(listed) == 1 and listed[0].startswith(archive.name + " · ")
    [download] = tab.get("download_button")  # type: ignore[attr-defined]
    assert download.proto.label == en("backup.download")
    assert values(tab, "info") == []


def test_the_tab_explains_restore_as_a_command_not_a_button(ref_db: Context) -> None:
    at, tab = _tab()
    assert zh("backup.restore_unsafe") in values(tab, "warning")
    [code] = tab.code  # type: ignore[attr-defined]
    assert code.value.startswith("python manage.py restore ") and "--data-dir" in code.value
    assert [b.label for b in tab.button] == [zh("backup.make")]  # type: ignore[attr-defined]


def test_the_service_refuses_a_non_admin_and_a_deactivated_admin(ref_db: Context) -> None:
    # the page is not offered to a non-admin; the service refuses whoever calls it anyway
    backups = service()
    qa = _user(ref_db, "qa")
    with pytest.raises(NotAllowed):
        backups.make_backup(qa)
    with pytest.raises(NotAllowed):
        backups.list_backups(qa)
    forged = dataclasses.replace(qa, roles=frozenset(_user(ref_db, "admin").roles))
    with pytest.raises(NotAllowed):  # roles are re-read from the database, not trusted
        backups.make_backup(forged)
    assert not _archives()

    admin = _user(ref_db, "admin")
    report = backups.make_backup(admin)
    assert [f.name for f in backups.list_backups(admin)] == [report.file.name]
    with pytest.raises(NotAllowed):
        backups.backup_bytes(qa, report.file.name)
    body = backups.backup_bytes(admin, report.file.name)
    assert body == _archives()[0].read_bytes()
    with tarfile.open(_archives()[0]) as tar:
        assert "manifest.json" in tar.getnames()


def test_only_a_listed_archive_can_be_downloaded(ref_db: Context) -> None:
    backups = service()
    admin = _user(ref_db, "admin")
    secret = Path(os.environ["KESU_DATA_DIR"]) / "secret_key"
    secret.write_text("not for download")
    for name in ("../secret_key", "secret_key", "kesu-backup-20260101-000000.tar.gz"):
        with pytest.raises(NotFound):
            backups.backup_bytes(admin, name)


def test_a_non_admin_has_no_admin_page(ref_db: Context) -> None:
    at = login_as(new_app(), "qa")
    at.run()
    with pytest.raises(ValueError):
        at.switch_page("pages/admin.py")
