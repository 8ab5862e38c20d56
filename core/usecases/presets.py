"""Presets (issue #12 item 10): a company's procedure as data — departments, titles, approval
rules, execution chains, fields of its own — read from `core/data/presets/<name>.json` and
applied through the same use cases the Admin page calls, so a preset can hold nothing an
administrator could not enter by hand (docs/procedure.md §12).

`manage.py demo --profile NAME` loads one with its demo users; Admin → Approval authority
applies one to a running installation (its users are left alone)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InvalidInput
from core.model import ChoiceOption, CustomField, Department, FieldType, Kind, Role, State, User
from core.rules import approvals
from core.rules import chains as chain_rules
from core.rules import custom_fields as field_rules
from core.usecases import authority, chains, context, custom_fields, reference
from core.usecases.context import Context

FOLDER = Path(__file__).resolve().parents[1] / "data" / "presets"
DEFAULT = "manufacturing"


@dataclass(frozen=True)
class DemoUser:
    """A person of a preset's demo (not applied to a running installation)."""

    username: str
    name: str
    roles: frozenset[Role]
    department: str | None
    titles: frozenset[str]
    name_en: str = ""  # signs English reply letters (issue #13)


@dataclass(frozen=True)
class Preset:
    key: str
    name_zh: str
    name_en: str
    about_zh: str
    about_en: str
    departments: tuple[tuple[str, str, str], ...]
    titles: tuple[approvals.TitleDef, ...]
    rules: tuple[approvals.Rule, ...]
    chains: tuple[dict[str, Any], ...]
    fields: tuple[CustomField, ...]
    users: tuple[DemoUser, ...]

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    def about(self, lang: str) -> str:
        return self.about_en if lang == "en" else self.about_zh


def names() -> list[str]:
    """The presets shipped, the default first."""
    found = sorted(p.stem for p in FOLDER.glob("*.json"))
    return sorted(found, key=lambda n: (n != DEFAULT, n))


def _field(x: dict[str, Any]) -> CustomField:
    return CustomField(
        None, str(x["key"]), str(x["label_zh"]), str(x.get("label_en", "")),
        FieldType(x["type"]),
        tuple(ChoiceOption(str(o["key"]), str(o["label_zh"]), str(o.get("label_en", "")))
              for o in x.get("options", [])),
        Kind(x["kind"]) if x.get("kind") else None,
        State(x["required_from"]) if x.get("required_from") else None)


def read(key: str) -> Preset:
    """A shipped preset by name; ValueError names what is wrong with its file."""
    if key not in names():
        raise ValueError(f"no preset {key!r}: choose one of {', '.join(names())}")
    data = json.loads((FOLDER / f"{key}.json").read_text(encoding="utf-8"))
    try:
        return Preset(
            key, data["name_zh"], data["name_en"], data.get("about_zh", ""),
            data.get("about_en", ""),
            tuple((str(c), str(zh), str(en)) for c, zh, en in data.get("departments", [])),
            approvals.titles_from_json(data["titles"]),
            approvals.rules_from_json(data["rules"]),
            tuple(data.get("chains", [])),
            tuple(_field(x) for x in data.get("fields", [])),
            tuple(DemoUser(str(u["username"]), str(u["name"]),
                           frozenset(Role(r) for r in u["roles"]), u.get("department"),
                           frozenset(u.get("titles", [])), str(u.get("name_en", "")))
                  for u in data.get("users", [])))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"preset {key}: {e}") from e


def apply(ctx: Context, actor: User, preset: Preset) -> dict[str, int]:
    """Apply a preset (administrators): departments it names are added if missing; its titles
    are added or renamed (others stay); its rules become a new version; its chain settings
    are stored; its fields are added unless a field with the key exists. Each part goes
    through its own use case and its checks; returns what was added or saved."""
    with ctx.uow() as uow:
        context.require_admin(ctx, uow, actor)
    _check(ctx, preset)  # every part first: a bad preset changes nothing
    have = {d.code for d in reference.departments(ctx, True)}
    added = 0
    for code, zh, en in preset.departments:
        if code not in have:
            reference.save_reference(ctx, actor, Department(0, code, zh, en))
            added += 1
    current = {d.code: d for d in authority.titles(ctx).defs}
    merged = {**current, **{d.code: d for d in preset.titles}}
    authority.set_titles(ctx, actor, sorted(merged.values(), key=lambda d: (d.rank, d.code)))
    version = authority.save_rules(ctx, actor, preset.rules)
    if preset.chains:
        chains.set_chain_settings(ctx, actor, preset.chains)
    known = {f.key for f in custom_fields.field_definitions(ctx, include_inactive=True)}
    fields = 0
    for f in preset.fields:
        if f.key not in known:
            custom_fields.save_field(ctx, actor, f)
            fields += 1
    return {"departments": added, "titles": len(preset.titles), "rules_version": version,
            "fields": fields}


def _check(ctx: Context, preset: Preset) -> None:
    """Raise InvalidInput for the first thing of the preset its use case would refuse."""
    current = {d.code: d for d in authority.titles(ctx).defs}
    merged = list({**current, **{d.code: d for d in preset.titles}}.values())
    bad = approvals.titles_problem(merged)
    if bad is not None:
        raise InvalidInput(bad[0], **bad[1])
    problems = approvals.rules_problems(preset.rules, approvals.Titles(merged))
    if problems:
        raise InvalidInput(problems[0].key, rule=problems[0].rule, **problems[0].params)
    codes = {d.code for d in reference.departments(ctx, True)} | {
        c for c, _, _ in preset.departments}
    try:
        chain_rules.validate(preset.chains, codes)
    except chain_rules.ChainError as e:
        raise InvalidInput(e.key, **e.params) from e
    every = custom_fields.field_definitions(ctx, include_inactive=True)
    for f in preset.fields:
        if f.key not in {x.key for x in every}:
            _, wrong = field_rules.check_definition(f, every)
            if wrong:
                raise InvalidInput("err.preset_field", code=f.key)


def apply_named(ctx: Context, actor: User, key: str) -> dict[str, int]:
    """`apply` for a shipped preset chosen by name (the Admin page)."""
    try:
        preset = read(key)
    except ValueError as e:
        raise InvalidInput("err.unknown", field="preset") from e
    return apply(ctx, actor, preset)
