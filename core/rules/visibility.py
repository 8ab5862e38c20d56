"""Record-level visibility (issue #11 item 8; setting `record_visibility`, off by default).

With "department": sales see the cases of the customers their department looks after
(Admin → Customers), production the cases their department is responsible for or assists
in (an assisting department, issue #12); everyone
sees the cases they logged themselves; QA, management, finance and administrators see all.
The register, search, Stats drill-down, exports, documents, My Tasks and every case read or
action obey it (core/usecases/context.py `check_visible`).
"""
from __future__ import annotations

from collections.abc import Collection

from core.model import Complaint, Role, Scope, User

MODES = ("all", "department")
SEE_ALL = (Role.ADMIN, Role.QA, Role.MANAGEMENT, Role.FINANCE)


def scope_of(user: User, mode: str) -> Scope | None:
    """What `user` may see under `mode`; None: every case."""
    if mode != "department" or user.has(*SEE_ALL):
        return None
    departments = frozenset({user.department_id}) if user.department_id is not None else frozenset()
    return Scope(user.id or 0, departments, user.has(Role.SALES), user.has(Role.PRODUCTION))


def sees(scope: Scope | None, c: Complaint, customer_department: int | None,
         assisting: Collection[int] = ()) -> bool:
    """`assisting`: the departments assisting in the case now."""
    if scope is None or c.received_by_id == scope.user_id:
        return True
    if scope.by_customer and customer_department in scope.departments:
        return True
    return scope.by_responsible and (c.responsible_department_id in scope.departments
                                     or not scope.departments.isdisjoint(assisting))
