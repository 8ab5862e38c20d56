"""The optional channels (docs/procedure.md §8) as pure rules and services on the fakes:
configuration and
its checks, what an e-mail and a robot message say, the robots' payloads and answers, the retry
schedule, queuing the lifecycle's notifications, the test button and the delivery run."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from core import outbox
from core.errors import InvalidInput, NotAllowed
from core.model import Lang, Role, Severity, User
from core.notify import Note
from core.outbox import ChannelConfig, Message, check_config, next_try, robot_error, robot_payload
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from adapters.delivery import deliver_due
from tests.unit.conftest import NOW, MakeUser, with_
from tests.unit.fakes import FakeBlobs, FakeClock, FakeDatabase, FakeHasher, FakeSender
from core import usecases as uc

EMAIL_ON = ChannelConfig(smtp_host="smtp.factory.cn", mail_from="kesu@factory.cn")
ALL_ON = ChannelConfig(smtp_host="smtp.factory.cn", mail_from="kesu@factory.cn",
                       wecom_url="https://qyapi.example/webhook/send?key=k",
                       dingtalk_url="https://oapi.example/robot/send?access_token=t",
                       dingtalk_keyword="客诉", feishu_url="https://open.example/hook/f")


# ---------------------------------------------------------------- retry schedule


def test_backoff_waits_longer_after_each_failure_then_gives_up() -> None:
    waits = [next_try(n, NOW) for n in range(1, outbox.MAX_ATTEMPTS + 1)]
    minutes = [(w - NOW) / timedelta(minutes=1) for w in waits if w is not None]
    assert minutes[:6] == [1, 2, 5, 15, 60, 120]
    assert minutes == sorted(minutes) and max(minutes) == 480
    assert len(minutes) == outbox.MAX_ATTEMPTS - 1
    assert waits[-1] is None  # the last attempt failed: kept as failed
    assert sum(minutes) / 60 > 48, "a mail server down over a weekend loses nothing"


# ---------------------------------------------------------------- configuration


def test_every_channel_is_off_until_configured() -> None:
    cfg = ChannelConfig()
    assert not cfg.any_enabled and cfg.robots() == []
    assert not ChannelConfig(smtp_host="smtp.factory.cn").enabled("email")  # no sender yet
    assert EMAIL_ON.enabled("email") and not EMAIL_ON.enabled("wecom")
    assert ALL_ON.robots() == ["wecom", "dingtalk", "feishu"]


def test_the_configuration_round_trips_through_the_stored_form() -> None:
    stored = json.loads(json.dumps(ALL_ON.stored()))
    assert ChannelConfig.from_stored(stored) == ALL_ON
    assert ChannelConfig.from_stored({"smtp_port": "465", "retired_option": 1}).smtp_port == 465
    assert ChannelConfig.from_stored(None) == ChannelConfig()


def test_check_config_trims_and_accepts_a_good_configuration() -> None:
    cfg = check_config(
        ChannelConfig(smtp_host=" smtp.qiye.aliyun.com ", smtp_port=465, smtp_security="ssl",
                      smtp_user="kesu", smtp_password=" pw ", mail_from="kesu@factory.cn ",
                      feishu_url="http://127.0.0.1:8080/hook", allow_internal_hosts=True)
    )
    assert (cfg.smtp_host, cfg.mail_from, cfg.smtp_password) == (
        "smtp.qiye.aliyun.com",
        "kesu@factory.cn",
        " pw ",
    )  # a password is kept as typed


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"smtp_host": "smtp.factory.cn:25"}, "err.smtp_host"),
        ({"smtp_host": "smtp factory"}, "err.smtp_host"),
        ({"smtp_port": 0}, "err.smtp_port"),
        ({"smtp_port": 70000}, "err.smtp_port"),
        ({"smtp_security": "tls13"}, "err.smtp_security"),
        ({"mail_from": "kesu-at-factory"}, "err.email_format"),
        ({"mail_from": ""}, "err.mail_from_needed"),
        ({"smtp_password": "pw"}, "err.smtp_user_needed"),
        ({"wecom_url": "qyapi.weixin.qq.com/cgi-bin/webhook/send"}, "err.url_format"),
        ({"dingtalk_url": "ftp://oapi.dingtalk.com/robot"}, "err.url_format"),
        ({"feishu_url": "https:///no-host"}, "err.url_format"),
        ({"app_url": "https://kesu.factory.cn/ x"}, "err.url_format"),
        ({"dingtalk_keyword": "k" * 51}, "err.too_long"),
    ],
)
def test_a_bad_configuration_is_refused_naming_the_problem(changes: dict[str, object],
                                                           key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_config(replace(EMAIL_ON, **changes))  # type: ignore[arg-type]
    assert err.value.key == key


# ---------------------------------------------------------------- messages


def test_an_email_speaks_the_recipients_language_and_links_the_case() -> None:
    params = {"number": "KS2611-007", "step": "reply", "level": 1}
    cfg = ChannelConfig(app_url="https://kesu.factory.cn/")
    link = outbox.case_link(cfg, 7)
    assert link == "https://kesu.factory.cn/complaint?id=7"
    zh = outbox.email("k", "li@factory.cn", "李四", "zh", outbox.note_text("overdue", params, "zh"),
                      link)
    en = outbox.email("k", "ann@factory.cn", "Ann", "en", outbox.note_text("overdue", params, "en"),
                      link)
    assert zh.subject == "[kesu 客诉] 客诉 KS2611-007 的「回复客户」已逾期（第 1 级提醒）。"
    assert zh.body.startswith("李四，您好：") and link in zh.body
    assert (
        en.subject == "[kesu] KS2611-007: “Reply to the customer” is overdue (escalation level 1)."
    )
    assert en.body.startswith("Hello Ann,") and "Open the case: " + link in en.body
    assert outbox.case_link(ChannelConfig(), 7) == ""


def test_a_long_subject_is_cut_to_one_line() -> None:
    m = outbox.email("k", "a@b.cn", "A", "en", "line one\n" + "x" * 300, "")
    assert "\n" not in m.subject and len(m.subject) == 150 and m.subject.endswith("…")


def test_robot_payloads_are_what_each_robot_expects() -> None:
    assert robot_payload("wecom", "你好") == {"msgtype": "text", "text": {"content": "你好"}}
    assert robot_payload("dingtalk", "你好") == {"msgtype": "text", "text": {"content": "你好"}}
    assert robot_payload("feishu", "你好") == {"msg_type": "text", "content": {"text": "你好"}}
    # a DingTalk robot secured by a keyword drops messages without it
    assert (
        robot_payload("dingtalk", "客诉 KS1 已逾期", "客诉")["text"]["content"] == "客诉 KS1 已逾期"
    )
    assert (
        robot_payload("dingtalk", "KS1 overdue", "客诉")["text"]["content"] == "[客诉] KS1 overdue"
    )
    with pytest.raises(ValueError):
        robot_payload("email", "x")


def test_a_robot_message_names_who_it_is_for() -> None:
    m = outbox.robot("wecom:1:v2:dispatched", "wecom", "zh", "张三 发单", ["李四", "王五"], "")
    assert (m.channel, m.target, m.body) == ("wecom", "wecom", "张三 发单\n通知：李四、王五")


@pytest.mark.parametrize(
    "answer, refused",
    [
        ('{"errcode":0,"errmsg":"ok"}', None),
        ('{"code":0,"msg":"success","data":{}}', None),
        ('{"StatusCode":0,"StatusMessage":"success"}', None),
        ('{"errcode":93000,"errmsg":"invalid webhook url"}', "errcode 93000: invalid webhook url"),
        (
            '{"errcode":310000,"errmsg":"keywords not in content"}',
            "errcode 310000: keywords not in content",
        ),
        ('{"code":19021,"msg":"sign match fail"}', "code 19021: sign match fail"),
        ("ok", None),
        ("[1, 2]", None),
    ],
)
def test_a_robot_refusal_is_read_from_its_answer(answer: str, refused: str | None) -> None:
    assert robot_error(answer) == refused


# ---------------------------------------------------------------- queuing (the lifecycle)


@pytest.fixture
def team(make_user: MakeUser) -> dict[str, User]:
    return {
        "sales": make_user("sally", Role.SALES),
        "li": make_user("li", Role.QA, email="li@factory.cn"),
        "ann": make_user("ann", Role.QA, email="ann@factory.cn", language=Lang.EN),
        "noemail": make_user("quinn", Role.QA),
    }


def _dispatch(kesu: Context, draft: ComplaintDraft, sales: User) -> int:
    c = uc.complaints.register_complaint(
        kesu, sales, with_(draft, received_at=NOW, severity_proposed=Severity.C)
    )
    uc.investigation.dispatch(kesu, sales, c.id or 0, c.version)
    return c.id or 0


def _queued(db: FakeDatabase) -> list[Message]:
    with db() as uow:
        return [
            i.message for i in sorted(uow.outbox.recent(outbox.STATUSES, 1000), key=lambda i: i.id)
        ]


def test_without_channels_only_the_inbox_is_written(kesu: Context, draft: ComplaintDraft,
                                                    team: dict[str, User],
                                                    db: FakeDatabase) -> None:
    _dispatch(kesu, draft, team["sales"])
    assert [n.kind for n in uc.notices.inbox(kesu, team["li"])] == ["dispatched"]
    assert _queued(db) == []


def test_an_event_queues_one_email_per_recipient_with_an_address_and_one_per_robot(
    kesu: Context, draft: ComplaintDraft, team: dict[str, User], db: FakeDatabase, admin: User
) -> None:
    uc.channels.set_channels(kesu, admin, ALL_ON)
    cid = _dispatch(kesu, draft, team["sales"])
    queued = _queued(db)
    mails = {m.target: m for m in queued if m.channel == "email"}
    assert set(mails) == {"li@factory.cn", "ann@factory.cn"}  # quinn has no address
    assert "等待品管签收" in mails["li@factory.cn"].body
    assert "waiting for QA to acknowledge" in mails["ann@factory.cn"].body
    robots = [m for m in queued if m.channel != "email"]
    assert sorted(m.channel for m in robots) == ["dingtalk", "feishu", "wecom"]
    assert all("Li" in m.body and "Ann" in m.body and "Quinn" in m.body for m in robots)
    assert len({m.key for m in queued}) == len(queued) == 5
    assert all(f":{cid}:v2:dispatched" in m.key for m in queued)


def test_queuing_the_same_event_again_adds_nothing(kesu: Context, draft: ComplaintDraft,
                                                   team: dict[str, User], db: FakeDatabase,
                                                   admin: User) -> None:
    uc.channels.set_channels(kesu, admin, ALL_ON)
    cid = _dispatch(kesu, draft, team["sales"])
    before = _queued(db)
    with db(write=True) as uow:
        c = uow.complaints.get(cid)
        assert c is not None
        uc.pipeline.enqueue(kesu, uow,
                            [Note(team["li"].id, "dispatched", {"number": c.number, "by": "x"})], c,
                            NOW)
        uow.commit()
    assert _queued(db) == before


# ---------------------------------------------------------------- Admin services


def test_the_password_is_kept_cleared_and_never_shown(kesu: Context, admin: User,
                                                      db: FakeDatabase) -> None:
    uc.channels.set_channels(kesu, admin, replace(EMAIL_ON, smtp_user="kesu"), password="s3cret")
    view = uc.channels.channel_config(kesu, admin)
    assert view.has_password and view.config.smtp_password == ""
    uc.channels.set_channels(kesu, admin,
                             view.config)  # saved again from the form: password untouched
    with db() as uow:
        saved = uow.settings.get("channels")
        assert saved is not None and saved["smtp_password"] == "s3cret"
    uc.channels.set_channels(kesu, admin, view.config, password="")
    assert not uc.channels.channel_config(kesu, admin).has_password


def test_only_admin_configures_or_sees_the_channels(kesu: Context, team: dict[str, User]) -> None:
    for call in (
        lambda: uc.channels.channel_config(kesu, team["li"]),
        lambda: uc.channels.set_channels(kesu, team["li"], EMAIL_ON),
        lambda: uc.channels.send_test(kesu, team["li"], "email", "x@y.cn"),
        lambda: uc.channels.outbox_overview(kesu, team["li"]),
        lambda: uc.channels.retry_failed(kesu, team["li"]),
    ):
        with pytest.raises(NotAllowed):
            call()


def test_a_test_message_reports_the_servers_answer_or_its_error(db: FakeDatabase, clock: FakeClock,
                                                                admin: User) -> None:
    sender = FakeSender()
    kesu = Context(uow=db, blobs=FakeBlobs(), hasher=FakeHasher(), clock=clock, sender=sender)
    with pytest.raises(InvalidInput) as off:
        uc.channels.send_test(kesu, admin, "wecom")
    assert off.value.key == "err.channel_off"
    uc.channels.set_channels(kesu, admin, ALL_ON)
    with pytest.raises(InvalidInput) as nowhere:
        uc.channels.send_test(kesu, admin, "email")  # the admin has no address and typed none
    assert nowhere.value.key == "err.test_address"
    ok = uc.channels.send_test(kesu, admin, "email", "boss@factory.cn")
    assert (ok.ok, ok.answer) == (True, "250 OK fake")
    [(message, cfg)] = sender.sent
    assert (message.target, cfg) == ("boss@factory.cn", check_config(ALL_ON))
    sender.down = "ConnectionRefusedError: [Errno 111] Connection refused"
    bad = uc.channels.send_test(kesu, admin, "dingtalk")
    assert (bad.ok, bad.answer) == (False, sender.down)
    with db() as uow:
        assert uow.outbox.counts() == {}  # a test is sent at once, never queued


def test_a_kesu_without_a_sender_cannot_test(kesu: Context, admin: User) -> None:
    uc.channels.set_channels(kesu, admin, ALL_ON)
    with pytest.raises(NotAllowed) as err:
        uc.channels.send_test(kesu, admin, "feishu")
    assert err.value.key == "err.no_sender"


# ---------------------------------------------------------------- the delivery run (fakes)


def _queue(db: FakeDatabase, *messages: Message, cfg: ChannelConfig = ALL_ON) -> None:
    with db(write=True) as uow:
        uow.settings.set("channels", cfg.stored())
        for m in messages:
            assert uow.outbox.add(m, NOW)
        assert not uow.outbox.add(messages[0], NOW)  # the key is unique
        uow.commit()


MAIL = Message("email:1:v2:dispatched:3", "email", "li@factory.cn", "subj", "body")
WECOM = Message("wecom:1:v2:dispatched", "wecom", "wecom", "", "张三 发单")


def test_delivery_sends_what_is_due_and_marks_it_sent(db: FakeDatabase) -> None:
    _queue(db, MAIL, WECOM)
    sender = FakeSender()
    done = deliver_due(db, NOW, sender)
    assert (done.sent, done.retrying, done.failed) == (2, 0, 0)
    assert [m.key for m, _ in sender.sent] == [MAIL.key, WECOM.key]
    assert deliver_due(db, NOW + timedelta(days=1), sender).sent == 0  # never twice
    with db() as uow:
        assert uow.outbox.counts() == {"sent": 2}


def test_a_server_that_is_down_loses_nothing_and_is_retried_on_the_schedule(
    db: FakeDatabase,
) -> None:
    _queue(db, MAIL)
    sender = FakeSender()
    sender.down = "ConnectionRefusedError: [Errno 111] Connection refused"
    at = NOW
    for n in range(1, 4):
        done = deliver_due(db, at, sender)
        assert done.retrying == 1
        with db() as uow:
            [item] = uow.outbox.recent(("pending",))
        assert item.attempts == n and item.last_error == sender.down
        assert item.next_try_at == next_try(n, at)
        assert deliver_due(db, item.next_try_at - timedelta(seconds=1), sender).retrying == 0
        at = item.next_try_at
    sender.down = ""
    assert deliver_due(db, at, sender).sent == 1
    assert [m.key for m, _ in sender.sent] == [MAIL.key]


def test_after_the_last_attempt_a_message_is_kept_as_failed_and_can_be_retried(
    db: FakeDatabase, kesu: Context, admin: User, clock: FakeClock
) -> None:
    _queue(db, MAIL)
    sender = FakeSender()
    sender.down = "535 authentication failed"
    at = NOW
    for _ in range(outbox.MAX_ATTEMPTS):
        deliver_due(db, at, sender)
        at += timedelta(days=1)
    view = uc.channels.outbox_overview(kesu, admin)
    assert view.counts == {"pending": 0, "sent": 0, "failed": 1}
    [problem] = view.problems
    assert (problem.attempts, problem.last_error) == (outbox.MAX_ATTEMPTS, sender.down)
    assert deliver_due(db, at + timedelta(days=30), sender).failed == 0  # given up
    clock.set(at)
    assert uc.channels.retry_failed(kesu, admin) == 1
    sender.down = ""
    assert deliver_due(db, at, sender).sent == 1
    assert uc.channels.outbox_overview(kesu, admin).counts["sent"] == 1


def test_a_message_another_sender_claimed_first_is_skipped(db: FakeDatabase) -> None:
    _queue(db, MAIL)
    with db(write=True) as uow:
        [item] = uow.outbox.due(NOW)
        assert uow.outbox.claim(item.id, item.attempts, NOW + outbox.CLAIM_FOR)
        assert not uow.outbox.claim(item.id, item.attempts, NOW + outbox.CLAIM_FOR)
        uow.commit()
    sender = FakeSender()
    assert deliver_due(db, NOW, sender).sent == 0  # hidden while the other one sends
    # the other sender died mid-send: after CLAIM_FOR the message is tried again
    assert deliver_due(db, NOW + outbox.CLAIM_FOR, sender).sent == 1


def test_a_channel_switched_off_while_messages_wait_keeps_them_for_later(db: FakeDatabase) -> None:
    _queue(db, WECOM, cfg=EMAIL_ON)
    sender = FakeSender()
    done = deliver_due(db, NOW, sender)
    assert (done.sent, done.retrying) == (0, 1)
    with db(write=True) as uow:
        uow.settings.set("channels", ALL_ON.stored())
        uow.commit()
    assert deliver_due(db, NOW + timedelta(minutes=1), sender).sent == 1


def test_users_e_mail_addresses_are_checked_and_trimmed(kesu: Context, admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(kesu, admin,
                                UserInput("li", "Li", frozenset({Role.QA}), email="li@"),
                                "long enough")
    assert err.value.key == "err.email_format"
    li = uc.accounts.create_user(
        kesu,
        admin,
        UserInput("li", "Li", frozenset({Role.QA}), email=" li@factory.cn "),
        "long enough",
    )
    assert li.email == "li@factory.cn"
    again = uc.accounts.update_user(kesu, admin, li.id, UserInput("li", "Li", frozenset({Role.QA})))
    assert again.email == ""
