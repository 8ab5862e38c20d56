"""Attacks on a real running kesu server from outside, over HTTP and the WebSocket (issue #11):
the session cookie is HttpOnly and set only by the sign-in route; no page, file, upload or
WebSocket without a live session; no WebSocket from another origin (another port of the same
host included); a Streamlit session id is useless without its login's cookie; metrics closed;
security headers on every answer. One named test per attack.

The server is the e2e tier's (`streamlit run server.py` on a demo database); no browser is
needed here, so these run wherever that server runs."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPResponse

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from tests.e2e.helpers import PASSWORD

HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options",
           "referrer-policy", "cross-origin-opener-policy")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: str


def http(url: str, method: str = "GET", data: dict[str, str] | None = None,
         headers: dict[str, str] | None = None) -> Answer:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        resp: HTTPResponse = _opener.open(req, timeout=30)
    except urllib.error.HTTPError as err:
        resp = err  # type: ignore[assignment]
    text = resp.read().decode("utf-8", "replace")
    return Answer(resp.status, {k.lower(): v for k, v in resp.headers.items()},
                  resp.headers.get_all("set-cookie") or [], text)


def sign_in(base: str, username: str = "sales", password: str = PASSWORD) -> str:
    """The session token the sign-in route sets (as a browser would keep it)."""
    a = http(base + "/signin", "POST", {"username": username, "password": password,
                                        "next": "/log", "lang": "zh"},
             {"Origin": base})
    assert a.status == 303, a.body
    (cookie,) = [c for c in a.cookies if c.startswith("kesu_session=")]
    return cookie.split(";", 1)[0].split("=", 1)[1]


def _connect(url: str, protocols: list[str], headers: dict[str, str],
             origin: str) -> ClientConnection:
    return connect(url, subprotocols=[Subprotocol(p) for p in protocols],
                   additional_headers=headers, origin=Origin(origin), open_timeout=20)


def ws_open(base: str, token: str | None, origin: str | None = None,
            session_id: str | None = None) -> int:
    """Open the app's WebSocket as a client would; the HTTP status of the handshake
    (101 = accepted)."""
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    headers = {}
    if token is not None:
        headers["Cookie"] = f"kesu_session={token}"
    protocols = ["streamlit", "xsrf"] + ([session_id] if session_id else [])
    try:
        with _connect(url, protocols, headers, origin or base):
            return 101
    except InvalidStatus as err:
        return int(err.response.status_code)


@pytest.fixture(scope="module")
def base(server_url: str) -> Iterator[str]:
    yield server_url


# ---------------------------------------------------------------- the cookie


def test_the_session_cookie_is_httponly_strict_and_a_fresh_random_token(base: str) -> None:
    a = http(base + "/signin", "POST", {"username": "sales", "password": PASSWORD},
             {"Origin": base})
    (cookie,) = [c for c in a.cookies if c.startswith("kesu_session=")]
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert not any(f.startswith(("max-age", "expires")) for f in flags)  # gone with the browser
    assert sign_in(base) != sign_in(base)  # rotated at every login
    assert len(sign_in(base)) >= 40


def test_a_wrong_password_sets_no_cookie_and_says_so(base: str) -> None:
    a = http(base + "/signin", "POST", {"username": "sales", "password": "wrong-guess"},
             {"Origin": base})
    assert a.status == 401 and not a.cookies
    assert "用户名或密码错误。" in a.body


def test_the_language_picked_at_sign_in_is_kept_and_the_own_one_used_otherwise(
        base: str) -> None:
    def post(**form: str) -> str:
        return http(base + "/signin", "POST", {"username": "chairman", "password": PASSWORD,
                                               "next": "/log", **form},
                    {"Origin": base}).headers["location"]

    assert post(lang="en", chosen="1") == "/log?lang=en"
    assert post(lang="zh") == "/log"  # not picked: the user's saved language applies
    assert post(lang="zh", chosen="1") == "/log?lang=zh"  # (and back to Chinese)
    assert 'name="chosen" value="1"' in http(base + "/signin?lang=en").body
    assert 'name="chosen" value=""' in http(base + "/signin").body


def test_a_sign_in_posted_from_another_origin_is_refused(base: str) -> None:
    other = base.rsplit(":", 1)[0] + ":1"
    a = http(base + "/signin", "POST", {"username": "sales", "password": PASSWORD},
             {"Origin": other})
    assert a.status == 403 and not a.cookies


def test_sign_in_never_sends_the_browser_to_another_site(base: str) -> None:
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        a = http(base + "/signin", "POST", {"username": "sales", "password": PASSWORD,
                                            "next": evil}, {"Origin": base})
        assert a.status == 303 and a.headers["location"] == "/", evil


# ---------------------------------------------------------------- pages, files, metrics


def test_a_page_without_a_session_goes_to_sign_in_with_its_path(base: str) -> None:
    a = http(base + "/stats")
    assert a.status == 303 and a.headers["location"] == "/signin?next=/stats"
    assert http(base + "/stats?lang=en").headers["location"] == "/signin?next=/stats&lang=en"
    assert "kesu" not in a.body.lower() or "<html" not in a.body.lower()


def test_a_crafted_or_ended_cookie_is_no_session(base: str) -> None:
    token = sign_in(base)
    http(base + "/signout", headers={"Cookie": f"kesu_session={token}"})
    for cookie in (f"kesu_session={token}", "kesu_session=" + "A" * 43,
                   'kesu_session="eyJhbGciOiJub25lIn0.e30."', "kesu_session=%00%ff"):
        a = http(base + "/log", headers={"Cookie": cookie})
        assert a.status == 303 and a.headers["location"].startswith("/signin"), cookie


def test_files_uploads_and_components_need_a_session(base: str) -> None:
    for path, method in (("/media/abc.png", "GET"), ("/_stcore/upload_file/s/f", "PUT"),
                         ("/component/x/index.html", "GET"), ("/_stcore/host-config", "GET")):
        assert http(base + path, method).status == 403, path


def test_metrics_are_closed_even_with_a_session(base: str) -> None:
    token = sign_in(base)
    assert http(base + "/_stcore/metrics").status == 404
    assert http(base + "/_stcore/metrics", headers={"Cookie": f"kesu_session={token}"}
                ).status == 404


def test_security_headers_on_pages_sign_in_and_refusals(base: str) -> None:
    token = sign_in(base)
    for a in (http(base + "/signin"), http(base + "/log"),
              http(base + "/log", headers={"Cookie": f"kesu_session={token}"}),
              http(base + "/media/x.png")):
        assert all(h in a.headers for h in HEADERS), a.headers
        assert "frame-ancestors 'none'" in a.headers["content-security-policy"]
        assert a.headers["x-content-type-options"] == "nosniff"


def test_a_page_with_a_live_session_is_served(base: str) -> None:
    token = sign_in(base)
    a = http(base + "/log", headers={"Cookie": f"kesu_session={token}"})
    assert a.status == 200 and "<html" in a.body.lower()


# ---------------------------------------------------------------- the WebSocket


def test_the_websocket_needs_a_live_session(base: str) -> None:
    assert ws_open(base, None) == 403
    assert ws_open(base, "not-a-session") == 403
    assert ws_open(base, sign_in(base)) == 101


def test_the_websocket_refuses_another_port_of_the_same_host(base: str) -> None:
    token = sign_in(base)
    host = base.split("://", 1)[1].rsplit(":", 1)[0]
    for origin in (f"http://{host}:1", "http://localhost:8501", "http://0.0.0.0:80",
                   "null", "https://evil.example"):
        assert ws_open(base, token, origin=origin) == 403, origin


def test_sign_out_keeps_the_language_of_the_page_it_came_from(base: str) -> None:
    assert http(base + "/signout?lang=en").headers["location"] == "/signin?lang=en"
    assert http(base + "/signout?lang=xx").headers["location"] == "/signin"


def test_a_websocket_after_logout_is_refused(base: str) -> None:
    token = sign_in(base)
    assert ws_open(base, token) == 101
    http(base + "/signout", headers={"Cookie": f"kesu_session={token}"})
    assert ws_open(base, token) == 403


def test_a_streamlit_session_id_without_its_login_resumes_nothing(base: str) -> None:
    """Bob's Streamlit session id, named by Eve (logged in as herself), gives Eve a new session
    of her own, not Bob's."""
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    bob = sign_in(base, "sales")
    with _connect(url, ["streamlit", "xsrf"], {"Cookie": f"kesu_session={bob}"}, base) as ws:
        ws.send(_rerun())
        bob_session = _session_id(ws)
    eve = sign_in(base, "qa")
    with _connect(url, ["streamlit", "xsrf", bob_session], {"Cookie": f"kesu_session={eve}"},
                  base) as ws:
        ws.send(_rerun())
        assert _session_id(ws) != bob_session


def _rerun() -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_script_hash = ""
    return msg.SerializeToString()


def _session_id(ws: object) -> str:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    for _ in range(50):
        raw = ws.recv(timeout=20)  # type: ignore[attr-defined]
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        if msg.WhichOneof("type") == "new_session":
            return str(msg.new_session.initialize.session_id)
    raise AssertionError("no new_session message: " + json.dumps([]))
