"""Issue #6, faults: processes killed with SIGKILL in the middle of the load, on the test's own
database (SQLite file, or PostgreSQL schema when DATABASE_URL is set). Afterwards the
database must be intact (SQLite integrity_check ok and foreign_key_check empty; on both: no
orphan rows, PostgreSQL constraints validated), no case half-written (its version equals its
version-bumping events, core/lifecycle.py), and every action a process had acknowledged —
journalled, or seen saved in the browser — present. See bench/_load_verify.py."""
from __future__ import annotations

import random
import secrets
import threading
import time
from typing import Any
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench._load_servers import Server, server_env
from bench._load_verify import read_journals, verify
from bench.load import Result, prepare, run_load
from core.rules.numbering import parse_number
from adapters.wiring import build_app
from core import usecases as uc


def test_workers_killed_mid_action_lose_nothing_they_acknowledged(
        db_url: str, tmp_path: Path) -> None:
    result = run_load(db_url, tmp_path / "journals", users=4, seconds=15, kills=3,
                      progress=False)
    print(result.report())
    assert result.killed == 3
    assert result.ok, result.report()
    # each killed worker was replaced by a new process (which ended cleanly: result.ok)
    journals = sorted((tmp_path / "journals").glob("worker-*.jsonl"))
    assert len(journals) == 7
    # the application works on afterwards: the next registration takes the next number
    app = build_app(db_url, run_migrations=False)
    try:
        sales = uc.accounts.active_user(app, "sales")
        assert sales is not None
        from bench._load_worker import _draft_of
        last = uc.complaints.complaint(app, sales, result.journals.acks[0]["case"]).complaint
        made = uc.complaints.register_complaint(app, sales, _draft_of(last, received_at=None))
        numbers = [a["num"] for a in result.journals.acks if a["op"] == "registered"]
        period = parse_number(made.number)
        assert period is not None
        same_month = [p for p in map(parse_number, numbers) if p and p[0] == period[0]]
        assert period[1] >= len(same_month) + 1
    finally:
        app.uow.engine.dispose()  # type: ignore[attr-defined]


from tests.browser import CHROMIUM  # noqa: E402
MARK = "浏览器登记"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs chromium at {CHROMIUM}")
def test_server_killed_while_a_browser_logs_complaints(db_url: str, tmp_path: Path,
                                                        chromium: Any) -> None:
    """A real `streamlit run server.py` is SIGKILLed while a browser saves a complaint on it (and
    worker processes load the same database); after a restart it serves again and nothing
    the browser had seen saved is missing."""
    from playwright.sync_api import expect

    from bench._load_browser import fill_complaint, fresh_session, submit_complaint, wait_saved
    from tests.e2e.helpers import ZH, heading, login

    prepare(db_url)
    env = server_env(db_url, tmp_path / "data", KESU_SECRET_KEY=secrets.token_urlsafe(32),
                     KESU_JOBS_INTERVAL="1")
    box: dict[str, Result] = {}
    load = threading.Thread(target=lambda: box.update(r=run_load(
        db_url, tmp_path / "journals", users=3, seconds=20, progress=False, prepared=True,
        outside_marker=MARK)))
    saved: list[str] = []
    rng = random.Random()
    server = Server(env, tmp_path / "server-1.log").start()
    load.start()
    try:
        browser = chromium  # the process's one Chromium (tests/conftest.py)
        try:
            page = browser.new_page(base_url=server.url, locale="zh-CN",
                                    viewport={"width": 1400, "height": 1000})
            page.goto("/")
            login(page, ZH, "sales")
            fresh_session(page)
            for k in range(2):
                fill_complaint(page, f"{MARK} {k}", f"FAULT-{k}")
                submit_complaint(page)
                wait_saved(page)
                saved.append(f"{MARK} {k}")
            fill_complaint(page, f"{MARK} 2", "FAULT-2")
            submit_complaint(page)
            time.sleep(rng.uniform(0.0, 0.6))  # mid-save, or just after
            server.kill()
            assert server.proc is not None and server.proc.returncode == -9
            page.close()

            server = Server(env, tmp_path / "server-2.log").start()  # the restart
            assert server.health() == 200
            page = browser.new_page(base_url=server.url, locale="zh-CN",
                                    viewport={"width": 1400, "height": 1000})
            page.goto("/")
            expect(heading(page, ZH.login_title)).to_be_visible()
            login(page, ZH, "sales")
            fresh_session(page)
            fill_complaint(page, f"{MARK} 3", "FAULT-3")
            submit_complaint(page)
            wait_saved(page)
            saved.append(f"{MARK} 3")
        finally:
            for context in browser.contexts:
                    context.close()
    finally:
        load.join(120)
        server.stop()
    result = box["r"]
    print(result.report())
    assert result.ok, result.report()  # integrity, no half-written case, journals all there
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        # again now that the browser is done too (the load may have ended before it)
        journals = read_journals(sorted((tmp_path / "journals").glob("worker-*.jsonl")))
        assert verify(engine, journals, result.killed, MARK) == []
        with engine.connect() as conn:
            stored = [d for (d,) in conn.execute(
                text("SELECT description FROM complaints WHERE description LIKE :m"),
                {"m": MARK + "%"})]
    finally:
        engine.dispose()
    for d in saved:  # what the browser saw saved is there, once
        assert stored.count(d) == 1, (d, stored)
    assert stored.count(f"{MARK} 2") <= 1  # the one cut off: saved whole once, or not at all
