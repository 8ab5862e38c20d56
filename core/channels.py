"""The delivery side of notifications (docs/procedure.md §7–8): the channels configured on the Admin page,
their test button, the outbox overview, and the escalation of overdue steps.

Delivery itself (SMTP, webhooks, retries) is adapters/delivery.py; the job that runs it and the
escalations is adapters/scheduler.py.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core import escalation, outbox, sla
from core.errors import InvalidInput, NotAllowed
from core.model import Role, User
from core.notify import Note

if TYPE_CHECKING:
    from core.lifecycle import Lifecycle as _Base
    from core.ports import Sender, UnitOfWork
else:
    _Base = object

CHANNELS_KEY = "channels"
LEVELS_KEY = "escalation_levels"


@dataclass(frozen=True)
class ChannelView:
    """The configuration as the Admin page may see it: the SMTP password is never shown."""

    config: outbox.ChannelConfig  # smtp_password blanked
    has_password: bool


@dataclass(frozen=True)
class TestResult:
    ok: bool
    answer: str  # the server's answer, or the error


@dataclass(frozen=True)
class OutboxOverview:
    counts: dict[str, int]
    problems: list[outbox.OutboxItem]  # failed, and pending ones that failed before


class Channels(_Base):
    """Mixed into core.services.Kesu."""

    sender: Sender | None

    def _admin_only(self, uow: UnitOfWork, actor: User) -> User:
        me = self._actor(uow, actor)
        if not me.has(Role.ADMIN):
            raise NotAllowed("err.role_required", roles="admin")
        return me

    @staticmethod
    def _channels(uow: UnitOfWork) -> outbox.ChannelConfig:
        return outbox.ChannelConfig.from_stored(uow.settings.get(CHANNELS_KEY))

    # ------------------------------------------------------------ configuration (Admin)

    def channel_config(self, actor: User) -> ChannelView:
        with self.uow() as uow:
            self._admin_only(uow, actor)
            cfg = self._channels(uow)
            return ChannelView(replace(cfg, smtp_password=""), bool(cfg.smtp_password))

    def set_channels(self, actor: User, cfg: outbox.ChannelConfig,
                     password: str | None = None) -> None:
        """Save the channels; `password` None keeps the stored SMTP password, "" clears it."""
        with self.uow(write=True) as uow:
            self._admin_only(uow, actor)
            kept = self._channels(uow).smtp_password if password is None else password
            clean = outbox.check_config(replace(cfg, smtp_password=kept))
            uow.settings.set(CHANNELS_KEY, clean.stored())
            uow.commit()

    def escalation_levels(self) -> tuple[escalation.Level, ...]:
        with self.uow() as uow:
            return escalation.levels_from(uow.settings.get(LEVELS_KEY))

    def set_escalation_levels(self, actor: User, levels: list[escalation.Level]) -> None:
        with self.uow(write=True) as uow:
            self._admin_only(uow, actor)
            uow.settings.set(LEVELS_KEY, escalation.check_levels(levels))
            uow.commit()

    def send_test(self, actor: User, channel: str, to: str = "") -> TestResult:
        """Send a test message now, past the outbox, and report what the server answered."""
        with self.uow() as uow:
            me = self._admin_only(uow, actor)
            cfg = self._channels(uow)
        if channel not in outbox.CHANNELS:
            raise InvalidInput("err.invalid_input")
        if not cfg.enabled(channel):
            raise InvalidInput("err.channel_off", channel=channel)
        address = (to or me.email).strip()
        if channel == "email" and not outbox.EMAIL.match(address):
            raise InvalidInput("err.test_address")
        if self.sender is None:
            raise NotAllowed("err.no_sender")
        lang = me.language.value if channel == "email" else cfg.robot_language
        try:
            answer = self.sender.send(outbox.trial_message(channel, address, lang, self.clock()),
                                      cfg)
        except outbox.DeliveryFailed as e:
            return TestResult(False, outbox.short_error(str(e)))
        return TestResult(True, outbox.short_error(answer))

    # ------------------------------------------------------------ the outbox (Admin)

    def outbox_overview(self, actor: User, limit: int = 20) -> OutboxOverview:
        with self.uow() as uow:
            self._admin_only(uow, actor)
            counts = {s: 0 for s in outbox.STATUSES} | uow.outbox.counts()
            problems = [i for i in uow.outbox.recent(("failed", "pending"), limit * 2)
                        if i.last_error][:limit]
            return OutboxOverview(counts, problems)

    def retry_failed(self, actor: User) -> int:
        """Give every failed message a fresh series of attempts."""
        with self.uow(write=True) as uow:
            self._admin_only(uow, actor)
            n = uow.outbox.retry_failed(self.clock())
            uow.commit()
            return n

    # ------------------------------------------------------------ escalation (the job)

    def escalate_overdue(self, limit: int = 1000) -> int:
        """Fire the escalation levels that are due (docs/procedure.md §7): an "overdue" inbox line for each
        person the level names, and the channels. Returns how many levels fired.

        Recording the level (unique per case, step, start and level) comes first: when two
        app instances run this at once, only the one whose record went in notifies.
        """
        now = self.clock()
        todo: list[int] = []
        with self.uow() as uow:  # every overdue case, a batch at a time: the oldest ones,
            offset = 0           # already escalated, must not hide the newer ones
            while batch := uow.complaints.due_before(now, limit, offset):
                todo += [c.id or 0 for c in batch if self._escalations(uow, c.id or 0, now)]
                offset += len(batch)
        fired = 0
        for cid in todo:
            with self.uow(write=True) as uow:
                c = uow.complaints.get(cid)
                if c is None:
                    continue
                for e in self._escalations(uow, cid, now):
                    if not uow.escalations.add(cid, e.step, e.started, e.level, now):
                        continue
                    params: dict[str, Any] = {"number": c.number, "step": e.step,
                                              "level": e.level}
                    notes = [Note(uid, "overdue", params) for uid in e.user_ids]
                    for n in notes:
                        uow.notifications.add(n.user_id, cid, n.kind, n.params, now)
                    self._enqueue(uow, notes, c, now,
                                  tag=f"overdue:{e.step}:{e.started.isoformat()}:{e.level}")
                    fired += 1
                uow.commit()
        return fired

    def _escalations(self, uow: UnitOfWork, cid: int,
                     now: datetime) -> list[escalation.Escalation]:
        case = self._case_file(uow, cid)
        cal = self._calendar(uow)
        dues = sla.due_times(case, uow.events.for_complaint(cid), cal,
                             uow.settings.get("sla_history") or [], now)
        return escalation.due_escalations(
            case, dues, now, uow.escalations.fired(cid), uow.users.list(),
            escalation.levels_from(uow.settings.get(LEVELS_KEY)), cal)
