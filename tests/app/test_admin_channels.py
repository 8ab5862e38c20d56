"""pages/admin.py → Notifications: channels (password never shown), the test button against a
local SMTP server, escalation levels, the outbox; and app.py's one background jobs thread."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from streamlit.testing.v1 import AppTest

from core.escalation import Level
from core.outbox import ChannelConfig, Message
from core.usecases.context import Context
from adapters import scheduler as jobs
from tests.app.helpers import (
    block, en, login_as, new_app, no_exception, open_tab, values, widget, zh,
)
from tests.local_servers import SmtpServer, free_port
from core import usecases as uc


def _admin(app: Context):  # noqa: ANN202 - a User
    user = uc.accounts.active_user(app, "admin")
    assert user is not None
    return user


def _tab(lang: str = "zh") -> tuple[AppTest, object]:
    at = login_as(new_app(), "admin")
    if lang == "en":
        at.query_params["lang"] = "en"
    at.run()
    at.switch_page("pages/admin.py").run()
    no_exception(at)
    tr = en if lang == "en" else zh
    return at, open_tab(at, "admin_tab", tr("admin.notifications"))


def _submit(tab: object, form: str) -> None:
    [save] = [b for b in tab.button  # type: ignore[attr-defined]
              if b.key == f"FormSubmitter:{form}-{zh('common.save')}"]
    save.click().run()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def test_every_channel_starts_off_and_the_outbox_is_empty(ref_db: Context) -> None:
    at, tab = _tab("en")
    text = values(tab, "markdown")
    assert "**E-mail** · Not configured (off)" in text
    assert "**WeCom** · Not configured (off)" in text
    assert all(b.disabled for b in tab.button if b.label == en("chan.send_test"))  # type: ignore[attr-defined]
    assert en("chan.outbox_counts", pending=0, sent=0, failed=0) in values(tab, "caption")
    assert values(tab, "info") == [en("chan.no_problems")]


def test_saving_smtp_keeps_the_password_server_side_and_never_shows_it(ref_db: Context) -> None:
    at, tab = _tab()
    widget(tab, "text_input", zh("field.smtp_host")).input("smtp.factory.cn")
    widget(tab, "text_input", zh("field.smtp_user")).input("kesu")
    widget(tab, "text_input", zh("field.smtp_password")).input("s3cret-pw")
    widget(tab, "text_input", zh("field.mail_from")).input("kesu@factory.cn")
    _submit(tab, "channels")
    no_exception(at)
    assert values(at, "success") == [zh("common.saved")]
    view = uc.channels.channel_config(ref_db, _admin(ref_db))
    assert view.has_password and view.config.smtp_host == "smtp.factory.cn"
    with ref_db.uow() as uow:
        saved = uow.settings.get("channels")
        assert saved is not None and saved["smtp_password"] == "s3cret-pw"
    tab = block(at, "tabs", zh("admin.notifications"))
    password = widget(tab, "text_input", zh("field.smtp_password"))
    assert password.value == "" and "s3cret-pw" not in str(at.get("text_input"))
    assert password.help == zh("chan.password_kept")
    assert f"**{zh('chan.email')}** · {zh('chan.on')}" in values(tab, "markdown")
    # saving the form again without typing it keeps it
    _submit(tab, "channels")
    with ref_db.uow() as uow:
        saved = uow.settings.get("channels")
        assert saved is not None and saved["smtp_password"] == "s3cret-pw"
    tab = block(at, "tabs", zh("admin.notifications"))
    widget(tab, "checkbox", zh("chan.clear_password")).check()
    _submit(tab, "channels")
    assert not uc.channels.channel_config(ref_db, _admin(ref_db)).has_password


def test_a_bad_webhook_address_is_refused_with_a_translated_reason(ref_db: Context) -> None:
    at, tab = _tab()
    widget(tab, "text_input", zh("field.wecom_url")).input("qyapi.weixin.qq.com/send?key=1")
    _submit(tab, "channels")
    no_exception(at)
    assert values(at, "error") == [zh("err.url_format", field="wecom_url")]
    assert "企业微信机器人 Webhook" in values(at, "error")[0]
    assert not uc.channels.channel_config(ref_db, _admin(ref_db)).config.any_enabled


def test_send_test_message_shows_the_mail_servers_answer(ref_db: Context,
                                                         smtp: SmtpServer) -> None:
    uc.channels.set_channels(ref_db, _admin(ref_db), ChannelConfig(
        smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
        mail_from="kesu@factory.cn"))
    at, tab = _tab()
    widget(tab, "text_input", zh("chan.test_to")).input("boss@factory.cn")
    [button] = [b for b in tab.button if b.key == "test_email"]  # type: ignore[attr-defined]
    button.click().run()
    no_exception(at)
    assert values(at, "success") == [zh("chan.test_ok")]
    assert "250 2.0.0 Ok: queued as KESU1" in values(at, "code")  # (Backup tab: a command too)
    assert [m["To"] for m in smtp.box.messages] == ["boss@factory.cn"]


def test_send_test_message_shows_the_error_when_the_server_is_down(ref_db: Context) -> None:
    uc.channels.set_channels(ref_db, _admin(ref_db), ChannelConfig(
        smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none",
        mail_from="kesu@factory.cn"))
    at, tab = _tab()
    widget(tab, "text_input", zh("chan.test_to")).input("boss@factory.cn")
    [button] = [b for b in tab.button if b.key == "test_email"]  # type: ignore[attr-defined]
    button.click().run()
    no_exception(at)
    assert values(at, "error") == [zh("chan.test_failed")]
    assert "Connection refused" in values(at, "code")[0]


def test_escalation_levels_are_edited_on_the_tab(ref_db: Context) -> None:
    at, tab = _tab()
    multiples = [w for w in tab.number_input  # type: ignore[attr-defined]
                 if w.label.endswith(zh("chan.multiple"))]
    assert [w.value for w in multiples] == [1.0, 2.0, 0.0]
    multiples[1].set_value(3.0)
    multiples[2].set_value(5.0)
    [third] = [w for w in tab.multiselect if w.key == "esc_to2"]  # type: ignore[attr-defined]
    third.set_value(["chairman"])
    _submit(tab, "escalation")
    no_exception(at)
    assert uc.channels.escalation_levels(ref_db) == (Level(1.0, ("holders", "managers")),
                                          Level(3.0, ("general_manager",)),
                                          Level(5.0, ("chairman",)))


def test_failed_messages_are_listed_and_retried(ref_db: Context) -> None:
    now = datetime.now(timezone.utc)
    with ref_db.uow(write=True) as uow:
        uow.outbox.add(Message("k1", "email", "li@factory.cn", "客诉 KS1 已逾期", "b"), now)
        [item] = uow.outbox.due(now)
        uow.outbox.claim(item.id, 0, now)
        uow.outbox.mark_failed(item.id, "535 5.7.8 authentication failed", None)
        uow.commit()
    at, tab = _tab()
    assert zh("chan.outbox_counts", pending=0, sent=0, failed=1) in values(tab, "caption")
    table = tab.dataframe[0].value  # type: ignore[attr-defined]
    row = table.iloc[0]
    assert (row[zh("outbox.status")], row[zh("outbox.target")], row[zh("outbox.error")]) == (
        zh("outbox.failed"), "li@factory.cn", "535 5.7.8 authentication failed")
    widget(tab, "button", zh("chan.retry_failed")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("chan.retried", n=1)]
    with ref_db.uow() as uow:
        assert uow.outbox.counts() == {"pending": 1}


def test_app_starts_one_background_jobs_thread_for_all_sessions(
        ref_db: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESU_BACKGROUND", "on")
    monkeypatch.setenv("KESU_JOBS_INTERVAL", "3600")
    jobs.stop_background()
    try:
        first = login_as(new_app(), "admin").run()
        second = login_as(new_app(), "sales").run()
        no_exception(first)
        no_exception(second)
        threads = [t for t in threading.enumerate() if t.name == "kesu-jobs"]
        assert len(threads) == 1 and threads[0].daemon
    finally:
        jobs.stop_background()
