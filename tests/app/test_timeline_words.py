"""The Complaint page's timeline reads as words (issue #13): names instead of ids, labels
instead of codes, 是/否, money as money, local times — in Chinese and in English — for every
kind of change the demo's cases went through."""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from core import model
from core.i18n import t
from core.model import Event
from core.usecases.context import Context
from tests.app.helpers import login_as, new_app, no_exception, open_case_tab

UTC_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
CODE = re.compile(r"[a-z]+(_[a-z]+)*")
# every code an enum keeps (severity letters are the labels people use: A/B/C/D)
CODES = {m.value for e in vars(model).values()
         if isinstance(e, type) and issubclass(e, model.StrEnum) and e is not model.StrEnum
         for m in e if not m.value.isupper()}
ID_FIELDS = ("customer_id", "defect_type_id", "responsible_department_id", "proposer_id",
             "dispatch_approved_by_id", "no_investigation_by_id", "assisting_departments",
             "meeting_department", "assisting_department")


def _events(app: Context) -> dict[int, list[Event]]:
    out: dict[int, list[Event]] = {}
    with app.uow() as uow:
        for cid in range(1, 200):
            found = uow.events.for_complaint(cid)
            if found:
                out[cid] = found
    return out


def _cover(events: dict[int, list[Event]]) -> list[int]:
    """A few cases whose timelines hold every change key (and action) the demo wrote."""
    keys = {cid: {k for e in ev for k in e.changes} | {"@" + e.action for e in ev}
            for cid, ev in events.items()}
    wanted = set().union(*keys.values())
    chosen: list[int] = []
    while wanted:
        best = max(keys, key=lambda c: len(keys[c] & wanted))
        chosen.append(best)
        wanted -= keys[best]
    return chosen


def _lines(at: AppTest, lang: str) -> list[str]:
    tab = open_case_tab(at, "case.timeline", lang)
    return [x.value for x in tab.text]


def _value_parts(line: str, lang: str) -> tuple[str, str, str] | None:
    pattern = re.escape(t("case.changed_from_to", lang, field="FIELDX", old="OLDX", new="NEWX"))
    pattern = pattern.replace("FIELDX", "(.+?)").replace("OLDX", "(.*)").replace("NEWX", "(.*)")
    found = re.fullmatch(pattern, line, re.S)
    return (found.group(1), found.group(2), found.group(3)) if found else None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_change_of_the_demo_reads_as_words(demo_db: Context, lang: str) -> None:
    events = _events(demo_db)
    cases = _cover(events)
    id_labels = {t("field." + f, lang) for f in ID_FIELDS}
    seen_changes = 0
    for cid in cases:
        at = login_as(new_app(), "qamanager")
        if lang == "en":
            at.query_params["lang"] = "en"
        at.run()
        at.query_params["id"] = str(cid)
        at.switch_page("pages/complaint.py").run()
        no_exception(at)
        for line in _lines(at, lang):
            assert not UTC_ISO.search(line), line  # never a UTC ISO string
            parts = _value_parts(line, lang)
            if parts is None:  # a comment: the user's own words
                continue
            seen_changes += 1
            label, old, new = parts
            assert not label.startswith("field."), line  # every key has a label
            for v in (old, new):
                assert v not in ("True", "False", "None"), line
                assert not (CODE.fullmatch(v) and v in CODES), line  # a label, not a code
                if label in id_labels:
                    assert not re.fullmatch(r"[\d, ]+", v), line  # a name, not an id
                    assert v != "?", line  # a name that is known
                assert "field." not in v and not re.search(r"\b[a-z_]+\.[a-z_]+\b", v), line
            if label == t("field.total", lang):
                assert t("common.money", lang, amount="").strip() in new, line
    assert seen_changes > 50  # the walk saw the timelines


def test_the_walk_covers_the_kinds_of_values(demo_db: Context) -> None:
    """The demo's timelines hold ids, enums, booleans, money and UTC times: the walk above
    would see each of them shown raw."""
    keys = {k for ev in _events(demo_db).values() for e in ev for k in e.changes}
    assert {"customer_id", "defect_type_id", "channel", "state", "received_at",
            "claimed_amount", "sample_received"} <= keys
