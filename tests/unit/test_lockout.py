"""Login and lockout: 5 failures within 15 minutes lock the account for 15 minutes
(docs/procedure.md §11)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from core.errors import AccountLocked, LoginFailed, NotAllowed
from core.model import Role, User
from core.rules.lockout import locked_until
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from tests.unit.conftest import PASSWORD
from tests.unit.fakes import FakeClock
from core import usecases as uc

T0 = datetime(2026, 11, 10, 8, 0, tzinfo=timezone.utc)


def minutes(*ms: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in ms]


# ---------------------------------------------------------------- the rule


def test_five_failures_within_fifteen_minutes_lock_for_fifteen_minutes() -> None:
    failures = minutes(0, 1, 2, 3, 4)
    assert locked_until(failures, T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=19)


def test_four_failures_do_not_lock() -> None:
    assert locked_until(minutes(0, 1, 2, 3), T0 + timedelta(minutes=4)) is None


def test_five_failures_spread_over_more_than_fifteen_minutes_do_not_lock() -> None:
    assert locked_until(minutes(0, 4, 8, 12, 16), T0 + timedelta(minutes=16)) is None


def test_five_failures_exactly_fifteen_minutes_apart_still_lock() -> None:
    assert locked_until(minutes(0, 5, 10, 14, 15), T0 + timedelta(minutes=15)) is not None


def test_lock_ends_after_fifteen_minutes() -> None:
    failures = minutes(0, 1, 2, 3, 4)
    assert locked_until(failures, T0 + timedelta(minutes=18, seconds=59)) is not None
    assert locked_until(failures, T0 + timedelta(minutes=19)) is None


def test_failures_before_an_admin_unlock_do_not_count() -> None:
    failures = minutes(0, 1, 2, 3, 4)
    assert (
        locked_until(failures, T0 + timedelta(minutes=5),
                     unlocked_at=T0 + timedelta(minutes=4, seconds=30))
        is None
    )


# ---------------------------------------------------------------- authenticate


def fail(kesu: Context, username: str, times: int, clock: FakeClock,
         every: timedelta = timedelta(seconds=30)) -> None:
    for _ in range(times):
        with pytest.raises((LoginFailed, AccountLocked)):
            uc.accounts.authenticate(kesu, username, "wrong password")
        clock.advance(seconds=every.total_seconds())


def test_correct_password_logs_in_and_returns_the_user(kesu: Context, sales: User) -> None:
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD) == sales


def test_username_is_matched_case_insensitively_and_trimmed(kesu: Context, sales: User) -> None:
    assert uc.accounts.authenticate(kesu, "  SALLY ", PASSWORD).id == sales.id


def test_wrong_password_is_refused_with_login_failed(kesu: Context, sales: User) -> None:
    with pytest.raises(LoginFailed):
        uc.accounts.authenticate(kesu, "sally", "not my password")


def test_unknown_user_is_refused_like_a_wrong_password(kesu: Context, admin: User) -> None:
    with pytest.raises(LoginFailed):
        uc.accounts.authenticate(kesu, "nobody", PASSWORD)


def test_empty_password_is_refused(kesu: Context, sales: User) -> None:
    with pytest.raises(LoginFailed):
        uc.accounts.authenticate(kesu, "sally", "")


def test_deactivated_user_cannot_log_in(kesu: Context, admin: User, make_user: Any) -> None:
    u = make_user("olga", Role.SALES)
    uc.accounts.update_user(kesu, admin, u.id,
                            UserInput("olga", "Olga", frozenset({Role.SALES}), active=False))
    with pytest.raises(LoginFailed):
        uc.accounts.authenticate(kesu, "olga", PASSWORD)


def test_fifth_failure_within_fifteen_minutes_locks_the_account(kesu: Context, sales: User,
                                                                clock: FakeClock) -> None:
    fail(kesu, "sally", 4, clock)
    with pytest.raises(AccountLocked):
        uc.accounts.authenticate(kesu, "sally", "wrong again")
    assert uc.accounts.is_locked(kesu, "sally")


def test_four_failures_leave_the_account_open(kesu: Context, sales: User, clock: FakeClock) -> None:
    fail(kesu, "sally", 4, clock)
    assert not uc.accounts.is_locked(kesu, "sally")
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD).id == sales.id


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(kesu: Context, sales: User,
                                                                    clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock, every=timedelta(minutes=4))
    assert not uc.accounts.is_locked(kesu, "sally")
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD).id == sales.id


def test_locked_user_with_the_correct_password_is_still_refused(kesu: Context, sales: User,
                                                                clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock)
    with pytest.raises(AccountLocked) as err:
        uc.accounts.authenticate(kesu, "sally", PASSWORD)
    assert 1 <= err.value.params["minutes"] <= 15


def test_lock_lifts_by_itself_after_fifteen_minutes(kesu: Context, sales: User,
                                                    clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock)
    clock.advance(minutes=15)
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD).id == sales.id


def test_admin_unlock_clears_the_lock(kesu: Context, admin: User, sales: User,
                                      clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock)
    uc.accounts.unlock_user(kesu, admin, "Sally")
    assert not uc.accounts.is_locked(kesu, "sally")
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD).id == sales.id


def test_only_an_admin_may_unlock(kesu: Context, sales: User, manager: User,
                                  clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock)
    with pytest.raises(NotAllowed):
        uc.accounts.unlock_user(kesu, manager, "sally")
    assert uc.accounts.is_locked(kesu, "sally")


def test_lockout_of_one_user_does_not_touch_another(kesu: Context, sales: User, qa: User,
                                                    clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock)
    assert uc.accounts.authenticate(kesu, "quinn", PASSWORD).id == qa.id
