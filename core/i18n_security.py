"""Translations (zh, en) for security and performance tooling; merged into core.i18n.T."""
from __future__ import annotations

T: dict[str, tuple[str, str]] = {
    # My Tasks shows the first few of each kind (issue #6: thousands of tasks)
    "tasks.more": ("再显示 {n} 项（还有 {left} 项）", "Show {n} more ({left} not shown)"),
    "appr.more": ("再显示 {n} 项待核决", "Show {n} more approvals"),
    "case.timeline_all": ("显示全部 {n} 条记录", "Show all {n} entries"),
}
