"""The register search through indexes (issue #14) on the real databases: on a few hundred
varied cases the indexed search finds exactly what the old search (a LIKE over eight columns,
kept here as the reference) found, except that a key-like text answered by a key's prefix
shows those cases (精确匹配); an edited case is found by its new words and not its old; the
count stops at the cap; keyset paging walks every row once; the migration indexes the cases
a database already has."""
from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import or_, select

from core.model import Customer, Kind, RegisterFilter, RegisterPage, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from db import search
from db.engine import ROOT, migrate
from db.tables import ComplaintRow, CustomerRow
from tests.integration.conftest import NOW, World, engine_of
from core import usecases as uc

WORDS = ["外观划伤", "开裂", "变形严重", "尺寸超差", "包装破损", "Scratch on surface",
         "crack 3mm", "合格率 100% 达标", "lot_A mixed", "Émail défaut", "螺丝钉松动", "划痕",
         "表面有划伤严重", "漏电", "a_b 50%", "颜色偏差 ΔE>2"]
PRODUCTS = ["螺丝 M3", "外壳", "Bracket B2", "电源模块", ""]
CUSTOMERS = ["深圳市宏达电子科技有限公司", "ACME Corp", "Müller GmbH"]
QUERIES = [
    # Chinese 2- and 3-character words, also across words and in customer names
    "划伤", "开裂", "变形", "伤严", "有限", "划伤严", "有限公", "螺丝钉", "表面有划伤", "漏电",
    "不存在的词", "宏达电子",
    # numbers, single characters, % and _
    "100", "12", "3", "5", "伤", "a", "-", "%", "_", "10%", "50%", "a_b", "lot_", "\\",
    # mixed Latin and digits, case numbers and keys (the key path or its fallback)
    "PO-1", "po-12", "L26", "l26a", "M3", "m3", "B2", "ref1", "REF12", "crack 3", "3mm",
    # Latin words and names in any case, letters with diacritics, spaces
    "Scratch", "scratch", "SURFACE", "acme", "ACME Corp", "müller", "émail", "ΔE", "on surface",
]


def _old(q: str, sqlite_db: bool) -> Any:
    """The search before issue #14 (db/reads.py until then): LIKE / ILIKE over the customer's
    name and seven columns — the reference the indexes must match."""
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    plain = sqlite_db or q.lower() == q.upper()

    def match(col: Any) -> Any:
        return col.like(like, escape="\\") if plain else col.ilike(like, escape="\\")

    return or_(ComplaintRow.customer_id.in_(select(CustomerRow.id).where(match(CustomerRow.name))),
               *(match(getattr(ComplaintRow, c)) for c in search.TEXT_COLUMNS))


def _expected(app: Context, q: str) -> tuple[set[int], bool]:
    engine = engine_of(app)
    sqlite_db = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if search.looks_like_key(q):
            cols = [getattr(ComplaintRow, c) for c in search.KEY_COLUMNS]
            keyed = {r[0] for r in conn.execute(select(ComplaintRow.id, *cols))
                     if any(str(v).upper().startswith(q.upper()) for v in r[1:])}
            if keyed:
                return keyed, True
        return set(conn.scalars(select(ComplaintRow.id).where(_old(q, sqlite_db)))), False


def _page(app: Context, user: User, **kw: Any) -> RegisterPage:
    return uc.search.register_page(app, user, RegisterFilter(**{"page_size": 100_000, **kw}))


@pytest.fixture
def many(app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> list[int]:
    """200 cases of four customers with varied texts, keys and receipt times (many alike)."""
    rng = random.Random(14)
    customers = [world.customer] + [
        dataclasses.replace(c, id=uc.reference.save_reference(app, world.admin, c))
        for c in (Customer(0, name) for name in CUSTOMERS)]
    ids = []
    for i in range(200):
        text = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
        d = draft(customer_id=rng.choice(customers).id, description=text,
                  product_name=rng.choice(PRODUCTS),
                  order_no=rng.choice(["", f"PO-{rng.randint(1, 9999)}", f"po-{i}"]),
                  lot=rng.choice(["", f"L26{rng.choice('ABC')}{i}", f"批次{i}"]),
                  customer_ref=rng.choice(["", f"ref{i}", f"Ref-{i}_x"]),
                  kind=rng.choice([Kind.COMPLAINT, Kind.COMPLAINT, Kind.SUGGESTION]),
                  received_at=NOW - timedelta(days=rng.choice([0, 0, 1, 2, 30])))
        ids.append(uc.complaints.register_complaint(app, world.sales, d).id or 0)
    return ids


def test_the_indexed_search_finds_what_the_old_search_found(
        app: Context, world: World, many: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    number = uc.complaints.case_file(app, world.qa, many[7]).complaint.number
    checked = 0
    for q in [*QUERIES, number, number.lower(), number[:6], number[-4:]]:
        want, exact = _expected(app, q)
        got = _page(app, world.qa, text=q)
        assert {r.id for r in got.rows} == want, q
        assert (got.total, got.exact, got.capped) == (len(want), exact, False), q
        checked += bool(want)
    assert checked > 40  # the sample finds something nearly always
    assert _page(app, world.qa, text=number).rows[0].id == many[7]
    # the structures do answer: the FTS5 table or the pg_trgm index
    with engine_of(app).connect() as conn:
        assert search.has_trigram(conn)

    # the count stops at the cap
    everything = _page(app, world.qa)
    assert (everything.total, everything.capped) == (200, False)
    capped = _page(app, world.qa, count_limit=100, page_size=50)
    assert (capped.total, capped.capped, len(capped.rows)) == (101, True, 50)
    word = _page(app, world.qa, text="划伤", count_limit=10)
    assert (word.total, word.capped) == (11, True)
    assert (_page(app, world.qa, count_limit=200).capped, _page(app, world.qa,
                                                              count_limit=199).capped) == (
        False, True)

    # keyset paging walks every row once, in the register's order (many cases share a time)
    for q in ("", "划伤", "Scratch"):
        for descending in (True, False):
            whole = [r.id for r in _page(app, world.qa, text=q, descending=descending).rows]
            assert len(whole) > 10
            assert _walk(app, world.qa, q, descending) == whole, (q, descending)

    # without a trigram index (no pg_trgm) free text is scanned, with the same result
    monkeypatch.setattr(search, "has_trigram", lambda _s: False)
    for q in ("划伤严", "有限公", "Scratch", "宏达电子", "10%"):
        assert {r.id for r in _page(app, world.qa, text=q).rows} == _expected(app, q)[0], q


def test_an_edited_case_is_found_by_its_new_words_not_its_old(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    c = uc.complaints.register_complaint(app, world.sales, draft(
        description="外壳开裂明显", product_name="旧名称产品", order_no="PO-777"))
    assert [r.id for r in _page(app, world.qa, text="开裂").rows] == [c.id]
    uc.complaints.update_complaint(app, world.sales, c.id or 0, c.version, draft(
        description="表面起泡鼓包", product_name="新型号外壳", order_no="SO-555"))
    for old in ("开裂", "外壳开裂", "旧名称", "PO-777"):
        assert _page(app, world.qa, text=old).rows == [], old
    for new in ("起泡", "鼓包", "表面起泡鼓包", "新型号", "SO-555", "so-5"):
        assert [r.id for r in _page(app, world.qa, text=new).rows] == [c.id], new
    assert _page(app, world.qa, text="SO-555").exact


def _walk(app: Context, user: User, q: str, descending: bool) -> list[int]:
    """Every row of a search, 7 at a time, each page after the last row of the one before."""
    seen: list[int] = []
    after = None
    for page in range(1, 100):
        got = _page(app, user, text=q, descending=descending, page=page, page_size=7,
                    after=after).rows
        if not got:
            break
        seen += [r.id for r in got]
        after = (got[-1].received_at, got[-1].id)
    return seen


def test_the_migration_indexes_the_cases_a_database_has(
        app: Context, world: World, db_url: str, draft: Callable[..., ComplaintDraft]) -> None:
    a = uc.complaints.register_complaint(app, world.sales, draft(description="外观划伤严重",
                                                                  lot="L2612X")).id
    b = uc.complaints.register_complaint(app, world.sales, draft(description="Crack found")).id
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    command.downgrade(cfg, "0024-1")  # before the search's tables: the cases stay
    migrate(db_url)
    assert [r.id for r in _page(app, world.qa, text="划伤").rows] == [a]
    assert [r.id for r in _page(app, world.qa, text="划伤严").rows] == [a]
    assert [r.id for r in _page(app, world.qa, text="CRACK").rows] == [b]
    assert _page(app, world.qa, text="l2612").exact
    with engine_of(app).begin() as conn:  # and the rebuild gives the same
        assert search.rebuild(conn) == 2
    assert [r.id for r in _page(app, world.qa, text="划伤").rows] == [a]


def test_synthetic_cases_are_found_as_the_old_search_found_them(db_url: str) -> None:
    """bench/synth.py writes cases in bulk, not through the unit of work: it fills the search
    rows too; `manage.py search-rebuild` makes the same again."""
    from adapters.wiring import build_app
    from bench.synth import synth
    app = dataclasses.replace(build_app(db_url), clock=lambda: NOW)
    try:
        synth(app, 150, seed=5, years=0.25)
        qa = uc.accounts.active_user(app, "qa")
        assert qa is not None
        with engine_of(app).connect() as conn:
            number, order_no = conn.execute(select(ComplaintRow.number, ComplaintRow.order_no)
                                            .where(ComplaintRow.order_no != "")).first() or ("", "")
        queries = ("划伤", "外观划伤", "有限公司", "开裂", "尺寸", number, order_no, order_no[:5])

        def found() -> dict[str, set[int]]:
            return {q: {r.id for r in _page(app, qa, text=q).rows} for q in queries}

        before = found()
        assert before == {q: _expected(app, q)[0] for q in queries}
        assert sum(map(bool, before.values())) >= 6
        with engine_of(app).begin() as conn:
            assert search.rebuild(conn) == 150
        assert found() == before
    finally:
        engine_of(app).dispose()
