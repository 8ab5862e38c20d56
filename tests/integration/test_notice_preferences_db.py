"""Notices people read (issue #13) on the real database: a user's choice (a settings row)
filters the inbox of a dispatch, and the daily digest reads the day's notices by time."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from core import outbox
from core.model import Severity
from core.notify import Preferences
from core.outbox import ChannelConfig
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.integration.conftest import NOW, World
from core import usecases as uc

EMAIL_ON = ChannelConfig(smtp_host="smtp.factory.cn", mail_from="kesu@factory.cn")


def _dispatch(app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> int:
    c = uc.complaints.register_complaint(app, world.sales, draft(received_at=NOW,
                                                                 severity_proposed=Severity.C))
    uc.investigation.dispatch(app, world.sales, c.id or 0, c.version)
    return c.id or 0


def _mails(app: Context) -> list[outbox.Message]:
    with app.uow() as uow:
        return [i.message for i in sorted(uow.outbox.recent(outbox.STATUSES, 100),
                                          key=lambda i: i.id) if i.message.channel == "email"]


def test_a_choice_filters_the_inbox_and_the_digest_reads_the_days_notices(
        make_app: Callable[..., Context], app: Context, world: World,
        draft: Callable[..., ComplaintDraft]) -> None:
    with app.uow(write=True) as uow:  # qa1 gets an e-mail address
        qa = uow.users.get(world.qa.id)
        assert qa is not None
        uow.users.update(replace(qa, email="li@factory.cn"))
        uow.commit()
    uc.channels.set_channels(app, world.admin, EMAIL_ON)

    uc.notices.set_notice_preferences(app, world.qa,
                                        Preferences(frozenset({("inbox", "dispatched")})))
    _dispatch(app, world, draft)
    assert uc.notices.inbox(app, world.qa) == []  # turned off for the inbox
    assert [m.target for m in _mails(app)] == ["li@factory.cn"]  # not for e-mail

    uc.notices.set_notice_preferences(app, world.qa, Preferences(digest=True))
    assert uc.notices.notice_preferences(app, world.qa) == Preferences(digest=True)
    _dispatch(app, world, draft)
    assert [n.kind for n in uc.notices.inbox(app, world.qa)] == ["dispatched"]
    assert len(_mails(app)) == 1  # no single mail: the digest has it

    later = make_app(clock=lambda: NOW + timedelta(days=1))  # 12:00 the next day in Shanghai
    assert uc.channels.send_digests(later) == 1
    assert uc.channels.send_digests(later) == 0
    mail = _mails(later)[-1]
    assert mail.key.startswith("digest:") and mail.target == "li@factory.cn"
    assert mail.body.count("\n- ") == 1  # the second dispatch: the first is not in the inbox
