"""Small helpers for the AppTest tier: find widgets by their (translated) label, read the page.

Widgets are looked up by label, not by key: the label is what a user sees, and keys are an
implementation detail of the pages.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from core.i18n import t

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 30

# Message-like elements whose text a user reads.
_TEXT_KINDS = ("title", "header", "subheader", "markdown", "caption", "text", "info", "success",
               "warning", "error")


def zh(key: str, **params: Any) -> str:
    return t(key, "zh", **params)


def en(key: str, **params: Any) -> str:
    return t(key, "en", **params)


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def login_as(at: AppTest, username: str, display_name: str = "", roles: list[str] | None = None
             ) -> AppTest:
    """The session keys the authenticator sets after a successful login (app.py re-reads the
    user from the database on every run, so only the username really matters)."""
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["name"] = display_name or username
    at.session_state["roles"] = roles or []
    return at


def open_page(page: str, username: str, lang: str = "zh") -> AppTest:
    """`page` (e.g. "pages/tasks.py") run inside app.py for a logged-in user, in zh or en."""
    at = login_as(new_app(), username)
    if lang == "en":
        at.query_params["lang"] = "en"
    at.run()
    at.switch_page(page).run()
    no_exception(at)
    return at


def values(node: Any, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(node, kind)]


def elements(node: Any, kind: str) -> list[Any]:
    """node.get(kind): page links, download buttons, ... (streamlit types them Element | Block)."""
    return list(node.get(kind))


def page_text(node: Any) -> str:
    """All the text of the page (or a block), one element per line."""
    parts: list[str] = []
    for kind in _TEXT_KINDS:
        parts += values(node, kind)
    return "\n".join(parts)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def widget(node: Any, kind: str, label: str, index: int | None = None) -> Any:
    """The one widget of `kind` (text_input, selectbox, button, ...) with this label."""
    found = [w for w in getattr(node, kind) if w.label == label]
    if index is not None:
        return found[index]
    assert len(found) == 1, (f"expected one {kind} labelled {label!r}, found {len(found)}; "
                             f"labels: {[w.label for w in getattr(node, kind)]}")
    return found[0]


def block(node: Any, kind: str, label: str) -> Any:
    """The one expander / tab with this label."""
    found = [b for b in getattr(node, kind) if b.label == label]
    assert len(found) == 1, (f"expected one {kind} labelled {label!r}; "
                             f"labels: {[b.label for b in getattr(node, kind)]}")
    return found[0]


def has_block(node: Any, kind: str, label: str) -> bool:
    return any(b.label == label for b in getattr(node, kind))


def sidebar_user(at: AppTest) -> list[str]:
    """The sidebar captions: "当前用户：<name>" proves app.py ran around the page."""
    return values(at.sidebar, "caption")
