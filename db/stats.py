"""Stats aggregated by the database (docs/procedure.md §9): GROUP BY, window functions, no case
table in memory. Works the same on SQLite and PostgreSQL; the two differ only in how a UTC timestamp
becomes a local month and how 30 days are subtracted, both kept in small helpers here."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Numeric,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.model import State, StepStatus
from core.stats import (
    RECURRENCE_DAYS,
    Bar,
    Headline,
    MeetingCase,
    OnTime,
    Recurrence,
    StatsQuery,
)
from db import rollups
from db.tables import (
    ApprovalStepRow,
    AssistRow,
    ComplaintRow,
    CostLineRow,
    CustomerRow,
    DefectTypeRow,
    DepartmentRow,
    EventRow,
    ProductRow,
    StatsRecurrenceRow,
    StatsRollupRow,
    StepTimeRow,
    UserRow,
)

C = ComplaintRow
R = StatsRollupRow
USE_ROLLUPS = True  # the plain view reads the rollups (db/rollups.py); tests compare both ways
Sums = dict[str, dict[str, tuple[int, Decimal]]]  # measure -> key -> (count, amount)
SEVERITY = func.coalesce(C.severity, C.severity_proposed)
OPEN_STATES = [s.value for s in State if s.is_open]

# the case column each breakdown groups by (also the register's click-through filter)
FACETS: dict[str, Any] = {
    "defect_type": C.defect_type_id,
    "six_m": C.root_cause_6m,
    "department": C.responsible_department_id,
    "department_assist": C.responsible_department_id,  # and case_assists: see below
    "customer": C.customer_id,
    "product": C.product_code,
}


def facet_condition(dimension: str, key: str) -> ColumnElement[bool]:
    """Cases in one bar of a breakdown; key "" is the bar of cases without a value."""
    col = FACETS[dimension]
    if dimension == "department_assist":  # responsible, or assisting now
        helping = select(AssistRow.complaint_id).where(AssistRow.ended_at.is_(None))
        if key == "":
            return and_(col.is_(None), C.id.not_in(helping))
        return or_(col == int(key), C.id.in_(helping.where(AssistRow.department_id
                                                            == int(key))))
    if key == "":
        return or_(col.is_(None), col == "") if dimension in ("six_m", "product") else col.is_(None)
    if dimension in ("six_m", "product"):
        return col == key  # type: ignore[no-any-return]
    return col == int(key)  # type: ignore[no-any-return]


def narrow(f: Any) -> list[ColumnElement[bool]]:
    """The customer / product / responsible-department filters of Stats and of the register
    list behind a Stats bar."""
    conds: list[ColumnElement[bool]] = []
    if f.customer_id is not None:
        conds.append(C.customer_id == f.customer_id)
    if f.product_code:
        conds.append(func.lower(C.product_code) == f.product_code.lower())
    if f.department_id is not None:
        conds.append(C.responsible_department_id == f.department_id)
    return conds


def scope(q: Any) -> list[ColumnElement[bool]]:
    """Every case but cancelled ones, narrowed by the Stats filters."""
    conds = [C.state != State.CANCELLED.value, *narrow(q)]
    if q.severity is not None:
        conds.append(SEVERITY == q.severity.value)
    if q.kind is not None:
        conds.append(C.kind == q.kind.value)
    return conds


def filtered(q: Any) -> bool:
    return any(
        v not in (None, "")
        for v in (q.customer_id, q.product_code, q.department_id, q.severity, q.kind)
    )


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)


def _dec(v: Any, places: str = "0.01") -> Decimal | None:
    return None if v is None else Decimal(str(v)).quantize(Decimal(places))


class SqlStats:
    def __init__(self, s: Session) -> None:
        self.s = s
        self.dialect = s.get_bind().dialect.name
        self._zone: list[str | None] = []  # the rollups' time zone, once read
        self._sums: dict[tuple[date, date], Sums] = {}

    # -------------------------------------------------------------- rollups

    def rolled(self, q: StatsQuery) -> bool:
        """Whether this query is read from the rollups: no filter (the meeting's view: every
        case but cancelled ones), and rollups kept in the zone the period's days are in."""
        if not USE_ROLLUPS or filtered(q):
            return False
        if not self._zone:
            self._zone.append(rollups.rollup_zone(self.s))
        return self._zone[0] is not None and self._zone[0] == getattr(q.since.tzinfo, "key", "")

    def _days(self, q: StatsQuery) -> tuple[date, date]:
        """The period as local days: first, and the one after the last."""
        return q.since.date(), q.until.date()

    def _period(self, q: StatsQuery) -> Sums:
        """Every measure of the period summed by key, in one statement (cached per period):
        the whole months from the month rows, the days before and after them from the day
        rows."""
        days = self._days(q)
        if days not in self._sums:
            first, after = days
            m1 = first if first.day == 1 else _next_month(first)  # the whole months: [m1, m2)
            m2 = after.replace(day=1)
            if m1 < m2:
                where = or_(and_(R.measure.in_(PERIOD_MEASURES),
                                 or_(and_(R.day >= first, R.day < m1),
                                     and_(R.day >= m2, R.day < after))),
                            and_(R.measure.in_(MONTH_MEASURES), R.day >= m1, R.day < m2))
            else:
                where = and_(R.measure.in_(PERIOD_MEASURES), R.day >= first, R.day < after)
            sums: dict[tuple[str, str], tuple[int, Decimal]] = {}
            for m, k, n, a in self.s.execute(
                    select(R.measure, R.key, func.sum(R.n), func.sum(R.amount))
                    .where(where).group_by(R.measure, R.key)):
                key = (str(m).removeprefix(rollups.MONTH), str(k))
                was = sums.get(key, (0, Decimal(0)))
                sums[key] = (was[0] + int(n or 0), was[1] + Decimal(str(a or 0)))
            out: Sums = {}
            for (m, k), v in sums.items():
                out.setdefault(m, {})[k] = v
            self._sums[days] = out
        return self._sums[days]

    def _by_day(self, measures: tuple[str, ...], first: date, after: date
                ) -> list[tuple[str, date, str, int, Decimal]]:
        rows = self.s.execute(select(R.measure, R.day, R.key, R.n, R.amount)
                              .where(R.measure.in_(measures), R.day >= first, R.day < after))
        return [(str(m), d, str(k), int(n), Decimal(str(a))) for m, d, k, n, a in rows if n or a]

    def _before(self, measure: str, day: date) -> int:
        """How many of `measure` fell on the days before `day` (since the first)."""
        return int(self.s.scalar(select(func.coalesce(func.sum(R.n), 0))
                                 .where(R.measure == measure, R.day < day)) or 0)

    def _headline_rolled(self, q: StatsQuery) -> Headline:
        sums = self._period(q)
        first, after = self._days(q)

        def count(measure: str) -> int:
            return sum(n for n, _ in sums.get(measure, {}).values())

        if _utc(q.until_or_now()) >= _utc(q.now):  # still running: open now
            open_ = sum(n for n, _ in self._period_open().values())
        else:  # received by the period's end and not closed by then
            open_ = self._before("received", after) - self._before("gone", after)
        wd = sorted((Decimal(k), n) for k, (n, _) in sums.get("wd", {}).items() if n)
        total = sum(n for _, n in wd)
        avg_days = p90 = None
        if total:
            avg_days = sum(d * n for d, n in wd) / total
            running = 0
            for d, n in wd:  # as cume_dist() >= 0.9 in SQL: the share up to and with d
                running += n
                if running / total >= 0.9:
                    p90 = d
                    break
        ftr_ok = ftr_total = 0
        for _day, key, n in self._ftr(first, after):
            ok, before = key.split("|")
            if not before or date.fromisoformat(before) < first:  # the case's first in the period
                ftr_total += n
                ftr_ok += n if ok == "1" else 0
        scores = [(int(k), n) for k, (n, _) in sums.get("sat", {}).items() if n]
        sat_n = sum(n for _, n in scores)
        sat = Decimal(sum(k * n for k, n in scores)) / sat_n if sat_n else None
        cost = sum((a for _, a in sums.get("cost", {}).values()), Decimal(0))
        back = sum((a for _, a in sums.get("back", {}).values()), Decimal(0))
        return Headline(received=count("received"), invalid=count("invalid"),
                        closed=count("closed"), open=open_, overdue=self._overdue(q, scope(q)),
                        avg_days=_dec(avg_days, "0.1"), p90_days=_dec(p90, "0.1"),
                        ftr_ok=ftr_ok, ftr_total=ftr_total, satisfaction=_dec(sat, "0.01"),
                        satisfaction_n=sat_n, cost=_dec(cost) or Decimal("0.00"),
                        charged_back=_dec(back) or Decimal("0.00"))

    def _period_open(self) -> dict[str, tuple[int, Decimal]]:
        return {str(k): (int(n), Decimal(0)) for k, n in self.s.execute(
            select(R.key, R.n).where(R.measure == "open", R.day == rollups.ANY_DAY))}

    def _ftr(self, first: date, after: date) -> list[tuple[date, str, int]]:
        return [(d, k, n) for _, d, k, n, _ in self._by_day(("ftr",), first, after)]

    def _labels(self, dimension: str, keys: list[str]) -> dict[str, tuple[str, str]]:
        """The names of a breakdown's keys (ids, product codes), in one statement."""
        ids = [int(k) for k in keys if k.isdigit()]
        rows: Any = []
        if dimension == "defect_type" and ids:
            rows = self.s.execute(select(DefectTypeRow.id, DefectTypeRow.name_zh,
                                         DefectTypeRow.name_en).where(DefectTypeRow.id.in_(ids)))
        elif dimension in ("department", "department_assist") and ids:
            rows = self.s.execute(select(DepartmentRow.id, DepartmentRow.name_zh,
                                         DepartmentRow.name_en).where(DepartmentRow.id.in_(ids)))
        elif dimension == "customer" and ids:
            rows = self.s.execute(select(CustomerRow.id, CustomerRow.name, CustomerRow.name)
                                  .where(CustomerRow.id.in_(ids)))
        elif dimension == "product" and keys:
            lower = sorted({k.lower() for k in keys if k})
            names: dict[str, str] = {}
            for code, name in self.s.execute(  # the first product of a code, as the SQL's limit 1
                    select(func.lower(ProductRow.code), ProductRow.name)
                    .where(func.lower(ProductRow.code).in_(lower)).order_by(ProductRow.id)):
                names.setdefault(str(code), str(name))
            return {k: (names.get(k.lower(), ""), names.get(k.lower(), "")) for k in keys}
        return {str(i): (zh or "", en or "") for i, zh, en in rows}

    def _breakdown_rolled(self, q: StatsQuery, dimension: str) -> list[Bar]:
        counted = {k: n for k, (n, _) in self._period(q).get("d:" + dimension, {}).items() if n}
        names = self._labels(dimension, list(counted))
        out = []
        for key, n in counted.items():
            zh, en = names.get(key, ("", ""))
            if dimension == "product" and key:
                zh = en = f"{key} {zh}" if zh else key
            out.append(Bar(key, zh, en, n))
        return out

    # -------------------------------------------------------------- dialect helpers

    def _local_month(self, col: Any, minutes: int) -> Any:
        """'YYYY-MM' of a stored UTC timestamp in the local zone (fixed offset)."""
        if self.dialect == "sqlite":
            return func.strftime("%Y-%m", col, f"{minutes:+d} minutes")
        return func.to_char(col + literal_column(f"interval '{int(minutes)} minutes'"), "YYYY-MM")

    def _day_number(self, col: Any) -> Any:
        """A timestamp as a number of days (fractional), for RANGE windows in days."""
        return rollups.day_number(self.dialect, col)

    def _months_window(self, q: StatsQuery, months: list[str]) -> tuple[datetime, datetime]:
        y, m = (int(x) for x in months[0].split("-"))
        ly, lm = (int(x) for x in months[-1].split("-"))
        nxt = date(ly + lm // 12, lm % 12 + 1, 1)
        off = timedelta(minutes=q.tz_minutes)
        start = datetime.combine(date(y, m, 1), time(0), timezone.utc) - off
        return start, datetime.combine(nxt, time(0), timezone.utc) - off

    # -------------------------------------------------------------- figures

    def version(self) -> int:
        return int(self.s.scalar(select(func.max(EventRow.id))) or 0)

    def _count(self, *conds: ColumnElement[bool]) -> int:
        return int(self.s.scalar(select(func.count(C.id)).where(*conds)) or 0)

    def _overdue(self, q: StatsQuery, base: list[ColumnElement[bool]]) -> int:
        at = _utc(q.overdue_at or q.now)
        if at >= _utc(q.now):  # overdue now: open, not on hold, past its due time
            return self._count(*base, C.state.in_(OPEN_STATES), C.on_hold_since.is_(None),
                               C.due_at < at)
        # at a past moment: received and not closed by then, past its due time then
        # (the due time the case has now: one moved since, e.g. by a reopening, is not kept).
        # Not closed by then = not closed, or closed since: two ranges of the closed_at index
        # (ORed, both databases read every case received before the moment)
        received: Any = C.received_at
        due: Any = C.due_at
        if self.dialect == "sqlite":  # `+column`: SQLite would walk the received_at index
            received = literal_column("+complaints.received_at", C.received_at.type)
            due = literal_column("+complaints.due_at", C.due_at.type)
        late = (*base, received < at, due < at)
        return self._count(*late, C.closed_at.is_(None)) + self._count(*late, C.closed_at >= at)

    def headline(self, q: StatsQuery) -> Headline:
        if self.rolled(q):
            return self._headline_rolled(q)
        base = scope(q)
        since, until = _utc(q.since), _utc(q.until)
        received = and_(C.received_at >= since, C.received_at < until)
        closed = and_(C.state == State.CLOSED.value, C.closed_at >= since, C.closed_at < until)
        end = _utc(q.until_or_now())
        if end >= _utc(q.now):  # the period is still running: open now
            open_ = self._count(*base, C.state.in_(OPEN_STATES))
        else:
            open_ = self._count(*base, C.received_at < end,
                                or_(C.closed_at.is_(None), C.closed_at >= end))
        overdue = self._overdue(q, base)
        ranked = (
            select(C.close_wd.label("d"), func.cume_dist().over(order_by=C.close_wd).label("cd"))
            .where(*base, closed, C.close_wd.is_not(None))
            .subquery()
        )
        avg_days, p90 = self.s.execute(
            select(func.avg(ranked.c.d), func.min(case((ranked.c.cd >= 0.9, ranked.c.d))))
        ).one()
        approved = (
            select(EventRow.complaint_id.label("cid"))
            .where(EventRow.action == "approve_capa", EventRow.at >= since, EventRow.at < until)
            .distinct()
            .subquery()
        )
        ftr_ok, ftr_total = self.s.execute(
            select(func.coalesce(func.sum(case((C.sent_back_count == 0, 1), else_=0)), 0),
                   func.count(C.id))
            .join(approved, approved.c.cid == C.id)
            .where(*base)
        ).one()
        sat, sat_n = self.s.execute(
            select(func.avg(C.satisfaction_score), func.count(C.satisfaction_score)).where(
                *base,
                C.followup_date >= q.since.date(),
                C.followup_date < q.until.date(),
                C.satisfaction_score.is_not(None),
            )
        ).one()
        cost, back = self.s.execute(
            select(func.coalesce(func.sum(CostLineRow.amount), 0),
                   func.coalesce(func.sum(CostLineRow.charge_back), 0))
            .join(C, C.id == CostLineRow.complaint_id)
            .where(*base, received, _approved_round())
        ).one()
        return Headline(received=self._count(*base, received),
                        invalid=self._count(*base, received, C.validity == "invalid"),
                        closed=self._count(*base, closed),
                        open=open_, overdue=overdue, avg_days=_dec(avg_days, "0.1"),
                        p90_days=_dec(p90, "0.1"), ftr_ok=int(ftr_ok), ftr_total=int(ftr_total),
                        satisfaction=_dec(sat, "0.01"), satisfaction_n=int(sat_n),
                        cost=_dec(cost) or Decimal("0.00"),
                        charged_back=_dec(back) or Decimal("0.00"))

    def on_time(self, q: StatsQuery) -> list[OnTime]:
        if self.rolled(q):
            steps: dict[str, list[int]] = {}
            for key, (n, _) in self._period(q).get("step", {}).items():
                step, ok = key.rsplit("|", 1)
                got = steps.setdefault(step, [0, 0])
                got[0] += n if ok == "1" else 0
                got[1] += n
            return [OnTime(step, ok, n) for step, (ok, n) in sorted(steps.items()) if n]
        sel = select(StepTimeRow.step, func.sum(case((StepTimeRow.on_time, 1), else_=0)),
                     func.count(StepTimeRow.id))
        if filtered(q):  # a step done stays done if its case is cancelled later
            sel = sel.join(C, C.id == StepTimeRow.complaint_id).where(*scope(q)[1:])
        rows = self.s.execute(
            sel.where(StepTimeRow.done_at >= _utc(q.since), StepTimeRow.done_at < _utc(q.until))
            .group_by(StepTimeRow.step)
            .order_by(StepTimeRow.step)
        ).all()
        return [OnTime(str(step), int(ok or 0), int(n)) for step, ok, n in rows]

    def breakdown(self, q: StatsQuery, dimension: str) -> list[Bar]:
        if self.rolled(q):
            return self._breakdown_rolled(q, dimension)
        col = FACETS[dimension]
        received = and_(C.received_at >= _utc(q.since), C.received_at < _utc(q.until))
        counted = (
            select(col.label("k"), func.count(C.id).label("n"))
            .where(*scope(q), received)
            .group_by(col)
            .subquery()
        )
        if dimension == "department_assist":  # each case once per department: lead or helping
            pairs = (
                select(C.id.label("c"), C.responsible_department_id.label("k"))
                .where(*scope(q), received)
                .union(
                    select(C.id, AssistRow.department_id)
                    .join(AssistRow, AssistRow.complaint_id == C.id)
                    .where(*scope(q), received, AssistRow.ended_at.is_(None))
                )
                .subquery()
            )
            helped = select(AssistRow.complaint_id).where(AssistRow.ended_at.is_(None))
            counted = (
                select(pairs.c.k.label("k"), func.count(pairs.c.c).label("n"))
                # a case without a lead department but with helpers is not "not given"
                .where(or_(pairs.c.k.is_not(None), pairs.c.c.not_in(helped)))
                .group_by(pairs.c.k)
                .subquery()
            )
        label: tuple[Any, Any]
        if dimension == "defect_type":
            q2 = select(
                counted.c.k, counted.c.n, DefectTypeRow.name_zh, DefectTypeRow.name_en
            ).outerjoin(DefectTypeRow, DefectTypeRow.id == counted.c.k)
        elif dimension in ("department", "department_assist"):
            q2 = select(
                counted.c.k, counted.c.n, DepartmentRow.name_zh, DepartmentRow.name_en
            ).outerjoin(DepartmentRow, DepartmentRow.id == counted.c.k)
        elif dimension == "customer":
            q2 = select(counted.c.k, counted.c.n, CustomerRow.name, CustomerRow.name).outerjoin(
                CustomerRow, CustomerRow.id == counted.c.k
            )
        elif dimension == "product":
            name = (
                select(ProductRow.name)
                .where(func.lower(ProductRow.code) == func.lower(counted.c.k))
                .limit(1)
                .scalar_subquery()
            )
            label = (name, name)
            q2 = select(counted.c.k, counted.c.n, *label)
        else:  # six_m: the service names the categories
            q2 = select(counted.c.k, counted.c.n, literal(""), literal(""))
        out = []
        for k, n, zh, en in self.s.execute(q2).all():
            key = "" if k is None else str(k)
            if dimension == "product" and key:
                zh = en = f"{key} {zh}" if zh else key
            out.append(Bar(key, zh or "", en or "", int(n)))
        return out

    def _month_days(self, months: list[str]) -> tuple[date, date]:
        y, m = (int(x) for x in months[0].split("-"))
        ly, lm = (int(x) for x in months[-1].split("-"))
        return date(y, m, 1), date(ly + lm // 12, lm % 12 + 1, 1)

    def monthly(self, q: StatsQuery, months: list[str]) -> list[tuple[str, str, int]]:
        if self.rolled(q):
            counts: dict[tuple[str, str], int] = {}
            for _, d, k, n, _ in self._by_day((rollups.MONTH + "sev",),
                                              *self._month_days(months)):
                mk = (f"{d.year:04d}-{d.month:02d}", k)
                counts[mk] = counts.get(mk, 0) + n
            return sorted((m, k, n) for (m, k), n in counts.items() if n)
        start, end = self._months_window(q, months)
        month = self._local_month(C.received_at, q.tz_minutes)
        rows = self.s.execute(
            select(month, SEVERITY, func.count(C.id))
            .where(*scope(q), C.received_at >= start, C.received_at < end)
            .group_by(month, SEVERITY)
        ).all()
        return sorted((str(m), s or "", int(n)) for m, s, n in rows)

    def ageing(self, q: StatsQuery, buckets: tuple[int, ...]) -> list[tuple[int, str, int]]:
        now = _utc(q.now)
        bucket = case(
            *(
                (C.received_at > now - timedelta(days=lo), buckets[i - 1])
                for i, lo in enumerate(buckets)
                if i > 0
            ),
            else_=buckets[-1],
        )
        rows = self.s.execute(
            select(bucket, SEVERITY, func.count(C.id))
            .where(*scope(q), C.state.in_(OPEN_STATES))
            .group_by(bucket, SEVERITY)
        ).all()
        return sorted((int(b), s or "", int(n)) for b, s, n in rows)

    def recurrences(self, q: StatsQuery, days: int, minimum: int) -> list[Recurrence]:
        """Issues (product + defect type) received ≥ `minimum` times within `days` days, one
        of those times inside the period (and the filters): one window function over the
        cases of the period and the `days` before it, counting each case's same-issue cases
        received in the `days` up to it (cancelled cases never count)."""
        since, until = _utc(q.since), _utc(q.until)
        if self.rolled(q) and days == RECURRENCE_DAYS:
            return self._recurrences_rolled(since, until, minimum)
        day = self._day_number(C.received_at)
        n = func.count(C.id).over(
            partition_by=[C.product_code, C.defect_type_id], order_by=day, range_=(-days, 0)
        )
        hit = case((and_(*scope(q), C.received_at >= since), 1), else_=0)
        counted = (
            select(C.product_code.label("p"), C.defect_type_id.label("d"),
                   C.received_at.label("at"), n.label("n"), hit.label("hit"))
            .where(C.state != State.CANCELLED.value, C.product_code != "",
                   C.defect_type_id.is_not(None), C.received_at >= since - timedelta(days=days),
                   C.received_at < until)
            .subquery()
        )
        rows = self.s.execute(
            select(counted.c.p, counted.c.d, func.max(counted.c.n), func.max(counted.c.at),
                   DefectTypeRow.name_zh, DefectTypeRow.name_en)
            .join(DefectTypeRow, DefectTypeRow.id == counted.c.d)
            .where(counted.c.hit == 1, counted.c.n >= minimum)
            .group_by(counted.c.p, counted.c.d, DefectTypeRow.name_zh, DefectTypeRow.name_en)
            .order_by(func.max(counted.c.n).desc(), counted.c.p, counted.c.d)
        ).all()
        return self._recurrence_rows(rows)

    def _recurrences_rolled(self, since: datetime, until: datetime,
                            minimum: int) -> list[Recurrence]:
        """The same from each case's count kept in `stats_recurrences` (db/rollups.py): the
        cases of the period counted `minimum` times or more, by issue — one index range."""
        rq = StatsRecurrenceRow
        found = (
            select(rq.product_code.label("p"), rq.defect_type_id.label("d"),
                   func.max(rq.n).label("n"), func.max(rq.received_at).label("at"))
            .where(rq.received_at >= since, rq.received_at < until, rq.n >= minimum)
            .group_by(rq.product_code, rq.defect_type_id)
            .subquery()
        )
        rows = self.s.execute(
            select(found.c.p, found.c.d, found.c.n, found.c.at, DefectTypeRow.name_zh,
                   DefectTypeRow.name_en)
            .join(DefectTypeRow, DefectTypeRow.id == found.c.d)
            .order_by(found.c.n.desc(), found.c.p, found.c.d)
        ).all()
        return self._recurrence_rows(rows)

    @staticmethod
    def _recurrence_rows(rows: Any) -> list[Recurrence]:
        out = []
        for p, d, count, last, zh, en in rows:
            at = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
            out.append(
                Recurrence(str(p), int(d), f"{p} · {zh}", f"{p} · {en}", int(count),
                           at.replace(tzinfo=timezone.utc))
            )
        return out

    def cost(self, q: StatsQuery, months: list[str]) -> list[tuple[str, str, str, str, Decimal]]:
        if self.rolled(q):
            sums: dict[tuple[str, str], tuple[int, Decimal]] = {}
            for _, d, k, n, a in self._by_day((rollups.MONTH + "cost",),
                                              *self._month_days(months)):
                mk = (f"{d.year:04d}-{d.month:02d}", k)
                was = sums.get(mk, (0, Decimal(0)))
                sums[mk] = (was[0] + n, was[1] + a)
            names = self._labels("department", sorted({k for _, k in sums}))
            return sorted((m, k, *names.get(k, ("", "")), _dec(a) or Decimal("0.00"))
                          for (m, k), (n, a) in sums.items() if n)
        start, end = self._months_window(q, months)
        month = self._local_month(C.received_at, q.tz_minutes)
        dept = func.coalesce(CostLineRow.department_id, C.responsible_department_id)
        summed = (
            select(month.label("m"), dept.label("k"), func.sum(CostLineRow.amount).label("a"))
            .join(C, C.id == CostLineRow.complaint_id)
            .where(*scope(q), C.received_at >= start, C.received_at < end, _approved_round())
            .group_by(month, dept)
            .subquery()
        )
        rows = self.s.execute(
            select(
                summed.c.m,
                summed.c.k,
                DepartmentRow.name_zh,
                DepartmentRow.name_en,
                cast(summed.c.a, Numeric(14, 2)),
            ).outerjoin(DepartmentRow, DepartmentRow.id == summed.c.k)
        ).all()
        return sorted(
            (str(m), "" if k is None else str(k), zh or "", en or "", _dec(a) or Decimal("0.00"))
            for m, k, zh, en, a in rows
        )


    def open_severe(self, q: StatsQuery) -> list[MeetingCase]:
        """The open cases of severity A or B now (QA's final severity, else the proposed
        one), within the filters: most severe first, then the earliest due. The cases alone
        first (along the state index: SQLite, given the joins, walked every customer's cases
        instead), then the few names they point to."""
        rows = self.s.execute(
            select(C.id, C.number, C.customer_id, SEVERITY, C.state, C.responsible_department_id,
                   C.due_at, C.due_step, C.received_by_id)
            .where(*scope(q), C.state.in_(OPEN_STATES), SEVERITY.in_(("A", "B")))
            .order_by(SEVERITY, C.due_at.is_(None), C.due_at, C.number)
            .limit(500)
        ).all()
        if not rows:
            return []
        customers: dict[int, str] = {i: n for i, n in self.s.execute(
            select(CustomerRow.id, CustomerRow.name).where(
                CustomerRow.id.in_({r.customer_id for r in rows})))}
        users = {i: (n, en) for i, n, en in self.s.execute(
            select(UserRow.id, UserRow.display_name, UserRow.display_name_en)
            .where(UserRow.id.in_({r.received_by_id for r in rows})))}
        wanted = {r.responsible_department_id for r in rows} - {None}
        depts: dict[Any, tuple[str | None, str | None]] = {
            i: (zh, en) for i, zh, en in self.s.execute(
                select(DepartmentRow.id, DepartmentRow.name_zh, DepartmentRow.name_en)
                .where(DepartmentRow.id.in_(wanted)))} if wanted else {}
        out = []
        for i, n, cu, sev, stt, dep, due, step, by in rows:
            if cu not in customers or by not in users:  # as the inner joins had it
                continue
            zh, en = depts.get(dep, (None, None))
            by_zh, by_en = users[by]
            out.append(MeetingCase(int(i), str(n), str(customers[cu]), str(sev), str(stt),
                                   zh or "", en or "",
                                   due.replace(tzinfo=timezone.utc) if due and due.tzinfo is None
                                   else due, step or "", str(by_zh), by_en or ""))
        return out


# the measures a period sums (db/rollups.py parts), and their month rows
PERIOD_MEASURES = rollups.PERIOD_MEASURES
MONTH_MEASURES = tuple(rollups.MONTH + m for m in PERIOD_MEASURES)


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _approved_round() -> ColumnElement[bool]:
    """A cost line counts once its round's dispositions were approved: the round has
    approval steps and none of them is still pending, rejected or void."""
    steps = ApprovalStepRow
    has = exists().where(
        steps.complaint_id == CostLineRow.complaint_id, steps.round == CostLineRow.round
    )
    unapproved = exists().where(
        steps.complaint_id == CostLineRow.complaint_id,
        steps.round == CostLineRow.round,
        steps.status != StepStatus.APPROVED.value,
    )
    return and_(has, ~unapproved)
