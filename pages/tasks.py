"""My Tasks (我的待办): everything waiting for me, with a count per kind and one click to act."""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

import streamlit as st

from core.usecases.worklists import Task
from core.usecases.worklists import TaskList
from core import procedure
from core.model import User
from ui.context import attempt, kesu, local, md, me, show_flash, tr, trn
from ui.due import left_text, working_left
from core import usecases as uc

PAGES = {"complaint": "pages/complaint.py", "investigate": "pages/investigate.py",
         "approve": "pages/approve.py"}
SHOWN, MORE = 10, 30  # per kind; a QA engineer can have thousands of tasks (issue #6)


AFRESH_EVERY = 60.0  # s: what writes no case event (a delegation, a new title) shows by then


@st.cache_resource(show_spinner=False)
def _lists() -> dict[int, tuple[TaskList, float]]:
    """Each user's last task list and when it was last made from scratch (all sessions)."""
    return {}


def _tasks(user: User) -> list[Task]:
    """My tasks, updated from my last list: a change to a case re-reads that case only."""
    key, now = user.id or 0, time.monotonic()
    held = _lists().get(key)
    if held is None or now - held[1] >= AFRESH_EVERY:
        held = (uc.worklists.task_list(kesu(), user), now)
    else:
        held = (uc.worklists.task_list(kesu(), user, held[0]), held[1])
    _lists()[key] = held
    return list(held[0].items)


user = me()
app = kesu()
st.title(tr("tasks.title"))
show_flash()
tasks = attempt(_tasks, user) or []
if not tasks:
    st.info(tr("tasks.empty"))
    st.stop()
counts = Counter(t.kind for t in tasks)
st.caption(trn("tasks.total", len(tasks)))
cols = st.columns(min(len(counts), 4))
for i, (kind, n) in enumerate(counts.most_common()):
    cols[i % len(cols)].metric(tr("task." + kind), n)
customers = {c.id: c.name for c in uc.reference.customers(app, True)}
cal = uc.context.calendar(app)
now_utc = datetime.now(timezone.utc)
for kind, _ in counts.most_common():
    st.subheader(f"{tr('task.' + kind)} ({counts[kind]})")
    shown = int(st.session_state.get(f"tasks_shown_{kind}", SHOWN))
    for t in [x for x in tasks if x.kind == kind][:shown]:
        with st.container(border=True):
            a, b = st.columns([5, 1])
            sev = t.severity.value if t.severity else "—"
            a.markdown(f"**{t.number}** · {sev} · {md(customers.get(t.customer_id, '?'))} · "
                       f"{tr('state.' + t.state.value)}")
            a.caption(f"{md(t.summary)} · {local(t.since or t.received_at)}")
            if t.on_hold:
                a.caption(tr("due.paused"))
            elif t.due_at is not None:
                left = working_left(t.due_at, cal)
                text = f"{tr('due.due_at', at=local(t.due_at))} · {left_text(left, cal)}"
                # overdue by the due time itself: a clock-time limit can run out on a
                # Sunday, when no working time is left to count
                (a.error if t.due_at < now_utc else a.caption)(text)
            target = PAGES[procedure.task_page(kind)]
            if b.button(tr("tasks.open"), key=f"go_{kind}_{t.complaint_id}", type="primary"):
                st.switch_page(target, query_params={"id": str(t.complaint_id)})
    if counts[kind] > shown:
        st.button(tr("tasks.more", n=min(MORE, counts[kind] - shown), left=counts[kind] - shown),
                  key=f"tasks_more_{kind}", on_click=st.session_state.__setitem__,
                  args=(f"tasks_shown_{kind}", shown + MORE))
