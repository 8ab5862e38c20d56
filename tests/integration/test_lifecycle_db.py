"""The lifecycle on the real databases (SQLite file, PostgreSQL): the happy path end to end with
every record round-tripped, two app instances signing one approval step at once, and
migration 0002 keeping the complaints logged under 0001."""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from core.errors import InvalidInput, StaleCase
from core.usecases.approval import CostInput
from core.usecases.approval import DispositionInput
from core.model import (
    Assessment, CapaType, Category, Complaint, ContainmentType, CostCategory, Department,
    DispositionType, Lang, ReplyMethod, Role, Satisfaction, Severity, SixM, State, StepStatus,
    Title, User, Validity,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from db.engine import ROOT, make_engine
from tests.integration.conftest import NOW, PASSWORD, World
from core import usecases as uc

TODAY = date(2026, 3, 15)  # NOW in Shanghai


@dataclasses.dataclass
class Crew:
    """The people of the happy path, on top of conftest's world."""

    prod: User
    finance: User
    sm: User
    sm2: User
    gm: User
    press: int


@pytest.fixture
def crew(app: Context, world: World) -> Crew:
    press = uc.reference.save_reference(app, world.admin,
                                        Department(0, "MFG", "制造部", "Manufacturing"))

    def user(name: str, display: str, role: Role, **kw: Any) -> User:
        return uc.accounts.create_user(app, world.admin,
                                       UserInput(name, display, frozenset({role}), **kw), PASSWORD)

    return Crew(prod=user("prod1", "赵六", Role.PRODUCTION, department_id=press),
                finance=user("fin1", "钱七", Role.FINANCE),
                sm=user("sm1", "孙经理", Role.MANAGEMENT, titles=frozenset({Title.SALES_MANAGER})),
                sm2=user("sm2", "周经理", Role.MANAGEMENT, titles=frozenset({Title.SALES_MANAGER})),
                gm=user("gm1", "吴总", Role.MANAGEMENT, titles=frozenset({Title.GENERAL_MANAGER})),
                press=press)


def version(app: Context, world: World, cid: int) -> int:
    return uc.complaints.case_file(app, world.admin, cid).complaint.version


def to_pending_approval(app: Context, world: World, crew: Crew, draft: ComplaintDraft) -> int:
    """A complaint taken to `pending_approval` with an 8,000 CNY compensation."""
    cid = uc.complaints.register_complaint(app, world.sales, draft).id or 0
    v = lambda: version(app, world, cid)  # noqa: E731 - read the version before each act
    uc.investigation.dispatch(app, world.sales, cid, v())
    uc.investigation.acknowledge(app, world.qa, cid, v())
    uc.investigation.classify(app, world.qa, cid, v(), Validity.VALID, Category.QUALITY, Severity.B,
                              crew.press)
    uc.investigation.save_analysis(app, crew.prod, cid, v(), prod_lot="L1", six_m=SixM.MACHINE,
                                   root_cause="夹具磨损")
    uc.investigation.add_capa(app, crew.prod, cid, CapaType.CORRECTIVE, "更换夹具", crew.prod.id,
                              TODAY + timedelta(days=7))
    uc.investigation.submit_analysis(app, crew.prod, cid, v())
    uc.investigation.approve_capa(app, world.qa, cid, v())
    uc.approval.set_dispositions(app, world.sales, cid, v(),
                                 [DispositionInput(DispositionType.COMPENSATION, None, "8000")])
    uc.approval.propose(app, world.sales, cid, v(), "客户接受")
    return cid


# ---------------------------------------------------------------- the happy path end to end


def test_happy_path_end_to_end_with_every_record_round_tripped(
    app: Context,
    world: World,
    crew: Crew,
    draft: Callable[..., ComplaintDraft],
    make_app: Callable[..., Context],
) -> None:
    sales, qa, prod, fin = world.sales, world.qa, crew.prod, crew.finance
    cid = (
        uc.complaints.register_complaint(
            app, sales, draft(claimed_amount="8000", severity_proposed=Severity.B)
        ).id
        or 0
    )
    v = lambda: version(app, world, cid)  # noqa: E731
    uc.investigation.dispatch(app, sales, cid, v())
    uc.investigation.acknowledge(app, qa, cid, v())
    uc.investigation.add_containment(app, qa, cid, ContainmentType.QUARANTINE, 1200,
                                     "库存隔离 1200 件")
    uc.investigation.classify(app, qa, cid, v(), Validity.VALID, Category.QUALITY, Severity.B,
                              crew.press)
    uc.investigation.save_analysis(app, prod, cid, v(), prod_line="3 号线", prod_shift="夜班",
                                   prod_machine="冲床 7", prod_operator="张工",
                                   prod_date=date(2026, 2, 27), prod_lot="L2602B",
                                   whys=["夹具磨损", "无点检"], six_m=SixM.MACHINE,
                                   root_cause="夹具未纳入点检")
    uc.investigation.add_capa(app, prod, cid, CapaType.CORRECTIVE, "更换夹具", prod.id,
                              date(2026, 3, 20))
    uc.meetings.add_meeting(app, sales, cid, TODAY, [sales.id, qa.id, prod.id, crew.gm.id],
                            "成立小组", [("夹具纳入点检表", qa.id, date(2026, 3, 31))])
    uc.investigation.submit_analysis(app, prod, cid, v())
    uc.investigation.send_back(app, qa, cid, v(), "5 Why 不完整")
    uc.investigation.submit_analysis(app, prod, cid, v(), "已补充")
    uc.investigation.approve_capa(app, qa, cid, v())
    uc.approval.set_dispositions(
        app,
        sales,
        cid,
        v(),
        [DispositionInput(DispositionType.COMPENSATION, None, "8,000.00")],
        [
            CostInput(CostCategory.COMPENSATION, "8000", crew.press),
            CostInput(CostCategory.FREIGHT, "123.45", crew.press, "顺丰", "123.45"),
        ],
    )
    uc.approval.propose(app, sales, cid, v(), "客户同意 8,000 元")
    uc.approval.approve_step(app, crew.sm, cid, v(), "同意")
    uc.approval.approve_step(app, crew.gm, cid, v(), "同意")
    uc.closure.reply(app, sales, cid, v(), TODAY, ReplyMethod.REPORT_8D, "8D 报告已发送")
    case = uc.complaints.case_file(app, world.admin, cid)
    owners = {qa.id: qa, prod.id: prod}
    for a in case.capa:
        uc.investigation.complete_capa(app, owners[a.owner_id], a.id or 0, "照片与记录")
    uc.closure.record_execution(
        app, fin, case.current(case.dispositions)[0].id or 0, None, "转账 #88"
    )
    uc.closure.complete(app, prod, cid, v())
    uc.closure.verify(app, qa, cid, v(), True, "三批无重复")
    assessment_id = uc.meetings.add_assessment(app, world.manager, cid, "张工", "deduction",
                                               "200.50")
    last = uc.closure.follow_up(app, sales, cid, v(), day=TODAY, contact="王经理", score=5,
                                satisfaction=Satisfaction.SATISFIED, lessons="点检标准化",
                                standard_doc="WI-012")

    # read everything back through another instance: nothing may come from a cache
    other = make_app()
    got = uc.complaints.case_file(other, world.manager, cid)
    c = got.complaint
    assert c == last  # every complaint field, by value
    assert (c.state, c.severity, c.validity, c.root_cause_6m, c.reply_method, c.satisfaction) == (
        State.CLOSED,
        Severity.B,
        Validity.VALID,
        SixM.MACHINE,
        ReplyMethod.REPORT_8D,
        Satisfaction.SATISFIED,
    )
    assert type(c.severity) is Severity and type(c.satisfaction) is Satisfaction
    assert (c.prod_date, c.reply_date, c.followup_date) == (date(2026, 2, 27), TODAY, TODAY)
    assert c.closed_at == NOW and c.closed_at.tzinfo is not None
    assert (c.sent_back_count, c.proposer_id, c.approval_round) == (1, sales.id, 0)
    assert c.root_cause_whys == "夹具磨损\n无点检"

    [d] = got.current(got.dispositions)
    assert (d.type, d.amount, d.done, d.done_by_id, d.done_note, d.done_at) == (
        DispositionType.COMPENSATION,
        Decimal("8000.00"),
        True,
        fin.id,
        "转账 #88",
        NOW,
    )
    assert isinstance(d.amount, Decimal) and type(d.type) is DispositionType
    costs = got.current(got.costs)
    assert [(x.category, x.amount, x.supplier, x.charge_back, x.department_id) for x in costs] == [
        (CostCategory.COMPENSATION, Decimal("8000.00"), "", Decimal("0"), crew.press),
        (CostCategory.FREIGHT, Decimal("123.45"), "顺丰", Decimal("123.45"), crew.press),
    ]
    assert all(isinstance(x.amount, Decimal) and isinstance(x.charge_back, Decimal) for x in costs)
    assert got.disposition_total == Decimal("8000.00")
    steps = got.current(got.steps)
    assert [
        (s.seq, s.title, s.status, s.decided_by_id, s.decided_at, s.comment) for s in steps
    ] == [
        (1, Title.SALES_MANAGER, StepStatus.APPROVED, crew.sm.id, NOW, "同意"),
        (2, Title.GENERAL_MANAGER, StepStatus.APPROVED, crew.gm.id, NOW, "同意"),
    ]
    assert all(type(s.title) is str and type(s.status) is StepStatus for s in steps)
    # planned with the rules in force: version 1, the one migration 0017 made
    assert [(s.or_higher, s.rule_version) for s in steps] == [(False, 1), (False, 1)]
    assert [
        (a.description, a.owner_id, a.due_date, a.status, a.evidence, a.type) for a in got.capa
    ] == [
        ("更换夹具", prod.id, date(2026, 3, 20), "done", "照片与记录", CapaType.CORRECTIVE),
        ("夹具纳入点检表", qa.id, date(2026, 3, 31), "done", "照片与记录", CapaType.CORRECTIVE),
    ]
    [k] = got.containment
    assert (k.type, k.quantity, k.note, k.by_id, k.at) == (
        ContainmentType.QUARANTINE,
        1200,
        "库存隔离 1200 件",
        qa.id,
        NOW,
    )
    [m] = uc.meetings.meetings(other, qa, cid)
    assert (m.date, m.attendee_ids, m.decisions) == (
        TODAY,
        (sales.id, qa.id, prod.id, crew.gm.id),
        "成立小组",
    )
    assert all(isinstance(i, int) for i in m.attendee_ids)
    [judged] = uc.meetings.assessments(other, world.manager, cid)
    assert judged == Assessment(assessment_id, cid, "张工", "deduction", Decimal("200.50"), "",
                                world.manager.id, NOW)

    events = uc.complaints.complaint(other, world.manager, cid).events
    assert [e.action for e in events] == [
        "registered",
        "dispatch",
        "acknowledge",
        "containment_added",
        "classify_valid",
        "analysis_saved",
        "capa_added",
        "meeting_recorded",
        "submit_analysis",
        "send_back",
        "submit_analysis",
        "approve_capa",
        "dispositions_set",
        "propose",
        "approve_step",
        "approve_step",
        "reply",
        "capa_done",
        "capa_done",
        "execution_recorded",
        "complete",
        "verify",
        "assessment_recorded",
        "follow_up",
    ]
    assert [e.user_name for e in events][-4:] == ["赵六", "李四", "王五", "张三"]
    assert events[9].comment == "5 Why 不完整"
    assert events[4].changes["responsible_department_id"] == [None, crew.press]
    assert c.version == len(events)  # one version per action after registration


def test_delegation_dates_and_on_behalf_of_round_trip(app: Context, world: World, crew: Crew,
                                                      draft: Callable[..., ComplaintDraft]) -> None:
    uc.delegation.set_delegation(app, crew.gm, world.manager.id, TODAY, TODAY + timedelta(days=3))
    [v] = uc.delegation.delegations(app, world.manager)
    d = v.delegation
    assert (d.manager_id, d.deputy_id, d.start, d.end, d.created_at, d.created_by_id) == (
        crew.gm.id,
        world.manager.id,
        TODAY,
        date(2026, 3, 18),
        NOW,
        crew.gm.id,
    )
    assert (v.manager, v.current, v.revocable) == ("吴总", True, True)
    cid = to_pending_approval(app, world, crew, draft(severity_proposed=Severity.B))
    uc.approval.approve_step(app, crew.sm, cid, version(app, world, cid))
    [card] = uc.approve_queue.pending_approvals(app, world.manager)
    assert card.on_behalf_of == "吴总" and card.total == Decimal("8000.00")
    uc.approval.approve_step(app, world.manager, cid, version(app, world, cid), "代签")
    got = uc.complaints.case_file(app, world.admin, cid)
    gm_step = got.current(got.steps)[1]
    assert (gm_step.decided_by_id, gm_step.on_behalf_of_id) == (world.manager.id, crew.gm.id)
    assert got.complaint.state == State.REPLYING
    uc.delegation.revoke_delegation(app, crew.gm, d.id or 0)  # back from the trip
    [v] = uc.delegation.delegations(app, world.manager)
    assert (v.delegation.revoked_at, v.delegation.revoked_by_id, v.revoked_by) == (
        NOW, crew.gm.id, "吴总")
    assert not v.current


# ---------------------------------------------------------------- concurrency


def test_two_instances_signing_the_same_step_at_once_one_wins_the_other_is_stale(
    app: Context,
    world: World,
    crew: Crew,
    draft: Callable[..., ComplaintDraft],
    make_app: Callable[..., Context],
) -> None:
    cid = to_pending_approval(app, world, crew, draft(severity_proposed=Severity.B))
    seen = version(app, world, cid)
    apps, signers = [make_app(), make_app()], [crew.sm, crew.sm2]
    barrier = threading.Barrier(2)

    def sign(i: int) -> Complaint | Exception:
        barrier.wait(timeout=30)
        try:
            return uc.approval.approve_step(apps[i], signers[i], cid, seen, f"signer {i}")
        except Exception as e:  # noqa: BLE001 - returned for the test to inspect
            return e

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(sign, range(2)))
    won = [r for r in results if isinstance(r, Complaint)]
    lost = [r for r in results if not isinstance(r, Complaint)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], StaleCase), lost
    winner = signers[results.index(won[0])]
    assert lost[0].params["who"] == winner.display_name

    got = uc.complaints.case_file(app, world.admin, cid)
    assert got.complaint.version == seen + 1 == won[0].version
    first, second = got.current(got.steps)
    assert (first.status, first.decided_by_id, first.comment) == (
        StepStatus.APPROVED,
        winner.id,
        f"signer {signers.index(winner)}",
    )
    assert second.status == StepStatus.PENDING
    actions = [e.action for e in uc.complaints.complaint(app, world.admin, cid).events]
    assert actions.count("approve_step") == 1


class PauseAfterCaseRead:
    """A unit-of-work factory that, in write units, stops for a moment right after reading
    the case: the window in which another instance may act on it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.read, self.go_on = inner, threading.Event(), threading.Event()

    def __call__(self, write: bool = False) -> Any:
        return _Paused(self.inner(write), self) if write else self.inner(write)


class _Paused:
    def __init__(self, uow: Any, ctl: PauseAfterCaseRead) -> None:
        self.uow, self.ctl = uow, ctl

    def __enter__(self) -> Any:
        u = self.uow.__enter__()
        get = u.complaints.get

        def paused(cid: int) -> Complaint | None:
            c = get(cid)
            self.ctl.read.set()
            self.ctl.go_on.wait(timeout=5)
            return c

        u.complaints.get = paused
        return u

    def __exit__(self, *exc: object) -> None:
        self.uow.__exit__(*exc)


def test_a_signature_between_reading_the_case_and_its_steps_makes_the_reader_stale(
    app: Context,
    world: World,
    crew: Crew,
    draft: Callable[..., ComplaintDraft],
    make_app: Callable[..., Context],
) -> None:
    """Nobody acts on a mix of the old case and another writer's new steps: the reader
    either holds the case until it is done, or meets the new version (StaleCase)."""
    cid = to_pending_approval(app, world, crew, draft(severity_proposed=Severity.B))
    seen = version(app, world, cid)
    slow_app, fast_app = make_app(), make_app()
    pause = PauseAfterCaseRead(slow_app.uow)
    slow_app = dataclasses.replace(slow_app, uow=pause)
    results: dict[str, Complaint | Exception] = {}

    def run(name: str, call: Callable[[], Complaint]) -> None:
        try:
            results[name] = call()
        except Exception as e:  # noqa: BLE001 - kept for the test to inspect
            results[name] = e

    slow = threading.Thread(
        target=run,
        args=("slow", lambda: uc.approval.approve_step(slow_app, crew.sm2, cid, seen, "slow")),
    )
    fast = threading.Thread(
        target=run,
        args=("fast", lambda: uc.approval.approve_step(fast_app, crew.sm, cid, seen, "fast")),
    )
    slow.start()
    assert pause.read.wait(timeout=10)
    fast.start()
    fast.join(timeout=1.5)  # done already if nothing holds the case; else waits its turn
    pause.go_on.set()
    slow.join(timeout=30)
    fast.join(timeout=30)
    won = [r for r in results.values() if isinstance(r, Complaint)]
    lost = [r for r in results.values() if not isinstance(r, Complaint)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], StaleCase), results
    winner = next(name for name, r in results.items() if isinstance(r, Complaint))
    got = uc.complaints.case_file(app, world.admin, cid)
    assert [(s.status, s.comment) for s in got.current(got.steps)] == [
        (StepStatus.APPROVED, winner),
        (StepStatus.PENDING, ""),
    ]
    assert got.complaint.version == seen + 1


def test_two_instances_recording_the_same_payment_at_once_record_it_once(
    app: Context,
    world: World,
    crew: Crew,
    draft: Callable[..., ComplaintDraft],
    make_app: Callable[..., Context],
) -> None:
    cid = to_pending_approval(app, world, crew, draft(severity_proposed=Severity.B))
    uc.approval.approve_step(app, crew.sm, cid, version(app, world, cid))
    uc.approval.approve_step(app, crew.gm, cid, version(app, world, cid))
    uc.closure.reply(app, world.sales, cid, version(app, world, cid), TODAY, ReplyMethod.EMAIL,
                     "已回复")
    case = uc.complaints.case_file(app, world.admin, cid)
    paid = case.current(case.dispositions)[0].id or 0
    fin2 = uc.accounts.create_user(app, world.admin,
                                   UserInput("fin2", "郑八", frozenset({Role.FINANCE})), PASSWORD)
    apps, payers = [make_app(), make_app()], [crew.finance, fin2]
    barrier = threading.Barrier(2)

    def pay(i: int) -> Complaint | Exception:
        barrier.wait(timeout=30)
        try:
            return uc.closure.record_execution(apps[i], payers[i], paid, None, f"payer {i}")
        except Exception as e:  # noqa: BLE001 - returned for the test to inspect
            return e

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(pay, range(2)))
    won = [r for r in results if isinstance(r, Complaint)]
    lost = [r for r in results if not isinstance(r, Complaint)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], (InvalidInput, StaleCase)), lost
    winner = payers[results.index(won[0])]
    got = uc.complaints.case_file(app, world.admin, cid)
    d = got.current(got.dispositions)[0]
    assert (d.done, d.done_by_id, d.done_note) == (True, winner.id, f"payer {payers.index(winner)}")
    actions = [e.action for e in uc.complaints.complaint(app, world.admin, cid).events]
    assert actions.count("execution_recorded") == 1


# ---------------------------------------------------------------- migration 0001 → 0002


def _alembic(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def test_migration_0002_keeps_the_complaints_logged_under_0001(
    db_url: str, make_app: Callable[..., Context]
) -> None:
    cfg = _alembic(db_url)
    command.upgrade(cfg, "0001")
    engine = make_engine(db_url)
    received = datetime(2026, 3, 1, 1, 30)  # naive UTC, as 0001 stored it
    try:
        with engine.begin() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0001"
            cust = conn.execute(
                text(
                    "INSERT INTO customers (name, market, language, contact, phone, email, address,"
                    " active) VALUES ('老客户', 'domestic', 'zh', '', '', '', '', :t) RETURNING id"
                ),
                {"t": True},
            ).scalar_one()
            uid = conn.execute(
                text(
                    "INSERT INTO users (username, display_name, password_hash, roles,"
                    " approval_level, title, active, language) VALUES ('old', '老业务', 'x',"
                    " 'sales', 0, 'none', :t, 'zh') RETURNING id"
                ),
                {"t": True},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO complaints (number, received_at, channel, received_by_id, kind,"
                    " category, customer_id, customer_ref, product_code, product_name, order_no,"
                    " lot, description, claimed_amount, severity_proposed, sample_received, state,"
                    " version, cancel_reason, created_at, updated_at, updated_by_id) VALUES"
                    " ('KS2603-001', :at, 'phone', :uid, 'complaint', 'quality', :cust, '', 'P-1',"
                    " '', 'SO-9', '', '旧投诉', 1234.5, 'C', :f, 'registered', 3, '', :at, :at,"
                    " :uid)"
                ),
                {"at": received, "uid": uid, "cust": cust, "f": False},
            )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT number, version, approval_round, sent_back_count, reopen_count,"
                    " severity_reason, root_cause, severity, validity FROM complaints"
                )
            ).one()
        assert tuple(row) == ("KS2603-001", 3, 1, 0, 0, "", "", None, None)
    finally:
        engine.dispose()

    app = make_app(clock=lambda: NOW)
    old = User(uid, "old", "老业务", frozenset({Role.SALES}), language=Lang.ZH)
    [c] = [x for x in uc.search.cases_in(app, old, [State.REGISTERED])]
    assert (c.number, c.description, c.claimed_amount, c.received_at, c.approval_round) == (
        "KS2603-001",
        "旧投诉",
        Decimal("1234.50"),
        received.replace(tzinfo=timezone.utc),
        1,
    )
    assert uc.complaints.case_file(app, old, c.id or 0).steps == []
    moved = uc.investigation.dispatch(app, old, c.id or 0, 3, "迁移后继续处理")
    assert (moved.state, moved.version) == (State.DISPATCHED, 4)
    assert [e.action for e in uc.complaints.complaint(app, old, c.id or 0).events] == ["dispatch"]
