"""The scheduled jobs: escalate overdue steps (docs/procedure.md §7) and deliver the outbox
(docs/procedure.md §8).

One loop per process: a daemon thread inside each Streamlit server process
(`start_background`, started once whatever the number of sessions), or
`python manage.py worker` in the foreground for deployments that prefer a separate process.
However many run, a lease row in the database lets only one of them do the jobs at a time;
and each job is safe on its own too (an escalation level is recorded once, an outbox message
is claimed by one sender), so even two holders could not notify twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.ports import Sender
from core.usecases.context import Context
from adapters.delivery import ChannelSender, Delivered, deliver_due
from core import usecases as uc

log = logging.getLogger("kesu.jobs")
LEASE = "jobs"


@dataclass
class Tick:
    """What one round of the loop did."""

    holder: bool  # this process held the lease and ran the jobs
    escalated: int = 0
    delivered: Delivered | None = None
    reminded: int = 0  # scheduled effectiveness checks due today, QA told


class Scheduler:
    def __init__(self, app: Context, *, sender: Sender | None = None, interval: float = 15.0,
                 lease_for: float = 60.0, escalate_every: float = 60.0, batch: int = 50) -> None:
        self.app = app
        self.sender = sender or app.sender or ChannelSender()
        self.interval, self.batch = interval, batch
        self.lease_for = timedelta(seconds=lease_for)
        self.escalate_every = timedelta(seconds=escalate_every)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]
        self.last_escalation: datetime | None = None
        self.stop_event = threading.Event()

    # ------------------------------------------------------------ the lease

    def acquire(self) -> bool:
        """Take or renew the lease; False while another process holds it."""
        now = self.app.clock()
        with self.app.uow(write=True) as uow:
            mine = uow.leases.acquire(LEASE, self.holder, now, now + self.lease_for)
            uow.commit()
        return mine

    def release(self) -> None:
        with self.app.uow(write=True) as uow:
            uow.leases.release(LEASE, self.holder, self.app.clock())
            uow.commit()

    # ------------------------------------------------------------ the jobs

    def tick(self) -> Tick:
        """One round: if this process holds the lease, escalate (at most every
        `escalate_every`) and deliver what is due."""
        if not self.acquire():
            return Tick(holder=False)
        now = self.app.clock()
        escalated = reminded = 0
        if self.last_escalation is None or now - self.last_escalation >= self.escalate_every:
            escalated = uc.channels.escalate_overdue(self.app)
            reminded = uc.channels.remind_scheduled_checks(self.app)
            uc.channels.send_digests(self.app)  # the daily digests, once a day each
            self.last_escalation = now
        delivered = deliver_due(self.app.uow, self.app.clock(), self.sender, self.batch,
                                keep_going=self.acquire)
        return Tick(True, escalated, delivered, reminded)

    def run(self, once: bool = False) -> None:
        """Tick every `interval` seconds until stop() (or once). An error is logged and the
        loop goes on: the database may be restarting, and the next round retries."""
        while not self.stop_event.is_set():
            try:
                t = self.tick()
                if t.holder and (
                    t.escalated
                    or t.reminded
                    or (
                        t.delivered
                        and (t.delivered.sent or t.delivered.retrying or t.delivered.failed)
                    )
                ):
                    log.info("jobs: %d escalated, %d checks reminded, %s", t.escalated,
                             t.reminded, t.delivered)
            except Exception:  # noqa: BLE001 - the loop must survive a bad round
                log.exception("scheduled jobs failed; trying again in %.0f s", self.interval)
            if once:
                break
            self.stop_event.wait(self.interval)

    def stop(self) -> None:
        self.stop_event.set()


# ---------------------------------------------------------------- in the app's process

_lock = threading.Lock()
_running: tuple[Scheduler, threading.Thread] | None = None


def background_enabled() -> bool:
    """KESU_BACKGROUND=off leaves the jobs to `python manage.py worker`."""
    return os.environ.get("KESU_BACKGROUND", "on").strip().lower() not in (
        "0",
        "off",
        "false",
        "no",
    )


def start_background(app: Context, interval: float | None = None) -> Scheduler | None:
    """Start the one background thread of this process (or point it at a new app object,
    as after Streamlit's cache was cleared); None when switched off."""
    global _running
    if not background_enabled():
        return None
    with _lock:
        if _running is not None and _running[1].is_alive():
            scheduler = _running[0]
            scheduler.app = app
            if app.sender is not None:
                scheduler.sender = app.sender
            return scheduler
        scheduler = Scheduler(
            app, interval=interval or float(os.environ.get("KESU_JOBS_INTERVAL", "15"))
        )
        thread = threading.Thread(target=scheduler.run, name="kesu-jobs", daemon=True)
        thread.start()
        _running = (scheduler, thread)
        log.info("background jobs started (%s)", scheduler.holder)
        return scheduler


def stop_background(timeout: float = 10.0) -> None:
    """Stop the background thread (tests; a clean shutdown) and free the lease."""
    global _running
    with _lock:
        if _running is None:
            return
        scheduler, thread = _running
        scheduler.stop()
        thread.join(timeout)
        _running = None
    try:
        scheduler.release()
    except Exception:  # noqa: BLE001 - the database may be gone; the lease then expires
        log.debug("lease not released", exc_info=True)
