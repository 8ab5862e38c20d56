"""Shared by every test tier: a fresh, empty database per test (`db_url`).

Which database: when DATABASE_URL is set (CI's second run, pointing at PostgreSQL) the tests
use that server, each test in its own freshly created schema that is dropped afterwards;
when it is not set, each test gets a new SQLite file under tmp_path.
The fixture also points DATABASE_URL and KESU_DATA_DIR at the test's database and a temp data
folder, and makes bcrypt cheap (KESU_BCRYPT_ROUNDS=4), so code that reads the environment
(app.py, manage.py) sees the same database as the test.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from adapters.translations import compile_catalogs

_SERVER_URL = os.environ.get("DATABASE_URL", "").strip()
BACKENDS = ["postgresql"] if _SERVER_URL else ["sqlite"]
compile_catalogs()  # locale/*/kesu.po -> kesu.mo where stale; core.i18n reads the .mo


def _normalised(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of an empty database that belongs to this test alone."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("KESU_DATA_DIR", str(data))
    monkeypatch.setenv("KESU_BCRYPT_ROUNDS", "4")
    if request.param == "sqlite":
        url = f"sqlite:///{data / 'kesu.db'}"
        monkeypatch.setenv("DATABASE_URL", url)
        yield url
        return

    server = make_url(_normalised(_SERVER_URL))
    if server.get_backend_name() != "postgresql":
        pytest.fail(f"DATABASE_URL must point at PostgreSQL, got {server.get_backend_name()}")
    schema = f"kesu_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            # never hang the suite on a connection a failed test left inside a transaction
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """The process's one Playwright and Chromium (see tests/browser.py); skipped only where
    Debian's chromium is not installed (CI fails a run whose browser tests were skipped)."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        yield browser
        browser.close()
