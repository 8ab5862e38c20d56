"""Fields of a factory's own on its complaints (issue #12 item 9; docs/procedure.md §3): what a
definition must hold, how a value is read and kept, when a field is required.

A value is kept as text typed by its field: a number's exact digits ("12.5", never a float),
a date's ISO form, a choice's option key, "true" / "false" for yes/no. `typed` gives it back
as Decimal, date, bool or str; `shown` puts it in words. Pure: the definitions come in as
arguments.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.i18n import t
from core.model import ChoiceOption, CustomField, FieldType, Kind, State
from core.rules.complaint_fields import Problem, clean_text

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
OPTION_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,39}$")
MAX_LABEL = 100
MAX_VALUE = 500  # a text field's value
MAX_OPTIONS = 100
MAX_DIGITS = 15  # a number's integer digits
MAX_DECIMALS = 6
EVENT_PREFIX = "cf:"  # an event's change of a custom field: "cf:<key>"

YES = frozenset({"true", "yes", "y", "1", "是", "有", "√", "✓", "对"})
NO = frozenset({"false", "no", "n", "0", "否", "无", "×", "✗", "不"})
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")

# The procedure's states in order: a field required from a state is required in every
# state after it (a cancelled case needs nothing more).
ORDER: tuple[State, ...] = tuple(s for s in State if s != State.CANCELLED)


def event_key(f: CustomField) -> str:
    return EVENT_PREFIX + f.key


def labels(f: CustomField) -> dict[str, str]:
    """The field's name in each language: a message parameter core/i18n.py shows in the
    reader's language."""
    return {"zh": f.label_zh, "en": f.label_en}


def label(f: CustomField, lang: str) -> str:
    return f.label_en if lang == "en" else f.label_zh


def applies(f: CustomField, kind: Kind | None) -> bool:
    """Shown and checked for a case of `kind`: active, and for every kind or this one."""
    return f.active and (f.kind is None or f.kind == kind)


def for_kind(fields: Iterable[CustomField], kind: Kind | None) -> list[CustomField]:
    """The fields a case of `kind` shows, in their order."""
    return sorted((f for f in fields if applies(f, kind)), key=lambda f: (f.position, f.id or 0))


def reached(state: State, required_from: State | None) -> bool:
    """Whether a case in `state` is at or past `required_from` (never when cancelled)."""
    if required_from is None or state not in ORDER or required_from not in ORDER:
        return False
    return ORDER.index(state) >= ORDER.index(required_from)


def required_in(f: CustomField, kind: Kind | None, state: State) -> bool:
    return applies(f, kind) and reached(state, f.required_from)


def missing(fields: Iterable[CustomField], values: Mapping[int, str], kind: Kind,
            before: State, after: State) -> list[CustomField]:
    """The fields still empty that a move from `before` into `after` needs: a move forward
    along the procedure into or past a field's `required_from`. Going back (sent back,
    reopened) and cancelling need none."""
    if after == before or after not in ORDER or before not in ORDER \
            or ORDER.index(after) < ORDER.index(before):
        return []
    return [f for f in for_kind(fields, kind)
            if reached(after, f.required_from) and not values.get(f.id or 0, "")]


# ---------------------------------------------------------------- values


def parse(f: CustomField, raw: Any) -> str:
    """The value to keep for what a form or a cell holds ("" when empty); ValueError with the
    problem's key (custom_number, custom_date, custom_choice, custom_yes_no, too_long)."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        raw = clean_text(unicodedata.normalize("NFKC", raw) if f.type != FieldType.TEXT
                         else raw)
        if not raw:
            return ""
    if f.type == FieldType.TEXT:
        s = clean_text(str(raw))
        if len(s) > MAX_VALUE:
            raise ValueError("too_long")
        return s
    if f.type == FieldType.NUMBER:
        return _number(raw)
    if f.type == FieldType.DATE:
        return _date(raw).isoformat()
    if f.type == FieldType.YES_NO:
        return "true" if _yes_no(raw) else "false"
    return _choice(f, raw)


def _number(raw: Any) -> str:
    if isinstance(raw, bool):
        raise ValueError("custom_number")
    try:
        n = Decimal(str(raw).replace(",", "").replace(" ", ""))
    except InvalidOperation as e:
        raise ValueError("custom_number") from e
    if not n.is_finite() or abs(n) >= Decimal(10) ** MAX_DIGITS:
        raise ValueError("custom_number")
    exponent = n.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise ValueError("custom_number")
    if n == 0:
        return "0"
    return format(n.normalize(), "f")


def _date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    m = _DATE.match(str(raw).strip())
    if not m:
        raise ValueError("custom_date")
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as e:
        raise ValueError("custom_date") from e
    if not 1900 <= day.year <= 2999:
        raise ValueError("custom_date")
    return day


def _yes_no(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    s = str(raw).strip().casefold()
    if s in YES:
        return True
    if s in NO:
        return False
    raise ValueError("custom_yes_no")


def _choice(f: CustomField, raw: Any) -> str:
    s = _fold(str(raw))
    for o in f.options:
        if s in (_fold(o.key), _fold(o.label_zh), _fold(o.label_en)):
            return o.key
    raise ValueError("custom_choice")


def _fold(s: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", s)).strip().casefold()


def typed(f: CustomField, text: str) -> str | Decimal | date | bool | None:
    """A kept value as its type: Decimal, date, bool, a choice's key, text; None when empty
    (or no longer readable as the field's type)."""
    if not text:
        return None
    try:
        if f.type == FieldType.NUMBER:
            return Decimal(text)
        if f.type == FieldType.DATE:
            return date.fromisoformat(text)
        if f.type == FieldType.YES_NO:
            return text == "true"
    except (InvalidOperation, ValueError):
        return None
    return text


def shown(f: CustomField, value: Any, lang: str) -> str:
    """A value (kept text, typed, or as the event log stores it) in words; "" when empty.
    A choice shows its option's label, a yes/no 是/否, never a code."""
    if value is None or value == "":
        return ""
    if f.type == FieldType.YES_NO:
        yes = value is True or str(value).casefold() == "true"
        return t("common.yes" if yes else "common.no", lang)
    if f.type == FieldType.CHOICE:
        o = next((o for o in f.options if o.key == str(value)), None)
        return (o.label_en if lang == "en" else o.label_zh) if o else str(value)
    if f.type == FieldType.NUMBER:
        try:
            n = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return f"{n:,f}"
    return str(value)


def check_values(fields: Sequence[CustomField], raw: Mapping[str, Any], kind: Kind | None,
                 state: State, only_given: bool = False) -> tuple[dict[int, str], list[Problem]]:
    """The values to keep (field id -> text) of the fields a case of `kind` shows, and every
    problem, each naming the field's key: a value not of the field's type, or a field
    required in `state` left empty. `only_given`: check only the fields `raw` names (an edit
    that does not show them changes nothing)."""
    out: dict[int, str] = {}
    found: list[Problem] = []
    for f in for_kind(fields, kind):
        if only_given and f.key not in raw:
            continue
        try:
            value = parse(f, raw.get(f.key))
        except ValueError as e:
            found.append(Problem(f.key, str(e), {"n": MAX_VALUE} if str(e) == "too_long" else {}))
            continue
        if not value and reached(state, f.required_from):
            found.append(Problem(f.key, "required"))
            continue
        out[f.id or 0] = value
    return out, found


# ---------------------------------------------------------------- definitions


def parse_options(text: str) -> tuple[tuple[ChoiceOption, ...], list[Problem]]:
    """A choice's options, one a line: "中文 | English", "code | 中文 | English", or one label
    for both languages. A code is made from the English label when none is given."""
    options: list[ChoiceOption] = []
    found: list[Problem] = []
    for n, line in enumerate((text or "").splitlines(), 1):
        parts = [clean_text(p) for p in re.split(r"[|｜]", line)]
        if not any(parts):
            continue
        if len(parts) == 1:
            code, zh, en = "", parts[0], parts[0]
        elif len(parts) == 2:
            code, zh, en = "", parts[0], parts[1]
        elif len(parts) == 3:
            code, zh, en = parts
        else:
            found.append(Problem("options", "custom_option_line", {"line": n}))
            continue
        if not zh or not en:
            found.append(Problem("options", "custom_option_line", {"line": n}))
            continue
        if len(zh) > MAX_LABEL or len(en) > MAX_LABEL:
            found.append(Problem("options", "too_long", {"n": MAX_LABEL}))
            continue
        if code and not OPTION_KEY.match(code):
            found.append(Problem("options", "custom_option_code", {"line": n}))
            continue
        options.append(ChoiceOption(code, zh, en))
    taken = {o.key for o in options if o.key}
    made: list[ChoiceOption] = []
    for i, o in enumerate(options, 1):
        if not o.key:
            base = re.sub(r"[^a-z0-9]+", "_", o.label_en.casefold()).strip("_")[:30] or f"o{i}"
            key, n = base, 2
            while key in taken:
                key, n = f"{base}_{n}", n + 1
            taken.add(key)
            o = replace(o, key=key)
        made.append(o)
    twice: list[str] = []
    for words in ([o.key for o in options if o.key], [_fold(o.label_zh) for o in made],
                  [_fold(o.label_en) for o in made]):  # a code or a label said twice
        twice += [w for i, w in enumerate(words) if w in words[:i] and w not in twice]
    for w in twice[:1]:
        found.append(Problem("options", "custom_option_twice", {"value": w}))
    if len(made) > MAX_OPTIONS:
        found.append(Problem("options", "custom_options_many", {"n": MAX_OPTIONS}))
    return tuple(made), found


def options_text(f: CustomField) -> str:
    """The options as the editor shows them, with their codes (kept when edited)."""
    return "\n".join(f"{o.key} | {o.label_zh} | {o.label_en}" for o in f.options)


def check_definition(f: CustomField, others: Collection[CustomField],
                     before: CustomField | None = None, has_values: bool = False,
                     options_in_use: Collection[str] = ()) -> tuple[CustomField, list[Problem]]:
    """The definition to keep (texts trimmed) and every problem: a key (lower-case letters,
    digits, _), unique and never changed; both labels; a choice with at least one option; a
    type that does not change under kept values; no option removed that a case holds."""
    found: list[Problem] = []
    key = (before.key if before is not None else f.key.strip())
    zh, en = clean_text(f.label_zh), clean_text(f.label_en)
    if not key:
        found.append(Problem("key", "required"))
    elif not KEY.match(key):
        found.append(Problem("key", "custom_key_format"))
    elif any(o.key == key and o.id != f.id for o in others):
        found.append(Problem("key", "duplicate_value", {"value": key}))
    for name, text in (("label_zh", zh), ("label_en", en)):
        if not text:
            found.append(Problem(name, "required"))
        elif len(text) > MAX_LABEL:
            found.append(Problem(name, "too_long", {"n": MAX_LABEL}))
    options = f.options if f.type == FieldType.CHOICE else ()
    if f.type == FieldType.CHOICE and not options:
        found.append(Problem("options", "custom_options_required"))
    if before is not None and has_values:
        if before.type != f.type:
            found.append(Problem("type", "custom_type_in_use"))
        elif f.type == FieldType.CHOICE:
            gone = sorted(set(options_in_use) - {o.key for o in options})
            if gone:
                found.append(Problem("options", "custom_option_in_use", {"value": ", ".join(gone)}))
    return replace(f, key=key, label_zh=zh, label_en=en, options=options), found
