"""Admin → 核决权限 / Approval authority (issue #12 items 1-2): the demo's rules listed in words,
a rule edited in the editor and saved as a new version, bad input (overlapping bands, a step
with no title, a bad amount) said in the user's language with nothing saved and nothing typed
lost, the titles editor, and "who would sign?" for the seed's 4.3.2 compensation."""
from __future__ import annotations

from typing import Any

from core import usecases as uc
from core.usecases.context import Context
from tests.app.helpers import (
    block, en, no_exception, open_page, open_tab, page_text, values, widget, zh,
)


def _tab(lang: str = "zh") -> tuple[Any, Any]:
    at = open_page("pages/admin.py", "admin", lang)
    tr = zh if lang == "zh" else en
    return at, open_tab(at, "admin_tab", tr("admin.approval"))


def _steps_key(app: Context, pick: int = 0) -> str:
    """The steps grid of the rule picked (0: a new rule), as ui/admin_approval.py keys it."""
    return f"rule{pick}_{len(uc.authority.rule_set(app).rules)}_steps"


def test_the_demo_rules_are_listed_in_words(ref_db: Context) -> None:
    at, tab = _tab("zh")
    no_exception(at)
    text = page_text(tab)
    assert zh("rules.header") in text and zh("titles.header") in text
    (frame,) = [d.value for d in tab.dataframe if zh("rules.name") in d.value.columns]
    assert list(frame[zh("rules.name")])[:2] == ["赔款：总经理审核、董事长批准", "补货：总经理核准"]
    assert list(frame[zh("rules.steps")])[:2] == ["总经理 → 董事长", "总经理"]
    assert frame[zh("rules.conditions")][0] == zh("disposition_type.compensation")
    assert not values(tab, "warning")  # the demo's rules leave no gap


def test_a_rule_saved_in_the_editor_is_a_new_version_used_by_the_tester(ref_db: Context) -> None:
    before = uc.authority.rule_set(ref_db)
    at, tab = _tab("en")
    widget(tab, "selectbox", en("rules.edit")).select(2).run()  # 补货：总经理核准
    tab = block(at, "tabs", en("admin.approval"))
    at.session_state[_steps_key(ref_db, 2)] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"title": "chairman", "or_higher": False, "parallel": False}]}
    widget(tab, "text_input", en("rules.name") + " *").input("补货：总经理、董事长")
    widget(tab, "button", en("common.save"), index=1).click().run()
    no_exception(at)
    after = uc.authority.rule_set(ref_db)
    assert after.version > before.version
    assert after.rules[1].name == "补货：总经理、董事长"
    assert [s.title for s in after.rules[1].steps] == ["general_manager", "chairman"]
    assert after.rules[0] == before.rules[0] and after.rules[2:] == before.rules[2:]
    assert en("rules.saved", version=after.version) in values(at, "success")


def test_overlapping_bands_are_refused_and_nothing_typed_is_lost(ref_db: Context) -> None:
    before = uc.authority.rule_set(ref_db)
    at, tab = _tab("zh")
    # a new rule for compensation with no band: the same conditions as rule 1, overlapping
    widget(tab, "text_input", zh("rules.name") + " *").input("赔款（重复）")
    widget(tab, "multiselect", zh("rules.dispositions"), index=0).select("compensation")
    at.session_state[_steps_key(ref_db)] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"title": "sales_manager", "or_higher": False, "parallel": False}]}
    widget(tab, "button", zh("common.save"), index=1).click().run()
    no_exception(at)
    n = len(before.rules) + 1
    assert zh("err.rule_overlap", rule=n, other=1) in "\n".join(values(at, "error"))
    assert uc.authority.rule_set(ref_db) == before  # nothing saved
    tab = block(at, "tabs", zh("admin.approval"))
    assert widget(tab, "text_input", zh("rules.name") + " *").value == "赔款（重复）"


def test_a_step_without_a_title_and_a_bad_amount_are_said_in_words(ref_db: Context) -> None:
    before = uc.authority.rule_set(ref_db)
    at, tab = _tab("en")
    widget(tab, "text_input", en("rules.name") + " *").input("Returns")
    widget(tab, "multiselect", en("rules.dispositions"), index=0).select("return")
    widget(tab, "text_input", en("rules.up_to")).input("lots")
    widget(tab, "button", en("common.save"), index=1).click().run()
    no_exception(at)
    assert values(at, "error") == [en("err.rule_amount")]
    tab = block(at, "tabs", en("admin.approval"))
    widget(tab, "text_input", en("rules.up_to")).input("5000")
    at.session_state[_steps_key(ref_db)] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"title": None, "or_higher": True, "parallel": False}]}
    widget(tab, "button", en("common.save"), index=1).click().run()
    no_exception(at)
    n = len(before.rules) + 1
    assert en("err.rule_step_title", rule=n) in "\n".join(values(at, "error"))
    assert uc.authority.rule_set(ref_db) == before


def test_a_title_is_added_and_a_title_in_use_cannot_be_removed(ref_db: Context) -> None:
    at, tab = _tab("zh")
    at.session_state["titles_editor"] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"code": "duty_manager", "name_zh": "值班经理", "name_en": "Duty manager",
                        "rank": 25, "substitute": None, "active": True}]}
    widget(tab, "button", zh("common.save"), index=0).click().run()
    no_exception(at)
    book = uc.authority.titles(ref_db)
    assert book.name("duty_manager", "zh") == "值班经理" and book.rank("duty_manager") == 25
    # the general manager is held and named by rules: removing the row is refused
    at, tab = _tab("zh")
    gm_row = [d.code for d in book.defs].index("general_manager")
    at.session_state["titles_editor"] = {"edited_rows": {}, "added_rows": [],
                                         "deleted_rows": [gm_row]}
    widget(tab, "button", zh("common.save"), index=0).click().run()
    no_exception(at)
    assert values(at, "error") == [zh("err.title_in_use", code="general_manager")]
    assert "general_manager" in {d.code for d in uc.authority.titles(ref_db).defs}


def test_who_would_sign_the_seed_compensation(ref_db: Context) -> None:
    sales = uc.accounts.active_user(ref_db, "sales")
    assert sales is not None
    at, tab = _tab("zh")
    box = block(at, "expander", zh("admin.who_signs"))
    widget(box, "text_input", zh("appr.trial_total")).input("15000")
    widget(box, "selectbox", zh("appr.trial_proposer")).select(sales.id)
    widget(box, "button", zh("appr.trial")).click().run()
    no_exception(at)
    text = page_text(block(at, "expander", zh("admin.who_signs")))
    assert zh("rules.applies", rule=1, name="赔款：总经理审核、董事长批准",
              version=uc.authority.rule_set(ref_db).version) in text
    assert "1. **总经理** — 吴建国（总经理）" in text and "2. **董事长** — 郑卫东（董事长）" in text
