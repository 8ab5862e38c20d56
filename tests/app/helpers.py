"""Small helpers for the AppTest tier: find widgets by their (translated) label, read the page.

Widgets are looked up by label, not by key: the label is what a user sees, and keys are an
implementation detail of the pages.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from core.i18n import t
from ui.auth import TOKEN_KEY

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
    """A login of `username` as the sign-in route makes one (a session row for a fresh random
    token), handed to the AppTest session as the cookie would be (AppTest has no HTTP).
    app.py re-reads the user from the database on every run; `display_name` and `roles` are
    kept for the callers' readability only."""
    at.session_state[TOKEN_KEY] = open_session(username)
    return at


def open_session(username: str) -> str:
    """A live session of `username` in the test's database, without a password check: the
    token (the sign-in route itself is tested on a real server and through Starlette)."""
    import secrets

    from core.model import LoginSession
    from core.rules.sessions import token_hash
    from ui.context import kesu

    app = kesu()
    token = secrets.token_urlsafe(32)
    now = app.clock()
    with app.uow(write=True) as uow:
        user = uow.users.by_username(username.strip().lower())
        assert user is not None, username
        uow.sessions.add(LoginSession(0, user.id, now, now, now + timedelta(hours=1)),
                         token_hash(token))
        uow.commit()
    return token


def open_page(page: str, username: str, lang: str = "zh") -> AppTest:
    """`page` (e.g. "pages/tasks.py") run inside app.py for a logged-in user, in zh or en."""
    at = login_as(new_app(), username)
    if lang == "en":
        at.query_params["lang"] = "en"
    at.run()
    at.switch_page(page).run()
    no_exception(at)
    return at


def open_url(page: str, username: str | None = None, lang: str = "zh") -> AppTest:
    """A fresh browser tab opened on a page's address (`/admin` for "pages/admin.py"),
    logged in as `username` (or with no session at all), before any other run.

    AppTest asks for a page by its file name until its first run (AppTest.switch_page's
    documentation), and st.navigation knows a page by its url path: the two agree for every
    kesu page but pages/import_register.py (url path "import"), so this opens the URL as typed
    into the address bar, which `switch_page` after a run cannot do for a page not in the
    user's navigation (ValueError)."""
    assert not page.endswith("import_register.py"), "its url path is /import"
    at = new_app()
    if username is not None:
        login_as(at, username)
    if lang == "en":
        at.query_params["lang"] = "en"
    at.switch_page(page).run()
    return at


# What ui.auth.signed_out_view sends the browser on with: sign-out clears the cookie and
# shows the sign-in page (adapters/web.py).
def signed_out_script(lang: str = "zh") -> str:
    return f'<script>window.location.replace("/signout?lang={lang}")</script>'


SIGNED_OUT_SCRIPT = signed_out_script("zh")
_SIGNED_OUT_KINDS = {"main", "sidebar", "flex_container", "column", "title", "info", "markdown",
                     "html"}


def assert_signed_out(at: AppTest, lang: str = "zh") -> None:
    """The run shows the signed-out view and nothing else: the title, "you are signed out",
    the link to sign in again and the redirect to sign-out; no sidebar, no navigation, no
    widget, no text of any page; and the session no longer holds a user or a token."""
    tr = en if lang == "en" else zh
    no_exception(at)
    assert values(at, "title") == [tr("login.title")]
    assert values(at, "info") == [tr("login.signed_out")]
    assert values(at, "markdown") == [f"[{tr('login.again')}](/signout)"]
    assert [h.proto.body for h in at.get("html")] == [signed_out_script(lang)]
    kinds = {n.type for n in at.main} | {n.type for n in at.sidebar}
    assert kinds <= _SIGNED_OUT_KINDS, kinds - _SIGNED_OUT_KINDS
    assert sidebar_user(at) == []
    assert "kesu_user" not in at.session_state
    assert TOKEN_KEY not in at.session_state


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


def open_tab(at: AppTest, key: str, label: str) -> Any:
    """Click the tab `label` of the page's tabs `key` and run: the page draws only the open
    tab (ui/tabs.py, issue #14). The tab's block."""
    at.session_state[key] = label
    at.run()
    no_exception(at)
    return block(at, "tabs", label)


def open_case_tab(at: AppTest, key: str, lang: str = "zh") -> Any:
    """Click the Complaint page's tab `key` (case.facts, case.records, case.attachments,
    case.timeline: the last two say a count) and run. The tab's block."""
    name = (en if lang == "en" else zh)(key)
    found = [t.label for t in at.tabs if t.label == name or t.label.startswith(name + " (")]
    assert len(found) == 1, [t.label for t in at.tabs]
    return open_tab(at, f"case_tab_{at.query_params['id']}", found[0])


def unfold(at: AppTest, label: str) -> Any:
    """Click the folded expander `label` whose contents the page draws only once it is open
    (a stateful expander: the edit form and the letter's editor of the Complaint page, issue
    #14) and run. The expander's block."""
    folded = block(at, "expander", label)
    at.session_state[folded.proto.id.split("-", 2)[2]] = True  # "$$ID-<hash>-<its key>"
    at.run()
    no_exception(at)
    return block(at, "expander", label)


def has_block(node: Any, kind: str, label: str) -> bool:
    return any(b.label == label for b in getattr(node, kind))


def sidebar_user(at: AppTest) -> list[str]:
    """The sidebar captions: "当前用户：<name>" proves app.py ran around the page."""
    return values(at.sidebar, "caption")
