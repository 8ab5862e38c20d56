"""The approval card tells the approver enough (issue #12 item 4): the claim, the offer, the
internal cost, earlier signers' decisions and comments, and why a step moved up — in both
languages, on the card the Approve page draws."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core.usecases.context import Context
from tests.app.helpers import en, no_exception, page_text, zh


def _card(lang: str) -> None:
    """ui/approve.py's card for a made-up case: the GM proposed; the chairman signs for the GM
    step after the sales manager (via a deputy) approved, in a second round after a rejection."""
    from datetime import datetime, timezone
    from decimal import Decimal

    import streamlit as st

    from core.model import (ApprovalStep, Channel, Complaint, CostCategory, CostLine,
                            Disposition, DispositionType, Kind, StepStatus, Title)
    from core.usecases.approve_queue import ApprovalCard
    from ui.approve import card
    from core.model import Role, User

    st.session_state["lang"] = lang
    at = datetime(2026, 12, 7, 1, 30, tzinfo=timezone.utc)
    c = Complaint(7, "KS2612-0007", at, Channel.PHONE, 1, Kind.COMPLAINT, 3, "划伤",
                  claimed_amount=Decimal("12000"), approval_round=2)
    rejected = ApprovalStep(1, 7, 1, 1, Title.SALES_MANAGER, StepStatus.REJECTED, 5, None, at,
                            "金额太高")
    signed = ApprovalStep(2, 7, 2, 1, Title.SALES_MANAGER, StepStatus.APPROVED, 6, 5, at,
                          "同意")
    step = ApprovalStep(3, 7, 2, 2, Title.CHAIRMAN, moved_from="general_manager",
                        moved_why="proposer")
    me = User(9, "chairman", "郑董", frozenset({Role.MANAGEMENT}), None,
              frozenset({Title.CHAIRMAN}))
    card(me, ApprovalCard(
        c, "上海甲公司", step, [signed, step],
        [Disposition(1, 7, 2, DispositionType.COMPENSATION, None, Decimal("8000"))],
        [CostLine(1, 7, 2, CostCategory.COMPENSATION, Decimal("8000"), 3, "供应商乙",
                  Decimal("3000"))],
        Decimal("8000"), "吴总", "模具磨损", [], "",
        ((rejected, "周杰", ""), (signed, "李副", "周杰"))))


@pytest.mark.parametrize("lang, tx", [("zh", zh), ("en", en)])
def test_the_card_shows_claim_cost_earlier_signers_and_why_the_step_moved(
        ref_db: Context, lang: str, tx: Callable[..., str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    monkeypatch.setattr(st, "page_link", lambda *a, **k: None)  # no navigation in a lone card
    at = AppTest.from_function(_card, args=(lang,), default_timeout=30).run()
    no_exception(at)
    text = page_text(at)
    say = tx
    assert say("appr.claimed", amount="12,000.00") in text
    assert say("appr.internal_cost", amount="8,000.00") in text
    # the titles' names as Admin → Approval authority defines them (the demo's)
    gm, chair, sm = {"zh": ("总经理", "董事长", "营销经理"),
                     "en": ("General manager", "Chairman", "Sales manager")}[lang]
    assert say("appr.moved.proposer", titles=gm, title=chair) in text
    assert say("appr.decided.rejected", title=sm, name="周杰",
               at="2026-12-07 09:30") + " — 金额太高" in text
    assert "李副" in text and say("appr.for", name="周杰") in text
