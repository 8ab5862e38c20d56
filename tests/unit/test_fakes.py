"""The fakes must behave like the SQL unit of work, or the tests above prove nothing."""
from __future__ import annotations

from dataclasses import replace

import pytest

from core.errors import StaleCase
from core.model import Customer, Event
from core.ports import BlobStore, Clock, PasswordHasher, UnitOfWork, UowFactory
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeBlobs, FakeClock, FakeDatabase, FakeHasher
from core import usecases as uc


def test_fakes_satisfy_the_ports(db: FakeDatabase) -> None:
    factory: UowFactory = db
    with factory(write=True) as uow:
        typed: UnitOfWork = uow
        assert typed.users.count() == 0
    blobs: BlobStore = FakeBlobs()
    hasher: PasswordHasher = FakeHasher()
    clock: Clock = FakeClock(NOW)
    assert blobs.get(blobs.put(b"x")) == b"x"
    assert hasher.check("pw", hasher.hash("pw")) and not hasher.check("no", hasher.hash("pw"))
    assert clock() == NOW


def test_changes_are_invisible_to_others_until_commit(db: FakeDatabase) -> None:
    with db(write=True) as writer:
        writer.ref.add(Customer(0, "Acme"))
        with db() as reader:
            assert reader.ref.customers() == []
        writer.commit()
    with db() as reader:
        assert [c.name for c in reader.ref.customers()] == ["Acme"]


def test_leaving_without_commit_discards_the_changes(db: FakeDatabase) -> None:
    with db(write=True) as uow:
        uow.ref.add(Customer(0, "Acme"))
        uow.complaints.next_serial("2611")
    with db() as uow:
        assert uow.ref.customers() == []
        assert uow.complaints.next_serial("2611") == 1


def test_an_exception_inside_the_block_discards_the_changes(db: FakeDatabase) -> None:
    with pytest.raises(RuntimeError), db(write=True) as uow:
        uow.settings.set("timezone", "UTC")
        raise RuntimeError("boom")
    with db() as uow:
        assert uow.settings.get("timezone") is None


def test_read_only_unit_of_work_may_not_commit(db: FakeDatabase) -> None:
    with db() as uow, pytest.raises(AssertionError):
        uow.commit()


def test_serials_count_per_period(db: FakeDatabase) -> None:
    with db(write=True) as uow:
        assert [uow.complaints.next_serial(p) for p in ("2611", "2611", "2612", "2611")] == [
            1, 2, 1, 3]


def test_save_checks_the_version(
        kesu: Context, sales: object, draft: ComplaintDraft, db: FakeDatabase) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft)  # type: ignore[arg-type]
    with db(write=True) as uow:
        with pytest.raises(StaleCase):
            uow.complaints.save(replace(c, lot="X", version=3), expected_version=2)
        uow.complaints.save(replace(c, lot="Y", version=2), expected_version=1)
        uow.commit()
    with db() as uow:
        stored = uow.complaints.get(c.id or 0)
        assert stored is not None and (stored.lot, stored.version) == ("Y", 2)


def test_objects_read_from_a_repo_are_copies(
        kesu: Context, sales: object, draft: ComplaintDraft, db: FakeDatabase) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft)  # type: ignore[arg-type]
    with db() as uow:
        got = uow.complaints.get(c.id or 0)
        assert got is not None
        got.lot = "changed in memory only"
    with db() as uow:
        again = uow.complaints.get(c.id or 0)
        assert again is not None and again.lot == "L1"


def test_events_come_back_in_time_order(db: FakeDatabase) -> None:
    with db(write=True) as uow:
        uow.events.add(Event(None, 1, NOW.replace(hour=5), 1, "second"))
        uow.events.add(Event(None, 1, NOW.replace(hour=3), 1, "first"))
        uow.events.add(Event(None, 2, NOW, 1, "other case"))
        assert [e.action for e in uow.events.for_complaint(1)] == ["first", "second"]


def test_settings_survive_a_json_round_trip(db: FakeDatabase) -> None:
    with db(write=True) as uow:
        uow.settings.set("k", {"a": [1, "二"]})
        assert uow.settings.get("k") == {"a": [1, "二"]}
        assert uow.settings.get("missing") is None
