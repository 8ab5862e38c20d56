"""kesu entry point: configuration, login, role-filtered navigation (the composition root)."""
from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import streamlit as st

from adapters.translations import compile_catalogs
from core.model import Role, User
from ui import auth, builtin_texts
from ui.context import background_jobs, kesu, md, show_flash, tr
from core import usecases as uc

compile_catalogs()  # locale/*/kesu.po -> kesu.mo where stale; core.i18n reads the .mo
st.set_page_config(page_title="kesu 客诉", page_icon="📋", layout="wide")
builtin_texts.install()  # Streamlit's own placeholders in the reader's language

# Pages: (file, url path, title key, roles allowed; empty = everyone logged in, hidden?)
PAGES: list[tuple[str, str, str, tuple[Role, ...], bool]] = [
    ("pages/log.py", "log", "nav.log", (), False),
    ("pages/tasks.py", "tasks", "nav.tasks",
     (Role.SALES, Role.QA, Role.PRODUCTION, Role.FINANCE, Role.MANAGEMENT), False),
    ("pages/investigate.py", "investigate", "nav.investigate",
     (Role.QA, Role.PRODUCTION, Role.MANAGEMENT), False),
    ("pages/approve.py", "approve", "nav.approve", (Role.MANAGEMENT, Role.QA), False),
    ("pages/stats.py", "stats", "nav.stats",
     (Role.SALES, Role.QA, Role.PRODUCTION, Role.FINANCE, Role.MANAGEMENT), False),
    ("pages/complaint.py", "complaint", "nav.complaint", (), True),
    ("pages/inbox.py", "inbox", "nav.inbox", (), False),
    ("pages/import_register.py", "import", "nav.import", (Role.ADMIN, Role.QA), False),
    ("pages/admin.py", "admin", "nav.admin", (Role.ADMIN,), False),
    ("pages/account.py", "account", "nav.account", (), False),
]


def _forbidden(url_path: str) -> Callable[[], None]:
    def view() -> None:
        st.error(tr("err.page_forbidden"))
        st.page_link("pages/log.py", label=tr("common.back"))
    view.__name__ = f"forbidden_{url_path}"
    return view


def _unknown() -> None:
    """An address no page answers: kesu's own message instead of Streamlit's English pop-up."""
    st.title(tr("nav.not_found"))
    st.info(tr("nav.not_found_text"))
    st.page_link("pages/log.py", label=tr("nav.log"), icon="↩️")


def _asked_path() -> str:
    """The first path segment the browser asked for ("" for the root or when unknown)."""
    try:
        path = urlsplit(st.context.url or "").path
    except Exception:  # noqa: BLE001 - no browser context (a test, a bare run)
        return ""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    path = path.strip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base):].strip("/")
    return path


# Streamlit serves the default page at "/" only, and answers the default's own url path
# with an English "Page not found" pop-up: the Log page is the default under a name nobody
# types (ROOT), a hidden second entry of it answers /log, and an unknown one-segment address
# gets a hidden page of its own (_unknown) instead of the pop-up.
ROOT = "home"
PATH_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,60}")


def _root(asked: str) -> str:
    return ROOT if asked != ROOT else ROOT + "_"


def _extra_pages(asked: str, known: set[str], view: Callable[[], None] | None,
                 title: str) -> list[st.Page]:
    """Hidden pages for /log (the Log page, or `view`) and for an address that is no page
    (the not-found message, or `view`)."""
    pages = [st.Page(view or "pages/log.py", title=title, url_path="log", visibility="hidden")]
    if asked and asked not in known | {_root(asked)} and PATH_SHAPE.fullmatch(asked):
        pages.append(st.Page(view or _unknown, title=tr("nav.not_found"), url_path=asked,
                             visibility="hidden"))
    return pages


def _signed_out(url_path: str) -> Callable[[], None]:
    def view() -> None:
        auth.signed_out_view()
    view.__name__ = f"signed_out_{url_path}"
    return view


def _navigation(user: User | None) -> st.Page:
    asked, known = _asked_path(), {p for _, p, _, _, _ in PAGES}
    if user is None:  # the login ended (the guard lets nobody in without one)
        pages = [st.Page(_signed_out(p), title=tr("nav.login"),
                         url_path=_root(asked) if p == "log" else p, default=(p == "log"),
                         visibility="hidden")
                 for _, p, _, _, _ in PAGES]
        pages += _extra_pages(asked, known, _signed_out("other"), tr("nav.login"))
        return st.navigation(pages, position="hidden")
    unread = uc.notices.unread_count(kesu(), user)
    pages = [st.Page(f, title=tr(k) + (f" ({unread})" if p == "inbox" and unread else ""),
                     url_path=_root(asked) if p == "log" else p, default=(p == "log"),
                     visibility="hidden" if hidden else "visible")
             for f, p, k, roles, hidden in PAGES if not roles or user.has(*roles)]
    # a page this role may not open answers its URL with a clear message, not a 404 pop-up
    pages += [st.Page(_forbidden(p), title=tr(k), url_path=p, visibility="hidden")
              for _, p, k, roles, _ in PAGES if roles and not user.has(*roles)]
    pages += _extra_pages(asked, known, None, tr("nav.log"))
    return st.navigation(pages)


def _sidebar(user: User) -> None:
    with st.sidebar:
        st.caption(tr("sidebar.signed_in_as", name=md(user.display_name)))
        auth.language_switch("sidebar_lang")
        if st.button(tr("sidebar.logout"), key="kesu_logout", width="stretch"):
            auth.logout()
            st.rerun()


auth.apply_lang_param()
app = kesu()
background_jobs()
if uc.accounts.needs_first_admin(app):
    show_flash()
    st.navigation([st.Page(auth.setup_view, title=tr("setup.title"), url_path="setup")],
                  position="hidden").run()
    st.stop()

current = auth.current_user()
if current is None:
    _navigation(None).run()
else:
    nav = _navigation(current)
    _sidebar(current)
    nav.run()
