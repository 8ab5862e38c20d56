"""Use cases of the Stats page (docs/procedure.md §9); the figures' rules are in core/stats.py."""
from __future__ import annotations

from typing import Any
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.errors import InvalidInput, NotAllowed
from core.model import RegisterFilter, RegisterRow, User
from core.ports import UnitOfWork
from core.stats import (
    RECURRENCE_DAYS,
    RECURRENCE_MIN,
    AGE_BUCKETS,
    ASSIST_DIMENSION,
    DIMENSIONS,
    STATS_ROLES,
    MeetingCase,
    StatsFilter,
    StatsQuery,
    StatsReport,
    classified,
    default_preset,
    labelled,
    month_keys,
    pareto,
    previous,
    same_moment_before,
)
from core.rules import visibility
from core.usecases import context, search
from core.usecases.context import Context


def _may_see_stats(ctx: Context, uow: UnitOfWork, actor: User) -> User:
    me = context.acting_user(ctx, uow, actor)
    if not me.has(*STATS_ROLES):
        raise NotAllowed("err.role_required", roles=",".join(r.value for r in STATS_ROLES))
    return me


def stats_today(ctx: Context) -> date:
    """Today in the configured zone (what the presets count from)."""
    with ctx.uow() as uow:
        tz: ZoneInfo = context.settings_of(ctx, uow).tz
        now: datetime = ctx.clock()
        return now.astimezone(tz).date()


def stats_opening(ctx: Context) -> tuple[date, str]:
    """Today in the configured zone and the date range Stats opens with (setting
    stats_default_period; last week unless an administrator chose otherwise)."""
    with ctx.uow() as uow:
        cfg = context.settings_of(ctx, uow)
        now: datetime = ctx.clock()
        return now.astimezone(cfg.tz).date(), default_preset(cfg.stats_default_period)


def stats_version(ctx: Context) -> int:
    """Grows with every change to any case (the newest event): the page's cache key."""
    with ctx.uow() as uow:
        return uow.reads.stats.version()


def _register_filter(flt: StatsFilter, **extra: Any) -> RegisterFilter:
    """The register's filter for the cases received in the Stats period, with the Stats
    filters applied and cancelled cases left out."""
    p = flt.period
    return RegisterFilter(severities=(flt.severity,) if flt.severity else (),
                          kinds=(flt.kind,) if flt.kind else (), date_from=p.start,
                          date_to=p.end, customer_id=flt.customer_id,
                          product_code=flt.product_code, department_id=flt.department_id,
                          exclude_cancelled=True, **extra)


def stats_cases(ctx: Context, actor: User, flt: StatsFilter, dimension: str, key: str,
                page: int = 1, page_size: int = 50) -> tuple[list[RegisterRow], int]:
    """The cases behind one bar of a breakdown (received in the period, filters applied)."""
    an_id = key == "" or (key.isascii() and key.isdigit())
    if dimension not in (*DIMENSIONS, ASSIST_DIMENSION) or key == "*others*" or (
            dimension not in ("six_m", "product") and not an_id):
        raise InvalidInput("err.stats_bar")  # an id dimension's key is a number or ""
    with ctx.uow() as uow:
        _may_see_stats(ctx, uow, actor)
    reg = _register_filter(flt, facet=(dimension, key), page=page, page_size=page_size)
    found: tuple[list[RegisterRow], int] = search.register(ctx, actor, reg)
    return found


def _visible(ctx: Context, uow: UnitOfWork, me: User,
             found: list[MeetingCase]) -> list[MeetingCase]:
    """The listed cases `me` may see (record-level visibility): the figures are totals, but
    the meeting's list names cases."""
    sc = context.scope(ctx, uow, me)
    if sc is None:
        return found
    depts = {x.id: x.department_id for x in uow.ref.customers(include_inactive=True)}
    helping = context.assisting_now(uow)
    out = []
    for m in found:
        c = uow.complaints.get(m.id)
        if c is not None and visibility.sees(sc, c, depts.get(c.customer_id),
                                             helping.get(m.id, ())):
            out.append(m)
    return out


def period_cases(ctx: Context, actor: User, flt: StatsFilter,
                 limit: int = 5000) -> list[RegisterRow]:
    """The cases received in the period (filters applied, cancelled ones left out), oldest
    first: the list a monthly or quarterly summary ends with. Only the cases `actor` may see."""
    with ctx.uow() as uow:
        _may_see_stats(ctx, uow, actor)
    reg = _register_filter(flt, descending=False)
    found: list[RegisterRow] = search.register_all(ctx, actor, reg, limit)
    return found


def stats(ctx: Context, actor: User, flt: StatsFilter) -> StatsReport:
    now: datetime = ctx.clock()
    with ctx.uow() as uow:
        me = _may_see_stats(ctx, uow, actor)
        tz: ZoneInfo = context.settings_of(ctx, uow).tz
        before = previous(flt.period)
        then = same_moment_before(now, flt.period, before)
        q = StatsQuery.of(flt, flt.period, tz, now)
        qb = StatsQuery.of(flt, before, tz, now, overdue_at=then)
        months = month_keys(flt.period.end)
        sr = uow.reads.stats
        split = {d: classified(labelled(d, sr.breakdown(q, d)))
                 for d in (*DIMENSIONS, ASSIST_DIMENSION)}
        return StatsReport(
            filter=flt, before=before, now=now,
            current=sr.headline(q), previous=sr.headline(qb),
            on_time=sr.on_time(q),
            pareto={d: pareto(bars) for d, (bars, _) in split.items()},
            unclassified={d: n for d, (_, n) in split.items()},
            meeting_cases=_visible(ctx, uow, me, sr.open_severe(q)), overdue_before_at=then,
            months=months, monthly=sr.monthly(q, months),
            ageing=sr.ageing(q, AGE_BUCKETS),
            recurrences=sr.recurrences(q, RECURRENCE_DAYS, RECURRENCE_MIN),
            cost=sr.cost(q, months), version=sr.version())
