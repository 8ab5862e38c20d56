"""Admin → Settings: "who would sign?" tries the approval matrix (issue #12 item 2's tester):
the steps of a round as it would be planned now, and who could sign each — in English here."""
from __future__ import annotations

from core import usecases as uc
from core.usecases.context import Context
from tests.app.helpers import block, en, no_exception, open_page, page_text, values, widget


def test_the_general_manager_as_proposer_shows_the_chairman_signing_and_why(
        ref_db: Context) -> None:
    gm = uc.accounts.active_user(ref_db, "gm")
    assert gm is not None
    at = open_page("pages/admin.py", "admin", "en")
    box = block(at, "expander", en("admin.who_signs"))
    widget(box, "text_input", en("appr.trial_total")).input("8000")
    widget(box, "selectbox", en("appr.trial_proposer")).select(gm.id)
    widget(box, "button", en("appr.trial")).click().run()
    no_exception(at)
    text = page_text(block(at, "expander", en("admin.who_signs")))
    assert "周杰（营销经理）" in text and "郑卫东（董事长）" in text
    assert "吴建国（总经理）" not in text  # the proposer signs nothing
    assert en("appr.moved.proposer", titles=en("title.general_manager"),
              title=en("title.chairman")) in values(at, "caption")


def test_a_bad_total_is_said_in_words(ref_db: Context) -> None:
    at = open_page("pages/admin.py", "admin", "en")
    box = block(at, "expander", en("admin.who_signs"))
    widget(box, "text_input", en("appr.trial_total")).input("lots")
    widget(box, "button", en("appr.trial")).click().run()
    no_exception(at)
    assert values(at, "error") == [en("err.amount", field="amount")]
