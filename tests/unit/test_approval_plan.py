"""No approval round can get stuck (issue #12 item 3): every total × severity × proposer's
title × absence of title holders, planned by core/rules/approvals.py plan_steps and signed
step by step with can_sign — the round finishes, nobody signs twice, the proposer never signs."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import combinations

import pytest

from core.model import Role, Severity, Title, User
from core.rules.approvals import ORDER, can_sign, plan_steps, signed_in_round, steps_for

TODAY = date(2026, 12, 7)
TOTALS = (Decimal("0"), Decimal("1500"), Decimal("8000"), Decimal("50000"))
ABSENCES = [set(c) for n in range(len(ORDER) + 1) for c in combinations(ORDER, n)]


def _people(proposer_title: Title, absent: set[Title]) -> tuple[list[User], User]:
    users = [User(i + 1, t.value, t.value, frozenset({Role.MANAGEMENT}), None, 0, t,
                  active=t not in absent or t == proposer_title)
             for i, t in enumerate(ORDER)]
    proposer = next((u for u in users if u.title == proposer_title), None)
    if proposer is None:  # a sales clerk without a title
        proposer = User(99, "sales", "sales", frozenset({Role.SALES}))
        users.append(proposer)
    return users, proposer


class _Step:  # what signed_in_round reads of a signed step
    def __init__(self, by: int) -> None:
        self.decided_by_id, self.on_behalf_of_id = by, None
        self.status = type("S", (), {"value": "approved"})()


@pytest.mark.parametrize("proposer_title", [Title.NONE, *ORDER])
@pytest.mark.parametrize("severity", [None, Severity.A])
def test_every_round_finishes_without_anyone_signing_twice(proposer_title: Title,
                                                           severity: Severity | None) -> None:
    checked = 0
    for total in TOTALS:
        for absent in ABSENCES:
            users, proposer = _people(proposer_title, absent)
            others = [u for u in users if u.active and u.id != proposer.id
                      and u.title != Title.NONE]
            plan = plan_steps(steps_for(total, severity), proposer.id, users)
            signed: list[_Step] = []
            for step in plan:
                who = [u for u in users
                       if can_sign(u, step.title, proposer.id, TODAY,
                                   [x for x in users if x.title == step.title], [],
                                   signed_in_round(signed))[0]]
                if not others:  # nobody but the proposer holds any title: nothing can help
                    assert not who
                    break
                assert who, (total, severity, proposer_title, absent, plan)
                signed.append(_Step(who[0].id or 0))
            else:
                ids = [s.decided_by_id for s in signed]
                assert len(ids) == len(set(ids))  # nobody twice
                assert proposer.id not in ids  # the proposer never
                required = set(steps_for(total, severity))
                covered = {t for p in plan for t in (p.title, *p.moved_from)}
                assert required <= covered  # every step the matrix asks for is accounted for
            checked += 1
    assert checked == len(TOTALS) * len(ABSENCES)


def test_the_general_manager_as_proposer_goes_to_the_chairman_and_says_why() -> None:
    users, gm = _people(Title.GENERAL_MANAGER, set())
    plan = plan_steps((Title.SALES_MANAGER, Title.GENERAL_MANAGER), gm.id, users)
    assert [(p.title, p.moved_from, p.why) for p in plan] == [
        (Title.SALES_MANAGER, (), ""),
        (Title.CHAIRMAN, (Title.GENERAL_MANAGER,), "proposer"),
    ]


def test_a_step_moved_onto_a_title_already_in_the_round_is_signed_once() -> None:
    users, gm = _people(Title.GENERAL_MANAGER, set())
    plan = plan_steps((Title.SALES_MANAGER, Title.GENERAL_MANAGER, Title.CHAIRMAN), gm.id, users)
    assert [(p.title, p.moved_from) for p in plan] == [
        (Title.SALES_MANAGER, ()), (Title.CHAIRMAN, (Title.GENERAL_MANAGER,))]


def test_nobody_holding_a_title_moves_it_up_and_at_the_top_down() -> None:
    users, clerk = _people(Title.NONE, {Title.SALES_MANAGER, Title.CHAIRMAN})
    plan = plan_steps((Title.SALES_MANAGER, Title.GENERAL_MANAGER, Title.CHAIRMAN), clerk.id,
                      users)
    assert [(p.title, p.moved_from, p.why) for p in plan] == [
        (Title.GENERAL_MANAGER, (Title.SALES_MANAGER, Title.CHAIRMAN), "no_holder")]
