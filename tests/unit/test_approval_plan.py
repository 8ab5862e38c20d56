"""No approval round can get stuck (issue #12 item 3): every rule of every shipped preset
(core/data/presets: titles, rules and demo people; the default rules; rules with parallel and
or-higher steps) × every proposer × absence of title holders, planned by
core/rules/approvals.py plan_steps and signed stage by stage with can_sign, whoever of the
eligible signs first — the round finishes, nobody signs twice, the proposer never signs, and
every title the rule names is signed or stood for."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from itertools import combinations

import pytest

from core.model import DispositionType, Role, Severity, Title, User
from core.rules import approvals
from core.rules.approvals import (
    DEFAULT_RULES,
    DEFAULT_TITLES,
    PlannedStep,
    Proposal,
    Rule,
    RuleSet,
    RuleStep,
    Titles,
    can_sign,
    plan_steps,
)
from core.usecases import presets

TODAY = date(2026, 12, 7)
QA, SM, GM, CH = (Title.QA_MANAGER.value, Title.SALES_MANAGER.value,
                  Title.GENERAL_MANAGER.value, Title.CHAIRMAN.value)
REP, VP, HEAD = "mgmt_rep", "vp_sales", "dept_head"
PRESETS = {name: presets.read(name) for name in presets.names()}
DEMO = PRESETS[presets.DEFAULT]  # the demo's: manufacturing (seed 4.2/4.3)
DEMO_TITLES, DEMO_RULES = DEMO.titles, DEMO.rules
BOOK = Titles(DEMO_TITLES)

# rules using what the default ones do not: steps signed at the same time, steps a higher
# title may sign, a title only someone holding another one holds, a title nobody holds
SPECIAL_RULES = (
    Rule("会签", (RuleStep(QA), RuleStep(SM, parallel=True), RuleStep(GM, or_higher=True))),
    Rule("管代", (RuleStep(QA), RuleStep(REP), RuleStep(CH))),
    Rule("副总", (RuleStep(HEAD), RuleStep(VP, or_higher=True), RuleStep(REP, parallel=True))),
)
# (preset, rule): every preset's rules with its titles and people; the default rules and the
# special ones with the demo's
CASES = [(name, r) for name, p in PRESETS.items() for r in p.rules] + [
    (presets.DEFAULT, r) for r in (*DEFAULT_RULES, *SPECIAL_RULES)
    if r.name not in {x.name for x in DEMO_RULES}]


def _holders(preset: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """A preset's demo people holding a title (the demo's QA manager is also the management
    representative)."""
    return tuple((u.username, u.titles) for u in PRESETS[preset].users if u.titles)


HOLDERS = _holders(presets.DEFAULT)
assert ("qamanager", frozenset({QA, REP})) in HOLDERS


def _absences(holders: tuple[tuple[str, frozenset[str]], ...]) -> list[set[str]]:
    names = [name for name, _ in holders]
    return [set(c) for n in range(len(names) + 1) for c in combinations(names, n)]


def _people(proposer_name: str, absent: set[str],
            holders: tuple[tuple[str, frozenset[str]], ...] = HOLDERS
            ) -> tuple[list[User], User]:
    users = [User(i + 1, name, name, frozenset({Role.MANAGEMENT}), None, titles,
                  active=name not in absent or name == proposer_name)
             for i, (name, titles) in enumerate(holders)]
    proposer = next((u for u in users if u.username == proposer_name), None)
    if proposer is None:  # a sales clerk without a title
        proposer = User(99, "sales", "sales", frozenset({Role.SALES}))
        users.append(proposer)
    return users, proposer


@dataclass
class _Step:  # a step of the round being signed, as core/usecases/approval.py keeps it
    title: str
    stage: int
    or_higher: bool
    by: int | None = None


def _stuck_or_done(plan: tuple[PlannedStep, ...], users: list[User], proposer: User,
                   book: Titles) -> list[list[int]]:
    """Every way the round can be signed (any eligible person signing any step of the
    lowest pending stage first), as the signers in order; a way that gets stuck ends in -1.
    After each signature a pending step nobody left may sign is planned again, as
    core/usecases/approval.py _replan_after does."""
    ways: list[list[int]] = []

    def go(steps: list[_Step], signers: list[int]) -> None:
        pending = [s for s in steps if s.by is None]
        if not pending:
            ways.append(signers)
            return
        low = min(s.stage for s in pending)
        moved = False
        for i, s in enumerate(steps):
            if s.by is not None or s.stage != low:
                continue
            for u in users:
                if not can_sign(u, s.title, proposer.id, TODAY, users, [], set(signers),
                                book, s.or_higher)[0]:
                    continue
                moved = True
                after = [replace(x, by=u.id) if j == i else replace(x)
                         for j, x in enumerate(steps)]
                out = {*signers, u.id or 0, proposer.id or 0}
                for x in after:
                    if x.by is None and not any(
                            v.id not in out and can_sign(v, x.title, proposer.id, TODAY, users,
                                                         [], out, book, x.or_higher)[0]
                            for v in users):
                        p = plan_steps((RuleStep(x.title, x.or_higher),), out, users, book,
                                       proposer.id)[0]
                        if p.title != x.title:
                            x.title, x.or_higher = p.title, False
                go(after, [*signers, u.id or 0])
        if not moved:
            ways.append([*signers, -1])

    go([_Step(p.title, p.stage, p.or_higher) for p in plan], [])
    return ways


@pytest.mark.parametrize("preset, rule", CASES, ids=[f"{p}-{r.name}" for p, r in CASES])
def test_every_round_finishes_without_anyone_signing_twice(preset: str, rule: Rule) -> None:
    holders, book = _holders(preset), Titles(PRESETS[preset].titles)
    assert not approvals.rules_problems((rule,), book)
    for proposer in ["sales", *(name for name, _ in holders)]:
        _every_absence(rule, proposer, holders, book)


def _every_absence(rule: Rule, proposer: str, holders: tuple[tuple[str, frozenset[str]], ...],
                   book: Titles) -> None:
    checked = 0
    absences = _absences(holders)
    for absent in absences:
        users, me = _people(proposer, absent, holders)
        others = [u for u in users if u.active and u.id != me.id and u.titles]
        plan = plan_steps(rule.steps, {me.id or 0}, users, book, me.id)
        covered = {t for p in plan for t in (p.title, *p.moved_from)}
        assert {s.title for s in rule.steps} <= covered  # every step asked for is accounted for
        assert [p.stage for p in plan] == sorted(p.stage for p in plan)
        assert {p.stage for p in plan} == set(range(1, len({p.stage for p in plan}) + 1))
        for way in _stuck_or_done(plan, users, me, book):
            if not others:  # nobody but the proposer holds any title: nothing can help
                assert way == [-1]
                continue
            assert -1 not in way, (rule.name, proposer, sorted(absent), plan, way)
            assert len(way) == len(set(way))  # nobody twice
            assert me.id not in way  # the proposer never
        checked += 1
    assert checked == len(absences)


def _plan(proposer: str, absent: set[str], *steps: RuleStep,
          book: Titles = BOOK) -> list[tuple[object, ...]]:
    users, me = _people(proposer, absent)
    return [(p.title, p.stage, p.moved_from, p.why)
            for p in plan_steps(steps, {me.id or 0}, users, book, me.id)]


def test_the_general_manager_as_proposer_goes_to_the_chairman_and_says_why() -> None:
    assert _plan("gm", set(), RuleStep(SM), RuleStep(GM)) == [
        (SM, 1, (), ""), (CH, 2, (GM,), "proposer")]


def test_a_step_moved_onto_a_title_already_in_the_round_is_signed_once() -> None:
    assert _plan("gm", set(), RuleStep(SM), RuleStep(GM), RuleStep(CH)) == [
        (SM, 1, (), ""), (CH, 2, (GM,), "proposer")]


def test_nobody_holding_a_title_moves_it_up_and_at_the_top_down() -> None:
    steps = (RuleStep(SM), RuleStep(GM), RuleStep(CH))
    assert _plan("sales", {"manager", "chairman"}, *steps, book=Titles(DEFAULT_TITLES)) == [
        (GM, 1, (SM, CH), "no_holder")]
    # with the demo's titles the next higher one after the sales manager is the management
    # representative (rank 40), whom the QA manager is
    assert _plan("sales", {"manager", "chairman"}, *steps) == [
        (REP, 1, (SM,), "no_holder"), (GM, 2, (CH,), "no_holder")]


def test_one_person_holding_two_titles_of_a_round_signs_one_step_of_it() -> None:
    # only the QA manager (also the management representative) is left: the general
    # manager's step goes onto the QA manager's step, not onto his other title
    assert _plan("sales", {"manager", "gm", "chairman"}, RuleStep(QA), RuleStep(GM)) == [
        (QA, 1, (GM,), "no_holder")]
    assert _plan("sales", {"manager", "gm", "chairman"}, RuleStep(QA), RuleStep(REP)) == [
        (QA, 1, (REP,), "signed")]
    # with someone else left, both steps stay: once he signed one, the other moves on to them
    assert _plan("sales", {"gm", "chairman"}, RuleStep(QA), RuleStep(REP)) == [
        (QA, 1, (), ""), (REP, 2, (), "")]
    users, me = _people("sales", {"gm", "chairman"})
    assert [(p.title, p.moved_from, p.why) for p in plan_steps(
        (RuleStep(REP),), {me.id or 0, users[0].id or 0}, users, BOOK, me.id)] == [
        (SM, (REP,), "signed")]


def test_a_title_nobody_holds_goes_to_its_substitute_before_a_higher_one() -> None:
    book = Titles((*DEMO_TITLES[:-1], replace(DEMO_TITLES[-1], substitute=SM)))
    users, me = _people("sales", set())
    assert BOOK.by_code[VP].substitute == ""
    assert [(p.title, p.moved_from, p.why) for p in plan_steps(
        (RuleStep(VP),), {me.id or 0}, users, BOOK, me.id)] == [(GM, (VP,), "no_holder")]
    assert [(p.title, p.moved_from, p.why) for p in plan_steps(
        (RuleStep(VP),), {me.id or 0}, users, book, me.id)] == [(SM, (VP,), "no_holder")]


def test_parallel_steps_share_a_stage_and_a_higher_title_may_sign_an_or_higher_step() -> None:
    users, me = _people("sales", set())
    plan = plan_steps(SPECIAL_RULES[0].steps, {me.id or 0}, users, BOOK, me.id)
    assert [(p.title, p.stage, p.or_higher) for p in plan] == [
        (QA, 1, False), (SM, 1, False), (GM, 2, True)]
    gm, chairman = users[2], users[3]
    assert can_sign(chairman, GM, me.id, TODAY, users, [], (), BOOK, or_higher=True) == (
        True, None)
    assert can_sign(chairman, GM, me.id, TODAY, users, [], (), BOOK) == (False, None)
    assert can_sign(gm, CH, me.id, TODAY, users, [], (), BOOK, or_higher=True) == (False, None)


def test_a_step_only_someone_who_signed_already_could_sign_moves_on() -> None:
    users, me = _people("sales", set())
    qam = users[0]  # holds the QA manager's title and the management representative's
    assert [(p.title, p.moved_from, p.why) for p in plan_steps(
        (RuleStep(REP),), {me.id or 0, qam.id or 0}, users, BOOK, me.id)] == [
        (GM, (REP,), "signed")]


def test_the_default_rules_are_the_old_matrix() -> None:
    rules = RuleSet(0, DEFAULT_RULES)

    def steps(total: str, severity: Severity | None) -> tuple[str, ...]:
        found = rules.rule_for(Proposal(Decimal(total), severity=severity and severity.value))
        assert found is not None
        return tuple(s.title for s in found[1].steps)

    assert steps("0", None) == (QA,)
    assert steps("8000", Severity.B) == (SM, GM)
    assert steps("0", Severity.A) == (QA, GM)
    assert steps("30000", Severity.A) == (SM, GM, CH)


def test_the_demo_rules_read_the_disposition_types_first() -> None:
    rules = RuleSet(1, DEMO_RULES)

    def steps(total: str, *types: DispositionType) -> tuple[str, ...]:
        found = rules.rule_for(Proposal(Decimal(total), frozenset(t.value for t in types)))
        assert found is not None
        return tuple(s.title for s in found[1].steps)

    assert steps("100", DispositionType.COMPENSATION, DispositionType.REWORK) == (GM, CH)
    assert steps("100", DispositionType.REPLACEMENT) == (GM,)
    assert steps("100", DispositionType.REWORK) == (SM,)
    assert set(DEFAULT_TITLES) <= set(DEMO_TITLES)
