"""The translation tables: complete in zh and en, and every key the UI asks for exists."""
from __future__ import annotations

import enum
import re
import string
from pathlib import Path

import pytest

from core import model
from core.i18n import T, t

ROOT = Path(__file__).resolve().parents[2]
UI_FILES = sorted([ROOT / "app.py", *(ROOT / "pages").rglob("*.py"), *(ROOT / "ui").rglob("*.py")])

# tr("key") / t("key") / tr('key') with a literal key (f-strings and concatenations are not
# literal keys; their prefixes are checked through the enums below).
LITERAL_KEY = re.compile(r"""\bt(?:r)?\(\s*(["'])([a-z][a-z0-9_]*(?:\.[a-zA-Z0-9_]+)+)\1""")
# label("state") and tr(f"state.{...}"): a prefix whose keys are "<prefix>.<enum value>"
LABEL_PREFIX = re.compile(r"""\blabel\(\s*["']([a-z_]+)["']\s*\)""")
FSTRING_PREFIX = re.compile(r"""\btr?\(\s*f(["'])([a-z_]+)\.\{""")

# The enums the UI translates, by the prefix ui/ uses for them.
ENUM_PREFIXES: dict[str, type[enum.Enum]] = {
    "state": model.State, "kind": model.Kind, "channel": model.Channel,
    "severity": model.Severity, "request": model.Request, "where_found": model.WhereFound,
    "market": model.Market, "role": model.Role, "title": model.Title,
    "category": model.Category, "lang": model.Lang,
}


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
            if m.group(2) not in T:
                line = text.count("\n", 0, m.start()) + 1
                missing.append(f"{path.relative_to(ROOT)}:{line}: {m.group(2)}")
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
    sample = 'st.title(tr("log.title")); st.error(t(\'no.such_key\', lang()))'
    keys = [m.group(2) for m in LITERAL_KEY.finditer(sample)]
    assert keys == ["log.title", "no.such_key"]
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
