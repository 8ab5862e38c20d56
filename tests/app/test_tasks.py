"""pages/tasks.py (My Tasks): what waits for me, counted per kind, kept current as cases move.

The page keeps each user's last list and re-reads only the cases changed since (one event is
enough): a case logged or moved by someone else shows on the next run, not a minute later.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.model import Channel, Kind, Request, Severity, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.app.helpers import en, no_exception, open_page, page_text, values, zh
from core import usecases as uc

CUSTOMER = "苏州恒信精密机械有限公司"


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _dispatched(app: Context, lot: str) -> tuple[int, str]:
    sales = _user(app, "sales")
    cust = next(c.id for c in uc.reference.customers(app) if c.name == CUSTOMER)
    defect = next(d.id for d in uc.reference.defect_types(app) if d.code == "DIM")
    case = uc.complaints.register_complaint(app, sales, ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.EMAIL,
        description=f"轴承座内孔尺寸超差（批次 {lot}）", product_code="GJ-880",
        product_name="精密轴承座", order_no="SO-4711", lot=lot, delivered_qty=500,
        defective_qty=12, defect_type_id=defect, request=Request.REWORK,
        severity_proposed=Severity.B))
    assert case.id is not None
    uc.investigation.dispatch(app, sales, case.id, case.version)
    return case.id, case.number


def _tasks_page(username: str, lang: str = "zh") -> AppTest:
    return open_page("pages/tasks.py", username, lang)


def test_nothing_waiting_says_so(ref_db: Context) -> None:
    at = _tasks_page("qa")
    assert values(at, "info") == [zh("tasks.empty")]
    at = _tasks_page("qa", "en")
    assert values(at, "info") == [en("tasks.empty")]


def test_a_case_dispatched_meanwhile_shows_at_once_and_leaves_when_taken(ref_db: Context) -> None:
    first, first_no = _dispatched(ref_db, "L-1")
    at = _tasks_page("qa")
    assert values(at, "caption")[0] == zh("tasks.total", n=1)
    assert first_no in page_text(at)

    second, second_no = _dispatched(ref_db, "L-2")  # by sales, while QA's page is open
    at.run()
    no_exception(at)
    assert values(at, "caption")[0] == zh("tasks.total", n=2)
    assert second_no in page_text(at)

    qa = _user(ref_db, "qa")
    uc.investigation.acknowledge(ref_db, qa, first,
                                 uc.complaints.complaint(ref_db, qa, first).complaint.version)
    at.run()
    no_exception(at)
    # still QA's: the next step of the first case is the classification
    assert values(at, "caption")[0] == zh("tasks.total", n=2)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {zh("task.acknowledge"): "1", zh("task.classify_valid"): "1"}

    uc.closure.cancel(ref_db, _user(ref_db, "manager"), second,
                      uc.complaints.complaint(ref_db, qa, second).complaint.version, "客户撤回")
    at.run()
    assert values(at, "caption")[0] == zh("tasks.total", n=1)
    assert second_no not in page_text(at)


def test_more_tasks_than_listed_shows_the_most_urgent_and_says_of_how_many(
        ref_db: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the first tasks are listed (decision 0014); the page says so, with the count."""
    for i in range(5):
        _dispatched(ref_db, f"L-{i}")
    monkeypatch.setattr(uc.task_pages, "TASKS_SHOWN", 3)
    monkeypatch.setattr(uc.task_pages, "SPARE", 0)  # no task read beyond the list
    qa = _user(ref_db, "qa")
    full = uc.worklists.tasks(ref_db, qa)
    assert len(full) == 5
    first = uc.task_pages.first_tasks(ref_db, qa)
    assert not first.complete and first.total == 5
    at = _tasks_page("qa")
    no_exception(at)
    assert values(at, "caption")[0] == zh("tasks.first_of", shown="3", total=f"{first.total:,}")
    text = page_text(at)
    assert all(t.number in text for t in full[:3])  # the three most urgent
    assert not any(t.number in text for t in full[3:] if t.complaint_id not in
                   {x.complaint_id for x in full[:3]})
    # the counts are estimates: "约"
    assert [m.value for m in at.metric] == [zh("tasks.about", n="5")]
    at = _tasks_page("qa", "en")
    assert values(at, "caption")[0] == en("tasks.first_of", shown="3", total=f"{first.total:,}")


def test_the_kinds_come_in_the_order_of_their_most_urgent_task(ref_db: Context) -> None:
    qa = _user(ref_db, "qa")
    for lot in ("L-7", "L-8"):  # two classifications: 3 working days from QA's signature
        cid, _ = _dispatched(ref_db, lot)
        uc.investigation.acknowledge(ref_db, qa, cid,
                                     uc.complaints.complaint(ref_db, qa, cid).complaint.version)
    _dispatched(ref_db, "L-9")  # one signature (签收): due in 4 working hours
    for lang, tx in (("zh", zh), ("en", en)):
        at = _tasks_page("qa", lang)
        no_exception(at)
        # the signature first though it is one against two: it is due first
        assert [h.value for h in at.subheader] == [f"{tx('task.acknowledge')} (1)",
                                                   f"{tx('task.classify_valid')} (2)"]
        assert [m.label for m in at.metric] == [tx("task.acknowledge"),
                                                tx("task.classify_valid")]


def test_more_tasks_than_listed_all_read_says_the_exact_count(
        ref_db: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every task was read (a few beyond the list): the count is exact, without "约"."""
    for i in range(5):
        _dispatched(ref_db, f"L-{i}")
    monkeypatch.setattr(uc.task_pages, "TASKS_SHOWN", 3)
    qa = _user(ref_db, "qa")
    first = uc.task_pages.first_tasks(ref_db, qa)
    assert first.complete and len(first.items) == 3 and first.total == 5
    at = _tasks_page("qa")
    no_exception(at)
    assert values(at, "caption")[0] == "显示最紧急的前 3 项，共 5 项待办"
    assert [m.value for m in at.metric] == ["5"]
    at = _tasks_page("qa", "en")
    assert values(at, "caption")[0] == "Showing the 3 most urgent of 5 tasks"
