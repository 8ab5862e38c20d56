"""Growing sign-in delays on a real database (issue #11 item 4): parallel wrong guesses take
turns on the failure counter (SELECT … FOR UPDATE; SQLite's write transaction), so 20 of
them at once check no more passwords than the free attempts; the forced change after a reset
and the policy on the real schema."""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import text

from core.errors import AccountLocked, InvalidInput, LoginFailed
from core.rules import logins
from core.usecases.context import Context
from tests.integration.conftest import PASSWORD, World, engine_of
from core import usecases as uc

PARALLEL = 20


class CountingHasher:
    """The real hasher, counting the passwords it checks."""

    def __init__(self, inner: object) -> None:
        self.inner, self.checked, self.lock = inner, 0, threading.Lock()

    def hash(self, password: str) -> str:
        return self.inner.hash(password)  # type: ignore[attr-defined,no-any-return]

    def check(self, password: str, hashed: str) -> bool:
        with self.lock:
            self.checked += 1
        return self.inner.check(password, hashed)  # type: ignore[attr-defined,no-any-return]

    def needs_rehash(self, hashed: str) -> bool:
        return self.inner.needs_rehash(hashed)  # type: ignore[attr-defined,no-any-return]


def _guess_in_parallel(apps: list[Context], names: list[str], clients: list[str]
                       ) -> dict[str, int]:
    """Each app makes one wrong guess at the same moment; how each ended."""
    barrier = threading.Barrier(len(apps))
    outcome: dict[str, int] = {"failed": 0, "wait": 0, "other": 0}
    lock = threading.Lock()

    def guess(i: int) -> None:
        barrier.wait()
        try:
            uc.accounts.authenticate(apps[i], names[i], f"guess-{i}", clients[i])
            kind = "other"
        except AccountLocked as err:
            kind = "wait" if err.key == "err.login_wait" else "failed"
        except LoginFailed:
            kind = "failed"
        except Exception:  # noqa: BLE001 - counted, and the test fails on it
            kind = "other"
        with lock:
            outcome[kind] += 1

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(apps))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcome


def test_20_parallel_guesses_at_one_account_check_at_most_the_free_attempts(
        app: Context, world: World, make_app: Callable[..., Context]) -> None:
    hasher = CountingHasher(app.hasher)
    uc.accounts.authenticate(app, "sales1", PASSWORD)  # warm up: the dummy hash exists
    # 20 app instances (own engine, own connections), 20 client addresses: only the
    # account's counter can hold them back; the clock stands still, so no wait ever passes
    apps = [dataclasses.replace(make_app(), hasher=hasher) for _ in range(PARALLEL)]
    outcome = _guess_in_parallel(apps, ["sales1"] * PARALLEL,
                                 [f"10.1.0.{i}" for i in range(PARALLEL)])
    assert outcome["other"] == 0, outcome
    assert hasher.checked <= logins.FREE_PER_NAME, outcome
    assert outcome["failed"] == hasher.checked and outcome["wait"] == PARALLEL - hasher.checked
    with engine_of(app).connect() as conn:
        assert conn.scalar(text("SELECT failures FROM login_counters "
                                "WHERE key = 'name:sales1'")) == hasher.checked
    with pytest.raises(AccountLocked):  # the owner too, until the wait has passed
        uc.accounts.authenticate(app, "sales1", PASSWORD)


def test_20_parallel_guesses_at_many_names_from_one_client_check_at_most_its_free_attempts(
        app: Context, world: World, make_app: Callable[..., Context]) -> None:
    hasher = CountingHasher(app.hasher)
    uc.accounts.authenticate(app, "qa1", PASSWORD)
    apps = [dataclasses.replace(make_app(), hasher=hasher) for _ in range(PARALLEL)]
    names = ["sales1", "qa1", "admin", "manager1"] + [f"nobody{i}" for i in range(PARALLEL - 4)]
    outcome = _guess_in_parallel(apps, names, ["10.2.0.1"] * PARALLEL)
    assert outcome["other"] == 0, outcome
    assert hasher.checked <= logins.FREE_PER_CLIENT, outcome
    assert outcome["wait"] >= PARALLEL - logins.FREE_PER_CLIENT


def test_a_reset_user_gets_a_session_good_only_for_choosing_a_new_password(
        app: Context, world: World) -> None:
    uc.accounts.reset_password(app, world.admin, world.sales.id, "temp-Rt5-wq")
    login = uc.sessions.log_in(app, "sales1", "temp-Rt5-wq", "10.0.0.1")
    assert uc.sessions.session_of(app, login.token) is None
    with pytest.raises(InvalidInput) as err:
        uc.accounts.set_own_password(app, login.token, "88888888")
    assert err.value.key == "err.password_common"
    uc.accounts.set_own_password(app, login.token, "maple-river-42")
    found = uc.sessions.session_of(app, login.token)
    assert found is not None and found[0].id == world.sales.id
    with engine_of(app).connect() as conn:
        assert conn.scalar(text("SELECT must_change_password FROM users "
                                "WHERE username = 'sales1'")) in (False, 0)


def test_a_bcrypt_hash_of_an_older_cost_signs_in_and_is_stored_again_at_the_current_cost(
        app: Context, world: World) -> None:
    """bcrypt keeps its cost in the hash: after the cost changes, a user's old hash still
    signs in, and that sign-in stores a hash of the current cost (a wrong password does not)."""
    from adapters.security import BcryptHasher

    current = app.hasher.hash(PASSWORD).split("$")[2]
    older = "05" if current != "05" else "04"
    with engine_of(app).begin() as conn:
        conn.execute(text("UPDATE users SET password_hash = :h WHERE username = 'sales1'"),
                     {"h": BcryptHasher(int(older)).hash(PASSWORD)})

    def stored() -> str:
        with engine_of(app).connect() as conn:
            return str(conn.scalar(text("SELECT password_hash FROM users "
                                        "WHERE username = 'sales1'")))

    with pytest.raises(LoginFailed):
        uc.accounts.authenticate(app, "sales1", "not the password", "10.3.0.1")
    assert stored().startswith(f"$2b${older}$")
    assert uc.accounts.authenticate(app, "sales1", PASSWORD, "10.3.0.1").id == world.sales.id
    assert stored().startswith(f"$2b${current}$")
    assert uc.accounts.authenticate(app, "sales1", PASSWORD, "10.3.0.1").id == world.sales.id
