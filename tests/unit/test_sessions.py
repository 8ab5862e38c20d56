"""Login sessions kept on the server (docs/procedure.md §11, issue #11): a random token per
login whose hash is stored, an idle timeout and an absolute lifetime, ended by logout, "log out
everywhere", a password change or reset, deactivation and an administrator."""

from __future__ import annotations

import pytest

from core import usecases as uc
from core.errors import LoginFailed, NotAllowed
from core.model import Role, User
from core.rules.sessions import token_hash
from core.usecases.accounts import UserInput
from core.usecases.context import Context
from tests.unit.conftest import PASSWORD as ADMIN_PASSWORD
from tests.unit.fakes import FakeClock, FakeDatabase

PASSWORD = "correct-horse-1"


@pytest.fixture
def sally(kesu: Context, admin: User, make_user: object) -> User:
    return uc.accounts.create_user(kesu, admin,
                                   UserInput("sally2", "Sally", frozenset({Role.SALES})), PASSWORD)


def test_a_login_gives_a_fresh_random_token_and_stores_only_its_hash(
        kesu: Context, sally: User, db: FakeDatabase) -> None:
    one = uc.sessions.log_in(kesu, "Sally2 ", PASSWORD, client="10.0.0.7", agent="Chrome\x00")
    two = uc.sessions.log_in(kesu, "sally2", PASSWORD)
    assert one.token != two.token and len(one.token) >= 40
    stored = list(db.data.sessions.values())
    assert [h for h, _ in stored] == [token_hash(one.token), token_hash(two.token)]
    assert all(one.token not in repr(s) for _, s in stored)
    assert one.session.client == "10.0.0.7" and one.session.agent == "Chrome"
    assert uc.sessions.session_of(kesu, one.token) == (sally, one.session)


def test_a_wrong_password_starts_no_session(kesu: Context, sally: User, db: FakeDatabase) -> None:
    with pytest.raises(LoginFailed):
        uc.sessions.log_in(kesu, "sally2", "wrong password")
    assert db.data.sessions == {}


@pytest.mark.parametrize("token", [None, "", "x" * 201, "no-such-token"])
def test_an_unknown_or_absurd_token_is_no_session(kesu: Context, sally: User,
                                                  token: str | None) -> None:
    uc.sessions.log_in(kesu, "sally2", PASSWORD)
    assert uc.sessions.session_of(kesu, token) is None


def test_a_session_ends_after_the_idle_time_and_is_marked_so(
        kesu: Context, sally: User, clock: FakeClock, db: FakeDatabase) -> None:
    login = uc.sessions.log_in(kesu, "sally2", PASSWORD)
    clock.advance(minutes=479)
    assert uc.sessions.session_of(kesu, login.token) is not None  # seen: the idle clock restarts
    clock.advance(minutes=479)
    assert uc.sessions.session_of(kesu, login.token) is not None
    clock.advance(minutes=480)
    assert uc.sessions.session_of(kesu, login.token) is None
    (_, ended), = db.data.sessions.values()
    assert ended.end_reason == "idle" and ended.ended_at == clock()


def test_a_session_ends_at_its_lifetime_however_busy(kesu: Context, sally: User,
                                                     clock: FakeClock, admin: User) -> None:
    uc.reference.set_settings(kesu, admin, {"session_lifetime_hours": 2})
    login = uc.sessions.log_in(kesu, "sally2", PASSWORD)
    for _ in range(11):
        clock.advance(minutes=10)
        assert uc.sessions.session_of(kesu, login.token) is not None
    clock.advance(minutes=10)
    assert uc.sessions.session_of(kesu, login.token) is None


def test_logout_ends_only_that_session(kesu: Context, sally: User) -> None:
    phone = uc.sessions.log_in(kesu, "sally2", PASSWORD)
    desk = uc.sessions.log_in(kesu, "sally2", PASSWORD)
    uc.sessions.log_out(kesu, phone.token)
    assert uc.sessions.session_of(kesu, phone.token) is None
    assert uc.sessions.session_of(kesu, desk.token) is not None


def test_log_out_everywhere_ends_every_session_of_the_user_only(kesu: Context, sally: User,
                                                                admin: User) -> None:
    phone = uc.sessions.log_in(kesu, "sally2", PASSWORD)
    desk = uc.sessions.log_in(kesu, "sally2", PASSWORD)
    other = uc.sessions.log_in(kesu, "admin", ADMIN_PASSWORD)
    assert uc.sessions.log_out_everywhere(kesu, sally) == 2
    assert uc.sessions.session_of(kesu, phone.token) is None
    assert uc.sessions.session_of(kesu, desk.token) is None
    assert uc.sessions.session_of(kesu, other.token) is not None


def test_a_password_change_keeps_this_session_and_ends_the_others(kesu: Context,
                                                                  sally: User) -> None:
    here = uc.sessions.log_in(kesu, "sally2", PASSWORD)
    stolen = uc.sessions.log_in(kesu, "sally2", PASSWORD)
    uc.accounts.change_password(kesu, sally, PASSWORD, "a brand new pass",
                                keep_session=here.session.id)
    assert uc.sessions.session_of(kesu, here.token) is not None
    assert uc.sessions.session_of(kesu, stolen.token) is None


def test_a_reset_or_a_deactivation_ends_every_session(kesu: Context, sally: User,
                                                      admin: User) -> None:
    first = uc.sessions.log_in(kesu, "sally2", PASSWORD)
    uc.accounts.reset_password(kesu, admin, sally.id, "reset by admin 1")
    assert uc.sessions.session_of(kesu, first.token) is None
    again = uc.sessions.log_in(kesu, "sally2", "reset by admin 1")
    uc.accounts.update_user(kesu, admin, sally.id,
                            UserInput("sally2", "Sally", frozenset({Role.SALES}), active=False))
    assert uc.sessions.session_of(kesu, again.token) is None


def test_an_administrator_lists_and_ends_open_sessions(kesu: Context, sally: User, admin: User,
                                                       clock: FakeClock) -> None:
    login = uc.sessions.log_in(kesu, "sally2", PASSWORD, client="10.0.0.7")
    listed = uc.sessions.open_sessions(kesu, admin)
    assert [(v.username, v.session.client) for v in listed] == [("sally2", "10.0.0.7")]
    with pytest.raises(NotAllowed):
        uc.sessions.open_sessions(kesu, sally)
    with pytest.raises(NotAllowed):
        uc.sessions.end_session(kesu, sally, login.session.id)
    uc.sessions.end_session(kesu, admin, login.session.id)
    assert uc.sessions.session_of(kesu, login.token) is None
    assert uc.sessions.open_sessions(kesu, admin) == []
