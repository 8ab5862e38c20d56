"""My Tasks (我的待办): what waits for me, most urgent first — the first 200 and a count per
kind (decision 0014) — and one click to act."""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

import streamlit as st

from core.usecases.task_pages import TaskPage
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
def _lists() -> dict[int, tuple[TaskPage, float]]:
    """Each user's last first tasks and when they were last made from scratch (all sessions)."""
    return {}


def _first(user: User) -> TaskPage:
    """My first tasks: those made before while no case has changed since, else read anew."""
    key, now = user.id or 0, time.monotonic()
    held = _lists().get(key)
    if held is None or now - held[1] >= AFRESH_EVERY:
        held = (uc.task_pages.first_tasks(kesu(), user), now)
    else:
        held = (uc.task_pages.first_tasks(kesu(), user, previous=held[0]), held[1])
    _lists()[key] = held
    return held[0]


user = me()
app = kesu()
st.title(tr("tasks.title"))
show_flash()
first = attempt(_first, user) or TaskPage(0, 0, 0, (), (), True)
tasks = list(first.items)
if not tasks:
    st.info(tr("tasks.empty"))
    st.stop()
counts = Counter(dict(first.counts))
# the kinds in the order of their most urgent task (the list is in My Tasks' order: overdue
# first, then by due time), so a late signature is not below eight checks due next month
kinds = [*dict.fromkeys(t.kind for t in tasks), *(k for k, _ in first.counts)]
kinds = list(dict.fromkeys(kinds))


def _n(n: int) -> str:
    """A count as the list knows it: exact when every task is listed, else estimated."""
    return str(n) if first.complete else tr("tasks.about", n=f"{n:,}")


if first.complete and len(tasks) == first.total:
    st.caption(trn("tasks.total", len(tasks)))
elif first.complete:  # every task is known; the list shows the most urgent
    st.caption(tr("tasks.first_of_all", shown=f"{len(tasks):,}", total=f"{first.total:,}"))
else:  # only the most urgent are listed; the rest are counted, not read (decision 0014)
    st.caption(tr("tasks.first_of_more" if first.capped else "tasks.first_of",
                  shown=f"{len(tasks):,}", total=f"{first.total:,}"))
cols = st.columns(min(len(counts), 4))
for i, kind in enumerate(kinds):
    cols[i % len(cols)].metric(tr("task." + kind), _n(counts[kind]))
customers = {c.id: c.name for c in uc.reference.customers(app, True)}
cal = uc.context.calendar(app)
now_utc = datetime.now(timezone.utc)
for kind in kinds:
    listed = [x for x in tasks if x.kind == kind]
    if not listed:  # none of this kind among the most urgent
        continue
    st.subheader(f"{tr('task.' + kind)} ({_n(counts[kind])})")
    shown = int(st.session_state.get(f"tasks_shown_{kind}", SHOWN))
    for t in listed[:shown]:
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
    if len(listed) > shown:
        st.button(tr("tasks.more", n=min(MORE, len(listed) - shown), left=len(listed) - shown),
                  key=f"tasks_more_{kind}", on_click=st.session_state.__setitem__,
                  args=(f"tasks_shown_{kind}", shown + MORE))
