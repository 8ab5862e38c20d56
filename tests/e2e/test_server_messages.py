"""Attacks on a real server's WebSocket messages and log (issue #11 item 2): a client's
"clear caches" request is ignored (it would empty every user's caches), and the server's log
carries no Streamlit session id. A server of this module's own, so its log is this module's."""
from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from websockets.sync.client import connect
from websockets.typing import Origin, Subprotocol

from tests.e2e.conftest import running_server
from tests.e2e.test_server_guard import http, sign_in

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("kesu-messages")
    log = folder / "server.log"
    with running_server(folder / "data", 0, log, background=False) as url:
        yield url, log


def _send(base: str, token: str, payload: bytes, session_id: str | None = None) -> None:
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    protocols = ["streamlit", "xsrf"] + ([session_id] if session_id else [])
    with connect(url, subprotocols=[Subprotocol(p) for p in protocols],
                 additional_headers={"Cookie": f"kesu_session={token}"},
                 origin=Origin(base), open_timeout=20) as ws:
        ws.send(payload)
        time.sleep(1.0)  # the server reads it


def _wait_for(log: Path, text: str, seconds: float = 15) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        if text in content:
            return content
        time.sleep(0.2)
    return log.read_text(errors="replace")


def test_a_client_cannot_clear_every_users_caches(server: tuple[str, Path]) -> None:
    base, log = server
    token = sign_in(base, "admin")
    clear = BackMsg()
    clear.clear_cache = True
    _send(base, token, clear.SerializeToString())
    assert "a client asked to clear every user's caches: ignored" in _wait_for(
        log, "caches: ignored")
    assert http(base + "/_stcore/health").status == 200  # and the server goes on


def test_no_streamlit_session_id_reaches_the_log(server: tuple[str, Path]) -> None:
    base, log = server
    token = sign_in(base, "admin")
    made_up = "0b6f6c1e-8a2f-4d3c-9a51-2f0d3c4b5a69"
    heartbeat = BackMsg()
    heartbeat.app_heartbeat = True
    for sid in (made_up, None, made_up):  # resume attempts, as an attacker would name one
        _send(base, token, heartbeat.SerializeToString(), sid)
    assert UUID.findall(log.read_text(errors="replace")) == []


def test_an_upload_above_the_kesu_limit_is_refused_before_it_is_read(
        server: tuple[str, Path]) -> None:
    """Issue #11: Streamlit accepted 200 MB per upload request whatever kesu's limit (20 MB).
    A signed-in client announcing 25 MB gets 413 at once, its body never read."""
    base, _ = server
    token = sign_in(base, "admin")
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as s:
        s.sendall((f"PUT /_stcore/upload_file/x/y HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   f"Cookie: kesu_session={token}\r\nOrigin: {base}\r\n"
                   f"Content-Type: multipart/form-data; boundary=b\r\n"
                   f"Content-Length: {25 * 1024 * 1024}\r\n\r\n").encode())
        answer = s.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
