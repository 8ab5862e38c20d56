"""Translations (zh, en) for the Stats page and the monthly summary; merged into core.i18n.T."""
from __future__ import annotations

T: dict[str, tuple[str, str]] = {
}
