"""The append-only event log and the content-addressed attachment store, on a real database."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from core.errors import InvalidInput
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.complaints import Upload
from tests.integration.conftest import NOW, World, engine_of
from core import usecases as uc

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x01 fake image body " * 50
PDF = "%PDF-1.4\n% 质量报告\n%%EOF\n".encode()


def test_event_values_keep_their_types_and_migration_0008_converts_old_events(
        app: Context, world: World, draft: Callable[..., ComplaintDraft], db_url: str) -> None:
    """A yes/no reads back as a bool and a count as an int (nothing parses "True" back); the
    migration turns events written as text before it into the same typed values, and its
    downgrade writes the text form again."""
    from alembic import command
    from alembic.config import Config

    from db.engine import ROOT

    c = uc.complaints.register_complaint(app, world.sales,
                                         draft(sample_received=True, defective_qty=5,
                                               claimed_amount="300"))
    reg = uc.complaints.complaint(app, world.sales, c.id or 0).events[0]
    assert reg.changes["sample_received"] == [None, True]
    assert reg.changes["defective_qty"] == [None, 5]
    assert reg.changes["customer_id"] == [None, world.customer.id]
    assert reg.changes["claimed_amount"] == [None, "300.00"]  # money: its exact text

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))

    def raw() -> dict[str, list[object]]:
        with engine_of(app).connect() as conn:
            return dict(json.loads(conn.execute(text(
                "SELECT changes FROM events WHERE action = 'registered'")).scalar_one()))

    command.downgrade(cfg, "0007")  # as the log was written before typed values
    old = raw()
    assert old["sample_received"] == [None, "True"] and old["defective_qty"] == [None, "5"]
    assert old["description"] == reg.changes["description"]
    command.upgrade(cfg, "head")
    assert raw() == reg.changes
    again = uc.complaints.complaint(app, world.sales, c.id or 0).events[0]
    assert again.changes == reg.changes and again.changes["sample_received"][1] is True


def _blob_files() -> list[Path]:
    root = Path(os.environ["KESU_DATA_DIR"]) / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_event_log_records_who_what_and_chinese_changes(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    d = draft(description="包装破损，内有 3 件划伤", lot="批次-甲")
    c = uc.complaints.register_complaint(app, world.sales, d)
    edited = uc.complaints.update_complaint(app, world.qa, c.id or 0, c.version,
                                            dataclasses.replace(d, lot="批次-乙", defective_qty=3),
                                            comment="  客户来电更正批次  ")
    uc.complaints.cancel_complaint(app, world.manager, c.id or 0, edited.version, "客户撤回投诉")

    events = uc.complaints.complaint(app, world.sales, c.id or 0).events
    assert [e.action for e in events] == ["registered", "edited", "cancel"]
    assert [e.user_id for e in events] == [world.sales.id, world.qa.id, world.manager.id]
    assert [e.user_name for e in events] == ["张三", "李四", "王五"]
    assert all(e.at == NOW and e.complaint_id == c.id for e in events)
    reg, edit, cancel = events
    assert reg.changes["description"] == [None, "包装破损，内有 3 件划伤"]
    assert reg.changes["lot"] == [None, "批次-甲"]
    assert reg.changes["channel"] == [None, "phone"]
    assert "delivered_qty" not in reg.changes  # empty values are not listed
    assert edit.changes == {"lot": ["批次-甲", "批次-乙"], "defective_qty": [None, 3]}
    assert edit.comment == "客户来电更正批次"
    assert cancel.changes == {"state": ["registered", "cancelled"],
                              "cancel_reason": ["", "客户撤回投诉"]}
    assert cancel.comment == "客户撤回投诉"

    # stored as JSON text with the Chinese characters themselves, not \u escapes
    with engine_of(app).connect() as conn:
        raw = conn.execute(text("SELECT changes FROM events WHERE action = 'edited'")).scalar_one()
    assert "批次-乙" in raw and "\\u" not in raw
    assert json.loads(raw) == edit.changes


def test_same_bytes_are_stored_once_with_one_row_per_upload(
        app: Context, world: World, draft: Callable[..., ComplaintDraft],
        make_app: Callable[..., Context]) -> None:
    a = uc.complaints.register_complaint(app, world.sales, draft(),
                                         [Upload("照片1.png", PNG), Upload("report.pdf", PDF)])
    b = uc.complaints.register_complaint(app, world.sales, draft(order_no="PO-2"),
                                         [Upload("C:\\tmp\\same.PNG", PNG)])
    assert uc.complaints.add_attachments(app, world.qa, a.id or 0, [Upload("again.png", PNG)]) == 1

    sha_png = hashlib.sha256(PNG).hexdigest()
    sha_pdf = hashlib.sha256(PDF).hexdigest()
    files = _blob_files()
    assert [p.name for p in files] == sorted([sha_png, sha_pdf])
    root = Path(os.environ["KESU_DATA_DIR"]) / "attachments"
    assert (root / sha_png[:2] / sha_png).read_bytes() == PNG

    other = make_app()
    atts_a = uc.complaints.complaint(other, world.qa, a.id or 0).attachments
    atts_b = uc.complaints.complaint(other, world.qa, b.id or 0).attachments
    assert [(x.filename, x.sha256, x.size, x.content_type) for x in atts_a] == [
        ("照片1.png", sha_png, len(PNG), "image/png"),
        ("report.pdf", sha_pdf, len(PDF), "application/pdf"),
        ("again.png", sha_png, len(PNG), "image/png")]
    assert [(x.filename, x.sha256) for x in atts_b] == [("same.PNG", sha_png)]
    assert [x.uploaded_by_id for x in atts_a] == [world.sales.id, world.sales.id, world.qa.id]
    assert all(x.uploaded_at == NOW for x in atts_a + atts_b)
    with engine_of(app).connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM attachments")) == 4
        assert conn.scalar(text("SELECT count(DISTINCT sha256) FROM attachments")) == 2

    att, data = uc.complaints.attachment(other, world.sales, atts_b[0].id or 0)
    assert att == atts_b[0] and data == PNG
    _, data = uc.complaints.attachment(other, world.sales, atts_a[1].id or 0)
    assert data == PDF
    events = uc.complaints.complaint(other, world.qa, a.id or 0).events
    assert [e.changes["attachment"][1] for e in events if e.action == "attachment_added"] == [
        "照片1.png", "report.pdf", "again.png"]


def test_a_refused_upload_saves_nothing(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    with pytest.raises(InvalidInput):
        uc.complaints.register_complaint(app, world.sales, draft(),
                               [Upload("ok.png", PNG), Upload("evil.png", b"MZ\x90\x00 not png")])
    with engine_of(app).connect() as conn:
        for table in ("complaints", "attachments", "events", "number_counters"):
            assert conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table
    assert _blob_files() == []
