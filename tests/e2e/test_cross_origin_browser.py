"""The attack of issue #11 done the way it was done: in Chromium, a victim signed in to kesu
opens a page served by another app of the same intranet host (another port). Cookies belong
to a host, not a port, and 127.0.0.1:<other> is even the same *site*, so SameSite does not
stop the browser from sending kesu's cookie along. What must hold: the page's script cannot
read the cookie, cannot open kesu's WebSocket (the guard checks the Origin), cannot read a
kesu page, and cannot frame kesu."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import ZH, login

EVIL = """<!doctype html><html><body><h1>ERP</h1><script>
const KESU = "%(kesu)s";
window.result = {cookie: document.cookie, ws: "pending", fetch: "pending", frame: "pending"};
try {
  const ws = new WebSocket(KESU.replace("http", "ws") + "/_stcore/stream", ["streamlit"]);
  ws.onopen = () => { window.result.ws = "open"; ws.close(); };
  ws.onerror = () => { if (window.result.ws === "pending") window.result.ws = "refused"; };
  ws.onclose = () => { if (window.result.ws === "pending") window.result.ws = "refused"; };
} catch (e) { window.result.ws = "refused"; }
fetch(KESU + "/log", {credentials: "include"})
  .then(r => r.text()).then(t => { window.result.fetch = "read " + t.length; })
  .catch(() => { window.result.fetch = "blocked"; });
const f = document.createElement("iframe");
f.src = KESU + "/log";
f.onload = () => {
  try { window.result.frame = "read " + f.contentDocument.body.innerHTML.length; }
  catch (e) { window.result.frame = "blocked"; }
};
document.body.appendChild(f);
</script></body></html>"""


@pytest.fixture
def other_app(server_url: str) -> Iterator[str]:
    """Another app of the same host, on another port: it serves the attacker's page."""
    page = (EVIL % {"kesu": server_url}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/erp.html"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_page_of_another_app_on_the_same_host_gets_nothing_of_kesu(
        new_page: Callable[[], Page], server_url: str, other_app: str) -> None:
    page = new_page()
    page.goto("/")
    login(page, ZH, "gm")
    assert any(c["name"] == "kesu_session" for c in page.context.cookies())
    evil = page.context.new_page()  # the same browser, so the same cookie jar
    evil.goto(other_app)
    evil.wait_for_function(
        "() => window.result && !Object.values(window.result).includes('pending')",
        timeout=20_000)
    result = evil.evaluate("() => window.result")
    assert "kesu_session" not in result["cookie"]  # HttpOnly: no script reads it
    assert result["ws"] == "refused"  # the Origin is not kesu's own
    assert result["fetch"] == "blocked"  # no CORS: the answer is not the page's to read
    assert result["frame"] == "blocked"  # frame-ancestors 'none' / X-Frame-Options
    # and the victim's own kesu page still works
    page.reload()
    expect(page.get_by_role("heading", name=ZH.log_title, exact=True)).to_be_visible()
