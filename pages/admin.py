"""Admin (系统管理): users, departments, customers, products, defect types, settings, calendar,
notifications, backup."""
from __future__ import annotations

import streamlit as st

from core.model import Role
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

user = me()
if not user.has(Role.ADMIN):  # the services refuse too; this only spares a useless page
    st.error(tr("err.role_required", roles="admin"))
    st.stop()
app = kesu()
st.title(tr("admin.title"))
show_flash()
tabs = st.tabs([tr("admin.users"), tr("admin.departments"), tr("admin.customers"),
                tr("admin.products"), tr("admin.defects"), tr("admin.settings"),
                tr("admin.approval"),
                tr("admin.calendar"), tr("admin.notifications"), tr("admin.backup"),
                tr("admin.security"), tr("admin.custom_fields")],
               key="admin_tab", on_change="rerun")  # a save (and its rerun) keeps the tab
with tabs[0]:
    af.users(user)
    af.sessions(user)
with tabs[1]:
    af.departments(user)
with tabs[2]:
    af.customers(user)
with tabs[3]:
    af.products(user)
with tabs[4]:
    af.defect_types(user)
with tabs[5]:
    af.settings(user)
    chains.settings(user)
    dl.delegations(user, admin=True)
with tabs[6]:
    aap.page(user)
with tabs[7]:
    ac.calendar(user)
    ac.limits(user)
with tabs[8]:
    ach.channels(user)
    ach.escalation_levels(user)
    ach.outbox(user)
with tabs[9]:
    ab.backup(user)
with tabs[10]:
    asec.security_log(user)
with tabs[-1]:  # the fields of the factory's own (issue #12)
    acf.editor(user)
