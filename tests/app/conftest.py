"""AppTest tier: each page run by streamlit.testing.v1.AppTest on its own SQLite database.

Per test:
- a fresh data folder (KESU_DATA_DIR = tmp_path/data: SQLite file, attachments, cookie key),
  KESU_BCRYPT_ROUNDS=4, and no DATABASE_URL: these tests always use SQLite, also in the CI run
  that points DATABASE_URL at PostgreSQL (the integration tier covers PostgreSQL);
- `st.cache_resource` / `st.cache_data` cleared before and after, because they are
  process-wide: the app's `kesu()` would otherwise keep the previous test's database;
- no session cookie (`st.context.cookies` is a MagicMock inside AppTest): tests log in with
  `helpers.login_as`, which hands the session a real login's token;
- no background jobs thread (KESU_BACKGROUND=off);
- the legacy `pages/` multipage path is switched off (see `_no_legacy_pages_dir`);
- translated `format_func`s see the AppTest's language outside a run (see `_lang_outside_run`).

The databases are copied from templates built once per session through the real services
(migrations, then `bench.demo.load` as `manage.py demo` does): `empty_db` (no user: the set-up
screen), `ref_db` (demo users and reference data, no complaint) and `demo_db` (12 demo cases).
Every demo user's password is `bench.demo.PASSWORD`.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.testing.v1.element_tree import ElementTree

import ui.context
from bench import demo
from core.usecases.context import Context
from db.uow import SqlUowFactory
from adapters.wiring import build_app

DEMO_CASES = 12
DB_FILE = "kesu.db"


def _clear_streamlit_caches() -> None:
    st.cache_resource.clear()
    st.cache_data.clear()


def _dispose(app: Context) -> None:
    if isinstance(app.uow, SqlUowFactory):
        app.uow.engine.dispose()


def _build_template(folder: Path, cases: int | None) -> Path:
    """A migrated database in `folder`, with the demo loaded unless `cases` is None."""
    folder.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DATABASE_URL", raising=False)
        mp.setenv("KESU_DATA_DIR", str(folder))
        mp.setenv("KESU_BCRYPT_ROUNDS", "4")
        app = build_app(f"sqlite:///{folder / DB_FILE}")
        if cases is not None:  # as manage.py cmd_demo: steer the clock through the story
            real_clock = app.clock
            at: list[datetime] = []
            app.clock = lambda: at[-1] if at else real_clock()
            demo.load(app, at.append, cases=cases)
        _dispose(app)
    return folder


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("kesu-app-templates")
    return {"empty": _build_template(root / "empty", None),
            "ref": _build_template(root / "ref", 0),
            "demo": _build_template(root / "demo", DEMO_CASES)}


@pytest.fixture(autouse=True)
def _no_legacy_pages_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep AppTest on app.py's st.navigation even though a `pages/` folder exists.

    AppTest resets `PagesManager.uses_pages_directory` before every run; with a `pages/` folder
    next to app.py the flag becomes True and the run goes through the legacy multipage path,
    where `switch_page("pages/x.py")` executes pages/x.py WITHOUT app.py (no login check, no
    sidebar, every page registered). The real server is not affected. test_app.py's
    `test_legacy_pages_workaround_holds` fails if this stops working.
    """
    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(autouse=True)
def _lang_outside_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let `ui.context.lang()` answer the AppTest's language when called outside a script run.

    Before each run AppTest serialises the widgets' values in the test's own thread, calling
    each select box's `format_func` there (element_tree.Selectbox.index). The app's enum
    select boxes format with `ui.context.label` -> `tr` -> `lang()`, which reads
    st.session_state: outside a run that is an empty state, so an English page's options would
    be formatted in Chinese and the run fails with "'国内' is not in list". The real server only
    calls format_func inside a run, so this is a test-harness matter: remember the language of
    the AppTest about to run and answer it outside a run.
    """
    monkeypatch.setattr(ui.context, "lang", _lang)
    monkeypatch.setattr(ElementTree, "run", _run)


# One process-wide stand-in, not one per test: a page module importing `lang` by name
# (`from ui.context import lang`) keeps whichever function it found at its first import, in
# some earlier test; with a stand-in per test it would answer that test's language forever.
_CURRENT = {"lang": "zh"}
_ORIGINAL_LANG = ui.context.lang
_ORIGINAL_RUN = ElementTree.run


def _lang() -> str:
    return _ORIGINAL_LANG() if get_script_run_ctx() is not None else _CURRENT["lang"]


def _run(self: ElementTree, *args: object, **kwargs: object) -> object:
    # AppTest.run() and every widget's .run() end here, before the values are serialised
    state = self._runner.session_state  # type: ignore[union-attr]
    _CURRENT["lang"] = str(state["lang"]) if "lang" in state else "zh"
    return _ORIGINAL_RUN(self, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh data folder and empty Streamlit caches for every test; no login cookie."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("KESU_DEFAULT_LANG", raising=False)
    monkeypatch.delenv("KESU_SECRET_KEY", raising=False)
    monkeypatch.setenv("KESU_DATA_DIR", str(data))
    monkeypatch.setenv("KESU_BCRYPT_ROUNDS", "4")
    # no scheduled-jobs thread: it would escalate the demo cases into the inboxes while a
    # page is being tested (test_app.py starts it on purpose once)
    monkeypatch.setenv("KESU_BACKGROUND", "off")
    _clear_streamlit_caches()
    yield data
    _clear_streamlit_caches()


def _database(kind: str, templates: dict[str, Path], data: Path) -> Iterator[Context]:
    shutil.copytree(templates[kind], data, dirs_exist_ok=True)  # database and any attachments
    app = build_app(f"sqlite:///{data / DB_FILE}", run_migrations=False)
    yield app
    _dispose(app)


@pytest.fixture
def empty_db(_templates: dict[str, Path], _app_env: Path) -> Iterator[Context]:
    """A migrated database without any user: app.py shows the first-administrator screen."""
    yield from _database("empty", _templates, _app_env)


@pytest.fixture
def ref_db(_templates: dict[str, Path], _app_env: Path) -> Iterator[Context]:
    """Demo users, departments, customers, products and defect types; no complaint."""
    yield from _database("ref", _templates, _app_env)


@pytest.fixture
def demo_db(_templates: dict[str, Path], _app_env: Path) -> Iterator[Context]:
    """Everything of `ref_db` plus DEMO_CASES demo complaints (a few cancelled)."""
    yield from _database("demo", _templates, _app_env)
