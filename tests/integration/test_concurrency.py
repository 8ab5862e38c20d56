"""Concurrency on the real database: unique gap-free numbers, no lost update.

Every worker thread has its own application instance, hence its own engine and connections,
as separate app processes behind one database would.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text

from core.errors import StaleCase
from core.model import Complaint
from core.rules.numbering import parse_number
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.integration.conftest import World, engine_of
from core import usecases as uc


def _run_together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) in n threads released at the same moment; results or exceptions."""
    barrier = threading.Barrier(n)

    def go(i: int) -> Any:
        barrier.wait(timeout=30)
        try:
            return work(i)
        except Exception as e:  # noqa: BLE001 - returned for the test to inspect
            return e

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


@pytest.mark.parametrize("threads, each", [(2, 20), (8, 20)])
def test_concurrent_registration_numbers_are_unique_and_gap_free(
        app: Context, world: World, draft: Callable[..., ComplaintDraft],
        make_app: Callable[..., Context], threads: int, each: int) -> None:
    apps = [make_app() for _ in range(threads)]

    def work(i: int) -> list[str]:
        return [
            uc.complaints.register_complaint(apps[i], world.sales, draft(lot=f"T{i}-{k}")).number
            for k in range(each)
        ]

    results = _run_together(threads, work)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    numbers = [n for r in results for n in r]
    assert len(numbers) == len(set(numbers)) == threads * each
    parsed = [parse_number(n) for n in numbers]
    assert {p[0] for p in parsed if p} == {"2603"}
    assert sorted(p[1] for p in parsed if p) == list(range(1, threads * each + 1))
    with engine_of(app).connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM complaints")) == threads * each
        assert (
            conn.scalar(text("SELECT last_serial FROM number_counters WHERE period = '2603'"))
            == threads * each
        )
    # each thread's own numbers rise in the order it registered them
    for r in results:
        serials = [parse_number(n)[1] for n in r]  # type: ignore[index]
        assert serials == sorted(serials)


def _two_readers(app: Context, world: World, draft: Callable[..., ComplaintDraft],
                 make_app: Callable[..., Context]) -> tuple[Complaint, Context, Context]:
    made = uc.complaints.register_complaint(app, world.sales, draft(lot="L1"))
    return made, make_app(), make_app()


def test_two_editors_of_one_version_one_wins_the_other_is_told_who(
    app: Context,
    world: World,
    draft: Callable[..., ComplaintDraft],
    make_app: Callable[..., Context],
) -> None:
    made, qa_app, boss_app = _two_readers(app, world, draft, make_app)
    seen_by_qa = uc.complaints.complaint(qa_app, world.qa, made.id or 0).complaint
    seen_by_boss = uc.complaints.complaint(boss_app, world.manager, made.id or 0).complaint
    assert seen_by_qa.version == seen_by_boss.version == 1

    won = uc.complaints.update_complaint(qa_app, world.qa, made.id or 0, seen_by_qa.version,
                                         draft(lot="L2"), "QA 更正")
    with pytest.raises(StaleCase) as info:
        uc.complaints.update_complaint(boss_app, world.manager, made.id or 0, seen_by_boss.version,
                                       draft(lot="L3"), "经理更正")
    assert info.value.params["who"] == "李四"
    assert info.value.params["at"] == won.updated_at

    now = uc.complaints.complaint(app, world.sales, made.id or 0)
    assert now.complaint.lot == "L2" and now.complaint.version == 2
    assert [e.action for e in now.events] == ["registered", "edited"]  # nothing half-saved
    # with the fresh version the second editor succeeds
    uc.complaints.update_complaint(boss_app, world.manager, made.id or 0, now.complaint.version,
                                   draft(lot="L3"))
    assert uc.complaints.complaint(app, world.sales, made.id or 0).complaint.version == 3


def test_the_same_edit_by_two_editors_still_reports_the_stale_case(
    app: Context,
    world: World,
    draft: Callable[..., ComplaintDraft],
    make_app: Callable[..., Context],
) -> None:
    """The loser must hear that the case changed, not that their edit changed nothing."""
    made, qa_app, boss_app = _two_readers(app, world, draft, make_app)
    uc.complaints.update_complaint(qa_app, world.qa, made.id or 0, 1, draft(lot="L2"))
    with pytest.raises(StaleCase):
        uc.complaints.update_complaint(boss_app, world.manager, made.id or 0, 1, draft(lot="L2"))


def test_stale_cancel_is_refused(app: Context, world: World, draft: Callable[..., ComplaintDraft],
                                 make_app: Callable[..., Context]) -> None:
    made, qa_app, boss_app = _two_readers(app, world, draft, make_app)
    uc.complaints.update_complaint(qa_app, world.qa, made.id or 0, 1, draft(lot="L2"))
    with pytest.raises(StaleCase) as info:
        uc.complaints.cancel_complaint(boss_app, world.manager, made.id or 0, 1, "重复")
    assert info.value.params["who"] == "李四"
    assert uc.complaints.complaint(app, world.sales, made.id or 0).complaint.state.is_open


@pytest.mark.parametrize("editors", [2, 6])
def test_simultaneous_edits_of_one_version_exactly_one_succeeds(
    app: Context,
    world: World,
    draft: Callable[..., ComplaintDraft],
    make_app: Callable[..., Context],
    editors: int,
) -> None:
    made = uc.complaints.register_complaint(app, world.sales, draft(lot="L1"))
    apps = [make_app() for _ in range(editors)]
    users = [world.qa, world.manager, world.sales]

    def work(i: int) -> Complaint:
        return uc.complaints.update_complaint(apps[i], users[i % 3], made.id or 0, 1,
                                              draft(lot=f"by-{i}"), f"editor {i}")

    results = _run_together(editors, work)
    winners = [r for r in results if isinstance(r, Complaint)]
    losers = [r for r in results if not isinstance(r, Complaint)]
    assert len(winners) == 1, results
    assert len(losers) == editors - 1 and all(isinstance(e, StaleCase) for e in losers), losers
    final = uc.complaints.complaint(app, world.sales, made.id or 0)
    assert final.complaint.version == 2 and final.complaint.lot == winners[0].lot
    assert final.complaint == winners[0]
    assert all(e.params["who"] == final.events[-1].user_name for e in losers)
    assert [e.action for e in final.events] == ["registered", "edited"]
