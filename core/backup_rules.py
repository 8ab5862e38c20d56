"""Who may make and download backups, and the backup service the Admin page calls
(docs/procedure.md §10).

The archive itself is written by db/backup.py behind the `Archiver` port; this module only
decides who may ask for it. An archive holds every case, attachment and password hash, so
the rule is enforced here, not by hiding the tab.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from core.errors import NotAllowed
from core.model import User
from core.ports import UowFactory
from core.usecases import security


@dataclass(frozen=True)
class BackupFile:
    """One archive in the backup folder."""

    name: str
    size: int
    created_at: datetime  # UTC


@dataclass(frozen=True)
class BackupReport:
    """What a finished backup holds: the archive and the manifest's counts."""

    file: BackupFile
    revision: str
    complaints: int
    events: int
    attachments: int
    missing_blobs: tuple[str, ...] = field(default=())


class Archiver(Protocol):
    """Writes, lists and reads the backup archives (db/backup.py)."""

    def create(self) -> BackupReport: ...
    def archives(self) -> list[BackupFile]: ...
    def read(self, name: str) -> bytes: ...


def may_back_up(actor: User) -> None:
    """Only an administrator makes or downloads a backup: it holds the whole database — §10."""
    if not actor.is_admin:
        raise NotAllowed("err.role_required", roles="admin")


@dataclass
class Backups:
    """Backup use cases for the Admin page; every call re-reads the actor first."""

    uow: UowFactory
    archiver: Archiver

    def _allowed(self, actor: User) -> None:
        with self.uow() as uow:
            fresh = uow.users.get(actor.id)
        if fresh is None or not fresh.active:
            raise NotAllowed("err.inactive_user")
        may_back_up(fresh)

    def make_backup(self, actor: User) -> BackupReport:
        self._allowed(actor)
        report = self.archiver.create()
        security.record_with(self.uow, datetime.now(timezone.utc), "backup_made", actor,
                             file=report.file.name)
        return report

    def list_backups(self, actor: User) -> list[BackupFile]:
        self._allowed(actor)
        return self.archiver.archives()

    def backup_bytes(self, actor: User, name: str) -> bytes:
        self._allowed(actor)
        return self.archiver.read(name)
