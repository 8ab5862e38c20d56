"""Compiles kesu's gettext catalogs with Babel: locale/<locale>/LC_MESSAGES/kesu.po -> kesu.mo.

core.i18n reads only the compiled .mo files (standard library gettext); they are git-ignored
and built here. app.py, manage.py and tests/conftest.py call compile_catalogs() at start; it
rebuilds a .mo only when it is missing or older than its .po, so otherwise it costs a few
stat() calls. `python locale/update.py compile` does the same by hand (docs/translations.md).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from core.i18n import DOMAIN, LOCALE_DIR


def stale(po: Path, mo: Path) -> bool:
    """Whether `mo` must be (re)built from `po`: missing, or older than it."""
    try:
        return mo.stat().st_mtime_ns < po.stat().st_mtime_ns
    except FileNotFoundError:
        return True


def compile_catalogs(root: Path = LOCALE_DIR, force: bool = False) -> list[Path]:
    """Compile every `<root>/*/LC_MESSAGES/kesu.po` whose .mo is stale; the .mo files built.

    Fuzzy entries are compiled too (a text waiting for review is better than a key on the
    screen; tests/unit/test_i18n.py fails on them). A .po that Babel cannot parse raises.
    Each .mo is written to a temporary file and renamed, so a process reading it (or a
    second process compiling at the same time) never sees half a file; its modification time
    is the .po's as read, so a .po saved again while compiling is compiled again next time.
    """
    built = []
    for po in sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if not force and not stale(po, mo):
            continue
        from babel.messages.mofile import write_mo  # only when compiling: Babel loads slowly
        from babel.messages.pofile import read_po

        po_time = po.stat().st_mtime_ns
        with po.open("rb") as f:
            catalog = read_po(f, abort_invalid=True)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=f".{DOMAIN}-", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog, use_fuzzy=True)
            os.utime(tmp, ns=(po_time, po_time))
            os.replace(tmp, mo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        built.append(mo)
    return built
