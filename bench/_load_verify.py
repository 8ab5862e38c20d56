"""Hold the database to the workers' journals after a load (or fault) run.

The invariant of a case (core/lifecycle.py, core/services.py): registration writes version 1
and the event `registered`; every later change (`_transition`, `_touch`, `update_complaint`)
bumps the version by one and writes exactly one event on the case in the same transaction.
Two kinds of event do not bump the case's version: `attachment_added` (uploads) and
`merged_in` (written on the *target* of a merge). Derived values (due times, days to close)
are saved without a version or event. So, for every case:

    version == number of its events other than attachment_added / merged_in

and the k-th such event (by id) is the change that produced version k. A journal line
"ack case=C v=K op=X" therefore names exactly one event, which must exist and be an X.
Two acknowledgements of the same (case, version) mean one change overwrote another (a lost
update). Without faults every committed version must have been acknowledged; with faults
only a killed process's last, unjournalled action may be missing from the journals.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from core.rules.numbering import parse_number

NO_BUMP = ("attachment_added", "merged_in")


@dataclass
class Journals:
    acks: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    torn: int = 0  # a last line cut off by SIGKILL (never acknowledged)


def read_journals(paths: list[Path]) -> Journals:
    out = Journals()
    for p in paths:
        if not p.exists():
            continue
        raw = p.read_text(encoding="utf-8", errors="replace").split("\n")
        for i, line in enumerate(raw):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                if i == len(raw) - 1:  # the last, unterminated line of a killed process
                    out.torn += 1
                    continue
                raise
            if i == len(raw) - 1:  # not newline-terminated: not known to be complete
                out.torn += 1
                continue
            {"ack": out.acks, "read": out.reads, "stale": out.stale, "refused": out.refused,
             "error": out.errors}[rec["k"]].append(rec)
    return out


def verify(engine: Engine, journals: Journals, killed: int = 0,
           outside_marker: str = "") -> list[str]:
    """Every violation found (empty: all good). `outside_marker`: cases whose description
    starts with it were registered by someone who keeps no journal (a browser on a real
    server): their registration is not expected in the journals; everything else about them
    is checked like any case."""
    bad: list[str] = []
    for e in journals.errors:
        bad.append(f"error in a worker: {e['err']}\n{e.get('tb', '')}")
    with engine.connect() as conn:
        bad += integrity(conn, engine)
        cases = {r[0]: (r[1], r[2]) for r in conn.execute(
            text("SELECT id, number, version FROM complaints"))}
        events: dict[int, list[str]] = defaultdict(list)
        for cid, action in conn.execute(text(
                "SELECT complaint_id, action FROM events ORDER BY complaint_id, id")):
            if action not in NO_BUMP:
                events[cid].append(action)
        outside = {r[0] for r in conn.execute(
            text("SELECT id FROM complaints WHERE description LIKE :m"),
            {"m": outside_marker + "%"})} if outside_marker else set()
        counters = {r[0]: r[1] for r in conn.execute(
            text("SELECT period, last_serial FROM number_counters"))}
    # no case half-written: version == its version-bumping events
    for cid, (number, version) in cases.items():
        if len(events[cid]) != version:
            bad.append(f"case {number}: version {version} but {len(events[cid])} "
                       "version-bumping events")
    # every acknowledged action is there, once
    seen: Counter[tuple[int, int]] = Counter()
    for a in journals.acks:
        key = (a["case"], a["v"])
        seen[key] += 1
        if a["case"] not in cases:
            bad.append(f"acknowledged {a['op']} on case id {a['case']} which does not exist")
            continue
        number, version = cases[a["case"]]
        if a["op"] == "registered" and a.get("num") != number:
            bad.append(f"registration acknowledged as {a.get('num')} is stored as {number}")
        if a["v"] > version:
            bad.append(f"case {number}: acknowledged version {a['v']} ({a['op']}) but the case "
                       f"is at version {version} (lost update)")
        elif events[a["case"]][a["v"] - 1] != a["op"]:
            bad.append(f"case {number}: version {a['v']} acknowledged as {a['op']} but its "
                       f"event is {events[a['case']][a['v'] - 1]} (lost update)")
    bad += [f"case id {k[0]} version {k[1]} acknowledged {n} times (lost update)"
            for k, n in seen.items() if n > 1]
    # committed but never acknowledged: only a killed worker's last action may be so
    unacked = [(cid, v) for cid, (_, version) in cases.items() for v in range(1, version + 1)
               if (cid, v) not in seen and not (v == 1 and cid in outside)]
    if len(unacked) > killed:
        bad.append(f"{len(unacked)} committed changes no worker acknowledged (allowed: "
                   f"{killed}, one per killed process): {unacked[:10]}")
    # numbers unique and gap-free per month
    numbers = [n for n, _ in cases.values()]
    if len(numbers) != len(set(numbers)):
        dup = [n for n, k in Counter(numbers).items() if k > 1]
        bad.append(f"duplicate case numbers: {dup[:10]}")
    by_period: dict[str, list[int]] = defaultdict(list)
    for n in numbers:
        parsed = parse_number(n)
        if parsed is None:
            bad.append(f"malformed case number {n}")
            continue
        by_period[parsed[0]].append(parsed[1])
    for period, serials in by_period.items():
        if sorted(serials) != list(range(1, len(serials) + 1)):
            bad.append(f"numbers of {period} are not 1..{len(serials)} without gaps")
        if counters.get(period) != len(serials):
            bad.append(f"counter of {period} is {counters.get(period)}, {len(serials)} cases")
    return bad


def integrity(conn: Any, engine: Engine) -> list[str]:
    """Database-level checks: SQLite integrity_check / foreign_key_check; on any database,
    no row whose foreign key points at nothing (orphans)."""
    from db.tables import Base

    bad: list[str] = []
    if make_url(str(engine.url)).get_backend_name() == "sqlite":
        ok = [r[0] for r in conn.execute(text("PRAGMA integrity_check"))]
        if ok != ["ok"]:
            bad.append(f"PRAGMA integrity_check: {ok[:5]}")
        broken = list(conn.execute(text("PRAGMA foreign_key_check")))
        if broken:
            bad.append(f"PRAGMA foreign_key_check: {broken[:5]}")
    else:
        invalid = list(conn.execute(text(
            "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = current_schema() AND NOT c.convalidated")))
        if invalid:
            bad.append(f"constraints not validated: {invalid}")
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            col, parent = fk.parent, fk.column
            q = (f"SELECT count(*) FROM {table.name} c WHERE c.{col.name} IS NOT NULL AND NOT "
                 f"EXISTS (SELECT 1 FROM {parent.table.name} p WHERE p.{parent.name} = "
                 f"c.{col.name})")
            n = conn.execute(text(q)).scalar_one()
            if n:
                bad.append(f"{n} orphan rows in {table.name}.{col.name} -> {parent.table.name}")
    return bad


def percentiles(values: list[float]) -> tuple[float, float]:
    """p50 and p95 (nearest rank)."""
    if not values:
        return (0.0, 0.0)
    s = sorted(values)

    def rank(p: float) -> float:
        return s[min(len(s) - 1, max(0, int(round(p * len(s) + 0.5)) - 1))]
    return rank(0.50), rank(0.95)
