"""Sign-in with growing delays instead of a lock, the password policy, and the forced change
after an administrator's reset (issue #11 item 4, core/rules/logins.py, passwords.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from core.errors import AccountLocked, InvalidInput, LoginFailed, NotAllowed
from core.model import Role, User
from core.rules import logins, passwords
from core.rules.logins import Counter
from core.usecases.accounts import UserInput
from core.usecases.context import Context
from tests.unit.conftest import PASSWORD
from tests.unit.fakes import FakeClock, FakeDatabase
from core import usecases as uc

T0 = datetime(2026, 11, 10, 8, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------- the delay schedule


def test_first_three_failures_of_a_name_cost_no_wait_then_1_2_4_8_seconds() -> None:
    assert [logins.delay(n).total_seconds() for n in range(8)] == [0, 0, 0, 1, 2, 4, 8, 16]


def test_the_wait_never_exceeds_five_minutes_however_many_failures() -> None:
    assert logins.delay(12) == timedelta(minutes=5)
    assert logins.delay(10_000) == timedelta(minutes=5)


def test_a_client_address_gets_ten_free_failures_across_names() -> None:
    key = logins.client_key("10.0.0.9")
    assert logins.delay(9, logins.free_of(key)) == timedelta(0)
    assert logins.delay(10, logins.free_of(key)) == timedelta(seconds=1)


def test_next_attempt_is_allowed_once_the_delay_after_the_last_failure_passed() -> None:
    c = Counter(5, T0)  # 5 failures: wait 4 s
    assert logins.allowed_at(c, T0 + timedelta(seconds=3)) == T0 + timedelta(seconds=4)
    assert logins.allowed_at(c, T0 + timedelta(seconds=4)) is None


def test_failures_are_forgotten_after_an_hour_without_any() -> None:
    c = Counter(50, T0)
    assert logins.current(c, T0 + timedelta(minutes=59)) == c
    assert logins.after_failure(c, T0 + timedelta(hours=1)) == Counter(1, T0 + timedelta(hours=1))


def test_seconds_left_rounds_up() -> None:
    assert logins.seconds_left(T0 + timedelta(seconds=1.2), T0) == 2
    assert logins.seconds_left(T0, T0) == 1


# ---------------------------------------------------------------- the password policy


@pytest.mark.parametrize("pw", ["12345678", "password", "qwerty123", "123456789", "11111111",
                                "iloveyou", "woaini1314", "a123456789", "88888888", "1qaz2wsx",
                                "Password", "PASSWORD1", "pass-word", "Qwerty 123"])
def test_common_passwords_are_refused_whatever_their_case_or_separators(pw: str) -> None:
    assert passwords.problem(pw, "wang") == ("err.password_common", {})


def test_the_shipped_list_holds_thousands_including_chinese_favourites() -> None:
    common = passwords.common_passwords()
    assert len(common) > 5000
    assert {"5201314", "woaini1314", "a123456", "88888888", "1qaz2wsx", "12345678"} <= common


@pytest.mark.parametrize("pw", ["wangli2024", "2024wangli", "ilgnaw-2024", "wangliwangli",
                                "WangLi#1990", "Wang.Li.1990x"])
def test_a_password_holding_the_user_name_forwards_or_backwards_is_refused(pw: str) -> None:
    assert passwords.problem(pw, "wangli") == ("err.password_has_name", {})


def test_a_two_letter_name_is_refused_only_as_the_whole_password() -> None:
    assert passwords.problem("aqua-marine-7", "qa") is None
    assert passwords.problem("qa", "qa") is not None  # (too short anyway)


def test_length_limits_are_eight_characters_and_72_bytes() -> None:
    assert passwords.problem("tq7#vm2", "x1") == ("err.password_short", {"n": 8})
    assert passwords.problem("tq7#vm2k", "x1") is None
    assert passwords.problem("界" * 25, "x1") == ("err.password_long", {"n": 72})


def test_the_messages_exist_in_chinese_and_english() -> None:
    from core.i18n import t
    for key in ("err.password_common", "err.password_has_name", "err.password_same"):
        assert t(key, "zh") != t(key, "en") != key
    for key in ("err.login_wait", "err.login_failed_wait", "err.old_password_wrong_wait"):
        zh, en = t(key, "zh", seconds=4), t(key, "en", seconds=4)
        assert "4 秒" in zh and "4 seconds" in en
        zh, en = t(key + "_minutes", "zh", minutes=5), t(key + "_minutes", "en", minutes=5)
        assert "5 分钟" in zh and "5 minutes" in en


# ---------------------------------------------------------------- signing in


def fail(kesu: Context, username: str, times: int, client: str = "") -> None:
    for _ in range(times):
        with pytest.raises((LoginFailed, AccountLocked)):
            uc.accounts.authenticate(kesu, username, "wrong password", client)


def test_correct_password_logs_in_and_returns_the_user(kesu: Context, sales: User) -> None:
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD) == sales


def test_username_is_matched_case_insensitively_and_trimmed(kesu: Context, sales: User) -> None:
    assert uc.accounts.authenticate(kesu, "  SALLY ", PASSWORD).id == sales.id


def test_a_hash_of_an_older_cost_signs_in_and_is_made_again_at_the_current_one(
        kesu: Context, db: FakeDatabase, sales: User, admin: User) -> None:
    """Lowering (or raising) the bcrypt cost locks nobody out: the old hash still checks, and
    the first right password replaces it; a wrong one leaves it as it is."""
    db.data.password_hashes[sales.id] = "old:" + PASSWORD
    uc.accounts.reset_password(kesu, admin, admin.id, "maple-river-42")  # must change after
    db.data.password_hashes[admin.id] = "old:maple-river-42"
    fail(kesu, "sally", 1)
    assert db.data.password_hashes[sales.id] == "old:" + PASSWORD
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD) == sales
    assert db.data.password_hashes[sales.id] == "h:" + PASSWORD
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD) == sales  # and checks again
    login = uc.sessions.log_in(kesu, "admin", "maple-river-42")
    assert db.data.password_hashes[admin.id] == "h:maple-river-42"
    assert uc.accounts.pending_password_change(kesu, login.token) is not None  # still forced


def test_unknown_user_and_empty_password_are_refused_like_a_wrong_password(
        kesu: Context, sales: User) -> None:
    for name, pw in (("sally", "not mine"), ("nobody", PASSWORD), ("sally", "")):
        with pytest.raises(LoginFailed):
            uc.accounts.authenticate(kesu, name, pw)


def test_deactivated_user_cannot_log_in(kesu: Context, admin: User, make_user: Any) -> None:
    u = make_user("olga", Role.SALES)
    uc.accounts.update_user(kesu, admin, u.id,
                            UserInput("olga", "Olga", frozenset({Role.SALES}), active=False))
    with pytest.raises(LoginFailed):
        uc.accounts.authenticate(kesu, "olga", PASSWORD)


def test_the_third_failure_tells_to_wait_a_second_and_the_fourth_try_is_refused_unchecked(
        kesu: Context, sales: User, clock: FakeClock) -> None:
    fail(kesu, "sally", 2)
    with pytest.raises(AccountLocked) as err:
        uc.accounts.authenticate(kesu, "sally", "wrong again")
    assert (err.value.key, err.value.params) == ("err.login_failed_wait", {"seconds": 1})
    with pytest.raises(AccountLocked) as err:
        uc.accounts.authenticate(kesu, "sally", PASSWORD)  # even the right one: not checked
    assert err.value.key == "err.login_wait"
    assert uc.login_delays.is_locked(kesu, "sally")


def test_the_owner_signs_in_as_soon_as_the_delay_has_passed(kesu: Context, sales: User,
                                                            clock: FakeClock) -> None:
    fail(kesu, "sally", 3)
    for _ in range(5):  # an attacker keeps trying as soon as allowed: 1, 2, 4, 8, 16 s
        with pytest.raises(AccountLocked) as err:
            uc.accounts.authenticate(kesu, "sally", "guess")
        clock.advance(seconds=err.value.params.get("seconds", 0))
        fail(kesu, "sally", 1)
    with pytest.raises(AccountLocked) as err:
        uc.accounts.authenticate(kesu, "sally", PASSWORD)
    assert err.value.params == {"seconds": 32}
    clock.advance(seconds=32)
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD).id == sales.id
    # and the count starts again: the next slip costs nothing
    fail(kesu, "sally", 1)
    assert not uc.login_delays.is_locked(kesu, "sally")


def test_a_long_run_of_guesses_makes_the_owner_wait_five_minutes_at_most(
        kesu: Context, sales: User, clock: FakeClock) -> None:
    for _ in range(15):  # one guess every time the wait has passed, for over an hour
        with pytest.raises((LoginFailed, AccountLocked)):
            uc.accounts.authenticate(kesu, "sally", "guess")
        clock.advance(minutes=5)
    clock.advance(minutes=-5)
    with pytest.raises(AccountLocked) as err:
        uc.accounts.authenticate(kesu, "sally", PASSWORD)
    assert err.value.params == {"minutes": 5}
    clock.advance(minutes=5)
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD).id == sales.id


def test_guessing_many_names_from_one_address_is_slowed(kesu: Context, sales: User,
                                                        make_user: Any) -> None:
    for i in range(9):
        with pytest.raises(LoginFailed):
            uc.accounts.authenticate(kesu, f"user{i}", "guess", "10.0.0.66")
    with pytest.raises(AccountLocked) as err:  # the tenth: each name only tried once
        uc.accounts.authenticate(kesu, "user9", "guess", "10.0.0.66")
    assert err.value.params == {"seconds": 1}
    with pytest.raises(AccountLocked):
        uc.accounts.authenticate(kesu, "sally", PASSWORD, "10.0.0.66")
    # another address is not slowed
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD, "10.0.0.7").id == sales.id


def test_unknown_names_are_counted_like_known_ones(kesu: Context, sales: User) -> None:
    fail(kesu, "nobody", 3)
    assert uc.login_delays.is_locked(kesu, "nobody")


def test_failures_of_one_user_do_not_slow_another(kesu: Context, sales: User, qa: User) -> None:
    fail(kesu, "sally", 6)
    assert uc.accounts.authenticate(kesu, "quinn", PASSWORD).id == qa.id


def test_admin_clears_a_delay_and_only_an_admin(kesu: Context, admin: User, sales: User,
                                                manager: User) -> None:
    fail(kesu, "sally", 4)
    with pytest.raises(NotAllowed):
        uc.login_delays.unlock_user(kesu, manager, "sally")
    assert uc.login_delays.is_locked(kesu, "sally")
    uc.login_delays.unlock_user(kesu, admin, "Sally")
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD).id == sales.id


def test_a_wrong_current_password_on_my_account_counts_as_a_failed_sign_in(
        kesu: Context, sales: User) -> None:
    fail(kesu, "sally", 2)
    with pytest.raises(InvalidInput) as err:
        uc.accounts.change_password(kesu, sales, "a guess", "maple-river-42")
    assert (err.value.key, err.value.params) == ("err.old_password_wrong_wait", {"seconds": 1})
    with pytest.raises(AccountLocked):  # the right one waits too
        uc.accounts.change_password(kesu, sales, PASSWORD, "maple-river-42")
    with pytest.raises(AccountLocked):
        uc.accounts.authenticate(kesu, "sally", PASSWORD)


@pytest.mark.parametrize("new, key", [("qwerty123", "err.password_common"),
                                      ("sally-2026!", "err.password_has_name"),
                                      (PASSWORD, "err.password_same")])
def test_my_new_password_must_pass_the_policy(kesu: Context, sales: User, new: str,
                                              key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.change_password(kesu, sales, PASSWORD, new)
    assert err.value.key == key
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD).id == sales.id


def test_policy_applies_to_a_new_user_a_reset_and_the_first_admin(kesu: Context, admin: User,
                                                                  sales: User) -> None:
    with pytest.raises(InvalidInput):
        uc.accounts.create_user(kesu, admin, UserInput("tom", "Tom", frozenset({Role.SALES})),
                                "password1")
    with pytest.raises(InvalidInput):
        uc.accounts.reset_password(kesu, admin, sales.id, "sallysally")
    from tests.unit.fakes import FakeDatabase, FakeHasher
    empty = Context(uow=FakeDatabase(), blobs=kesu.blobs, hasher=FakeHasher(), clock=kesu.clock)
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_first_admin(empty, "admin", "Admin", "admin123")
    assert err.value.key == "err.password_common"


# ---------------------------------------------------------------- forced change after a reset


def test_after_a_reset_the_session_serves_only_the_new_password_form(
        kesu: Context, admin: User, sales: User) -> None:
    uc.accounts.reset_password(kesu, admin, sales.id, "temp-Rt5-wq")
    login = uc.sessions.log_in(kesu, "sally", "temp-Rt5-wq")
    assert login.user.must_change_password
    assert uc.sessions.session_of(kesu, login.token) is None  # no page, no file, no socket
    assert uc.accounts.pending_password_change(kesu, login.token) == login.user
    with pytest.raises(InvalidInput) as err:
        uc.accounts.set_own_password(kesu, login.token, "temp-Rt5-wq")
    assert err.value.key == "err.password_same"
    with pytest.raises(InvalidInput):
        uc.accounts.set_own_password(kesu, login.token, "iloveyou")
    uc.accounts.set_own_password(kesu, login.token, "maple-river-42")
    found = uc.sessions.session_of(kesu, login.token)
    assert found is not None and found[0].id == sales.id and not found[0].must_change_password
    assert uc.accounts.pending_password_change(kesu, login.token) is None
    with pytest.raises(NotAllowed):  # the form works once, for that session only
        uc.accounts.set_own_password(kesu, login.token, "another-Pw-77")


def test_the_forced_change_needs_a_session_of_the_reset_user(kesu: Context, admin: User,
                                                             sales: User) -> None:
    with pytest.raises(NotAllowed):
        uc.accounts.set_own_password(kesu, "made-up-token", "maple-river-42")
    login = uc.sessions.log_in(kesu, "sally", PASSWORD)  # not reset
    with pytest.raises(NotAllowed):
        uc.accounts.set_own_password(kesu, login.token, "maple-river-42")
