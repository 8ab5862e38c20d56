"""Use cases of notification channels and escalation (docs/procedure.md §8)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone
from typing import Any

from core import escalation, notify, outbox, sla
from core.errors import InvalidInput, NotAllowed
from core.model import Role, State, User
from core.notify import Note
from core.ports import UnitOfWork
from core.rules import approvals
from core.usecases import context, pipeline, security
from core.usecases.context import Context

CHANNELS_KEY = outbox.CHANNELS_KEY


LEVELS_KEY = "escalation_levels"


@dataclass(frozen=True)
class ChannelView:
    """The configuration as the Admin page may see it: the SMTP password is never shown, and
    a robot's address only masked (host and last four characters, outbox.masked)."""

    config: outbox.ChannelConfig  # smtp_password blanked, robot addresses masked
    has_password: bool


@dataclass(frozen=True)
class TestResult:
    ok: bool
    answer: str  # the server's answer, or the error


@dataclass(frozen=True)
class OutboxOverview:
    counts: dict[str, int]
    problems: list[outbox.OutboxItem]  # failed, and pending ones that failed before


def _admin_only(ctx: Context, uow: UnitOfWork, actor: User) -> User:
    me = context.acting_user(ctx, uow, actor)
    if not me.has(Role.ADMIN):
        raise NotAllowed("err.role_required", roles="admin")
    return me


def _channels(uow: UnitOfWork) -> outbox.ChannelConfig:
    return outbox.ChannelConfig.from_stored(uow.settings.get(CHANNELS_KEY))


def channel_config(ctx: Context, actor: User) -> ChannelView:
    with ctx.uow() as uow:
        _admin_only(ctx, uow, actor)
        cfg = _channels(uow)
        shown: dict[str, Any] = {f"{r}_url": outbox.masked(cfg.url(r)) for r in outbox.ROBOTS}
        return ChannelView(replace(cfg, smtp_password="", **shown), bool(cfg.smtp_password))


def set_channels(ctx: Context, actor: User, cfg: outbox.ChannelConfig,
                 password: str | None = None) -> None:
    """Save the channels; `password` None keeps the stored SMTP password, "" clears it. A
    robot address given as shown (masked) keeps the stored one."""
    with ctx.uow(write=True) as uow:
        _admin_only(ctx, uow, actor)
        old = _channels(uow)
        kept = old.smtp_password if password is None else password
        same: dict[str, Any] = {f"{r}_url": old.url(r) for r in outbox.ROBOTS
                if cfg.url(r).strip() and cfg.url(r).strip() == outbox.masked(old.url(r))}
        clean = outbox.check_config(replace(cfg, smtp_password=kept, **same))
        uow.settings.set(CHANNELS_KEY, clean.stored())
        security.add(uow, ctx.clock(), "channels_changed", actor)
        uow.commit()


def escalation_levels(ctx: Context) -> tuple[escalation.Level, ...]:
    with ctx.uow() as uow:
        return escalation.levels_from(uow.settings.get(LEVELS_KEY))


def set_escalation_levels(ctx: Context, actor: User, levels: list[escalation.Level]) -> None:
    with ctx.uow(write=True) as uow:
        _admin_only(ctx, uow, actor)
        codes = approvals.Titles(approvals.titles_from_json(uow.settings.get("titles"))).defs
        uow.settings.set(LEVELS_KEY, escalation.check_levels(levels, [d.code for d in codes]))
        security.add(uow, ctx.clock(), "escalation_changed", actor)
        uow.commit()


def send_test(ctx: Context, actor: User, channel: str, to: str = "") -> TestResult:
    """Send a test message now, past the outbox, and report what the server answered."""
    with ctx.uow() as uow:
        me = _admin_only(ctx, uow, actor)
        cfg = _channels(uow)
    if channel not in outbox.CHANNELS:
        raise InvalidInput("err.invalid_input")
    if not cfg.enabled(channel):
        raise InvalidInput("err.channel_off", channel=channel)
    address = (to or me.email).strip()
    if channel == "email" and not outbox.EMAIL.match(address):
        raise InvalidInput("err.test_address")
    if ctx.sender is None:
        raise NotAllowed("err.no_sender")
    lang = me.language.value if channel == "email" else cfg.robot_language
    try:
        answer = ctx.sender.send(outbox.trial_message(channel, address, lang, ctx.clock()), cfg)
    except outbox.DeliveryFailed as e:
        return TestResult(False, outbox.short_error(str(e)))
    return TestResult(True, outbox.short_error(answer))


def outbox_overview(ctx: Context, actor: User, limit: int = 20) -> OutboxOverview:
    with ctx.uow() as uow:
        _admin_only(ctx, uow, actor)
        counts = {s: 0 for s in outbox.STATUSES} | uow.outbox.counts()
        problems = [i for i in uow.outbox.recent(("failed", "pending"), limit * 2)
                    if i.last_error][:limit]
        return OutboxOverview(counts, problems)


def retry_failed(ctx: Context, actor: User) -> int:
    """Give every failed message a fresh series of attempts."""
    with ctx.uow(write=True) as uow:
        _admin_only(ctx, uow, actor)
        n = uow.outbox.retry_failed(ctx.clock())
        uow.commit()
        return n


def escalate_overdue(ctx: Context, limit: int = 1000, backdate: bool = False) -> int:
    """Fire the escalation levels that are due (docs/procedure.md §7): an "overdue" inbox line for
    each person the level names, and the channels. Returns how many levels fired.

    Recording the level (unique per case, step, start and level) comes first: when two
    app instances run this at once, only the one whose record went in notifies.
    `backdate` (the demo, issue #13): each level is recorded, and its inbox lines dated, when
    it became due — what the jobs would have sent while they ran — and no channel is used.
    """
    now = ctx.clock()
    todo: list[int] = []
    with ctx.uow() as uow:  # every overdue case, a batch at a time: the oldest ones,
        offset = 0  # already escalated, must not hide the newer ones
        while batch := uow.complaints.due_before(now, limit, offset):
            todo += [c.id or 0 for c in batch if _escalations(ctx, uow, c.id or 0, now)]
            offset += len(batch)
    fired = 0
    for cid in todo:
        with ctx.uow(write=True) as uow:
            c = uow.complaints.get(cid)
            if c is None:
                continue
            for e in _escalations(ctx, uow, cid, now):
                at = e.at if backdate else now
                if not uow.escalations.add(cid, e.step, e.started, e.level, at):
                    continue
                params: dict[str, Any] = {"number": c.number, "step": e.step, "level": e.level}
                notes = [Note(uid, "overdue", params) for uid in e.user_ids]
                if backdate:
                    pipeline.to_inbox(uow, notes, cid, at)
                else:
                    pipeline.deliver(ctx, uow, notes, c, now,
                                     tag=f"overdue:{e.step}:{e.started.isoformat()}:{e.level}")
                fired += 1
            uow.commit()
    return fired


def send_digests(ctx: Context) -> int:
    """The daily digest e-mails (a user's choice on My account): once the working day has
    begun (setting work_start, in the company's time zone), each user who chose the digest
    and has an address gets one e-mail with their notices of the day before — from the
    previous working-day start to this one — of the kinds they want by e-mail. Once per user
    and day: the outbox key names both, so a second run (or a second app instance) queues
    nothing. Returns how many digests were queued."""
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        cfg = _channels(uow)
        if not cfg.enabled("email"):
            return 0
        s = context.settings_of(ctx, uow)
        local = now.astimezone(s.tz)
        end = datetime.combine(local.date(), time.fromisoformat(s.work_start), s.tz)
        if local < end:
            end -= timedelta(days=1)
        start = end - timedelta(days=1)
        day = end.date().isoformat()
        queued = 0
        for u in uow.users.list():
            prefs = notify.Preferences.from_stored(uow.settings.get(notify.preference_key(u.id)))
            if not (u.active and u.email and prefs.digest):
                continue
            notes = [n for n in uow.notifications.created_between(
                u.id, start.astimezone(timezone.utc), end.astimezone(timezone.utc))
                if prefs.wants("email", n.kind)]
            if not notes:
                continue
            lang = u.language.value
            lines = [(n.created_at.astimezone(s.tz).strftime("%m-%d %H:%M") + " "
                      + outbox.note_text(n.kind, n.params, lang),
                      outbox.case_link(cfg, n.complaint_id)) for n in notes]
            if uow.outbox.add(outbox.digest(f"digest:{u.id}:{day}", u.email, u.display_name,
                                            lang, day, lines), now):
                queued += 1
        uow.commit()
    return queued


VERIFY_REMINDER = "verification"  # the escalations table's step of a scheduled check's reminder


def remind_scheduled_checks(ctx: Context, limit: int = 1000) -> int:
    """On the day a scheduled effectiveness check falls due (验证日期, closure.verify with
    schedule_days), tell QA in the inbox (and the channels): the QA engineer who scheduled it,
    or every QA engineer when that one is no longer active. Once per case and date: the
    reminder is recorded like an escalation level (step "verification", level 0), so two app
    instances running the jobs at once remind once. Returns how many cases were reminded."""
    now = ctx.clock()
    with ctx.uow() as uow:
        tz = context.settings_of(ctx, uow).tz
        today = now.astimezone(tz).date()
        todo = [c.id or 0 for c in uow.reads.cases.in_states([State.VERIFYING], limit)
                if c.verify_after is not None and c.verify_after <= today]
    reminded = 0
    for cid in todo:
        with ctx.uow(write=True) as uow:
            c = uow.complaints.get(cid)
            if c is None or c.state != State.VERIFYING or c.verify_after is None:
                continue
            day = datetime.combine(c.verify_after, time(0, 0), tz)
            if not uow.escalations.add(cid, VERIFY_REMINDER, day, 0, now):
                continue
            qa = [u for u in uow.users.list() if u.active and u.has(Role.QA)]
            scheduler = next((e.user_id for e in reversed(uow.events.for_complaint(cid))
                              if e.action == "verify" and "verify_after" in e.changes), None)
            people = [u for u in qa if u.id == scheduler] or qa
            params: dict[str, Any] = {"number": c.number, "day": c.verify_after.isoformat()}
            notes = [Note(u.id or 0, "verify_due", params) for u in people]
            pipeline.deliver(ctx, uow, notes, c, now,
                             tag=f"verify_due:{c.verify_after.isoformat()}")
            reminded += 1
            uow.commit()
    return reminded


def _escalations(ctx: Context, uow: UnitOfWork, cid: int,
                 now: datetime) -> list[escalation.Escalation]:
    case = context.load_case(ctx, uow, cid)
    cal = context.calendar_of(ctx, uow)
    dues = sla.due_times(case, uow.events.for_complaint(cid), cal,
                         uow.settings.get("sla_history") or [], now,
                         pipeline.from_reopening(ctx, uow))
    heads = {d.id: d.head_id for d in uow.ref.departments(include_inactive=True)
             if d.head_id is not None}
    return escalation.due_escalations(case, dues, now, uow.escalations.fired(cid), uow.users.list(),
                                      escalation.levels_from(uow.settings.get(LEVELS_KEY)), cal,
                                      heads)
