"""Approval authority (Admin → 核决权限): the titles, the rules that decide a round's steps and
their versions, and the tester "who would sign?" (docs/procedure.md §6)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from core.errors import InvalidInput
from core.model import DispositionType, Severity, User
from core.ports import UnitOfWork
from core.rules import approvals
from core.usecases import common, context, security
from core.usecases.context import Context


def titles_of(uow: UnitOfWork) -> approvals.Titles:
    return approvals.Titles(approvals.titles_from_json(uow.settings.get("titles")))


def rule_set_of(uow: UnitOfWork) -> approvals.RuleSet:
    """The newest version of the approval rules (the default before any was saved)."""
    found = uow.records.where(approvals.RuleSetRecord)
    return approvals.rule_set_of(max(found, key=lambda r: r.id or 0) if found else None)


def plan_for(uow: UnitOfWork, proposal: approvals.Proposal, proposer_id: int | None
             ) -> tuple[approvals.RuleSet, int, approvals.Rule, tuple[approvals.PlannedStep, ...]]:
    """The newest rules, the rule that covers the proposal (its position) and the steps it
    plans with the proposer left out (`InvalidInput` when no rule covers it)."""
    rs = rule_set_of(uow)
    found = rs.rule_for(proposal)
    if found is None:
        raise InvalidInput("err.no_rule", total=proposal.total,
                           severity=proposal.severity or "—")
    pos, rule = found
    excluded = {proposer_id} if proposer_id is not None else set()
    plan = approvals.plan_steps(rule.steps, excluded, uow.users.list(), titles_of(uow),
                                proposer_id)
    return rs, pos, rule, plan


def titles(ctx: Context) -> approvals.Titles:
    with ctx.uow() as uow:
        return titles_of(uow)


def _titles_in_use(uow: UnitOfWork) -> set[str]:
    used = {t for u in uow.users.list() for t in u.titles}
    used |= {s.title for r in rule_set_of(uow).rules for s in r.steps}
    return used


def set_titles(ctx: Context, actor: User, defs: Sequence[approvals.TitleDef]) -> None:
    """Save the titles (admins): names, ranks, substitutes, active. A title held by someone
    or named by a rule cannot be dropped (deactivate it instead)."""
    clean = [approvals.TitleDef(d.code.strip(), d.name_zh.strip()[:100], d.name_en.strip()[:100],
                                d.rank, d.substitute.strip(), d.active) for d in defs]
    with ctx.uow(write=True) as uow:
        me = context.require_admin(ctx, uow, actor)
        bad = approvals.titles_problem(clean, _titles_in_use(uow))
        if bad is not None:
            raise InvalidInput(bad[0], **bad[1])
        old = uow.settings.get("titles")
        uow.settings.set("titles", approvals.titles_to_json(clean))
        security.add(uow, ctx.clock(), "titles_changed", me,
                     old=", ".join(f"{x['code']}:{x['rank']}" for x in old or []),
                     new=", ".join(f"{d.code}:{d.rank}" for d in clean))
        uow.commit()


def rule_set(ctx: Context) -> approvals.RuleSet:
    with ctx.uow() as uow:
        return rule_set_of(uow)


def rule_versions(ctx: Context, actor: User) -> list[approvals.RuleSet]:
    """Every saved version of the rules, newest first (admins)."""
    with ctx.uow() as uow:
        context.require_admin(ctx, uow, actor)
        found = uow.records.where(approvals.RuleSetRecord)
    return [approvals.rule_set_of(r) for r in sorted(found, key=lambda r: r.id or 0,
                                                      reverse=True)]


def save_rules(ctx: Context, actor: User, rules: Sequence[approvals.Rule]) -> int:
    """Save the rules as a new version (admins): it applies to rounds started from now on;
    a round under way keeps its steps. Every problem is reported at once; nothing is saved
    while one remains. Returns the new version."""
    clean = tuple(replace(r, name=r.name.strip()[:100]) for r in rules)
    with ctx.uow(write=True) as uow:
        me = context.require_admin(ctx, uow, actor)
        problems = approvals.rules_problems(clean, titles_of(uow))
        if problems:
            errs = [InvalidInput(p.key, rule=p.rule, **p.params) for p in problems]
            raise InvalidInput(errs[0].key, others=errs[1:], **errs[0].params)
        now = ctx.clock()
        version = uow.records.add(approvals.RuleSetRecord(
            None, json.dumps(approvals.rules_to_json(clean), ensure_ascii=False), now, me.id))
        security.add(uow, now, "rules_changed", me, version=version, rules=len(clean))
        uow.commit()
        return version


@dataclass(frozen=True)
class WouldSign:
    """One step of a trial round (the Admin page's "who would sign this?"): the planned step
    (its title, the titles it stands for and why) and the active people who could sign it."""

    step: approvals.PlannedStep
    people: tuple[str, ...]


@dataclass(frozen=True)
class Trial:
    """The answer of the tester: which rule applies (its position and name, in which
    version), and the steps; `rule` 0 when no rule covers the proposal."""

    version: int
    rule: int
    name: str
    steps: list[WouldSign]


def who_would_sign(ctx: Context, actor: User, total: Decimal | str | None,
                   severity: Severity | None, proposer_id: int | None,
                   types: Sequence[DispositionType] = (), kind: str = "complaint",
                   market: str | None = None) -> Trial:
    """The steps the newest rules give a proposal (disposition types, total, severity, kind,
    market) by `proposer_id`, as the round would be planned now (moved steps included), and
    who could sign each. Nothing is written (admins only)."""
    amount = common.amount(total, "amount")
    with ctx.uow() as uow:
        context.require_admin(ctx, uow, actor)
        users = uow.users.list()
        if proposer_id is not None and not any(u.id == proposer_id for u in users):
            raise InvalidInput("err.unknown", field="proposer")
        book = titles_of(uow)
        p = approvals.Proposal(amount, frozenset(t.value for t in types),
                               severity.value if severity else None, kind, market)
        rs = rule_set_of(uow)
        found = rs.rule_for(p)
        if found is None:
            return Trial(rs.version, 0, "", [])
        _rs, pos, rule, planned = plan_for(uow, p, proposer_id)
    return Trial(rs.version, pos, rule.name, [
        WouldSign(s, tuple(u.display_name for u in users
                           if u.id != proposer_id and approvals.eligible(u, s.title, s.or_higher,
                                                                         book)))
        for s in planned])
