"""What each action leaves for Stats: the timed steps it finished (on time or late) and, once a
case closes, its working days to close (docs/procedure.md §7, §9)."""
from __future__ import annotations
# ruff: noqa: F811  (the fixture `w` comes from test_lifecycle)

from dataclasses import replace
from decimal import Decimal

from core.model import Satisfaction, State, StepTime
from tests.unit.test_lifecycle import World, drive, log, w  # noqa: F401
from core import usecases as uc


def steps(w: World, cid: int) -> list[StepTime]:
    with w.db() as uow:
        return [s for s in uow.records.where(StepTime) if s.complaint_id == cid]


def test_dispatch_within_the_working_hour_is_recorded_on_time(w: World) -> None:
    case = log(w)
    w.clock.advance(minutes=30)
    case.do("dispatch", w.sales)
    [done] = steps(w, case.id)
    assert (done.step, done.on_time) == ("dispatch", True)
    assert done.done_at == w.clock() and done.due_at is not None and done.due_at > w.clock()


def test_dispatch_two_days_late_is_recorded_late(w: World) -> None:
    case = log(w)
    w.clock.advance(days=2)
    case.do("dispatch", w.sales)
    [done] = steps(w, case.id)
    assert done.step == "dispatch" and not done.on_time


def test_a_closed_case_records_every_step_once_and_its_working_days_to_close(w: World) -> None:
    case = drive(w, State.CLOSED)
    names = sorted(s.step for s in steps(w, case.id))
    assert names == ["acknowledge", "dispatch", "investigation", "reply"]
    assert case.c.close_wd is not None and case.c.close_wd >= Decimal("0")


def test_working_days_to_close_count_only_working_time(w: World) -> None:
    case = drive(w, State.FOLLOW_UP)
    w.clock.advance(days=7)  # a whole week later: 5 working days more, the weekend not
    before = case.c
    case.do("follow_up", w.sales, day=w.clock().date(), contact="张三", score=5,
            satisfaction=Satisfaction.SATISFIED, notes="")
    closed = case.c
    assert closed.state == State.CLOSED and closed.close_wd is not None
    worked = uc.context.calendar(w.kesu).working_time_between(before.received_at, closed.closed_at
                                                              or w.clock())
    assert closed.close_wd == (Decimal(worked.total_seconds()) / 3600
                               / Decimal(str(uc.context.calendar(w.kesu).hours_per_day))).quantize(
        Decimal("0.01"))
    assert closed.close_wd >= Decimal("5")


def test_reopening_a_closed_case_clears_its_days_to_close(w: World) -> None:
    case = drive(w, State.CLOSED)
    case.do("reopen", w.qa, "同样问题再次发生")
    assert case.c.close_wd is None


def test_cancelling_does_not_count_the_open_steps_as_done(w: World) -> None:
    case = log(w)
    w.clock.advance(minutes=10)
    case.do("cancel", w.sales, "客户撤回")
    assert steps(w, case.id) == []


def test_closed_cases_without_days_to_close_are_filled_once(w: World) -> None:
    case = drive(w, State.CLOSED)
    with w.db(write=True) as uow:
        c = uow.complaints.get(case.id)
        assert c is not None
        uow.complaints.save(replace(c, close_wd=None), c.version)
        uow.commit()
    version = case.c.version
    assert uc.timing.fill_close_days(w.kesu) == 1
    assert case.c.close_wd is not None and case.c.version == version
    assert uc.timing.fill_close_days(w.kesu) == 0
