"""Secrets and files (issue #11 item 7): the key that encrypts stored secrets, the secrets
themselves never in clear in the database, and a data folder only the service user can read."""
from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from adapters.security import FernetCipher, secret_key
from adapters.wiring import build_app
from core import usecases as uc
from core.outbox import ChannelConfig
from core.usecases.context import Context
from db.engine import make_engine
from tests.integration.conftest import World

PASSWORD = "Smtp-Pa55word-of-the-factory"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=fake-robot-1"  # short: no real key


def _key(folder: Path) -> bytes:
    return secret_key(folder, root=folder)  # no secrets.toml there


def test_instances_starting_together_share_one_key(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KESU_SECRET_KEY", raising=False)
    with ProcessPoolExecutor(6) as pool:
        keys = list(pool.map(_key, [tmp_path] * 30))
    assert len(set(keys)) == 1
    FernetCipher(keys[0])  # a valid Fernet key
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_a_configured_key_wins_and_nothing_is_written(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESU_SECRET_KEY", "a long passphrase from the password manager")
    first = secret_key(tmp_path, root=tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.delenv("KESU_SECRET_KEY")
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        '[kesu]\nsecret_key = "a long passphrase from the password manager"\n')
    assert secret_key(tmp_path, root=tmp_path) == first  # the same text, the same key
    assert not (tmp_path / "secret_key").exists()


def test_another_key_cannot_read_a_secret(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KESU_SECRET_KEY", raising=False)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = FernetCipher(_key(tmp_path / "a")), FernetCipher(_key(tmp_path / "b"))
    token = a.encrypt(PASSWORD)
    assert PASSWORD not in token and a.decrypt(token) == PASSWORD
    with pytest.raises(ValueError):
        b.decrypt(token)


def _stored(app: Context) -> dict[str, Any]:
    with app.uow() as uow:
        found = uow.settings.get("channels")
    assert isinstance(found, dict)
    return found


def _raw_channels(db_url: str) -> str:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT value FROM settings WHERE key = 'channels'"))
                       .scalar_one())
    finally:
        engine.dispose()


def test_the_smtp_password_and_robot_keys_are_not_in_clear_in_the_database(
        app: Context, world: World, db_url: str) -> None:
    uc.channels.set_channels(app, world.admin, ChannelConfig(
        smtp_host="mail.factory.cn", smtp_user="kesu", mail_from="kesu@factory.cn",
        wecom_url=WECOM), PASSWORD)
    raw = _raw_channels(db_url)
    assert PASSWORD not in raw and "fake-robot-1" not in raw
    assert json.loads(raw)["smtp_host"] == "mail.factory.cn"  # the rest stays readable
    stored = _stored(app)  # the sender reads them decrypted
    assert (stored["smtp_password"], stored["wecom_url"]) == (PASSWORD, WECOM)
    view = uc.channels.channel_config(app, world.admin)  # the Admin page: masked
    assert view.has_password and view.config.smtp_password == ""
    assert view.config.wecom_url == "https://qyapi.weixin.qq.com/…ot-1"
    # saving the form as shown keeps the robot's address
    uc.channels.set_channels(app, world.admin, view.config)
    assert _stored(app)["wecom_url"] == WECOM


def test_secrets_saved_in_clear_before_are_sealed_at_the_next_start(
        app: Context, db_url: str, make_app: Callable[..., Context]) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO settings (key, value) VALUES ('channels', :v)"),
                         {"v": json.dumps({"smtp_host": "mail.factory.cn",
                                           "mail_from": "kesu@factory.cn", "smtp_user": "kesu",
                                           "smtp_password": PASSWORD})})
    finally:
        engine.dispose()
    again = make_app(migrate=True)  # a start after the upgrade
    assert PASSWORD not in _raw_channels(db_url)
    assert _stored(again)["smtp_password"] == PASSWORD


def test_the_data_folder_and_the_sqlite_files_are_private(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("KESU_DATA_DIR", str(data))
    monkeypatch.delenv("KESU_SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the default start: SQLite there
    old = os.umask(0o022)  # the usual: files 0644, folders 0755
    try:
        build_app()  # creates the folder, the database and its WAL
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir() if p.is_file()}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert modes["kesu.db"] == 0o600 and modes["secret_key"] == 0o600
    assert all(m & 0o077 == 0 for m in modes.values()), modes
