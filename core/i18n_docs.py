"""Translations (zh, en) for the case documents: handling form, 8D report, reply letter; merged into core.i18n.T."""
from __future__ import annotations

T: dict[str, tuple[str, str]] = {
}
