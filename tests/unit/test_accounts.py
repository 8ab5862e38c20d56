"""First admin, passwords, login cookies and user administration (docs/procedure.md §2, §11)."""
from __future__ import annotations

from typing import Any

import pytest

from core.errors import InvalidInput, NotAllowed, NotFound
from core.model import Department, Lang, Role, Title, User
from core.rules.approvals import DEFAULT_TITLES, TitleDef
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from tests.unit.conftest import PASSWORD
from tests.unit.fakes import FakeClock, FakeDatabase
from core import usecases as uc

# ---------------------------------------------------------------- first admin


def test_a_fresh_installation_asks_for_a_first_admin(kesu: Context) -> None:
    assert uc.accounts.needs_first_admin(kesu)


def test_first_admin_is_created_with_only_the_admin_role(kesu: Context) -> None:
    user = uc.accounts.create_first_admin(kesu, "Root", " The Admin ", PASSWORD)
    assert (user.username, user.display_name, user.roles) == ("root", "The Admin",
                                                              frozenset({Role.ADMIN}))
    assert not uc.accounts.needs_first_admin(kesu)
    assert uc.accounts.authenticate(kesu, "root", PASSWORD).id == user.id


def test_a_second_first_admin_is_refused_once_any_user_exists(kesu: Context, admin: User) -> None:
    with pytest.raises(NotAllowed):
        uc.accounts.create_first_admin(kesu, "intruder", "Intruder", PASSWORD)
    assert [u.username for u in uc.accounts.list_users(kesu, admin)] == ["admin"]


def test_first_admin_with_a_short_password_is_not_created(kesu: Context) -> None:
    with pytest.raises(InvalidInput):
        uc.accounts.create_first_admin(kesu, "root", "Root", "short")
    assert uc.accounts.needs_first_admin(kesu)


# ---------------------------------------------------------------- password rules


def test_password_of_seven_characters_is_too_short(kesu: Context, admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(kesu, admin, UserInput("sam", "Sam", frozenset({Role.SALES})),
                                "1234567")
    assert err.value.key == "err.password_short"


def test_password_of_eight_characters_is_accepted(kesu: Context, admin: User) -> None:
    uc.accounts.create_user(kesu, admin, UserInput("sam", "Sam", frozenset({Role.SALES})),
                            "tq7#vm2k")
    assert uc.accounts.authenticate(kesu, "sam", "tq7#vm2k").username == "sam"


def test_eight_digits_in_a_row_are_refused_as_a_common_password(kesu: Context,
                                                                 admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(kesu, admin, UserInput("sam", "Sam", frozenset({Role.SALES})),
                                "12345678")
    assert err.value.key == "err.password_common"


def test_surrounding_spaces_do_not_count_toward_the_minimum(kesu: Context, admin: User) -> None:
    with pytest.raises(InvalidInput):
        uc.accounts.create_user(kesu, admin, UserInput("sam", "Sam", frozenset({Role.SALES})),
                                "  1234567  ")


def test_password_of_72_bytes_is_accepted_but_73_is_refused(kesu: Context, admin: User) -> None:
    uc.accounts.create_user(kesu, admin, UserInput("sam", "Sam", frozenset({Role.SALES})), "x" * 72)
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(kesu, admin, UserInput("tom", "Tom", frozenset({Role.SALES})),
                                "x" * 73)
    assert err.value.key == "err.password_long"


def test_password_limit_counts_utf8_bytes_not_characters(kesu: Context, admin: User) -> None:
    chinese = "密" * 25  # 25 characters, 75 bytes
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(kesu, admin, UserInput("sam", "Sam", frozenset({Role.SALES})),
                                chinese)
    assert err.value.key == "err.password_long"


# ---------------------------------------------------------------- change / reset


def test_change_password_needs_the_old_password(kesu: Context, sales: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.change_password(kesu, sales, "wrong old", "maple-river-42")
    assert err.value.key == "err.old_password_wrong"
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD).id == sales.id


def test_changed_password_replaces_the_old_one(kesu: Context, sales: User) -> None:
    uc.accounts.change_password(kesu, sales, PASSWORD, "maple-river-42")
    assert uc.accounts.authenticate(kesu, "sally", "maple-river-42").id == sales.id
    with pytest.raises(Exception, match="login_failed"):
        uc.accounts.authenticate(kesu, "sally", PASSWORD)


def test_change_password_checks_the_new_one_against_the_rules(kesu: Context, sales: User) -> None:
    with pytest.raises(InvalidInput):
        uc.accounts.change_password(kesu, sales, PASSWORD, "short")
    assert uc.accounts.authenticate(kesu, "sally", PASSWORD).id == sales.id


def test_admin_resets_a_forgotten_password(kesu: Context, admin: User, sales: User) -> None:
    uc.accounts.reset_password(kesu, admin, sales.id, "brand new pw")
    assert uc.accounts.authenticate(kesu, "sally", "brand new pw").id == sales.id


def test_sales_cannot_reset_someone_elses_password(kesu: Context, sales: User, qa: User) -> None:
    with pytest.raises(NotAllowed):
        uc.accounts.reset_password(kesu, sales, qa.id, "taken over!")
    assert uc.accounts.authenticate(kesu, "quinn", PASSWORD).id == qa.id


def test_reset_password_of_unknown_user_is_not_found(kesu: Context, admin: User) -> None:
    with pytest.raises(NotFound):
        uc.accounts.reset_password(kesu, admin, 999, "whatever123")


# ---------------------------------------------------------------- looking a user up


def test_active_user_refuses_a_deactivated_user(kesu: Context, admin: User, sales: User) -> None:
    uc.accounts.update_user(kesu, admin, sales.id,
                            UserInput("sally", "Sally", frozenset({Role.SALES}), active=False))
    assert uc.accounts.active_user(kesu, "sally") is None


def test_active_user_refuses_an_unknown_user(kesu: Context, admin: User) -> None:
    assert uc.accounts.active_user(kesu, "ghost") is None


def test_active_user_has_the_current_roles(kesu: Context, admin: User, sales: User) -> None:
    uc.accounts.update_user(kesu, admin, sales.id,
                            UserInput("sally", "Sally", frozenset({Role.SALES, Role.QA})))
    user = uc.accounts.active_user(kesu, "sally")
    assert user is not None and user.roles == frozenset({Role.SALES, Role.QA})


# ---------------------------------------------------------------- user administration


def test_username_is_stored_lower_case(kesu: Context, make_user: Any) -> None:
    assert make_user("Li.Wei", Role.SALES).username == "li.wei"


@pytest.mark.parametrize("name", ["a", "has space", "中文名", "semi;colon", "x" * 33, ""])
def test_username_with_a_bad_format_is_refused(kesu: Context, admin: User, name: str) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(kesu, admin, UserInput(name, "Someone", frozenset({Role.SALES})),
                                PASSWORD)
    assert err.value.key == "err.username_format"


def test_duplicate_username_is_refused_whatever_its_case(kesu: Context, admin: User,
                                                         sales: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(kesu, admin,
                                UserInput("SALLY", "Other Sally", frozenset({Role.QA})), PASSWORD)
    assert err.value.key == "err.username_taken"
    assert len(uc.accounts.list_users(kesu, admin)) == 2


def test_user_without_a_role_is_refused(kesu: Context, admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(kesu, admin, UserInput("sam", "Sam", frozenset()), PASSWORD)
    assert err.value.params["field"] == "roles"


def test_user_without_a_display_name_is_refused(kesu: Context, admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(kesu, admin, UserInput("sam", "   ", frozenset({Role.SALES})),
                                PASSWORD)
    assert err.value.params["field"] == "display_name"


def test_a_title_that_is_not_defined_is_refused(kesu: Context, admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(
            kesu,
            admin,
            UserInput("sam", "Sam", frozenset({Role.MANAGEMENT}),
                      titles=frozenset({Title.SALES_MANAGER, "vp_sales"})),
            PASSWORD,
        )
    assert err.value.params["field"] == "title"
    assert "sam" not in [u.username for u in uc.accounts.list_users(kesu, admin)]
    # once the admin defines it, it can be held
    uc.authority.set_titles(kesu, admin, [*DEFAULT_TITLES,
                                         TitleDef("vp_sales", "营销副总", "VP sales", 40)])
    sam = uc.accounts.create_user(
        kesu, admin, UserInput("sam", "Sam", frozenset({Role.MANAGEMENT}),
                               titles=frozenset({Title.SALES_MANAGER, "vp_sales"})), PASSWORD)
    assert sam.titles == {Title.SALES_MANAGER, "vp_sales"}


def test_user_in_an_unknown_department_is_refused(kesu: Context, admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.create_user(
            kesu,
            admin,
            UserInput("sam", "Sam", frozenset({Role.PRODUCTION}), department_id=42),
            PASSWORD,
        )
    assert err.value.params["field"] == "department"


def test_user_in_a_known_department_is_created(kesu: Context, admin: User) -> None:
    dept = uc.reference.save_reference(kesu, admin, Department(0, "MFG", "制造部", "Manufacturing"))
    u = uc.accounts.create_user(
        kesu,
        admin,
        UserInput("pete", "Pete", frozenset({Role.PRODUCTION}), department_id=dept),
        PASSWORD,
    )
    assert u.department_id == dept


def test_only_an_admin_creates_users(kesu: Context, manager: User, admin: User) -> None:
    with pytest.raises(NotAllowed):
        uc.accounts.create_user(kesu, manager, UserInput("sam", "Sam", frozenset({Role.SALES})),
                                PASSWORD)
    assert "sam" not in [u.username for u in uc.accounts.list_users(kesu, admin)]


def test_update_user_changes_roles_titles_and_language(kesu: Context, admin: User,
                                                       manager: User) -> None:
    uc.accounts.update_user(
        kesu,
        admin,
        manager.id,
        UserInput("ignored", "Mona Li", frozenset({Role.MANAGEMENT}),
                  titles=frozenset({Title.GENERAL_MANAGER, Title.QA_MANAGER}), language=Lang.EN),
    )
    (stored,) = [u for u in uc.accounts.list_users(kesu, admin) if u.id == manager.id]
    assert (
        stored.username,
        stored.display_name,
        stored.titles,
        stored.language,
    ) == ("mona", "Mona Li", {Title.GENERAL_MANAGER, Title.QA_MANAGER}, Lang.EN)
    uc.accounts.update_user(kesu, admin, manager.id,
                            UserInput("ignored", "Mona Li", frozenset({Role.MANAGEMENT})))
    (stored,) = [u for u in uc.accounts.list_users(kesu, admin) if u.id == manager.id]
    assert stored.titles == frozenset()  # holds none any more


def test_admin_cannot_remove_own_admin_role(kesu: Context, admin: User) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.accounts.update_user(kesu, admin, admin.id,
                                UserInput("admin", "Admin", frozenset({Role.SALES})))
    assert err.value.key == "err.cannot_demote_self"
    assert uc.accounts.active_user(kesu, "admin") == admin


def test_admin_cannot_deactivate_self(kesu: Context, admin: User) -> None:
    with pytest.raises(InvalidInput):
        uc.accounts.update_user(kesu, admin, admin.id,
                                UserInput("admin", "Admin", frozenset({Role.ADMIN}), active=False))
    assert uc.accounts.active_user(kesu, "admin") is not None


def test_deactivated_user_is_kept_not_deleted(kesu: Context, admin: User, sales: User) -> None:
    uc.accounts.update_user(kesu, admin, sales.id,
                            UserInput("sally", "Sally", frozenset({Role.SALES}), active=False))
    (kept,) = [u for u in uc.accounts.list_users(kesu, admin) if u.id == sales.id]
    assert not kept.active


def test_update_of_an_unknown_user_is_not_found(kesu: Context, admin: User) -> None:
    with pytest.raises(NotFound):
        uc.accounts.update_user(kesu, admin, 999, UserInput("x", "X", frozenset({Role.SALES})))


def test_list_active_users_leaves_out_deactivated_users(kesu: Context, admin: User, sales: User,
                                                        qa: User) -> None:
    uc.accounts.update_user(kesu, admin, qa.id,
                            UserInput("quinn", "Quinn", frozenset({Role.QA}), active=False))
    assert [u.username for u in uc.accounts.list_active_users(kesu)] == ["admin", "sally"]


def test_set_language_is_remembered(kesu: Context, sales: User) -> None:
    uc.accounts.set_language(kesu, sales, Lang.EN)
    user = uc.accounts.active_user(kesu, "sally")
    assert user is not None and user.language == Lang.EN


def test_a_failed_user_creation_writes_nothing(kesu: Context, admin: User,
                                               db: FakeDatabase) -> None:
    before = db.commits
    with pytest.raises(InvalidInput):
        uc.accounts.create_user(kesu, admin, UserInput("sam", "Sam", frozenset({Role.SALES})),
                                "short")
    assert db.commits == before
    assert db.data.users.keys() == {admin.id}


def test_password_change_time_is_the_clock_time(kesu: Context, sales: User, clock: FakeClock,
                                                db: FakeDatabase) -> None:
    clock.advance(hours=1)
    uc.accounts.change_password(kesu, sales, PASSWORD, "maple-river-42")
    assert db.data.password_changed[sales.id] == clock()
