"""Migration 0022 (issue #13) on the real databases: a database from before it keeps every
case, product and user, which get no summary for the customer, no edited letter and no English
names; what the new columns hold is read and written back through kesu; and the migration goes
down again without losing the rows."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from core.model import Product
from core.usecases.accounts import UserInput
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from db.engine import ROOT, migrate
from tests.integration.conftest import World, engine_of
from core import usecases as uc

NEW = {"complaints": {"customer_summary", "letter_text", "letter_lang"},
       "products": {"name_en"}, "users": {"display_name_en"}}


def _alembic(db_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return cfg


def _columns(app: Context, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine_of(app)).get_columns(table)}


def test_a_database_from_before_0022_keeps_its_rows_with_empty_new_fields(
        app: Context, world: World, db_url: str, draft: Callable[..., ComplaintDraft]) -> None:
    cid = uc.complaints.register_complaint(app, world.sales, draft(description="外观划伤 12 件")
                                           ).id or 0
    command.downgrade(_alembic(db_url), "0022-1")  # the database as it was before 0022
    for table, cols in NEW.items():
        assert not cols & _columns(app, table), table
    with engine_of(app).begin() as conn:  # written by the old kesu: no new columns
        conn.execute(text("UPDATE complaints SET root_cause = '夹具磨损' WHERE id = :c"),
                     {"c": cid})
    migrate(db_url)
    for table, cols in NEW.items():
        assert cols <= _columns(app, table), table
    c = uc.complaints.case_file(app, world.qa, cid).complaint
    assert (c.description, c.root_cause) == ("外观划伤 12 件", "夹具磨损")
    assert (c.customer_summary, c.letter_text, c.letter_lang) == ("", "", "")
    [p] = [p for p in uc.reference.products(app, True) if p.code == "P-100"]
    assert (p.name, p.name_en) == ("螺丝 M3", "")
    sales = next(u for u in uc.accounts.list_users(app, world.admin) if u.id == world.sales.id)
    assert (sales.display_name, sales.display_name_en) == ("张三", "")
    # the letter of the old case: pending, not the root cause
    letter = uc.documents.case_documents(app, world.qa, cid, "zh").letter
    assert "夹具磨损" not in "".join(
        b.text for s in letter.sections for b in s.blocks if hasattr(b, "text"))


def test_the_new_fields_are_stored_and_read_back(app: Context, world: World,
                                                 draft: Callable[..., ComplaintDraft]) -> None:
    cid = uc.complaints.register_complaint(app, world.sales, draft()).id or 0
    version = uc.complaints.case_file(app, world.qa, cid).complaint.version
    c = uc.documents.set_customer_summary(app, world.qa, cid, version, "治具磨损，已更换。")
    c = uc.documents.save_letter(app, world.sales, cid, c.version, "en", "Dear Mr. Wang,\n\nOK.")
    uc.reference.save_reference(app, world.admin, dataclasses.replace(
        world.product, name_en="Screw M3"))
    s = world.sales
    uc.accounts.update_user(app, world.admin, s.id or 0, UserInput(
        s.username, s.display_name, s.roles, s.department_id, s.titles, s.language, s.active,
        s.email, "Zhang San"))
    fresh = uc.complaints.case_file(app, world.qa, cid).complaint
    assert (fresh.customer_summary, fresh.letter_text, fresh.letter_lang) == (
        "治具磨损，已更换。", "Dear Mr. Wang,\n\nOK.", "en")
    assert [p.name_en for p in uc.reference.products(app, True)] == ["Screw M3"]
    assert Product(world.product.id, "P-100", "螺丝 M3", True, "Screw M3") in \
        uc.reference.products(app, True)
    names = {u.id: u.display_name_en for u in uc.accounts.list_users(app, world.admin)}
    assert names[s.id] == "Zhang San"
