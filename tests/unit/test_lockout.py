"""Login and lockout: 5 failures within 15 minutes lock the account for 15 minutes (docs/procedure.md §11)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from core.errors import AccountLocked, LoginFailed, NotAllowed
from core.model import Role, User
from core.rules.lockout import locked_until
from core.services import Kesu, UserInput
from tests.unit.conftest import PASSWORD
from tests.unit.fakes import FakeClock

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
    assert locked_until(failures, T0 + timedelta(minutes=5),
                        unlocked_at=T0 + timedelta(minutes=4, seconds=30)) is None


# ---------------------------------------------------------------- authenticate


def fail(kesu: Kesu, username: str, times: int, clock: FakeClock,
         every: timedelta = timedelta(seconds=30)) -> None:
    for _ in range(times):
        with pytest.raises((LoginFailed, AccountLocked)):
            kesu.authenticate(username, "wrong password")
        clock.advance(seconds=every.total_seconds())


def test_correct_password_logs_in_and_returns_the_user(kesu: Kesu, sales: User) -> None:
    assert kesu.authenticate("sally", PASSWORD) == sales


def test_username_is_matched_case_insensitively_and_trimmed(kesu: Kesu, sales: User) -> None:
    assert kesu.authenticate("  SALLY ", PASSWORD).id == sales.id


def test_wrong_password_is_refused_with_login_failed(kesu: Kesu, sales: User) -> None:
    with pytest.raises(LoginFailed):
        kesu.authenticate("sally", "not my password")


def test_unknown_user_is_refused_like_a_wrong_password(kesu: Kesu, admin: User) -> None:
    with pytest.raises(LoginFailed):
        kesu.authenticate("nobody", PASSWORD)


def test_empty_password_is_refused(kesu: Kesu, sales: User) -> None:
    with pytest.raises(LoginFailed):
        kesu.authenticate("sally", "")


def test_deactivated_user_cannot_log_in(kesu: Kesu, admin: User, make_user: Any) -> None:
    u = make_user("olga", Role.SALES)
    kesu.update_user(admin, u.id, UserInput("olga", "Olga", frozenset({Role.SALES}),
                                            active=False))
    with pytest.raises(LoginFailed):
        kesu.authenticate("olga", PASSWORD)


def test_fifth_failure_within_fifteen_minutes_locks_the_account(
        kesu: Kesu, sales: User, clock: FakeClock) -> None:
    fail(kesu, "sally", 4, clock)
    with pytest.raises(AccountLocked):
        kesu.authenticate("sally", "wrong again")
    assert kesu.is_locked("sally")


def test_four_failures_leave_the_account_open(
        kesu: Kesu, sales: User, clock: FakeClock) -> None:
    fail(kesu, "sally", 4, clock)
    assert not kesu.is_locked("sally")
    assert kesu.authenticate("sally", PASSWORD).id == sales.id


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(
        kesu: Kesu, sales: User, clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock, every=timedelta(minutes=4))
    assert not kesu.is_locked("sally")
    assert kesu.authenticate("sally", PASSWORD).id == sales.id


def test_locked_user_with_the_correct_password_is_still_refused(
        kesu: Kesu, sales: User, clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock)
    with pytest.raises(AccountLocked) as err:
        kesu.authenticate("sally", PASSWORD)
    assert 1 <= err.value.params["minutes"] <= 15


def test_lock_lifts_by_itself_after_fifteen_minutes(
        kesu: Kesu, sales: User, clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock)
    clock.advance(minutes=15)
    assert kesu.authenticate("sally", PASSWORD).id == sales.id


def test_admin_unlock_clears_the_lock(
        kesu: Kesu, admin: User, sales: User, clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock)
    kesu.unlock_user(admin, "Sally")
    assert not kesu.is_locked("sally")
    assert kesu.authenticate("sally", PASSWORD).id == sales.id


def test_only_an_admin_may_unlock(
        kesu: Kesu, sales: User, manager: User, clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock)
    with pytest.raises(NotAllowed):
        kesu.unlock_user(manager, "sally")
    assert kesu.is_locked("sally")


def test_lockout_of_one_user_does_not_touch_another(
        kesu: Kesu, sales: User, qa: User, clock: FakeClock) -> None:
    fail(kesu, "sally", 5, clock)
    assert kesu.authenticate("quinn", PASSWORD).id == qa.id
