"""Lifecycle services on the in-memory fakes (docs/procedure.md §4–6): every transition through the
service
layer, its guards, its loops, approvals, My Tasks, the action panel and the timeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from core.errors import InvalidInput, NotAllowed, StaleCase
from core.usecases.approval import CostInput
from core.usecases.approval import DispositionInput
from core.i18n import t
from core.model import (
    CapaType,
    CaseFile,
    Category,
    Complaint,
    PaymentMethod,
    ContainmentType,
    CostCategory,
    Department,
    DispositionType,
    Event,
    Kind,
    Market,
    ReplyMethod,
    Role,
    Satisfaction,
    Severity,
    SixM,
    State,
    StepStatus,
    Title,
    User,
    Validity,
)
from core.rules.approvals import DEFAULT_RULES, Rule, RuleStep, TitleDef
from core.usecases.complaints import ComplaintDraft, Upload
from core.usecases.accounts import UserInput
from core.usecases.context import Context
from core.workflow import BY_ACTION
from tests.unit.conftest import NOW, MakeUser, with_
from tests.unit.fakes import FakeClock, FakeDatabase, use_case
from core import usecases as uc

TODAY = date(2026, 11, 10)  # NOW in Shanghai
DUE = TODAY + timedelta(days=14)
T = TypeVar("T")


@dataclass
class World:
    kesu: Context
    db: FakeDatabase
    clock: FakeClock
    draft: ComplaintDraft
    admin: User
    sales: User
    qa: User
    prod: User  # production of 制造部, the responsible department
    other_prod: User  # production of another department
    finance: User
    boss: User  # management without an approval title
    sm: User  # sales manager
    gm: User  # general manager
    chairman: User
    qam: User  # QA manager
    press: int  # 制造部
    paint: int

    def signer(self, title: str) -> User:
        return {
            Title.QA_MANAGER.value: self.qam,
            Title.SALES_MANAGER.value: self.sm,
            Title.GENERAL_MANAGER.value: self.gm,
            Title.CHAIRMAN.value: self.chairman,
        }[title]

    def setting(self, key: str, value: Any) -> None:
        with self.db(write=True) as uow:
            uow.settings.set(key, value)
            uow.commit()


@pytest.fixture
def w(kesu: Context, db: FakeDatabase, clock: FakeClock, draft: ComplaintDraft, admin: User,
      make_user: MakeUser, sales: User, qa: User, finance: User, manager: User) -> World:
    press = uc.reference.save_reference(kesu, admin,
                                        Department(0, "MFG", "制造部", "Manufacturing"))
    paint = uc.reference.save_reference(kesu, admin, Department(0, "PNT", "涂装部", "Painting"))
    return World(kesu, db, clock, with_(draft, received_at=NOW, severity_proposed=Severity.C),
                 admin, sales, qa, prod=make_user("peng", Role.PRODUCTION, department_id=press),
                 other_prod=make_user("otto", Role.PRODUCTION, department_id=paint),
                 finance=finance, boss=manager,
                 sm=make_user("sam", Role.MANAGEMENT, titles=frozenset({Title.SALES_MANAGER})),
                 gm=make_user("gina", Role.MANAGEMENT, titles=frozenset({Title.GENERAL_MANAGER})),
                 chairman=make_user("chen", Role.MANAGEMENT, titles=frozenset({Title.CHAIRMAN})),
                 qam=make_user("qiao", Role.QA, titles=frozenset({Title.QA_MANAGER})), press=press,
                 paint=paint)


class Case:
    """One complaint under test; every action goes through the services with its version."""

    def __init__(self, w: World, cid: int) -> None:
        self.w, self.id = w, cid

    @property
    def c(self) -> Complaint:
        return self.file.complaint

    @property
    def file(self) -> CaseFile:
        return uc.complaints.case_file(self.w.kesu, self.w.admin, self.id)

    @property
    def events(self) -> list[Event]:
        return uc.complaints.complaint(self.w.kesu, self.w.admin, self.id).events

    @property
    def actions(self) -> list[str]:
        return [e.action for e in self.events]

    def once(self, call: Callable[[], T]) -> T:
        """Run one action: it writes exactly one event and bumps the version once."""
        n, version = len(self.events), self.c.version
        out = call()
        assert len(self.events) == n + 1, self.actions[n:]
        assert self.c.version == version + 1
        return out

    def do(self, action: str, who: User, *args: Any, **kw: Any) -> Complaint:
        """A versioned service call (kesu.<action>(who, id, version, ...)), done once."""
        return self.once(
            lambda: use_case(action)(self.w.kesu, who, self.id, self.c.version, *args, **kw)
        )

    def refused(self, why: str, action: str, who: User, *args: Any, **kw: Any) -> None:
        """The call raises NotAllowed(why) and changes nothing."""
        before, events = self.c, len(self.events)
        with pytest.raises(NotAllowed) as err:
            use_case(action)(self.w.kesu, who, self.id, self.c.version, *args, **kw)
        assert err.value.key == why
        assert self.c == before and len(self.events) == events


# ---------------------------------------------------------------- driving a case along the path


def log(w: World, **changes: Any) -> Case:
    made = uc.complaints.register_complaint(w.kesu, w.sales, with_(w.draft, **changes))
    return Case(w, made.id or 0)


def _dispatch(w: World, case: Case) -> None:
    if case.c.severity_proposed == Severity.A:
        case.do("approve_dispatch", w.boss)
    case.do("dispatch", w.sales)


def _acknowledge(w: World, case: Case) -> None:
    case.do("acknowledge", w.qa)


def _classify(w: World, case: Case) -> None:
    severity = case.c.severity_proposed or Severity.C
    if severity == Severity.A:
        case.once(
            lambda: uc.investigation.add_containment(w.kesu, w.qa, case.id,
                                                     ContainmentType.QUARANTINE, 200,
                                                     "stock on hold")
        )
    case.do("classify", w.qa, Validity.VALID, Category.QUALITY, severity, w.press)


def analyse(w: World, case: Case, who: User | None = None) -> None:
    who = who or w.prod
    case.do("save_analysis", who, prod_line="Line 3", prod_shift="night", prod_lot="L1",
            prod_date=TODAY - timedelta(days=20), whys=["fixture worn", "no PM plan"],
            six_m=SixM.MACHINE, root_cause="Worn fixture scratches the housing")
    case.once(
        lambda: uc.investigation.add_capa(w.kesu, who, case.id, CapaType.CORRECTIVE,
                                          "Replace fixture", who.id, DUE)
    )


def _submit(w: World, case: Case) -> None:
    analyse(w, case)
    case.do("submit_analysis", w.prod)


def _approve_capa(w: World, case: Case) -> None:
    case.do("approve_capa", w.qa)


def propose(w: World, case: Case, *items: DispositionInput) -> None:
    items = items or (DispositionInput(DispositionType.COMPENSATION, None, "8000"),)
    costs = [
        CostInput(CostCategory.COMPENSATION, x.amount, w.press)
        for x in items
        if x.type == DispositionType.COMPENSATION
    ]
    case.do("set_dispositions", w.sales, items, costs)
    case.do("propose", w.sales, "客户接受赔款")


def _propose(w: World, case: Case) -> None:
    propose(w, case)


def sign_all(w: World, case: Case) -> None:
    while case.c.state == State.PENDING_APPROVAL:
        step = next(s for s in case.file.current(case.file.steps) if s.status == StepStatus.PENDING)
        case.do("approve_step", w.signer(step.title), "同意")


def _reply(w: World, case: Case) -> None:
    case.do("reply", w.sales, TODAY, ReplyMethod.REPORT_8D, "8D report sent")


def execute(w: World, case: Case) -> None:
    for a in case.file.capa:
        if a.status == "open":
            case.once(
                partial(uc.investigation.complete_capa, w.kesu, w.prod, a.id or 0,
                        "new fixture photo")
            )
    for d in case.file.current(case.file.dispositions):
        if not d.done:
            who = w.finance if d.type == DispositionType.COMPENSATION else w.prod
            case.once(
                partial(uc.closure.record_execution, w.kesu, who, d.id or 0, d.quantity, "done")
            )


def _complete(w: World, case: Case) -> None:
    execute(w, case)
    case.do("complete", w.prod)


def _verify(w: World, case: Case) -> None:
    case.do("verify", w.qa, True, "no repeat in 3 deliveries")


def _follow_up(w: World, case: Case) -> None:
    case.do("follow_up", w.sales, day=TODAY, contact="王经理", score=5,
            satisfaction=Satisfaction.SATISFIED, lessons="PM for fixtures")


PATH = (
    _dispatch,
    _acknowledge,
    _classify,
    _submit,
    _approve_capa,
    _propose,
    sign_all,
    _reply,
    _complete,
    _verify,
    _follow_up,
)


def drive(w: World, until: State, **changes: Any) -> Case:
    """A new complaint taken along the happy path until it reaches `until`."""
    case = log(w, **changes)
    for step in PATH:
        if case.c.state == until:
            break
        step(w, case)
    assert case.c.state == until
    return case


# ---------------------------------------------------------------- the happy path (the issue)


def test_happy_path_from_phone_call_to_closed_case_leaves_every_step_in_the_timeline(
    w: World,
) -> None:
    k, clock = w.kesu, w.clock
    case = log(w, claimed_amount="8000", severity_proposed=Severity.B)
    case.do("dispatch", w.sales)
    clock.advance(minutes=30)
    case.do("acknowledge", w.qa)
    case.do("classify", w.qa, Validity.VALID, Category.QUALITY, Severity.B, w.press)
    assert (case.c.state, case.c.responsible_department_id) == (State.ROOT_CAUSE, w.press)
    clock.advance(days=1)
    analyse(w, case)
    case.do("submit_analysis", w.prod)
    case.do("send_back", w.qa, "5 Why stops too early")
    assert (case.c.state, case.c.sent_back_count) == (State.ROOT_CAUSE, 1)
    case.do("save_analysis", w.prod, prod_line="Line 3", prod_shift="night", prod_lot="L1",
            whys=["fixture worn", "no PM plan", "PM not in the standard"], six_m=SixM.METHOD,
            root_cause="No preventive maintenance of fixtures")
    case.do("submit_analysis", w.prod, "5 Why completed")
    case.do("approve_capa", w.qa)
    clock.advance(days=1)
    case.do("set_dispositions", w.sales,
            [DispositionInput(DispositionType.COMPENSATION, None, "8,000")],
            [CostInput(CostCategory.COMPENSATION, "8000", w.press)])
    case.do("propose", w.sales, "客户同意赔款 8,000 元")
    steps = case.file.current(case.file.steps)
    assert [s.title for s in steps] == [Title.SALES_MANAGER, Title.GENERAL_MANAGER]
    case.do("approve_step", w.sm, "OK")
    assert case.c.state == State.PENDING_APPROVAL
    case.do("approve_step", w.gm, "同意")
    assert case.c.state == State.REPLYING
    case.do("reply", w.sales, TODAY + timedelta(days=2), ReplyMethod.REPORT_8D, "8D 报告")
    clock.advance(days=7)
    capa = case.file.capa[0]
    case.once(
        lambda: uc.investigation.complete_capa(k, w.prod, capa.id or 0, "新夹具照片, PM 计划")
    )
    paid = case.file.current(case.file.dispositions)[0]
    case.once(
        lambda: uc.closure.record_execution(k, w.finance, paid.id or 0, None, "银行转账 #123")
    )
    case.do("complete", w.prod)
    case.do("verify", w.qa, True, "3 批无重复")
    case.do("follow_up", w.sales, day=TODAY + timedelta(days=9), contact="王经理", score=5,
            satisfaction=Satisfaction.SATISFIED, lessons="夹具纳入 PM", standard_doc="WI-MFG-012")

    c = case.c
    assert c.state == State.CLOSED and c.closed_at == clock()
    assert (c.satisfaction, c.satisfaction_score, c.standard_doc) == (
        Satisfaction.SATISFIED,
        5,
        "WI-MFG-012",
    )
    assert c.verified_effective is True and c.proposer_id == w.sales.id
    assert c.reply_method == ReplyMethod.REPORT_8D and c.sent_back_count == 1
    assert case.actions == [
        "registered",
        "dispatch",
        "acknowledge",
        "classify_valid",
        "analysis_saved",
        "capa_added",
        "submit_analysis",
        "send_back",
        "analysis_saved",
        "submit_analysis",
        "approve_capa",
        "dispositions_set",
        "propose",
        "approve_step",
        "approve_step",
        "reply",
        "capa_done",
        "execution_recorded",
        "complete",
        "verify",
        "follow_up",
    ]
    who = [e.user_id for e in case.events]
    s, q, p, f = w.sales.id, w.qa.id, w.prod.id, w.finance.id
    assert who == [s, s, q, q, p, p, p, q, p, p, q, s, s, w.sm.id, w.gm.id, s, p, f, p, q, s]
    by_action = {e.action: e for e in case.events}
    assert by_action["send_back"].comment == "5 Why stops too early"
    assert by_action["classify_valid"].changes["state"] == ["investigating", "root_cause"]
    assert by_action["follow_up"].changes["state"] == ["follow_up", "closed"]
    signed = case.file.current(case.file.steps)
    assert [(s.status, s.decided_by_id, s.comment) for s in signed] == [
        (StepStatus.APPROVED, w.sm.id, "OK"),
        (StepStatus.APPROVED, w.gm.id, "同意"),
    ]
    paid = case.file.current(case.file.dispositions)[0]
    assert (paid.amount, paid.done, paid.done_by_id) == (Decimal("8000.00"), True, w.finance.id)
    assert case.file.capa[0].evidence == "新夹具照片, PM 计划"
    assert case.file.current(case.file.costs)[0].department_id == w.press


# ---------------------------------------------------------------- every transition, service side


@dataclass(frozen=True)
class Take:
    """How to take one transition: the start state, who may, the call, where it ends."""

    start: State
    who: str
    call: Callable[[World, Case, User], Complaint]
    end: State
    draft: tuple[tuple[str, Any], ...] = ()


def _v(case: Case) -> int:
    return case.c.version


TAKES: dict[str, Take] = {
    "approve_dispatch": Take(
        State.REGISTERED,
        "boss",
        lambda w, c, u: uc.investigation.approve_dispatch(w.kesu, u, c.id, _v(c)),
        State.REGISTERED,
        (("severity_proposed", Severity.A),),
    ),
    "dispatch": Take(State.REGISTERED, "sales",
                     lambda w, c, u: uc.investigation.dispatch(w.kesu, u, c.id, _v(c)),
                     State.DISPATCHED),
    "route_short": Take(State.REGISTERED, "sales",
                        lambda w, c, u: uc.investigation.route_short(w.kesu, u, c.id, _v(c)),
                        State.REPLYING, (("kind", Kind.SUGGESTION),)),
    "return_to_sales": Take(
        State.DISPATCHED,
        "qa",
        lambda w, c, u: uc.investigation.return_to_sales(w.kesu, u, c.id, _v(c), "订单号缺失"),
        State.REGISTERED,
    ),
    "acknowledge": Take(State.DISPATCHED, "qa",
                        lambda w, c, u: uc.investigation.acknowledge(w.kesu, u, c.id, _v(c)),
                        State.INVESTIGATING),
    "classify_valid": Take(
        State.INVESTIGATING,
        "qa",
        lambda w, c, u: uc.investigation.classify(w.kesu, u, c.id, _v(c), Validity.VALID,
                                                  Category.QUALITY, Severity.C, w.press),
        State.ROOT_CAUSE,
    ),
    "classify_invalid": Take(
        State.INVESTIGATING,
        "qa",
        lambda w, c, u: uc.investigation.classify(w.kesu, u, c.id, _v(c), Validity.INVALID,
                                                  reason="客户使用不当"),
        State.DISPOSITION,
    ),
    "submit_analysis": Take(
        State.ROOT_CAUSE,
        "prod",
        lambda w, c, u: uc.investigation.submit_analysis(w.kesu, u, c.id, _v(c)),
        State.CAPA_REVIEW,
    ),
    "send_back": Take(State.CAPA_REVIEW, "qa",
                      lambda w, c, u: uc.investigation.send_back(w.kesu, u, c.id, _v(c), "再分析"),
                      State.ROOT_CAUSE),
    "approve_capa": Take(State.CAPA_REVIEW, "qa",
                         lambda w, c, u: uc.investigation.approve_capa(w.kesu, u, c.id, _v(c)),
                         State.DISPOSITION),
    "propose": Take(State.DISPOSITION, "sales",
                    lambda w, c, u: uc.approval.propose(w.kesu, u, c.id, _v(c), "客户接受"),
                    State.PENDING_APPROVAL),
    "approve_step": Take(State.PENDING_APPROVAL, "sm",
                         lambda w, c, u: uc.approval.approve_step(w.kesu, u, c.id, _v(c)),
                         State.PENDING_APPROVAL),
    "reject_step": Take(State.PENDING_APPROVAL, "sm",
                        lambda w, c, u: uc.approval.reject_step(w.kesu, u, c.id, _v(c), "金额过高"),
                        State.DISPOSITION),
    "reply": Take(
        State.REPLYING,
        "sales",
        lambda w, c, u: uc.closure.reply(w.kesu, u, c.id, _v(c), TODAY, ReplyMethod.EMAIL,
                                         "见附件"),
        State.IMPLEMENTING,
    ),
    "complete": Take(State.IMPLEMENTING, "prod",
                     lambda w, c, u: uc.closure.complete(w.kesu, u, c.id, _v(c)), State.VERIFYING),
    "verify": Take(State.VERIFYING, "qa",
                   lambda w, c, u: uc.closure.verify(w.kesu, u, c.id, _v(c), True),
                   State.FOLLOW_UP),
    "follow_up": Take(
        State.FOLLOW_UP,
        "sales",
        lambda w, c, u: uc.closure.follow_up(w.kesu, u, c.id, _v(c), day=TODAY, contact="王",
                                             score=4, satisfaction=Satisfaction.PARTLY),
        State.CLOSED,
    ),
    "cancel": Take(State.REGISTERED, "sales",
                   lambda w, c, u: uc.closure.cancel(w.kesu, u, c.id, _v(c), "重复登记"),
                   State.CANCELLED),
    "merge": Take(
        State.REGISTERED,
        "sales",
        lambda w, c, u: uc.closure.merge(w.kesu, u, c.id, _v(c), log(w, lot="L9").c.number),
        State.CANCELLED,
    ),
    "reopen": Take(State.CLOSED, "qa",
                   lambda w, c, u: uc.closure.reopen(w.kesu, u, c.id, _v(c), "同一问题再次发生"),
                   State.ROOT_CAUSE),
    "hold": Take(State.INVESTIGATING, "qa",
                 lambda w, c, u: uc.closure.hold(w.kesu, u, c.id, _v(c), "等待客户寄样"),
                 State.INVESTIGATING),
    "resume": Take(State.INVESTIGATING, "qa",
                   lambda w, c, u: uc.closure.resume(w.kesu, u, c.id, _v(c)), State.INVESTIGATING),
}


def ready(w: World, action: str) -> Case:
    """A case where `action` may be taken now by TAKES[action].who."""
    t = TAKES[action]
    case = drive(w, t.start, **dict(t.draft))
    if action == "submit_analysis":
        analyse(w, case)
    if action == "propose":
        case.do("set_dispositions", w.sales,
                [DispositionInput(DispositionType.COMPENSATION, None, "8000")])
    if action == "complete":
        execute(w, case)
    if action == "resume":
        case.do("hold", w.qa, "等待样品")
    return case


def test_every_transition_has_a_service_call() -> None:
    assert set(TAKES) == set(BY_ACTION)


@pytest.mark.parametrize("action", sorted(TAKES))
def test_every_transition_is_taken_by_an_allowed_role_from_its_source_state(w: World,
                                                                            action: str) -> None:
    t = TAKES[action]
    case = ready(w, action)
    who = getattr(w, t.who)
    assert who.has(*BY_ACTION[action].roles)
    new = case.once(lambda: t.call(w, case, who))
    assert new.state == t.end == case.c.state
    assert case.events[-1].user_id == who.id


def _wrong_role(w: World, action: str) -> User:
    roles = BY_ACTION[action].roles
    return next(u for u in (w.finance, w.sales, w.qa, w.prod, w.admin) if not u.has(*roles))


@pytest.mark.parametrize("action", sorted(TAKES))
def test_every_transition_is_refused_to_a_wrong_role(w: World, action: str) -> None:
    case = ready(w, action)
    before, n = case.c, len(case.events)
    with pytest.raises(NotAllowed) as err:
        TAKES[action].call(w, case, _wrong_role(w, action))
    assert err.value.key == "why.wrong_role"
    assert case.c == before and len(case.events) == n


@pytest.mark.parametrize("action", sorted(TAKES))
def test_a_cancelled_case_refuses_every_transition_with_wrong_state(w: World, action: str) -> None:
    t = TAKES[action]
    case = log(w, **dict(t.draft))
    case.do("cancel", w.sales, "录错了")
    with pytest.raises(NotAllowed) as err:
        t.call(w, case, getattr(w, t.who))
    assert err.value.key == "why.wrong_state"


@pytest.mark.parametrize(
    "action", sorted(a for a, t in BY_ACTION.items() if State.REGISTERED not in t.sources)
)
def test_a_fresh_case_refuses_every_later_transition_with_wrong_state(w: World,
                                                                      action: str) -> None:
    t = TAKES[action]
    case = log(w, **dict(t.draft))
    with pytest.raises(NotAllowed) as err:
        t.call(w, case, getattr(w, t.who))
    assert err.value.key == "why.wrong_state"
    assert case.actions == ["registered"]


@pytest.mark.parametrize(
    "action, kind",
    [
        ("dispatch", Kind.SUGGESTION),
        ("dispatch", Kind.INQUIRY),
        ("approve_dispatch", Kind.INQUIRY),
        ("route_short", Kind.COMPLAINT),
    ],
)
def test_a_transition_for_another_kind_is_refused_with_wrong_kind(w: World, action: str,
                                                                  kind: Kind) -> None:
    t = TAKES[action]
    case = log(w, kind=kind, severity_proposed=Severity.A)
    with pytest.raises(NotAllowed) as err:
        t.call(w, case, getattr(w, t.who))
    assert err.value.key == "why.wrong_kind"


def test_a_closed_suggestion_cannot_be_reopened(w: World) -> None:
    case = log(w, kind=Kind.SUGGESTION)
    case.do("route_short", w.sales)
    case.do("reply", w.sales, TODAY, ReplyMethod.EMAIL, "谢谢建议, 已采纳")
    case.refused("why.wrong_kind", "reopen", w.qa, "again")


# ---------------------------------------------------------------- registration → investigation


def test_major_complaint_needs_management_approval_before_dispatch(w: World) -> None:
    case = log(w, severity_proposed=Severity.A)
    case.refused("why.dispatch_needs_approval", "dispatch", w.sales)
    case.refused("why.wrong_role", "approve_dispatch", w.sales)
    case.do("approve_dispatch", w.boss, "立即处理")
    assert case.c.dispatch_approved_by_id == w.boss.id
    case.refused("why.dispatch_already_approved", "approve_dispatch", w.boss)
    case.do("dispatch", w.sales)
    assert case.c.state == State.DISPATCHED


def test_minor_complaint_dispatches_without_approval_by_default(w: World) -> None:
    case = log(w, severity_proposed=Severity.B)
    case.refused("why.dispatch_approval_not_needed", "approve_dispatch", w.boss)
    case.do("dispatch", w.sales)


def test_dispatch_approval_setting_all_needs_it_for_every_complaint(w: World) -> None:
    w.setting("dispatch_approval", "all")
    case = log(w, severity_proposed=Severity.C)
    case.refused("why.dispatch_needs_approval", "dispatch", w.sales)
    case.do("approve_dispatch", w.boss)
    case.do("dispatch", w.sales)


def test_dispatch_approval_setting_none_needs_it_for_no_complaint(w: World) -> None:
    w.setting("dispatch_approval", "none")
    case = log(w, severity_proposed=Severity.A)
    case.refused("why.dispatch_approval_not_needed", "approve_dispatch", w.boss)
    case.do("dispatch", w.sales)


def test_dispatch_without_a_proposed_severity_is_refused(w: World) -> None:
    case = log(w, severity_proposed=None)
    case.refused("why.severity_missing", "dispatch", w.sales)


def test_qa_returns_the_handling_form_with_what_is_missing(w: World) -> None:
    case = drive(w, State.DISPATCHED)
    with pytest.raises(InvalidInput):
        uc.investigation.return_to_sales(w.kesu, w.qa, case.id, case.c.version, "  ")
    case.do("return_to_sales", w.qa, "缺少订单号和照片")
    assert case.c.state == State.REGISTERED
    assert case.events[-1].comment == "缺少订单号和照片"
    case.do("dispatch", w.sales, "已补充")
    assert case.c.state == State.DISPATCHED


def test_classify_valid_records_category_final_severity_and_department(w: World) -> None:
    case = drive(w, State.INVESTIGATING)
    case.do("classify", w.qa, Validity.VALID, Category.NON_QUALITY, Severity.B, w.press)
    c = case.c
    assert (c.validity, c.category, c.severity, c.responsible_department_id) == (
        Validity.VALID,
        Category.NON_QUALITY,
        Severity.B,
        w.press,
    )
    assert c.severity_proposed == Severity.C and c.severity_reason == ""
    assert case.events[-1].changes["severity"] == [None, "B"]


@pytest.mark.parametrize("missing", ["category", "severity", "department_id"])
def test_classify_valid_needs_category_severity_and_department(w: World, missing: str) -> None:
    case = drive(w, State.INVESTIGATING)
    args: dict[str, Any] = {
        "category": Category.QUALITY,
        "severity": Severity.C,
        "department_id": w.press,
        missing: None,
    }
    with pytest.raises(InvalidInput):
        uc.investigation.classify(w.kesu, w.qa, case.id, case.c.version, Validity.VALID, **args)
    assert case.c.state == State.INVESTIGATING


def test_classify_with_an_unknown_department_is_refused(w: World) -> None:
    case = drive(w, State.INVESTIGATING)
    with pytest.raises(InvalidInput):
        uc.investigation.classify(w.kesu, w.qa, case.id, case.c.version, Validity.VALID,
                                  Category.QUALITY, Severity.C, 9999)
    assert case.actions[-1] == "acknowledge"


def test_severity_a_needs_containment_before_classification(w: World) -> None:
    case = drive(w, State.INVESTIGATING, severity_proposed=Severity.A)
    case.refused("why.containment_missing", "classify", w.qa, Validity.VALID, Category.QUALITY,
                 Severity.A, w.press)
    case.once(
        lambda: uc.investigation.add_containment(w.kesu, w.qa, case.id,
                                                 ContainmentType.STOP_SHIPMENT, None, "停止出货")
    )
    case.do("classify", w.qa, Validity.VALID, Category.QUALITY, Severity.A, w.press)
    assert case.c.severity == Severity.A
    assert [x.type for x in case.file.containment] == [ContainmentType.STOP_SHIPMENT]


# ---------------------------------------------------------------- recurrence escalation
# (docs/procedure.md §4)


def _earlier(w: World, days_ago: float, severity: Severity = Severity.C, **kw: Any) -> Case:
    return log(w, received_at=NOW - timedelta(days=days_ago), severity_proposed=severity, **kw)


def _classify_c(w: World, case: Case, severity: Severity = Severity.C) -> Complaint:
    return case.do("classify", w.qa, Validity.VALID, Category.QUALITY, severity, w.press)


def test_third_case_of_the_same_issue_within_30_days_rises_one_level(w: World) -> None:
    _earlier(w, 20)
    _earlier(w, 10)
    case = drive(w, State.INVESTIGATING)
    new = _classify_c(w, case)
    assert new.severity == Severity.B
    assert new.severity_reason == "recurrence:3:C->B"
    assert case.events[-1].changes["severity"] == [None, "B"]
    assert case.events[-1].changes["severity_reason"] == ["", "recurrence:3:C->B"]


def test_two_cases_of_the_same_issue_do_not_escalate(w: World) -> None:
    _earlier(w, 10)
    case = drive(w, State.INVESTIGATING)
    new = _classify_c(w, case)
    assert (new.severity, new.severity_reason) == (Severity.C, "")


@pytest.mark.parametrize("days_ago, escalated", [(29, True), (31, False)])
def test_a_case_more_than_30_days_before_does_not_count(w: World, days_ago: int,
                                                        escalated: bool) -> None:
    _earlier(w, days_ago)
    _earlier(w, 5)
    case = drive(w, State.INVESTIGATING)
    assert (_classify_c(w, case).severity == Severity.B) is escalated


def test_cases_of_another_severity_product_defect_or_cancelled_do_not_count(
    w: World, other_defect_id: int
) -> None:
    _earlier(w, 3, Severity.B)
    _earlier(w, 4, product_code="P-200")
    _earlier(w, 5, defect_type_id=other_defect_id)
    cancelled = _earlier(w, 6)
    cancelled.do("cancel", w.sales, "重复")
    _earlier(w, 7)
    case = drive(w, State.INVESTIGATING)
    assert _classify_c(w, case).severity == Severity.C


def test_recurrence_counts_the_severity_qa_decides_not_the_proposal(w: World) -> None:
    _earlier(w, 20)
    _earlier(w, 10)
    case = drive(w, State.INVESTIGATING, severity_proposed=Severity.B)
    assert _classify_c(w, case, Severity.C).severity == Severity.B
    assert case.c.severity_reason == "recurrence:3:C->B"


def test_recurrence_into_a_without_containment_is_refused(w: World) -> None:
    _earlier(w, 20, Severity.B)
    _earlier(w, 10, Severity.B)
    case = drive(w, State.INVESTIGATING, severity_proposed=Severity.B)
    case.refused("why.containment_missing_recurrence", "classify", w.qa, Validity.VALID,
                 Category.QUALITY, Severity.B, w.press)
    with pytest.raises(NotAllowed) as err:  # and QA is told why it became A
        uc.investigation.classify(w.kesu, w.qa, case.id, case.c.version, Validity.VALID,
                                  Category.QUALITY, Severity.B, w.press)
    assert err.value.params == {"n": "3", "chosen": "B"}
    assert t(err.value.key, "zh", **err.value.params).startswith(
        "30 天内同一问题已有 3 次 B 级投诉，本案因此升为 A 级")


# ---------------------------------------------------------------- root cause and CAPA


def test_production_of_another_department_cannot_analyse_submit_or_complete(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    case.refused("why.not_your_department", "save_analysis", w.other_prod, root_cause="x")
    with pytest.raises(NotAllowed) as err:
        uc.investigation.add_capa(w.kesu, w.other_prod, case.id, CapaType.CORRECTIVE, "x",
                                  w.other_prod.id, DUE)
    assert err.value.key == "why.not_your_department"
    analyse(w, case)
    case.refused("why.not_your_department", "submit_analysis", w.other_prod)
    case.do("submit_analysis", w.prod)
    for step in (_approve_capa, _propose, sign_all, _reply):
        step(w, case)
    execute(w, case)
    case.refused("why.not_your_department", "complete", w.other_prod)
    case.do("complete", w.finance)


def test_management_may_submit_for_any_department(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    analyse(w, case, who=w.boss)
    case.do("submit_analysis", w.boss)


def test_submit_without_a_capa_action_is_refused(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    case.do("save_analysis", w.prod, prod_lot="L1", six_m=SixM.MAN, root_cause="operator")
    case.refused("why.capa_missing", "submit_analysis", w.prod)


@pytest.mark.parametrize(
    "facts, field",
    [
        ({"six_m": SixM.MAN, "root_cause": "operator"}, "production_facts"),
        ({"prod_lot": "L1", "root_cause": "operator"}, "root_cause"),
        ({"prod_lot": "L1", "six_m": SixM.MAN}, "root_cause"),
    ],
)
def test_submit_needs_root_cause_and_production_facts(w: World, facts: dict[str, Any],
                                                      field: str) -> None:
    case = drive(w, State.ROOT_CAUSE)
    case.do("save_analysis", w.prod, **facts)
    case.once(
        lambda: uc.investigation.add_capa(w.kesu, w.prod, case.id, CapaType.PREVENTIVE, "train",
                                          w.prod.id, DUE)
    )
    with pytest.raises(InvalidInput) as err:
        uc.investigation.submit_analysis(w.kesu, w.prod, case.id, case.c.version)
    assert err.value.params["field"] == field
    assert case.c.state == State.ROOT_CAUSE


def test_save_analysis_keeps_the_5_whys_one_per_line(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    case.do("save_analysis", w.prod, whys=["a\nb", " ", "c"], six_m=SixM.MATERIAL,
            root_cause="supplier resin", prod_date=TODAY)
    assert case.c.root_cause_whys == "a b\nc"
    with pytest.raises(InvalidInput):
        uc.investigation.save_analysis(w.kesu, w.prod, case.id, case.c.version,
                                       prod_date=TODAY + timedelta(1))


def test_capa_needs_a_known_owner_and_a_due_date_not_in_the_past(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    for owner, due in ((9999, DUE), (w.prod.id, TODAY - timedelta(days=1))):
        with pytest.raises(InvalidInput):
            uc.investigation.add_capa(w.kesu, w.prod, case.id, CapaType.CORRECTIVE, "x", owner, due)
    assert case.file.capa == []


def test_send_back_is_counted_and_the_analysis_can_be_resubmitted(w: World) -> None:
    case = drive(w, State.CAPA_REVIEW)
    with pytest.raises(InvalidInput):
        uc.investigation.send_back(w.kesu, w.qa, case.id, case.c.version, "")
    for n in (1, 2):
        case.do("send_back", w.qa, f"第{n}次退回")
        assert (case.c.state, case.c.sent_back_count) == (State.ROOT_CAUSE, n)
        case.do("submit_analysis", w.prod)
        assert case.c.state == State.CAPA_REVIEW
    case.do("approve_capa", w.qa)
    assert (case.c.state, case.c.sent_back_count) == (State.DISPOSITION, 2)


def test_complete_capa_needs_evidence(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    analyse(w, case)
    action = case.file.capa[0]
    with pytest.raises(InvalidInput):
        uc.investigation.complete_capa(w.kesu, w.prod, action.id or 0, "  ")
    case.once(lambda: uc.investigation.complete_capa(w.kesu, w.prod, action.id or 0, "照片"))
    done = case.file.capa[0]
    assert (done.status, done.evidence, done.done_at) == ("done", "照片", NOW)


def test_capa_action_is_edited_with_a_reason_and_the_event_says_what_changed(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    analyse(w, case)
    action = case.file.capa[0]
    case.once(lambda: uc.investigation.edit_capa(
        w.kesu, w.prod, action.id or 0, CapaType.PREVENTIVE, "Replace fixture and add PM",
        w.qa.id, DUE + timedelta(days=7), "QA asked for a PM plan"))
    edited = case.file.capa[0]
    assert (edited.type, edited.description, edited.owner_id, edited.due_date, edited.status) == (
        CapaType.PREVENTIVE, "Replace fixture and add PM", w.qa.id, DUE + timedelta(days=7),
        "open")
    e = case.events[-1]
    assert (e.action, e.comment, e.user_id) == ("capa_edited", "QA asked for a PM plan", w.prod.id)
    assert e.changes == {"capa": ["Replace fixture", "Replace fixture and add PM"],
                         "capa_type": ["corrective", "preventive"],
                         "owner": [w.prod.display_name, w.qa.display_name],
                         "due_date": [DUE.isoformat(), (DUE + timedelta(days=7)).isoformat()]}


def test_capa_edit_shows_every_problem_at_once_and_changes_nothing(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    analyse(w, case)
    action, events = case.file.capa[0], len(case.events)
    with pytest.raises(InvalidInput) as err:
        uc.investigation.edit_capa(w.kesu, w.prod, action.id or 0, CapaType.CORRECTIVE, " ",
                                   None, TODAY - timedelta(days=1), "")
    assert [(e.key, e.params.get("field")) for e in err.value.all] == [
        ("err.required", "capa_description"), ("err.required", "owner"),
        ("err.past_date", "due_date"), ("err.required", "reason")]
    assert case.file.capa == [action] and len(case.events) == events


def test_capa_edit_keeps_a_due_date_that_has_passed_since(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    analyse(w, case)
    action = case.file.capa[0]
    w.clock.advance(days=30)  # DUE is now in the past
    case.once(lambda: uc.investigation.edit_capa(
        w.kesu, w.prod, action.id or 0, action.type, "Replace the fixture", action.owner_id,
        action.due_date, "wording"))
    assert case.file.capa[0].due_date == DUE


def test_only_those_who_may_add_a_capa_action_may_change_or_withdraw_it(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    analyse(w, case)
    action = case.file.capa[0]
    for who in (w.sales, w.finance, w.other_prod):
        for call in (partial(uc.investigation.withdraw_capa, w.kesu, who, action.id or 0, "x"),
                     partial(uc.investigation.edit_capa, w.kesu, who, action.id or 0,
                             action.type, "y", action.owner_id, DUE, "x")):
            with pytest.raises(NotAllowed):
                call()
    assert case.file.capa == [action]
    case.once(lambda: uc.investigation.withdraw_capa(w.kesu, w.qa, action.id or 0, "duplicate"))


def test_a_withdrawn_capa_action_stays_marked_and_no_longer_counts(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    analyse(w, case)
    case.once(lambda: uc.investigation.add_capa(w.kesu, w.prod, case.id, CapaType.PREVENTIVE,
                                                "Train all shifts", w.prod.id, DUE))
    extra = case.file.capa[1]
    with pytest.raises(InvalidInput):
        uc.investigation.withdraw_capa(w.kesu, w.prod, extra.id or 0, "  ")  # a reason needed
    case.once(lambda: uc.investigation.withdraw_capa(w.kesu, w.prod, extra.id or 0,
                                                     "covered by the fixture PM"))
    e = case.events[-1]
    assert (e.action, e.comment) == ("capa_withdrawn", "covered by the fixture PM")
    assert [a.status for a in case.file.capa] == ["open", "withdrawn"]  # kept, not deleted
    for call in (partial(uc.investigation.complete_capa, w.kesu, w.prod, extra.id or 0, "x"),
                 partial(uc.investigation.withdraw_capa, w.kesu, w.prod, extra.id or 0, "x"),
                 partial(uc.investigation.edit_capa, w.kesu, w.prod, extra.id or 0,
                         extra.type, "y", extra.owner_id, DUE, "x")):
        with pytest.raises(NotAllowed) as err:
            call()
        assert err.value.key == "why.capa_not_open"
    for step in (_submit_only, _approve_capa, _propose, sign_all, _reply):
        step(w, case)
    execute(w, case)  # completes the open action; the withdrawn one stays withdrawn
    assert [a.status for a in case.file.capa] == ["done", "withdrawn"]
    case.do("complete", w.prod)  # "all CAPA done" does not wait for the withdrawn action
    assert case.c.state == State.VERIFYING


def test_withdrawing_the_only_capa_action_leaves_no_plan_to_submit(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    analyse(w, case)
    case.once(lambda: uc.investigation.withdraw_capa(w.kesu, w.qa, case.file.capa[0].id or 0,
                                                     "wrong action"))
    case.refused("why.capa_missing", "submit_analysis", w.prod)


def test_capa_evidence_may_be_a_file_kept_with_the_case_attachments(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    analyse(w, case)
    action = case.file.capa[0]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    with pytest.raises(InvalidInput):  # a file that is not what its name says: nothing stored
        uc.investigation.complete_capa(w.kesu, w.prod, action.id or 0, "",
                                       [Upload("fixture.png", b"not a picture")])
    assert case.file.capa[0].status == "open"
    uc.investigation.complete_capa(w.kesu, w.prod, action.id or 0, "",
                                   [Upload("new fixture.png", png)])
    done = case.file.capa[0]
    assert (done.status, done.evidence) == ("done", "📎 new fixture.png")
    view = uc.complaints.complaint(w.kesu, w.admin, case.id)
    assert [a.filename for a in view.attachments] == ["new fixture.png"]
    assert [e.action for e in view.events[-2:]] == ["attachment_added", "capa_done"]


def _submit_only(w: World, case: Case) -> None:
    case.do("submit_analysis", w.prod)


# ---------------------------------------------------------------- dispositions and approvals


def test_propose_without_dispositions_is_refused(w: World) -> None:
    case = drive(w, State.DISPOSITION)
    case.refused("why.disposition_missing", "propose", w.sales, "客户接受")


def test_setting_dispositions_again_replaces_the_draft(w: World) -> None:
    case = drive(w, State.DISPOSITION)
    case.do("set_dispositions", w.sales,
            [DispositionInput(DispositionType.COMPENSATION, None, "8000")],
            [CostInput(CostCategory.COMPENSATION, "8000", w.press)])
    case.do(
        "set_dispositions",
        w.sales,
        [
            DispositionInput(DispositionType.REWORK, 12, "300"),
            DispositionInput(DispositionType.EXPLANATION, None, None),
        ],
        [CostInput(CostCategory.REWORK_LABOUR, "300", w.press)],
    )
    f = case.file
    assert [d.type for d in f.current(f.dispositions)] == [
        DispositionType.REWORK,
        DispositionType.EXPLANATION,
    ]
    assert f.disposition_total == Decimal("300.00")
    assert [x.amount for x in f.current(f.costs)] == [Decimal("300.00")]
    assert len(f.dispositions) == 3  # the superseded draft stays recorded
    case.do("propose", w.sales, "返工")
    assert [s.title for s in case.file.current(case.file.steps)] == [Title.SALES_MANAGER]


def test_only_sales_sets_dispositions_and_only_in_disposition(w: World) -> None:
    case = drive(w, State.DISPOSITION)
    items = [DispositionInput(DispositionType.COMPENSATION, None, "100")]
    case.refused("why.wrong_role", "set_dispositions", w.qa, items)
    root = drive(w, State.ROOT_CAUSE)
    root.refused("why.wrong_state", "set_dispositions", w.sales, items)


@pytest.mark.parametrize(
    "items",
    [
        [DispositionInput(DispositionType.COMPENSATION, None, "0")],
        [DispositionInput(DispositionType.COMPENSATION, None, "-5")],
        [DispositionInput(DispositionType.RETURN, -1, "10")],
        [DispositionInput(DispositionType.REWORK, 5, None)],
        [],
    ],
)
def test_bad_dispositions_are_refused(w: World, items: list[DispositionInput]) -> None:
    case = drive(w, State.DISPOSITION)
    with pytest.raises(InvalidInput):
        uc.approval.set_dispositions(w.kesu, w.sales, case.id, case.c.version, items)
    assert case.file.dispositions == []


def test_a_charge_back_needs_a_supplier_and_cannot_exceed_the_cost(w: World) -> None:
    case = drive(w, State.DISPOSITION)
    items = [DispositionInput(DispositionType.COMPENSATION, None, "500")]
    for cost in (
        CostInput(CostCategory.COMPENSATION, "500", w.press, "", "100"),
        CostInput(CostCategory.COMPENSATION, "500", w.press, "ABC 塑料", "600"),
    ):
        with pytest.raises(InvalidInput):
            uc.approval.set_dispositions(w.kesu, w.sales, case.id, case.c.version, items, [cost])
    case.do("set_dispositions", w.sales, items,
            [CostInput(CostCategory.COMPENSATION, "500", w.press, "ABC 塑料", "500")])
    assert case.file.costs[0].charge_back == Decimal("500.00")


@pytest.mark.parametrize(
    "items, severity, titles",
    [
        ([("explanation", None)], Severity.C, [Title.QA_MANAGER]),
        ([("compensation", "1500")], Severity.C, [Title.SALES_MANAGER]),
        ([("compensation", "1500"), ("rework", "500")], Severity.C, [Title.SALES_MANAGER]),
        (
            [("compensation", "1500"), ("rework", "500.01")],
            Severity.C,
            [Title.SALES_MANAGER, Title.GENERAL_MANAGER],
        ),
        ([("compensation", "20000")], Severity.B, [Title.SALES_MANAGER, Title.GENERAL_MANAGER]),
        (
            [("replacement", "25000")],
            Severity.B,
            [Title.SALES_MANAGER, Title.GENERAL_MANAGER, Title.CHAIRMAN],
        ),
        ([("compensation", "1500")], Severity.A, [Title.SALES_MANAGER, Title.GENERAL_MANAGER]),
        ([("explanation", None)], Severity.A, [Title.QA_MANAGER, Title.GENERAL_MANAGER]),
    ],
)
def test_the_default_rules_decide_the_approval_steps_of_a_proposal(
        w: World, items: list[tuple[str, str | None]], severity: Severity,
        titles: list[str]) -> None:
    case = drive(w, State.DISPOSITION, severity_proposed=severity)
    propose(w, case, *(DispositionInput(DispositionType(t), None, a) for t, a in items))
    steps = case.file.current(case.file.steps)
    assert [s.title for s in steps] == titles
    assert [s.seq for s in steps] == list(range(1, len(titles) + 1))
    assert all(s.rule_version is None for s in steps)  # no rules saved: the defaults
    assert all(s.status == StepStatus.PENDING for s in steps)
    assert case.c.proposer_id == w.sales.id and case.c.customer_position == "客户接受赔款"
    sign_all(w, case)
    assert case.c.state == State.REPLYING


def test_saved_rules_are_used_from_the_next_round_on(w: World) -> None:
    under_way = drive(w, State.PENDING_APPROVAL)  # 8000: sales manager, general manager
    sm, ch = RuleStep(Title.SALES_MANAGER), RuleStep(Title.CHAIRMAN)
    version = uc.authority.save_rules(w.kesu, w.admin, [
        Rule("赔款：董事长", (ch,), dispositions=frozenset({DispositionType.COMPENSATION.value}),
             over=Decimal("10000")),
        Rule("≤10000", (sm,), up_to=Decimal("10000")),
        Rule(">10000", (sm, ch), over=Decimal("10000")),
    ])
    assert uc.authority.rule_set(w.kesu).version == version
    case = drive(w, State.PENDING_APPROVAL)
    assert [(s.title, s.rule_version) for s in case.file.steps] == [
        (Title.SALES_MANAGER, version)]
    # the round under way keeps the steps it was planned with
    assert [s.title for s in under_way.file.current(under_way.file.steps)] == [
        Title.SALES_MANAGER, Title.GENERAL_MANAGER]
    sign_all(w, under_way)
    assert under_way.c.state == State.REPLYING
    big = drive(w, State.DISPOSITION)
    propose(w, big, DispositionInput(DispositionType.COMPENSATION, None, "12000"))
    assert [s.title for s in big.file.current(big.file.steps)] == [Title.CHAIRMAN]
    sign_all(w, big)
    assert big.c.state == State.REPLYING
    assert [r.version for r in uc.authority.rule_versions(w.kesu, w.admin)] == [version]


def test_rules_that_cannot_work_are_refused_with_every_problem(w: World) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.authority.save_rules(w.kesu, w.admin, [
            Rule("≤1", (RuleStep(Title.SALES_MANAGER),), up_to=Decimal("1")),
            Rule("", (RuleStep("vp_sales"),), over=Decimal("1")),
        ])
    assert [(e.key, e.params.get("rule")) for e in err.value.all] == [
        ("err.rule_name", 2), ("err.rule_unknown_title", 2)]
    assert uc.authority.rule_set(w.kesu).version == 0  # nothing saved: still the defaults
    with pytest.raises(NotAllowed):
        uc.authority.save_rules(w.kesu, w.sm, [Rule("*", (RuleStep(Title.CHAIRMAN),))])
    with pytest.raises(NotAllowed):
        uc.authority.rule_versions(w.kesu, w.sm)
    # a proposal no rule covers cannot be submitted, and says so
    uc.authority.save_rules(w.kesu, w.admin, [
        Rule("≤1000", (RuleStep(Title.SALES_MANAGER),), up_to=Decimal("1000"))])
    case = drive(w, State.DISPOSITION)
    case.do("set_dispositions", w.sales,
            [DispositionInput(DispositionType.COMPENSATION, None, "8000")])
    with pytest.raises(InvalidInput) as no_rule:
        uc.approval.propose(w.kesu, w.sales, case.id, case.c.version, "客户接受赔款")
    assert no_rule.value.key == "err.no_rule"
    assert case.c.state == State.DISPOSITION


def test_titles_are_data_a_title_in_use_cannot_be_dropped(w: World) -> None:
    defs = list(uc.authority.titles(w.kesu).defs)
    with pytest.raises(InvalidInput) as err:  # the chairman is held and named by a rule
        uc.authority.set_titles(w.kesu, w.admin, [d for d in defs if d.code != Title.CHAIRMAN])
    assert err.value.key == "err.title_in_use"
    with pytest.raises(NotAllowed):
        uc.authority.set_titles(w.kesu, w.sm, defs)
    uc.authority.set_titles(w.kesu, w.admin, [*defs, TitleDef("vp_sales", "营销副总", "VP sales",
                                                               55, Title.CHAIRMAN)])
    book = uc.authority.titles(w.kesu)
    assert (book.name("vp_sales", "zh"), book.rank("vp_sales")) == ("营销副总", 55)
    # a step of a title nobody holds goes to its substitute
    uc.authority.save_rules(w.kesu, w.admin, [Rule("*", (RuleStep("vp_sales"),))])
    case = drive(w, State.PENDING_APPROVAL)
    [step] = case.file.current(case.file.steps)
    assert (step.title, step.moved_titles, step.moved_why) == (
        Title.CHAIRMAN, ("vp_sales",), "no_holder")


def test_parallel_steps_are_signed_in_any_order_before_the_next_stage(w: World) -> None:
    uc.authority.save_rules(w.kesu, w.admin, [Rule("会签", (
        RuleStep(Title.SALES_MANAGER), RuleStep(Title.QA_MANAGER, parallel=True),
        RuleStep(Title.GENERAL_MANAGER, or_higher=True)))])
    case = drive(w, State.PENDING_APPROVAL)
    assert [(s.title, s.seq, s.or_higher) for s in case.file.current(case.file.steps)] == [
        (Title.SALES_MANAGER, 1, False), (Title.QA_MANAGER, 1, False),
        (Title.GENERAL_MANAGER, 2, True)]
    case.refused("why.not_your_step", "approve_step", w.gm)  # not before the first stage
    case.do("approve_step", w.qam)  # either of the first stage first
    assert case.c.state == State.PENDING_APPROVAL
    case.refused("why.not_your_step", "approve_step", w.chairman)
    case.do("approve_step", w.sm)
    case.do("approve_step", w.chairman)  # a higher title may sign an or-higher step
    assert case.c.state == State.REPLYING
    assert [s.decided_by_id for s in case.file.current(case.file.steps)] == [
        w.sm.id, w.qam.id, w.chairman.id]


def test_steps_are_signed_in_order(w: World) -> None:
    case = drive(w, State.PENDING_APPROVAL, severity_proposed=Severity.B)
    propose_30k = DispositionInput(DispositionType.COMPENSATION, None, "30000")
    case.do("reject_step", w.sm, "重新报价")
    propose(w, case, propose_30k)
    case.refused("why.not_your_step", "approve_step", w.gm)
    case.refused("why.not_your_step", "approve_step", w.chairman)
    case.do("approve_step", w.sm)
    case.refused("why.not_your_step", "approve_step", w.chairman)
    case.refused("why.not_your_step", "approve_step", w.sm)
    case.do("approve_step", w.gm)
    assert case.c.state == State.PENDING_APPROVAL
    case.do("approve_step", w.chairman)
    assert case.c.state == State.REPLYING
    steps = case.file.current(case.file.steps)
    assert [(s.title, s.decided_by_id) for s in steps] == [
        (Title.SALES_MANAGER, w.sm.id),
        (Title.GENERAL_MANAGER, w.gm.id),
        (Title.CHAIRMAN, w.chairman.id),
    ]
    assert all(s.decided_at == NOW and s.on_behalf_of_id is None for s in steps)


def test_proposer_cannot_approve_own_disposition(w: World, make_user: MakeUser) -> None:
    boss_sales = make_user("susan", Role.SALES, Role.MANAGEMENT,
                           titles=frozenset({Title.SALES_MANAGER}))
    case = drive(w, State.DISPOSITION)
    case.do("set_dispositions", boss_sales,
            [DispositionInput(DispositionType.COMPENSATION, None, "1000")])
    case.do("propose", boss_sales, "客户接受")
    case.refused("why.not_your_step", "approve_step", boss_sales)
    case.refused("why.not_your_step", "reject_step", boss_sales, "no")
    assert uc.approve_queue.pending_approvals(w.kesu, boss_sales) == []
    assert [
        a.reason
        for a in uc.complaints.actions(w.kesu, boss_sales, case.id)
        if a.action == "approve_step"
    ] == ["why.not_your_step"]
    case.do("approve_step", w.sm)  # another holder of the title may


def test_a_user_without_the_title_cannot_sign(w: World) -> None:
    case = drive(w, State.PENDING_APPROVAL)
    case.refused("why.not_your_step", "approve_step", w.boss)
    case.refused("why.not_your_step", "approve_step", w.qam)
    case.refused("why.wrong_role", "approve_step", w.sales)


def test_a_delegate_signs_within_the_date_range_recorded_on_behalf_of(w: World) -> None:
    uc.delegation.set_delegation(w.kesu, w.gm, w.boss.id, TODAY, TODAY + timedelta(days=7))
    case = drive(w, State.PENDING_APPROVAL)
    case.do("approve_step", w.sm)
    [card] = uc.approve_queue.pending_approvals(w.kesu, w.boss)
    assert (card.on_behalf_of, card.step.title) == (w.gm.display_name, Title.GENERAL_MANAGER)
    case.do("approve_step", w.boss, "代签")
    gm_step = case.file.current(case.file.steps)[1]
    assert (gm_step.decided_by_id, gm_step.on_behalf_of_id) == (w.boss.id, w.gm.id)
    assert case.c.state == State.REPLYING


@pytest.mark.parametrize("start, end, later", [(1, 7, 0), (0, 1, 3)])
def test_a_delegate_cannot_sign_outside_the_date_range(w: World, start: int, end: int,
                                                       later: int) -> None:
    uc.delegation.set_delegation(w.kesu, w.gm, w.boss.id, TODAY + timedelta(days=start),
                               TODAY + timedelta(days=end))
    w.clock.advance(days=later)  # not yet begun; or over
    case = drive(w, State.PENDING_APPROVAL)
    case.do("approve_step", w.sm)
    case.refused("why.not_your_step", "approve_step", w.boss)
    assert uc.approve_queue.pending_approvals(w.kesu, w.boss) == []


def test_delegations_are_checked(w: World) -> None:
    with pytest.raises(InvalidInput):
        uc.delegation.set_delegation(w.kesu, w.boss, w.sm.id, TODAY, TODAY)  # boss holds no title
    with pytest.raises(InvalidInput):
        uc.delegation.set_delegation(w.kesu, w.gm, w.gm.id, TODAY, TODAY)
    with pytest.raises(InvalidInput):
        uc.delegation.set_delegation(w.kesu, w.gm, w.boss.id, TODAY, TODAY - timedelta(days=1))
    with pytest.raises(NotAllowed):
        uc.delegation.set_delegation(w.kesu, w.sm, w.boss.id, TODAY, TODAY, manager_id=w.gm.id)
    uc.delegation.set_delegation(w.kesu, w.admin, w.boss.id, TODAY, TODAY, manager_id=w.gm.id)
    assert [(v.delegation.manager_id, v.delegation.deputy_id)
            for v in uc.delegation.delegations(w.kesu, w.boss)] == [
        (w.gm.id, w.boss.id)
    ]


def test_qa_classifying_below_the_criteria_must_say_why(w: World) -> None:
    """Issue #12: the criteria were shown but never applied. A claim of 15,000 asks for A."""
    case = drive(w, State.INVESTIGATING, claimed_amount="15000", severity_proposed=Severity.A)
    before = case.c
    with pytest.raises(InvalidInput) as err:
        uc.investigation.classify(w.kesu, w.qa, case.id, case.c.version, Validity.VALID,
                                  Category.QUALITY, Severity.C, w.press)
    assert (err.value.key, err.value.params) == (
        "err.severity_below", {"suggested": "A", "criteria": "claim_a"})
    assert case.c == before
    case.do("classify", w.qa, Validity.VALID, Category.QUALITY, Severity.C, w.press,
            "客户同意按外观问题处理，索赔另议")
    assert case.c.severity == Severity.C
    assert case.events[-1].comment == "客户同意按外观问题处理，索赔另议"


def test_the_general_manager_as_proposer_is_signed_by_the_chairman_and_finishes(
        w: World) -> None:
    """Issue #12: when the general manager was also the proposer, nobody could sign the GM
    step (KS…-005 stayed stuck). Now it moves to the chairman, and the card says why."""
    gm = uc.accounts.update_user(w.kesu, w.admin, w.gm.id, UserInput(
        w.gm.username, w.gm.display_name, frozenset({Role.MANAGEMENT, Role.SALES}),
        titles=frozenset({Title.GENERAL_MANAGER})))
    case = drive(w, State.DISPOSITION)
    items = (DispositionInput(DispositionType.COMPENSATION, None, "8000"),)
    case.do("set_dispositions", gm, items)
    case.do("propose", gm, "客户接受赔款")
    steps = case.file.current(case.file.steps)
    assert [(s.title, s.moved_titles, s.moved_why) for s in steps] == [
        (Title.SALES_MANAGER, (), ""),
        (Title.CHAIRMAN, (Title.GENERAL_MANAGER,), "proposer")]
    case.refused("why.not_your_step", "approve_step", gm)
    case.do("approve_step", w.sm)
    [card] = uc.approve_queue.pending_approvals(w.kesu, w.chairman)
    assert card.step.moved_titles == (Title.GENERAL_MANAGER,)
    [(earlier, signer, boss)] = card.decided  # the sales manager's signature, shown
    assert (earlier.title, signer, boss) == (Title.SALES_MANAGER, w.sm.display_name, "")
    case.do("approve_step", w.chairman, "代总经理核决")
    assert case.c.state == State.REPLYING


def test_admin_tries_the_rules_and_sees_who_would_sign(w: World) -> None:
    found = uc.authority.who_would_sign(w.kesu, w.admin, "8000", None, w.gm.id)
    assert (found.version, found.rule, found.name) == (0, 7, DEFAULT_RULES[6].name)  # ≤20000
    assert [(x.step.title, x.step.moved_from, x.people) for x in found.steps] == [
        (Title.SALES_MANAGER, (), (w.sm.display_name,)),
        (Title.CHAIRMAN, (Title.GENERAL_MANAGER,), (w.chairman.display_name,))]
    assert [x.step.title for x in uc.authority.who_would_sign(
        w.kesu, w.admin, "100", Severity.A, None).steps] == [Title.SALES_MANAGER,
                                                             Title.GENERAL_MANAGER]
    # the rules read the disposition types and the market; nothing is written
    version = uc.authority.save_rules(w.kesu, w.admin, [
        Rule("海外赔款", (RuleStep(Title.GENERAL_MANAGER), RuleStep(Title.CHAIRMAN)),
             dispositions=frozenset({DispositionType.COMPENSATION.value}),
             markets=frozenset({Market.OVERSEAS.value})),
        Rule("*", (RuleStep(Title.SALES_MANAGER),), up_to=Decimal("5000"))])
    abroad = uc.authority.who_would_sign(w.kesu, w.admin, "100", None, None,
                                        [DispositionType.COMPENSATION], market="overseas")
    assert (abroad.version, abroad.rule, abroad.name) == (version, 1, "海外赔款")
    assert [x.step.title for x in abroad.steps] == [Title.GENERAL_MANAGER, Title.CHAIRMAN]
    assert uc.authority.who_would_sign(w.kesu, w.admin, "100", None, None,
                                      [DispositionType.COMPENSATION]).rule == 2
    none = uc.authority.who_would_sign(w.kesu, w.admin, "8000", None, None)
    assert (none.rule, none.steps) == (0, [])  # no rule covers it
    with pytest.raises(NotAllowed):
        uc.authority.who_would_sign(w.kesu, w.sales, "8000", None, None)
    for total, proposer, why in (("-1", None, "err.amount"), ("8000", 999, "err.unknown")):
        with pytest.raises(InvalidInput) as err:
            uc.authority.who_would_sign(w.kesu, w.admin, total, None, proposer)
        assert err.value.key == why


def test_a_deputy_signs_no_second_step_of_the_round(w: World) -> None:
    """Issue #11: with a delegation, one person signed both the sales-manager and the GM step
    of one round. The sales manager, deputy of the GM, signs only the first."""
    uc.delegation.set_delegation(w.kesu, w.gm, w.sm.id, TODAY, TODAY + timedelta(days=7))
    case = drive(w, State.PENDING_APPROVAL)
    case.do("approve_step", w.sm)
    case.refused("why.not_your_step", "approve_step", w.sm)
    case.refused("why.not_your_step", "reject_step", w.sm, "不同意")
    assert uc.approve_queue.pending_approvals(w.kesu, w.sm) == []
    case.do("approve_step", w.gm)  # the general manager still signs their own step
    assert case.c.state == State.REPLYING


def test_one_deputy_of_two_managers_signs_one_step_of_the_round(w: World) -> None:
    for boss in (w.sm, w.gm):
        uc.delegation.set_delegation(w.kesu, boss, w.boss.id, TODAY, TODAY + timedelta(days=7))
    case = drive(w, State.PENDING_APPROVAL)
    case.do("approve_step", w.boss)  # for the sales manager
    case.refused("why.not_your_step", "approve_step", w.boss)  # not again, for the GM
    case.do("approve_step", w.gm)


def test_a_manager_whose_deputy_signed_signs_no_other_step(w: World) -> None:
    """Signed for the sales manager by a deputy: the sales manager, also the GM's deputy, is
    one of this round's signers already."""
    uc.delegation.set_delegation(w.kesu, w.sm, w.boss.id, TODAY, TODAY + timedelta(days=7))
    uc.delegation.set_delegation(w.kesu, w.gm, w.sm.id, TODAY, TODAY + timedelta(days=7))
    case = drive(w, State.PENDING_APPROVAL)
    case.do("approve_step", w.boss)
    case.refused("why.not_your_step", "approve_step", w.sm)
    case.do("approve_step", w.gm)


def test_a_new_round_may_be_signed_again_by_the_same_people(w: World) -> None:
    case = drive(w, State.PENDING_APPROVAL)
    case.do("approve_step", w.sm)
    case.do("reject_step", w.gm, "金额太高")
    case.do("propose", w.sales, "客户接受")
    case.do("approve_step", w.sm)
    case.do("approve_step", w.gm)
    assert case.c.state == State.REPLYING


@pytest.mark.parametrize("start, end, why", [
    (-1, 3, "err.delegation_past"),
    (0, 90, "err.delegation_too_long"),  # 91 days, both ends counted
    (5, 4, "err.date_order"),
])
def test_delegations_are_bounded(w: World, start: int, end: int, why: str) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.delegation.set_delegation(w.kesu, w.gm, w.boss.id, TODAY + timedelta(days=start),
                                   TODAY + timedelta(days=end))
    assert err.value.key == why
    assert uc.delegation.delegations(w.kesu, w.gm) == []


def test_the_longest_delegation_is_a_setting(w: World) -> None:
    uc.delegation.set_delegation(w.kesu, w.gm, w.boss.id, TODAY, TODAY + timedelta(days=89))
    uc.reference.set_settings(w.kesu, w.admin, {"delegation_max_days": 14})
    with pytest.raises(InvalidInput) as err:
        uc.delegation.set_delegation(w.kesu, w.gm, w.boss.id, TODAY, TODAY + timedelta(days=14))
    assert (err.value.key, err.value.params["days"]) == ("err.delegation_too_long", 14)
    uc.delegation.set_delegation(w.kesu, w.gm, w.boss.id, TODAY, TODAY + timedelta(days=13))


def test_a_revoked_delegation_signs_nothing_and_stays_listed(w: World) -> None:
    did = uc.delegation.set_delegation(w.kesu, w.gm, w.boss.id, TODAY, TODAY + timedelta(days=7))
    with pytest.raises(NotAllowed):
        uc.delegation.revoke_delegation(w.kesu, w.sm, did)  # neither party nor admin
    w.clock.advance(minutes=5)
    uc.delegation.revoke_delegation(w.kesu, w.gm, did)
    with pytest.raises(InvalidInput) as err:
        uc.delegation.revoke_delegation(w.kesu, w.admin, did)
    assert err.value.key == "err.delegation_over"
    case = drive(w, State.PENDING_APPROVAL)
    case.do("approve_step", w.sm)
    case.refused("why.not_your_step", "approve_step", w.boss)
    [v] = uc.delegation.delegations(w.kesu, w.boss)
    assert (v.manager, v.deputy, v.created_by, v.revoked_by) == (
        w.gm.display_name, w.boss.display_name, w.gm.display_name, w.gm.display_name)
    assert (v.current, v.revocable, v.delegation.revoked_at) == (False, False, w.clock())


def test_the_deputy_and_an_admin_may_revoke_and_everyone_sees_their_own(w: World) -> None:
    mine = uc.delegation.set_delegation(w.kesu, w.gm, w.boss.id, TODAY, TODAY + timedelta(days=3))
    other = uc.delegation.set_delegation(w.kesu, w.sm, w.qam.id, TODAY + timedelta(days=1),
                                       TODAY + timedelta(days=3))
    assert [v.delegation.id for v in uc.delegation.delegations(w.kesu, w.boss)] == [mine]
    assert [v.delegation.id for v in uc.delegation.delegations(w.kesu, w.admin)] == [other, mine]
    assert all(v.revocable for v in uc.delegation.delegations(w.kesu, w.admin))
    uc.delegation.revoke_delegation(w.kesu, w.boss, mine)  # the deputy declines
    uc.delegation.revoke_delegation(w.kesu, w.admin, other)
    assert not any(v.current for v in uc.delegation.delegations(w.kesu, w.admin))


def test_production_of_another_department_cannot_record_an_execution(w: World) -> None:
    case = drive(w, State.DISPOSITION)
    propose(w, case, DispositionInput(DispositionType.REWORK, 12, "200"))
    sign_all(w, case)
    _reply(w, case)
    [rework] = case.file.current(case.file.dispositions)
    with pytest.raises(NotAllowed) as err:
        uc.closure.record_execution(w.kesu, w.other_prod, rework.id or 0, 12, "返工完成")
    assert err.value.key == "why.not_your_department"
    assert not case.file.current(case.file.dispositions)[0].done
    case.once(lambda: uc.closure.record_execution(w.kesu, w.prod, rework.id or 0, 12, "返工完成"))


def test_reject_starts_a_new_round_with_the_old_dispositions_and_fresh_steps(w: World) -> None:
    case = drive(w, State.PENDING_APPROVAL)
    case.do("approve_step", w.sm, "同意")
    with pytest.raises(InvalidInput):
        uc.approval.reject_step(w.kesu, w.gm, case.id, case.c.version, " ")
    case.do("reject_step", w.gm, "金额过高, 再谈")
    c, f = case.c, case.file
    assert (c.state, c.approval_round) == (State.DISPOSITION, 1)
    old = [s for s in f.steps if s.round == 0]
    assert [(s.status, s.decided_by_id, s.comment) for s in old] == [
        (StepStatus.APPROVED, w.sm.id, "同意"),
        (StepStatus.REJECTED, w.gm.id, "金额过高, 再谈"),
    ]
    copied = f.current(f.dispositions)
    assert [(d.type, d.amount, d.done) for d in copied] == [
        (DispositionType.COMPENSATION, Decimal("8000.00"), False)
    ]
    assert [x.amount for x in f.current(f.costs)] == [Decimal("8000.00")]
    assert f.current(f.steps) == []
    case.do("propose", w.sales, "客户坚持")
    fresh = case.file.current(case.file.steps)
    assert [(s.title, s.status, s.round) for s in fresh] == [
        (Title.SALES_MANAGER, StepStatus.PENDING, 1),
        (Title.GENERAL_MANAGER, StepStatus.PENDING, 1),
    ]
    sign_all(w, case)
    assert case.c.state == State.REPLYING


def test_reject_voids_the_later_steps_of_the_round(w: World) -> None:
    case = drive(w, State.PENDING_APPROVAL)
    case.do("reject_step", w.sm, "不同意")
    old = [s for s in case.file.steps if s.round == 0]
    assert [s.status for s in old] == [StepStatus.REJECTED, StepStatus.VOID]
    assert old[1].decided_by_id is None


# ---------------------------------------------------------------- reply, execution, closure


def test_reply_records_date_method_and_text(w: World) -> None:
    case = drive(w, State.REPLYING)
    with pytest.raises(InvalidInput):
        uc.closure.reply(w.kesu, w.sales, case.id, case.c.version, TODAY + timedelta(days=1),
                         ReplyMethod.EMAIL, "x")
    case.do("reply", w.sales, TODAY, ReplyMethod.LETTER, "Dear customer")
    c = case.c
    assert (c.state, c.reply_date, c.reply_method, c.reply_text) == (
        State.IMPLEMENTING,
        TODAY,
        ReplyMethod.LETTER,
        "Dear customer",
    )


def test_finance_pays_a_compensation_in_instalments_that_must_add_up(w: World) -> None:
    """Issue #12: finance's payment had no date, amount or voucher; the seed's 4.3.2 pays in
    two instalments. The case completes only when they add up to the approved amount."""
    case = drive(w, State.DISPOSITION)
    propose(w, case, DispositionInput(DispositionType.COMPENSATION, None, "8000"),
            DispositionInput(DispositionType.REWORK, 12, "200"))
    sign_all(w, case)
    _reply(w, case)
    capa = case.file.capa[0]
    case.once(lambda: uc.investigation.complete_capa(w.kesu, w.prod, capa.id or 0, "照片"))
    comp, rework = case.file.current(case.file.dispositions)
    case.once(lambda: uc.closure.record_execution(w.kesu, w.prod, rework.id or 0, 12, "返工"))

    def pay(amount: str, method: PaymentMethod = PaymentMethod.BANK_TRANSFER,
            voucher: str = "HK-2026-001", who: User | None = None,
            on: date = TODAY) -> Complaint:
        return uc.closure.record_payment(w.kesu, who or w.finance, comp.id or 0, on, amount,
                                         method, voucher)

    for bad, why in ((lambda: pay("0")), "err.amount"), ((lambda: pay("3000", voucher="")),
                                                        "err.required"), (
            (lambda: pay("3000", on=TODAY + timedelta(days=1))), "err.future_date"):
        with pytest.raises(InvalidInput) as err:
            bad()
        assert err.value.key == why
    with pytest.raises(NotAllowed):
        pay("3000", who=w.prod)  # finance pays, not production
    with pytest.raises(InvalidInput) as err:
        uc.closure.record_payment(w.kesu, w.finance, rework.id or 0, TODAY, "10",
                                  PaymentMethod.CASH)
    assert err.value.key == "err.payment_not_compensation"
    case.once(lambda: pay("3000"))
    assert not case.file.current(case.file.dispositions)[0].done
    case.refused("why.disposition_open", "complete", w.prod)
    with pytest.raises(InvalidInput) as err:
        pay("6000")
    assert (err.value.key, err.value.params) == (
        "err.payment_above", {"left": "5,000.00", "approved": "8,000.00"})
    case.once(lambda: pay("5000", PaymentMethod.INVOICE_DEDUCTION, "INV-2612-77"))
    assert case.file.current(case.file.dispositions)[0].done
    assert [(p.amount, p.method, p.voucher) for p in uc.closure.payments(
        w.kesu, w.finance, case.id)] == [
        (Decimal("3000.00"), PaymentMethod.BANK_TRANSFER, "HK-2026-001"),
        (Decimal("5000.00"), PaymentMethod.INVOICE_DEDUCTION, "INV-2612-77")]
    assert case.events[-1].changes["paid_total"] == ["3000.00", "8000.00"]
    with pytest.raises(InvalidInput):
        pay("1")  # done: nothing more
    case.do("complete", w.prod)
    assert case.c.state == State.VERIFYING


def test_complete_waits_for_capa_with_evidence_and_every_execution(w: World) -> None:
    case = drive(w, State.DISPOSITION)
    propose(w, case, DispositionInput(DispositionType.COMPENSATION, None, "1000"),
            DispositionInput(DispositionType.REWORK, 12, "200"),
            DispositionInput(DispositionType.EXPLANATION, None, None))
    sign_all(w, case)
    _reply(w, case)
    case.refused("why.capa_open", "complete", w.prod)
    capa = case.file.capa[0]
    case.once(lambda: uc.investigation.complete_capa(w.kesu, w.prod, capa.id or 0, "照片"))
    case.refused("why.disposition_open", "complete", w.prod)
    comp, rework, explanation = case.file.current(case.file.dispositions)
    assert explanation.done  # an explanation needs no execution
    with pytest.raises(NotAllowed) as err:
        uc.closure.record_execution(w.kesu, w.prod, comp.id or 0, None, "paid")
    assert err.value.key == "why.wrong_role"  # finance pays compensation
    case.once(lambda: uc.closure.record_execution(w.kesu, w.finance, comp.id or 0, None, "转账"))
    case.refused("why.disposition_open", "complete", w.finance)
    with pytest.raises(NotAllowed):
        uc.closure.record_execution(w.kesu, w.finance, rework.id or 0, 12, "reworked")
    case.once(lambda: uc.closure.record_execution(w.kesu, w.prod, rework.id or 0, 12, "返工完成"))
    with pytest.raises(InvalidInput):
        uc.closure.record_execution(w.kesu, w.prod, rework.id or 0, 12, "again")
    case.do("complete", w.prod)
    assert case.c.state == State.VERIFYING
    done = case.file.current(case.file.dispositions)
    assert [(d.done, d.done_by_id, d.done_qty) for d in done[:2]] == [
        (True, w.finance.id, None),
        (True, w.prod.id, 12),
    ]


def test_execution_is_recorded_only_while_implementing(w: World) -> None:
    case = drive(w, State.PENDING_APPROVAL)
    d = case.file.current(case.file.dispositions)[0]
    with pytest.raises(NotAllowed) as err:
        uc.closure.record_execution(w.kesu, w.finance, d.id or 0, None, "paid early")
    assert err.value.key == "why.wrong_state"


def test_verification_effective_goes_to_follow_up(w: World) -> None:
    case = drive(w, State.VERIFYING)
    with pytest.raises(InvalidInput):
        uc.closure.verify(w.kesu, w.qa, case.id, case.c.version, None)
    case.do("verify", w.qa, True)
    assert (case.c.state, case.c.verified_effective) == (State.FOLLOW_UP, True)


def test_not_effective_sends_the_case_back_to_root_cause(w: World) -> None:
    case = drive(w, State.VERIFYING)
    with pytest.raises(InvalidInput):
        uc.closure.verify(w.kesu, w.qa, case.id, case.c.version, False, "")
    case.do("verify", w.qa, False, "客户又发现划伤")
    assert (case.c.state, case.c.verified_effective) == (State.ROOT_CAUSE, False)
    assert case.events[-1].comment == "客户又发现划伤"


def test_the_loop_after_not_effective_starts_a_new_approval_round(w: World) -> None:
    """The paid compensation stays recorded in its round; the new round needs new approval."""
    case = drive(w, State.VERIFYING)
    case.do("verify", w.qa, False, "not effective")
    assert case.c.approval_round == 1
    analyse(w, case)
    case.do("submit_analysis", w.prod)
    case.do("approve_capa", w.qa)
    case.refused("why.disposition_missing", "propose", w.sales, "再次处理")
    propose(w, case, DispositionInput(DispositionType.EXPLANATION, None, None))
    assert [s.title for s in case.file.current(case.file.steps)] == [Title.QA_MANAGER]
    paid = [d for d in case.file.dispositions if d.round == 0]
    assert [(d.amount, d.done) for d in paid] == [(Decimal("8000.00"), True)]
    sign_all(w, case)
    _reply(w, case)
    _complete(w, case)
    assert case.c.state == State.VERIFYING


def test_scheduled_verification_waits_until_the_date(w: World) -> None:
    case = drive(w, State.VERIFYING)
    with pytest.raises(InvalidInput):
        uc.closure.verify(w.kesu, w.qa, case.id, case.c.version, None, schedule_days=0)
    case.do("verify", w.qa, None, "看后 3 批", schedule_days=3)
    assert (case.c.state, case.c.verify_after) == (State.VERIFYING, TODAY + timedelta(days=3))
    case.refused("why.verification_scheduled", "verify", w.qa, True)
    w.clock.advance(days=2)
    case.refused("why.verification_scheduled", "verify", w.qa, True)
    assert [
        a.reason for a in uc.complaints.actions(w.kesu, w.qa, case.id) if a.action == "verify"
    ] == ["why.verification_scheduled"]
    w.clock.advance(days=1)
    case.do("verify", w.qa, True)
    assert (case.c.state, case.c.verify_after) == (State.FOLLOW_UP, None)


def test_follow_up_satisfied_closes_the_case(w: World) -> None:
    case = drive(w, State.FOLLOW_UP)
    with pytest.raises(InvalidInput):
        uc.closure.follow_up(w.kesu, w.sales, case.id, case.c.version, day=TODAY, contact="x",
                             score=6, satisfaction=Satisfaction.SATISFIED)
    _follow_up(w, case)
    c = case.c
    assert (c.state, c.closed_at, c.satisfaction_score, c.lessons_learned) == (
        State.CLOSED,
        NOW,
        5,
        "PM for fixtures",
    )


def test_not_satisfied_reopens_the_analysis_with_the_reopen_count(w: World) -> None:
    case = drive(w, State.FOLLOW_UP)
    case.do("follow_up", w.sales, day=TODAY, contact="王经理", score=1,
            satisfaction=Satisfaction.NOT_SATISFIED, notes="仍有划伤")
    c = case.c
    assert (c.state, c.reopen_count, c.closed_at) == (State.ROOT_CAUSE, 1, None)
    assert c.approval_round == 1  # the next disposition is a new round
    assert c.satisfaction == Satisfaction.NOT_SATISFIED


# ---------------------------------------------------------------- cancel, merge, reopen, hold


def test_sales_cancels_only_before_investigation_management_any_time(w: World) -> None:
    for state in (State.REGISTERED, State.DISPATCHED):
        case = drive(w, state)
        case.do("cancel", w.sales, "客户撤回")
        assert (case.c.state, case.c.cancel_reason) == (State.CANCELLED, "客户撤回")
    case = drive(w, State.INVESTIGATING)
    case.refused("why.cancel_after_investigation", "cancel", w.sales, "太晚")
    case.refused("why.wrong_role", "cancel", w.qa, "no")
    with pytest.raises(InvalidInput):
        uc.closure.cancel(w.kesu, w.boss, case.id, case.c.version, " ")
    case.do("cancel", w.boss, "与客户和解")
    late = drive(w, State.IMPLEMENTING)
    late.do("cancel", w.boss, "客户破产")
    late.refused("why.wrong_state", "cancel", w.boss, "again")


def test_merge_cancels_the_duplicate_with_a_link_and_an_event_on_the_survivor(w: World) -> None:
    survivor = drive(w, State.INVESTIGATING)
    dup = log(w, lot="L2")
    n = len(survivor.events)
    dup.do("merge", w.sales, survivor.c.number.lower(), "同一批货")
    c = dup.c
    assert (c.state, c.merged_into_id) == (State.CANCELLED, survivor.id)
    assert c.cancel_reason == f"duplicate:{survivor.c.number}"
    assert (c.no_investigation_by_id, c.no_investigation_reason) == (
        w.sales.id,
        f"duplicate:{survivor.c.number}",
    )
    assert len(survivor.events) == n + 1
    last = survivor.events[-1]
    assert (last.action, last.changes, last.comment, last.user_id) == (
        "merged_in",
        {"duplicate": [None, dup.c.number]},
        "同一批货",
        w.sales.id,
    )
    assert survivor.c.state == State.INVESTIGATING


def test_merge_into_itself_an_unknown_or_a_cancelled_case_is_refused(w: World) -> None:
    dup = log(w)
    gone = log(w, lot="L3")
    gone.do("cancel", w.sales, "x")
    for number in (dup.c.number, "KS0000-999", gone.c.number):
        with pytest.raises(InvalidInput):
            uc.closure.merge(w.kesu, w.sales, dup.id, dup.c.version, number)
    assert dup.actions == ["registered"]


def test_reopen_returns_a_closed_case_to_root_cause(w: World) -> None:
    case = drive(w, State.CLOSED)
    case.refused("why.wrong_role", "reopen", w.sales, "again")
    with pytest.raises(InvalidInput):
        uc.closure.reopen(w.kesu, w.qa, case.id, case.c.version, "")
    case.do("reopen", w.boss, "同一问题再次发生")
    c = case.c
    assert (c.state, c.reopen_count, c.closed_at, c.approval_round) == (
        State.ROOT_CAUSE,
        1,
        None,
        1,
    )


def test_reopen_of_an_invalid_case_is_refused(w: World) -> None:
    case = invalid_case_closed(w)
    case.refused("why.invalid_case", "reopen", w.qa, "again")
    case.refused("why.invalid_case", "reopen", w.boss, "again")


def test_hold_blocks_the_work_until_resumed(w: World) -> None:
    case = drive(w, State.DISPATCHED)
    case.do("hold", w.qa, "等待客户寄回样品")
    assert case.c.on_hold_since == NOW and case.c.hold_reason == "等待客户寄回样品"
    case.refused("why.on_hold", "acknowledge", w.qa)
    case.refused("why.on_hold", "hold", w.qa, "again")
    assert ("acknowledge", False, "why.on_hold") in [
        (a.action, a.allowed, a.reason) for a in uc.complaints.actions(w.kesu, w.qa, case.id)
    ]
    w.clock.advance(days=2)
    case.do("resume", w.sales, "样品已收到")
    assert (case.c.on_hold_since, case.c.hold_reason) == (None, "")
    case.refused("why.not_on_hold", "resume", w.qa)
    case.do("acknowledge", w.qa)
    assert [e.action for e in case.events][-3:] == ["hold", "resume", "acknowledge"]


def test_a_new_case_cannot_be_put_on_hold_and_hold_needs_a_reason(w: World) -> None:
    case = log(w)
    case.refused("why.wrong_state", "hold", w.sales, "wait")
    case = drive(w, State.INVESTIGATING)
    with pytest.raises(InvalidInput):
        uc.closure.hold(w.kesu, w.qa, case.id, case.c.version, " ")


# ---------------------------------------------------------------- short and invalid paths


@pytest.mark.parametrize("kind", [Kind.SUGGESTION, Kind.INQUIRY])
def test_suggestions_and_inquiries_take_the_short_path_to_closed(w: World, kind: Kind) -> None:
    case = log(w, kind=kind, category=Category.NON_QUALITY, product_code="", defect_type_id=None,
               severity_proposed=Severity.D)
    case.do("route_short", w.sales)
    assert case.c.state == State.REPLYING
    case.do("reply", w.sales, TODAY, ReplyMethod.PHONE, "已答复: 建议采纳")
    c = case.c
    assert (c.state, c.closed_at, c.reply_text) == (State.CLOSED, NOW, "已答复: 建议采纳")
    assert case.actions == ["registered", "route_short", "reply"]
    assert case.file.steps == []


def invalid_case_closed(w: World) -> Case:
    case = drive(w, State.INVESTIGATING)
    case.do("classify", w.qa, Validity.INVALID, reason="客户使用不当 (超负荷)")
    case.do("set_dispositions", w.sales,
            [DispositionInput(DispositionType.EXPLANATION, None, None, "说明书第 3 条")])
    case.do("propose", w.sales, "客户认可说明")
    case.do("approve_step", w.qam, "同意解释")
    case.do("reply", w.sales, TODAY, ReplyMethod.LETTER, "说明函")
    case.do("follow_up", w.sales, day=TODAY, contact="王经理", score=4,
            satisfaction=Satisfaction.SATISFIED)
    return case


def test_invalid_complaint_goes_to_an_explanation_approved_by_the_qa_manager(w: World) -> None:
    case = drive(w, State.INVESTIGATING)
    with pytest.raises(InvalidInput):
        uc.investigation.classify(w.kesu, w.qa, case.id, case.c.version, Validity.INVALID,
                                  reason=" ")
    case = invalid_case_closed(w)
    c = case.c
    assert c.validity == Validity.INVALID and c.state == State.CLOSED
    assert (c.no_investigation_reason, c.no_investigation_by_id) == (
        "客户使用不当 (超负荷)",
        w.qa.id,
    )
    assert c.responsible_department_id is None and c.root_cause == ""
    [step] = case.file.steps
    assert (step.title, step.decided_by_id, step.status) == (
        Title.QA_MANAGER,
        w.qam.id,
        StepStatus.APPROVED,
    )
    assert case.actions == [
        "registered",
        "dispatch",
        "acknowledge",
        "classify_invalid",
        "dispositions_set",
        "propose",
        "approve_step",
        "reply",
        "follow_up",
    ]
    assert case.events[3].comment == "客户使用不当 (超负荷)"


# ---------------------------------------------------------------- meetings and assessments


def test_meeting_action_items_become_capa_actions_with_owner_and_due(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    case.once(
        lambda: uc.meetings.add_meeting(
            w.kesu,
            w.sales,
            case.id,
            TODAY,
            [w.sales.id, w.qa.id, w.prod.id, w.gm.id],
            "更换夹具; 加检",
            [("更换 3 号线夹具", w.prod.id, DUE), ("来料全检 1 个月", w.qa.id, TODAY)],
        )
    )
    [m] = uc.meetings.meetings(w.kesu, w.qa, case.id)
    assert m.attendee_ids == (w.sales.id, w.qa.id, w.prod.id, w.gm.id)
    assert (m.date, m.decisions, m.by_id) == (TODAY, "更换夹具; 加检", w.sales.id)
    assert [(a.description, a.owner_id, a.due_date, a.type, a.status) for a in case.file.capa] == [
        ("更换 3 号线夹具", w.prod.id, DUE, CapaType.CORRECTIVE, "open"),
        ("来料全检 1 个月", w.qa.id, TODAY, CapaType.CORRECTIVE, "open"),
    ]
    last = case.events[-1]
    assert (last.action, last.changes["action_items"]) == ("meeting_recorded", [None, 2])


@pytest.mark.parametrize(
    "day, attendees, items",
    [
        (TODAY + timedelta(days=1), "qa", []),
        (TODAY, "", []),
        (TODAY, "unknown", []),
        (TODAY, "qa", [("x", "prod", TODAY - timedelta(days=1))]),
        (TODAY, "qa", [("", "prod", DUE)]),
    ],
)
def test_a_bad_meeting_record_saves_nothing(w: World, day: date, attendees: str,
                                            items: list[tuple[str, str, date]]) -> None:
    case = drive(w, State.ROOT_CAUSE)
    ids = {"qa": [w.qa.id], "": [], "unknown": [w.qa.id, 9999]}[attendees]
    with pytest.raises(InvalidInput):
        uc.meetings.add_meeting(w.kesu, w.sales, case.id, day, ids, "决定",
                                [(d, getattr(w, o).id, due) for d, o, due in items])
    assert uc.meetings.meetings(w.kesu, w.qa, case.id) == [] and case.file.capa == []


def test_assessments_are_visible_to_management_only(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    with pytest.raises(NotAllowed):
        uc.meetings.add_assessment(w.kesu, w.qa, case.id, "操作员 A", "warning", None)
    with pytest.raises(InvalidInput):
        uc.meetings.add_assessment(w.kesu, w.boss, case.id, "操作员 A", "deduction", "0")
    with pytest.raises(InvalidInput):
        uc.meetings.add_assessment(w.kesu, w.boss, case.id, "操作员 A", "fire", None)
    case.once(
        lambda: uc.meetings.add_assessment(w.kesu, w.boss, case.id, "操作员 A", "deduction", "200",
                                           "依罚扣基准")
    )
    [a] = uc.meetings.assessments(w.kesu, w.gm, case.id)
    assert (a.person, a.decision, a.amount, a.by_id) == (
        "操作员 A",
        "deduction",
        Decimal("200.00"),
        w.boss.id,
    )
    for who in (w.sales, w.qa, w.prod, w.finance, w.qam):
        with pytest.raises(NotAllowed):
            uc.meetings.assessments(w.kesu, who, case.id)
    last = case.events[-1]
    assert (last.action, last.changes, last.comment) == ("assessment_recorded", {}, "")


# ---------------------------------------------------------------- My Tasks and Approve


def tasks(w: World, who: User) -> set[tuple[str, int]]:
    return {(t.kind, t.complaint_id) for t in uc.worklists.tasks(w.kesu, who)}


def test_qa_sees_dispatched_cases_to_acknowledge(w: World) -> None:
    new, sent = log(w), drive(w, State.DISPATCHED)
    assert tasks(w, w.qa) == {("acknowledge", sent.id)}
    assert ("dispatch", new.id) in tasks(w, w.sales)
    sent.do("acknowledge", w.qa)
    assert tasks(w, w.qa) == {("classify_valid", sent.id)}


def test_production_sees_root_cause_cases_of_its_department_only(w: World) -> None:
    ours = drive(w, State.ROOT_CAUSE)
    theirs = drive(w, State.INVESTIGATING, lot="L7")
    theirs.do("classify", w.qa, Validity.VALID, Category.QUALITY, Severity.C, w.paint)
    assert tasks(w, w.prod) == {("submit_analysis", ours.id)}
    assert tasks(w, w.other_prod) == {("submit_analysis", theirs.id)}


def test_production_sees_completion_of_its_own_department_only(w: World) -> None:
    case = drive(w, State.IMPLEMENTING)
    assert ("complete", case.id) in tasks(w, w.prod)
    assert tasks(w, w.other_prod) == set()


def test_a_capa_owner_sees_the_open_action_once_the_plan_is_approved(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    analyse(w, case)
    uc.investigation.add_capa(w.kesu, w.prod, case.id, CapaType.PREVENTIVE, "核对付款流程",
                              w.finance.id, DUE)
    assert tasks(w, w.finance) == set()
    case.do("submit_analysis", w.prod)
    case.do("approve_capa", w.qa)
    assert tasks(w, w.finance) == {("capa_owner", case.id)}
    mine = next(a for a in case.file.capa if a.owner_id == w.finance.id)
    case.once(lambda: uc.investigation.complete_capa(w.kesu, w.finance, mine.id or 0, "流程已更新"))
    assert tasks(w, w.finance) == set()


def test_manager_sees_the_approval_step_for_his_title(w: World) -> None:
    case = drive(w, State.PENDING_APPROVAL)
    assert ("approve_step", case.id) in tasks(w, w.sm)
    assert tasks(w, w.gm) == set() and tasks(w, w.boss) == set()
    [card] = uc.approve_queue.pending_approvals(w.kesu, w.sm)
    assert (card.complaint.id, card.step.title, card.total, card.proposer) == (
        case.id,
        Title.SALES_MANAGER,
        Decimal("8000.00"),
        w.sales.display_name,
    )
    assert [s.title for s in card.steps] == [Title.SALES_MANAGER, Title.GENERAL_MANAGER]
    assert card.root_cause == "Worn fixture scratches the housing"
    assert card.customer == "Acme Electronics" and card.on_behalf_of == ""
    assert uc.approve_queue.pending_approvals(w.kesu, w.gm) == []
    case.do("approve_step", w.sm)
    assert tasks(w, w.sm) == set()
    assert tasks(w, w.gm) == {("approve_step", case.id)}


def test_management_sees_dispatches_waiting_for_approval(w: World) -> None:
    major, minor = log(w, severity_proposed=Severity.A), log(w, lot="L5")
    assert tasks(w, w.boss) == {("approve_dispatch", major.id)}
    assert minor.id not in {cid for _, cid in tasks(w, w.boss)}


def test_finance_sees_record_payment_while_a_compensation_is_unpaid(w: World) -> None:
    case = drive(w, State.IMPLEMENTING)
    rework = drive(w, State.DISPOSITION, lot="L8")
    propose(w, rework, DispositionInput(DispositionType.REWORK, 10, "100"))
    sign_all(w, rework)
    _reply(w, rework)
    assert tasks(w, w.finance) == {("record_payment", case.id)}
    d = case.file.current(case.file.dispositions)[0]
    uc.closure.record_execution(w.kesu, w.finance, d.id or 0, None, "paid")
    assert tasks(w, w.finance) == set()


def test_sales_sees_its_steps_and_a_held_case_is_nobodys_task(w: World) -> None:
    disp, replying, follow = (
        drive(w, State.DISPOSITION),
        drive(w, State.REPLYING, lot="a"),
        drive(w, State.FOLLOW_UP, lot="b"),
    )
    assert tasks(w, w.sales) == {
        ("propose", disp.id),
        ("reply", replying.id),
        ("follow_up", follow.id),
    }
    disp.do("hold", w.sales, "等客户回复")
    assert ("propose", disp.id) not in tasks(w, w.sales)


def test_actions_list_the_allowed_and_the_greyed_with_the_reason(w: World) -> None:
    case = drive(w, State.ROOT_CAUSE)
    panel = {
        a.action: (a.allowed, a.reason) for a in uc.complaints.actions(w.kesu, w.prod, case.id)
    }
    assert panel == {
        "submit_analysis": (False, "why.capa_missing"),
        "cancel": (False, "why.wrong_role"),
        "merge": (False, "why.wrong_role"),
        "hold": (True, None),
        "resume": (False, "why.not_on_hold"),
    }
    other = {a.action: a.reason for a in uc.complaints.actions(w.kesu, w.other_prod, case.id)}
    assert other["submit_analysis"] == "why.not_your_department"
    analyse(w, case)
    assert [
        a.allowed
        for a in uc.complaints.actions(w.kesu, w.prod, case.id)
        if a.action == "submit_analysis"
    ] == [True]


def test_actions_grey_the_approval_of_someone_elses_step(w: World) -> None:
    case = drive(w, State.PENDING_APPROVAL)
    mine = {a.action: a for a in uc.complaints.actions(w.kesu, w.sm, case.id)}
    theirs = {a.action: a for a in uc.complaints.actions(w.kesu, w.gm, case.id)}
    assert mine["approve_step"].allowed and mine["reject_step"].allowed
    assert (theirs["approve_step"].allowed, theirs["approve_step"].reason) == (
        False,
        "why.not_your_step",
    )
    assert theirs["reject_step"].reason == "why.not_your_step"
    assert {a.action: a.reason for a in uc.complaints.actions(w.kesu, w.sales, case.id)}[
        "approve_step"
    ] == "why.wrong_role"


def test_actions_name_recording_a_payment_while_a_compensation_waits_for_it(w: World) -> None:
    """Issue #12: the panel said "nothing for you to do" above finance's payment form."""
    case = drive(w, State.IMPLEMENTING)

    def panel(who: User) -> dict[str, tuple[bool, str | None]]:
        return {a.action: (a.allowed, a.reason)
                for a in uc.complaints.actions(w.kesu, who, case.id)}

    assert panel(w.finance)["record_payment"] == (True, None)
    assert panel(w.sales)["record_payment"] == (False, "why.wrong_role")
    d = case.file.current(case.file.dispositions)[0]
    uc.closure.record_payment(w.kesu, w.finance, d.id or 0, TODAY, d.amount,
                              PaymentMethod.BANK_TRANSFER, "V-1")
    assert "record_payment" not in panel(w.finance)


# ---------------------------------------------------------------- optimistic concurrency


STALE_CALLS: dict[str, tuple[State, Callable[[World, Case, int], object]]] = {
    "dispatch": (
        State.REGISTERED,
        lambda w, c, v: uc.investigation.dispatch(w.kesu, w.sales, c.id, v),
    ),
    "classify": (
        State.INVESTIGATING,
        lambda w, c, v: uc.investigation.classify(w.kesu, w.qa, c.id, v, Validity.VALID,
                                                  Category.QUALITY, Severity.C, w.press),
    ),
    "save_analysis": (
        State.ROOT_CAUSE,
        lambda w, c, v: uc.investigation.save_analysis(w.kesu, w.prod, c.id, v, root_cause="x"),
    ),
    "set_dispositions": (
        State.DISPOSITION,
        lambda w, c, v: uc.approval.set_dispositions(
            w.kesu, w.sales, c.id, v, [DispositionInput(DispositionType.EXPLANATION, None, None)]
        ),
    ),
    "approve_step": (
        State.PENDING_APPROVAL,
        lambda w, c, v: uc.approval.approve_step(w.kesu, w.sm, c.id, v),
    ),
    "follow_up": (
        State.FOLLOW_UP,
        lambda w, c, v: uc.closure.follow_up(w.kesu, w.sales, c.id, v, day=TODAY, contact="x",
                                             score=3, satisfaction=Satisfaction.PARTLY),
    ),
}


@pytest.mark.parametrize("action", sorted(STALE_CALLS))
def test_acting_with_a_stale_version_raises_stale_case_and_changes_nothing(w: World,
                                                                           action: str) -> None:
    state, call = STALE_CALLS[action]
    case = drive(w, state)
    seen = case.c.version
    w.clock.advance(minutes=1)
    case.do("hold", w.qa, "等样品") if state != State.REGISTERED else case.do(
        "cancel", w.sales, "x"
    )
    before, n = case.c, len(case.events)
    with pytest.raises(StaleCase) as err:
        call(w, case, seen)
    assert err.value.params["who"] in (w.qa.display_name, w.sales.display_name)
    assert case.c == before and len(case.events) == n


def test_stale_case_names_who_changed_it_and_when(w: World) -> None:
    case = drive(w, State.DISPATCHED)
    seen = case.c.version
    w.clock.advance(minutes=3)
    case.do("acknowledge", w.qa)
    with pytest.raises(StaleCase) as err:
        uc.investigation.return_to_sales(w.kesu, w.qa, case.id, seen, "missing")
    assert err.value.params == {"who": w.qa.display_name, "at": w.clock()}


def test_my_tasks_updated_from_the_last_list_equal_a_list_made_afresh(w: World) -> None:
    """Every step of the procedure on three cases, one step at a time: after each, every
    user's list updated from their previous one (only changed cases re-read) is the list
    made from scratch — tasks appear, move to the next person and disappear."""
    people = [w.sales, w.qa, w.prod, w.other_prod, w.finance, w.boss, w.sm, w.gm, w.chairman, w.qam]
    cases = [log(w), log(w, severity_proposed=Severity.A, lot="L2"), log(w, lot="L3")]
    lists = {u.id: uc.worklists.task_list(w.kesu, u) for u in people}
    assert sum(len(x.items) for x in lists.values()) > 0
    for step in PATH:
        for case in cases:
            if case.c.state == State.CLOSED:
                continue
            step(w, case)
            for u in people:
                updated = uc.worklists.task_list(w.kesu, u, lists[u.id])
                afresh = uc.worklists.task_list(w.kesu, u)
                assert updated == afresh, (step.__name__, u.username)
                lists[u.id] = updated
    assert all(c.c.state == State.CLOSED for c in cases)
    assert all(not x.items for x in lists.values())


def test_a_task_list_of_another_user_is_not_reused(w: World) -> None:
    log(w)
    theirs = uc.worklists.task_list(w.kesu, w.sales)
    assert theirs.items and uc.worklists.task_list(w.kesu, w.qa, theirs) == uc.worklists.task_list(
        w.kesu, w.qa
    )
    assert not uc.worklists.task_list(w.kesu, w.qa, theirs).items


def test_a_few_changes_reread_those_cases_and_many_make_the_list_afresh(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[set[int] | None] = []
    original = uc.worklists.task_items

    def counting(ctx: Context, uow: Any, me: User, ids: set[int] | None) -> Any:
        read.append(None if ids is None else set(ids))
        return original(ctx, uow, me, ids)

    monkeypatch.setattr(uc.worklists, "task_items", counting)
    monkeypatch.setattr(uc.worklists, "TASKS_INCREMENTAL_MAX", 2)
    before = uc.worklists.task_list(w.kesu, w.sales)
    two = [log(w, lot=f"M{i}") for i in range(2)]
    after_two = uc.worklists.task_list(w.kesu, w.sales, before)
    three = [log(w, lot=f"N{i}") for i in range(3)]
    after_five = uc.worklists.task_list(w.kesu, w.sales, after_two)
    assert read == [None, {c.id for c in two}, None]
    assert after_five == uc.worklists.task_list(w.kesu, w.sales)
    assert len(after_five.items) == len(before.items) + 5 and len(three) == 3


def test_a_long_description_is_cut_with_an_ellipsis_on_my_tasks(w: World) -> None:
    long = "客户来电反映电饭煲内胆涂层起泡" * 8
    log(w, description=long)
    log(w, description="第一行\n第二行", lot="L9")
    summaries = {t.summary for t in uc.worklists.tasks(w.kesu, w.sales)}
    assert summaries == {long[:79] + "…", "第一行…"}
