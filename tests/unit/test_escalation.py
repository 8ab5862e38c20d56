"""Escalation of overdue steps (docs/procedure.md §7): who is told, when, and that each level fires
once
per step — the pure rules of core.escalation, then the job's service on the fakes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import escalation, sla
from core.errors import InvalidInput, NotAllowed
from core.escalation import DEFAULT_LEVELS, Level, due_escalations, fire_at, holders, managers
from core.i18n import t
from core.model import (
    ApprovalStep,
    CaseFile,
    Channel,
    Complaint,
    Department,
    Kind,
    Role,
    Severity,
    State,
    StepStatus,
    Title,
    User,
)
from core.outbox import ChannelConfig
from core.rules.approvals import DEFAULT_TITLES
from core.rules.calendar import WorkCalendar
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.unit.conftest import NOW, MakeUser, with_
from tests.unit.fakes import FakeClock, FakeDatabase
from core import usecases as uc

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(tz=TZ)  # 08:30–17:30, weekends off (no holidays needed here)
MON_9 = datetime(2026, 11, 9, 9, 0, tzinfo=TZ)


def user(uid: int, *roles: Role, dept: int | None = None, title: str | None = None,
         active: bool = True) -> User:
    return User(uid, f"u{uid}", f"U{uid}", frozenset(roles), dept,
                frozenset({title} if title else ()), active)


SALES = user(1, Role.SALES)
OTHER_SALES = user(2, Role.SALES)
QA = user(3, Role.QA)
PROD = user(4, Role.PRODUCTION, dept=7)
PROD_BOSS = user(5, Role.MANAGEMENT, dept=7)
SM = user(6, Role.MANAGEMENT, title=Title.SALES_MANAGER)
QAM = user(7, Role.QA, title=Title.QA_MANAGER)
GM = user(8, Role.MANAGEMENT, title=Title.GENERAL_MANAGER)
GONE = user(9, Role.SALES, active=False)
USERS = [SALES, OTHER_SALES, QA, PROD, PROD_BOSS, SM, QAM, GM, GONE]


def case(state: State = State.REGISTERED, kind: Kind = Kind.COMPLAINT, received_by: int = SALES.id,
         dept: int | None = 7, steps: list[ApprovalStep] | None = None) -> CaseFile:
    c = Complaint(1, "KS2611-001", MON_9, Channel.PHONE, received_by, kind, 1, "划伤", state=state,
                  responsible_department_id=dept)
    return CaseFile(c, steps=steps or [])


def due(step: str = "dispatch", limit: tuple[float, str] = (1, "wh"),
        started: datetime = MON_9) -> sla.Due:
    first = (
        started + timedelta(hours=limit[0])
        if limit[1] == "h"
        else CAL.add_working_time(started,
                                  hours=limit[0] * (CAL.hours_per_day if limit[1] == "wd" else 1))
    )
    return sla.Due(step, started, first, limit)


def ids(people: list[User]) -> list[int]:
    return sorted(u.id for u in people)


# ---------------------------------------------------------------- when


def test_level_one_fires_at_the_due_time_and_not_a_minute_before() -> None:
    d = due()  # received Monday 09:00, 1 working hour to dispatch: due 10:00
    assert d.due == datetime(2026, 11, 9, 10, 0, tzinfo=TZ)
    assert due_escalations(case(), [d], d.due - timedelta(minutes=1), set(), USERS, cal=CAL) == []
    [fired] = due_escalations(case(), [d], d.due, set(), USERS, cal=CAL)
    assert (fired.step, fired.started, fired.level, fired.at) == ("dispatch", MON_9, 1, d.due)


def test_level_two_fires_when_twice_the_limit_has_elapsed_on_the_working_calendar() -> None:
    d = due("reply", (3, "wd"))  # 3 working days from Monday 09:00: Thursday 09:00
    assert d.due == datetime(2026, 11, 12, 9, 0, tzinfo=TZ)
    # 3 more working days, over the weekend: Tuesday 09:00 of the next week
    assert fire_at(d, 2.0, CAL) == datetime(2026, 11, 17, 9, 0, tzinfo=TZ)
    before = due_escalations(case(State.REPLYING), [d], datetime(2026, 11, 17, 8, 59, tzinfo=TZ),
                             set(), USERS, cal=CAL)
    assert [e.level for e in before] == [1]
    after = due_escalations(case(State.REPLYING), [d], datetime(2026, 11, 17, 9, 0, tzinfo=TZ),
                            {("reply", MON_9, 1)}, USERS, cal=CAL)
    assert [(e.level, e.user_ids) for e in after] == [(2, (GM.id,))]


def test_a_clock_hour_limit_doubles_in_clock_hours() -> None:
    d = due("answer_inquiry", (24, "h"))
    assert fire_at(d, 2.0, CAL) == MON_9 + timedelta(hours=48)
    assert fire_at(d, 1.0, CAL) == MON_9 + timedelta(hours=24)


def test_each_level_fires_once_per_step_and_again_for_a_step_that_starts_anew() -> None:
    d = due()
    late = MON_9 + timedelta(days=5)
    fired = {("dispatch", MON_9, 1), ("dispatch", MON_9, 2)}
    assert due_escalations(case(), [d], late, fired, USERS, cal=CAL) == []
    restarted = due(started=MON_9 + timedelta(days=1))  # e.g. sent back and resubmitted
    assert [e.level for e in due_escalations(case(), [restarted], late, fired, USERS, cal=CAL)] == [
        1,
        2,
    ]


def test_a_late_job_fires_every_level_that_is_due_lowest_first() -> None:
    found = due_escalations(case(), [due()], MON_9 + timedelta(days=3), set(), USERS, cal=CAL)
    assert [e.level for e in found] == [1, 2]


def test_a_step_on_hold_has_no_due_time_and_does_not_escalate() -> None:
    held = sla.Due("reply", MON_9, None, (3, "wd"))
    assert (
        due_escalations(case(State.ROOT_CAUSE), [held], MON_9 + timedelta(days=30), set(), USERS,
                        cal=CAL)
        == []
    )


# ---------------------------------------------------------------- who


def test_level_one_tells_the_salesperson_who_took_it_and_the_sales_manager() -> None:
    [e] = due_escalations(case(), [due()], MON_9 + timedelta(hours=1), set(), USERS, cal=CAL)
    assert sorted(e.user_ids) == [SALES.id, SM.id]


def test_the_holder_of_the_reply_step_is_whoever_the_case_waits_for_now() -> None:
    assert ids(holders(case(State.INVESTIGATING), "reply", USERS)) == [QA.id, QAM.id]
    assert ids(holders(case(State.ROOT_CAUSE), "reply", USERS)) == [PROD.id]
    assert ids(holders(case(State.ROOT_CAUSE, dept=None), "reply", USERS)) == [QA.id, QAM.id]
    assert ids(holders(case(State.REPLYING), "reply", USERS)) == [SALES.id]
    step = ApprovalStep(1, 1, 0, 1, Title.GENERAL_MANAGER)
    assert ids(holders(case(State.PENDING_APPROVAL, steps=[step]), "reply", USERS)) == [GM.id]
    assert ids(holders(case(), "containment", USERS)) == [QA.id, PROD.id, QAM.id]


def test_parallel_steps_tell_the_holders_of_every_step_of_the_pending_stage() -> None:
    signed = ApprovalStep(1, 1, 0, 1, Title.QA_MANAGER, StepStatus.APPROVED, QAM.id)
    gm = ApprovalStep(2, 1, 0, 2, Title.GENERAL_MANAGER)
    sm = ApprovalStep(3, 1, 0, 2, Title.SALES_MANAGER)  # the same stage: signed alongside
    later = ApprovalStep(4, 1, 0, 3, Title.CHAIRMAN)
    got = holders(case(State.PENDING_APPROVAL, steps=[signed, gm, sm, later]), "reply", USERS)
    assert ids(got) == sorted([GM.id, SM.id])


def test_a_department_head_is_the_first_manager() -> None:
    assert ids(managers([PROD], USERS, {PROD.department_id or 0: SM.id})) == [SM.id]
    # a head who is the person themselves, or gone, does not count
    assert ids(managers([PROD], USERS, {PROD.department_id or 0: PROD.id})) == [PROD_BOSS.id]
    assert ids(managers([PROD], USERS, {PROD.department_id or 0: GONE.id})) == [PROD_BOSS.id]


def test_a_receiver_who_is_not_sales_or_is_gone_hands_the_step_to_every_salesperson() -> None:
    assert ids(holders(case(received_by=QA.id), "dispatch", USERS)) == [SALES.id, OTHER_SALES.id]
    assert ids(holders(case(received_by=GONE.id), "dispatch", USERS)) == [SALES.id, OTHER_SALES.id]


def test_a_manager_is_management_of_the_same_department_else_the_matching_title() -> None:
    assert ids(managers([PROD], USERS)) == [PROD_BOSS.id]
    assert ids(managers([SALES], USERS)) == [SM.id]
    assert ids(managers([QA], USERS)) == [QAM.id]
    # nobody with the matching title: any sales or QA manager
    assert ids(managers([QA], [QA, SM])) == [SM.id]
    lone_prod = user(10, Role.PRODUCTION, dept=99)
    assert ids(managers([lone_prod], USERS)) == [SM.id, QAM.id]


def test_recipients_are_listed_once_and_inactive_users_never() -> None:
    lvl = Level(1.0, ("holders", "managers", "sales_manager"))
    assert ids(escalation.recipients(lvl, case(received_by=GONE.id), "dispatch", USERS)) == [
        SALES.id,
        OTHER_SALES.id,
        SM.id,
    ]


# ---------------------------------------------------------------- the setting


def test_levels_are_stored_checked_and_read_back() -> None:
    codes = [d.code for d in DEFAULT_TITLES]
    rows = escalation.check_levels([Level(1, ("managers", "holders")), Level(3, ("chairman",))],
                                   codes)
    assert rows == [
        {"multiple": 1, "to": ["holders", "managers"]},
        {"multiple": 3, "to": ["chairman"]},
    ]
    assert escalation.levels_from(rows) == (
        Level(1.0, ("holders", "managers")),
        Level(3.0, ("chairman",)),
    )
    assert escalation.levels_from(None) == DEFAULT_LEVELS
    # a title the factory defined is an audience too, once it is defined
    with pytest.raises(InvalidInput):
        escalation.check_levels([Level(2, ("vp_sales",))], codes)
    assert escalation.check_levels([Level(2, ("vp_sales",))], [*codes, "vp_sales"]) == [
        {"multiple": 2, "to": ["vp_sales"]}]


@pytest.mark.parametrize(
    "levels, key",
    [
        ([Level(2, ("holders",)), Level(2, ("general_manager",))], "err.escalation_multiple"),
        ([Level(0.5, ("holders",))], "err.escalation_multiple"),
        ([Level(21, ("holders",))], "err.escalation_multiple"),
        ([Level(1, ())], "err.escalation_audience"),
        ([Level(1, ("the_cleaner",))], "err.escalation_audience"),
        ([], "err.escalation_count"),
        ([Level(n, ("holders",)) for n in range(1, 7)], "err.escalation_count"),
    ],
)
def test_bad_levels_are_refused_with_a_reason(levels: list[Level], key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        escalation.check_levels(levels, [d.code for d in DEFAULT_TITLES])
    assert err.value.key == key


def test_the_overdue_line_names_the_step_in_the_readers_language() -> None:
    assert "回复客户" in t("notify.overdue", "zh", number="KS1", step="reply", level=2)
    assert "“Reply to the customer” is overdue (escalation level 2)" in t("notify.overdue", "en",
                                                                          number="KS1",
                                                                          step="reply", level=2)


# ---------------------------------------------------------------- the job (services, fakes)


@pytest.fixture
def people(make_user: MakeUser, admin: User) -> dict[str, User]:
    return {
        "sales": make_user("sally", Role.SALES, email="sally@factory.cn"),
        "sm": make_user("sam", Role.MANAGEMENT, titles=frozenset({Title.SALES_MANAGER}),
                        email="sam@factory.cn"),
        "gm": make_user("gina", Role.MANAGEMENT, titles=frozenset({Title.GENERAL_MANAGER})),
    }


def _kinds(kesu: Context, who: User) -> list[tuple[str, int]]:
    return [
        (n.kind, n.params["level"]) for n in uc.notices.inbox(kesu, who) if n.kind == "overdue"
    ]


def test_the_job_fires_each_level_once_into_the_inboxes(kesu: Context, clock: FakeClock,
                                                        draft: ComplaintDraft,
                                                        people: dict[str, User],
                                                        db: FakeDatabase) -> None:
    c = uc.complaints.register_complaint(kesu, people["sales"], with_(draft, received_at=NOW))
    assert c.due_at == NOW + timedelta(hours=1)  # dispatch: 1 working hour (10:00 → 11:00)
    clock.set(NOW + timedelta(minutes=59))
    assert uc.channels.escalate_overdue(kesu) == 0
    clock.set(NOW + timedelta(hours=1))
    assert uc.channels.escalate_overdue(kesu) == 1
    assert uc.channels.escalate_overdue(kesu) == 0
    assert _kinds(kesu, people["sales"]) == _kinds(kesu, people["sm"]) == [("overdue", 1)]
    assert _kinds(kesu, people["gm"]) == []
    [note] = uc.notices.inbox(kesu, people["sm"])
    assert (note.complaint_id, note.params) == (
        c.id,
        {"number": c.number, "step": "dispatch", "level": 1},
    )
    clock.set(NOW + timedelta(hours=2))
    assert uc.channels.escalate_overdue(kesu) == 1
    assert uc.channels.escalate_overdue(kesu) == 0
    assert _kinds(kesu, people["gm"]) == [("overdue", 2)]
    assert _kinds(kesu, people["sales"]) == [("overdue", 1)]
    with db() as uow:
        assert uow.escalations.fired(c.id or 0) == {("dispatch", NOW, 1), ("dispatch", NOW, 2)}
        assert uow.outbox.counts() == {}  # no channel configured: inbox only


def test_old_cases_already_escalated_do_not_hide_newer_overdue_ones(
    kesu: Context, clock: FakeClock, draft: ComplaintDraft, people: dict[str, User]
) -> None:
    """The job reads the overdue cases a batch at a time, oldest due first."""
    old = [
        uc.complaints.register_complaint(kesu, people["sales"], with_(draft, received_at=NOW))
        for _ in range(3)
    ]
    clock.set(NOW + timedelta(hours=2))
    assert uc.channels.escalate_overdue(kesu, limit=2) == 2 * len(old)  # levels 1 and 2 of each
    late = uc.complaints.register_complaint(kesu, people["sales"],
                                            with_(draft, received_at=clock()))
    clock.set(clock() + timedelta(hours=1))
    assert (
        uc.channels.escalate_overdue(kesu, limit=2) == 1
    )  # the newest case, behind two full batches
    assert any(n.complaint_id == late.id for n in uc.notices.inbox(kesu, people["sm"]))


def test_the_job_leaves_a_case_alone_once_the_step_is_done(kesu: Context, clock: FakeClock,
                                                           draft: ComplaintDraft,
                                                           people: dict[str, User]) -> None:
    c = uc.complaints.register_complaint(
        kesu, people["sales"], with_(draft, received_at=NOW, severity_proposed=Severity.C)
    )
    uc.investigation.dispatch(kesu, people["sales"], c.id or 0, c.version)
    clock.set(NOW + timedelta(hours=3))
    assert uc.channels.escalate_overdue(kesu) == 0  # the reply step (3 working days) is not due


def test_overdue_also_goes_to_the_configured_channels(kesu: Context, clock: FakeClock,
                                                      draft: ComplaintDraft,
                                                      people: dict[str, User], admin: User,
                                                      db: FakeDatabase) -> None:
    uc.channels.set_channels(
        kesu,
        admin,
        ChannelConfig(smtp_host="smtp.factory.cn", mail_from="kesu@factory.cn",
                      wecom_url="https://qyapi.example/send?key=1"),
    )
    c = uc.complaints.register_complaint(kesu, people["sales"], with_(draft, received_at=NOW))
    clock.set(NOW + timedelta(hours=3))
    assert uc.channels.escalate_overdue(kesu) == 2
    with db() as uow:
        items = uow.outbox.recent(("pending",), 50)
    by_channel: dict[str, list[str]] = {}
    for i in items:
        by_channel.setdefault(i.message.channel, []).append(i.message.target)
    # level 1: sally and sam have addresses; level 2: gina has none. One robot line per level.
    assert sorted(by_channel["email"]) == ["sally@factory.cn", "sam@factory.cn"]
    assert by_channel["wecom"] == ["wecom", "wecom"]
    robot_text = sorted(i.message.body for i in items if i.message.channel == "wecom")
    assert c.number in robot_text[0] and "Gina" in robot_text[1]


def test_only_admin_sets_the_levels_and_the_job_uses_them(kesu: Context, clock: FakeClock,
                                                          draft: ComplaintDraft,
                                                          people: dict[str, User],
                                                          admin: User) -> None:
    with pytest.raises(NotAllowed):
        uc.channels.set_escalation_levels(kesu, people["sm"], [Level(1, ("holders",))])
    uc.channels.set_escalation_levels(kesu, admin, [Level(1.5, ("general_manager",))])
    assert uc.channels.escalation_levels(kesu) == (Level(1.5, ("general_manager",)),)
    uc.complaints.register_complaint(kesu, people["sales"], with_(draft, received_at=NOW))
    clock.set(NOW + timedelta(hours=1))
    assert uc.channels.escalate_overdue(kesu) == 0
    clock.set(NOW + timedelta(minutes=90))
    assert uc.channels.escalate_overdue(kesu) == 1
    assert _kinds(kesu, people["gm"]) == [("overdue", 1)]
    assert _kinds(kesu, people["sales"]) == []


def test_production_holders_and_their_department_manager_hear_of_an_overdue_analysis(
    kesu: Context, admin: User, make_user: MakeUser
) -> None:
    dept = uc.reference.save_reference(kesu, admin, Department(0, "MFG", "制造部", "Manufacturing"))
    peng = make_user("peng", Role.PRODUCTION, department_id=dept)
    boss = make_user("mo", Role.MANAGEMENT, department_id=dept)
    users = uc.accounts.list_users(kesu, admin)
    cf = CaseFile(
        Complaint(1, "KS1", NOW, Channel.PHONE, admin.id, Kind.COMPLAINT, 1, "x",
                  state=State.ROOT_CAUSE, responsible_department_id=dept)
    )
    who = escalation.recipients(DEFAULT_LEVELS[0], cf, "reply", users)
    assert [u.id for u in who] == sorted([peng.id, boss.id])
