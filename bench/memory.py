"""Memory of one real app server with many active sessions (issue #6): RSS ≤ 500 MB.

    python bench/memory.py [--db sqlite|postgresql] [--cases 100000] [--sessions 20]

Starts `streamlit run server.py` on the benchmark database of bench/pages.py (synthesised if
missing), opens `--sessions` browser contexts in one headless Chromium (/usr/bin/chromium,
Playwright), logs each in as a demo user and opens a page — Log, My Tasks, Approve, the
long-history Complaint, Stats, in turn — then a second page in each, and reads the server
process's resident memory (/proc/<pid>/status: VmRSS now, VmHWM the peak) while all sessions
are still open. The scheduled jobs are off in the server (KESU_BACKGROUND=off, as when
`manage.py worker` runs them): they would write escalations into the benchmark data.
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_MB = 500
USERS = ["sales", "qa", "manager", "prod", "gm", "qamanager", "finance", "chairman"]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PASSWORD = "kesu-demo"  # bench.demo.PASSWORD: synth loads the demo's users


def _mb(pid: int, field: str) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) / 1024 if m else float("nan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server(url: str, data: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = dict(os.environ, DATABASE_URL=url, KESU_DATA_DIR=str(data), KESU_BACKGROUND="off",
               KESU_BCRYPT_ROUNDS="4", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("streamlit did not answer /_stcore/health")


def _idle(page: object) -> None:
    page.wait_for_selector(  # type: ignore[attr-defined]
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)


def _login(page: object, base: str, username: str) -> None:
    p: object = page
    # the sign-in is a plain page of its own (/signin, issue #11), not a Streamlit run
    p.goto(base + "/signin")  # type: ignore[attr-defined]
    box = p.get_by_role("textbox", name=re.compile("用户名|Username"))  # type: ignore[attr-defined]
    box.wait_for(timeout=120_000)
    box.fill(username)
    p.get_by_role("textbox", name=re.compile("^(密码|Password)$")).fill(PASSWORD)  # type: ignore[attr-defined]
    p.get_by_role("button", name=re.compile("^(登录|Log in)$")).click()  # type: ignore[attr-defined]
    p.get_by_role("button", name=re.compile("退出登录|Log out")).wait_for(  # type: ignore[attr-defined]
        timeout=120_000)
    _idle(p)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--sessions", type=int, default=20)
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from bench.pages import database
    from adapters.wiring import build_app
    url, data = database(args.db, args.cases)
    app = build_app(url, run_migrations=False)
    from sqlalchemy import func, select

    from db.tables import EventRow
    with app.uow.engine.connect() as conn:  # type: ignore[attr-defined]
        big = conn.execute(select(EventRow.complaint_id).group_by(EventRow.complaint_id)
                           .order_by(func.count().desc()).limit(1)).scalar_one()
    app.uow.engine.dispose()  # type: ignore[attr-defined]
    paths = ["log", "tasks", "approve", f"complaint?id={big}", "stats"]
    log = data / "memory-server.log"
    started = time.perf_counter()
    proc, base = _server(url, data, log)
    idle_mb = _mb(proc.pid, "VmRSS")
    samples: list[tuple[str, float]] = [("server started, no session", idle_mb)]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            pages = []
            for i in range(args.sessions):
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                page = ctx.new_page()
                user = USERS[i % len(USERS)]
                _login(page, base, user)
                page.goto(f"{base}/{paths[i % len(paths)]}")
                _idle(page)
                pages.append(page)
                print(f"session {i + 1:2d} ({user}, /{paths[i % len(paths)]}): server RSS "
                      f"{_mb(proc.pid, 'VmRSS'):.0f} MB", flush=True)
            samples.append((f"{args.sessions} sessions, one page each", _mb(proc.pid, "VmRSS")))
            for i, page in enumerate(pages):  # a second page in every session
                page.goto(f"{base}/{paths[(i + 2) % len(paths)]}")
                _idle(page)
            samples.append((f"{args.sessions} sessions, a second page each",
                            _mb(proc.pid, "VmRSS")))
            samples.append(("peak (VmHWM)", _mb(proc.pid, "VmHWM")))
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    print()
    print(f"{args.cases} cases, {args.db}; one `streamlit run server.py` process; "
          f"{time.perf_counter() - started:.0f} s")
    print("| moment | server RSS MB |")
    print("|---|---:|")
    for what, mb in samples:
        print(f"| {what} | {mb:.0f} |")
    peak = samples[-1][1]
    print(f"budget {BUDGET_MB} MB: {'ok' if peak <= BUDGET_MB else 'OVER'} (peak {peak:.0f} MB)")
    return 0 if peak <= BUDGET_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
