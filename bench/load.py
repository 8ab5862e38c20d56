"""Load and fault test: N simulated users, each a separate OS process, on one database.

    python -m bench.load --db sqlite                 # 20 users x 180 s on a fresh SQLite file
    python -m bench.load --db postgresql             # the same in a fresh PostgreSQL schema
    python -m bench.load --db sqlite --kill 3        # SIGKILL 3 workers at random moments
    python -m bench.load --users 6 --seconds 15      # a short run

Each worker (bench/_load_worker.py) builds the app with adapters.wiring.build_app against the same
database and acts as the demo users: registers complaints, moves cases along the procedure,
signs approvals, reads the register / My Tasks / approvals (and Stats once it exists). Every
acknowledged action goes to the worker's own journal (fsync). At the end bench/_load_verify.py
holds the database to the journals: no error but the expected "case changed" conflicts, no
lost update, no half-written case, every acknowledged action present, numbers unique and
gap-free per month, integrity and foreign keys intact. Prints p50/p95 per action; exits 1 on
any violation.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/load.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench import _load_worker
from bench._load_verify import Journals, percentiles, read_journals, verify

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Result:
    seconds: float
    users: int
    killed: int
    journals: Journals
    violations: list[str] = field(default_factory=list)
    hung: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def conflicts(self) -> int:
        return len(self.journals.stale)

    def latencies(self) -> dict[str, tuple[int, float, float]]:
        """op -> (count, p50 ms, p95 ms), actions first, then reads."""
        by: dict[str, list[float]] = defaultdict(list)
        for rec in self.journals.acks + self.journals.reads:
            by[rec["op"]].append(rec["ms"])
        acks = {r["op"] for r in self.journals.acks}
        order = sorted(by, key=lambda op: (op not in acks, op))
        return {op: (len(by[op]), *percentiles(by[op])) for op in order}

    def report(self) -> str:
        j = self.journals
        why = ", ".join(f"{k} {n}" for k, n in Counter(r["why"] for r in j.refused).items())
        lines = [f"{self.users} users x {self.seconds:.0f} s: {len(j.acks)} acknowledged actions "
                 f"({len(j.acks) / self.seconds:.1f}/s), {len(j.reads)} reads "
                 f"({len(j.reads) / self.seconds:.1f}/s)",
                 f"conflicts: {len(j.stale)} StaleCase ('case changed'), {len(j.refused)} "
                 f"refused after a concurrent change ({why or '-'})",
                 f"killed workers: {self.killed}, torn journal lines: {j.torn}",
                 f"{'action':<22}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}"]
        for op, (n, p50, p95) in self.latencies().items():
            lines.append(f"{op:<22}{n:>8}{p50:>10.1f}{p95:>10.1f}")
        lines.append(f"violations: {len(self.violations)}")
        shown: Counter[str] = Counter()
        for v in self.violations:
            head = v.split("\n", 1)[0]
            shown[head] += 1
            if shown[head] == 1 and len(shown) <= 20:
                lines.append(f"  - {v}")  # the first of a kind in full (traceback included)
        lines += [f"  ({n - 1} more: {head})" for head, n in shown.items() if n > 1]
        return "\n".join(lines)


# ---------------------------------------------------------------- databases


@contextmanager
def fresh_database(kind: str, pg_url: str = PG_URL, keep: bool = False,
                   workdir: Path | None = None) -> Iterator[str]:
    """A new SQLite file, or a new schema of its own on the PostgreSQL server."""
    if kind == "sqlite":
        d = Path(workdir or tempfile.mkdtemp(prefix="kesu-load-"))
        d.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{d / 'kesu.db'}"
        return
    schema = f"kesu_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text("SET lock_timeout = '10s'"))
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def prepare(url: str) -> None:
    """Migrate and load the demo's people and reference data (no cases)."""
    os.environ.setdefault("KESU_BCRYPT_ROUNDS", "4")
    from bench import demo
    from adapters.wiring import build_app

    app = build_app(url)
    demo.load(app, lambda _at: None, cases=0)
    app.uow.engine.dispose()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the run


def stats_committed() -> bool:
    """Stats reads join the mix once core/stats.py is committed (another engineer builds it;
    a half-written version in the working tree must not fail the load)."""
    import subprocess
    root = Path(__file__).resolve().parent.parent
    try:
        res = subprocess.run(["git", "ls-files", "--error-unmatch", "core/stats.py"], cwd=root,
                             capture_output=True, check=False, timeout=10)
    except OSError:
        return (root / "core" / "stats.py").exists()
    return res.returncode == 0


def run_load(url: str, journal_dir: Path, users: int = 20, seconds: float = 180,
             kills: int = 0, seed: int = 1, progress: bool = True,
             prepared: bool = False, with_stats: bool | None = None,
             outside_marker: str = "") -> Result:
    """Run the load (SIGKILLing `kills` workers at random moments, each replaced by a fresh
    process) and verify. The database must be empty or prepared (`prepared=True`)."""
    if with_stats is None:
        with_stats = stats_committed()
    if not prepared:
        prepare(url)
    journal_dir.mkdir(parents=True, exist_ok=True)
    ctx = multiprocessing.get_context("spawn")
    rng = random.Random(seed)
    start = time.time()
    deadline = start + seconds
    procs: dict[int, Any] = {}
    paths: list[Path] = []

    def spawn(i: int) -> None:
        path = journal_dir / f"worker-{i:03d}.jsonl"
        paths.append(path)  # (_working knows this name)
        p = ctx.Process(target=_load_worker.run, args=(i, url, str(path), deadline, seed * 1000 + i,
                                                     with_stats),
                        name=f"kesu-load-{i}", daemon=False)
        p.start()
        procs[i] = p

    for i in range(users):
        spawn(i)
    kill_at = sorted(start + seconds * rng.uniform(0.15, 0.6) for _ in range(kills))
    killed = 0
    bar = _bar(seconds, progress)
    tail = _Tail()
    try:
        while time.time() < deadline:
            time.sleep(min(1.0, max(0.0, deadline - time.time())))
            while kill_at and time.time() >= kill_at[0]:
                # a worker that is at work (has journalled), not one still starting up
                busy = [i for i, p in procs.items() if p.is_alive() and _working(journal_dir, i)]
                if not busy:
                    kill_at[0] += 0.5
                    break
                kill_at.pop(0)
                victim = rng.choice(busy)
                procs[victim].kill()  # SIGKILL, mid-action whatever it was doing
                procs[victim].join(10)
                killed += 1
                spawn(max(procs) + 1)  # restart: a new process carries on
            if bar is not None:
                counts = tail.count(paths)
                bar.n = min(seconds, round(time.time() - start))
                bar.set_postfix(actions=counts["ack"], reads=counts["read"],
                                conflicts=counts["stale"], errors=counts["error"],
                                killed=killed, refresh=False)
                bar.refresh()
    finally:
        if bar is not None:
            bar.close()
    hung = 0
    for p in procs.values():
        p.join(timeout=max(30.0, deadline + 60 - time.time()))
        if p.is_alive():  # still inside an action a minute after the end: a deadlock
            hung += 1
            p.kill()
            p.join(10)
    elapsed = min(time.time(), deadline) - start
    journals = read_journals(paths)
    engine = create_engine(url, poolclass=NullPool)
    try:
        violations = verify(engine, journals, killed + hung, outside_marker)
    finally:
        engine.dispose()
    if hung:
        violations.insert(0, f"{hung} workers still busy a minute after the end (deadlock?)")
    crashed = [p.exitcode for p in procs.values() if p.exitcode not in (0, -9)]
    if crashed:
        violations.insert(0, f"workers exited with {crashed}")
    return Result(elapsed, users, killed, journals, violations, hung)


def _working(journal_dir: Path, i: int) -> bool:
    path = journal_dir / f"worker-{i:03d}.jsonl"
    return path.exists() and path.stat().st_size > 0


class _Tail:
    """Counts journal lines as they grow (for the progress bar), reading only what is new."""

    def __init__(self) -> None:
        self.pos: dict[Path, int] = {}
        self.counts: Counter[str] = Counter()

    def count(self, paths: list[Path]) -> Counter[str]:
        for p in paths:
            if not p.exists():
                continue
            with p.open("rb") as f:
                f.seek(self.pos.get(p, 0))
                chunk = f.read()
            end = chunk.rfind(b"\n") + 1
            self.pos[p] = self.pos.get(p, 0) + end
            for kind in ("ack", "read", "stale", "refused", "error"):
                self.counts[kind] += chunk[:end].count(f'"k": "{kind}"'.encode())
        return self.counts


def _bar(seconds: float, on: bool) -> Any:
    if not on:
        return None
    from tqdm import tqdm
    return tqdm(total=round(seconds), desc="load", unit="s")


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--users", type=int, default=20, help="worker processes (default 20)")
    ap.add_argument("--seconds", type=float, default=180, help="duration (default 180)")
    ap.add_argument("--kill", type=int, default=0, metavar="N",
                    help="SIGKILL N workers at random moments (each replaced by a new one)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", default=os.environ.get("KESU_LOAD_PG_URL", PG_URL))
    ap.add_argument("--workdir", type=Path, default=None,
                    help="where the SQLite file and the journals go (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="kesu-load-"))
    os.environ["KESU_DATA_DIR"] = str(work / "data")
    os.environ.setdefault("KESU_BCRYPT_ROUNDS", "4")
    with fresh_database(args.db, args.pg_url, args.keep, work / "db") as url:
        print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {args.db}: "
              f"{make_url(url).render_as_string(hide_password=True)}; journals in {work}",
              flush=True)
        result = run_load(url, work / "journals", args.users, args.seconds, args.kill,
                          args.seed, progress=not args.no_progress)
    print(result.report())
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
