"""kesu command line: migrate, demo, create-user, reset-password, worker.

    python manage.py migrate
    python manage.py demo [--cases 150]
    python manage.py create-user NAME --roles sales,qa [--name "王丽"] [--level 1] [--title ...]
    python manage.py reset-password NAME
    python manage.py worker [--once] [--interval 15]   # escalations and the outbox
The database is the one the app uses: DATABASE_URL, else data/kesu.db (KESU_DATA_DIR).
"""
from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime

from tqdm import tqdm

from core.errors import DomainError
from core.i18n import error_text
from core.model import Role, Title
from core.services import UserInput


def _app():  # type: ignore[no-untyped-def]
    from db.wiring import build_app
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
    from core import demo
    app = _app()
    real_clock = app.clock
    at: list[datetime] = []
    app.clock = lambda: at[-1] if at else real_clock()
    with tqdm(total=args.cases, desc="demo complaints", unit="case") as bar:
        counts = demo.load(app, at.append, cases=args.cases, progress=lambda n: bar.update(1))
    states = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())
                       if k not in ("complaints", "cancelled", "users"))
    print(f"loaded {counts['complaints']} complaints ({counts['cancelled']} cancelled; {states}), "
          f"{counts['users']} users; every demo password is '{demo.PASSWORD}'")


def _admin_actor(app):  # type: ignore[no-untyped-def]
    """Commands act as the system: the first active admin."""
    from core.model import User
    users = [u for u in app.list_active_users() if u.is_admin]
    if not users:
        raise SystemExit("no active admin user: start the app once and create one")
    actor: User = users[0]
    return actor


def cmd_create_user(args: argparse.Namespace) -> None:
    app = _app()
    roles = frozenset(Role(r.strip()) for r in args.roles.split(",") if r.strip())
    data = UserInput(args.username, args.name or args.username, roles, None, args.level,
                     Title(args.title))
    pw = _password("password: ")
    if app.needs_first_admin():
        if Role.ADMIN not in roles:
            raise SystemExit("the first user must have the admin role")
        user = app.create_first_admin(args.username, args.name or args.username, pw)
        if roles != user.roles:
            user = app.update_user(user, user.id, data)
    else:
        user = app.create_user(_admin_actor(app), data, pw)
    print(f"created {user.username} ({', '.join(sorted(user.roles))})")


def cmd_reset_password(args: argparse.Namespace) -> None:
    app = _app()
    actor = _admin_actor(app)
    target = app.session_user(args.username) or next(
        (u for u in app.list_users(actor) if u.username == args.username.lower()), None)
    if target is None:
        raise SystemExit(f"no user {args.username}")
    app.reset_password(actor, target.id, _password("new password: "))
    app.unlock_user(actor, target.username)
    print(f"password of {target.username} reset (and any lock lifted)")


def cmd_worker(args: argparse.Namespace) -> None:
    """The scheduled jobs in the foreground (set KESU_BACKGROUND=off for the app servers, or
    keep both: a database lease lets one process at a time do the work)."""
    import logging
    import signal

    from db.scheduler import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheduler = Scheduler(_app(), interval=args.interval)
    if args.once:
        tick = scheduler.tick()
        if not tick.holder:
            print("another process holds the jobs' lease: nothing done")
        else:
            d = tick.delivered
            print(f"escalated {tick.escalated}; sent {d.sent if d else 0}, "
                  f"retrying {d.retrying if d else 0}, failed {d.failed if d else 0}")
        return
    signal.signal(signal.SIGTERM, lambda *_: scheduler.stop())
    print(f"worker {scheduler.holder}: every {args.interval:g} s; Ctrl-C stops")
    try:
        scheduler.run()
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.release()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="manage.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate").set_defaults(fn=cmd_migrate)
    d = sub.add_parser("demo")
    d.add_argument("--cases", type=int, default=150)
    d.set_defaults(fn=cmd_demo)
    c = sub.add_parser("create-user")
    c.add_argument("username")
    c.add_argument("--roles", required=True,
                   help="comma list of " + ",".join(r.value for r in Role))
    c.add_argument("--name", default="")
    c.add_argument("--level", type=int, default=0)
    c.add_argument("--title", default="none", choices=[t.value for t in Title])
    c.set_defaults(fn=cmd_create_user)
    r = sub.add_parser("reset-password")
    r.add_argument("username")
    r.set_defaults(fn=cmd_reset_password)
    w = sub.add_parser("worker", help="run the escalations and the outbox delivery")
    w.add_argument("--once", action="store_true", help="one round, then exit")
    w.add_argument("--interval", type=float, default=15.0, help="seconds between rounds")
    w.set_defaults(fn=cmd_worker)
    args = p.parse_args(argv)
    try:
        args.fn(args)
    except DomainError as err:
        print(error_text(err, "en"), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
