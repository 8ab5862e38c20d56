"""Two filters in front of Streamlit (issue #11 item 2): a client's "clear caches" message
never reaches the app, and no Streamlit session id reaches the server's log."""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from collections.abc import MutableMapping
from typing import Any

import pytest

from streamlit.proto.BackMsg_pb2 import BackMsg

from adapters.logs import HIDDEN, redact
from adapters.web import asks_to_clear_caches, without_cache_clearing

SID = "0b6f6c1e-8a2f-4d3c-9a51-2f0d3c4b5a69"


def _msg(**fields: Any) -> bytes:
    m = BackMsg()
    for k, v in fields.items():
        setattr(m, k, v)
    return m.SerializeToString()


def test_only_the_clear_cache_message_is_recognised() -> None:
    assert asks_to_clear_caches(_msg(clear_cache=True))
    assert not asks_to_clear_caches(_msg(stop_script=True))
    assert not asks_to_clear_caches(_msg(app_heartbeat=True))
    assert not asks_to_clear_caches(b"\xff\xfe not a protobuf")
    assert not asks_to_clear_caches(None) and not asks_to_clear_caches(b"")


def test_the_websocket_drops_clear_cache_and_passes_everything_else() -> None:
    incoming: list[MutableMapping[str, Any]] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "bytes": _msg(clear_cache=True)},
        {"type": "websocket.receive", "bytes": _msg(stop_script=True)},
        {"type": "websocket.disconnect", "code": 1000},
    ]

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def all_of() -> list[MutableMapping[str, Any]]:
        filtered = without_cache_clearing(receive)
        return [await filtered() for _ in range(3)]

    # a thread of its own: in a pytest worker that also drives Playwright's sync API, this
    # thread may already have a running event loop
    with ThreadPoolExecutor(1) as pool:
        got = pool.submit(asyncio.run, all_of()).result()
    assert [m["type"] for m in got] == ["websocket.connect", "websocket.receive",
                                        "websocket.disconnect"]
    assert got[1]["bytes"] == _msg(stop_script=True)


def test_streamlit_log_records_lose_their_session_ids() -> None:
    record = logging.LogRecord("streamlit.runtime.websocket_session_manager", logging.WARNING,
                               __file__, 1, "Ignoring reconnect to logged-out session id %s.",
                               (SID,), None)
    assert redact(record).getMessage() == f"Ignoring reconnect to logged-out session id {HIDDEN}."
    record = logging.LogRecord("streamlit", logging.DEBUG, __file__, 1,
                               f"Disconnecting files for session with ID {SID}", None, None)
    assert SID not in redact(record).getMessage()


def test_streamlits_upload_limit_follows_the_kesu_setting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit import config as st_config

    from adapters.web import upload_limit_mb
    from core.usecases import context as ctx_mod

    class Settings:
        attachment_max_mb = 37

    before = st_config.get_option("server.maxUploadSize")
    monkeypatch.setattr(ctx_mod, "settings", lambda _ctx: Settings())
    try:
        assert upload_limit_mb(object()) == 37  # type: ignore[arg-type]
        assert st_config.get_option("server.maxUploadSize") == 37
    finally:
        st_config.set_option("server.maxUploadSize", before, "test")
