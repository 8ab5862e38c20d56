"""The login cookie's writer: a script in the page sets or deletes it, and nothing comes back.

streamlit-authenticator writes its cookie through extra_streamlit_components' CookieManager,
a component that sends the browser's cookies back to the server when it mounts, which starts
another script run. On the login form that run arrived while the user clicked "log in" and
swallowed the click (the form stayed, filled in: CI caught it 1 run in ~20). The cookie is
read from the request headers anyway (`st.context.cookies`, in the library's CookieModel), so
the component's answer is never used. This module takes the CookieManager's place in the
library (`install()`, called once at import of ui.auth): setting or deleting the cookie is a
`<script>` that writes `document.cookie` and answers nothing, so no run is started.

The script's only inputs are the cookie's name (a constant) and the signed token (a JWT); both
are checked against a strict character set, so no user text reaches the page as code. This is
the one `st.html` of the app (tests/unit/test_security_static.py allows it here only).
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import streamlit as st

_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_VALUE = re.compile(r"[A-Za-z0-9_.\-]{0,4096}")  # a JWT: base64url parts joined by dots


def cookie_script(name: str, value: str, max_age: int) -> str:
    """The page script that sets (max_age > 0) or deletes (max_age 0) the cookie `name`."""
    if not _NAME.fullmatch(name) or not _VALUE.fullmatch(value):
        raise ValueError("cookie name or value outside the allowed characters")
    attrs = f"; path=/; max-age={max(0, int(max_age))}; SameSite=Strict"
    text = json.dumps(f"{name}={value}{attrs}")
    return ("<script>(function(){var c=" + text + ";"
            "if(location.protocol==='https:'){c+='; Secure';}"
            "document.cookie=c;})();</script>")


class CookieWriter:
    """Write-only stand-in for extra_streamlit_components.CookieManager (same methods the
    library calls: set, delete, get)."""

    def __init__(self, key: str = "init") -> None:
        self.cookies: dict[str, Any] = {}

    def get(self, cookie: str) -> Any:
        return st.context.cookies.get(cookie)

    def set(self, cookie: str, val: Any, key: str = "set", path: str = "/",
            expires_at: datetime | None = None, max_age: float | None = None,
            **_: Any) -> None:
        if max_age is None:
            seconds = (expires_at - datetime.now()).total_seconds() if expires_at else 86400
        else:
            seconds = max_age
        _write(cookie_script(cookie, str(val), max(1, int(seconds))))
        self.cookies[cookie] = val

    def delete(self, cookie: str, key: str = "delete", path: str = "/") -> None:
        _write(cookie_script(cookie, "", 0))
        self.cookies.pop(cookie, None)


def _write(script: str) -> None:
    st.html(script, unsafe_allow_javascript=True, width=1)


def install() -> None:
    """Make streamlit-authenticator's CookieModel use CookieWriter (0.4.2 builds its cookie
    manager as `stx.CookieManager()` in models/cookie_model.py)."""
    from streamlit_authenticator.models import cookie_model

    if not hasattr(cookie_model, "stx"):  # another version of the library: look again
        raise RuntimeError("streamlit-authenticator's CookieModel no longer uses stx")
    cookie_model.stx = SimpleNamespace(CookieManager=CookieWriter)  # type: ignore[attr-defined]
