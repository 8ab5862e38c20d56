"""Page benchmarks (issue #6): each page's server-side script run, on synthetic data at scale.

    python bench/pages.py [--db sqlite|postgresql] [--cases 100000] [--runs 15]

The database is made once per backend and size by `bench.synth` (kept for the next run):
SQLite under $KESU_BENCH_DIR (default /tmp/kesu-bench), PostgreSQL as the database
`kesu_bench_<cases>` on $KESU_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/
postgres). Every page is run by Streamlit's AppTest as tests/app does it (no legacy pages/
path, no login cookie, KESU_BACKGROUND=off), logged in as a realistic user; one warm-up run,
then `--runs` timed reruns (app.py + the page, what a click costs on the server). An empty
Streamlit page measured in the same run gives each page's ratio. The write services are
timed on a copy of the database, so the benchmark data stays as synthesised.

Budgets (SQLite, 100,000 cases, this 2-core machine): every page ≤ 150 ms median, Stats
≤ 400 ms cold and ≤ 100 ms warm, write services ≤ 30 ms median; PostgreSQL within 1.5×.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import usecases as uc  # noqa: E402 - after the path: run as a script

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BUDGET_MS = {"page": 150.0, "stats_cold": 400.0, "stats_warm": 100.0, "write": 30.0}
PG_FACTOR = 1.5
PAGES = ("log", "tasks", "complaint", "approve", "stats", "writes")


@dataclass
class Result:
    name: str
    times: list[float]  # seconds
    budget_ms: float | None
    note: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def p95_ms(self) -> float:
        s = sorted(self.times)
        return s[min(len(s) - 1, max(0, round(0.95 * (len(s) - 1))))] * 1000


# ---------------------------------------------------------------- the database


def _bench_dir() -> Path:
    return Path(os.environ.get("KESU_BENCH_DIR", "/tmp/kesu-bench"))


def database(db: str, cases: int, open_share: float | None = None) -> tuple[str, Path]:
    """(url, data folder) of the benchmark database, created and synthesised if missing."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    # `open_share` (bench.synth): a database of its own, named by it; None: the earlier one
    tag = "" if open_share is None else f"-open{open_share:g}"
    data = _bench_dir() / f"{db}-{cases}{tag}"
    data.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        url = f"sqlite:///{data / 'kesu.db'}"
    else:
        server = make_url(os.environ.get("KESU_BENCH_PG", PG_DEFAULT))
        name = os.environ.get("KESU_BENCH_PG_DB") or (  # a run of its own
            f"kesu_bench_{cases}{tag.replace('-', '_').replace('.', 'p')}")
        admin = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = server.set(database=name).render_as_string(hide_password=False)
    os.environ.update(DATABASE_URL=url, KESU_DATA_DIR=str(data), KESU_BCRYPT_ROUNDS="4",
                      KESU_BACKGROUND="off")
    from bench.synth import database_size, synth
    from adapters.wiring import build_app
    app = build_app(url)
    if not _count(app):
        from tqdm import tqdm
        started = time.perf_counter()
        with tqdm(total=cases, desc=f"synth {db}", unit="case") as bar:
            synth(app, cases, progress=bar.update, open_share=open_share,
                  workers=os.cpu_count() or 1)
        print(f"synthesised {cases} cases on {db} in {time.perf_counter() - started:.0f} s; "
              f"database {database_size(app.uow.engine) / 1e6:.0f} MB")  # type: ignore[attr-defined]
    app.uow.engine.dispose()  # type: ignore[attr-defined]
    return url, data


def _count(app: Any) -> int:
    from sqlalchemy import func, select

    from db.tables import ComplaintRow
    with app.uow.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(ComplaintRow)) or 0)


def subjects(app: Any) -> dict[str, Any]:
    """The realistic users and cases: QA with the most tasks, the long-history case, the
    manager with the most pending approvals."""
    from sqlalchemy import func, select

    from db.tables import EventRow
    with app.uow.engine.connect() as conn:
        big = conn.execute(select(EventRow.complaint_id, func.count()).group_by(
            EventRow.complaint_id).order_by(func.count().desc()).limit(1)).one()
    users = {u.username: u for u in uc.accounts.list_active_users(app)}
    approvers = {name: len(uc.approve_queue.pending_approvals(app, users[name]))
                 for name in ("manager", "gm", "chairman", "qamanager")}
    approver = max(approvers, key=lambda n: approvers[n])
    qa_tasks = uc.worklists.tasks(app, users["qa"])
    return {"users": users, "big_case": int(big[0]), "big_events": int(big[1]),
            "searches": _searches(app),
            "qa_tasks": len(qa_tasks), "qa_task_case": qa_tasks[0].complaint_id,
            "approver": approver,
            "approvals": approvers[approver]}


def _searches(app: Any) -> dict[str, str]:
    """What the Log benchmark searches for: a case number, an order number and the customer
    of a case from the middle of the data (issue #14)."""
    from sqlalchemy import func, select

    from db.tables import ComplaintRow, CustomerRow
    with app.uow.engine.connect() as conn:
        middle = conn.scalar(select(func.max(ComplaintRow.id))) // 2
        number, order_no, customer = conn.execute(
            select(ComplaintRow.number, ComplaintRow.order_no, CustomerRow.name)
            .join(CustomerRow, CustomerRow.id == ComplaintRow.customer_id)
            .where(ComplaintRow.id >= middle, ComplaintRow.order_no != "")
            .order_by(ComplaintRow.id).limit(1)).one()
    return {"a case number": number, "an order number": order_no,
            "a customer name": customer[:4]}


# ---------------------------------------------------------------- AppTest


def _patch_streamlit() -> None:
    """As tests/app/conftest.py: app.py's st.navigation, not the legacy pages/ path."""
    import logging

    from streamlit import config, logger
    config.set_option("logger.level", "error")  # no "missing ScriptRunContext" per clear
    logger.set_log_level("error")
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init  # type: ignore[method-assign]


def _app_test(user: Any, page: str | None, params: dict[str, str] | None = None) -> Any:
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    from tests.app.helpers import open_session
    from ui.auth import TOKEN_KEY
    at.session_state[TOKEN_KEY] = open_session(user.username)  # a login, as the sign-in makes
    at.run()
    if page:
        at.switch_page(page)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    _ok(at.run(), page or "app.py")
    return at


def _ok(at: Any, what: str) -> Any:
    if at.exception:
        raise SystemExit(f"{what}: {[e.value for e in at.exception]}")
    return at


def _reruns(at: Any, runs: int, before: Callable[[], None] | None = None) -> list[float]:
    out = []
    for _ in range(runs):
        if before:
            before()
        t = time.perf_counter()
        at.run()
        out.append(time.perf_counter() - t)
        _ok(at, "rerun")
    return out


def empty_page(runs: int) -> list[float]:
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_string('import streamlit as st\nst.title("empty")\n', default_timeout=60)
    at.run()
    return _reruns(at, runs)


def _in_git(path: str) -> bool:
    return subprocess.run(["git", "ls-files", "--error-unmatch", path], cwd=ROOT,
                          capture_output=True).returncode == 0


_VERSION = [10**12]
_CHANGED: list[int] = []  # the case "changed": one of qa's tasks (set by pages())


def _a_change() -> None:
    """As if someone had just changed a case: the data version (newest event id) moves, so
    the caches keyed by it miss once, and My Tasks re-reads the changed case; nothing is
    written to the benchmark data."""
    from core.usecases import stats as stats_uc
    from db.reads import SqlChanges
    _VERSION[0] += 1
    stats_uc.stats_version = lambda ctx: _VERSION[0]  # type: ignore[assignment]

    def since(self: Any, event_id: int, limit: int) -> tuple[int, set[int]]:
        if event_id < 0 or event_id >= _VERSION[0]:
            return _VERSION[0], set()
        return _VERSION[0], set(_CHANGED)
    SqlChanges.since = since  # type: ignore[method-assign]


def pages(s: dict[str, Any], runs: int, only: set[str]) -> list[Result]:
    import streamlit as st
    users, out = s["users"], []
    page = BUDGET_MS["page"]

    if "log" in only:
        at = _app_test(users["sales"], "pages/log.py")
        out.append(Result("Log: register, first page", _reruns(at, runs), page))
        at.text_input(key="reg_text").set_value("划伤")
        _ok(at.run(), "log search")
        out.append(Result("Log: text search 划伤", _reruns(at, runs), page))
        out.append(Result("Log: text search 划伤, after a change",
                          _reruns(at, runs, _a_change), page))
        for what, text in [*s["searches"].items(), ("a 4-character word", "外观划伤")]:
            at.text_input(key="reg_text").set_value(text)
            _ok(at.run(), f"log search {what}")
            out.append(Result(f"Log: search {what} ({text}), after a change",
                              _reruns(at, runs, _a_change), page))
        at.text_input(key="reg_text").set_value("")
        at.toggle(key="reg_overdue").set_value(True)
        _ok(at.run(), "log filter")
        out.append(Result("Log: filter overdue", _reruns(at, runs), page))
    if "tasks" in only:
        _CHANGED[:] = [s["qa_task_case"]]
        at = _app_test(users["qa"], "pages/tasks.py")
        out.append(Result(f"My Tasks: qa ({s['qa_tasks']} tasks)", _reruns(at, runs), page))
        out.append(Result("My Tasks: qa, after a change", _reruns(at, runs, _a_change), page))
        # every run makes the list anew, as after a minute or for a user's first view
        kept = uc.task_pages.first_tasks
        uc.task_pages.first_tasks = (  # type: ignore[assignment]
            lambda ctx, actor, limit=None, previous=None: kept(ctx, actor, limit))
        out.append(Result("My Tasks: qa, made from scratch", _reruns(at, runs), page))
        uc.task_pages.first_tasks = kept  # type: ignore[assignment]
    if "complaint" in only:
        at = _app_test(users["qa"], "pages/complaint.py", {"id": str(s["big_case"])})
        out.append(Result(f"Complaint: {s['big_events']} events", _reruns(at, runs), page))
    if "approve" in only:
        at = _app_test(users[s["approver"]], "pages/approve.py")
        out.append(Result(f"Approve: {s['approver']} ({s['approvals']} pending)",
                          _reruns(at, runs), page))
    if "stats" in only:
        if not _in_git("pages/stats.py"):
            out.append(Result("Stats", [float("nan")], None, "not yet measurable (not in git)"))
            return out
        at = _app_test(users["manager"], "pages/stats.py")
        # every preset period cold (issue #14: <= 300 ms cold for any), this year last
        for name in ("this_week", "last_week", "this_month", "last_month", "this_quarter",
                     "this_year"):
            at.selectbox(key="stats_preset").set_value(name)
            _ok(at.run(), f"stats {name}")
            out.append(Result(f"Stats: {name.replace('_', ' ')}, cold cache",
                              _reruns(at, runs, st.cache_data.clear), BUDGET_MS["stats_cold"]))
        out.append(Result("Stats: this year, warm cache", _reruns(at, runs),
                          BUDGET_MS["stats_warm"]))
    return out


# ---------------------------------------------------------------- write services


def _copy(db: str, url: str, data: Path) -> tuple[str, Callable[[], None]]:
    """A throw-away copy of the benchmark database for the write services."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool
    if db == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="kesu-bench-write-"))
        shutil.copy2(data / "kesu.db", tmp / "kesu.db")
        return f"sqlite:///{tmp / 'kesu.db'}", lambda: shutil.rmtree(tmp, ignore_errors=True)
    src = make_url(url)
    name = f"{src.database}_w"
    admin = create_engine(src.set(database="postgres"), poolclass=NullPool,
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # a template must have no session: the pages' pool's
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :d AND pid <> pg_backend_pid()"),
                     {"d": src.database})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{src.database}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return src.set(database=name).render_as_string(hide_password=False), drop


def writes(db: str, url: str, data: Path, n: int) -> list[Result]:
    from core.model import Channel, Kind, State
    from core.usecases.complaints import ComplaintDraft
    from adapters.wiring import build_app
    copy_url, drop = _copy(db, url, data)
    try:
        app = build_app(copy_url, run_migrations=False)
        users = {u.username: u for u in uc.accounts.list_active_users(app)}
        sales, qa = users["sales"], users["qa"]
        cust, prod = uc.reference.customers(app)[0], uc.reference.products(app)[0]
        defect = uc.reference.defect_types(app)[0]
        out = []
        times = []
        for i in range(n):
            draft = ComplaintDraft(
                customer_id=cust.id, kind=Kind.COMPLAINT, channel=Channel.PHONE,
                description=f"基准测试登记 {i}：外观划伤", product_code=prod.code,
                product_name=prod.name, defect_type_id=defect.id,
                received_at=datetime.now(timezone.utc))
            t = time.perf_counter()
            uc.complaints.register_complaint(app, sales, draft)
            times.append(time.perf_counter() - t)
        out.append(Result("service: register complaint", times, BUDGET_MS["write"]))
        approver = max(("manager", "gm", "chairman", "qamanager"),
                       key=lambda name: len(uc.approve_queue.pending_approvals(app, users[name])))
        cards = uc.approve_queue.pending_approvals(app, users[approver])[:n]
        times = []
        for card in cards:
            t = time.perf_counter()
            uc.approval.approve_step(app, users[approver], card.complaint.id or 0,
                                     card.complaint.version, "同意")
            times.append(time.perf_counter() - t)
        out.append(Result(f"service: approve step ({approver})", times, BUDGET_MS["write"]))
        dispatched = [
            c
            for c in uc.search.cases_in(app, qa, [State.DISPATCHED], n * 2)
            if c.on_hold_since is None
        ][:n]
        times = []
        for c in dispatched:
            t = time.perf_counter()
            uc.investigation.acknowledge(app, qa, c.id or 0, c.version)
            times.append(time.perf_counter() - t)
        out.append(Result("service: transition (acknowledge)", times, BUDGET_MS["write"]))
        app.uow.engine.dispose()  # type: ignore[attr-defined]
        return out
    finally:
        drop()


# ---------------------------------------------------------------- report


def table(results: list[Result], empty: Result, db: str) -> str:
    factor = PG_FACTOR if db == "postgresql" else 1.0
    lines = [
        f"| measured ({db}) | median ms | p95 ms | × empty page | budget ms | |",
        "|---|---:|---:|---:|---:|---|",
    ]
    base = empty.median_ms
    for r in [empty, *results]:
        if r.times and r.times[0] != r.times[0]:  # nan: not measured
            lines.append(f"| {r.name} | – | – | – | – | {r.note} |")
            continue
        budget = r.budget_ms * factor if r.budget_ms else None
        ok = "" if budget is None else ("ok" if r.median_ms <= budget else "**over**")
        ratio = "" if r.name.startswith("service") else f"{r.median_ms / base:.1f}"
        lines.append(
            f"| {r.name} | {r.median_ms:.0f} | {r.p95_ms:.0f} | {ratio} | "
            f"{'' if budget is None else f'{budget:.0f}'} | {ok} {r.note} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=15, help="timed reruns per page")
    p.add_argument("--writes", type=int, default=30, help="calls per write service")
    p.add_argument("--only", default=",".join(PAGES), help="comma list of " + ",".join(PAGES))
    p.add_argument("--open-share", default="legacy", metavar="SHARE|legacy",
                   help="synthesise with about this share of the cases open (a database of "
                        "its own); default legacy: ~5 %% open, the earlier benchmark data")
    args = p.parse_args(argv)
    open_share = None if args.open_share == "legacy" else float(args.open_share)
    only = set(args.only.split(","))
    started = time.perf_counter()
    url, data = database(args.db, args.cases, open_share)
    _patch_streamlit()
    from adapters.wiring import build_app

    app = build_app(url, run_migrations=False)
    s = subjects(app)
    app.uow.engine.dispose()  # type: ignore[attr-defined]
    empty = Result("empty Streamlit page", empty_page(args.runs), None)
    results = pages(s, args.runs, only)
    print(table(results, empty, args.db), flush=True)  # in case the write services fail
    if "writes" in only:
        results += writes(args.db, url, data, args.writes)
    print()
    print(
        f"{args.cases} cases, {args.db}; {args.runs} reruns per page, {args.writes} calls per "
        f"service; {time.perf_counter() - started:.0f} s in all"
    )
    print(table(results, empty, args.db))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
