"""Small things seen walking the demo in Chromium (zh and en): the Complaint page marks a
withdrawn CAPA action as withdrawn (not open) and the English marks are words, not codes; the
English rule editor does not call two things Position; the payment form is empty again after
an instalment is recorded."""
from __future__ import annotations

import pytest

from datetime import timedelta

from core import usecases as uc
from core.model import CapaType
from core.usecases.context import Context
from tests.app.helpers import en, no_exception, open_case_tab, values, zh
from tests.app.test_forms_keep_values import _investigating, _open, _today, _user
from tests.app.test_payments import _implementing
from tests.app.test_payments import _open as _open_payments


def test_the_complaint_page_marks_open_and_withdrawn_capa_actions_apart(ref_db: Context) -> None:
    cid = _investigating(ref_db)
    qa, prod = _user(ref_db, "qa"), _user(ref_db, "prod")
    due = _today() + timedelta(days=10)
    uc.investigation.add_capa(ref_db, qa, cid, CapaType.CORRECTIVE, "更换夹具", prod.id, due)
    uc.investigation.add_capa(ref_db, qa, cid, CapaType.PREVENTIVE, "点检表加定位销", prod.id, due)
    first = uc.complaints.case_file(ref_db, qa, cid).capa[0]
    assert first.id is not None
    uc.investigation.withdraw_capa(ref_db, qa, first.id, "由工程部的对策取代")

    at = _open("pages/complaint.py", "qa", cid)
    shown = values(open_case_tab(at, "case.records"), "text")
    assert any(s.startswith(f"[{zh('capa.withdrawn')}]") and "更换夹具" in s for s in shown)
    assert any(s.startswith(f"[{zh('capa.open')}]") and "点检表加定位销" in s for s in shown)
    assert not any(s.startswith(f"[{zh('capa.open')}]") and "更换夹具" in s for s in shown)


def test_english_capa_marks_are_words() -> None:
    assert (en("capa.open"), en("capa.done"), en("capa.withdrawn")) == ("Open", "Done", "Withdrawn")


def test_the_rule_editor_does_not_call_two_different_things_position() -> None:
    """The steps' title column and the rule's place in the list are on one English form."""
    assert en("field.title") == "Title"
    assert en("rules.position") == "Place in the list"


def test_finance_is_told_it_may_record_the_payment_not_that_nothing_is_to_do(
        demo_db: Context) -> None:
    """Seen in Chromium: 没有需要你做的 above the payment form of a compensation waiting for
    its payment."""
    cid = _implementing(demo_db)
    for lang, text in (("zh", zh), ("en", en)):
        at = _open_payments(cid, lang)
        assert (f"➡ {text('action.record_payment')} · {text('case.pay_below')}"
                in values(at, "markdown"))
        assert text("case.no_actions") not in values(at, "caption")


def test_a_time_left_or_overdue_reads_without_a_bare_point_zero(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """My Tasks said 已逾期 110.0 工作日; a fraction stays (3.6), a whole number is whole."""
    from datetime import timedelta as td
    from types import SimpleNamespace
    from typing import Any, cast

    import ui.context
    from ui.due import left_text

    # the reader's language, whatever an earlier test left in the bare session state
    monkeypatch.setattr(ui.context, "lang", lambda: "zh")
    cal = cast(Any, SimpleNamespace(hours_per_day=8))
    assert left_text(td(hours=-880), cal) == zh("due.overdue_by", amount="110",
                                                unit=zh("due.working_days"))
    assert left_text(td(hours=-28.8), cal) == zh("due.overdue_by", amount="3.6",
                                                 unit=zh("due.working_days"))
    assert left_text(td(hours=72), cal, clock_hours=True) == zh("due.left", amount="3",
                                                                unit=zh("due.days"))


def test_time_limits_of_every_severity_say_so_and_save_unchanged(ref_db: Context) -> None:
    """Admin → Calendar: the limits of every severity showed "*" in the severity column."""
    from tests.app.helpers import open_page, open_tab

    before = uc.timing.sla_limits(ref_db)
    assert any("*" in by_sev for by_sev in before.values())
    for lang, tx in (("zh", zh), ("en", en)):
        at = open_page("pages/admin.py", "admin", lang)
        tab = open_tab(at, "admin_tab", tx("admin.calendar"))
        table = tab.dataframe[0].value
        severities = set(table["sev"])  # the column shown as 等级 / Severity
        assert "*" not in severities and tx("rules.any") in severities
        at.button(key="save_sla").click().run()
        no_exception(at)
        assert tx("admin.settings_saved") in values(at, "success")
        assert uc.timing.sla_limits(ref_db) == before
