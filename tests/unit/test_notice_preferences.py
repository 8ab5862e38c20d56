"""Notices people read (issue #13): each user's choice of notices and channels, the daily
e-mail digest, and the QA manager's copies of QA's notices as a setting (off by default)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core import notify, outbox
from core.errors import InvalidInput
from core.model import Role, Severity, Title, User
from core.notify import Note, Preferences
from core.outbox import ChannelConfig, Message
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.unit.conftest import NOW, MakeUser, with_
from tests.unit.fakes import FakeClock, FakeDatabase
from core import usecases as uc

EMAIL_ON = ChannelConfig(smtp_host="smtp.factory.cn", mail_from="kesu@factory.cn")


# ---------------------------------------------------------------- the pure rules


def test_preferences_default_to_everything_and_round_trip() -> None:
    p = Preferences()
    assert all(p.wants(c, k) for c in notify.CHANNELS for k in notify.KINDS)
    assert not p.digest
    mine = Preferences(frozenset({("email", "approved"), ("inbox", "reopened")}), digest=True)
    assert Preferences.from_stored(mine.to_stored()) == mine
    assert not mine.wants("email", "approved") and mine.wants("inbox", "approved")
    assert Preferences.from_stored(None) == Preferences()
    assert Preferences.from_stored({"off": [["email"], 3, ["inbox", "x", "y"]]}) == Preferences()


def test_wanted_keeps_each_recipients_choice_per_channel() -> None:
    notes = [Note(1, "approved", {}), Note(2, "approved", {}), Note(1, "overdue", {})]
    prefs = {1: Preferences(frozenset({("email", "approved")}))}
    assert notify.wanted(notes, prefs, "inbox") == notes
    assert notify.wanted(notes, prefs, "email") == [notes[1], notes[2]]  # 2 chose nothing


def test_every_kind_of_notice_can_be_chosen() -> None:
    """A kind missing from KINDS would reach people who cannot turn it off on My account."""
    import core.procedure as procedure
    kinds = {n.kind for a in procedure.ACTIONS for n in a.notices}
    assert kinds <= set(notify.KINDS), kinds - set(notify.KINDS)
    assert {"overdue", "assist_asked", "chain_step_due", "verify_due"} <= set(notify.KINDS)


# ---------------------------------------------------------------- on the fakes


@pytest.fixture
def team(make_user: MakeUser) -> dict[str, User]:
    return {
        "sales": make_user("sally", Role.SALES),
        "li": make_user("li", Role.QA, email="li@factory.cn"),
        "ann": make_user("ann", Role.QA, email="ann@factory.cn"),
        "qam": make_user("qiao", Role.QA, titles=frozenset({Title.QA_MANAGER}),
                         email="qiao@factory.cn"),
    }


def _dispatch(kesu: Context, draft: ComplaintDraft, sales: User) -> int:
    c = uc.complaints.register_complaint(
        kesu, sales, with_(draft, received_at=NOW, severity_proposed=Severity.C))
    uc.investigation.dispatch(kesu, sales, c.id or 0, c.version)
    return c.id or 0


def _kinds(kesu: Context, who: User) -> list[str]:
    return [n.kind for n in uc.notices.inbox(kesu, who)]


def _mails(db: FakeDatabase) -> list[Message]:
    with db() as uow:
        return [i.message for i in sorted(uow.outbox.recent(outbox.STATUSES, 1000),
                                          key=lambda i: i.id) if i.message.channel == "email"]


def test_the_qa_manager_gets_no_copy_of_each_dispatch_unless_the_setting_says_so(
        kesu: Context, draft: ComplaintDraft, team: dict[str, User], admin: User) -> None:
    assert not uc.context.settings(kesu).qa_manager_copies  # off by default
    _dispatch(kesu, draft, team["sales"])
    assert _kinds(kesu, team["li"]) == ["dispatched"]
    assert _kinds(kesu, team["qam"]) == []

    uc.reference.set_settings(kesu, admin, {"qa_manager_copies": True})
    _dispatch(kesu, draft, team["sales"])
    assert _kinds(kesu, team["qam"]) == ["dispatched"]
    assert _kinds(kesu, team["li"]) == ["dispatched", "dispatched"]
    with pytest.raises(InvalidInput):
        uc.reference.set_settings(kesu, admin, {"qa_manager_copies": "yes"})


def test_a_qa_manager_without_qa_engineers_still_hears_of_dispatches(
        kesu: Context, draft: ComplaintDraft, make_user: MakeUser) -> None:
    sales = make_user("sally", Role.SALES)
    qam = make_user("qiao", Role.QA, titles=frozenset({Title.QA_MANAGER}))
    _dispatch(kesu, draft, sales)
    assert _kinds(kesu, qam) == ["dispatched"]


def test_a_notice_turned_off_reaches_neither_the_inbox_nor_the_mail_box_it_was_turned_off_for(
        kesu: Context, draft: ComplaintDraft, team: dict[str, User], admin: User,
        db: FakeDatabase) -> None:
    uc.channels.set_channels(kesu, admin, EMAIL_ON)
    uc.notices.set_notice_preferences(
        kesu, team["li"], Preferences(frozenset({("inbox", "dispatched")})))
    uc.notices.set_notice_preferences(
        kesu, team["ann"], Preferences(frozenset({("email", "dispatched")})))
    _dispatch(kesu, draft, team["sales"])
    assert _kinds(kesu, team["li"]) == []
    assert _kinds(kesu, team["ann"]) == ["dispatched"]
    assert [m.target for m in _mails(db)] == ["li@factory.cn"]  # ann: inbox only
    assert uc.notices.notice_preferences(kesu, team["li"]) == Preferences(
        frozenset({("inbox", "dispatched")}))
    assert uc.notices.notice_preferences(kesu, team["sales"]) == Preferences()


def test_unknown_kinds_or_channels_are_refused(kesu: Context, team: dict[str, User]) -> None:
    for off in ({("inbox", "birthday")}, {("sms", "dispatched")}):
        with pytest.raises(InvalidInput):
            uc.notices.set_notice_preferences(kesu, team["li"], Preferences(frozenset(off)))
    assert uc.notices.notice_preferences(kesu, team["li"]) == Preferences()


def test_the_daily_digest_replaces_the_single_mails_with_one_mail_after_work_starts(
        kesu: Context, draft: ComplaintDraft, team: dict[str, User], admin: User,
        db: FakeDatabase, clock: FakeClock) -> None:
    uc.channels.set_channels(kesu, admin, EMAIL_ON)
    uc.notices.set_notice_preferences(kesu, team["li"], Preferences(digest=True))
    uc.notices.set_notice_preferences(
        kesu, team["ann"], Preferences(frozenset({("email", "dispatched")}), digest=True))
    # NOW is 10:00 in Shanghai, where work starts at 08:30: two dispatches
    _dispatch(kesu, draft, team["sales"]), _dispatch(kesu, draft, team["sales"])
    assert _mails(db) == []  # no single mails (and no copy for the QA manager)
    assert uc.channels.send_digests(kesu) == 0  # today's digest covered yesterday: nothing
    clock.now = NOW + timedelta(hours=22)  # 08:00 the next day: work has not started
    assert uc.channels.send_digests(kesu) == 0
    clock.now = NOW + timedelta(hours=22, minutes=45)  # 08:45
    assert uc.channels.send_digests(kesu) == 1  # ann wants no dispatch by e-mail
    [mail] = _mails(db)
    assert mail.target == "li@factory.cn"
    assert "2026-11-11" in mail.subject and "每日" in mail.subject
    assert mail.body.count("- 11-10 10:00 ") == 2, mail.body
    clock.now += timedelta(hours=3)
    assert uc.channels.send_digests(kesu) == 0  # once a day


def test_no_digest_without_the_email_channel(kesu: Context, draft: ComplaintDraft,
                                             team: dict[str, User], clock: FakeClock) -> None:
    uc.notices.set_notice_preferences(kesu, team["li"], Preferences(digest=True))
    _dispatch(kesu, draft, team["sales"])
    clock.now += timedelta(days=1)
    assert uc.channels.send_digests(kesu) == 0
