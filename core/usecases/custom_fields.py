"""Use cases of the fields a factory adds to its complaints (issue #12 item 9): the Admin
page's editor, a case's values; the helpers that check and write values run inside the
register, the edit, the transitions and the import. The rules are in
core/rules/custom_fields.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from core.errors import InvalidInput, NotAllowed, NotFound
from core.model import CaseFile, CustomField, CustomValue, Kind, State, User, Value, stored
from core.ports import UnitOfWork
from core.rules import custom_fields as rules
from core.rules.complaint_fields import Problem
from core.usecases import context
from core.usecases.context import Context


@dataclass(frozen=True)
class CaseValue:
    """A field a case shows, with its value as its type (None: empty)."""

    field: CustomField
    value: Any


def field_definitions(ctx: Context, include_inactive: bool = False) -> list[CustomField]:
    """The fields in their order (the Log page's form, the register, the import)."""
    with ctx.uow() as uow:
        return definitions(uow, include_inactive)


def definitions(uow: UnitOfWork, include_inactive: bool = False) -> list[CustomField]:
    found = uow.records.where(CustomField)
    return sorted((f for f in found if include_inactive or f.active),
                  key=lambda f: (f.position, f.id or 0))


def save_field(ctx: Context, actor: User, f: CustomField) -> int:
    """Add (id None or 0) or change a field: every problem at once, nothing stored unless
    all is well. The key never changes; neither does the type once cases hold values."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        me = context.require_admin(ctx, uow, actor)
        every = definitions(uow, include_inactive=True)
        before = next((x for x in every if f.id and x.id == f.id), None)
        if f.id and before is None:
            raise NotFound()
        held = uow.records.where(CustomValue, field_id=f.id) if before is not None else []
        held = [v for v in held if v.value]
        checked, problems = rules.check_definition(
            f, every, before, bool(held), {v.value for v in held})
        if problems:
            raise _invalid(problems, _FIELD_NAMES)
        if before is None:
            new = replace(checked, id=None, active=True, created_at=now, created_by_id=me.id,
                          position=max((x.position for x in every), default=0) + 1)
            new_id = uow.records.add(new)
        else:
            uow.records.update(replace(checked, active=before.active,
                                       created_at=before.created_at,
                                       created_by_id=before.created_by_id))
            new_id = before.id or 0
        uow.commit()
        return new_id


def set_field_active(ctx: Context, actor: User, field_id: int, active: bool) -> None:
    """Remove a field (hidden everywhere, its values kept) or bring it back."""
    with ctx.uow(write=True) as uow:
        context.require_admin(ctx, uow, actor)
        f = uow.records.get(CustomField, field_id)
        if f is None:
            raise NotFound()
        if f.active != active:
            uow.records.update(replace(f, active=active))
        uow.commit()


def case_values(ctx: Context, actor: User, complaint_id: int) -> list[CaseValue]:
    """The fields a case shows (active, for its kind) with its values."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        c = uow.complaints.get(complaint_id)
        if c is None:
            raise NotFound()
        context.check_visible(ctx, uow, me, c)
        return shown_values(uow, complaint_id, c.kind)


# ---------------------------------------------------------------- inside other use cases


def shown_values(uow: UnitOfWork, complaint_id: int, kind: Kind) -> list[CaseValue]:
    kept = values_of(uow, complaint_id)
    return [CaseValue(f, rules.typed(f, kept.get(f.id or 0, "")))
            for f in rules.for_kind(definitions(uow), kind)]


def values_of(uow: UnitOfWork, complaint_id: int) -> dict[int, str]:
    """A case's kept values by field id (of every field, removed ones too)."""
    return {v.field_id: v.value for v in uow.records.where(CustomValue, complaint_id=complaint_id)}


def checked(uow: UnitOfWork, raw: Mapping[str, Any], kind: Kind | None, state: State,
            only_given: bool = False) -> tuple[dict[int, str], list[InvalidInput]]:
    """The values of a form (field key -> what was entered), each as kept, and the problems
    as errors naming the field in the reader's language."""
    fields = definitions(uow)
    values, problems = rules.check_values(fields, raw, kind, state, only_given)
    names = {f.key: rules.labels(f) for f in fields}
    return values, [_error(p, names) for p in problems]


def write(uow: UnitOfWork, complaint_id: int, values: Mapping[int, str]
          ) -> dict[str, list[Value]]:
    """Keep the values; the event's changes of the ones that changed ("cf:<key>": old and
    new as their types, as the event log keeps values)."""
    kept = {v.field_id: v for v in uow.records.where(CustomValue, complaint_id=complaint_id)}
    by_id = {f.id: f for f in definitions(uow, include_inactive=True)}
    changes: dict[str, list[Value]] = {}
    for field_id, value in values.items():
        old = kept.get(field_id)
        if (old.value if old else "") == value:
            continue
        if old is None:
            uow.records.add(CustomValue(None, complaint_id, field_id, value))
        else:
            uow.records.update(replace(old, value=value))
        f = by_id[field_id]
        changes[rules.event_key(f)] = [stored(rules.typed(f, old.value if old else "")),
                                       stored(rules.typed(f, value))]
    return changes


def check_required(uow: UnitOfWork, case: CaseFile, after: State) -> None:
    """NotAllowed naming every field a move into `after` needs and the case lacks
    (docs/procedure.md §3 "Fields of their own")."""
    c = case.complaint
    lacking = rules.missing(definitions(uow), values_of(uow, c.id or 0), c.kind, c.state, after)
    if lacking:
        first = min((f.required_from for f in lacking if f.required_from),
                    key=rules.ORDER.index)
        raise NotAllowed("why.custom_field_required",
                         field={lang: ("、" if lang == "zh" else ", ").join(
                             rules.label(f, lang) for f in lacking) for lang in ("zh", "en")},
                         state=first.value)


def shown_changes(uow: UnitOfWork) -> dict[str, CustomField]:
    """Every field (removed ones too) by its event key: how the timeline names a change."""
    return {rules.event_key(f): f for f in definitions(uow, include_inactive=True)}


# the definition's parts, as err.* messages name them (field.<name>)
_FIELD_NAMES = {"key": "custom_key", "label_zh": "label_zh", "label_en": "label_en",
                "options": "custom_options", "type": "custom_type"}


def _error(p: Problem, names: Mapping[str, Any]) -> InvalidInput:
    return InvalidInput(f"err.{p.key}", **{"field": names.get(p.field, p.field), **p.params})


def _invalid(problems: list[Problem], names: Mapping[str, Any]) -> InvalidInput:
    first, *rest = (_error(p, names) for p in problems)
    return InvalidInput(first.key, others=rest, **first.params)
