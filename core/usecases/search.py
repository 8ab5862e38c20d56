"""Reads of the register (登记表): the Log page's search and export, a case by its
number, the Investigate page's picker (docs/procedure.md §9)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from core.model import (
    Complaint,
    RegisterFilter,
    RegisterPage,
    RegisterLine,
    RegisterRow,
    State,
    User,
)
from core.ports import (
    UnitOfWork,
)
from core.errors import NotFound
from core.rules import visibility
from core.rules.approvals import Titles
from core.usecases import authority, common, context
from core.usecases.context import Context


def complaint_id_by_number(ctx: Context, actor: User, number: str) -> int | None:
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        c = uow.complaints.by_number(number.strip().upper())
        if c is None:
            return None
        try:
            context.check_visible(ctx, uow, me, c)
        except NotFound:
            return None
        return c.id


def register(ctx: Context, actor: User, flt: RegisterFilter) -> tuple[list[RegisterRow], int]:
    """One page of the register and the total number of matching cases."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        return uow.reads.register.search(_bounded(ctx, uow, me, flt, flt.page, flt.page_size))


def register_page(ctx: Context, actor: User, flt: RegisterFilter) -> RegisterPage:
    """One page of the register as the Log shows it: the count capped by flt.count_limit,
    keyset paging after flt.after, and whether a key's prefix answered (精确匹配)."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        return uow.reads.register.page(_bounded(ctx, uow, me, flt, flt.page, flt.page_size))


def _bounded(ctx: Context, uow: UnitOfWork, me: User, flt: RegisterFilter, page: int,
             page_size: int) -> RegisterFilter:
    """The filter with local dates turned into UTC instants, a sane page, and the cases
    `me` may see (record-level visibility)."""
    tz = context.settings_of(ctx, uow).tz
    since = datetime.combine(flt.date_from, datetime.min.time(), tz) if flt.date_from else None
    until = (
        datetime.combine(flt.date_to + timedelta(days=1), datetime.min.time(), tz)
        if flt.date_to
        else None
    )
    return dataclasses.replace(flt, text=common.CONTROL.sub("", flt.text)[: common.MAX_SHORT],
                               since=since, until=until, now=ctx.clock(), page=max(page, 1),
                               page_size=min(max(page_size, 1), 100_000),
                               scope=context.scope(ctx, uow, me),
                               custom=tuple((int(f), common.CONTROL.sub("", str(v))[
                                   : common.MAX_SHORT]) for f, v in flt.custom if str(v)))


def register_all(ctx: Context, actor: User, flt: RegisterFilter,
                 limit: int = 100_000) -> list[RegisterRow]:
    """Every matching row (for export), up to `limit`."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        rows, _ = uow.reads.register.search(_bounded(ctx, uow, me, flt, 1, limit))
    return rows


@dataclasses.dataclass(frozen=True)
class RegisterExport:
    """The exported register (issue #13): how many rows, the titles' names (for the approvals)
    and the rows, read in batches as they are written — 100,000 cases are never all in memory;
    each batch is read in its own unit of work."""

    total: int
    titles: Titles
    batches: Iterator[list[RegisterLine]]
    more: bool = False  # more cases match than the limit let out (the count is capped: #14)


EXPORT_LIMIT = 100_000


def register_export(ctx: Context, actor: User, flt: RegisterFilter, limit: int = EXPORT_LIMIT,
                    batch: int = 1000) -> RegisterExport:
    """The matching cases (the user's visibility, the register's order) as exported rows. The
    matching ids are read first, once, so the batches neither skip nor repeat a case that
    changes meanwhile."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        cap = min(max(limit, 1), EXPORT_LIMIT)
        ids = uow.reads.register.ids(_bounded(ctx, uow, me, flt, 1, limit), cap + 1)
        more, ids = len(ids) > cap, ids[:cap]  # one more read tells whether some are left out
        titles = authority.titles_of(uow)
    size = min(max(batch, 1), 5000)

    def batches() -> Iterator[list[RegisterLine]]:
        for start in range(0, len(ids), size):
            with ctx.uow() as uow:  # closed before the batch is written out
                lines = uow.reads.register.lines(ids[start:start + size])
            yield lines

    return RegisterExport(len(ids), titles, batches(), more)


def cases_in(ctx: Context, actor: User, states: Sequence[State],
             limit: int = 500) -> list[Complaint]:
    """Open cases in some states (the Investigate page's picker), newest first."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        found = uow.reads.cases.in_states(states, limit)
        sc = context.scope(ctx, uow, me)
        if sc is None:
            return found
        depts = {x.id: x.department_id for x in uow.ref.customers(include_inactive=True)}
        helping = context.assisting_now(uow)
        return [c for c in found if visibility.sees(sc, c, depts.get(c.customer_id),
                                                    helping.get(c.id or 0, ()))]
