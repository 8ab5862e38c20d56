"""The translations: the gettext catalogs (locale/*/LC_MESSAGES/kesu.po) are valid for Babel,
complete in every language, without fuzzy or empty entries, with the same placeholders in every
language and plural form; every key the UI asks for exists; core.i18n reads them (t, tn, T).
"""
from __future__ import annotations

import enum
import gettext
import io
import os
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po, write_po

from adapters.translations import compile_catalogs
from core import model
from core.i18n import (
    DOMAIN, LOCALE_DIR, LOCALES, PLURAL_SUFFIX, CatalogError, T, catalog_files, load_catalog, t,
    tn,
)

ROOT = Path(__file__).resolve().parents[2]
UI_FILES = sorted([ROOT / "app.py", *(ROOT / "pages").rglob("*.py"), *(ROOT / "ui").rglob("*.py")])

# tr("key") / t("key") / trn("key", n) / tn('key', ...) with a literal key (f-strings and
# concatenations are not literal keys; their prefixes are checked through the enums below).
LITERAL_KEY = re.compile(r"""\b(t|tr|tn|trn)\(\s*(["'])([a-z][a-z0-9_]*(?:\.[a-zA-Z0-9_]+)+)\2""")
COUNTED = ("tn", "trn")  # these need an entry with plural forms
# label("state") and tr(f"state.{...}"): a prefix whose keys are "<prefix>.<enum value>"
LABEL_PREFIX = re.compile(r"""\blabel\(\s*["']([a-z_]+)["']\s*\)""")
FSTRING_PREFIX = re.compile(r"""\btr?\(\s*f(["'])([a-z_]+)\.\{""")

# The enums the UI translates, by the prefix ui/ uses for them.
ENUM_PREFIXES: dict[str, type[enum.Enum]] = {
    "state": model.State, "kind": model.Kind, "channel": model.Channel,
    "severity": model.Severity, "request": model.Request, "where_found": model.WhereFound,
    "market": model.Market, "role": model.Role,
    "category": model.Category, "lang": model.Lang,
}  # not "title": titles are data, their names come from Admin → Approval authority


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in UI_FILES}


def _enum_for(prefix: str) -> type[enum.Enum] | None:
    """The core.model enum a prefix stands for: the table above, else by name (six_m → SixM)."""
    if prefix in ENUM_PREFIXES:
        return ENUM_PREFIXES[prefix]
    found = getattr(model, "".join(p.capitalize() for p in prefix.split("_")), None)
    return found if isinstance(found, type) and issubclass(found, enum.Enum) else None


def test_the_tables_are_not_trivially_small() -> None:
    assert len(T) > 100
    assert len(UI_FILES) >= 5


def test_every_key_has_zh_and_en_with_the_same_placeholders() -> None:
    problems = []
    for key, pair in sorted(T.items()):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            problems.append(f"{key}: not a (zh, en) pair")
            continue
        zh, en = pair
        if not zh.strip():
            problems.append(f"{key}: empty Chinese text")
        if not en.strip():
            problems.append(f"{key}: empty English text")
        if _placeholders(zh) != _placeholders(en):
            problems.append(f"{key}: placeholders differ: zh {sorted(_placeholders(zh))}, "
                            f"en {sorted(_placeholders(en))}")
    assert problems == []


def test_keys_are_well_formed() -> None:
    bad = [k for k in T if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)+", k)]
    assert bad == []


def test_every_literal_key_used_by_the_ui_exists() -> None:
    missing = []
    used = 0
    for path, text in _sources().items():
        for m in LITERAL_KEY.finditer(text):
            used += 1
            if m.group(3) not in T:
                line = text.count("\n", 0, m.start()) + 1
                missing.append(f"{path.relative_to(ROOT)}:{line}: {m.group(3)}")
    assert used > 100, "the pattern found too few keys: is it still right?"
    assert missing == []


@pytest.mark.parametrize("prefix", sorted(ENUM_PREFIXES))
def test_every_enum_value_has_its_label(prefix: str) -> None:
    enum_type = ENUM_PREFIXES[prefix]
    missing = [f"{prefix}.{v.value}" for v in enum_type if f"{prefix}.{v.value}" not in T]
    assert missing == []


def test_every_enum_prefix_the_ui_uses_is_complete() -> None:
    """label("six_m"), tr(f"validity.{...}") ...: each value of that enum has its key."""
    prefixes: set[str] = set()
    for text in _sources().values():
        prefixes |= set(LABEL_PREFIX.findall(text))
        prefixes |= {m.group(2) for m in FSTRING_PREFIX.finditer(text)}
    assert set(ENUM_PREFIXES) - {"lang"} <= prefixes | {"lang"}, prefixes
    missing = []
    for prefix in sorted(prefixes):
        enum_type = _enum_for(prefix)
        if enum_type is None:
            continue  # "field", "action", ...: not an enum
        missing += [f"{prefix}.{v.value}" for v in enum_type if f"{prefix}.{v.value}" not in T]
    assert missing == []


def test_actions_of_stored_events_stay_translatable() -> None:
    """The timeline shows tr("action." + event.action) for events already in databases."""
    written_before_lifecycle = ("registered", "edited", "cancelled", "attachment_added")
    assert [a for a in written_before_lifecycle if f"action.{a}" not in T] == []


def test_the_check_catches_a_missing_key() -> None:
    sample = ('st.title(tr("log.title")); st.error(t(\'no.such_key\', lang()))\n'
              'st.caption(trn("tasks.total", len(tasks)))')
    keys = [m.group(3) for m in LITERAL_KEY.finditer(sample)]
    assert keys == ["log.title", "no.such_key", "tasks.total"]
    assert [k for k in keys if k not in T] == ["no.such_key"]
    assert _placeholders("共 {total} 条，第 {page}/{pages} 页") == {"total", "page", "pages"}


def test_t_formats_and_translates_field_parameters() -> None:
    assert t("err.required", "zh", field="customer") == "请填写「客户」。"
    assert t("err.required", "en", field="customer") == "“Customer” is required."
    assert t("no.such.key", "en") == "no.such.key"


def test_every_timed_step_and_limit_unit_has_its_names_in_both_languages() -> None:
    from core import sla
    from core.i18n import T
    for step in sla.DEFAULT_LIMITS:
        for key in (f"sla.{step}", f"stats.step.{step}"):
            assert key in T and all(T[key]), key
    for unit in sla.UNITS:
        assert f"unit.{unit}" in T, unit


# ---------------------------------------------------------------- the catalogs (.po), read by Babel

REFERENCE = {"zh": "zh_CN", "en": "en"}  # the languages every `#.` comment shows


def _po_files(root: Path = LOCALE_DIR) -> dict[str, Path]:
    return {p.parents[1].name: p for p in sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))}


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, abort_invalid=True)


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return {name: _read(path) for name, path in _po_files().items()}


def _entries(catalog: Catalog) -> dict[str, Message]:
    return {str(m.id[0] if isinstance(m.id, (tuple, list)) else m.id): m
            for m in catalog if m.id}


def _forms(message: Message) -> list[str]:
    s = message.string
    return [str(x or "") for x in s] if isinstance(s, (tuple, list)) else [str(s or "")]


def catalog_problems(catalogs: dict[str, Catalog]) -> list[str]:
    """Everything wrong with a set of catalogs (locale name -> catalog), as readable lines."""
    problems = []
    entries = {name: _entries(c) for name, c in catalogs.items()}
    every_key = set().union(*entries.values()) if entries else set()
    for name, catalog in catalogs.items():
        if catalog.fuzzy:
            problems.append(f"{name}: the header is marked fuzzy")
        expected = Catalog(locale=catalog.locale).plural_forms if catalog.locale else None
        if catalog.plural_forms != expected:
            problems.append(f"{name}: Plural-Forms {catalog.plural_forms!r}, "
                            f"CLDR has {expected!r}")
        if catalog.charset.lower() != "utf-8":
            problems.append(f"{name}: charset {catalog.charset}, not utf-8")
        for key in sorted(every_key - set(entries[name])):
            problems.append(f"{name}: {key} is missing")
        for key, m in entries[name].items():
            if m.fuzzy:
                problems.append(f"{name}: {key} is fuzzy")
            forms = _forms(m)
            if not all(f.strip() for f in forms):
                problems.append(f"{name}: {key} has an empty msgstr")
            if m.pluralizable:
                if m.id[1] != key + PLURAL_SUFFIX:
                    problems.append(f"{name}: {key}: msgid_plural is {m.id[1]!r}, "
                                    f"not {key + PLURAL_SUFFIX!r}")
                if len(forms) != catalog.num_plurals:
                    problems.append(f"{name}: {key} has {len(forms)} forms, "
                                    f"Plural-Forms says {catalog.num_plurals}")
            if len({frozenset(_placeholders(f)) for f in forms}) > 1:
                problems.append(f"{name}: {key}: the plural forms have different placeholders")
    for key in sorted(every_key):
        found = {name: e[key] for name, e in entries.items() if key in e}
        if len({m.pluralizable for m in found.values()}) > 1:
            problems.append(f"{key}: plural forms in some catalogs only")
        seen = {name: frozenset().union(*(_placeholders(f) for f in _forms(m)))
                for name, m in found.items()}
        if len(set(seen.values())) > 1:
            problems.append(f"{key}: placeholders differ: "
                            + "; ".join(f"{n} {sorted(p)}" for n, p in sorted(seen.items())))
    return problems


def test_the_zh_and_en_catalogs_exist_and_every_catalog_is_registered() -> None:
    found = _po_files()
    assert {"zh_CN", "en"} <= set(found)
    assert set(found) == set(LOCALES.values()), "register each catalog in core.i18n.LOCALES"
    for lang in LOCALES:
        assert catalog_files(lang)[0] == found[LOCALES[lang]]


@pytest.mark.parametrize("name", sorted(_po_files()))
def test_babel_reads_the_catalog_and_its_header_is_right(name: str) -> None:
    catalog = _read(_po_files()[name])  # raises on a line Babel cannot parse
    headers = dict(catalog.mime_headers)
    assert headers["Language"] == name
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Plural-Forms"] == Catalog(locale=name).plural_forms
    if name == "zh_CN":
        assert headers["Plural-Forms"] == "nplurals=1; plural=0;"
    if name == "en":
        assert headers["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert len(catalog) > 1000


def test_the_catalogs_are_complete_without_fuzzy_or_empty_entries_and_agree_on_placeholders(
        catalogs: dict[str, Catalog]) -> None:
    assert catalog_problems(catalogs) == []


def test_every_entry_shows_the_other_languages_text_to_the_translator(
        catalogs: dict[str, Catalog]) -> None:
    """`#. en: …` in zh_CN, `#. zh: …` in en (both in another catalog): kept current by
    `python locale/update.py`, which rewrites these comments."""
    entries = {name: _entries(c) for name, c in catalogs.items()}
    stale = []
    for name, by_key in entries.items():
        for key, m in by_key.items():
            expected = " ".join(
                f"{code}: " + " | ".join(f.replace("\n", "\\n") for f in _forms(entries[ref][key]))
                for code, ref in REFERENCE.items() if ref != name and key in entries.get(ref, {}))
            if " ".join(m.auto_comments).split() != expected.split():
                stale.append(f"{name}: {key}")
    assert stale == [], "run `python locale/update.py` to refresh the #. comments"


def test_the_check_catches_each_kind_of_catalog_problem() -> None:
    def catalog(locale: str, *messages: tuple[object, object, list[str]]) -> Catalog:
        c = Catalog(locale=locale, fuzzy=False)
        for msgid, text, flags in messages:
            c.add(msgid, text, flags=flags)  # type: ignore[arg-type]
        return c

    zh = catalog("zh_CN", ("a.ok", "好 {n}", []), ("a.fuzzy", "模糊", ["fuzzy"]),
                 ("a.empty", "", []), ("a.only_zh", "只有中文", []),
                 ("a.count", "{n} 项", []),
                 (("a.plural", "a.plural.plural"), ("{n} 个",), []))
    en = catalog("en", ("a.ok", "Good {count}", []), ("a.fuzzy", "Fuzzy", []),
                 ("a.empty", "Empty", []),
                 (("a.count", "a.count.plural"), ("{n} item", "{n} items"), []),
                 (("a.plural", "a.plural.plural"), ("one", "{n} things"), []))
    assert catalog_problems({"zh_CN": zh, "en": en}) == [
        "zh_CN: a.fuzzy is fuzzy",
        "zh_CN: a.empty has an empty msgstr",
        "en: a.only_zh is missing",
        "en: a.plural: the plural forms have different placeholders",
        "a.count: plural forms in some catalogs only",
        "a.ok: placeholders differ: en ['count']; zh_CN ['n']",
    ]
    assert catalog_problems({"zh_CN": catalog("zh_CN", ("x.y", "好", []))}) == []
    with pytest.raises(PoFileError):
        read_po(io.BytesIO(b'msgid "a.b"\nmsgstr "x"\nthis is not PO\n'), abort_invalid=True)


def test_every_key_the_ui_counts_with_trn_has_plural_forms(catalogs: dict[str, Catalog]) -> None:
    en = _entries(catalogs["en"])
    counted = {m.group(3) for text in _sources().values() for m in LITERAL_KEY.finditer(text)
               if m.group(1) in COUNTED}
    assert "tasks.total" in counted
    assert sorted(k for k in counted if k not in en or not en[k].pluralizable) == []


# ---------------------------------------------------------------- the runtime: .mo via core.i18n

def test_tn_picks_the_form_for_the_count() -> None:
    assert tn("tasks.total", 1, "en") == "1 task"
    assert tn("tasks.total", 2, "en") == "2 tasks"
    assert tn("tasks.total", 0, "en") == "0 tasks"
    assert tn("tasks.total", 1, "zh") == tn("tasks.total", 1, "xx") == "共 1 项待办"
    assert tn("tasks.total", 5, "zh") == "共 5 项待办"
    assert tn("log.page_of", 1, "en", total=1, page=1, pages=1) == "1 case, page 1 of 1"
    assert tn("imp.fix_first", 1, "en").startswith("1 row has errors")
    assert t("tasks.total", "en", n=3) == "3 tasks"  # t() of a counted key: the general form
    assert tn("err.required", 1, "en", field="customer") == "“Customer” is required."
    assert tn("no.such.key", 1, "en") == "no.such.key"


def test_core_reads_exactly_what_the_catalogs_say(catalogs: dict[str, Catalog]) -> None:
    """The compiled .mo (stdlib gettext) against the .po (Babel), every entry and language."""
    differ = []
    for lang, name in LOCALES.items():
        form_for = gettext.c2py(catalogs[name].plural_expr)
        for key, m in _entries(catalogs[name]).items():
            forms = _forms(m)
            if m.pluralizable:
                for n in range(0, 25):
                    want = forms[form_for(n)].replace("{n}", str(n))
                    if tn(key, n, lang).replace("{n}", str(n)) != want:
                        differ.append(f"{lang}: {key} for {n}")
            elif t(key, lang) != forms[0]:
                differ.append(f"{lang}: {key}")
    assert differ == []
    assert dict(T)["nav.log"] == ("登记", "Log")


def test_t_is_a_read_only_mapping() -> None:
    assert "nav.log" in T and "no.such.key" not in T
    with pytest.raises(TypeError):
        T["nav.log"] = ("x", "y")  # type: ignore[index]


def _po(text: str) -> bytes:
    c = Catalog(locale="en", domain=DOMAIN, fuzzy=False)
    c.add("a.b", text)
    out = io.BytesIO()
    write_po(out, c)
    return out.getvalue()


def test_a_missing_or_stale_mo_raises_instead_of_showing_keys(tmp_path: Path) -> None:
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    po.write_bytes(_po("Hello"))
    with pytest.raises(CatalogError, match="missing"):
        load_catalog(po, mo)
    assert compile_catalogs(tmp_path) == [mo]
    assert load_catalog(po, mo).gettext("a.b") == "Hello"
    assert compile_catalogs(tmp_path) == []  # up to date: nothing to do
    po.write_bytes(_po("Hello again"))
    later = mo.stat().st_mtime_ns + 1_000_000_000
    os.utime(po, ns=(later, later))
    with pytest.raises(CatalogError, match="older"):
        load_catalog(po, mo)
    assert compile_catalogs(tmp_path) == [mo]
    assert load_catalog(po, mo).gettext("a.b") == "Hello again"
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp file


def test_compiling_a_po_babel_cannot_parse_fails(tmp_path: Path) -> None:
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / f"{DOMAIN}.po").write_bytes(_po("Hello") + b"\nmsgid broken\n")
    with pytest.raises(PoFileError):
        compile_catalogs(tmp_path)
    assert not (folder / f"{DOMAIN}.mo").exists()
