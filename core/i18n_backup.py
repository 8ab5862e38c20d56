"""Translations (zh, en) for backup and restore; merged into core.i18n.T."""
from __future__ import annotations

T: dict[str, tuple[str, str]] = {
}
