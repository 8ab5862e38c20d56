"""No Streamlit session id in the server's log (issue #11): Streamlit logs them (e.g. "Ignoring
reconnect to logged-out session id …"), and a session id named in a WebSocket handshake was
once enough to resume someone's session. kesu binds sessions to the login since (adapters/
web.py), and the log no longer carries them: every record of a `streamlit` logger has its
UUIDs replaced before any handler sees it."""
from __future__ import annotations

import logging
import re
from typing import Any

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
HIDDEN = "<session id>"


def _clean(value: Any) -> Any:
    return UUID.sub(HIDDEN, value) if isinstance(value, str) else value


def redact(record: logging.LogRecord) -> logging.LogRecord:
    """The record without UUIDs in its message or its arguments."""
    record.msg = _clean(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_clean(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _clean(v) for k, v in record.args.items()}
    return record


_installed = False


def hide_session_ids() -> None:
    """Wrap the log record factory once per process: Streamlit's records are redacted."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        return redact(record) if record.name.startswith("streamlit") else record

    logging.setLogRecordFactory(factory)
    _installed = True
