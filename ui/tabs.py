"""Tabs of which only the open one runs and is drawn (issue #14), and which stay open; and
expanders whose contents are drawn only once opened (`folded`).

`st.tabs(labels, key=..., on_change="rerun")` reruns the page when a tab is clicked and tells
each tab whether it is the open one (`.open`), so a page draws the open tab only (Stats does it
with its own `st.tabs`). Streamlit knows the tabs by their labels: when one changes — the other
language after a switch, a count in a label after a save (the Complaint page's timeline) — the
tabs are new to it and open on the first. `lazy_tabs` remembers the labels and the open tab's
name, and opens that tab again under its new label.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st


def lazy_tabs(key: str, tabs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """st.tabs of `tabs` — (name, label) pairs — that tracks the open tab: name → its
    container, whose `.open` says whether to draw it. The first tab is open at first."""
    names = [n for n, _ in tabs]
    labels = [label for _, label in tabs]
    memo = f"{key}__seen"  # the labels of the last run and the name of the tab open then
    seen: tuple[tuple[str, ...], str] | None = st.session_state.get(memo)
    if seen is not None and seen[0] != tuple(labels):
        before, name = seen
        clicked = st.session_state.get(key)  # a click on the tabs as they were
        if clicked in before and len(before) == len(names):
            name = names[before.index(clicked)]
        if name in names:
            st.session_state[key] = labels[names.index(name)]
    found = st.tabs(labels, key=key, on_change="rerun")
    for name, tab in zip(names, found, strict=True):
        if tab.open:
            st.session_state[memo] = (tuple(labels), name)
    return dict(zip(names, found, strict=True))


def folded(label: str, key: str) -> Any:
    """st.expander whose contents the caller draws only while it is open (`.open`; a click on
    it reruns the page). A form in a folded expander is sent with every run all the same: the
    Complaint page's action and extension forms cost its switch in the browser (issue #14)."""
    return st.expander(label, key=key, on_change="rerun")
