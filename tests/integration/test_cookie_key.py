"""The generated cookie key: two app instances starting at once on one data folder agree on
one key (each writes its candidate under a temporary name and links it; the first wins), and
nobody ever reads a half-written file."""
from __future__ import annotations

import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from adapters.security import cookie_key


def test_instances_starting_together_share_one_key(tmp_path: Path) -> None:
    with ProcessPoolExecutor(6) as pool:
        keys = list(pool.map(cookie_key, [tmp_path] * 30))
    assert len(set(keys)) == 1 and len(keys[0]) >= 60
    assert [p.name for p in tmp_path.iterdir()] == ["cookie_key"]  # no temporary file left
    assert stat.S_IMODE((tmp_path / "cookie_key").stat().st_mode) == 0o600


def test_a_configured_key_wins_and_nothing_is_written(tmp_path: Path) -> None:
    assert cookie_key(tmp_path, "from-secrets") == "from-secrets"
    assert list(tmp_path.iterdir()) == []
