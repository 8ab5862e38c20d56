"""Approval authority as data (issue #12 items 1-2): titles with ranks and substitutes, rules
from a proposal's conditions to ordered steps, the editor's checks, the gaps it warns about,
planning with "or a higher title", parallel steps and substitutes (core/rules/approvals.py)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.model import Role, User
from core.rules.approvals import (
    DEFAULT_RULES,
    DEFAULT_TITLES,
    Proposal,
    Rule,
    RuleSet,
    RuleStep,
    TitleDef,
    Titles,
    can_sign,
    gaps,
    plan_steps,
    rules_from_matrix,
    rules_problems,
    titles_problem,
)

TODAY = date(2026, 12, 7)
QA, SM, GM, CH = "qa_manager", "sales_manager", "general_manager", "chairman"
BOOK = Titles((*DEFAULT_TITLES, TitleDef("vp_sales", "营销副总", "VP sales", 40),
               TitleDef("duty", "值班经理", "Duty manager", 10, substitute="vp_sales")))
COMP = frozenset({"compensation"})


def person(uid: int, *titles: str, active: bool = True) -> User:
    return User(uid, f"u{uid}", f"U{uid}", frozenset({Role.MANAGEMENT}), None,
                frozenset(titles), active)


def d(x: str | float) -> Decimal:
    return Decimal(str(x))


# ---------------------------------------------------------------- which rule applies


def test_the_first_rule_whose_conditions_hold_applies() -> None:
    rules = (Rule("comp", (RuleStep(GM), RuleStep(CH)), dispositions=COMP),
             Rule("repl", (RuleStep(GM),), dispositions=frozenset({"replacement"})),
             *DEFAULT_RULES)
    rs = RuleSet(3, rules)
    assert rs.rule_for(Proposal(d(500), COMP)) == (1, rules[0])  # 4.3.2 whatever the total
    assert rs.rule_for(Proposal(d(90000), frozenset({"replacement"}))) == (2, rules[1])
    pos, rule = rs.rule_for(Proposal(d(1500), frozenset({"rework"}))) or (0, None)
    assert rule is not None and [s.title for s in rule.steps] == [SM]
    # a case with compensation and replacement takes the first that fits: compensation's
    assert rs.rule_for(Proposal(d(10), COMP | {"replacement"})) == (1, rules[0])


@pytest.mark.parametrize(("total", "severity", "steps"), [
    (0, None, [QA]), (1500, None, [SM]), (2000, None, [SM]), (2000.01, None, [SM, GM]),
    (20000, None, [SM, GM]), (20001, None, [SM, GM, CH]),
    (0, "A", [QA, GM]), (1500, "A", [SM, GM]), (50000, "A", [SM, GM, CH]),
    (1500, "B", [SM]),
])
def test_the_default_rules_mean_what_the_first_matrix_meant(total: float, severity: str | None,
                                                            steps: list[str]) -> None:
    found = RuleSet(1, DEFAULT_RULES).rule_for(Proposal(d(total), severity=severity))
    assert found is not None and [s.title for s in found[1].steps] == steps


def test_a_stored_matrix_becomes_rules_meaning_the_same() -> None:
    matrix = [{"up_to": "1000", "steps": [SM]}, {"up_to": None, "steps": [SM, GM]}]
    rs = RuleSet(1, rules_from_matrix(matrix))
    assert not rules_problems(rs.rules, BOOK)

    def steps(total: int, sev: str | None = None) -> list[str]:
        found = rs.rule_for(Proposal(d(total), severity=sev))
        assert found is not None
        return [s.title for s in found[1].steps]
    assert steps(0) == [SM] and steps(1000) == [SM] and steps(1001) == [SM, GM]
    assert steps(500, "A") == [SM, GM] and steps(5000, "A") == [SM, GM]


def test_kind_and_market_conditions() -> None:
    export = Rule("export", (RuleStep(GM),), markets=frozenset({"overseas"}))
    inquiry = Rule("inquiry", (RuleStep(QA),), kinds=frozenset({"inquiry"}))
    rs = RuleSet(1, (export, inquiry, *DEFAULT_RULES))
    assert rs.rule_for(Proposal(d(10), market="overseas")) == (1, export)
    assert rs.rule_for(Proposal(d(10), kind="inquiry", market="domestic")) == (2, inquiry)
    assert rs.rule_for(Proposal(d(10), market=None)) != (1, export)


# ---------------------------------------------------------------- the editor's checks


def keys(rules: tuple[Rule, ...]) -> list[tuple[str, int]]:
    return [(p.key, p.rule) for p in rules_problems(rules, BOOK)]


def test_overlapping_bands_with_the_same_conditions_are_refused() -> None:
    a = Rule("a", (RuleStep(SM),), up_to=d(2000))
    b = Rule("b", (RuleStep(GM),), over=d(1000), up_to=d(5000))
    assert keys((a, b)) == [("err.rule_overlap", 2)]
    assert rules_problems((a, b), BOOK)[0].params == {"other": 1}
    # touching bands do not overlap; other conditions make them different rules
    assert keys((a, Rule("b", (RuleStep(GM),), over=d(2000)))) == []
    assert keys((a, Rule("b", (RuleStep(GM),), up_to=d(5000), severities=frozenset("A")))) == []
    # two open-ended rules with the same conditions overlap
    assert keys((Rule("x", (RuleStep(SM),)), Rule("y", (RuleStep(GM),)))) == [
        ("err.rule_overlap", 2)]


def test_every_problem_of_a_rule_is_named_with_its_position() -> None:
    bad = (Rule("ok", (RuleStep(SM),), up_to=d(0)),
           Rule("", (), dispositions=frozenset({"rework"})),
           Rule("no title", (RuleStep(""),), over=d(0)),
           Rule("unknown", (RuleStep("pope"),), over=d(10), severities=frozenset("A")),
           Rule("twice", (RuleStep(GM), RuleStep(GM)), over=d(10), severities=frozenset("B")),
           Rule("parallel first", (RuleStep(GM, parallel=True),), kinds=frozenset({"inquiry"})),
           Rule("negative", (RuleStep(GM),), over=d(-5), kinds=frozenset({"suggestion"})),
           Rule("band", (RuleStep(GM),), over=d(100), up_to=d(50),
                markets=frozenset({"overseas"})),
           Rule("bogus", (RuleStep(GM),), severities=frozenset({"Z"})))
    assert keys(bad) == [
        ("err.rule_name", 2), ("err.rule_no_steps", 2), ("err.rule_step_title", 3),
        ("err.rule_unknown_title", 4), ("err.rule_title_twice", 5),
        ("err.rule_first_parallel", 6), ("err.rule_negative", 7), ("err.rule_band", 8),
        ("err.rule_condition", 9)]
    assert keys(()) == [("err.rules_empty", 0)]


def test_an_inactive_title_cannot_be_used_in_a_rule() -> None:
    book = Titles((*DEFAULT_TITLES, TitleDef("old", "旧职务", "Old", 10, active=False)))
    assert [p.key for p in rules_problems((Rule("r", (RuleStep("old"),)),), book)] == [
        "err.rule_unknown_title"]


def test_gaps_name_the_types_and_totals_no_rule_covers() -> None:
    assert gaps(DEFAULT_RULES) == []
    only_comp = (Rule("small", (RuleStep(SM),), dispositions=COMP, up_to=d(1000)),
                 Rule("big", (RuleStep(GM),), dispositions=COMP, over=d(5000)))
    found = {(t, lo, hi) for t, lo, hi in gaps(only_comp)}
    assert ("compensation", d(1000), d(5000)) in found
    assert ("rework", d(0), None) in found
    # a severity-only rule does not close a gap: a B proposal would still find nothing
    assert ("rework", d(0), None) in gaps((Rule("A", (RuleStep(GM),),
                                                severities=frozenset("A")),))


def test_titles_are_checked_before_they_are_saved() -> None:
    ok = list(DEFAULT_TITLES)
    assert titles_problem(ok) is None
    assert titles_problem([*ok, TitleDef("bad code", "x", "", 1)]) == (
        "err.title_code", {"code": "bad code"})
    assert titles_problem([*ok, TitleDef("x", " ", "", 1)]) == ("err.title_name", {"code": "x"})
    assert titles_problem([*ok, TitleDef("x", "某", "", 5000)]) == ("err.title_rank",
                                                                   {"code": "x"})
    assert titles_problem([*ok, TitleDef("x", "某", "", 5, substitute="x")]) == (
        "err.title_substitute", {"code": "x"})
    assert titles_problem([*ok, TitleDef(QA, "重复", "", 5)]) == (
        "err.title_duplicate", {"code": QA})
    assert titles_problem(ok[1:], in_use={QA}) == ("err.title_in_use", {"code": QA})


# ---------------------------------------------------------------- planning and signing


def test_or_higher_lets_a_higher_title_sign_and_keeps_the_step() -> None:
    users = [person(1, GM), person(2, CH), person(9)]  # nobody holds the sales manager title
    plan = plan_steps((RuleStep(SM, or_higher=True),), {9}, users, BOOK, 9)
    assert [(p.title, p.or_higher, p.moved_from) for p in plan] == [(SM, True, ())]
    assert can_sign(users[0], SM, 9, TODAY, users, [], (), BOOK, or_higher=True) == (True, None)
    assert can_sign(users[0], SM, 9, TODAY, users, [], (), BOOK, or_higher=False)[0] is False


def test_a_higher_title_cannot_sign_a_lower_step_unless_the_rule_allows_it() -> None:
    users = [person(1, SM), person(2, GM)]
    assert can_sign(users[1], SM, None, TODAY, users, [], (), BOOK)[0] is False
    assert can_sign(users[1], SM, None, TODAY, users, [], (), BOOK, or_higher=True)[0] is True
    # a title of equal rank is not higher (the QA and sales manager are peers)
    qa = person(3, QA)
    assert can_sign(qa, SM, None, TODAY, [*users, qa], [], (), BOOK, or_higher=True)[0] is False


def test_parallel_steps_share_a_stage() -> None:
    users = [person(1, QA), person(2, SM), person(3, GM), person(9)]
    plan = plan_steps((RuleStep(QA), RuleStep(SM, parallel=True), RuleStep(GM)), {9}, users,
                      BOOK, 9)
    assert [(p.title, p.stage) for p in plan] == [(QA, 1), (SM, 1), (GM, 2)]


def test_a_configured_substitute_signs_before_the_next_higher_title() -> None:
    users = [person(1, "vp_sales"), person(2, SM), person(3, "duty")]
    plan = plan_steps((RuleStep("duty"),), {3}, users, BOOK, 3)  # the duty manager proposed
    assert [(p.title, p.moved_from, p.why) for p in plan] == [("vp_sales", ("duty",),
                                                               "proposer")]


def test_the_general_manager_as_proposer_moves_to_the_chairman() -> None:
    users = [person(1, SM), person(2, GM), person(3, CH)]
    plan = plan_steps((RuleStep(GM), RuleStep(CH)), {2}, users, BOOK, 2)
    assert [(p.title, p.stage, p.moved_from, p.why) for p in plan] == [
        (CH, 1, (GM,), "proposer")]


def test_a_person_holding_two_titles_signs_one_step_and_the_other_moves_on() -> None:
    both = person(1, GM, CH)
    users = [both, person(2, SM), person(9)]
    first = plan_steps((RuleStep(GM), RuleStep(CH)), {9}, users, BOOK, 9)
    assert [p.title for p in first] == [GM, CH]
    # once they signed the first step, the chairman's step has nobody left: it moves
    again = plan_steps((RuleStep(CH),), {9, 1}, users, BOOK, 9)
    assert [(p.title, p.moved_from, p.why) for p in again] == [(SM, (CH,), "signed")]
