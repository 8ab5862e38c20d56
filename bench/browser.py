"""What a user waits for in the browser (issue #14 item 4): signing in until the Log page
shows, and each page of the app from the click that opens it until it is on screen and
Streamlit is idle — against an empty Streamlit page's switch measured in the same run, in
Debian's headless Chromium, on a real `streamlit run server.py` with a demo database.

    python bench/browser.py [--runs 9] [--cases 12]

For each click it records, in the page itself (an init script): the moment of the click
(pointerdown), every start and end of a script run (the `data-test-script-state` attribute
of Streamlit's app element), and the bytes the server sent over the WebSocket. The time of a
click is from the pointerdown to the end of the last script run it caused, once the target
heading is visible and the app has been quiet for `QUIET_MS`; the sign-in is from the
submit button's pointerdown on kesu's sign-in page (kept across the page load in
sessionStorage) to the end of the Log page's last run. The table gives median and p95 over
`--runs` rounds (one warm-up round first, not counted), the ratio of each median to the
empty page's, the script runs each click caused and the WebSocket kilobytes it received;
issue #14 sets the budgets: sign-in ≤ 1.5 s, a page switch ≤ 2× the empty page's.

The users are the demo's: `qamanager` (QA manager) for every page but Admin, `admin` for
Admin. Passwords are hashed at the production cost (KESU_BCRYPT_ROUNDS unset, unless set in
this environment: it is passed through).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, WebSocket, expect, sync_playwright
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.helpers import PASSWORD, ZH  # noqa: E402

QUIET_MS = 600  # no script run started or ended for this long: the click's work is over
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}

# Runs in every document before its own scripts: the click moment, the script runs, idle.
PROBE = """(() => {
  const now = () => performance.timeOrigin + performance.now();
  const w = window;
  w.__kb = {runs: 0, idleAt: 0, changeAt: now(), drawnAt: 0};
  document.addEventListener("pointerdown", () => {
    sessionStorage.setItem("kbClickAt", String(now()));
    w.__kb.runs = 0;
  }, true);
  new MutationObserver(records => {
    for (const r of records) {
      w.__kb.changeAt = now();
      if (r.type === "childList") {  // elements drawn: a run too quick to show its state
        w.__kb.drawnAt = now();
        continue;
      }
      const state = r.target.getAttribute("data-test-script-state");
      if (state === "running") w.__kb.runs += 1;
      if (state === "notRunning") w.__kb.idleAt = now();
    }
  }).observe(document, {subtree: true, childList: true, attributes: true,
                        attributeFilter: ["data-test-script-state"]});
})();"""

QUIET_JS = """ms => {
  const app = document.querySelector("[data-testid='stApp']");
  const kb = window.__kb;
  return !!app && !!kb && app.getAttribute("data-test-script-state") === "notRunning"
      && performance.timeOrigin + performance.now() - kb.changeAt >= ms;
}"""

# done: the later of the last run's end and the last element drawn (the state attribute may
# skip "running" when a run is over before the browser draws it)
RESULT_JS = """() => ({clickAt: Number(sessionStorage.getItem("kbClickAt") || 0),
                     idleAt: Math.max(window.__kb.idleAt, window.__kb.drawnAt),
                     runs: window.__kb.runs})"""

EMPTY_APP = textwrap.dedent('''\
    import streamlit as st

    def first() -> None:
        st.title("Empty A")

    def second() -> None:
        st.title("Empty B")

    st.navigation([st.Page(first, title="A", url_path="a", default=True),
                   st.Page(second, title="B", url_path="b")]).run()
''')


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)
    kbytes: list[float] = field(default_factory=list)


class Wire:
    """Bytes the server sent over the page's WebSockets since the last `reset`."""

    def __init__(self, page: Page) -> None:
        self.received = 0
        page.on("websocket", self._attach)

    def _attach(self, ws: WebSocket) -> None:
        ws.on("framereceived", self._count)

    def _count(self, payload: str | bytes) -> None:
        self.received += len(payload)

    def reset(self) -> None:
        self.received = 0


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("a server did not start")


@contextmanager
def _server(args: list[str], cwd: Path, env: dict[str, str], port: int
            ) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", *args,
                             "--server.port", str(port), "--server.headless", "true",
                             "--server.fileWatcherType", "none",
                             "--browser.gatherUsageStats", "false"],
                            cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(proc, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _kesu_env(data: Path) -> dict[str, str]:
    env = dict(os.environ, KESU_DATA_DIR=str(data), KESU_BACKGROUND="off",
               STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    env.pop("DATABASE_URL", None)
    return env


def _quiet(page: Page) -> dict[str, float]:
    page.wait_for_function(QUIET_JS, arg=QUIET_MS, polling=50, timeout=60_000)
    result: dict[str, float] = page.evaluate(RESULT_JS)
    return result


def _heading(page: Page, name: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("heading", name=name, exact=isinstance(name, str)).first
           ).to_be_visible(timeout=60_000)


def _measure(page: Page, wire: Wire, act: Callable[[], None],
             heading: str | re.Pattern[str], into: Sample | None) -> None:
    """Do `act` (a click) and wait for `heading` and a quiet app; note the time, runs, bytes."""
    _quiet(page)  # as a person looks before clicking: no run under way
    wire.reset()
    act()
    _heading(page, heading)
    r = _quiet(page)
    if into is not None:
        into.seconds.append((r["idleAt"] - r["clickAt"]) / 1000)
        into.runs.append(int(r["runs"]))
        into.kbytes.append(wire.received / 1024)


def _nav(page: Page, name: str | re.Pattern[str]) -> Callable[[], None]:
    def click() -> None:
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).first.click()
    return click


def _sign_in(page: Page, wire: Wire, base: str, username: str, into: Sample | None) -> None:
    page.goto(f"{base}/signin")
    page.wait_for_load_state("networkidle")  # a person reads the form before typing
    page.get_by_role("textbox", name=ZH.username, exact=True).fill(username)
    page.get_by_role("textbox", name=ZH.password, exact=True).fill(PASSWORD)
    wire.reset()
    page.get_by_role("button", name=ZH.login, exact=True).click()
    _heading(page, ZH.log_title)
    r = _quiet(page)
    if into is not None:
        into.seconds.append((r["idleAt"] - r["clickAt"]) / 1000)
        into.runs.append(int(r["runs"]))
        into.kbytes.append(wire.received / 1024)


def _open_case(page: Page) -> Callable[[], None]:
    """Pick the register's first case in 打开客诉 (the keyboard-free way to open one)."""
    def click() -> None:
        box = page.get_by_role("combobox", name="打开客诉", exact=True)
        box.scroll_into_view_if_needed()
        box.click()
        page.get_by_role("option").first.click()
    return click


def _p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, math.ceil(0.95 * len(s)) - 1)]


# (row name, sidebar link / action, heading of the page it opens)
STEPS: list[tuple[str, str, str | re.Pattern[str]]] = [
    ("My Tasks", "我的待办", "我的待办"),
    ("Approve", "核决", "核决"),
    ("Stats", "统计", "统计 · 质量周会"),
    ("Inbox", "消息", "消息"),
    ("Account", "我的账户", ZH.account_title),
    ("Log", "登记", ZH.log_title),
    ("Complaint", "", re.compile(r"^客诉 KS")),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9, help="timed rounds (after one warm-up)")
    ap.add_argument("--cases", type=int, default=12, help="demo cases")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, empty_dir = Path(tmp) / "data", Path(tmp) / "empty"
        empty_dir.mkdir()
        (empty_dir / "empty.py").write_text(EMPTY_APP, encoding="utf-8")
        env = _kesu_env(data)
        subprocess.run([sys.executable, "manage.py", "demo", "--cases", str(args.cases)],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        with _server(["server.py"], ROOT, env, _free_port()) as base, \
                _server(["empty.py"], empty_dir, dict(os.environ), _free_port()) as empty, \
                sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            samples: dict[str, Sample] = {}
            # one browser profile kept across rounds, as a user's own browser: Streamlit's
            # scripts come from its cache (immutable, a year); signed out between rounds
            ctx = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
            ctx.add_init_script(PROBE)
            page = ctx.new_page()
            wire = Wire(page)
            for i in tqdm(range(args.runs + 1), desc="browser rounds", unit="round"):
                def into(name: str, first: bool = i == 0) -> Sample | None:
                    return None if first else samples.setdefault(name, Sample())
                page.goto(f"{empty}/")
                _heading(page, "Empty A")
                for target, title in (("B", "Empty B"), ("A", "Empty A")):
                    _measure(page, wire, _nav(page, target), title,
                             into("empty Streamlit page"))
                ctx.clear_cookies()
                _sign_in(page, wire, base, "qamanager", into("sign-in → Log"))
                for name, link, heading in STEPS:
                    act = _open_case(page) if not link else _nav(page, link)
                    _measure(page, wire, act, heading, into(name))
                # a browser that never opened kesu: every script is fetched after the submit
                fresh = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
                fresh.add_init_script(PROBE)
                other = fresh.new_page()
                other_wire = Wire(other)
                _sign_in(other, other_wire, base, "admin",
                         into("sign-in → Log, first visit (empty browser cache)"))
                _measure(other, other_wire, _nav(other, "系统管理"), ZH.admin_title, into("Admin"))
                fresh.close()
            ctx.close()
            browser.close()
    empty_median = statistics.median(samples["empty Streamlit page"].seconds)
    print(f"\n| browser, {args.runs} rounds, {time.strftime('%Y-%m-%d %H:%M')} "
          f"| median s | p95 s | × empty | script runs | WebSocket KB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, s in samples.items():
        med = statistics.median(s.seconds)
        runs = "/".join(str(r) for r in sorted(set(s.runs)))
        print(f"| {name} | {med:.2f} | {_p95(s.seconds):.2f} | {med / empty_median:.1f} "
              f"| {runs} | {statistics.median(s.kbytes):.0f} |")


if __name__ == "__main__":
    main()
