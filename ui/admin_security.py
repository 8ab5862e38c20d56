"""Admin → Security log (安全日志): the append-only log of sign-ins, session ends and changes
to accounts and configuration (core/usecases/security.py), filtered by date and kind, in
words, names and local times — never ids or codes — and downloadable as CSV."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from core.i18n import known
from core.model import Department, SecurityEntry, User
from core.rules.approvals import Titles
from core.usecases import security as sec
from ui.context import attempt, kesu, lang, settings_tz, tr
from core import usecases as uc

LIMIT = 5000
_REASONS = ("logout", "logout_all", "admin", "idle", "expired", "deactivated", "ended")


# settings that are a choice among codes: the prefix of their words in the catalogs
_SETTING_WORDS = {"stats_default_period": "stats.preset.",
                  "dispatch_approval": "dispatch_approval.",
                  "record_visibility": "record_visibility."}


def _word(prefix: str, code: str) -> str:
    key = prefix + code
    return tr(key) if known(key, lang()) else code


def _roles(codes: str) -> str:
    return ("、" if lang() == "zh" else ", ").join(
        _word("role.", c) for c in codes.split(",") if c)


class Names:
    """Ids and user names → the names people know."""

    def __init__(self, users: list[User], departments: list[Department],
                 titles: Titles | None = None) -> None:
        self.titles = titles  # the titles' names (Admin → Approval authority)
        self.by_id = {u.id: u for u in users}
        self.by_name = {u.username: u for u in users}
        self.depts = {str(d.id): (d.name_zh if lang() == "zh" else d.name_en)
                      for d in departments}

    def user(self, user_id: int | None) -> str:
        u = self.by_id.get(user_id) if user_id is not None else None
        return f"{u.display_name} ({u.username})" if u else ""

    def username(self, name: str) -> str:
        u = self.by_name.get(name)
        return f"{u.display_name} ({u.username})" if u else name

    def value(self, what: str, code: str) -> str:
        if what == "roles":
            return _roles(code)
        if what == "title":  # the codes of the titles held, comma-separated ("none": old rows)
            held = [c for c in code.split(",") if c and c != "none"]
            return ("、" if lang() == "zh" else ", ").join(
                self.titles.name(c, lang()) if self.titles else _word("title.", c)
                for c in held) or tr("common.none")
        if what == "department":
            return self.depts.get(code, "") or tr("common.none")
        return code


def describe(e: SecurityEntry, names: Names) -> str:
    """The particulars of one entry in words."""
    d = e.detail
    parts: list[str] = []
    if e.kind == "login_failed" and "why" in d:
        parts.append(_word("seclog.why.", d["why"]))
    if e.kind == "session_ended" and "reason" in d:
        parts.append(_word("seclog.reason.", d["reason"]))
    if e.kind == "user_created" and "roles" in d:
        parts.append(tr("seclog.roles", roles=_roles(d["roles"])))
    if e.kind == "user_changed":
        what = d.get("what", "")
        label = _word("field.", {"level": "approval_level"}.get(what, what))
        parts.append(tr("seclog.change", what=label, old=names.value(what, d.get("old", "")),
                        new=names.value(what, d.get("new", ""))))
    if e.kind == "settings_changed":
        # a choice in words (上周, not last_week); numbers and names as they are
        words = _SETTING_WORDS.get(d.get("field", ""))
        old, new = d.get("old", ""), d.get("new", "")
        if words:
            old, new = (_word(words, v) if v else v for v in (old, new))
        parts.append(tr("seclog.change", what=_word("field.", d.get("field", "")),
                        old=old, new=new))
    if e.kind == "password_reset":
        parts.append(tr("seclog.must_change"))
    if d.get("forced") == "yes":
        parts.append(tr("seclog.forced"))
    if e.kind == "calendar_changed":
        parts.append(tr("seclog.calendar_year", year=d["year"], days=d.get("days", ""))
                     if "year" in d else
                     tr("seclog.calendar_company", off=d.get("off", ""), work=d.get("work", "")))
    if e.kind in ("delegation_set", "delegation_revoked"):
        deputy = names.user(e.subject_id)
        parts.append(tr("seclog.delegation", manager=names.username(d.get("manager", "")),
                        deputy=deputy, start=d.get("start", ""), end=d.get("end", "")))
    if e.kind == "backup_made":
        parts.append(tr("seclog.backup", file=d.get("file", "")))
    if d.get("sessions") not in (None, "", "0"):
        parts.append(tr("seclog.sessions_ended", n=d["sessions"]))
    return "；".join(parts) if lang() == "zh" else "; ".join(parts)


def rows(entries: list[SecurityEntry], names: Names) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        subject = ("" if e.kind in ("delegation_set", "delegation_revoked")
                   else names.user(e.subject_id))
        out.append({
            tr("seclog.col.at"): e.at.astimezone(settings_tz()).strftime("%Y-%m-%d %H:%M:%S"),
            tr("seclog.col.kind"): _word("seclog.kind.", e.kind),
            tr("seclog.col.by"): names.user(e.actor_id),
            tr("seclog.col.name"): e.username,
            tr("seclog.col.subject"): subject,
            tr("seclog.col.client"): e.client,
            tr("seclog.col.detail"): describe(e, names),
        })
    return out


def to_csv(table: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark: Excel opens the Chinese text correctly."""
    buf = io.StringIO()
    if table:
        writer = csv.DictWriter(buf, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def security_log(me: User) -> None:
    app = kesu()
    st.caption(tr("seclog.help"))
    today = uc.stats.stats_today(app)
    a, b, c = st.columns([1, 1, 3])
    start = a.date_input(tr("seclog.from"), today - timedelta(days=7), key="seclog_from")
    end = b.date_input(tr("seclog.to"), today, key="seclog_to")
    kinds = c.multiselect(tr("seclog.kinds"), list(sec.KINDS), key="seclog_kinds",
                          format_func=lambda k: _word("seclog.kind.", k))
    entries = attempt(sec.security_log, app, me, start, end, kinds, LIMIT)
    if entries is None:
        return
    if not entries:
        st.info(tr("seclog.none"))
        return
    names = Names(attempt(uc.accounts.list_users, app, me) or [],
                  uc.reference.departments(app, include_inactive=True), uc.authority.titles(app))
    table = rows(entries, names)
    st.caption(tr("seclog.count", n=len(entries), limit=LIMIT))
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    st.download_button(tr("seclog.download"), to_csv(table), key="seclog_csv",
                       file_name=f"kesu-security-log-{start}-{end}.csv", mime="text/csv",
                       on_click="ignore")
