"""`manage.py synth --open-share` (bench/synth.py): the share of open cases is a parameter — a
big plant's few open cases by default, the earlier ~5 % when asked for ("legacy")."""
from __future__ import annotations

import argparse
import dataclasses
from datetime import datetime, timezone

import pytest

from adapters.wiring import build_app
from bench.synth import open_factor, synth
from core.model import State
from db.uow import SqlUowFactory
from manage import _open_share

NOW = datetime(2026, 11, 18, 3, 0, tzinfo=timezone.utc)
CLOSED = {State.CLOSED.value, State.CANCELLED.value}


def _open(db_url: str, share: float | None) -> int:
    app = dataclasses.replace(build_app(db_url), clock=lambda: NOW)
    counts = synth(app, 3000, seed=7, years=6, open_share=share)
    assert isinstance(app.uow, SqlUowFactory)
    app.uow.engine.dispose()
    return sum(n for s, n in counts["states"].items() if s not in CLOSED)


def test_open_share_sets_how_many_cases_are_open(db_url: str) -> None:
    # 3,000 cases over six years: 2 % asked for, about 60 open (the long-history case too)
    assert 30 <= _open(db_url, 0.02) <= 95


def test_legacy_keeps_the_earlier_share() -> None:
    times = [datetime(2026, 11, 17, tzinfo=timezone.utc), datetime(2020, 1, 1, tzinfo=timezone.utc)]
    assert open_factor(times, NOW, None) == 1.0  # OPEN_CHANCE as it was
    assert open_factor(times, NOW, 0.0) == 0.0
    assert _open_share("legacy") is None and _open_share("0.002") == 0.002
    with pytest.raises(argparse.ArgumentTypeError):
        _open_share("2")
