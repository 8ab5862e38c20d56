"""Presets (issue #12 item 10): each shipped profile — manufacturing (the seed's 4.2/4.3), a
PCB plant whose 总经理室 coordinates, retail stores with the duty manager's authority — loads
as data through the Admin's use cases with its demo, and its approval authority then works as
the profile says; a preset with a mistake changes nothing. On SQLite and PostgreSQL."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

import pytest

from bench import demo
from core import usecases as uc
from core.errors import InvalidInput
from core.model import DispositionType, Severity
from core.rules import approvals
from core.usecases.context import Context

COMP = [DispositionType.COMPENSATION]


def _load(app: Context, profile: str) -> None:
    at: list[datetime] = []
    real = app.clock
    app.clock = lambda: at[-1] if at else real()
    demo.load(app, at.append, cases=6, profile=profile)
    app.clock = real


def _trial(app: Context, total: str, types: list[DispositionType] = COMP,
           severity: Severity | None = None, proposer: str = "sales"
           ) -> tuple[str, list[tuple[str, tuple[str, ...]]]]:
    admin = uc.accounts.active_user(app, "admin")
    who = uc.accounts.active_user(app, proposer)
    assert admin is not None and who is not None
    t = uc.authority.who_would_sign(app, admin, total, severity, who.id, types)
    return t.name, [(s.step.title, s.people) for s in t.steps]


@pytest.mark.parametrize("profile", ["manufacturing", "pcb", "retail"])
def test_every_profile_loads_as_data_and_its_demo_runs(app: Context, profile: str) -> None:
    _load(app, profile)
    preset = uc.presets.read(profile)
    assert {d.code for d in preset.titles} <= {d.code for d in uc.authority.titles(app).defs}
    assert uc.authority.rule_set(app).rules == preset.rules
    assert {f.key for f in preset.fields} <= {
        f.key for f in uc.custom_fields.field_definitions(app)}
    people = {u.username: u for u in uc.accounts.list_active_users(app)}
    for p in preset.users:
        assert people[p.username].titles == p.titles
    # every title a rule names is held by somebody, so the demo's rounds can finish
    held = {t for u in people.values() for t in u.titles}
    assert {s.title for r in preset.rules for s in r.steps} <= held


def test_manufacturing_is_the_seeds_4_3(app: Context) -> None:
    _load(app, "manufacturing")
    assert _trial(app, "15000") == ("赔款：总经理审核、董事长批准", [
        ("general_manager", ("吴建国（总经理）",)), ("chairman", ("郑卫东（董事长）",))])
    assert _trial(app, "90000", [DispositionType.REPLACEMENT])[1] == [
        ("general_manager", ("吴建国（总经理）",))]
    assert _trial(app, "1500", [DispositionType.REWORK])[1] == [
        ("sales_manager", ("周杰（营销经理）",))]


def test_pcb_goes_through_the_gm_office_first(app: Context) -> None:
    _load(app, "pcb")
    name, steps = _trial(app, "3000")
    assert name.startswith("5,000") and [s for s, _ in steps] == ["gm_office", "sales_manager"]
    # or a higher title: the deputy GM and the GM may sign the sales manager's step too
    assert set(steps[1][1]) == {"周杰（业务部经理）", "高远（副总经理）", "吴建国（总经理）"}
    assert [s for s, _ in _trial(app, "80000")[1]] == ["gm_office", "general_manager"]


def test_retail_duty_manager_supervisor_office_gm(app: Context) -> None:
    _load(app, "retail")
    assert [s for s, _ in _trial(app, "80")[1]] == ["duty_manager"]
    assert [s for s, _ in _trial(app, "150")[1]] == ["supervisor"]
    assert [s for s, _ in _trial(app, "250")[1]] == ["office_head"]
    assert [s for s, _ in _trial(app, "5000")[1]] == ["office_head", "general_manager"]
    # the store is required from registration: a case without it is refused
    assert any(f.key == "store" and f.required_from is not None
               for f in uc.custom_fields.field_definitions(app))


def test_a_preset_with_a_mistake_changes_nothing(app: Context) -> None:
    _load(app, "manufacturing")
    admin = uc.accounts.active_user(app, "admin")
    assert admin is not None
    before = (uc.authority.titles(app).defs, uc.authority.rule_set(app),
              uc.custom_fields.field_definitions(app, include_inactive=True))
    good = uc.presets.read("retail")
    bad = dataclasses.replace(good, rules=(*good.rules, approvals.Rule(
        "bishop", (approvals.RuleStep("bishop"),), over=Decimal(1_000_000))))
    with pytest.raises(InvalidInput) as err:
        uc.presets.apply(app, admin, bad)
    assert err.value.key == "err.rule_unknown_title"
    after = (uc.authority.titles(app).defs, uc.authority.rule_set(app),
             uc.custom_fields.field_definitions(app, include_inactive=True))
    assert after == before
    # the good one applies over the manufacturing demo: a new rules version, fields added
    done = uc.presets.apply(app, admin, good)
    assert done["rules_version"] > before[1].version and done["fields"] == len(good.fields)
    assert uc.authority.rule_set(app).rules == good.rules
