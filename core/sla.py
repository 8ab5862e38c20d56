"""Time limits (处理期限, docs/procedure.md §7): which steps of a case are open, when each is due on
the working calendar, holds that pause the clock, granted extensions — and so what is overdue.

Overdue is always derived from the case and its events, never a flag someone sets. Limits are
settings with a history: a step is timed by the limits in force when it started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core import procedure
from core.model import CaseFile, Event, Severity
from core.rules.calendar import WorkCalendar

# step -> severity (or "*") -> (amount, unit); unit: wh = working hours, wd = working days,
# h = clock hours, d = calendar days. Defaults from the seed procedures (docs/procedure.md §7).
DEFAULT_LIMITS: dict[str, dict[str, tuple[float, str]]] = {
    "dispatch": {"*": (1, "wh")},
    # 要求品管部负责人签收: the seed names no number; kesu's default (setting): 4 working
    # hours, 1 for an A (its containment is due 8 working hours after the dispatch)
    "acknowledge": {"A": (1, "wh"), "*": (4, "wh")},
    "investigation": {"*": (3, "wd")},
    "containment": {"A": (8, "wh")},
    "reply": {"A": (2, "wd"), "B": (3, "wd"), "C": (3, "wd"), "D": (5, "wd")},
    "answer_inquiry": {"*": (24, "h")},
    "answer_suggestion": {"*": (5, "wd")},
    # 对顾客退货产品的试验/分析必须在一周内完成: from the goods' receipt being recorded
    # until QA's investigation report
    "returned_goods": {"*": (7, "d")},
}
UNITS = ("wh", "wd", "h", "d")
CLOCK_UNITS = {"h": 1, "d": 24}  # hours per unit of the units counted on the clock
# actions that reopen a case when they move it back to root_cause (besides "reopen")
REOPENING = ("follow_up", "verify")
REOPEN_FROM = ("reopening", "first")  # setting reopen_due_from: when reopened steps start


@dataclass(frozen=True)
class Due:
    """One open step and its due time (None while the case waits for the customer)."""

    step: str
    started: datetime
    due: datetime | None
    limit: tuple[float, str]
    extended: bool = False
    missing_years: tuple[int, ...] = ()

    def is_overdue(self, now: datetime) -> bool:
        return self.due is not None and now > self.due

    def time_left(self, now: datetime, cal: WorkCalendar) -> timedelta | None:
        """Working time left (negative when overdue); clock time for clock-hour limits."""
        if self.due is None:
            return None
        if self.limit[1] in CLOCK_UNITS:
            return self.due - now
        return cal.working_time_between(now, self.due)


def after(start: datetime, amount: float, unit: str, cal: WorkCalendar) -> datetime:
    """`amount` `unit`s after `start`: on the clock (h, d) or on the working calendar."""
    if unit in CLOCK_UNITS:
        return start + timedelta(hours=amount * CLOCK_UNITS[unit])
    return cal.add_working_time(start, hours=amount * (cal.hours_per_day if unit == "wd" else 1))


def limits_in_force(history: list[dict[str, Any]],
                    at: datetime) -> dict[str, dict[str, tuple[float, str]]]:
    """The limits that applied at `at`: the newest history entry from before it."""
    chosen = DEFAULT_LIMITS
    for entry in sorted(history, key=lambda e: str(e["from"])):
        if datetime.fromisoformat(str(entry["from"])) <= at:
            saved = {
                step: {sev: (float(v[0]), str(v[1])) for sev, v in by.items()}
                for step, by in entry["limits"].items()
            }
            # over the defaults: a step or severity the entry does not name stays timed
            chosen = {
                step: {**DEFAULT_LIMITS.get(step, {}), **saved.get(step, {})}
                for step in {*DEFAULT_LIMITS, *saved}
            }
    return {step: dict(by) for step, by in chosen.items()}  # the caller's own copy


def limit_for(limits: dict[str, dict[str, tuple[float, str]]], step: str,
              severity: Severity | None) -> tuple[float, str] | None:
    by = limits.get(step, {})
    if severity is not None and severity.value in by:
        return by[severity.value]
    return by.get("*")


def _first(events: list[Event], action: str) -> datetime | None:
    return next((e.at for e in events if e.action == action), None)


def _last(events: list[Event], action: str) -> datetime | None:
    hits = [e.at for e in events if e.action == action]
    return hits[-1] if hits else None


def reopened_at(events: list[Event]) -> datetime | None:
    """When the case last went back to the analysis after its reply: reopened when closed,
    the customer not satisfied at the follow-up, or the actions found not effective."""
    for e in reversed(events):
        if e.action == "reopen" or (e.action in REOPENING
                                    and (e.changes.get("state") or [None, None])[1]
                                    == "root_cause"):
            return e.at
    return None


def open_steps(case: CaseFile, events: list[Event],
               from_reopening: bool = True) -> list[tuple[str, datetime]]:
    """(step, started) for every timed step of the case that is still open, as
    core/procedure.py STEPS declares them.

    `from_reopening` (setting `reopen_due_from`, default "reopening"): a step that started
    before the case was last reopened starts again at the reopening — a new step with its
    full limit, so the time before the reopening neither makes it overdue nor escalates it."""
    c = case.complaint
    if not c.state.is_open:
        return []
    # an open case imported from an old register starts kesu's clocks at its import: it was
    # handled on paper until then, and would otherwise be overdue (and escalated) at once
    entered = max(c.received_at, c.created_at) if c.imported and c.created_at else c.received_at
    again = reopened_at(events) if from_reopening else None
    out = []
    for s in procedure.STEPS:
        if c.kind in s.kinds and (s.states is None or c.state in s.states) \
                and all(_needs(need, case, events) for need in s.needs):
            started = _started(s.since, events) or entered
            out.append((s.step, max(started, again) if again is not None else started))
    return out


def _started(since: str, events: list[Event]) -> datetime | None:
    if since == "goods_received":
        return _goods_received(events)
    which, _, action = since.partition(":")
    if which == "first":
        return _first(events, action)
    if which == "last":
        return _last(events, action)
    return None  # "entered"


def _needs(need: str, case: CaseFile, events: list[Event]) -> bool:
    c = case.complaint
    if need == "dispatched":
        return _first(events, "dispatch") is not None
    if need == "sample_received":
        return c.sample_received
    if need == "a_uncontained":
        return c.effective_severity == Severity.A and not case.containment
    raise ValueError(need)


def _goods_received(events: list[Event]) -> datetime | None:
    """When the receipt of the returned goods / samples was first recorded (at registration
    or by an edit): ticking it off and on again does not restart the week."""
    for e in events:
        if e.changes.get("sample_received", [None, None])[1] is True:
            return e.at
    return None


def _holds(events: list[Event], since: datetime,
           now: datetime) -> tuple[list[tuple[datetime, datetime]], bool]:
    """Hold intervals overlapping [since, now]; and whether a hold is still running."""
    spans: list[tuple[datetime, datetime]] = []
    begun: datetime | None = None
    for e in events:
        if e.action == "hold" and begun is None:
            begun = e.at
        elif e.action == "resume" and begun is not None:
            spans.append((max(begun, since), e.at))
            begun = None
    running = begun is not None
    if running and begun is not None:
        spans.append((max(begun, since), now))
    return [(a, b) for a, b in spans if b > a], running


def due_times(case: CaseFile, events: list[Event], cal: WorkCalendar, history: list[dict[str, Any]],
              now: datetime, from_reopening: bool = True) -> list[Due]:
    """Every open step with its due time on the calendar, holds and extensions applied
    (`from_reopening`: see open_steps)."""
    out = []
    sev = case.complaint.effective_severity
    for step, started in open_steps(case, events, from_reopening):
        limit = limit_for(limits_in_force(history, started), step, sev)
        if limit is None:
            continue
        amount, unit = limit
        spans, running = _holds(events, started, now)
        if unit in CLOCK_UNITS:
            held = sum((b - a for a, b in spans), timedelta())
            due: datetime | None = started + timedelta(hours=amount * CLOCK_UNITS[unit]) + held
        else:
            held = sum((cal.working_time_between(a, b) for a, b in spans), timedelta())
            hours = amount * (cal.hours_per_day if unit == "wd" else 1)
            due = cal.add_working_time(started, hours=hours + held.total_seconds() / 3600)
        extended_at: datetime | None = None
        for e in events:  # the latest granted extension of this step wins
            if e.action == "extension_granted" and e.changes.get("step", [None, None])[1] == step:
                new = e.changes.get("due", [None, None])[1]
                if isinstance(new, str) and new and e.at >= started:
                    due, extended_at = datetime.fromisoformat(new), e.at
        if extended_at is not None and due is not None:
            # the granted date already allows for earlier holds; later ones still pause it
            after = [(max(a, extended_at), b) for a, b in spans if b > extended_at]
            if unit in CLOCK_UNITS:
                due += sum((b - a for a, b in after), timedelta())
            else:
                later = sum((cal.working_time_between(a, b) for a, b in after), timedelta())
                if later > timedelta():
                    due = cal.add_working_time(due, hours=later.total_seconds() / 3600)
        extended = extended_at is not None
        if running:
            due = None
        missing = tuple(cal.missing_years(started, due or now)) if unit not in CLOCK_UNITS else ()
        out.append(Due(step, started, due, limit, extended, missing))
    return out


def earliest(dues: list[Due]) -> Due | None:
    timed = [d for d in dues if d.due is not None]
    return min(timed, key=lambda d: d.due or d.started) if timed else None
