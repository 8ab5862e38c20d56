"""Admin → Approval authority: "who would sign?" tries the approval rules (issue #12 item 2's
tester): the rule that applies, the steps of a round as it would be planned now, and who
could sign each — in English here, with the demo's rules (compensation: general manager then
chairman; then the default rules by total)."""
from __future__ import annotations

from typing import Any

from core import usecases as uc
from core.model import DispositionType
from core.rules.approvals import DEFAULT_RULES
from core.usecases.context import Context
from tests.app.helpers import (
    block, en, no_exception, open_page, open_tab, page_text, values, widget,
)


def _admin_page() -> Any:
    """Admin on the Approval authority tab, which has the tester (no longer under Settings)."""
    at = open_page("pages/admin.py", "admin", "en")
    settings = open_tab(at, "admin_tab", en("admin.settings"))
    assert settings.expander  # drawn, and without the tester
    assert not [b for b in settings.expander if b.label == en("admin.who_signs")]
    open_tab(at, "admin_tab", en("admin.approval"))
    return at


def _tester(at: Any) -> Any:
    """The tester, on the Approval authority tab."""
    return block(block(at, "tabs", en("admin.approval")), "expander", en("admin.who_signs"))


def _try(at: Any, total: str, proposer: int | None = None,
         types: list[DispositionType] | None = None) -> str:
    box = _tester(at)
    if types is not None:
        widget(box, "multiselect", en("rules.dispositions")).set_value(types)
    widget(box, "text_input", en("appr.trial_total")).input(total)
    if proposer is not None:
        widget(box, "selectbox", en("appr.trial_proposer")).select(proposer)
    widget(box, "button", en("appr.trial")).click().run()
    no_exception(at)
    return page_text(_tester(at))


def test_the_general_manager_as_proposer_shows_the_chairman_signing_and_why(
        ref_db: Context) -> None:
    gm = uc.accounts.active_user(ref_db, "gm")
    assert gm is not None
    rules = uc.authority.rule_set(ref_db)
    at = _admin_page()
    text = _try(at, "8000", gm.id, [DispositionType.REWORK])
    # not compensation nor replacement: the default rules by total (≤20000), 9th after the
    # demo's two
    assert rules.rules[8] == DEFAULT_RULES[6]
    assert en("rules.applies", rule=9, name=rules.rules[8].name, version=rules.version) in [
        v.replace("\\", "") for v in values(at, "markdown")]
    assert "周杰（营销经理）" in text and "郑卫东（董事长）" in text
    assert "吴建国（总经理）" not in text  # the proposer signs nothing
    assert en("appr.moved.proposer", titles="General manager",
              title="Chairman") in values(at, "caption")


def test_a_compensation_follows_the_demo_rule_and_the_chairman_signs_once(
        ref_db: Context) -> None:
    gm = uc.accounts.active_user(ref_db, "gm")
    assert gm is not None
    at = _admin_page()
    text = _try(at, "8000", gm.id)  # compensation is the tester's default type
    assert "郑卫东（董事长）" in text
    assert "周杰（营销经理）" not in text and "吴建国（总经理）" not in text
    # the general manager's step goes onto the chairman's, signed once
    assert text.count("Chairman**") == 1


def test_a_bad_total_is_said_in_words(ref_db: Context) -> None:
    at = _admin_page()
    _try(at, "lots")
    assert values(at, "error") == [en("err.amount", field="amount")]
