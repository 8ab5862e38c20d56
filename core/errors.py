"""Small named exceptions carrying a translatable message key and its parameters."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """Base of every error a user may see; `key` is looked up in core.i18n."""

    key = "err.domain"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class NotAllowed(DomainError):
    key = "err.not_allowed"


class InvalidInput(DomainError):
    """Bad input; `field` (optional) names the field at fault. A form checked as a whole
    raises its first problem with the rest in `others`, so the user sees them all at once."""

    key = "err.invalid_input"

    def __init__(self, key: str | None = None, *, others: Sequence[InvalidInput] = (),
                 **params: Any) -> None:
        super().__init__(key, **params)
        self.others = tuple(others)

    @property
    def all(self) -> tuple[InvalidInput, ...]:
        return (self, *self.others)


class NotFound(DomainError):
    key = "err.not_found"


class StaleCase(DomainError):
    """Someone else changed the case since it was read (optimistic concurrency)."""

    key = "err.stale_case"


class LoginFailed(DomainError):
    key = "err.login_failed"


class AccountLocked(DomainError):
    key = "err.account_locked"
