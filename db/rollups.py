"""Stats rollups (docs/decisions/0016-stats-rollups.md): what every case counts in, per local
day, so the Stats page sums a few hundred rows instead of aggregating the cases.

A case's *parts* are the (measure, local day, key) -> (n, amount) it contributes: received on
its day, by each breakdown's value, closed with its working days, its analysis approvals, its
follow-up score, its approved cost lines, its finished timed steps… `parts` is the one function
that says so; both paths use it:

- incrementally, in the unit of work that writes the case (db/uow.py `SqlUnitOfWork.commit`):
  for each case touched, the parts it had (`stats_facts`) are subtracted from `stats_rollups`
  and its parts now added, in the same transaction;
- in bulk, by `rebuild` (`manage.py rollups --rebuild`, `manage.py synth`, migration 0025).

Recurrences (an issue received again and again within 30 days) are not a sum over days: each
case's count of its issue's cases in the 30 days up to it depends on the other cases. They are
kept per case in `stats_recurrences` (migration 0027) by the same unit of work: when a case's
issue, received time or cancellation changes, the counts of its issue's cases in the 30 days
after it (old and new) are made again (`refresh_recurrences`).

The rollups are read only when their meta row names the configured time zone (the days are
local days of that zone); otherwise Stats reads the cases directly (db/stats.py).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Union
from zoneinfo import ZoneInfo

from sqlalchemy import (Boolean, Connection, Integer, String, and_, bindparam, cast, delete,
                        func, insert, literal_column, null, select, text, union_all,
                        update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from core.model import State, StepStatus
from core.settings import DEFAULTS
from core.stats import RECURRENCE_DAYS
from db import bulk
from db.tables import (
    ApprovalStepRow,
    AssistRow,
    ComplaintRow,
    CostLineRow,
    EventRow,
    SettingRow,
    StatsFactRow,
    StatsRecurrenceRow,
    StatsRollupRow,
    StepTimeRow,
)

Db = Union[Session, Connection]
Key = tuple[str, date, str]
Parts = dict[Key, tuple[int, Decimal]]

ANY_DAY = date(2000, 1, 1)  # rows about no day: the meta row, the cases open now
META = "meta"  # key: the time zone the days are local to
OPEN_STATES = frozenset(s.value for s in State if s.is_open)
ZERO = Decimal("0")
C = ComplaintRow
R = StatsRollupRow
# the case columns a case's parts depend on (named: later columns do not change migration 0023)
COLUMNS = (C.id, C.state, C.received_at, C.closed_at, C.close_wd, C.validity, C.severity,
           C.severity_proposed, C.defect_type_id, C.root_cause_6m, C.responsible_department_id,
           C.customer_id, C.product_code, C.followup_date, C.satisfaction_score,
           C.sent_back_count)
# a breakdown's measure: "d:" + the dimension (core/stats.py DIMENSIONS, ASSIST_DIMENSION)
BREAKDOWNS = ("defect_type", "six_m", "department", "department_assist", "customer", "product")
# the measures also kept per local month ("m:" + measure, on the month's first day): the sum of
# their day rows, so a period's whole months are one row per key (migration 0028)
# PERIOD_MEASURES: those a period sums (db/stats.py reads them); "sev" is read by whole months
PERIOD_MEASURES = ("received", "invalid", "closed", "wd", "sat", "cost", "back", "step",
                   *("d:" + d for d in BREAKDOWNS))
MONTHLY = (*PERIOD_MEASURES, "sev")
MONTH = "m:"


def with_months(p: Parts) -> Parts:
    """Day parts with their month rows added (a month row is the sum of its days')."""
    out = dict(p)
    for (m, d, k), (n, a) in p.items():
        if m in MONTHLY:
            mk = (MONTH + m, d.replace(day=1), k)
            was = out.get(mk, (0, ZERO))
            out[mk] = (was[0] + n, was[1] + a)
    return out


@dataclass
class CaseFacts:
    """What one case's parts are made of: its row and its records that Stats counts."""

    row: Any  # a Row of COLUMNS
    helpers: set[int] = field(default_factory=set)  # departments assisting now
    approvals: list[datetime] = field(default_factory=list)  # approve_capa events
    costs: list[tuple[Decimal, Decimal, int, int | None]] = field(default_factory=list)
    rounds: dict[int, bool] = field(default_factory=dict)  # round -> all its steps approved
    steps: list[tuple[str, bool, datetime]] = field(default_factory=list)

    def step_status(self, rnd: int, status: str) -> None:
        """An approval step of round `rnd`: the round counts as approved when all its are."""
        self.rounds[rnd] = self.rounds.get(rnd, True) and status == StepStatus.APPROVED.value


def _key(v: Any) -> str:
    return "" if v is None else str(v)


def _wd(v: Any) -> str:
    """Working days as a key: '8', '8.5' (the same number, however the database returns it)."""
    d = Decimal(str(v)).normalize()
    return format(d, "f")


def parts(f: CaseFacts, tz: ZoneInfo) -> Parts:
    """The (measure, local day, key) -> (n, amount) a case counts in (core/stats.py states the
    rules: every measure but the steps leaves cancelled cases out)."""
    out: dict[Key, tuple[int, Decimal]] = {}

    def add(measure: str, day: date, key: str = "", n: int = 1, amount: Decimal = ZERO) -> None:
        k = (measure, day, key)
        was = out.get(k, (0, ZERO))
        out[k] = (was[0] + n, was[1] + amount)

    def local(at: datetime) -> date:
        return at.astimezone(tz).date()

    c = f.row
    for step, on_time, done_at in f.steps:  # a step done stays done if the case is cancelled
        add("step", local(done_at), f"{step}|{1 if on_time else 0}")
    if c.state == State.CANCELLED.value:
        return out
    got = local(c.received_at)
    add("received", got)
    if c.validity == "invalid":
        add("invalid", got)
    add("sev", got, _key(c.severity or c.severity_proposed))
    add("d:defect_type", got, _key(c.defect_type_id))
    add("d:six_m", got, c.root_cause_6m or "")
    add("d:department", got, _key(c.responsible_department_id))
    add("d:customer", got, _key(c.customer_id))
    add("d:product", got, c.product_code or "")
    leads = {c.responsible_department_id} if c.responsible_department_id is not None else set()
    for dep in sorted(leads | f.helpers) or [None]:
        add("d:department_assist", got, _key(dep))
    if c.state in OPEN_STATES:
        add("open", ANY_DAY)
    if c.closed_at is not None:
        closed = local(c.closed_at)
        add("gone", max(got, closed))  # received and closed by a day's end: no longer open
        if c.state == State.CLOSED.value:
            add("closed", closed)
            if c.close_wd is not None:
                add("wd", closed, _wd(c.close_wd))
    # first-time-right counts a case once per period: each approval day with the approval
    # day before it, so a period counts the approvals whose previous one falls before it
    ok = 1 if c.sent_back_count == 0 else 0
    before = ""
    for day in sorted({local(a) for a in f.approvals}):
        add("ftr", day, f"{ok}|{before}")
        before = day.isoformat()
    if c.satisfaction_score is not None and c.followup_date is not None:
        add("sat", c.followup_date, str(int(c.satisfaction_score)))
    for amount, back, rnd, dep in f.costs:
        if f.rounds.get(rnd, False):
            key = _key(dep if dep is not None else c.responsible_department_id)
            add("cost", got, key, 1, Decimal(str(amount)))
            add("back", got, key, 1, Decimal(str(back or 0)))
    return out


# the statements, built once (building them at every write cost more than running them)
_IDS: Any = bindparam("ids", expanding=True)
_OLD = (select(StatsFactRow.complaint_id, StatsFactRow.parts)
        .where(StatsFactRow.complaint_id.in_(_IDS)).order_by(StatsFactRow.complaint_id)
        .with_for_update())
_NEW_FACT = insert(StatsFactRow)
_SET_FACT = (update(StatsFactRow).where(StatsFactRow.complaint_id == bindparam("cid"))
             .values(parts=bindparam("encoded")))
_ZONE = select(R.key).where(R.measure == META, R.day == ANY_DAY).limit(1)
_UPSERT: dict[str, Any] = {}


def _upsert(dialect: str) -> Any:
    """insert … on conflict add: n = n + new n, amount = amount + new amount."""
    if dialect not in _UPSERT:
        ins: Any = (postgresql if dialect == "postgresql" else sqlite).insert(R)
        _UPSERT[dialect] = ins.on_conflict_do_update(
            index_elements=[R.measure, R.day, R.key],
            set_={"n": R.n + ins.excluded.n, "amount": R.amount + ins.excluded.amount})
    return _UPSERT[dialect]


def _statements(where: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The six reads of the cases' facts, each table's rows chosen by `where(its case id)`."""
    return (
        select(*COLUMNS).where(where(C.id)),
        select(AssistRow.complaint_id, AssistRow.department_id).where(
            where(AssistRow.complaint_id), AssistRow.ended_at.is_(None)),
        select(EventRow.complaint_id, EventRow.at).where(
            where(EventRow.complaint_id), EventRow.action == "approve_capa"),
        select(CostLineRow.complaint_id, CostLineRow.amount, CostLineRow.charge_back,
               CostLineRow.round, CostLineRow.department_id).where(
            where(CostLineRow.complaint_id)),
        select(ApprovalStepRow.complaint_id, ApprovalStepRow.round,
               ApprovalStepRow.status).where(where(ApprovalStepRow.complaint_id)),
        select(StepTimeRow.complaint_id, StepTimeRow.step, StepTimeRow.on_time,
               StepTimeRow.done_at).where(where(StepTimeRow.complaint_id)),
    )


# every case in an id range (the rebuild: no list of 2,000 parameters for the driver to parse,
# and an index range scan per table; the unit of work reads its few cases by `_CASES` below)
_BY_RANGE = _statements(lambda col: and_(col > bindparam("lo"), col <= bindparam("hi")))


def _read_facts(db: Db, statements: tuple[Any, ...], arg: dict[str, Any]
                ) -> dict[int, CaseFacts]:
    cases, helpers, approvals, costs, rounds, steps = statements
    got = {r.id: CaseFacts(r) for r in db.execute(cases, arg)}
    if not got:
        return got
    for cid, dep in db.execute(helpers, arg):
        got[cid].helpers.add(int(dep))
    for cid, at in db.execute(approvals, arg):
        got[cid].approvals.append(at)
    for cid, amount, back, rnd, line_dep in db.execute(costs, arg):
        got[cid].costs.append((amount, back, rnd, line_dep))
    for cid, rnd, status in db.execute(rounds, arg):
        got[cid].step_status(rnd, status)
    for cid, step, on_time, done in db.execute(steps, arg):
        got[cid].steps.append((step, bool(on_time), done))
    return got


# The unit of work's reads, fewer round trips than six reads (issue #14, a write ≤ 30 ms): the
# cases with their recurrence rows and the rollups' zone in one statement, their five kinds of
# records in one UNION ALL (`_RECORD_COLUMNS`: each kind fills its own columns, NULL the others).
_CASES = (select(*COLUMNS, StatsRecurrenceRow.product_code.label("rq_product"),
                 StatsRecurrenceRow.defect_type_id.label("rq_defect"),
                 StatsRecurrenceRow.received_at.label("rq_at"),
                 _ZONE.scalar_subquery().label("rollup_zone"))
          .outerjoin(StatsRecurrenceRow, StatsRecurrenceRow.complaint_id == C.id)
          .where(C.id.in_(_IDS)))
_RECORD_COLUMNS = {"i1": Integer(), "i2": Integer(), "x1": CostLineRow.amount.type,
                   "x2": CostLineRow.charge_back.type, "t": String(),
                   "ts": EventRow.at.type, "b": Boolean()}
ASSIST, APPROVAL, COST, ROUND, STEP = range(5)


def _records(tag: int, cid: Any, where: Any, **cols: Any) -> Any:
    """One kind of record as the union's columns (the first kind types the NULLs: its types
    are the union's)."""
    out = [cid.label("cid"), literal_column(str(tag), Integer()).label("tag")]
    out += [cols[k].label(k) if k in cols else cast(null(), ty).label(k)
            for k, ty in _RECORD_COLUMNS.items()]
    return select(*out).where(where)


_RECORDS_BY_IDS = union_all(
    _records(ASSIST, AssistRow.complaint_id, and_(AssistRow.complaint_id.in_(_IDS),
                                                  AssistRow.ended_at.is_(None)),
             i1=AssistRow.department_id),
    _records(APPROVAL, EventRow.complaint_id, and_(EventRow.complaint_id.in_(_IDS),
                                                   EventRow.action == "approve_capa"),
             ts=EventRow.at),
    _records(COST, CostLineRow.complaint_id, CostLineRow.complaint_id.in_(_IDS),
             i1=CostLineRow.round, i2=CostLineRow.department_id, x1=CostLineRow.amount,
             x2=CostLineRow.charge_back),
    _records(ROUND, ApprovalStepRow.complaint_id, ApprovalStepRow.complaint_id.in_(_IDS),
             i1=ApprovalStepRow.round, t=ApprovalStepRow.status),
    _records(STEP, StepTimeRow.complaint_id, StepTimeRow.complaint_id.in_(_IDS),
             t=StepTimeRow.step, b=StepTimeRow.on_time, ts=StepTimeRow.done_at))

Recurrence = tuple[str, int, datetime]  # a case's issue (product, defect type), received time


def _cases_now(db: Db, ids: list[int]
               ) -> tuple[str | None, dict[int, CaseFacts], dict[int, Recurrence]]:
    """(the rollups' zone, these cases' facts, their stored recurrence rows) in two
    statements: the facts `_read_facts` would give, and the reads of `refresh_recurrences`."""
    arg = {"ids": ids}
    rows = db.execute(_CASES, arg).all()
    if not rows:
        return None, {}, {}
    got = {r.id: CaseFacts(r) for r in rows}
    stored = {int(r.id): (str(r.rq_product), int(r.rq_defect), r.rq_at)
              for r in rows if r.rq_product is not None}
    for cid, tag, i1, i2, x1, x2, t, ts, b in db.execute(_RECORDS_BY_IDS, arg):
        f = got[cid]
        if tag == ASSIST:
            f.helpers.add(int(i1))
        elif tag == APPROVAL:
            f.approvals.append(ts)
        elif tag == COST:
            f.costs.append((x1, x2, i1, i2))
        elif tag == ROUND:
            f.step_status(i1, t)
        else:
            f.steps.append((t, bool(b), ts))
    zone = rows[0].rollup_zone
    return (None if zone is None else str(zone)), got, stored


def counted(f: CaseFacts) -> Recurrence | None:
    """The issue and received time a case counts recurrences in (`COUNTED`), None if none."""
    c = f.row
    if c.state == CANCELLED or not c.product_code or c.defect_type_id is None:
        return None
    return (str(c.product_code), int(c.defect_type_id), c.received_at)


def add_parts(sums: Parts, p: Parts) -> None:
    """Add one case's parts to running sums."""
    for k, (n, a) in p.items():
        was = sums.get(k, (0, ZERO))
        sums[k] = (was[0] + n, was[1] + a)


def write_sums(db: Db, sums: Parts, tz_name: str) -> None:
    """The rollup rows of every case's summed parts (with their month rows) and the meta row
    naming the zone — into empty rollups (`rebuild`, bench/synth.py)."""
    rows = [{"measure": m, "day": d, "key": k, "n": n, "amount": a}
            for (m, d, k), (n, a) in sorted(with_months(sums).items())]
    rows.append({"measure": META, "day": ANY_DAY, "key": tz_name, "n": 1, "amount": ZERO})
    for i in range(0, len(rows), 5000):
        bulk.insert_rows(db, R.__table__, rows[i:i + 5000])  # type: ignore[arg-type]


def encode(p: Parts) -> str:
    """A case's parts as stored in `stats_facts.parts`."""
    return json.dumps([[m, d.isoformat(), k, n, str(a)] for (m, d, k), (n, a) in sorted(p.items())],
                      ensure_ascii=False, separators=(",", ":"))


def _decode(text: str) -> Parts:
    return {(m, date.fromisoformat(d), k): (int(n), Decimal(a))
            for m, d, k, n, a in json.loads(text or "[]")}


def rollup_zone(db: Db) -> str | None:
    """The time zone the rollups are kept in; None: not built (Stats reads the cases)."""
    found = db.scalar(_ZONE)
    return None if found is None else str(found)


def configured_zone(db: Db) -> str:
    raw = db.scalar(select(SettingRow.value).where(SettingRow.key == "timezone"))
    return str(json.loads(raw)) if raw else str(DEFAULTS["timezone"])


def _dialect(db: Db) -> str:
    bind = db.get_bind() if isinstance(db, Session) else db
    return str(bind.dialect.name)


def _add(db: Db, delta: Parts) -> None:
    """Add counts and amounts to the rollup rows (created when missing), in key order so two
    writers lock the shared rows in the same order."""
    rows = [{"measure": m, "day": d, "key": k, "n": n, "amount": a}
            for (m, d, k), (n, a) in sorted(delta.items()) if n or a]
    if rows:
        db.execute(_upsert(_dialect(db)), rows)  # one statement, many rows


def refresh(db: Db, ids: Iterable[int]) -> None:
    """Bring the rollups up to date with these cases as they are now in this transaction:
    each case's old parts out, its new parts in (the unit of work calls it before commit)."""
    wanted = sorted(set(ids))
    if not wanted:
        return
    # the cases' fact rows first, locked (PostgreSQL; SQLite has one writer): a concurrent
    # writer of the same case (or a rebuild) waits here, then reads what the other committed
    old = {cid: _decode(stored) for cid, stored in db.execute(_OLD, {"ids": wanted})}
    zone, facts, recurring = _cases_now(db, wanted)
    if zone is None:  # rollups not built: nothing to keep
        return
    tz = ZoneInfo(zone)
    delta: dict[Key, tuple[int, Decimal]] = {}
    for cid in wanted:
        if cid not in facts:
            continue
        new = parts(facts[cid], tz)
        before = old.get(cid, {})
        if new == before:
            continue
        for k in new.keys() | before.keys():
            n1, a1 = new.get(k, (0, ZERO))
            n0, a0 = before.get(k, (0, ZERO))
            if (n1, a1) != (n0, a0):
                dn, da = delta.get(k, (0, ZERO))
                delta[k] = (dn + n1 - n0, da + a1 - a0)
        encoded = encode(new)
        if cid in old:
            db.execute(_SET_FACT, {"cid": cid, "encoded": encoded})
        else:
            db.execute(_NEW_FACT, {"complaint_id": cid, "parts": encoded})
    _add(db, with_months(delta))
    now = {cid: got for cid, f in facts.items() if (got := counted(f)) is not None}
    _recount_changed(db, recurring, now)


def add_months(db: Db) -> int:
    """Make the month rows from the day rows (migration 0028: rollups built before them);
    how many."""
    db.execute(delete(R).where(R.measure.like(MONTH + "%")))
    days: Parts = {(str(m), d, str(k)): (int(n), Decimal(str(a))) for m, d, k, n, a in
                   db.execute(select(R.measure, R.day, R.key, R.n, R.amount)
                              .where(R.measure.in_(MONTHLY)))}
    months = {k: v for k, v in with_months(days).items()
              if k[0].startswith(MONTH) and (v[0] or v[1])}
    rows = [{"measure": m, "day": d, "key": k, "n": n, "amount": a}
            for (m, d, k), (n, a) in sorted(months.items())]
    for i in range(0, len(rows), 5000):
        bulk.insert_rows(db, R.__table__, rows[i:i + 5000])  # type: ignore[arg-type]
    return len(rows)


def rebuild(db: Db, zone: str | None = None, batch: int = 2000,
            progress: Callable[[int, int], object] | None = None,
            recurrences: bool = True) -> int:
    """Make the rollups again from every case (in the configured time zone unless `zone` is
    given), and the recurrence counts unless `recurrences` is false (migration 0025 ran before
    their table existed); how many cases were counted. The caller commits."""
    tz_name = zone or configured_zone(db)
    tz = ZoneInfo(tz_name)
    if _dialect(db) == "postgresql":  # writers wait at their refresh until this commits
        tables = "stats_facts, stats_rollups" + (", stats_recurrences" if recurrences else "")
        db.execute(text(f"LOCK TABLE {tables} IN EXCLUSIVE MODE"))
    db.execute(delete(R))
    db.execute(delete(StatsFactRow))
    total = int(db.scalar(select(func.count()).select_from(C)) or 0)
    sums: Parts = {}
    done, last = 0, 0
    while True:
        # the next `batch` ids' upper end, then every table read by that id range
        hi = db.scalar(select(func.max(C.id)).where(C.id.in_(
            select(C.id).where(C.id > last).order_by(C.id).limit(batch).scalar_subquery())))
        if hi is None:
            break
        facts = _read_facts(db, _BY_RANGE, {"lo": last, "hi": hi})
        rows = []
        for cid, f in facts.items():
            p = parts(f, tz)
            rows.append({"complaint_id": cid, "parts": encode(p)})
            add_parts(sums, p)
        bulk.insert_rows(db, StatsFactRow.__table__, rows)  # type: ignore[arg-type]
        done, last = done + len(facts), int(hi)
        if progress:
            progress(done, total)
    write_sums(db, sums, tz_name)
    if recurrences:
        rebuild_recurrences(db)
    return done


# ---------------------------------------------------------------- recurrences

RQ = StatsRecurrenceRow
CANCELLED = State.CANCELLED.value
COUNTED = (C.state != CANCELLED, C.product_code != "", C.defect_type_id.is_not(None))
_WINDOW = timedelta(days=RECURRENCE_DAYS + 1)  # a bound on the 30 days, for the index range


def day_number(dialect: str, col: Any) -> Any:
    """A timestamp as a number of days (fractional): the 30 days are compared on it, the same
    expression as db/stats.py's window (so the rounding is the same too)."""
    if dialect == "sqlite":
        return func.julianday(col)
    return func.extract("epoch", col) / 86400.0


_RECOUNT: dict[str, Any] = {}


def _recount(dialect: str) -> Any:
    """The cases of one issue received in [lo, hi] (not cancelled), each with the number of its
    issue's cases received in the 30 days up to it, itself included — what db/stats.py's window
    counts, for a few cases (the issue index reads only the weeks around them)."""
    if dialect not in _RECOUNT:
        x, y = aliased(C, name="x"), aliased(C, name="y")
        dx, dy = day_number(dialect, x.received_at), day_number(dialect, y.received_at)
        _RECOUNT[dialect] = (
            select(x.id, x.received_at, func.count(y.id))
            .join(y, and_(y.product_code == x.product_code,
                          y.defect_type_id == x.defect_type_id, y.state != CANCELLED,
                          y.received_at >= bindparam("ylo"), y.received_at <= bindparam("hi"),
                          dy >= dx - RECURRENCE_DAYS, dy <= dx))
            .where(x.product_code == bindparam("p"), x.defect_type_id == bindparam("d"),
                   x.state != CANCELLED, x.received_at >= bindparam("lo"),
                   x.received_at <= bindparam("hi"))
            .group_by(x.id, x.received_at))
    return _RECOUNT[dialect]


def refresh_recurrences(db: Db, ids: Sequence[int]) -> None:
    """Bring `stats_recurrences` up to date with these cases: when one's issue, received time
    or counting (cancelled or not) changed, the counts of the cases of its old and new issue in
    the 30 days from its old and new received time are made again. On PostgreSQL one lock per
    issue (transaction-scoped) makes two writers of the same issue count one after the
    other."""
    if not ids:
        return
    arg = {"ids": list(ids)}
    old = {int(r[0]): (str(r[1]), int(r[2]), r[3]) for r in db.execute(
        select(RQ.complaint_id, RQ.product_code, RQ.defect_type_id, RQ.received_at)
        .where(RQ.complaint_id.in_(_IDS)), arg)}
    new = {int(r[0]): (str(r[1]), int(r[2] or 0), r[3]) for r in db.execute(
        select(C.id, C.product_code, C.defect_type_id, C.received_at)
        .where(C.id.in_(_IDS), *COUNTED), arg)}
    _recount_changed(db, old, new)


def _recount_changed(db: Db, old: dict[int, Recurrence], new: dict[int, Recurrence]) -> None:
    """`refresh_recurrences` from the cases' stored recurrence rows (`old`) and their issue and
    time now (`new`: the cases that count)."""
    if old == new:  # no issue, time or counting changed: no count changes
        return
    anchors: dict[tuple[str, int], list[datetime]] = {}
    for cid in old.keys() | new.keys():
        if old.get(cid) != new.get(cid):
            for got in (old.get(cid), new.get(cid)):
                if got is not None:
                    anchors.setdefault(got[:2], []).append(got[2])
    dialect = _dialect(db)
    fresh: dict[int, tuple[str, int, datetime, int]] = {}
    for p, d in sorted(anchors):
        if dialect == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                       {"k": f"stats_recurrences|{p}|{d}"})
        lo, hi = min(anchors[(p, d)]), max(anchors[(p, d)]) + _WINDOW
        for cid, at, n in db.execute(_recount(dialect), {
                "p": p, "d": d, "lo": lo, "hi": hi, "ylo": lo - _WINDOW}):
            fresh[int(cid)] = (p, d, at, int(n))
    wanted = sorted(fresh.keys() | old.keys())
    stored = {int(r[0]): (str(r[1]), int(r[2]), r[3], int(r[4])) for r in db.execute(
        select(RQ.complaint_id, RQ.product_code, RQ.defect_type_id, RQ.received_at, RQ.n)
        .where(RQ.complaint_id.in_(_IDS)), {"ids": wanted})}
    stale = [cid for cid in wanted if stored.get(cid) != fresh.get(cid)]
    if stale:
        db.execute(delete(RQ).where(RQ.complaint_id.in_(_IDS)), {"ids": stale})
        rows = [{"complaint_id": cid, "product_code": fresh[cid][0],
                 "defect_type_id": fresh[cid][1], "received_at": fresh[cid][2],
                 "n": fresh[cid][3]} for cid in stale if cid in fresh]
        if rows:
            db.execute(insert(RQ), rows)


def rebuild_recurrences(db: Db, batch: int = 5000) -> int:
    """Count every case's recurrences again (db/stats.py's window over all the cases)."""
    db.execute(delete(RQ))
    dn = day_number(_dialect(db), C.received_at)
    n = func.count(C.id).over(partition_by=[C.product_code, C.defect_type_id], order_by=dn,
                              range_=(-RECURRENCE_DAYS, 0))
    found = db.execute(select(C.id, C.product_code, C.defect_type_id, C.received_at, n)
                       .where(*COUNTED))
    done = 0
    for part in found.partitions(batch):
        bulk.insert_rows(db, RQ.__table__, [  # type: ignore[arg-type]
            {"complaint_id": cid, "product_code": p, "defect_type_id": d, "received_at": at,
             "n": int(k)} for cid, p, d, at, k in part])
        done += len(part)
    return done


def recurrences_snapshot(db: Db) -> dict[int, tuple[str, int, datetime, int]]:
    """Every case's recurrence row (for the tests: rebuilt = incremental)."""
    return {int(cid): (str(p), int(d), at, int(n)) for cid, p, d, at, n in db.execute(
        select(RQ.complaint_id, RQ.product_code, RQ.defect_type_id, RQ.received_at, RQ.n))}


def snapshot(db: Db) -> dict[Key, tuple[int, Decimal]]:
    """Every rollup row with a count or an amount (for the tests: rebuilt = incremental)."""
    return {(m, d, k): (int(n), Decimal(str(a)).quantize(Decimal("0.01")))
            for m, d, k, n, a in db.execute(select(R.measure, R.day, R.key, R.n, R.amount))
            if n or a}


TOUCHED = "stats_touched"


def touched(s: Session) -> set[int]:
    """The cases written in this session since its last commit (the unit of work adds to it;
    `refresh` empties it)."""
    found: set[int] = s.info.setdefault(TOUCHED, set())
    return found


def before_commit(s: Session) -> None:
    """Refresh the rollups for the cases written in this session (SqlUnitOfWork.commit)."""
    ids = touched(s)
    if ids:
        refresh(s, ids)
        ids.clear()
