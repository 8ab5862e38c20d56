"""Issue #6: the load test, short — 6 worker processes x 15 s on the test's own database
(SQLite file, or a PostgreSQL schema of its own when DATABASE_URL is set), with the same
verification as the long run (bench/load.py): no error but "case changed" conflicts, no lost
update, no half-written case, numbers unique and gap-free. And proof that the verification
would notice a lost update or a half-written case."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench._load_verify import read_journals, verify
from bench.load import Result, run_load

# the first steps of the procedure, which even a slow, busy machine reaches in 15 s (how far
# the cases get depends on the machine; the long run in the README reaches every step)
MUST_REACH = {"registered", "dispatch", "acknowledge"}


@pytest.fixture
def loaded(db_url: str, tmp_path: Path) -> tuple[str, Path, Result]:
    result = run_load(db_url, tmp_path / "journals", users=6, seconds=15, progress=False)
    return db_url, tmp_path / "journals", result


def test_six_users_for_fifteen_seconds_lose_nothing(
        loaded: tuple[str, Path, Result]) -> None:
    _, journals, result = loaded
    print(result.report())
    assert result.ok, result.report()
    assert result.journals.errors == []
    reached = {a["op"] for a in result.journals.acks}
    assert MUST_REACH <= reached, f"not reached: {MUST_REACH - reached}\n{result.report()}"
    assert len(list(journals.glob("worker-*.jsonl"))) == 6
    # every registration a worker was told about is in the register under its number
    numbers = [a["num"] for a in result.journals.acks if a["op"] == "registered"]
    assert numbers and len(numbers) == len(set(numbers))
    _the_verification_notices_a_lost_update_and_a_half_written_case(*loaded)


def _the_verification_notices_a_lost_update_and_a_half_written_case(
        url: str, journals: Path, result: Result) -> None:
    """The same run's database and journals, tampered with: each check must fire."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        paths = sorted(journals.glob("worker-*.jsonl"))
        ack = next(a for a in result.journals.acks if a["op"] != "registered")
        # a journal claims one more acknowledged change than the case has: a lost update
        forged = journals / "forged.jsonl"
        forged.write_text(json.dumps({**ack, "v": ack["v"] + 10_000}) + "\n")
        found = verify(engine, read_journals([*paths, forged]))
        assert any("lost update" in v for v in found), found
        # the same version acknowledged twice: one change overwrote the other
        forged.write_text(json.dumps(ack) + "\n")
        found = verify(engine, read_journals([*paths, forged]))
        assert any("acknowledged 2 times" in v for v in found), found
        # an event without its version bump: a half-written case
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO events (complaint_id, at, user_id, action, changes, comment) "
                "SELECT complaint_id, at, user_id, 'edited', changes, comment FROM events "
                "WHERE complaint_id = :c ORDER BY id LIMIT 1"), {"c": ack["case"]})
        found = verify(engine, read_journals(paths))
        assert any("version-bumping events" in v for v in found), found
    finally:
        engine.dispose()
