"""Translations: every label, message and error in Simplified Chinese and English.

Source: the gettext catalogs locale/<locale>/LC_MESSAGES/kesu.po (zh_CN, en). Message ids are
kesu's keys (`nav.log`, `err.required`), msgstr the text; a `#.` comment shows the other
language's text. Translators edit only the .po files (docs/translations.md).

Run time (this module, standard library only): the compiled kesu.mo next to each .po, read
with gettext.GNUTranslations once per process, when a text is first needed (both catalogs:
a few milliseconds). The .mo files are git-ignored: adapters/translations.py compiles them
with Babel, and app.py, manage.py and tests/conftest.py call it at start; it rebuilds only a
.mo that is missing or older than its .po. A .mo that is still missing or stale here raises
CatalogError naming the fix: the app never shows keys instead of text because of a build
step. Design (a) of the move from the Python tables (core/i18n_*.py) to catalogs: one format
for translators (PO, any PO editor), the standard runtime, and Babel kept out of core.

`t(key, lang, **params)` formats a text; parameters named `field`, `state`, `roles` are
themselves translated (`field.<name>`, `state.<name>`, `role.<name>`), `step` as `sla.<step>`;
a parameter given as {"zh": …, "en": …} (a custom field's label) shows the reader's language.
`tn(key, n, lang, **params)` is its ngettext: the form for the count n (the entry has a
msgid_plural `<key>.plural`; English has "1 task" / "2 tasks", Chinese one form).
"""
from __future__ import annotations

import gettext
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from core.errors import DomainError

LANGS = ("zh", "en")
# kesu's language code (core.model.Lang) -> the catalog folder under locale/
LOCALES: dict[str, str] = {"zh": "zh_CN", "en": "en"}
DEFAULT_LANG = "zh"  # also shown for a language without a catalog
DOMAIN = "kesu"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
PLURAL_SUFFIX = ".plural"  # msgid_plural of a counted entry: "<key>.plural"


class CatalogError(RuntimeError):
    """A compiled catalog (.mo) is missing or older than its .po."""


class _Catalog:
    """One language: the GNUTranslations object and its entries by key."""

    def __init__(self, trans: gettext.GNUTranslations) -> None:
        self.trans = trans
        self.texts: dict[str, str] = {}
        self.plurals: dict[str, tuple[str, ...]] = {}
        forms: dict[str, dict[int, str]] = {}
        # GNUTranslations keeps its entries in _catalog: msgid -> text for a plain entry,
        # (msgid, i) -> form i for a plural one; "" is the header.
        entries: dict[object, str] = vars(trans)["_catalog"]
        for msgid, text in entries.items():
            if isinstance(msgid, tuple):
                forms.setdefault(str(msgid[0]), {})[int(msgid[1])] = text
            elif msgid:
                self.texts[str(msgid)] = text
        for key, by_index in forms.items():
            self.plurals[key] = tuple(by_index[i] for i in sorted(by_index))

    def __contains__(self, key: object) -> bool:
        return key in self.texts or key in self.plurals

    def text(self, key: str) -> str:
        """The text of a plain entry; of a plural entry its last (most general) form."""
        found = self.texts.get(key)
        if found is not None:
            return found
        forms = self.plurals.get(key)
        return forms[-1] if forms else key

    def ntext(self, key: str, n: int) -> str:
        if key in self.plurals:
            return self.trans.ngettext(key, key + PLURAL_SUFFIX, n)
        return self.text(key)


_lock = threading.Lock()
_loaded: dict[str, _Catalog] = {}


def catalog_files(lang: str, root: Path | None = None) -> tuple[Path, Path]:
    """(the .po, the .mo) of a language."""
    folder = (root or LOCALE_DIR) / LOCALES[lang] / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def load_catalog(po: Path, mo: Path) -> gettext.GNUTranslations:
    """The compiled catalog `mo`; CatalogError if it is missing or older than `po`."""
    try:
        mo_time = mo.stat().st_mtime_ns
    except FileNotFoundError:
        raise CatalogError(f"{mo} is missing: compile the translations with "
                           "`python locale/update.py compile` (app.py does it at start)") from None
    if po.exists() and po.stat().st_mtime_ns > mo_time:
        raise CatalogError(f"{mo} is older than {po.name}: compile the translations with "
                           "`python locale/update.py compile` (app.py does it at start)")
    with mo.open("rb") as f:
        return gettext.GNUTranslations(f)


def _catalog(lang: str) -> _Catalog:
    code = lang if lang in LOCALES else DEFAULT_LANG
    found = _loaded.get(code)
    if found is None:
        with _lock:
            found = _loaded.get(code)
            if found is None:
                found = _loaded[code] = _Catalog(load_catalog(*catalog_files(code)))
    return found


class _Table(Mapping[str, tuple[str, str]]):
    """Read-only view key -> (zh, en) of the catalogs, as the Python tables were (tests use
    `key in T`); a plural entry shows its most general form."""

    def _keys(self) -> list[str]:
        zh = _catalog("zh")
        return [*zh.texts, *zh.plurals]

    def __getitem__(self, key: str) -> tuple[str, str]:
        zh, en = _catalog("zh"), _catalog("en")
        if key not in zh:
            raise KeyError(key)
        return zh.text(key), en.text(key)

    def __contains__(self, key: object) -> bool:
        return key in _catalog("zh")

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


T: Mapping[str, tuple[str, str]] = _Table()


def known(key: str, lang: str = DEFAULT_LANG) -> bool:
    """Whether the catalog of `lang` has `key`."""
    return key in _catalog(lang)


def t(key: str, lang: str = "zh", **params: Any) -> str:
    """The text for `key` in `lang`; a missing key shows itself (and a test fails on it)."""
    return _format(_catalog(lang).text(key), lang, params)


def tn(key: str, n: int, lang: str = "zh", **params: Any) -> str:
    """The form of `key` for the count `n` (ngettext), formatted like t(); `{n}` is n unless
    params name it otherwise. A key without plural forms is shown as t() shows it."""
    params.setdefault("n", n)
    return _format(_catalog(lang).ntext(key, n), lang, params)


def _format(text: str, lang: str, params: dict[str, Any]) -> str:
    if not params:
        return text
    shown = {k: _param(k, v, lang) for k, v in params.items()}
    try:
        return text.format(**shown)
    except (KeyError, IndexError, ValueError):
        return text


def _param(name: str, value: Any, lang: str) -> Any:
    if isinstance(value, Mapping):  # a name of the factory's own, in each language
        return value.get(lang) or value.get(DEFAULT_LANG) or next(iter(value.values()), "")
    if name == "chain_step" and isinstance(value, str):  # a step of an execution chain
        return t("chain_step." + value, lang) if known("chain_step." + value, lang) else value
    if name == "step" and isinstance(value, str):  # a time-limit step, as sla.<step> names it
        return t("sla." + value, lang) if known("sla." + value, lang) else value
    if name in ("field", "state", "roles", "criteria") and value is not None:
        prefix = {"field": "field.", "state": "state.", "roles": "role.",
                  "criteria": "severity.why."}[name]
        parts = [t(prefix + p, lang) if known(prefix + p, lang) else p
                 for p in str(value).split(",")]
        return ("、" if lang == "zh" else ", ").join(parts)
    return value


def reason_text(reason: str, lang: str, merged: bool) -> str:
    """A stored reason as a sentence: merging a case stores `duplicate:<number>`."""
    if merged and reason.startswith("duplicate:"):
        return t("reason.duplicate", lang, number=reason.split(":", 1)[1])
    return reason


def error_text(err: DomainError, lang: str) -> str:
    return t(err.key, lang, **err.params)
