"""The procedure declared once (core/procedure.py): complete, consistent, and the one source the
task list, notices, documents and the action panel read."""
from __future__ import annotations

from core import documents, procedure, workflow
from core.i18n import T
from core.procedure import ACTIONS, AUDIENCES, BY_NAME, PAGES, WHEN


def test_every_transition_of_the_workflow_is_declared_once() -> None:
    names = [a.name for a in ACTIONS]
    assert len(names) == len(set(names))
    assert set(workflow.BY_ACTION) <= set(names)


def test_every_declaration_names_known_pages_audiences_and_conditions() -> None:
    for a in ACTIONS:
        assert a.form_on in PAGES and a.task_page in PAGES, a.name
        for n in a.notices:
            assert n.when in WHEN and n.to and set(n.to) <= set(AUDIENCES), a.name


def test_every_task_is_a_transition_and_has_a_label() -> None:
    assert procedure.TASK_ACTIONS
    for name in procedure.TASK_ACTIONS:
        assert procedure.task_transition(name).action in workflow.BY_ACTION
        assert procedure.BY_NAME[name].task_when in procedure.TASK_WHEN
        assert procedure.task_roles(name)
    for a in ACTIONS:
        if a.task or a.task_page != "complaint" or a.name == "capa_owner":
            assert all(T[f"task.{a.name}"]), a.name


def test_every_text_an_action_asks_for_is_a_translated_field() -> None:
    asked = [a for a in ACTIONS if a.text]
    assert {a.name for a in asked} >= {"cancel", "reopen", "hold", "return_to_sales"}
    for a in asked:
        assert all(T["field." + a.text]), a.name


def test_every_notice_kind_is_translated_in_both_languages() -> None:
    kinds = {n.kind for a in ACTIONS for n in a.notices}
    assert {"dispatched", "assigned", "approval_needed", "reopened"} <= kinds
    for kind in kinds:
        assert all(T["notify." + kind]), kind


def test_the_documents_sign_offs_are_the_declared_ones() -> None:
    assert documents.SIGN_OFFS is procedure.SIGN_OFFS
    assert "registered" in procedure.SIGN_OFFS and "hold" not in procedure.SIGN_OFFS


def test_the_workspace_pages_split_the_panel_as_before() -> None:
    assert procedure.on_page("approve") == {"approve_step", "reject_step"}
    assert procedure.on_page("investigate") == {"classify_valid", "classify_invalid",
                                                "submit_analysis", "send_back", "approve_capa",
                                                "verify"}
    assert BY_NAME["acknowledge"].task_page == "investigate"
    assert procedure.task_page("approve_step") == "approve"
    assert procedure.task_page("no such kind") == "complaint"


def test_every_timed_step_is_declared_with_known_audiences() -> None:
    from core import sla
    from core.procedure import HOLDER_AUDIENCES, TIMED_STEPS, WAITING_IN

    assert set(TIMED_STEPS) == set(sla.DEFAULT_LIMITS)
    declared = [h for h in TIMED_STEPS.values() if h is not None] + list(WAITING_IN.values())
    for h in declared:
        assert h.audiences and set(h.audiences) <= set(HOLDER_AUDIENCES)


def test_the_reply_step_waits_for_whoever_the_case_waits_for() -> None:
    from core.model import State

    assert procedure.step_holders("reply", State.DISPOSITION).audiences == ("sales",)
    assert procedure.step_holders("reply", State.ROOT_CAUSE).audiences == ("department", "qa")
    assert procedure.step_holders("reply", State.CAPA_REVIEW).audiences == ("qa",)
    assert procedure.step_holders("containment", State.ROOT_CAUSE).together
    assert procedure.step_holders("no such step", State.ROOT_CAUSE).audiences == ("qa",)


def test_every_timed_step_starts_from_a_real_event_and_needs_known_conditions() -> None:
    from core.model import State

    events = {t.action for t in workflow.TRANSITIONS} | {"register"}
    for s in procedure.STEPS:
        which, _, action = s.since.partition(":")
        assert s.since in procedure.STARTS or (which in ("first", "last") and action in events)
        assert set(s.needs) <= set(procedure.NEEDS)
        assert s.states is None or all(st.is_open for st in s.states)
        assert s.kinds
    assert len({s.step for s in procedure.STEPS}) == len(procedure.STEPS)
    assert State.CLOSED not in procedure.BEFORE_REPLY


def test_management_is_given_only_the_decisions_that_need_its_authority() -> None:
    from core.model import Role

    given = {name: procedure.task_roles(name) for name in procedure.TASK_ACTIONS}
    assert [n for n, roles in given.items() if Role.MANAGEMENT in roles] == ["approve_dispatch"]
    assert given["dispatch"] == {Role.SALES}
    assert given["complete"] == {Role.PRODUCTION}  # finance records the payment instead
    assert given["record_payment"] == {Role.FINANCE}
    assert procedure.task_transition("record_payment").action == "complete"


def test_the_main_line_takes_a_complaint_through_every_open_state_by_real_transitions() -> None:
    from core.model import Kind, State

    assert set(procedure.MAIN_LINE) == {s for s in State if s.is_open}
    for state, action in procedure.MAIN_LINE.items():
        t = workflow.BY_ACTION[action]
        assert state in t.sources and Kind.COMPLAINT in t.kinds, action
        # where a transition names its target, the line goes on to the next state
        states = list(procedure.MAIN_LINE)
        if t.target is not None and t.target.is_open:
            assert states.index(t.target) == states.index(state) + 1, action


def test_the_load_worker_moves_a_case_on_from_every_state_of_the_main_line() -> None:
    import inspect

    from bench import _load_worker

    source = inspect.getsource(_load_worker.Actor.next_move)  # the run: test_load_short.py
    for action in procedure.MAIN_LINE.values():
        assert f'main == "{action}"' in source, action
