"""Maintenance of kesu's catalogs (locale/<locale>/LC_MESSAGES/kesu.po); see docs/translations.md.

    python locale/update.py                      # tidy every catalog, then compile
    python locale/update.py add KEY ZH EN [EN_PLURAL]
    python locale/update.py compile              # only compile the .mo files (Babel)

Tidy: rewrites each .po in one layout (Babel's, no line wrapping) and sets every entry's
`#.` comments to the Chinese and English texts of the other catalogs, so a translator sees
them next to the text being translated; translators' own `# ` comments and flags are kept.
The `#.` comments belong to this tool: it replaces them all.
`add` adds KEY to every catalog: ZH to zh_CN, EN to en (with EN_PLURAL: a counted entry,
msgid_plural KEY.plural, for tn()), an empty msgstr elsewhere (the tests fail on it until it
is translated). Entries are kept in their order; new ones go to the end.
"""
from __future__ import annotations

import argparse
import fcntl
import io
import os
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `import core`, `import adapters` from the root

from adapters.translations import compile_catalogs  # noqa: E402
from core.i18n import DOMAIN, LOCALE_DIR, PLURAL_SUFFIX  # noqa: E402

REFERENCE = {"zh": "zh_CN", "en": "en"}  # the texts shown in the `#.` comments


def _catalogs() -> dict[str, tuple[Path, Catalog]]:
    found = {}
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po.open("rb") as f:
            found[po.parents[1].name] = (po, read_po(f, abort_invalid=True))
    return found


def _shown(message: Message | None) -> str:
    if message is None or not message.string:
        return "(missing)"
    forms = message.string if isinstance(message.string, (tuple, list)) else [message.string]
    return " | ".join(str(s).replace("\n", "\\n") for s in forms)


def tidy(catalogs: dict[str, tuple[Path, Catalog]]) -> None:
    for name, (path, catalog) in catalogs.items():
        for message in catalog:
            if not message.id:
                continue  # the header
            message.auto_comments = [
                f"{code}: {_shown(catalogs[ref][1].get(message.id))}"
                for code, ref in REFERENCE.items() if ref != name and ref in catalogs]
        out = io.BytesIO()
        write_po(out, catalog, width=0, no_location=True)
        if not path.exists() or path.read_bytes() != out.getvalue():
            # written whole or not at all: a reader never sees half a catalog
            tmp = path.with_suffix(".po.tmp")
            tmp.write_bytes(out.getvalue())
            os.replace(tmp, path)
            print(f"tidied {path.relative_to(ROOT)}")


def add(catalogs: dict[str, tuple[Path, Catalog]], key: str, zh: str, en: str,
        en_plural: str | None) -> None:
    for name, (path, catalog) in catalogs.items():
        if catalog.get(key) is not None:
            raise SystemExit(f"{key} exists already in {path.relative_to(ROOT)}")
        text = {"zh_CN": zh, "en": en}.get(name, "")
        if en_plural is None:
            catalog.add(key, text)
        else:
            forms = [text] * catalog.num_plurals if name != "en" else [en, en_plural]
            catalog.add((key, key + PLURAL_SUFFIX), tuple(forms))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="locale/update.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd")
    a = sub.add_parser("add", help="add a key to every catalog")
    a.add_argument("key")
    a.add_argument("zh")
    a.add_argument("en")
    a.add_argument("en_plural", nargs="?")
    sub.add_parser("compile", help="compile every .po to its .mo")
    args = p.parse_args(argv)
    if args.cmd != "compile":
        # one run at a time: two runs at once would each rewrite the catalogs from what they
        # read, and one's new keys would be lost
        with (LOCALE_DIR / ".update.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            catalogs = _catalogs()
            if args.cmd == "add":
                add(catalogs, args.key, args.zh, args.en, args.en_plural)
            tidy(catalogs)
    for mo in compile_catalogs(force=True):
        print(f"compiled {mo.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
