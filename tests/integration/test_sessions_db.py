"""Login sessions on the real databases (SQLite file, PostgreSQL): stored as a hash, seen by
another instance of the app, touched, ended (docs/procedure.md §11, issue #11)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import text

from core import usecases as uc
from core.rules.sessions import token_hash
from core.usecases.context import Context
from tests.integration.conftest import NOW, PASSWORD, World, engine_of


def test_a_session_is_stored_hashed_and_holds_across_instances(
        app: Context, world: World, make_app: Callable[..., Context]) -> None:
    login = uc.sessions.log_in(app, "sales1", PASSWORD, client="10.1.2.3", agent="Firefox")
    with engine_of(app).connect() as con:
        stored = con.execute(text("SELECT token_hash, client FROM sessions")).all()
    assert [tuple(r) for r in stored] == [(token_hash(login.token), "10.1.2.3")]
    later = NOW + timedelta(minutes=30)
    other = make_app(clock=lambda: later)
    user, session = uc.sessions.session_of(other, login.token) or (None, None)
    assert user == world.sales and session is not None and session.last_seen_at == later
    views = uc.sessions.open_sessions(other, world.admin)
    assert [(v.username, v.display_name) for v in views] == [("sales1", "张三")]


def test_ending_sessions_holds_for_every_instance(app: Context, world: World,
                                                  make_app: Callable[..., Context]) -> None:
    a = uc.sessions.log_in(app, "sales1", PASSWORD)
    b = uc.sessions.log_in(app, "sales1", PASSWORD)
    c = uc.sessions.log_in(app, "qa1", PASSWORD)
    other = make_app()
    uc.sessions.log_out(other, a.token)
    assert uc.sessions.session_of(app, a.token) is None
    assert uc.sessions.session_of(app, b.token) is not None
    assert uc.sessions.log_out_everywhere(other, world.sales) == 1
    assert uc.sessions.session_of(app, b.token) is None
    assert uc.sessions.session_of(app, c.token) is not None
    idle_over = make_app(clock=lambda: NOW + timedelta(hours=9))
    assert uc.sessions.session_of(idle_over, c.token) is None
    with engine_of(app).connect() as con:
        reasons = sorted(r[0] for r in con.execute(text("SELECT end_reason FROM sessions")))
    assert reasons == ["idle", "logout", "logout_all"]
