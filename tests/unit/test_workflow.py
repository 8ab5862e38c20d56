"""The transition table (docs/procedure.md §5) and the pure rules it leans on: approval authority
(docs/procedure.md §6)
and recurrence escalation (docs/procedure.md §4). No unit of work here: cases are built by hand."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core import workflow
from core.errors import NotAllowed
from core.i18n import T
from core.model import (
    ApprovalStep,
    CapaAction,
    CapaType,
    CaseFile,
    Channel,
    Complaint,
    Disposition,
    DispositionType,
    Kind,
    Market,
    Role,
    Severity,
    State,
    StepStatus,
    Title,
    User,
    Validity,
)
from core.rules import approvals
from core.rules.approvals import (
    DEFAULT_RULES,
    DEFAULT_TITLES,
    Delegation,
    Proposal,
    Rule,
    RuleSet,
    RuleStep,
    Titles,
    can_sign,
)
from core.rules.severity import escalate
from core.workflow import BY_ACTION, TRANSITIONS, Context, available, check, why_not

S, R, K = State, Role, Kind
TODAY = date(2026, 11, 10)
NOW = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
CTX = Context(today=TODAY)
PRESS, PAINT = 7, 8  # the responsible department, and another one


def user(role: Role, uid: int = 10, department: int | None = PRESS,
         title: str | None = None) -> User:
    return User(uid, f"u{uid}", f"User {uid}", frozenset({role}), department,
                titles=frozenset({title} if title else ()))


def case(state: State = S.REGISTERED, kind: Kind = K.COMPLAINT, *,
         capa: list[CapaAction] | None = None, dispositions: list[Disposition] | None = None,
         steps: list[ApprovalStep] | None = None, **fields: Any) -> CaseFile:
    c = Complaint(id=1, number="KS2611-001", received_at=NOW, channel=Channel.PHONE,
                  received_by_id=1, kind=kind, customer_id=1, description="scratches", state=state,
                  **fields)
    return CaseFile(c, capa=capa or [], dispositions=dispositions or [], steps=steps or [])


def capa(status: str = "open", evidence: str = "") -> CapaAction:
    return CapaAction(1, 1, CapaType.CORRECTIVE, "replace the fixture", 10,
                      TODAY + timedelta(days=14), status, evidence)


def disposition(done: bool = False, rnd: int = 0) -> Disposition:
    return Disposition(1, 1, rnd, DispositionType.COMPENSATION, None, Decimal("8000"), done=done)


def step(status: StepStatus = StepStatus.PENDING) -> ApprovalStep:
    return ApprovalStep(1, 1, 0, 1, Title.SALES_MANAGER, status)


# One case per action that satisfies every guard, and one role allowed to take it.
READY: dict[str, tuple[Callable[[], CaseFile], Role]] = {
    "approve_dispatch": (lambda: case(severity_proposed=Severity.A), R.MANAGEMENT),
    "dispatch": (lambda: case(severity_proposed=Severity.C), R.SALES),
    "route_short": (lambda: case(kind=K.SUGGESTION), R.SALES),
    "return_to_sales": (lambda: case(S.DISPATCHED), R.QA),
    "acknowledge": (lambda: case(S.DISPATCHED), R.QA),
    "classify_valid": (lambda: case(S.INVESTIGATING), R.QA),
    "classify_invalid": (lambda: case(S.INVESTIGATING), R.QA),
    "submit_analysis": (
        lambda: case(S.ROOT_CAUSE, capa=[capa()], responsible_department_id=PRESS),
        R.PRODUCTION,
    ),
    "send_back": (lambda: case(S.CAPA_REVIEW), R.QA),
    "approve_capa": (lambda: case(S.CAPA_REVIEW), R.QA),
    "propose": (lambda: case(S.DISPOSITION, dispositions=[disposition()]), R.SALES),
    "approve_step": (lambda: case(S.PENDING_APPROVAL, steps=[step()]), R.MANAGEMENT),
    "reject_step": (lambda: case(S.PENDING_APPROVAL, steps=[step()]), R.MANAGEMENT),
    "reply": (lambda: case(S.REPLYING), R.SALES),
    "complete": (
        lambda: case(S.IMPLEMENTING, capa=[capa("done", "photo of new fixture")],
                     dispositions=[disposition(done=True)], responsible_department_id=PRESS),
        R.PRODUCTION,
    ),
    "verify": (lambda: case(S.VERIFYING), R.QA),
    "follow_up": (lambda: case(S.FOLLOW_UP), R.SALES),
    "cancel": (lambda: case(), R.SALES),
    "merge": (lambda: case(), R.SALES),
    "reopen": (lambda: case(S.CLOSED, validity=Validity.VALID), R.QA),
    "hold": (lambda: case(S.ROOT_CAUSE, responsible_department_id=PRESS), R.QA),
    "resume": (
        lambda: case(S.ROOT_CAUSE, on_hold_since=NOW, hold_reason="samples",
                     responsible_department_id=PRESS),
        R.QA,
    ),
}
ACTIONS = [t.action for t in TRANSITIONS]


def test_every_transition_of_the_table_has_a_ready_example() -> None:
    assert set(READY) == set(BY_ACTION) and len(BY_ACTION) == len(TRANSITIONS)


# ---------------------------------------------------------------- who, from where, which kind


@pytest.mark.parametrize("action", ACTIONS)
def test_every_allowed_role_may_take_the_transition_from_its_source_state(action: str) -> None:
    make, _ = READY[action]
    for role in BY_ACTION[action].roles:
        assert why_not(action, make(), user(role), CTX) is None, role
        check(action, make(), user(role), CTX)  # does not raise


@pytest.mark.parametrize("action", ACTIONS)
def test_every_other_role_is_refused_with_wrong_role(action: str) -> None:
    make, _ = READY[action]
    wrong = [r for r in Role if r not in BY_ACTION[action].roles]
    assert (
        wrong and Role.ADMIN in wrong
    )  # admin does no case work by default (docs/procedure.md §2)
    for role in wrong:
        with pytest.raises(NotAllowed) as err:
            check(action, make(), user(role), CTX)
        assert err.value.key == "why.wrong_role", role
        assert err.value.params["action"] == action


@pytest.mark.parametrize("action", ACTIONS)
def test_every_other_state_is_refused_with_wrong_state(action: str) -> None:
    make, role = READY[action]
    t = BY_ACTION[action]
    others = [s for s in State if s not in t.sources]
    assert others
    for state in others:
        c = make()
        c.complaint.state = state
        with pytest.raises(NotAllowed) as err:
            check(action, c, user(role), CTX)
        assert err.value.key == "why.wrong_state", state
        assert err.value.params["state"] == state.value


@pytest.mark.parametrize("action", [t.action for t in TRANSITIONS if t.kinds != frozenset(Kind)])
def test_every_other_kind_is_refused_with_wrong_kind(action: str) -> None:
    make, role = READY[action]
    for kind in set(Kind) - BY_ACTION[action].kinds:
        c = make()
        c.complaint.kind = kind
        assert why_not(action, c, user(role), CTX) == "why.wrong_kind", kind


def test_suggestions_and_inquiries_take_only_the_short_path() -> None:
    assert BY_ACTION["route_short"].kinds == {K.SUGGESTION, K.INQUIRY}
    assert BY_ACTION["dispatch"].kinds == {K.COMPLAINT}
    assert (
        why_not("dispatch", case(kind=K.INQUIRY, severity_proposed=Severity.D), user(R.SALES), CTX)
        == "why.wrong_kind"
    )
    assert why_not("route_short", case(), user(R.SALES), CTX) == "why.wrong_kind"


def test_targets_follow_the_lifecycle_table() -> None:
    fixed = {t.action: t.target for t in TRANSITIONS if t.target is not None}
    assert fixed == {
        "dispatch": S.DISPATCHED,
        "route_short": S.REPLYING,
        "return_to_sales": S.REGISTERED,
        "acknowledge": S.INVESTIGATING,
        "classify_valid": S.ROOT_CAUSE,
        "classify_invalid": S.DISPOSITION,
        "submit_analysis": S.CAPA_REVIEW,
        "send_back": S.ROOT_CAUSE,
        "approve_capa": S.DISPOSITION,
        "propose": S.PENDING_APPROVAL,
        "reject_step": S.DISPOSITION,
        "complete": S.VERIFYING,
        "cancel": S.CANCELLED,
        "merge": S.CANCELLED,
        "reopen": S.ROOT_CAUSE,
    }


# ---------------------------------------------------------------- guards


@pytest.mark.parametrize(
    "mode, severity, needed",
    [
        ("a_only", Severity.A, True),
        ("a_only", Severity.B, False),
        ("all", Severity.C, True),
        ("all", Severity.A, True),
        ("none", Severity.A, False),
        ("none", Severity.D, False),
    ],
)
def test_dispatch_approval_follows_the_setting(mode: str, severity: Severity, needed: bool) -> None:
    ctx = Context(TODAY, dispatch_approval=mode)
    sales, boss = user(R.SALES), user(R.MANAGEMENT, uid=20)
    fresh = case(severity_proposed=severity)
    assert why_not("dispatch", fresh, sales, ctx) == (
        "why.dispatch_needs_approval" if needed else None
    )
    assert why_not("approve_dispatch", fresh, boss, ctx) == (
        None if needed else "why.dispatch_approval_not_needed"
    )
    approved = case(severity_proposed=severity, dispatch_approved_by_id=20)
    assert why_not("dispatch", approved, sales, ctx) is None
    assert why_not("approve_dispatch", approved, boss, ctx) == "why.dispatch_already_approved"


def test_dispatch_without_a_proposed_severity_says_severity_missing() -> None:
    assert why_not("dispatch", case(), user(R.SALES), CTX) == "why.severity_missing"


LIVE_ACTIONS = [t.action for t in TRANSITIONS if workflow._not_on_hold in t.guards]


def test_hold_pauses_the_working_steps_but_not_cancel_approval_or_resume() -> None:
    assert set(ACTIONS) - set(LIVE_ACTIONS) == {
        "approve_dispatch",
        "approve_step",
        "reject_step",
        "cancel",
        "merge",
        "reopen",
        "resume",
    }


@pytest.mark.parametrize("action", LIVE_ACTIONS)
def test_a_case_on_hold_refuses_the_working_steps(action: str) -> None:
    make, role = READY[action]
    c = make()
    c.complaint.on_hold_since = NOW
    assert why_not(action, c, user(role), CTX) == "why.on_hold"
    c.complaint.on_hold_since = None
    assert why_not(action, c, user(role), CTX) is None


def test_resume_needs_a_case_on_hold() -> None:
    assert why_not("resume", case(S.INVESTIGATING), user(R.QA), CTX) == "why.not_on_hold"


def test_production_submits_only_for_its_responsible_department() -> None:
    ready = READY["submit_analysis"][0]
    assert why_not("submit_analysis", ready(), user(R.PRODUCTION, department=PRESS), CTX) is None
    for dept in (PAINT, None):
        assert (
            why_not("submit_analysis", ready(), user(R.PRODUCTION, department=dept), CTX)
            == "why.not_your_department"
        )
    unassigned = case(S.ROOT_CAUSE, capa=[capa()])
    assert (
        why_not("submit_analysis", unassigned, user(R.PRODUCTION), CTX) == "why.not_your_department"
    )
    assert why_not("submit_analysis", ready(), user(R.MANAGEMENT, department=PAINT), CTX) is None


def test_production_completes_only_for_its_responsible_department_finance_for_any() -> None:
    ready = READY["complete"][0]
    assert (
        why_not("complete", ready(), user(R.PRODUCTION, department=PAINT), CTX)
        == "why.not_your_department"
    )
    assert why_not("complete", ready(), user(R.FINANCE, department=None), CTX) is None
    assert why_not("complete", ready(), user(R.MANAGEMENT, department=None), CTX) is None


def test_submit_needs_a_capa_action_with_owner_and_due_date() -> None:
    c = case(S.ROOT_CAUSE, responsible_department_id=PRESS)
    assert why_not("submit_analysis", c, user(R.PRODUCTION), CTX) == "why.capa_missing"


def test_propose_needs_dispositions_of_the_current_round() -> None:
    sales = user(R.SALES)
    assert why_not("propose", case(S.DISPOSITION), sales, CTX) == "why.disposition_missing"
    old = case(S.DISPOSITION, dispositions=[disposition(rnd=0)], approval_round=1)
    assert why_not("propose", old, sales, CTX) == "why.disposition_missing"
    now = case(S.DISPOSITION, dispositions=[disposition(rnd=1)], approval_round=1)
    assert why_not("propose", now, sales, CTX) is None


@pytest.mark.parametrize(
    "actions, dispositions, why",
    [
        ([capa("open")], [disposition(done=True)], "why.capa_open"),
        ([capa("done", "")], [disposition(done=True)], "why.capa_open"),
        ([capa("done", "   ")], [disposition(done=True)], "why.capa_open"),
        ([capa("done", "8D report")], [disposition(done=False)], "why.disposition_open"),
        ([capa("done", "8D report")], [disposition(done=True)], None),
        ([], [], None),
    ],
)
def test_complete_needs_every_capa_done_with_evidence_and_every_disposition_executed(
    actions: list[CapaAction], dispositions: list[Disposition], why: str | None
) -> None:
    c = case(S.IMPLEMENTING, capa=actions, dispositions=dispositions,
             responsible_department_id=PRESS)
    assert why_not("complete", c, user(R.PRODUCTION), CTX) == why


def test_scheduled_verification_waits_until_its_date() -> None:
    c = case(S.VERIFYING, verify_after=TODAY + timedelta(days=3))
    qa = user(R.QA)
    assert why_not("verify", c, qa, CTX) == "why.verification_scheduled"
    assert (
        why_not("verify", c, qa, Context(TODAY + timedelta(days=2))) == "why.verification_scheduled"
    )
    assert why_not("verify", c, qa, Context(TODAY + timedelta(days=3))) is None


def test_sales_cancels_only_before_investigation_management_any_time() -> None:
    sales, boss = user(R.SALES), user(R.MANAGEMENT)
    for state in (S.REGISTERED, S.DISPATCHED):
        assert why_not("cancel", case(state), sales, CTX) is None
    for state in sorted(workflow.OPEN - {S.REGISTERED, S.DISPATCHED}):
        assert why_not("cancel", case(state), sales, CTX) == "why.cancel_after_investigation"
        assert why_not("cancel", case(state), boss, CTX) is None
    for state in (S.CLOSED, S.CANCELLED):
        assert why_not("cancel", case(state), boss, CTX) == "why.wrong_state"


def test_qa_and_management_merge_at_any_open_step_sales_before_investigation() -> None:
    sales, qa, boss = user(R.SALES), user(R.QA), user(R.MANAGEMENT)
    for state in sorted(workflow.OPEN):
        assert why_not("merge", case(state), qa, CTX) is None
        assert why_not("merge", case(state), boss, CTX) is None
        early = state in (S.REGISTERED, S.DISPATCHED)
        assert why_not("merge", case(state), sales, CTX) == (
            None if early else "why.sales_before_investigation"
        )
    assert why_not("merge", case(S.CLOSED), qa, CTX) == "why.wrong_state"


def test_reopen_of_an_invalid_case_is_refused() -> None:
    c = case(S.CLOSED, validity=Validity.INVALID)
    assert why_not("reopen", c, user(R.QA), CTX) == "why.invalid_case"
    assert why_not("reopen", c, user(R.MANAGEMENT), CTX) == "why.invalid_case"


def test_approval_needs_a_pending_step_of_the_current_round() -> None:
    boss = user(R.MANAGEMENT)
    signed = case(S.PENDING_APPROVAL, steps=[step(StepStatus.APPROVED)])
    assert why_not("approve_step", signed, boss, CTX) == "why.no_pending_step"
    old_round = case(S.PENDING_APPROVAL, steps=[step()], approval_round=1)
    assert why_not("reject_step", old_round, boss, CTX) == "why.no_pending_step"


# ---------------------------------------------------------------- the action panel


def test_available_lists_the_actions_of_the_state_allowed_or_with_the_reason() -> None:
    c = case(severity_proposed=Severity.C)
    assert available(c, user(R.SALES), CTX) == [
        ("approve_dispatch", "why.wrong_role"),
        ("dispatch", None),
        ("cancel", None),
        ("merge", None),
        ("resume", "why.not_on_hold"),
    ]
    assert available(c, user(R.QA), CTX) == [
        ("approve_dispatch", "why.wrong_role"),
        ("dispatch", "why.wrong_role"),
        ("cancel", "why.wrong_role"),
        ("merge", None),
        ("resume", "why.not_on_hold"),
    ]


def test_available_leaves_out_actions_of_other_kinds() -> None:
    names = [a for a, _ in available(case(kind=K.INQUIRY), user(R.SALES), CTX)]
    assert "route_short" in names
    assert "dispatch" not in names and "approve_dispatch" not in names


def test_every_reason_the_workflow_gives_is_translated() -> None:
    root = Path(__file__).resolve().parents[2]
    keys = set()
    for path in [root / "core" / "workflow.py", *(root / "core" / "usecases").glob("*.py")]:
        keys |= set(re.findall(r'"(why\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert "why.wrong_role" in keys
    missing = sorted(k for k in keys if k not in T or not all(T[k]))
    assert not missing


# ---------------------------------------------------------------- approval authority
# (docs/procedure.md §6)

QAM, SM, GM, CH = (Title.QA_MANAGER.value, Title.SALES_MANAGER.value,
                   Title.GENERAL_MANAGER.value, Title.CHAIRMAN.value)
BOOK = Titles(DEFAULT_TITLES)


def steps_of(rules: tuple[Rule, ...], total: str, severity: Severity | None = None,
             *types: DispositionType, market: str | None = None) -> tuple[str, ...] | None:
    """The titles the first rule that fits a proposal names, in order (None: no rule)."""
    found = RuleSet(1, rules).rule_for(Proposal(Decimal(total), frozenset(t.value for t in types),
                                                severity.value if severity else None,
                                                market=market))
    return tuple(s.title for s in found[1].steps) if found else None


@pytest.mark.parametrize(
    "total, severity, titles",
    [
        ("0", Severity.C, (QAM,)),
        ("0.01", Severity.C, (SM,)),
        ("2000", Severity.B, (SM,)),
        ("2000.01", Severity.B, (SM, GM)),
        ("8000", Severity.B, (SM, GM)),
        ("20000", Severity.B, (SM, GM)),
        ("20000.01", Severity.B, (SM, GM, CH)),
        ("1000000", None, (SM, GM, CH)),
        ("0", Severity.A, (QAM, GM)),
        ("1500", Severity.A, (SM, GM)),
        ("8000", Severity.A, (SM, GM)),
        ("30000", Severity.A, (SM, GM, CH)),
    ],
)
def test_the_default_rules_give_the_steps_in_order(total: str, severity: Severity | None,
                                                   titles: tuple[str, ...]) -> None:
    assert steps_of(DEFAULT_RULES, total, severity) == titles
    assert not approvals.rules_problems(DEFAULT_RULES, BOOK)
    assert not approvals.gaps(DEFAULT_RULES)  # every type and total has a rule


def test_the_rules_of_the_old_default_matrix_are_the_default_rules() -> None:
    matrix = [{"up_to": "0", "steps": [QAM]}, {"up_to": "2000", "steps": [SM]},
              {"up_to": "20000", "steps": [SM, GM]}, {"up_to": None, "steps": [SM, GM, CH]}]
    old = approvals.rules_from_matrix(matrix)
    for total in ("0", "0.01", "2000", "2000.01", "20000", "20000.01", "1000000"):
        for severity in (None, Severity.C, Severity.A):
            assert steps_of(old, total, severity) == steps_of(DEFAULT_RULES, total, severity)
    assert not approvals.rules_problems(old, BOOK)


def test_edited_rules_decide_the_steps_first_rule_that_fits_wins() -> None:
    rules = (
        Rule("overseas compensation", (RuleStep(GM), RuleStep(CH)),
             dispositions=frozenset({DispositionType.COMPENSATION.value}),
             markets=frozenset({Market.OVERSEAS.value})),
        Rule("≤500", (RuleStep(SM),), up_to=Decimal("500")),
        Rule(">500", (RuleStep(GM), RuleStep(SM)), over=Decimal("500")),
    )
    assert steps_of(rules, "500") == (SM,)
    assert steps_of(rules, "501") == (GM, SM)  # in the rule's order
    pay, rework = DispositionType.COMPENSATION, DispositionType.REWORK
    abroad, home = Market.OVERSEAS.value, Market.DOMESTIC.value
    assert steps_of(rules, "100", None, pay, market=abroad) == (GM, CH)
    assert steps_of(rules, "100", None, pay, market=home) == (SM,)
    assert steps_of(rules, "100", None, rework, market=abroad) == (SM,)
    assert approvals.rules_from_json(approvals.rules_to_json(rules)) == rules
    assert not approvals.rules_problems(rules, BOOK)
    assert steps_of(rules[:2], "501") is None  # no rule: such a proposal cannot be submitted
    assert (DispositionType.REWORK.value, Decimal("500"), None) in approvals.gaps(rules[:2])


def _rule(*steps: RuleStep, name: str = "r", **kw: Any) -> Rule:
    return Rule(name, steps, **kw)


@pytest.mark.parametrize(
    "rules, problem",
    [
        ((), ("err.rules_empty", 0)),
        ((_rule(RuleStep(SM), name=" "),), ("err.rule_name", 1)),
        ((_rule(),), ("err.rule_no_steps", 1)),
        ((_rule(RuleStep("none")),), ("err.rule_unknown_title", 1)),
        ((_rule(RuleStep(SM), RuleStep(SM)),), ("err.rule_title_twice", 1)),
        ((_rule(RuleStep(SM, parallel=True)),), ("err.rule_first_parallel", 1)),
        ((_rule(RuleStep(SM), up_to=Decimal("-1")),), ("err.rule_negative", 1)),
        ((_rule(RuleStep(SM), over=Decimal("500"), up_to=Decimal("500")),), ("err.rule_band", 1)),
        ((_rule(RuleStep(SM), severities=frozenset({"Z"})),), ("err.rule_condition", 1)),
        ((_rule(RuleStep(SM), up_to=Decimal("2000")), _rule(RuleStep(GM), over=Decimal("1000"))),
         ("err.rule_overlap", 2)),
    ],
)
def test_rules_that_cannot_work_are_refused_saying_which(rules: tuple[Rule, ...],
                                                        problem: tuple[str, int]) -> None:
    assert [(p.key, p.rule) for p in approvals.rules_problems(rules, BOOK)] == [problem]


def test_an_inactive_title_cannot_be_named_by_a_rule() -> None:
    book = Titles([replace(d, active=d.code != CH) for d in DEFAULT_TITLES])
    assert [p.key for p in approvals.rules_problems((_rule(RuleStep(CH)),), book)] == [
        "err.rule_unknown_title"]


def test_proposer_cannot_approve_own_disposition_even_holding_the_title() -> None:
    sm = user(R.MANAGEMENT, uid=30, title=SM)
    assert can_sign(sm, SM, proposer_id=30, today=TODAY, users=[sm], delegations=[]) == (
        False,
        None,
    )
    assert can_sign(sm, SM, proposer_id=31, today=TODAY, users=[sm], delegations=[]) == (
        True,
        None,
    )


def test_only_the_holder_of_the_step_title_signs() -> None:
    gm = user(R.MANAGEMENT, uid=40, title=GM)
    assert can_sign(gm, SM, None, TODAY, [gm], []) == (False, None)
    assert can_sign(replace(gm, active=False), GM, None, TODAY, [], []) == (False, None)
    # a step open to higher titles: the general manager outranks the sales manager
    assert can_sign(gm, SM, None, TODAY, [gm], [], (), BOOK, or_higher=True) == (True, None)
    assert can_sign(gm, CH, None, TODAY, [gm], [], (), BOOK, or_higher=True) == (False, None)


def test_a_delegate_signs_within_the_date_range_on_behalf_of_the_manager() -> None:
    gm, deputy = user(R.MANAGEMENT, uid=40, title=GM), user(R.MANAGEMENT, uid=41)
    d = Delegation(1, manager_id=40, deputy_id=41, start=TODAY, end=TODAY + timedelta(days=7))
    for day in (TODAY, TODAY + timedelta(days=7)):
        assert can_sign(deputy, GM, None, day, [gm, deputy], [d]) == (True, 40)
    for day in (TODAY - timedelta(days=1), TODAY + timedelta(days=8)):
        assert can_sign(deputy, GM, None, day, [gm, deputy], [d]) == (False, None)
    # the delegation covers the manager's own step only
    assert can_sign(deputy, SM, None, TODAY, [gm, deputy], [d]) == (False, None)


def test_a_delegate_cannot_sign_for_a_manager_who_proposed_nor_their_own_proposal() -> None:
    gm, deputy = user(R.MANAGEMENT, uid=40, title=GM), user(R.MANAGEMENT, uid=41)
    d = Delegation(1, 40, 41, TODAY, TODAY)
    assert can_sign(deputy, GM, 40, TODAY, [gm, deputy], [d]) == (False, None)
    assert can_sign(deputy, GM, 41, TODAY, [gm, deputy], [d]) == (False, None)


# ---------------------------------------------------------------- recurrence (docs/procedure.md §4)


@pytest.mark.parametrize(
    "severity, count, result",
    [
        (Severity.C, 1, (Severity.C, False)),
        (Severity.C, 2, (Severity.C, False)),
        (Severity.C, 3, (Severity.B, True)),
        (Severity.C, 7, (Severity.B, True)),
        (Severity.D, 3, (Severity.C, True)),
        (Severity.B, 3, (Severity.A, True)),
        (Severity.A, 3, (Severity.A, False)),
    ],
)
def test_three_cases_of_the_same_issue_raise_the_severity_one_level(
    severity: Severity, count: int, result: tuple[Severity, bool]
) -> None:
    assert escalate(severity, count) == result


def test_the_action_panel_table_names_each_use_case_by_its_workflow_action() -> None:
    from core import usecases as uc

    assert uc.ACTIONS and set(uc.ACTIONS) <= set(BY_ACTION)
    assert all(fn.__name__ == action for action, fn in uc.ACTIONS.items())
