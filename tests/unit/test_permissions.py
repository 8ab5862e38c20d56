"""Permissions are enforced in the services, whatever page or URL a call came from
(docs/procedure.md §2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.errors import NotAllowed
from core.model import Customer, Lang, Product, RegisterFilter, Role, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.complaints import Upload
from core.usecases.accounts import UserInput
from tests.unit.conftest import PASSWORD, with_
from tests.unit.fakes import FakeDatabase
from core import usecases as uc

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8

Call = Callable[[Context, User, dict[str, Any]], object]

ADMIN_ONLY: dict[str, Call] = {
    "create_user": lambda k, u, w: uc.accounts.create_user(
        k, u, UserInput("newbie", "Newbie", frozenset({Role.SALES})), PASSWORD
    ),
    "update_user": lambda k, u, w: uc.accounts.update_user(
        k, u, w["other"].id, UserInput("x", "Renamed", frozenset({Role.ADMIN}))
    ),
    "reset_password": lambda k, u, w: uc.accounts.reset_password(k, u, w["other"].id, "hijacked!"),
    "unlock_user": lambda k, u, w: uc.login_delays.unlock_user(k, u, w["other"].username),
    "set_settings": lambda k, u, w: uc.reference.set_settings(k, u, {"attachment_max_mb": 1}),
    "add_product": lambda k, u, w: uc.reference.save_reference(k, u, Product(0, "P-9", "Nine")),
    "edit_customer": lambda k, u, w: uc.reference.save_reference(
        k, u, Customer(w["customer_id"], "Renamed")
    ),
}


@pytest.fixture
def world(kesu: Context, admin: User, sales: User, draft: ComplaintDraft) -> dict[str, Any]:
    c = uc.complaints.register_complaint(kesu, sales, draft, [Upload("a.png", PNG)])
    att = uc.complaints.complaint(kesu, sales, c.id or 0).attachments[0]
    return {
        "complaint": c,
        "attachment_id": att.id,
        "draft": draft,
        "other": admin,
        "customer_id": draft.customer_id,
    }


@pytest.mark.parametrize("action", sorted(ADMIN_ONLY))
@pytest.mark.parametrize("role", [Role.SALES, Role.QA, Role.MANAGEMENT, Role.FINANCE])
def test_admin_only_actions_are_refused_for_case_workers(kesu: Context, make_user: Any,
                                                         world: dict[str, Any], db: FakeDatabase,
                                                         action: str, role: Role) -> None:
    actor = make_user("worker", role)
    before = db.commits
    with pytest.raises(NotAllowed):
        ADMIN_ONLY[action](kesu, actor, world)
    assert db.commits == before


EVERY_SERVICE: dict[str, Call] = {
    **ADMIN_ONLY,
    "list_users": lambda k, u, w: uc.accounts.list_users(k, u),
    "change_password": lambda k, u, w: uc.accounts.change_password(k, u, PASSWORD, "new password"),
    "set_language": lambda k, u, w: uc.accounts.set_language(k, u, Lang.EN),
    "add_customer": lambda k, u, w: uc.reference.save_reference(k, u, Customer(0, "New customer")),
    "register_complaint": lambda k, u, w: uc.complaints.register_complaint(
        k, u, with_(w["draft"], order_no="other")
    ),
    "update_complaint": lambda k, u, w: uc.complaints.update_complaint(
        k, u, w["complaint"].id, 1, with_(w["draft"], description="edited")
    ),
    "cancel_complaint": lambda k, u, w: uc.complaints.cancel_complaint(k, u, w["complaint"].id, 1,
                                                                       "wrong"),
    "add_attachments": lambda k, u, w: uc.complaints.add_attachments(k, u, w["complaint"].id,
                                                                     [Upload("b.png", PNG)]),
    "complaint": lambda k, u, w: uc.complaints.complaint(k, u, w["complaint"].id),
    "complaint_id_by_number": lambda k, u, w: uc.search.complaint_id_by_number(
        k, u, w["complaint"].number
    ),
    "attachment": lambda k, u, w: uc.complaints.attachment(k, u, w["attachment_id"]),
    "register": lambda k, u, w: uc.search.register(k, u, RegisterFilter()),
    "register_all": lambda k, u, w: uc.search.register_all(k, u, RegisterFilter()),
    "find_duplicates": lambda k, u, w: uc.complaints.find_duplicates(k, u, w["draft"]),
}


@pytest.mark.parametrize("action", sorted(EVERY_SERVICE))
@pytest.mark.parametrize("roles",
                         [frozenset({Role.SALES, Role.MANAGEMENT}), frozenset({Role.ADMIN})])
def test_a_deactivated_user_is_refused_everywhere(kesu: Context, admin: User, make_user: Any,
                                                  world: dict[str, Any], db: FakeDatabase,
                                                  action: str, roles: frozenset[Role]) -> None:
    actor = make_user("leaver", *roles)
    uc.accounts.update_user(kesu, admin, actor.id,
                            UserInput("leaver", "Leaver", roles, active=False))
    before = db.commits
    with pytest.raises(NotAllowed) as err:
        EVERY_SERVICE[action](kesu, actor, world)  # the stale User object still says active
    assert err.value.key == "err.inactive_user"
    assert db.commits == before


def test_an_unknown_actor_is_refused(kesu: Context, world: dict[str, Any]) -> None:
    ghost = User(999, "ghost", "Ghost", frozenset({Role.ADMIN}))
    with pytest.raises(NotAllowed):
        uc.accounts.list_users(kesu, ghost)


def test_roles_are_read_from_the_database_not_from_the_callers_user_object(
    kesu: Context, sales: User, world: dict[str, Any]
) -> None:
    forged = User(sales.id, sales.username, sales.display_name, frozenset({Role.ADMIN}))
    with pytest.raises(NotAllowed):
        uc.reference.set_settings(kesu, forged, {"attachment_max_mb": 1})


def test_a_user_with_only_the_admin_role_cannot_register_a_complaint(kesu: Context, admin: User,
                                                                     draft: ComplaintDraft,
                                                                     db: FakeDatabase) -> None:
    with pytest.raises(NotAllowed) as err:
        uc.complaints.register_complaint(kesu, admin, draft)
    assert err.value.key == "err.role_required"
    assert db.data.complaints == {}


@pytest.mark.parametrize("role",
                         [Role.SALES, Role.QA, Role.PRODUCTION, Role.FINANCE, Role.MANAGEMENT])
def test_anyone_doing_case_work_may_register_a_complaint(kesu: Context, make_user: Any,
                                                         draft: ComplaintDraft, role: Role) -> None:
    """首问负责: whoever takes the call logs it (docs/procedure.md §2)."""
    actor = make_user("taker", role)
    assert uc.complaints.register_complaint(kesu, actor, draft).received_by_id == actor.id


def test_an_admin_who_also_does_sales_may_register(kesu: Context, make_user: Any,
                                                   draft: ComplaintDraft) -> None:
    both = make_user("boss", Role.ADMIN, Role.SALES)
    assert uc.complaints.register_complaint(kesu, both, draft).number == "KS2611-001"
