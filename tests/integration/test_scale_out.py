"""Issue #6, scale-out: two real app instances (`streamlit run app.py` on two ports, headless,
DATABASE_URL at one database — the test's own PostgreSQL schema in CI's PostgreSQL run —,
one shared KESU_DATA_DIR, one cookie key) serve the same factory: both answer the health
check and render the login page, a login cookie issued by one is honoured by the other,
complaints registered on both at once get unique, gap-free numbers, and each notification
reaches the robot exactly once although both instances run the background jobs.

The two-process numbering and outbox claims are tested on the services already
(test_concurrency.py, test_delivery.py); this is the same with two real servers."""
from __future__ import annotations

import re
import secrets
import time
from typing import Any
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench._load_servers import Server, server_env
from bench._load_worker import _draft_of
from bench.load import prepare
from core.model import Severity, State
from core.outbox import ChannelConfig
from core.rules.numbering import parse_number
from adapters.wiring import build_app
from tests.local_servers import Hooks

from tests.browser import CHROMIUM  # noqa: E402
if not Path(CHROMIUM).exists():
    pytest.skip(f"needs chromium at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from bench._load_browser import (  # noqa: E402
    fill_complaint, fresh_session, submit_complaint, wait_saved,
)
from tests.e2e.helpers import ZH, heading, login  # noqa: E402
from core import usecases as uc

expect.set_options(timeout=30_000)
ROUNDS = 2


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    h = Hooks()
    yield h
    h.close()


@pytest.fixture
def two_servers(db_url: str, tmp_path: Path, hooks: Hooks,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Server]]:
    prepare(db_url)  # migrate + the demo's people and reference data, once, before both start
    key = secrets.token_urlsafe(32)  # one secret key for all instances (README "Security")
    monkeypatch.setenv("KESU_SECRET_KEY", key)
    app = build_app(db_url, run_migrations=False)
    admin = uc.accounts.active_user(app, "admin")
    assert admin is not None
    uc.channels.set_channels(app, admin, ChannelConfig(wecom_url=f"{hooks.url}/wecom",
                                                       app_url="http://kesu.factory.cn",
                                                       allow_internal_hosts=True))
    app.uow.engine.dispose()  # type: ignore[attr-defined]
    shared = tmp_path / "shared-data"  # the one data folder (attachments) both mount
    env = server_env(db_url, shared, KESU_SECRET_KEY=key,
                     KESU_JOBS_INTERVAL="1")
    a = Server(env, tmp_path / "server-a.log")
    b = Server(env, tmp_path / "server-b.log")
    try:
        a.start()
        b.start()
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_two_instances_serve_one_database(db_url: str, two_servers: tuple[Server, Server],
                                          hooks: Hooks, chromium: Any) -> None:
    a, b = two_servers
    assert a.health() == 200 and b.health() == 200
    browser = chromium  # the process's one Chromium (tests/conftest.py)
    try:
        pages = []
        for server in (a, b):  # each instance renders the login page and logs in
            page = browser.new_context(base_url=server.url, locale="zh-CN",
                                       viewport={"width": 1400, "height": 1000}).new_page()
            page.goto("/")
            expect(heading(page, ZH.login_title)).to_be_visible()
            login(page, ZH, "sales")
            fresh_session(page)
            pages.append(page)
        # the cookie issued by A (same host, other port) logs the visitor in on B
        roaming = pages[0].context.new_page()
        roaming.goto(b.url + "/")
        expect(heading(roaming, ZH.log_title)).to_be_visible()
        expect(roaming.get_by_role("button", name=ZH.logout)).to_be_visible()
        roaming.close()

        for r in range(ROUNDS):  # both forms filled, then both submitted at once
            for i, page in enumerate(pages):
                ab = "AB"[i]
                fill_complaint(page, f"两台服务器同时登记 第{r}轮 {ab}", f"SCALE-{r}{ab}")
            for page in pages:  # each click once its page is quiet (see settle)
                submit_complaint(page)
            for page in pages:
                wait_saved(page)
    finally:
        for context in browser.contexts:
                context.close()

    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            numbers = [n for (n,) in conn.execute(text(
                "SELECT number FROM complaints WHERE description LIKE '两台服务器同时登记%'"))]
    finally:
        engine.dispose()

    assert len(numbers) == len(set(numbers)) == 2 * ROUNDS, numbers
    parsed = [parse_number(n) for n in numbers]
    assert all(parsed)
    assert sorted(p[1] for p in parsed if p) == list(range(1, 2 * ROUNDS + 1)), numbers

    # notifications: dispatching the cases queues one robot message each; both instances'
    # background threads compete for the outbox, and the group chat hears each once
    app = build_app(db_url, run_migrations=False)
    try:
        sales = uc.accounts.active_user(app, "sales")
        assert sales is not None
        for n in numbers:
            cid = uc.search.complaint_id_by_number(app, sales, n)
            assert cid is not None
            c = uc.complaints.complaint(app, sales, cid).complaint
            assert c.state == State.REGISTERED
            c = uc.complaints.update_complaint(app, sales, cid, c.version,
                                               _draft_of(c, severity_proposed=Severity.C))
            uc.investigation.dispatch(app, sales, cid, c.version)
        engine = create_engine(db_url, poolclass=NullPool)
        try:
            deadline = time.monotonic() + 90
            while True:
                with engine.connect() as conn:
                    rows = list(conn.execute(text("SELECT status, attempts FROM outbox")))
                if rows and all(s == "sent" for s, _ in rows):
                    break
                assert time.monotonic() < deadline, (rows, a.log()[-2000:], b.log()[-2000:])
                time.sleep(0.5)
        finally:
            engine.dispose()
    finally:
        app.uow.engine.dispose()  # type: ignore[attr-defined]
    time.sleep(2.5)  # two more job rounds: a second send would arrive now
    texts = [body["text"]["content"] for _, body in hooks.received]
    assert len(rows) == 2 * ROUNDS and {n for _, n in rows} == {1}
    assert len(texts) == 2 * ROUNDS, texts
    for n in numbers:
        assert sum(bool(re.search(re.escape(n), t)) for t in texts) == 1, (n, texts)
