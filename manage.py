"""kesu command line: migrate, demo, create-user, reset-password, worker, backup, restore.

    python manage.py migrate
    python manage.py demo [--cases 150] [--profile manufacturing|pcb|retail]
    python manage.py create-user NAME --roles sales,qa [--name "王丽"] [--level 1] [--title ...]
    python manage.py reset-password NAME
    python manage.py worker [--once] [--interval 15]   # escalations and the outbox
    python manage.py synth --cases 100000 [--seed 1] [--workers N]   # benchmark data
    python manage.py search-rebuild                    # the register search's indexes anew
    python manage.py rollups [--rebuild]                # the Stats rollups: state, or made again
    python manage.py backup [--out DIR]                 # one archive: database + attachments
    python manage.py restore ARCHIVE [--data-dir DIR]   # into an empty data folder
The database is the one the app uses: DATABASE_URL, else data/kesu.db (KESU_DATA_DIR).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import datetime
from typing import Any

from tqdm import tqdm

from adapters.translations import compile_catalogs
from core.errors import DomainError
from core.i18n import error_text
from core.model import Role, Title
from core.usecases.accounts import UserInput
from core.usecases import presets
from core import usecases as uc


def _app():  # type: ignore[no-untyped-def]
    from adapters.wiring import build_app
    return build_app()


def _password(prompt: str) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first, second = getpass.getpass(prompt), getpass.getpass("again: ")
    if first != second:
        raise SystemExit("passwords differ")
    return first


def cmd_migrate(_: argparse.Namespace) -> None:
    from db.engine import database_url, make_url_safe, migrate
    migrate()
    print(f"database at the newest schema: {make_url_safe(database_url())}")


def cmd_demo(args: argparse.Namespace) -> None:
    from bench import demo
    app = _app()
    real_clock = app.clock
    at: list[datetime] = []
    app.clock = lambda: at[-1] if at else real_clock()
    with tqdm(total=args.cases, desc="demo complaints", unit="case") as bar:
        counts = demo.load(app, at.append, cases=args.cases, progress=lambda n: bar.update(1),
                           profile=args.profile)
    states = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())
                       if k not in ("complaints", "cancelled", "users"))
    print(f"loaded {counts['complaints']} complaints ({counts['cancelled']} cancelled; {states}), "
          f"{counts['users']} users; every demo password is '{demo.PASSWORD}'")


def cmd_search_rebuild(args: argparse.Namespace) -> None:
    """Make the register search's rows again from every case (db/search.py): after cases were
    written behind the application's back, or once pg_trgm can be created."""
    from db import search
    app = _app()
    with app.uow.engine.begin() as conn:
        with tqdm(desc="search index", unit="case") as bar:
            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)
            done = search.rebuild(conn, progress)
        trigram = search.has_trigram(conn)
    print(f"search index made again from {done} cases"
          + ("" if trigram else "; no trigram index: free text is scanned (see the log)"))


def _open_share(value: str) -> float | None:
    """`synth --open-share`: a share between 0 and 1, or 'legacy' (None)."""
    if value == "legacy":
        return None
    share = float(value)
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError("a share between 0 and 1, or 'legacy'")
    return share


def cmd_synth(args: argparse.Namespace) -> None:
    """Synthetic data at scale for the benchmarks (bench/synth.py): an empty database only."""
    import time

    from db.engine import make_url_safe
    from bench.synth import database_size, synth
    app = _app()
    started = time.perf_counter()
    with tqdm(total=args.cases, desc="synthetic complaints", unit="case") as bar:
        counts = synth(app, args.cases, seed=args.seed, progress=bar.update,
                       open_share=args.open_share, workers=args.workers)
    took = time.perf_counter() - started
    engine = app.uow.engine
    states = ", ".join(f"{k} {v}" for k, v in counts["states"].items())
    print(f"{counts['cases']} complaints ({states}); {counts['events']} events, "
          f"{counts.get('capa', 0)} CAPA actions, {counts.get('attachments', 0)} attachments, "
          f"{counts.get('step_times', 0)} step times; long history: case id "
          f"{counts['big_case']}")
    print(f"{took:.0f} s; database {database_size(engine) / 1e6:.0f} MB at "
          f"{make_url_safe(str(engine.url))}")


def cmd_rollups(args: argparse.Namespace) -> None:
    """Make the Stats rollups again from every case (db/rollups.py): after data was written
    behind the application's back, or the time zone setting changed."""
    from sqlalchemy import func, select

    from db import rollups
    from db.tables import ComplaintRow
    app = _app()
    if not args.rebuild:
        with app.uow.engine.connect() as conn:
            zone = rollups.rollup_zone(conn)
            wanted = rollups.configured_zone(conn)
        print(f"Stats rollups: {'kept in ' + zone if zone else 'not built'}"
              f"{'' if zone == wanted else f' (the configured zone is {wanted}: rebuild)'}")
        return
    with app.uow.engine.begin() as conn:
        total = int(conn.scalar(select(func.count()).select_from(ComplaintRow)) or 0)
        with tqdm(total=total, desc="stats rollups", unit="case") as bar:
            done = rollups.rebuild(conn, progress=lambda n, _total: bar.update(n - bar.n))
    print(f"Stats rollups made again from {done} cases")


def _admin_actor(app):  # type: ignore[no-untyped-def]
    """Commands act as the system: the first active admin."""
    from core.model import User
    users = [u for u in uc.accounts.list_active_users(app) if u.is_admin]
    if not users:
        raise SystemExit("no active admin user: start the app once and create one")
    actor: User = users[0]
    return actor


def cmd_create_user(args: argparse.Namespace) -> None:
    app = _app()
    roles = frozenset(Role(r.strip()) for r in args.roles.split(",") if r.strip())
    data = UserInput(args.username, args.name or args.username, roles, None,
                     frozenset(t.strip() for t in args.title.split(",") if t.strip()))
    pw = _password("password: ")
    if uc.accounts.needs_first_admin(app):
        if Role.ADMIN not in roles:
            raise SystemExit("the first user must have the admin role")
        user = uc.accounts.create_first_admin(app, args.username, args.name or args.username, pw)
        if roles != user.roles:
            user = uc.accounts.update_user(app, user, user.id, data)
    else:
        user = uc.accounts.create_user(app, _admin_actor(app), data, pw)
    print(f"created {user.username} ({', '.join(sorted(user.roles))})")


def cmd_reset_password(args: argparse.Namespace) -> None:
    app = _app()
    actor = _admin_actor(app)
    target = uc.accounts.active_user(app, args.username) or next(
        (u for u in uc.accounts.list_users(app, actor)
         if u.username == args.username.lower()), None)
    if target is None:
        raise SystemExit(f"no user {args.username}")
    uc.accounts.reset_password(app, actor, target.id, _password("new password: "))
    uc.login_delays.unlock_user(app, actor, target.username)
    print(f"password of {target.username} reset: any sign-in wait cleared, and at the next "
          "sign-in they choose a password of their own")


def cmd_worker(args: argparse.Namespace) -> None:
    """The scheduled jobs in the foreground (set KESU_BACKGROUND=off for the app servers, or
    keep both: a database lease lets one process at a time do the work)."""
    import logging
    import signal

    from adapters.scheduler import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheduler = Scheduler(_app(), interval=args.interval)
    if args.once:
        tick = scheduler.tick()
        if not tick.holder:
            print("another process holds the jobs' lease: nothing done")
        else:
            d = tick.delivered
            print(
                f"escalated {tick.escalated}; sent {d.sent if d else 0}, "
                f"retrying {d.retrying if d else 0}, failed {d.failed if d else 0}"
            )
        return
    signal.signal(signal.SIGTERM, lambda *_: scheduler.stop())
    print(f"worker {scheduler.holder}: every {args.interval:g} s; Ctrl-C stops")
    try:
        scheduler.run()
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.release()


class _Bars:
    """tqdm bars for db.backup's progress steps, one bar per step."""

    def __init__(self) -> None:
        self.step = ""
        self.bar: tqdm[Any] | None = None

    def __call__(self, step: str, done: int, total: int) -> None:
        if step != self.step:
            self.close()
            self.step = step
            self.bar = tqdm(total=total, desc=step, unit="B" if step == "verify" else "file",
                            unit_scale=step == "verify")
        if self.bar is not None:
            self.bar.total = total
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def cmd_backup(args: argparse.Namespace) -> None:
    from pathlib import Path

    from db.backup import BackupError, backups_dir, make_backup

    out = Path(args.out).resolve() if args.out else backups_dir()
    bars = _Bars()
    try:  # no migration first: a backup before an upgrade must copy the old schema as it is
        report = make_backup(out=out, progress=bars)
    except BackupError as err:
        raise SystemExit(f"backup failed: {err}") from None
    finally:
        bars.close()
    f = report.file
    print(
        f"{f.name}: {f.size / 1e6:.1f} MB, {report.complaints} complaints, {report.events} "
        f"events, {report.attachments} attachments, schema {report.revision}"
    )
    for sha in report.missing_blobs:
        print(f"WARNING: attachment {sha} is referenced but missing or damaged in the store",
              file=sys.stderr)
    print(f"written to {out / f.name}")


def cmd_restore(args: argparse.Namespace) -> None:
    import os
    from pathlib import Path

    from db.backup import BackupError, restore
    from db.engine import make_url_safe

    data = Path(args.data_dir or os.environ.get("KESU_DATA_DIR") or Path(__file__).parent / "data")
    bars = _Bars()
    try:
        report = restore(Path(args.archive), data.resolve(),
                         os.environ.get("DATABASE_URL", "").strip() or None, progress=bars)
    except BackupError as err:
        raise SystemExit(f"restore refused: {err}") from None
    finally:
        bars.close()
    m = report.manifest
    counts = m.get("counts", {})
    print(
        f"restored the backup of {m.get('created_at')}: {counts.get('complaints')} complaints, "
        f"{counts.get('events')} events, {report.attachments} attachments"
    )
    print(
        f"database {make_url_safe(report.database_url)}, schema {report.revision_before}"
        + (
            f" migrated to {report.revision_after}"
            if report.revision_after != report.revision_before
            else " (newest)"
        )
    )
    for note in report.notes:
        print(f"note: {note}")
    env = (
        f"KESU_DATA_DIR={report.data_dir} "
        if m.get("database") == "sqlite"
        else f"KESU_DATA_DIR={report.data_dir} DATABASE_URL=... "
    )
    print(f"start the app on it: {env}streamlit run server.py")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="manage.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate").set_defaults(fn=cmd_migrate)
    d = sub.add_parser("demo")
    d.add_argument("--cases", type=int, default=150)
    d.add_argument("--profile", default=presets.DEFAULT, choices=presets.names(),
                   help="the company's procedure, a preset of core/data/presets: titles, "
                        "approval rules, execution chains, fields of its own and the demo's "
                        "people")
    d.set_defaults(fn=cmd_demo)
    c = sub.add_parser("create-user")
    c.add_argument("username")
    c.add_argument("--roles", required=True,
                   help="comma list of " + ",".join(r.value for r in Role))
    c.add_argument("--name", default="")
    c.add_argument("--title", default="",
                   help="comma list of title codes (Admin → Approval authority), e.g. "
                        + Title.QA_MANAGER.value)
    c.set_defaults(fn=cmd_create_user)
    r = sub.add_parser("reset-password")
    r.add_argument("username")
    r.set_defaults(fn=cmd_reset_password)
    w = sub.add_parser("worker", help="run the escalations and the outbox delivery")
    w.add_argument("--once", action="store_true", help="one round, then exit")
    w.add_argument("--interval", type=float, default=15.0, help="seconds between rounds")
    w.set_defaults(fn=cmd_worker)
    y = sub.add_parser("synth", help="fill an empty database with synthetic benchmark data")
    y.add_argument("--cases", type=int, default=100_000)
    y.add_argument("--seed", type=int, default=1)
    y.add_argument("--open-share", type=_open_share, default=0.002, metavar="SHARE|legacy",
                   help="about this share of the cases open (default 0.002: a big plant's "
                        "open work); 'legacy': the earlier ~5%% (30,000 for QA at a million)")
    y.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="processes making the cases side by side on PostgreSQL (default: one "
                        "per CPU; SQLite: always one)")
    y.set_defaults(fn=cmd_synth)
    sr = sub.add_parser("search-rebuild", help="make the register search's indexes again")
    sr.set_defaults(fn=cmd_search_rebuild)
    ru = sub.add_parser("rollups", help="the Stats rollups: say their state, or --rebuild them")
    ru.add_argument("--rebuild", action="store_true", help="make them again from every case")
    ru.set_defaults(fn=cmd_rollups)
    b = sub.add_parser("backup", help="one archive of the database and attachments (app may run)")
    b.add_argument("--out", help="folder for the archive (default: data/backups)")
    b.set_defaults(fn=cmd_backup)
    rs = sub.add_parser("restore", help="restore an archive into an EMPTY data folder")
    rs.add_argument("archive")
    rs.add_argument("--data-dir", help="the empty data folder (default: KESU_DATA_DIR or data)")
    rs.set_defaults(fn=cmd_restore)
    args = p.parse_args(argv)
    compile_catalogs()  # locale/*/kesu.po -> kesu.mo where stale; core.i18n reads the .mo
    try:
        args.fn(args)
    except DomainError as err:
        print(error_text(err, "en"), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
