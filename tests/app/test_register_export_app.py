"""The Log page's exported register (issue #13): the column chooser, the file it makes, the
progress and the download — what a clerk picks is what the Excel file has."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from streamlit.testing.v1 import AppTest

from core.rules import register_columns as rc
from core.usecases.context import Context
from tests.app.conftest import DEMO_CASES
from tests.app.helpers import en, login_as, new_app, no_exception, widget, zh


def _log_page(username: str = "qa", lang: str = "zh") -> AppTest:
    at = login_as(new_app(), username)
    if lang == "en":
        at.query_params["lang"] = "en"
    at.run()
    no_exception(at)
    return at


def _file(at: AppTest) -> tuple[list[str], list[tuple[object, ...]]]:
    made = at.session_state["reg_export"]
    ws = load_workbook(io.BytesIO(made[2])).active
    assert isinstance(ws, Worksheet)
    return [str(c.value) for c in ws[3]], list(ws.iter_rows(min_row=4, values_only=True))


def _downloads(at: AppTest) -> list[str]:
    return [e.proto.label for e in at.get("download_button")]


def test_the_chooser_starts_with_the_default_columns_and_the_file_has_the_chosen_ones(
        demo_db: Context) -> None:
    at = _log_page()
    chooser = widget(at, "multiselect", zh("export.columns"))
    assert chooser.value == list(rc.DEFAULT)  # the demo's preset has no custom fields
    assert zh("log.export_xlsx") not in _downloads(at)  # nothing made yet

    chooser.set_value(["compensation", "number", "state", "closed_at"]).run()
    no_exception(at)
    widget(at, "button", zh("export.make")).click().run()
    no_exception(at)
    heads, rows = _file(at)
    # the register's order whatever the order of picking; headers in words
    assert heads == [zh("field.number"), zh("field.state"), zh("export.col.compensation"),
                     zh("export.col.closed_at")]
    assert len(rows) == DEMO_CASES
    assert {r[1] for r in rows} <= {zh(f"state.{s}") for s in (
        "registered", "dispatched", "investigating", "root_cause", "capa_review", "disposition",
        "pending_approval", "replying", "implementing", "verifying", "follow_up", "closed",
        "cancelled")}
    assert zh("log.export_xlsx") in _downloads(at)
    assert zh("export.ready", n=DEMO_CASES) in [c.value for c in at.caption]

    # another choice: the file made for the old one is no longer offered
    widget(at, "multiselect", zh("export.columns")).set_value(["number"]).run()
    no_exception(at)
    assert zh("log.export_xlsx") not in _downloads(at)

    widget(at, "button", zh("export.default_columns")).click().run()
    no_exception(at)
    assert widget(at, "multiselect", zh("export.columns")).value == list(rc.DEFAULT)
    widget(at, "button", zh("export.all_columns")).click().run()
    assert widget(at, "multiselect", zh("export.columns")).value == list(rc.KEYS)


def test_no_column_chosen_makes_no_file(demo_db: Context) -> None:
    at = _log_page()
    widget(at, "multiselect", zh("export.columns")).set_value([]).run()
    no_exception(at)
    assert zh("export.pick_columns") in [c.value for c in at.caption]
    assert not [b for b in at.button if b.label == zh("export.make")]


def test_the_english_file_and_csv_are_in_english(demo_db: Context) -> None:
    at = _log_page(lang="en")
    widget(at, "multiselect", en("export.columns")).set_value(["number", "kind", "state"]).run()
    widget(at, "button", en("export.make")).click().run()
    no_exception(at)
    heads, rows = _file(at)
    assert heads == [en("field.number"), en("field.kind"), en("field.state")]
    assert {r[1] for r in rows} <= {en("kind.complaint"), en("kind.suggestion"),
                                    en("kind.inquiry")}
    widget(at, "button", en("export.make_csv")).click().run()
    no_exception(at)
    made = at.session_state["reg_export"]
    assert made[1] == "csv"
    text = made[2].decode("utf-8-sig").splitlines()
    assert text[0] == ",".join(heads) and len(text) == DEMO_CASES + 1
    assert en("log.export_csv") in _downloads(at)
