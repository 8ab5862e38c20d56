"""Security on the real databases (SQLite file and PostgreSQL, via `db_url`).

Attack → test (the whole list: tests/unit/test_security_services.py's docstring):
- SQL metacharacters (`'; DROP TABLE complaints; --`, `%`, `_`, `\\`, quotes) in the register's
  free-text search → tests/integration/test_search_and_lockout.py
  (test_register_search_treats_text_literally); here the other inputs that reach SQL: the
  product-code filter, a Stats bar (facet), the sort column, the page, a case number, stored
  names full of metacharacters, the login name, unlock → no error, literal matches only,
  every table intact → test_hostile_*.
- A Stats bar key that is not an id (a crafted click-through) → a translated refusal, not a
  crash → test_a_stats_bar_key_that_is_not_an_id_is_refused.
- Secrets in logs: create a user, log in, fail to log in, get locked, change and reset a
  password, log out, with every logger captured at DEBUG (and SQLAlchemy's statement log
  switched on as an operator might) → no password, no hash in the log →
  test_no_password_or_hash_in_the_logs. (The cookie value: tests/e2e/test_security_browser.py
  reads the real server's log.)
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import inspect, text

from core.errors import AccountLocked, InvalidInput, LoginFailed
from core.model import Customer, Product, RegisterFilter, Role, State
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from core.stats import Period, StatsFilter
from tests.integration.conftest import PASSWORD, World, engine_of
from core import usecases as uc

DROP = "'; DROP TABLE complaints; --"
HOSTILE = [DROP, "%", "_", "\\", "'", '"', "%' OR '1'='1", "\\%", "a_b%c", "' OR 1=1 --",
           "1; DELETE FROM users", "`", "$1", "?", ":name", "\x00", "ʼ", "％"]
TABLES = ("complaints", "users", "events", "customers", "settings", "login_attempts")


def _counts(app: Context) -> dict[str, int]:
    with engine_of(app).connect() as conn:
        names = set(inspect(conn).get_table_names())
        assert set(TABLES) <= names, names
        return {t: int(conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in TABLES}


@pytest.fixture
def hostile_case(app: Context, world: World,
                 draft: Callable[..., ComplaintDraft]) -> tuple[int, str]:
    """A customer, product and case whose texts are made of SQL metacharacters."""
    cust = uc.reference.save_reference(app, world.admin,
                                       Customer(0, f"O'Brien {DROP}", contact="%_\\"))
    uc.reference.save_reference(app, world.admin, Product(0, "P_%'\\", f"壶 {DROP}"))
    c = uc.complaints.register_complaint(
        app,
        world.sales,
        draft(customer_id=cust, product_code="P_%'\\", order_no=DROP[:50], lot="100%_'",
              description=f'描述 {DROP} 100% a_b \\ "quoted"'),
    )
    uc.complaints.register_complaint(app, world.sales,
                                     draft(product_code="PX%YZ", description="plain"))
    return c.id or 0, c.number


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_in_every_register_filter(app: Context, world: World,
                                               hostile_case: tuple[int, str], value: str) -> None:
    before = _counts(app)
    for flt in (
        RegisterFilter(text=value),
        RegisterFilter(product_code=value),
        RegisterFilter(facet=("product", value)),
        RegisterFilter(facet=("six_m", value)),
        RegisterFilter(sort=value),
        RegisterFilter(sort=value, descending=False),
        RegisterFilter(text=value, states=(State.REGISTERED,), page=10**6),
        RegisterFilter(text=value, page=-5, page_size=-1),
    ):
        rows, total = uc.search.register(app, world.qa, flt)
        assert total >= len(rows)
        if flt.product_code or flt.facet:  # exact matches: only a product of that very code
            assert {r.product_code for r in rows} <= {value}
        assert len(uc.search.register_all(app, world.qa, flt, limit=10)) <= 10
    assert uc.search.complaint_id_by_number(app, world.qa, value) is None
    assert _counts(app) == before


def test_metacharacters_match_literally_in_search_and_filters(
    app: Context, world: World, hostile_case: tuple[int, str]
) -> None:
    cid, number = hostile_case

    def found(**kw: object) -> list[str]:
        return [r.number for r in uc.search.register(app, world.qa, RegisterFilter(**kw))[0]]  # type: ignore[arg-type]

    assert found(text=DROP) == [number]  # in the description and the customer's name
    assert found(text="O'Brien") == [number]
    assert found(text="P_%'\\") == [number]
    assert found(text='"quoted"') == [number]
    assert found(product_code="P_%'\\") == [number]
    assert found(product_code="p_%'\\") == [number]  # codes match case-insensitively
    assert found(product_code="P%") == [] and found(product_code="P_") == []
    assert found(facet=("product", "P_%'\\")) == [number]
    assert found(facet=("product", "%")) == []
    row = uc.search.register(app, world.qa, RegisterFilter(text=DROP))[0][0]
    assert row.customer == f"O'Brien {DROP}" and row.product_code == "P_%'\\"
    assert uc.search.complaint_id_by_number(app, world.qa, number) == cid
    assert uc.search.complaint_id_by_number(app, world.qa, number[:-1] + "_") is None
    assert uc.search.complaint_id_by_number(app, world.qa, number[:-2] + "%") is None
    assert uc.complaints.complaint(app, world.qa, cid).complaint.description.startswith(
        f"描述 {DROP}"
    )


@pytest.mark.parametrize(
    "name", [DROP, "admin' --", "admin'/*", "' OR '1'='1", "%", "_", "ADMIN\\", "admin\x00"]
)
def test_hostile_login_names_fail_like_any_wrong_name(app: Context, world: World,
                                                      name: str) -> None:
    before = _counts(app)
    with pytest.raises(LoginFailed):
        uc.accounts.authenticate(app, name, PASSWORD)
    assert not uc.login_delays.is_locked(app, "admin")
    assert uc.accounts.authenticate(app, "admin", PASSWORD) == world.admin
    after = _counts(app)
    assert after == before  # the name is not looked up, stored or counted as a name
    with engine_of(app).connect() as conn:  # only admin's (cleared) counter exists
        assert [tuple(r) for r in conn.execute(text(
            "SELECT key, failures FROM login_counters"))] == [("name:admin", 0)]
    uc.login_delays.unlock_user(app, world.admin, name)  # no error, nothing else changed
    assert uc.accounts.active_user(app, name) is None


def test_a_wildcard_login_name_does_not_lock_everyone(app: Context, world: World) -> None:
    # a name no account can have has no counter of its own: its client's counter slows it
    for _ in range(10):
        with pytest.raises((LoginFailed, AccountLocked)):
            uc.accounts.authenticate(app, "%", "wrong password", "10.0.0.5")
    with pytest.raises(AccountLocked):
        uc.accounts.authenticate(app, "%", "wrong password", "10.0.0.5")
    assert not uc.login_delays.is_locked(app, "sales1")
    assert not uc.login_delays.is_locked(app, "admin")
    assert uc.accounts.authenticate(app, "sales1", PASSWORD, "10.0.0.6") == world.sales


@pytest.mark.parametrize("key", ["1 OR 1=1", DROP, "²", "-1", "1.5", "%"])
def test_a_stats_bar_key_that_is_not_an_id_is_refused(app: Context, world: World, key: str) -> None:
    flt = StatsFilter(Period(date(2026, 1, 1), date(2026, 12, 31)))
    with pytest.raises(InvalidInput) as err:
        uc.stats.stats_cases(app, world.qa, flt, "customer", key)
    assert err.value.key == "err.stats_bar"
    rows, total = uc.stats.stats_cases(app, world.qa, flt, "customer", str(world.customer.id))
    assert total == len(rows) == 0
    assert uc.stats.stats_cases(app, world.qa, flt, "product", key) == (
        [],
        0,
    )  # a code: matched as is


def test_no_password_or_hash_in_the_logs(app: Context, world: World,
                                         caplog: pytest.LogCaptureFixture) -> None:
    secrets = ["S3cret-Login-pw", "Wr0ng-guess-pw", "N3w-changed-pw", "R3set-by-admin"]
    caplog.set_level(logging.DEBUG)
    # SQL statements logged, as an operator debugging SQL would (echo=True); "debug" would
    # also log every result row, hashes included: that level is not for production
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    user = uc.accounts.create_user(app, world.admin,
                                   UserInput("logtest", "Log Test", frozenset({Role.SALES})),
                                   secrets[0])
    assert uc.accounts.authenticate(app, "logtest", secrets[0]) == user
    for _ in range(5):
        with pytest.raises((LoginFailed, AccountLocked)):
            uc.accounts.authenticate(app, "logtest", secrets[1])
    uc.login_delays.unlock_user(app, world.admin, "logtest")
    uc.accounts.change_password(app, user, secrets[0], secrets[2])
    uc.accounts.reset_password(app, world.admin, user.id, secrets[3])
    uc.accounts.authenticate(app, "logtest", secrets[3])
    uc.sessions.log_out_everywhere(app, user)
    caplog.set_level(logging.WARNING, logger="sqlalchemy.engine")
    with engine_of(app).connect() as conn:
        stored = str(conn.scalar(text("SELECT password_hash FROM users WHERE username='logtest'")))
    assert stored.startswith("$2")
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "SELECT" in logged or "select" in logged  # SQL was logged: the check sees it
    for s in secrets:
        assert s not in logged
    assert stored not in logged and stored[7:29] not in logged  # not the hash, nor its salt


def test_nul_characters_in_stored_text_never_crash(app: Context, world: World,
                                                   draft: Callable[..., ComplaintDraft]) -> None:
    """PostgreSQL refuses NUL in text: every text (names, reasons, comments) is stored without
    it, the same on both databases, instead of a crash."""
    cust = uc.reference.save_reference(app, world.admin,
                                       Customer(0, "Nul\x00 Co.", contact="a\x00"))
    c = uc.complaints.register_complaint(app, world.sales,
                                         draft(customer_id=cust, description="a\x00b"))
    uc.complaints.update_complaint(app, world.sales, c.id or 0, 1,
                                   draft(customer_id=cust, description="edited"), "why\x00not")
    uc.complaints.cancel_complaint(app, world.sales, c.id or 0, 2, "dup\x00licate")
    view = uc.complaints.complaint(app, world.qa, c.id or 0)
    assert view.customer is not None and view.customer.name == "Nul Co."
    assert [e.comment for e in view.events][1:] == ["whynot", "duplicate"]
    assert view.complaint.state is State.CANCELLED
    rows, total = uc.search.register(app, world.qa, RegisterFilter(text="Nul\x00 Co"))
    assert total == 1 and rows[0].customer == "Nul Co."


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "..", "/etc/passwd", "a" * 63 + "/", "A" * 64, "0" * 64 + "\n", ""]
)
def test_the_blob_store_never_reads_outside_its_folder(app: Context, name: str) -> None:
    """Attachments are stored by SHA-256 under attachments/ab/…; a name that is not a hash
    (a crafted database row) is NotFound, never a path."""
    from core.errors import NotFound

    with pytest.raises(NotFound):
        app.blobs.get(name)
    sha = app.blobs.put(b"%PDF-1.4 tiny")
    assert app.blobs.get(sha) == b"%PDF-1.4 tiny"
