"""Statistics for the weekly quality meeting (统计, docs/procedure.md §9).

The figures are aggregated by the database (StatsRepo: GROUP BY and window functions, never
the case table loaded into memory); this module holds what is pure: date-range presets and the
period before, the changes against it, Pareto shares with the cumulative line, and the service
that assembles one report for the Stats page and the monthly summary.

Definitions (the page shows them as help):
- scope: every case except cancelled ones, narrowed by the filters (customer, product,
  responsible department, QA's final severity, kind);
- received / Pareto / monthly trend / cost: by the date the case was received;
- closed, days to close (working days, fixed at closure): by the date it was closed;
- open: at the end of the period (now, for a period still running); overdue: now, compared
  with the same moment of the period before (now minus the distance between the two starts);
- invalid complaints (有效性 无效) received in the period are counted apart from the rest;
- a breakdown's cases without a value ("not classified yet") are counted apart from its bars;
- on time per step: the timed steps finished in the period, on time / all;
- first-time-right: analyses approved in the period whose case was never sent back;
- satisfaction: follow-ups in the period (score 1–5);
- cost: approved cost lines; charged back: the part re-charged to suppliers.
"""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from core.errors import InvalidInput
from core.i18n import t
from core.model import Kind, Role, Severity, State
from core.procedure import QA_ONLY, WAITING_IN, step_holders


DEFAULT_PRESET = "last_week"  # setting stats_default_period: what Stats opens with
PRESETS = ("this_week", "last_week", "this_month", "last_month", "this_quarter", "this_year",
           "custom")
DIMENSIONS = ("defect_type", "six_m", "department", "customer", "product")
# by responsible department, a case counted for each department assisting in it too (case_assists,
# core/model.py Assist; ended assists not counted): the bars add up to more than the cases
ASSIST_DIMENSION = "department_assist"
STATS_ROLES = (Role.SALES, Role.QA, Role.PRODUCTION, Role.FINANCE, Role.MANAGEMENT)
# ageing of open cases: calendar days since received -> bucket (lower bounds)
AGE_BUCKETS = (0, 3, 8, 15, 31)
RECURRENCE_DAYS, RECURRENCE_MIN = 30, 3
PARETO_TOP = 15
MAX_DAYS = 3700  # a custom range of about ten years at most


@dataclass(frozen=True)
class Period:
    """Local calendar days, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def _month_end(d: date) -> date:
    return date(d.year, d.month, monthrange(d.year, d.month)[1])


def preset(name: str, today: date) -> Period:
    """This/last week (Monday to Sunday), this/last month, this quarter, this year."""
    monday = today - timedelta(days=today.weekday())
    if name == "this_week":
        return Period(monday, monday + timedelta(days=6))
    if name == "last_week":
        return Period(monday - timedelta(days=7), monday - timedelta(days=1))
    if name == "this_month":
        return Period(today.replace(day=1), _month_end(today))
    if name == "last_month":
        first = _add_months(today.replace(day=1), -1)
        return Period(first, _month_end(first))
    if name == "this_quarter":
        q = _quarter_start(today)
        return Period(q, _month_end(_add_months(q, 2)))
    if name == "this_year":
        return Period(date(today.year, 1, 1), date(today.year, 12, 31))
    raise InvalidInput("err.stats_preset")


def previous(p: Period) -> Period:
    """The period before, of the same kind: the month before a whole month, the quarter
    before a quarter, the year before a year; otherwise as many days just before."""
    whole_months = p.start.day == 1 and p.end == _month_end(p.end)
    if whole_months:
        n = (p.end.year - p.start.year) * 12 + p.end.month - p.start.month + 1
        first = _add_months(p.start, -n)
        return Period(first, _month_end(_add_months(first, n - 1)))
    return Period(p.start - timedelta(days=p.days), p.start - timedelta(days=1))


def custom(start: date | None, end: date | None) -> Period:
    if start is None or end is None or end < start:
        raise InvalidInput("err.stats_range")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput("err.stats_range_long", years=MAX_DAYS // 365)
    return Period(start, end)


def month_keys(end: date, n: int = 12) -> list[str]:
    """The n months up to and including `end`'s month, oldest first, as 'YYYY-MM'."""
    first = _add_months(end.replace(day=1), -(n - 1))
    return [f"{d.year:04d}-{d.month:02d}" for d in (_add_months(first, i) for i in range(n))]


@dataclass(frozen=True)
class StatsFilter:
    period: Period
    customer_id: int | None = None
    product_code: str = ""
    department_id: int | None = None
    severity: Severity | None = None
    kind: Kind | None = None


@dataclass(frozen=True)
class StatsQuery:
    """A filter with its period as UTC instants, for the repository."""

    customer_id: int | None
    product_code: str
    department_id: int | None
    severity: Severity | None
    kind: Kind | None
    since: datetime
    until: datetime  # exclusive
    now: datetime
    tz_minutes: int  # the local zone's offset, for grouping by local month
    overdue_at: datetime | None = None  # the moment "overdue" is counted at; None: now

    @classmethod
    def of(cls, flt: StatsFilter, period: Period, tz: ZoneInfo, now: datetime,
           overdue_at: datetime | None = None) -> StatsQuery:
        since = datetime.combine(period.start, time(0), tz)
        until = datetime.combine(period.end + timedelta(days=1), time(0), tz)
        offset = now.astimezone(tz).utcoffset() or timedelta()
        return cls(flt.customer_id, flt.product_code.strip(), flt.department_id, flt.severity,
                   flt.kind, since, until, now, int(offset.total_seconds() // 60), overdue_at)

    def until_or_now(self) -> datetime:
        return min(self.until, self.now)


def same_moment_before(now: datetime, period: Period, before: Period) -> datetime:
    """The moment of the period before that matches `now` in this one: as far from its start
    (a week ago for a week, a month ago for a month). "Overdue now" is compared with the
    cases overdue then, not with itself."""
    return now - (period.start - before.start)


def default_preset(stored: str) -> str:
    """The preset Stats opens with: the setting when it names one, else last week."""
    return stored if stored in PRESETS and stored != "custom" else DEFAULT_PRESET


@dataclass(frozen=True)
class Headline:
    received: int = 0  # every case received in the period, invalid ones too
    invalid: int = 0  # of those, complaints found invalid (有效性 无效): shown apart
    closed: int = 0
    open: int = 0
    overdue: int = 0
    avg_days: Decimal | None = None
    p90_days: Decimal | None = None
    ftr_ok: int = 0
    ftr_total: int = 0
    satisfaction: Decimal | None = None
    satisfaction_n: int = 0
    cost: Decimal = Decimal("0")
    charged_back: Decimal = Decimal("0")

    @property
    def received_valid(self) -> int:
        """Received in the period, invalid complaints left out (valid or not decided yet)."""
        return self.received - self.invalid

    @property
    def ftr_rate(self) -> Decimal | None:
        return rate(self.ftr_ok, self.ftr_total)


@dataclass(frozen=True)
class OnTime:
    step: str
    on_time: int
    total: int

    @property
    def rate(self) -> Decimal | None:
        return rate(self.on_time, self.total)


@dataclass(frozen=True)
class Bar:
    """One category of a breakdown: its key (for the click-through) and its labels."""

    key: str
    label_zh: str
    label_en: str
    count: int
    share: Decimal = Decimal("0")  # % of the total
    cumulative: Decimal = Decimal("0")  # cumulative %, for the Pareto line

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh


@dataclass(frozen=True)
class Recurrence:
    """The same product and defect type received ≥ 3 times within 30 days (docs/procedure.md §4)."""

    product_code: str
    defect_type_id: int
    label_zh: str
    label_en: str
    count: int
    last: datetime


@dataclass(frozen=True)
class MeetingCase:
    """An open case of severity A or B, as the weekly meeting goes through them."""

    id: int
    number: str
    customer: str
    severity: str  # QA's final severity, else the one proposed
    state: str
    department_zh: str
    department_en: str
    due_at: datetime | None
    due_step: str
    received_by: str  # the salesperson who took it (display name)
    received_by_en: str = ""  # their English name, "" when none is given

    def department(self, lang: str) -> str:
        return self.department_en if lang == "en" else self.department_zh

    def salesperson(self, lang: str) -> str:
        return self.received_by_en if lang == "en" and self.received_by_en else self.received_by


def owner_audience(state: str, due_step: str) -> str:
    """Who the case waits for now, as one of HOLDER_AUDIENCES ("sales", "qa", "department",
    "step_title"): the holders of its open timed step, else of its state (core/procedure.py)."""
    now = State(state)
    holders = step_holders(due_step, now) if due_step else WAITING_IN.get(now, QA_ONLY)
    return holders.audiences[0] if holders.audiences else "qa"


@dataclass(frozen=True)
class StatsReport:
    filter: StatsFilter
    before: Period
    now: datetime
    current: Headline
    previous: Headline
    on_time: list[OnTime]
    pareto: dict[str, list[Bar]]
    months: list[str]
    monthly: list[tuple[str, str, int]]  # month, severity ("" = not yet decided), count
    ageing: list[tuple[int, str, int]]  # bucket lower bound (days), severity, count
    recurrences: list[Recurrence]
    cost: list[tuple[str, str, str, str, Decimal]]  # month, department key, zh, en, amount
    version: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # per dimension: the cases received without a value (not classified yet), kept out of
    # the Pareto's bars
    unclassified: dict[str, int] = field(default_factory=dict)
    meeting_cases: list[MeetingCase] = field(default_factory=list)  # open A/B, now
    overdue_before_at: datetime | None = None  # the moment previous.overdue was counted at


class StatsRepo(Protocol):
    def version(self) -> int: ...
    def headline(self, q: StatsQuery) -> Headline: ...
    def on_time(self, q: StatsQuery) -> list[OnTime]: ...
    def breakdown(self, q: StatsQuery, dimension: str) -> list[Bar]: ...
    def monthly(self, q: StatsQuery, months: list[str]) -> list[tuple[str, str, int]]: ...
    def ageing(self, q: StatsQuery, buckets: tuple[int, ...]) -> list[tuple[int, str, int]]: ...
    def recurrences(self, q: StatsQuery, days: int, minimum: int) -> list[Recurrence]: ...
    def cost(self, q: StatsQuery, months: list[str]
             ) -> list[tuple[str, str, str, str, Decimal]]: ...
    def open_severe(self, q: StatsQuery) -> list[MeetingCase]: ...


def rate(part: int, whole: int) -> Decimal | None:
    """A percentage with one decimal; None when there is nothing to divide."""
    if whole <= 0:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"))


def change(now: Decimal | int | None, before: Decimal | int | None) -> Decimal | None:
    """The change in %, against the period before; None when there is no base."""
    if now is None or before is None or before == 0:
        return None
    return (Decimal(100) * (Decimal(now) - Decimal(before)) / Decimal(before)).quantize(
        Decimal("0.1"))


def pareto(bars: list[Bar], top: int = PARETO_TOP) -> list[Bar]:
    """Largest first, each with its share and the cumulative %; beyond `top` the rest are
    one bar "others" (key "*others*") so the chart stays readable on a shared screen."""
    ordered = sorted(bars, key=lambda b: (-b.count, b.label_zh))
    if len(ordered) > top:
        rest = ordered[top - 1:]
        ordered = [*ordered[:top - 1],
                   Bar("*others*", f"其他（{len(rest)} 项）", f"Others ({len(rest)})",
                       sum(b.count for b in rest))]
    total = sum(b.count for b in ordered)
    out, running = [], 0
    for b in ordered:
        running += b.count
        out.append(replace(b, share=rate(b.count, total) or Decimal(0),
                           cumulative=rate(running, total) or Decimal(0)))
    return out


def labelled(dimension: str, bars: list[Bar]) -> list[Bar]:
    """Names the database does not hold: the 6M categories, and the bar of cases without a
    value ("not given" — e.g. no root cause yet)."""
    out = []
    for b in bars:
        if b.key == "":
            b = replace(b, label_zh=t("stats.none", "zh"), label_en=t("stats.none", "en"))
        elif dimension == "six_m":
            b = replace(b, label_zh=t("six_m." + b.key, "zh"), label_en=t("six_m." + b.key, "en"))
        elif not b.label_zh:
            b = replace(b, label_zh=b.key, label_en=b.key)
        out.append(b)
    return out


def classified(bars: list[Bar]) -> tuple[list[Bar], int]:
    """The bars with a value, and how many cases have none (key ""): "not classified yet"
    is not a category — as a bar it would be the tallest while cases are being analysed."""
    return [b for b in bars if b.key != ""], sum(b.count for b in bars if b.key == "")


def wrap_label(text: str, width: int = 8, lines: int = 3) -> list[str]:
    """A name on up to `lines` lines of about `width` wide characters (a Chinese character
    counts 2, a Latin one 1 — so `width` is in Chinese characters), broken between words
    where there are spaces; the rest cut with "…". For chart axes that show whole names."""
    room = 2 * width
    out: list[str] = []
    cur, used = "", 0
    for token in _tokens(text):
        w = sum(2 if ord(ch) > 0x2E7F else 1 for ch in token)
        if used + w > room and cur.strip():
            out.append(cur.strip())
            cur, used = "", 0
            token = token.lstrip()
            w = sum(2 if ord(ch) > 0x2E7F else 1 for ch in token)
        while w > room:  # one long word: cut it
            cut, n = "", 0
            for ch in token:
                cw = 2 if ord(ch) > 0x2E7F else 1
                if n + cw > room:
                    break
                cut, n = cut + ch, n + cw
            out.append(cut)
            token = token[len(cut):]
            w -= n
        cur, used = cur + token, used + w
    if cur.strip():
        out.append(cur.strip())
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:-1] + "…" if len(out[-1]) > 1 else out[-1] + "…"
    return out or [""]


def _tokens(text: str) -> list[str]:
    """Words with their leading space; each wide (CJK) character alone."""
    out: list[str] = []
    for ch in " ".join(text.split()):
        if ord(ch) > 0x2E7F or not out or ch == " " or ord(out[-1][-1]) > 0x2E7F:
            out.append(ch)
        else:
            out[-1] += ch
    # a space starts the next word
    merged: list[str] = []
    for tok in out:
        if merged and merged[-1] == " ":
            merged[-1] = " " + tok
        else:
            merged.append(tok)
    return merged


def vital_few(bars: list[Bar]) -> list[Bar]:
    """The bars up to and including the one where the cumulative line crosses 80%."""
    out = []
    for b in bars:
        out.append(b)
        if b.cumulative >= 80:
            break
    return out


