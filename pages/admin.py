"""Admin (系统管理): users, departments, customers, products, defect types, settings, calendar,
notifications, backup."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st

from core.model import Role, User
from ui import admin_approval as aap
from ui import admin_backup as ab
from ui import admin_calendar as ac
from ui import admin_channels as ach
from ui import admin_custom_fields as acf
from ui import admin_forms as af
from ui import admin_security as asec
from ui import chains
from ui import delegations as dl
from ui.context import kesu, me, show_flash, tr
from ui.tabs import lazy_tabs

user = me()
if not user.has(Role.ADMIN):  # the services refuse too; this only spares a useless page
    st.error(tr("err.role_required", roles="admin"))
    st.stop()
app = kesu()
st.title(tr("admin.title"))
show_flash()
# what each tab shows, in its order
PARTS: dict[str, tuple[Callable[[User], None], ...]] = {
    "users": (af.users, af.sessions),
    "departments": (af.departments,),
    "customers": (af.customers,),
    "products": (af.products,),
    "defects": (af.defect_types,),
    "settings": (af.settings, chains.settings, partial(dl.delegations, admin=True)),
    "approval": (aap.page,),
    "calendar": (ac.calendar, ac.limits),
    "notifications": (ach.channels, ach.escalation_levels, ach.outbox),
    "backup": (ab.backup,),
    "security": (asec.security_log,),
    "custom_fields": (acf.editor,),  # the fields of the factory's own (issue #12)
}
# only the open tab runs and is drawn (issue #14: all twelve sent 94 KB on every run); it stays
# open after a save (issue #13) and a language switch
tabs = lazy_tabs("admin_tab", [(name, tr(f"admin.{name}")) for name in PARTS])
for name, parts in PARTS.items():
    if tabs[name].open:
        with tabs[name]:
            for part in parts:
                part(user)
