"""Translations (zh, en) for security and performance tooling; merged into core.i18n.T."""
from __future__ import annotations

T: dict[str, tuple[str, str]] = {
}
