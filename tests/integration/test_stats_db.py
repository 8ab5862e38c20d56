"""Every Stats figure against hand-computed expectations on a small fixed data set, on the real
databases (SQLite file, PostgreSQL): the SQL aggregation is what is under test (docs/procedure.md
§9).

The data set (local time Asia/Shanghai; the period under test is October 2026, the period
before is September; "now" is 2026-11-10 10:00):

  no  received          customer  product  defect  sev  dept  6M       state        closed  wd
  1   10-05 10:00       甲        GJ-880   划伤     B    制造   man      closed       10-15   8
  2   10-10 10:00       甲        GJ-880   划伤     A    制造   machine  closed       10-30   14
  3   10-20 10:00       乙        GJ-880   划伤     B    涂装   -        root_cause (overdue)
  4   10-25 10:00       乙        LX-305   尺寸     C    -      -        registered
  5   10-28 10:00       乙        LX-305   尺寸     C    -      -        cancelled: never counted
  6   09-15 10:00       甲        GJ-880   尺寸     D    制造   method   closed       09-25   6
  7   10-31 23:30       甲        -        尺寸     B    -      -        registered (still October)
  8   11-01 00:30       甲        -        尺寸     A    -      -        registered (November)

Case 2 was sent back once; analyses of 1 and 2 were approved in October. Follow-ups: 1 scored 5
(10-16), 2 scored 3 (10-31). Cost lines: case 1 ¥1,000 (¥200 charged back, approved round),
case 2 ¥500 approved round 1 + ¥300 in round 2 still pending. Steps finished in October:
dispatch of 1 on time, of 2 late; reply of 1 on time.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotAllowed
from core.model import Department, Kind, Role, Severity, User
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from core.stats import Period, StatsFilter
from db.tables import (
    ApprovalStepRow,
    ComplaintRow,
    CostLineRow,
    CustomerRow,
    DefectTypeRow,
    AssistRow,
    DepartmentRow,
    EventRow,
    ProductRow,
    StepTimeRow,
    UserRow,
)
from db import rollups
from tests.integration.conftest import PASSWORD, engine_of
from core import usecases as uc

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 10, 10, 0, tzinfo=TZ)
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))


def commit(s: Session) -> None:
    """Data written behind the application's back: the Stats rollups are made again, as
    `manage.py rollups --rebuild` does (the application keeps them current itself)."""
    s.commit()
    rollups.rebuild(s)
    s.commit()


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


@dataclasses.dataclass
class Fixed:
    app: Context
    boss: User
    ids: dict[int, int]  # case no -> id
    c1: int
    c2: int
    d1: int
    d2: int
    p1: int
    p2: int

    def report(self, **kw: object):  # noqa: ANN201
        return uc.stats.stats(self.app, self.boss, StatsFilter(OCTOBER, **kw))  # type: ignore[arg-type]


@pytest.fixture
def fixed(make_app) -> Fixed:  # noqa: ANN001
    app = make_app(clock=lambda: NOW, migrate=True)
    admin = uc.accounts.create_first_admin(app, "admin", "管理员", PASSWORD)
    boss = uc.accounts.create_user(app, admin,
                                   UserInput("boss", "王五", frozenset({Role.MANAGEMENT}), None),
                                   PASSWORD)
    with Session(engine_of(app)) as s:
        c1, c2 = CustomerRow(name="甲公司"), CustomerRow(name="乙公司")
        d1 = DefectTypeRow(code="SCR", name_zh="外观划伤", name_en="Scratch")
        d2 = DefectTypeRow(code="DIM", name_zh="尺寸超差", name_en="Out of tolerance")
        p1 = DepartmentRow(code="MFG", name_zh="制造部", name_en="Manufacturing")
        p2 = DepartmentRow(code="PNT", name_zh="涂装部", name_en="Painting")
        s.add_all([c1, c2, d1, d2, p1, p2, ProductRow(code="GJ-880", name="精密轴承座")])
        s.flush()
        rows = {
            1: dict(received_at=at(10, 5), customer_id=c1.id, product_code="GJ-880",
                    defect_type_id=d1.id, severity="B", responsible_department_id=p1.id,
                    root_cause_6m="man", state="closed", closed_at=at(10, 15),
                    close_wd=Decimal("8"), satisfaction_score=5, followup_date=date(2026, 10, 16)),
            2: dict(received_at=at(10, 10), customer_id=c1.id, product_code="GJ-880",
                    defect_type_id=d1.id, severity="A", responsible_department_id=p1.id,
                    root_cause_6m="machine", state="closed", closed_at=at(10, 30),
                    close_wd=Decimal("14"), sent_back_count=1, satisfaction_score=3,
                    followup_date=date(2026, 10, 31)),
            3: dict(received_at=at(10, 20), customer_id=c2.id, product_code="GJ-880",
                    defect_type_id=d1.id, severity="B", responsible_department_id=p2.id,
                    state="root_cause", due_at=at(11, 1)),
            4: dict(received_at=at(10, 25), customer_id=c2.id, product_code="LX-305",
                    defect_type_id=d2.id, severity_proposed="C", state="registered",
                    due_at=at(11, 30)),
            5: dict(received_at=at(10, 28), customer_id=c2.id, product_code="LX-305",
                    defect_type_id=d2.id, severity_proposed="C", state="cancelled"),
            6: dict(received_at=at(9, 15), customer_id=c1.id, product_code="GJ-880",
                    defect_type_id=d2.id, severity="D", responsible_department_id=p1.id,
                    root_cause_6m="method", state="closed", closed_at=at(9, 25),
                    close_wd=Decimal("6")),
            7: dict(received_at=at(10, 31, 23, 30), customer_id=c1.id, defect_type_id=d2.id,
                    severity_proposed="B", state="registered"),
            8: dict(received_at=at(11, 1, 0, 30), customer_id=c1.id, defect_type_id=d2.id,
                    severity_proposed="A", state="registered"),
        }
        ids = {}
        for no, values in rows.items():
            r = ComplaintRow(number=f"KS2610-{no:03d}", channel="phone", received_by_id=boss.id,
                             kind="complaint", description=f"第{no}号客诉", **values)
            s.add(r)
            s.flush()
            ids[no] = r.id
        s.add_all(
            [
                EventRow(complaint_id=ids[1], at=at(10, 12), user_id=boss.id,
                         action="approve_capa"),
                EventRow(complaint_id=ids[2], at=at(10, 20), user_id=boss.id,
                         action="approve_capa"),
                EventRow(complaint_id=ids[6], at=at(9, 20), user_id=boss.id, action="approve_capa"),
                StepTimeRow(complaint_id=ids[1], step="dispatch", started_at=at(10, 5),
                            due_at=at(10, 5, 11), done_at=at(10, 5, 10, 30), on_time=True),
                StepTimeRow(complaint_id=ids[2], step="dispatch", started_at=at(10, 10),
                            due_at=at(10, 10, 11), done_at=at(10, 10, 15), on_time=False),
                StepTimeRow(complaint_id=ids[1], step="reply", started_at=at(10, 5),
                            due_at=at(10, 9), done_at=at(10, 8), on_time=True),
                StepTimeRow(complaint_id=ids[6], step="dispatch", started_at=at(9, 15),
                            due_at=at(9, 15, 11), done_at=at(9, 15, 10, 20), on_time=True),
                CostLineRow(complaint_id=ids[1], round=1, category="compensation",
                            amount=Decimal("1000.00"), department_id=p1.id, supplier="钢材厂",
                            charge_back=Decimal("200.00")),
                CostLineRow(complaint_id=ids[2], round=1, category="compensation",
                            amount=Decimal("500.00")),
                CostLineRow(complaint_id=ids[2], round=2, category="compensation",
                            amount=Decimal("300.00")),
                ApprovalStepRow(complaint_id=ids[1], round=1, seq=1, title="sales_manager",
                                status="approved"),
                ApprovalStepRow(complaint_id=ids[2], round=1, seq=1, title="sales_manager",
                                status="approved"),
                ApprovalStepRow(complaint_id=ids[2], round=2, seq=1, title="sales_manager",
                                status="pending"),
            ]
        )
        commit(s)
        return Fixed(app, boss, ids, c1.id, c2.id, d1.id, d2.id, p1.id, p2.id)


def test_headline_figures_of_october(fixed: Fixed) -> None:
    h = fixed.report().current
    assert (h.received, h.closed, h.open, h.overdue) == (5, 2, 3, 1)
    assert (h.avg_days, h.p90_days) == (Decimal("11.0"), Decimal("14.0"))
    assert (h.ftr_ok, h.ftr_total, h.ftr_rate) == (1, 2, Decimal("50.0"))
    assert (h.satisfaction, h.satisfaction_n) == (Decimal("4.00"), 2)
    assert (h.cost, h.charged_back) == (Decimal("1500.00"), Decimal("200.00"))


def test_the_period_before_is_september(fixed: Fixed) -> None:
    r = fixed.report()
    assert r.before == Period(date(2026, 9, 1), date(2026, 9, 30))
    p = r.previous
    assert (p.received, p.closed, p.avg_days, p.ftr_total, p.cost) == (
        1,
        1,
        Decimal("6.0"),
        1,
        Decimal("0.00"),
    )
    assert p.open == 0  # at the end of September case 6 was closed and nothing else received


def test_on_time_rate_per_step(fixed: Fixed) -> None:
    got = {o.step: (o.on_time, o.total, o.rate) for o in fixed.report().on_time}
    assert got == {"dispatch": (1, 2, Decimal("50.0")), "reply": (1, 1, Decimal("100.0"))}


def test_pareto_by_defect_type_sorted_with_cumulative_share(fixed: Fixed) -> None:
    bars = fixed.report().pareto["defect_type"]
    assert [(b.label_zh, b.label_en, b.count, b.cumulative) for b in bars] == [
        ("外观划伤", "Scratch", 3, Decimal("60.0")),
        ("尺寸超差", "Out of tolerance", 2, Decimal("100.0")),
    ]


def test_pareto_by_department_customer_product_and_6m(fixed: Fixed) -> None:
    p = fixed.report().pareto
    # the cases without a value are counted apart, not as a bar (issue #13)
    assert [(b.label_zh, b.count) for b in p["department"]] == [("制造部", 2), ("涂装部", 1)]
    assert [(b.label_zh, b.count) for b in p["customer"]] == [("甲公司", 3), ("乙公司", 2)]
    assert [(b.label_zh, b.count) for b in p["product"]] == [
        ("GJ-880 精密轴承座", 3),
        ("LX-305", 1),
    ]
    assert [(b.label_zh, b.label_en, b.count) for b in p["six_m"]] == [
        ("人", "Man", 1),
        ("机", "Machine", 1),
    ]
    assert fixed.report().unclassified == {"defect_type": 0, "six_m": 3, "department": 2,
                                           "customer": 0, "product": 1,
                                           "department_assist": 2}


def test_monthly_trend_by_severity_counts_local_months(fixed: Fixed) -> None:
    r = fixed.report()
    assert r.months[0] == "2025-11" and r.months[-1] == "2026-10"
    assert r.monthly == [
        ("2026-09", "D", 1),
        ("2026-10", "A", 1),
        ("2026-10", "B", 3),
        ("2026-10", "C", 1),
    ]


def test_ageing_of_open_cases_now(fixed: Fixed) -> None:
    # now 11-10 10:00: case 3 is 21 days old, 4 is 16, 7 and 8 are 9 days old
    assert fixed.report().ageing == [(8, "A", 1), (8, "B", 1), (15, "B", 1), (15, "C", 1)]


def test_recurrence_same_product_and_defect_three_times_in_30_days(fixed: Fixed) -> None:
    [rec] = fixed.report().recurrences
    assert (rec.product_code, rec.defect_type_id, rec.count) == ("GJ-880", fixed.d1, 3)
    assert rec.label_zh == "GJ-880 · 外观划伤"
    assert rec.last == at(10, 20).astimezone(timezone.utc)


def test_cost_by_department_and_month_counts_approved_rounds_only(fixed: Fixed) -> None:
    assert fixed.report().cost == [
        ("2026-10", str(fixed.p1), "制造部", "Manufacturing", Decimal("1500.00"))
    ]


def test_filters_narrow_every_figure(fixed: Fixed) -> None:
    assert fixed.report(customer_id=fixed.c2).current.received == 2
    assert fixed.report(severity=Severity.B).current.received == 3
    assert fixed.report(department_id=fixed.p1).current.received == 2
    assert fixed.report(product_code="gj-880").current.received == 3
    assert fixed.report(kind=Kind.INQUIRY).current.received == 0
    by_customer = fixed.report(customer_id=fixed.c2)
    assert [(b.label_zh, b.count) for b in by_customer.pareto["defect_type"]] == [
        ("外观划伤", 1),
        ("尺寸超差", 1),
    ]
    assert by_customer.current.cost == Decimal("0.00")


def test_click_through_lists_the_cases_behind_a_bar(fixed: Fixed) -> None:
    flt = StatsFilter(OCTOBER)
    rows, total = uc.stats.stats_cases(fixed.app, fixed.boss, flt, "defect_type", str(fixed.d1))
    assert total == 3 and {r.number for r in rows} == {"KS2610-001", "KS2610-002", "KS2610-003"}
    rows, total = uc.stats.stats_cases(fixed.app, fixed.boss, flt, "department", "")
    assert {r.number for r in rows} == {"KS2610-004", "KS2610-007"}
    rows, _ = uc.stats.stats_cases(fixed.app, fixed.boss, flt, "six_m", "man")
    assert [r.number for r in rows] == ["KS2610-001"]
    with pytest.raises(InvalidInput):
        uc.stats.stats_cases(fixed.app, fixed.boss, flt, "defect_type", "*others*")


def test_the_cache_version_moves_with_every_change(fixed: Fixed) -> None:
    before = uc.stats.stats_version(fixed.app)
    admin = uc.accounts.list_active_users(fixed.app)[0]
    uc.reference.save_reference(fixed.app, admin, Department(0, "X", "新部门", "New"))
    assert uc.stats.stats_version(fixed.app) == before  # reference data: no case changed
    with Session(engine_of(fixed.app)) as s:
        s.add(EventRow(complaint_id=fixed.ids[3], at=NOW, user_id=fixed.boss.id, action="edited"))
        commit(s)
    assert uc.stats.stats_version(fixed.app) > before


def test_an_admin_without_case_roles_may_not_see_stats(fixed: Fixed) -> None:
    admin = next(u for u in uc.accounts.list_active_users(fixed.app) if u.username == "admin")
    with pytest.raises(NotAllowed):
        uc.stats.stats(fixed.app, admin, StatsFilter(OCTOBER))


# ---------------------------------------------------------------- issue #13: Stats for the meeting


def test_invalid_complaints_are_counted_apart(fixed: Fixed) -> None:
    with Session(engine_of(fixed.app)) as s:
        s.execute(update(ComplaintRow).where(ComplaintRow.id.in_([fixed.ids[1], fixed.ids[4]]))
                  .values(validity="invalid"))
        s.execute(update(ComplaintRow).where(ComplaintRow.id == fixed.ids[2])
                  .values(validity="valid"))
        commit(s)
    h = fixed.report().current
    assert (h.received, h.invalid, h.received_valid) == (5, 2, 3)
    assert fixed.report().previous.invalid == 0


def test_overdue_is_compared_with_the_same_moment_of_the_month_before(fixed: Fixed) -> None:
    # October against September: 30 days before now (11-10 10:00) is 10-11 10:00; case 2,
    # due 10-10 noon and closed only on 10-30, was overdue then; case 3 is overdue now
    with Session(engine_of(fixed.app)) as s:
        s.execute(update(ComplaintRow).where(ComplaintRow.id == fixed.ids[2])
                  .values(due_at=at(10, 10, 12)))
        commit(s)
    r = fixed.report()
    assert r.overdue_before_at == at(10, 11)
    assert (r.current.overdue, r.previous.overdue) == (1, 1)
    with Session(engine_of(fixed.app)) as s:  # closed before that moment: not overdue then
        s.execute(update(ComplaintRow).where(ComplaintRow.id == fixed.ids[2])
                  .values(closed_at=at(10, 11, 9)))
        commit(s)
    assert fixed.report().previous.overdue == 0


def test_the_open_a_and_b_cases_for_the_meeting(fixed: Fixed) -> None:
    cases = fixed.report().meeting_cases
    # A first, then B by due time (none last); closed, C and cancelled cases are not listed
    assert [(m.number, m.severity, m.state) for m in cases] == [
        ("KS2610-008", "A", "registered"),
        ("KS2610-003", "B", "root_cause"),
        ("KS2610-007", "B", "registered"),
    ]
    three = cases[1]
    assert (three.customer, three.department_zh, three.department_en) == (
        "乙公司", "涂装部", "Painting")
    assert three.due_at == at(11, 1).astimezone(timezone.utc) and three.received_by == "王五"
    assert three.salesperson("en") == "王五"  # no English name given: the name there is
    with Session(engine_of(fixed.app)) as s:
        s.execute(update(UserRow).where(UserRow.id == fixed.boss.id)
                  .values(display_name_en="Wang Wu"))
        commit(s)
    three = fixed.report().meeting_cases[1]
    assert (three.salesperson("en"), three.salesperson("zh")) == ("Wang Wu", "王五")
    assert [m.number for m in fixed.report(customer_id=fixed.c2).meeting_cases] == [
        "KS2610-003"]


def test_departments_with_the_assisting_ones(fixed: Fixed) -> None:
    with Session(engine_of(fixed.app)) as s:
        s.add_all([
            AssistRow(complaint_id=fixed.ids[3], department_id=fixed.p1, ask="帮忙",
                      by_id=fixed.boss.id, at=at(10, 21)),
            AssistRow(complaint_id=fixed.ids[4], department_id=fixed.p2, ask="帮忙",
                      by_id=fixed.boss.id, at=at(10, 26)),
            # taken off: not counted
            AssistRow(complaint_id=fixed.ids[1], department_id=fixed.p2, ask="帮忙",
                      by_id=fixed.boss.id, at=at(10, 6), ended_at=at(10, 7)),
        ])
        commit(s)
    r = fixed.report()
    assert [(b.label_zh, b.count) for b in r.pareto["department_assist"]] == [
        ("制造部", 3), ("涂装部", 2)]
    assert r.unclassified["department_assist"] == 1  # case 7: no department, nobody helping
    assert [(b.label_zh, b.count) for b in r.pareto["department"]] == [
        ("制造部", 2), ("涂装部", 1)]  # the lead department only, as before
    rows, n = uc.stats.stats_cases(fixed.app, fixed.boss, StatsFilter(OCTOBER),
                                   "department_assist", str(fixed.p1))
    assert n == 3 and sorted(r.number for r in rows) == ["KS2610-001", "KS2610-002",
                                                          "KS2610-003"]
    rows, n = uc.stats.stats_cases(fixed.app, fixed.boss, StatsFilter(OCTOBER),
                                   "department_assist", "")
    assert [r.number for r in rows] == ["KS2610-007"]


def test_the_periods_cases_for_the_summary(fixed: Fixed) -> None:
    rows = uc.stats.period_cases(fixed.app, fixed.boss, StatsFilter(OCTOBER))
    assert [r.number for r in rows] == ["KS2610-001", "KS2610-002", "KS2610-003",
                                        "KS2610-004", "KS2610-007"]  # not the cancelled 5
    rows = uc.stats.period_cases(fixed.app, fixed.boss,
                                 StatsFilter(Period(date(2026, 10, 1), date(2026, 12, 31)),
                                             customer_id=fixed.c1))
    assert [r.number for r in rows] == ["KS2610-001", "KS2610-002", "KS2610-007",
                                        "KS2610-008"]
