"""Admin → Backup: make a backup now, download the archives; restore is a documented command,
never a browser action on the live app (docs/procedure.md §10)."""
from __future__ import annotations

from functools import partial

import streamlit as st

from core.backup_rules import Backups
from core.model import User
from ui.context import attempt, kesu, local, tr, trn

RESTORE_COMMAND = ("python manage.py restore data/backups/kesu-backup-YYYYMMDD-HHMMSS.tar.gz "
                   "--data-dir /srv/kesu/data-restored")


def service() -> Backups:
    """The backup service on the app's database and data folder (composition, like kesu())."""
    from db.backup import FolderArchiver
    from db.engine import data_dir, database_url

    return Backups(kesu().uow, FolderArchiver(database_url(), data_dir()))


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def backup(me: User) -> None:
    backups = service()
    st.caption(tr("backup.help"))
    if st.button(tr("backup.make"), type="primary", key="backup_make"):
        with st.status(tr("backup.running"), expanded=False) as status:
            report = attempt(backups.make_backup, me)
            if report is None:
                status.update(label=tr("backup.failed"), state="error", expanded=True)
            else:
                status.update(label=tr("backup.done", name=report.file.name,
                                       size=_size(report.file.size),
                                       complaints=report.complaints, events=report.events,
                                       attachments=report.attachments), state="complete")
        if report is not None and report.missing_blobs:
            st.warning(trn("backup.missing", len(report.missing_blobs),
                           count=len(report.missing_blobs),
                           names=", ".join(s[:12] for s in report.missing_blobs)))
    st.subheader(tr("backup.list"))
    files = attempt(backups.list_backups, me)
    if files is not None and not files:
        st.info(tr("backup.none"))
    for f in files or []:
        a, b = st.columns([4, 1], vertical_alignment="center")
        a.text(tr("backup.file", name=f.name, size=_size(f.size), at=local(f.created_at)))
        b.download_button(tr("backup.download"), key=f"backup_dl_{f.name}",
                          data=partial(backups.backup_bytes, me, f.name),
                          file_name=f.name, mime="application/gzip", on_click="ignore")
    st.subheader(tr("backup.restore_title"))
    st.warning(tr("backup.restore_unsafe"))
    st.code(RESTORE_COMMAND, language="bash")
    st.caption(tr("backup.restore_steps"))
