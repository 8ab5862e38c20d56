"""kesu's use cases, by topic: plain functions of a Context, the acting user and plain values.

A page calls one per user action — `uc.investigation.dispatch(ctx, user, case_id, version)` —
inside ui's error boundary. docs/architecture.md §3 says what each one does and in what order.
"""
from collections.abc import Callable

from core.model import Complaint, User
from core.usecases import (
    accounts,
    approval,
    approve_queue,
    assisting,
    authority,
    chains,
    channels,
    closure,
    common,
    complaints,
    context,
    custom_fields,
    delegation,
    documents,
    importing,
    investigation,
    login_delays,
    meetings,
    notices,
    pipeline,
    presets,
    reference,
    search,
    security,
    sessions,
    stats,
    task_pages,
    timing,
    worklists,
)
from core.usecases.context import Context

# The transitions a page takes with one text (a comment, or the reason they require), by the
# workflow's action name: the Complaint page's action panel calls them through this table.
WithText = Callable[[Context, User, int, int, str], Complaint]
ACTIONS: dict[str, WithText] = {
    "approve_dispatch": investigation.approve_dispatch, "dispatch": investigation.dispatch,
    "route_short": investigation.route_short, "return_to_sales": investigation.return_to_sales,
    "acknowledge": investigation.acknowledge, "submit_analysis": investigation.submit_analysis,
    "send_back": investigation.send_back, "approve_capa": investigation.approve_capa,
    "approve_step": approval.approve_step, "reject_step": approval.reject_step,
    "complete": closure.complete, "cancel": closure.cancel, "reopen": closure.reopen,
    "hold": closure.hold, "resume": closure.resume,
}

__all__ = [
    "ACTIONS",
    "accounts",
    "approval",
    "approve_queue",
    "assisting",
    "authority",
    "chains",
    "channels",
    "closure",
    "common",
    "complaints",
    "context",
    "custom_fields",
    "delegation",
    "documents",
    "importing",
    "investigation",
    "login_delays",
    "meetings",
    "notices",
    "pipeline",
    "presets",
    "reference",
    "search",
    "security",
    "sessions",
    "stats",
    "task_pages",
    "timing",
    "worklists",
]
