"""Translations (zh, en) for importing an Excel register; merged into core.i18n.T."""
from __future__ import annotations

T: dict[str, tuple[str, str]] = {
}
