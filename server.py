"""The kesu server: `streamlit run server.py`.

Streamlit serves the pages of app.py through its ASGI entry (st.App); kesu's own HTTP sits in
front of it (adapters/web.py): the sign-in and sign-out routes that set and clear the HttpOnly
session cookie, and the guard every request and WebSocket passes (docs/decisions/
0010-server-sessions.md)."""
from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware

from streamlit.runtime.pages_manager import PagesManager

from adapters.logs import hide_session_ids
from adapters.web import Guard, routes
from ui.context import kesu

# app.py's st.navigation decides the pages. Left unset, Streamlit guesses from the `pages/`
# folder and runs a deep link's page file without app.py (its old multipage mode) until
# st.navigation has run once in this process: a first visit to /stats would skip the login.
PagesManager.uses_pages_directory = False
hide_session_ids()

app = st.App("app.py", routes=routes(kesu), middleware=[Middleware(Guard, ctx=kesu)])
