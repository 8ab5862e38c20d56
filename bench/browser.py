"""What a user waits for in the browser: signing in until the Log page shows, and switching
from Log to My Tasks, against a real `streamlit run server.py` on a demo database, in
Debian's headless Chromium. Medians of `--runs` tries, printed as a table; issue #11 asks for
these before and after the sessions rework, issue #14 sets their budgets (login ≤ 1.5 s, page
switch ≤ 2× the empty Streamlit page's).

    python bench/browser.py --runs 7
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.helpers import PASSWORD, ZH  # noqa: E402


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, KESU_DATA_DIR=str(data), KESU_BACKGROUND="off",
               STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "demo", "--cases", "12"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "server.py",
                             "--server.port", str(port), "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


def _sign_in(page: Page, base: str) -> float:
    page.goto(f"{base}/signin")
    page.get_by_role("textbox", name=ZH.username, exact=True).fill("qa")
    page.get_by_role("textbox", name=ZH.password, exact=True).fill(PASSWORD)
    start = time.perf_counter()
    page.get_by_role("button", name=ZH.login, exact=True).click()
    expect(page.get_by_role("heading", name=ZH.log_title, exact=True)).to_be_visible(
        timeout=30_000)
    return time.perf_counter() - start


def _switch(page: Page) -> float:
    start = time.perf_counter()
    page.get_by_role("link", name="我的待办").first.click()
    expect(page.get_by_role("heading", name="我的待办", exact=True)).to_be_visible(
        timeout=30_000)
    took = time.perf_counter() - start
    page.get_by_role("link", name="登记").first.click()
    expect(page.get_by_role("heading", name=ZH.log_title, exact=True)).to_be_visible(
        timeout=30_000)
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        proc = _start(Path(tmp) / "data", port)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                logins, switches = [], []
                for i in tqdm(range(args.runs + 1), desc="browser runs", unit="run"):
                    context = browser.new_context(locale="zh-CN",
                                                  viewport={"width": 1400, "height": 1000})
                    page = context.new_page()
                    took = _sign_in(page, base)
                    moved = _switch(page)
                    if i:  # the first run warms the server up
                        logins.append(took)
                        switches.append(moved)
                    context.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"| browser, {args.runs} runs | median s | min s | max s |")
    print("|---|---:|---:|---:|")
    for name, xs in (("sign-in until the Log page shows", logins),
                     ("Log → My Tasks", switches)):
        print(f"| {name} | {statistics.median(xs):.2f} | {min(xs):.2f} | {max(xs):.2f} |")


if __name__ == "__main__":
    main()
