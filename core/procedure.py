"""The procedure declared once (docs/procedure.md §5, §8, §9): for every action, beside its
transition in core/workflow.py (from where to where, who, what it requires), what the rest of
kesu does with it — the task it puts in someone's My Tasks and the page that task opens, where
its form lives, the one text it asks for, the sign-off it gives the handling form and the 8D
report, and the inbox notices it sends.

My Tasks (core/usecases/worklists.py), the notices (core/notify.py), the documents
(core/documents.py), the Complaint page's action panel (ui/actions.py) and My Tasks' links
(pages/tasks.py) read this table instead of each keeping its own list. A new step of the
procedure is a transition, a declaration here, its use case and its form.
"""
from __future__ import annotations

from dataclasses import dataclass

from core import workflow
from core.model import Kind, Role, State

# Who a notice goes to (core/notify.py gives each a meaning): QA; production of the case's
# responsible department; whoever may sign the next pending approval step (deputies too);
# the proposer of the dispositions; management and the QA manager; who asked for an extension.
AUDIENCES = ("qa", "department", "next_signers", "proposer", "deciders", "requester")
# When a notice is sent: always, or only while an approval step is pending / none is left.
WHEN = ("always", "steps_pending", "no_step_pending")
# Where an action's form is: the Complaint page's action panel, or the workspace it points to.
PAGES = ("complaint", "investigate", "approve")


@dataclass(frozen=True)
class Notice:
    kind: str                      # the inbox line: notify.<kind>
    to: tuple[str, ...]            # AUDIENCES
    when: str = "always"           # WHEN


@dataclass(frozen=True)
class Action:
    """What one action (or one event of the procedure that is not a transition) means beyond
    its transition."""

    name: str
    task: bool = False             # waits in My Tasks for whoever may take it now
    task_of: str = ""              # the transition a task of this kind leads to ("": its own)
    task_roles: frozenset[Role] | None = None  # whose task (None: the transition's roles but
    #                                 management, who acts where authority is needed)
    task_when: str = "yours"       # TASK_WHEN: what else makes the case wait for me
    task_page: str = "complaint"   # the page a task of this action opens
    form_on: str = "complaint"     # PAGES: where its form is (the panel points elsewhere)
    text: str = ""                 # the one text its form asks for (a field.<text> label)
    sign_off: bool = False         # a row of the handling form's / 8D report's sign-offs
    notices: tuple[Notice, ...] = ()


# "yours": the case is one I am the one to act on (my department's, for production);
# "allowed": everything the action needs is there now (so it is a decision to take);
# "compensation_unpaid": a compensation agreed is not yet paid;
# "chain_step_mine": the next step of an execution chain is mine (core/usecases/chains.py)
TASK_WHEN = ("yours", "allowed", "compensation_unpaid", "chain_step_mine")
INVESTIGATE, APPROVE = "investigate", "approve"
QA, DEPT = ("qa",), ("department",)

# In the order My Tasks tries them: a case waiting for me shows under the first that fits.
ACTIONS: tuple[Action, ...] = (
    Action("registered", sign_off=True),
    Action("dispatch", task=True, sign_off=True, notices=(Notice("dispatched", QA),)),
    Action("approve_dispatch", task=True, sign_off=True, task_roles=frozenset({Role.MANAGEMENT}),
           task_when="allowed"),
    Action("route_short", task=True),
    Action("return_to_sales", text="missing_info", sign_off=True),
    Action("acknowledge", task=True, task_page=INVESTIGATE, sign_off=True),
    Action("classify_valid", task=True, task_page=INVESTIGATE, form_on=INVESTIGATE, sign_off=True,
           notices=(Notice("assigned", DEPT),)),
    Action("classify_invalid", form_on=INVESTIGATE, sign_off=True),
    Action("submit_analysis", task=True, task_page=INVESTIGATE, form_on=INVESTIGATE, sign_off=True),
    Action("send_back", form_on=INVESTIGATE, sign_off=True, notices=(Notice("sent_back", DEPT),)),
    Action("approve_capa", task=True, task_page=INVESTIGATE, form_on=INVESTIGATE, sign_off=True),
    Action("propose", task=True, sign_off=True,
           notices=(Notice("approval_needed", ("next_signers",), "steps_pending"),)),
    Action("approve_step", task_page=APPROVE, form_on=APPROVE, sign_off=True,
           notices=(Notice("approval_needed", ("next_signers",), "steps_pending"),
                    Notice("approved", ("proposer",), "no_step_pending"))),
    Action("reject_step", form_on=APPROVE, sign_off=True,
           notices=(Notice("rejected", ("proposer",)),)),
    Action("reply", task=True, sign_off=True),
    # the next step of a rework / replacement / return chain, for its owner (issue #12)
    Action("chain_step", task=True, task_of="complete",
           task_roles=frozenset({Role.PRODUCTION, Role.QA, Role.SALES}),
           task_when="chain_step_mine"),
    Action("complete", task=True, sign_off=True, task_roles=frozenset({Role.PRODUCTION})),
    # finance's part of completing: paying the compensation agreed
    Action("record_payment", task=True, task_of="complete", task_roles=frozenset({Role.FINANCE}),
           task_when="compensation_unpaid"),
    Action("verify", task=True, task_page=INVESTIGATE, form_on=INVESTIGATE, sign_off=True),
    Action("follow_up", task=True, sign_off=True),
    Action("cancel", text="cancel_reason", sign_off=True),
    Action("merge", sign_off=True),
    Action("reopen", text="reason", sign_off=True, notices=(Notice("reopened", DEPT + QA),)),
    Action("hold", text="hold_reason"),
    Action("resume"),
    # a kind of task that is not an action of its own: an open CAPA action I own
    Action("capa_owner", task_page=INVESTIGATE),
    # QA: hold the case's first meeting (seed 4.2.1; setting first_meeting_days, issue #12)
    Action("first_meeting"),
    # production of an assisting department: what it is asked (issue #12)
    Action("assist", task_page=INVESTIGATE),
    # events of the procedure that are not transitions of their own
    Action("verify_not_effective", notices=(Notice("reopened", DEPT + QA),)),
    Action("not_satisfied", notices=(Notice("reopened", DEPT + QA),)),
    Action("extension_requested", notices=(Notice("extension_asked", ("deciders",)),)),
    Action("extension_granted", notices=(Notice("extension_decided", ("requester",)),)),
    Action("extension_refused", notices=(Notice("extension_decided", ("requester",)),)),
)

BY_NAME: dict[str, Action] = {a.name: a for a in ACTIONS}
# the actions My Tasks lists, in the order it tries them
TASK_ACTIONS: tuple[str, ...] = tuple(a.name for a in ACTIONS if a.task)
# the events that are sign-offs of the procedure (the handling form's 签核 table, the 8D)
SIGN_OFFS: tuple[str, ...] = tuple(a.name for a in ACTIONS if a.sign_off)


# The usual course of a complaint, state by state: the action that takes it on when nothing
# goes wrong (returns, send-backs, rejections and holds are detours from it). The generators of
# demo, synthetic and load data (bench/) follow it.
MAIN_LINE: dict[State, str] = {
    State.REGISTERED: "dispatch",
    State.DISPATCHED: "acknowledge",
    State.INVESTIGATING: "classify_valid",
    State.ROOT_CAUSE: "submit_analysis",
    State.CAPA_REVIEW: "approve_capa",
    State.DISPOSITION: "propose",
    State.PENDING_APPROVAL: "approve_step",
    State.REPLYING: "reply",
    State.IMPLEMENTING: "complete",
    State.VERIFYING: "verify",
    State.FOLLOW_UP: "follow_up",
}


def task_transition(action: str) -> workflow.Transition:
    """The transition a task of this kind leads to."""
    return workflow.BY_ACTION[BY_NAME[action].task_of or action]


def task_roles(action: str) -> frozenset[Role]:
    """Whose task an action is: those declared, else the transition's roles but management."""
    declared = BY_NAME[action].task_roles
    return declared if declared is not None else task_transition(action).roles - {Role.MANAGEMENT}


def notices(action: str) -> tuple[Notice, ...]:
    """The inbox notices an action (or event) sends; none for one not declared."""
    found = BY_NAME.get(action)
    return found.notices if found else ()


def on_page(page: str) -> frozenset[str]:
    """The transitions whose form is on that page (the Complaint page's panel points there)."""
    return frozenset(a.name for a in ACTIONS if a.form_on == page and a.name in workflow.BY_ACTION)


def task_page(action: str) -> str:
    """The page a My Tasks entry of this kind opens (approve_step: the Approve page, which
    My Tasks lists apart from TASK_ACTIONS)."""
    found = BY_NAME.get(action)
    return found.task_page if found else "complaint"


# ---------------------------------------------------------------- who a timed step waits for


@dataclass(frozen=True)
class Holders:
    """Who an open timed step waits for — its holders hear about it when it is overdue
    (core/escalation.py). `together`: everyone the audiences name; otherwise the first
    audience that names anybody (a fallback)."""

    audiences: tuple[str, ...]   # HOLDER_AUDIENCES
    together: bool = False


# The salesperson who took the complaint (else every salesperson); QA; production of the
# responsible department; whoever holds the title of the next pending approval step.
HOLDER_AUDIENCES = ("sales", "qa", "department", "step_title")
SALES, QA_ONLY = Holders(("sales",)), Holders(("qa",))
# ---------------------------------------------------------------- when a timed step runs

COMPLAINTS = frozenset({Kind.COMPLAINT})
ANALYSING = frozenset({State.DISPATCHED, State.INVESTIGATING})
BEFORE_REPLY = frozenset({State.DISPATCHED, State.INVESTIGATING, State.ROOT_CAUSE,
                          State.CAPA_REVIEW, State.DISPOSITION, State.PENDING_APPROVAL,
                          State.REPLYING})
STARTS = ("entered", "goods_received")  # or "first:<action>" / "last:<action>"
NEEDS = ("dispatched", "sample_received", "a_uncontained")


@dataclass(frozen=True)
class TimedStep:
    """A timed step of docs/procedure.md §7 (its limits: core/sla.py DEFAULT_LIMITS): for
    which kinds of case and in which states it runs, from when, on what condition, and who
    it waits for (None: whoever the case waits for in its state, WAITING_IN).

    `since`: "first:<action>" / "last:<action>" — that event of the case, else when the case
    was entered; "entered"; "goods_received" — when the returned goods were first recorded.
    `needs`: "dispatched" (a dispatch happened), "sample_received" (goods came back),
    "a_uncontained" (severity A and no containment recorded yet)."""

    step: str
    kinds: frozenset[Kind]
    states: frozenset[State] | None  # None: as long as the case is open
    since: str
    holders: Holders | None
    needs: tuple[str, ...] = ()


# In the order the steps are listed for a case.
STEPS: tuple[TimedStep, ...] = (
    TimedStep("answer_inquiry", frozenset({Kind.INQUIRY}), None, "entered", SALES),
    TimedStep("answer_suggestion", frozenset({Kind.SUGGESTION}), None, "entered", SALES),
    # a form QA sent back is sales' again from that moment
    TimedStep("dispatch", COMPLAINTS, frozenset({State.REGISTERED}), "last:return_to_sales",
              SALES),
    # QA signs for the handling form (签收); a form sent back and dispatched again starts anew
    TimedStep("acknowledge", COMPLAINTS, frozenset({State.DISPATCHED}), "last:dispatch", QA_ONLY),
    TimedStep("investigation", COMPLAINTS, frozenset({State.INVESTIGATING}), "last:acknowledge",
              QA_ONLY),
    # 对顾客退货产品的试验/分析必须在一周内完成: QA tests the goods that came back
    TimedStep("returned_goods", COMPLAINTS, ANALYSING, "goods_received", QA_ONLY,
              ("sample_received",)),
    # it moves through several hands: whoever the case waits for now
    TimedStep("reply", COMPLAINTS, BEFORE_REPLY, "first:dispatch", None, ("dispatched",)),
    TimedStep("containment", COMPLAINTS, BEFORE_REPLY, "first:dispatch",
              Holders(("qa", "department"), together=True), ("dispatched", "a_uncontained")),
)
TIMED_STEPS: dict[str, Holders | None] = {s.step: s.holders for s in STEPS}
# whoever the case waits for now, by its state (QA for any state not named)
WAITING_IN: dict[State, Holders] = {
    State.ROOT_CAUSE: Holders(("department", "qa")),
    State.DISPOSITION: SALES,
    State.REPLYING: SALES,
    State.PENDING_APPROVAL: Holders(("step_title", "qa")),
}


def step_holders(step: str, state: State) -> Holders:
    """Who an open timed step waits for while the case is in `state`."""
    declared = TIMED_STEPS.get(step, QA_ONLY)
    return declared if declared is not None else WAITING_IN.get(state, QA_ONLY)
