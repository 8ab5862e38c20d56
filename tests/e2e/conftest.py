"""End-to-end tier: a real `streamlit run server.py` driven by Chromium through Playwright.

One server per test session, on a free port, with its own temporary data folder (SQLite,
attachments, cookie key) filled by `python manage.py demo --cases 20`. The browser tests
always use that temporary SQLite database, also in the CI run that sets DATABASE_URL to
PostgreSQL (the variable is removed for the server), so they never share data with the
other tiers. Every test gets a fresh browser context: no cookies, no session.

The tier is skipped only when /usr/bin/chromium is missing (`playwright install` cannot
download browsers here); CI (.ci/run) installs it and fails if any e2e test was skipped.
On a failure the page's screenshot is saved under KESU_E2E_ARTIFACTS (default:
<system temp>/kesu-e2e-artifacts) and the server's log is kept there too.
"""
from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402,F401 - used by other modules

if not Path(CHROMIUM).exists():
    pytest.skip(f"end-to-end tests need chromium at {CHROMIUM} (apt-get install -y chromium)",
                allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("KESU_E2E_ARTIFACTS")
                 or Path(tempfile.gettempdir()) / "kesu-e2e-artifacts")

expect.set_options(timeout=20_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # always the temp SQLite file, whatever the CI run uses
    env.update(KESU_DATA_DIR=str(data_dir), KESU_BCRYPT_ROUNDS="4", PYTHONUNBUFFERED="1",
               STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    return env


@contextlib.contextmanager
def running_server(data_dir: Path, cases: int, log_path: Path, background: bool = True,
                   extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`manage.py demo --cases N` into `data_dir`, then the app on a free port until exit
    (`background=False`: no escalation/outbox thread, for a module that needs none;
    `extra_env`: more settings for the server, e.g. KESU_HTTPS — with KESU_ALLOWED_HOSTS the
    health check asks for the first allowed host, the only names such a server answers to)."""
    env = _server_env(data_dir)
    if not background:
        env["KESU_BACKGROUND"] = "off"
    env.update(extra_env or {})
    hosts = [h.strip() for h in env.get("KESU_ALLOWED_HOSTS", "").split(",") if h.strip()]
    health_headers = {"Host": hosts[0]} if hosts else {}
    demo = subprocess.run([sys.executable, "manage.py", "demo", "--cases", str(cases)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
                          check=False)
    if demo.returncode != 0:
        pytest.fail(f"manage.py demo failed:\n{demo.stdout}\n{demo.stderr}")
    port = _free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(urllib.request.Request(
                        f"{url}/_stcore/health", headers=health_headers), timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the app on a free port with a demo database; stop it at the end of the session."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("tests_e2e_*.png"):  # screenshots of an earlier session
        old.unlink()
    with running_server(tmp_path_factory.mktemp("kesu-e2e-data"), 20,
                        ARTIFACTS / "streamlit-server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium: Browser) -> Browser:
    return chromium


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item (the page fixture screenshots failures)."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@pytest.fixture
def new_page(browser: Browser, server_url: str,
             request: pytest.FixtureRequest) -> Iterator[Callable[[], Page]]:
    """Open pages, each in a fresh browser context (no cookie: a new visitor).

    When the test fails, every page it opened is saved as a screenshot under ARTIFACTS.
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def open_page() -> Page:
        context = browser.new_context(base_url=server_url, locale="zh-CN",
                                      viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        pages.append(context.new_page())
        return pages[-1]

    try:
        yield open_page
    finally:
        screenshot_if_failed(request, pages)
        for context in contexts:
            context.close()


def screenshot_if_failed(request: pytest.FixtureRequest, pages: list[Page]) -> None:
    """When the test failed: every page it opened, saved as a screenshot under ARTIFACTS."""
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
    for i, pg in enumerate(pages):
        try:
            pg.screenshot(path=str(ARTIFACTS / f"{name}-{i}.png"), full_page=True)
        except Exception as err:  # noqa: BLE001 - a screenshot must not hide the failure
            print(f"screenshot failed: {err}")


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    """A page in a fresh browser context (no cookie, no session)."""
    return new_page()
