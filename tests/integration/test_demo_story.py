"""The demo tells the same story whatever the hour it is loaded at.

The app tests take cases in a given state from a 12-case demo (a case waiting for the reply, one
in root-cause analysis, ...). When how far each case went depended on the hour of loading, such
a test passed in the afternoon and failed after midnight (CI, 2026-12-07, 01:24 in Shanghai).
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from adapters.wiring import build_app
from bench import demo
from core import usecases as uc
from core.model import RegisterFilter
from db.uow import SqlUowFactory


def _story(folder: Path, now: datetime) -> tuple[dict[str, int], list[tuple[str, str]]]:
    folder.mkdir()
    app = build_app(f"sqlite:///{folder / 'kesu.db'}")
    at: list[datetime] = []
    app.clock = lambda: at[-1] if at else now
    try:
        counts = demo.load(app, at.append, cases=12, now=now)
        admin = uc.accounts.active_user(app, "admin")
        assert admin is not None
        rows, _ = uc.search.register(app, admin, RegisterFilter(page_size=100))
        return counts, sorted((r.number, r.state.value) for r in rows)
    finally:
        assert isinstance(app.uow, SqlUowFactory)
        app.uow.engine.dispose()


def test_the_demo_reaches_the_same_states_after_midnight_as_in_the_afternoon(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KESU_BCRYPT_ROUNDS", "4")
    night = _story(tmp_path / "night", datetime(2026, 12, 7, 17, 24, tzinfo=timezone.utc))
    noon = _story(tmp_path / "noon", datetime(2026, 12, 7, 4, 0, tzinfo=timezone.utc))
    assert night == noon
    assert {"replying", "root_cause"} <= {state for _, state in noon[1]}
