"""Editing the logged facts, optimistic concurrency and cancelling (docs/procedure.md §3, §5,
§11)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.errors import InvalidInput, NotAllowed, NotFound, StaleCase
from core.model import Complaint, Role, State, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.unit.conftest import NOW, with_
from tests.unit.fakes import FakeClock, FakeDatabase
from core import usecases as uc


@pytest.fixture
def case(kesu: Context, sales: User, draft: ComplaintDraft) -> Complaint:
    return uc.complaints.register_complaint(kesu, sales, with_(draft, received_at=NOW))


def set_state(db: FakeDatabase, c: Complaint, state: State) -> None:
    """Put a case in a later state directly (the workflow services do not exist yet)."""
    assert c.id is not None
    db.data.complaints[c.id] = dataclasses.replace(db.data.complaints[c.id], state=state)


def events(kesu: Context, actor: User, c: Complaint) -> list[Any]:
    return uc.complaints.complaint(kesu, actor, c.id or 0).events


# ---------------------------------------------------------------- update


def test_update_writes_one_event_listing_old_and_new_values(kesu: Context, qa: User,
                                                            case: Complaint, draft: ComplaintDraft,
                                                            clock: FakeClock) -> None:
    clock.advance(hours=2)
    uc.complaints.update_complaint(
        kesu,
        qa,
        case.id or 0,
        1,
        with_(draft, received_at=NOW, defective_qty=20, claimed_amount="450"),
        comment="  customer recounted  ",
    )
    last = events(kesu, qa, case)[-1]
    assert last.action == "edited"
    assert last.changes == {"defective_qty": [12, 20], "claimed_amount": ["300.00", "450.00"]}
    assert (last.user_id, last.at, last.comment) == (qa.id, clock(), "customer recounted")
    assert len(events(kesu, qa, case)) == 2


def test_update_bumps_the_version_and_stores_the_new_values(kesu: Context, qa: User,
                                                            case: Complaint, draft: ComplaintDraft,
                                                            clock: FakeClock) -> None:
    clock.advance(minutes=5)
    new = uc.complaints.update_complaint(kesu, qa, case.id or 0, 1,
                                         with_(draft, received_at=NOW, lot="L2"))
    stored = uc.complaints.complaint(kesu, qa, case.id or 0).complaint
    assert (new.version, stored.version, stored.lot) == (2, 2, "L2")
    assert (stored.updated_by_id, stored.updated_at) == (qa.id, clock())
    assert stored.number == case.number and stored.received_by_id == case.received_by_id


def test_update_keeps_the_number_even_when_the_receipt_month_changes(kesu: Context, qa: User,
                                                                     case: Complaint,
                                                                     draft: ComplaintDraft) -> None:
    earlier = NOW - timedelta(days=40)
    new = uc.complaints.update_complaint(kesu, qa, case.id or 0, 1,
                                         with_(draft, received_at=earlier))
    assert new.number == "KS2611-001" and new.received_at == earlier


def test_update_with_nothing_changed_is_refused(kesu: Context, qa: User, case: Complaint,
                                                draft: ComplaintDraft) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.update_complaint(kesu, qa, case.id or 0, 1, with_(draft, received_at=NOW))
    assert err.value.key == "err.nothing_changed"
    assert len(events(kesu, qa, case)) == 1


def test_update_validates_like_registration(kesu: Context, qa: User, case: Complaint,
                                            draft: ComplaintDraft) -> None:
    with pytest.raises(InvalidInput):
        uc.complaints.update_complaint(kesu, qa, case.id or 0, 1,
                                       with_(draft, received_at=NOW, claimed_amount="-5"))
    assert uc.complaints.complaint(kesu, qa, case.id or 0).complaint.claimed_amount == Decimal(
        "300.00"
    )


def test_update_with_a_stale_version_raises_stale_case_and_changes_nothing(
    kesu: Context, qa: User, sales: User, case: Complaint, draft: ComplaintDraft
) -> None:
    uc.complaints.update_complaint(kesu, sales, case.id or 0, 1,
                                   with_(draft, received_at=NOW, lot="L2"))
    with pytest.raises(StaleCase) as err:
        uc.complaints.update_complaint(kesu, qa, case.id or 0, 1,
                                       with_(draft, received_at=NOW, lot="L3"))
    assert err.value.params["who"] == "Sally"
    stored = uc.complaints.complaint(kesu, qa, case.id or 0).complaint
    assert (stored.lot, stored.version) == ("L2", 2)
    assert [e.action for e in events(kesu, qa, case)] == ["registered", "edited"]


def test_stale_edit_that_happens_to_match_the_new_values_is_still_stale(
    kesu: Context, qa: User, sales: User, case: Complaint, draft: ComplaintDraft
) -> None:
    uc.complaints.update_complaint(kesu, sales, case.id or 0, 1,
                                   with_(draft, received_at=NOW, lot="L2"))
    with pytest.raises(StaleCase):
        uc.complaints.update_complaint(kesu, qa, case.id or 0, 1,
                                       with_(draft, received_at=NOW, lot="L2"))


def test_two_editors_from_the_same_version_one_wins(kesu: Context, qa: User, sales: User,
                                                    case: Complaint, draft: ComplaintDraft) -> None:
    seen = uc.complaints.complaint(kesu, sales, case.id or 0).complaint.version
    uc.complaints.update_complaint(kesu, qa, case.id or 0, seen,
                                   with_(draft, received_at=NOW, lot="QA"))
    with pytest.raises(StaleCase):
        uc.complaints.update_complaint(kesu, sales, case.id or 0, seen,
                                       with_(draft, received_at=NOW, order_no="SALES"))
    stored = uc.complaints.complaint(kesu, sales, case.id or 0).complaint
    assert (stored.lot, stored.order_no) == ("QA", "SO-1")


def test_whoever_logged_a_case_may_edit_it_but_others_without_an_edit_role_may_not(
    kesu: Context, make_user: Any, draft: ComplaintDraft
) -> None:
    clerk = make_user("clerk", Role.FINANCE)
    other = make_user("other", Role.FINANCE)
    c = uc.complaints.register_complaint(kesu, clerk, with_(draft, received_at=NOW))
    uc.complaints.update_complaint(kesu, clerk, c.id or 0, 1,
                                   with_(draft, received_at=NOW, lot="L9"))
    with pytest.raises(NotAllowed):
        uc.complaints.update_complaint(kesu, other, c.id or 0, 2,
                                       with_(draft, received_at=NOW, lot="L0"))
    assert uc.complaints.complaint(kesu, other, c.id or 0).can_edit is False


def test_update_of_an_unknown_case_is_not_found(kesu: Context, qa: User,
                                                draft: ComplaintDraft) -> None:
    with pytest.raises(NotFound):
        uc.complaints.update_complaint(kesu, qa, 999, 1, draft)


# ---------------------------------------------------------------- cancel


@pytest.mark.parametrize("state", [State.REGISTERED, State.DISPATCHED])
def test_sales_may_cancel_before_investigation_starts(kesu: Context, sales: User, case: Complaint,
                                                      db: FakeDatabase, state: State) -> None:
    set_state(db, case, state)
    c = uc.complaints.cancel_complaint(kesu, sales, case.id or 0, 1, " logged twice ")
    assert (c.state, c.cancel_reason, c.version) == (State.CANCELLED, "logged twice", 2)
    last = events(kesu, sales, case)[-1]
    assert (last.action, last.comment, last.changes) == (
        "cancel",
        "logged twice",
        {"state": [state.value, "cancelled"], "cancel_reason": ["", "logged twice"]},
    )


@pytest.mark.parametrize(
    "state", [State.INVESTIGATING, State.ROOT_CAUSE, State.DISPOSITION, State.FOLLOW_UP]
)
def test_sales_may_not_cancel_once_investigation_started(kesu: Context, sales: User,
                                                         case: Complaint, db: FakeDatabase,
                                                         state: State) -> None:
    set_state(db, case, state)
    assert uc.complaints.complaint(kesu, sales, case.id or 0).can_cancel is False
    with pytest.raises(NotAllowed) as err:
        uc.complaints.cancel_complaint(kesu, sales, case.id or 0, 1, "changed my mind")
    assert err.value.params["state"] == state.value
    assert uc.complaints.complaint(kesu, sales, case.id or 0).complaint.state == state


@pytest.mark.parametrize(
    "state", [State.REGISTERED, State.INVESTIGATING, State.PENDING_APPROVAL, State.VERIFYING]
)
def test_management_may_cancel_any_open_case(kesu: Context, manager: User, case: Complaint,
                                             db: FakeDatabase, state: State) -> None:
    set_state(db, case, state)
    assert uc.complaints.complaint(kesu, manager, case.id or 0).can_cancel
    assert (
        uc.complaints.cancel_complaint(kesu, manager, case.id or 0, 1, "duplicate").state
        == State.CANCELLED
    )


@pytest.mark.parametrize("state", [State.CLOSED, State.CANCELLED])
def test_nobody_cancels_a_closed_or_cancelled_case(kesu: Context, manager: User, case: Complaint,
                                                   db: FakeDatabase, state: State) -> None:
    set_state(db, case, state)
    with pytest.raises(NotAllowed):
        uc.complaints.cancel_complaint(kesu, manager, case.id or 0, 1, "again")


def test_qa_may_not_cancel(kesu: Context, qa: User, case: Complaint) -> None:
    with pytest.raises(NotAllowed):
        uc.complaints.cancel_complaint(kesu, qa, case.id or 0, 1, "not ours")


def test_cancel_needs_a_reason(kesu: Context, sales: User, case: Complaint) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.cancel_complaint(kesu, sales, case.id or 0, 1, "   ")
    assert err.value.params["field"] == "cancel_reason"
    assert uc.complaints.complaint(kesu, sales, case.id or 0).complaint.state == State.REGISTERED


def test_cancel_with_a_stale_version_raises_stale_case(kesu: Context, sales: User, qa: User,
                                                       case: Complaint,
                                                       draft: ComplaintDraft) -> None:
    uc.complaints.update_complaint(kesu, qa, case.id or 0, 1,
                                   with_(draft, received_at=NOW, lot="L2"))
    with pytest.raises(StaleCase):
        uc.complaints.cancel_complaint(kesu, sales, case.id or 0, 1, "wrong entry")
    assert uc.complaints.complaint(kesu, sales, case.id or 0).complaint.state == State.REGISTERED


def test_cancelled_case_stays_readable_with_its_history_but_is_no_longer_editable(
    kesu: Context, sales: User, qa: User, case: Complaint, draft: ComplaintDraft
) -> None:
    uc.complaints.cancel_complaint(kesu, sales, case.id or 0, 1, "wrong customer")
    view = uc.complaints.complaint(kesu, qa, case.id or 0)
    assert view.complaint.state == State.CANCELLED
    assert view.complaint.cancel_reason == "wrong customer"
    assert [e.action for e in view.events] == ["registered", "cancel"]
    assert (view.can_edit, view.can_cancel) == (False, False)
    with pytest.raises(NotAllowed):
        uc.complaints.update_complaint(kesu, qa, case.id or 0, 2,
                                       with_(draft, received_at=NOW, lot="L2"))
    assert uc.search.complaint_id_by_number(kesu, qa, case.number) == case.id


def test_complaint_view_names_customer_defect_and_receiver(kesu: Context, qa: User,
                                                           case: Complaint) -> None:
    view = uc.complaints.complaint(kesu, qa, case.id or 0)
    assert view.customer is not None and view.customer.name == "Acme Electronics"
    assert view.defect_type is not None and view.defect_type.code == "SCR"
    assert view.received_by == "Sally"
    assert (view.can_edit, view.can_cancel) == (True, False)


def test_unknown_case_is_not_found(kesu: Context, qa: User) -> None:
    with pytest.raises(NotFound):
        uc.complaints.complaint(kesu, qa, 999)
