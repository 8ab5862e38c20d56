"""What every page needs: the application object, the current user, the language, messages.

Part of the composition root (with app.py): the only UI module that touches db/.
"""
from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import streamlit as st

from core.errors import DomainError, InvalidInput, StaleCase
from core.i18n import t, tn
from core.model import User
from core.rules.approvals import Titles
from core.usecases.context import Context
from core import usecases as uc

log = logging.getLogger("kesu")
R = TypeVar("R")


@st.cache_resource(show_spinner=False)
def kesu() -> Context:
    """One application object (engine, pool) per server process; migrates on first use."""
    from adapters.wiring import build_app

    return build_app()


@st.cache_resource(show_spinner=False)
def background_jobs() -> object:
    """The scheduled jobs' thread of this server process (escalations, outbox), started once
    for all sessions; None when KESU_BACKGROUND=off leaves them to `manage.py worker`."""
    from adapters.scheduler import start_background

    return start_background(kesu())


def lang() -> str:
    return str(st.session_state.get("lang", "zh"))


def tr(key: str, **params: Any) -> str:
    return t(key, lang(), **params)


def trn(key: str, n: int, **params: Any) -> str:
    """tr() of a counted text: the form for n ("1 task", "2 tasks"); `{n}` is n."""
    return tn(key, n, lang(), **params)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:<>&=])")


def md(text: object) -> str:
    """User text for st.markdown, captions, alerts and labels: shown as typed, never as
    Markdown (no image fetched from another server, no link, no emphasis, LaTeX, icon or
    colour). Not for st.text, tables or inputs, which show text as it is anyway."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def me() -> User:
    user = st.session_state.get("kesu_user")
    if not isinstance(user, User):
        st.stop()
    return user


def local(dt: datetime | None, with_time: bool = True) -> str:
    """A stored UTC time shown in the configured zone."""
    if dt is None:
        return t("common.none", lang())
    shown = dt.astimezone(settings_tz())
    return shown.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def settings_tz() -> Any:
    return ZoneInfo(_timezone_name())


@st.cache_data(ttl=30, show_spinner=False)
def _timezone_name() -> str:
    return uc.context.settings(kesu()).timezone


def settings_changed() -> None:
    _timezone_name.clear()


def error_message(err: DomainError) -> str:
    """The error in the user's language; a form's every problem, one per line."""
    errors = err.all if isinstance(err, InvalidInput) else (err,)
    return "  \n".join(t(e.key, lang(), **{k: (local(v) if isinstance(v, datetime) else v)
                                           for k, v in e.params.items()})
                        for e in errors)


def attempt(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R | None:
    """Run one service call; show a domain error in the user's language, never a stack trace."""
    try:
        return fn(*args, **kwargs)
    except StaleCase as err:
        st.session_state["kesu_flash"] = ("error", error_message(err))
        st.rerun()
    except DomainError as err:
        st.error(error_message(err))
    except Exception:  # noqa: BLE001 - the user sees a reference, the log the trace
        ref = uuid.uuid4().hex[:8]
        log.exception("unexpected error ref=%s", ref)
        st.error(tr("err.unexpected", ref=ref))
    return None


def done(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Like attempt(), for services that return nothing: True when it succeeded."""
    def call() -> bool:
        fn(*args, **kwargs)
        return True
    return attempt(call) is True


def fresh_form(name: str) -> str:
    """The key of a form that keeps what was typed when a save is refused and starts empty
    after a saved one (clear_on_submit would empty it either way): its widgets' keys start
    with it, and `form_saved(name)` gives the next one."""
    return f"{name}_g{int(st.session_state.get(f'kesu_form_gen_{name}', 0))}"


def form_saved(name: str) -> None:
    st.session_state[f"kesu_form_gen_{name}"] = int(
        st.session_state.get(f"kesu_form_gen_{name}", 0)) + 1


def flash(kind: str, text: str) -> None:
    """A message shown once on the next run (after st.rerun)."""
    st.session_state["kesu_flash"] = (kind, text)


def show_flash() -> None:
    item = st.session_state.pop("kesu_flash", None)
    if item:
        kind, text = item
        {"success": st.success, "error": st.error, "warning": st.warning}.get(kind, st.info)(text)


def label(prefix: str) -> Callable[[Any], str]:
    """format_func for enum select boxes: translates `prefix.value`; None shows as a dash."""
    def fmt(v: Any) -> str:
        if v is None:
            return tr("log.pick")
        return tr(f"{prefix}.{getattr(v, 'value', v)}")
    return fmt


def now_local() -> datetime:
    """Now in the configured zone, by the application's clock (the one the use cases check
    against): every date/time default of a form starts here, never at the machine's zone."""
    return kesu().clock().astimezone(settings_tz())


def today_local() -> date:
    return now_local().date()


def moved_sentence(book: Titles, title: str, moved_from: tuple[str, ...], why: str) -> str:
    """Why a step is signed by another title than its rule named (the Approve card and the
    Admin tester say it the same way)."""
    sep = "、" if lang() == "zh" else ", "
    return tr("appr.moved." + (why or "no_holder"),
              titles=sep.join(book.name(t, lang()) for t in moved_from),
              title=book.name(title, lang()))
