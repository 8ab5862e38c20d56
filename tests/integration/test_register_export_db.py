"""The exported register (issue #13, "Excel out") on the real databases: the demo's cases at
every stage exported with every column and read back with openpyxl — each column's header, and
values of the right type (dates are dates, amounts numbers), in words, matching the database."""
from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from adapters.wiring import build_app
from bench import demo
from core import usecases as uc
from core.model import DispositionType, RegisterFilter, State, User
from core.rules import register_columns as rc
from core.usecases.context import Context
from db.tables import ComplaintRow, DispositionRow
from db.uow import SqlUowFactory
from ui import register_export

CASES = 40


@dataclasses.dataclass
class Demo:
    app: Context
    qa: User

    def scalar(self, query: Any) -> Any:
        assert isinstance(self.app.uow, SqlUowFactory)
        with self.app.uow.engine.connect() as conn:
            return conn.execute(query).scalar()


@pytest.fixture
def loaded(db_url: str) -> Iterator[Demo]:
    app = build_app(db_url, run_migrations=True)
    real = app.clock
    at: list[datetime] = []
    app = dataclasses.replace(app, clock=lambda: at[-1] if at else real())
    demo.load(app, at.append, cases=CASES, profile="pcb")  # pcb: custom fields too
    at.clear()
    qa = uc.accounts.active_user(app, "qa")
    assert qa is not None
    yield Demo(app, qa)
    assert isinstance(app.uow, SqlUowFactory)
    app.uow.engine.dispose()


def _export(d: Demo, columns: list[str], **flt: Any) -> tuple[Any, int]:
    fields = uc.custom_fields.field_definitions(d.app)
    tz = ZoneInfo(uc.context.settings(d.app).timezone)
    export = uc.search.register_export(d.app, d.qa, RegisterFilter(sort="number",
                                                                   descending=False, **flt),
                                       batch=7)  # several batches
    seen: list[tuple[int, int]] = []
    data = register_export.write_xlsx(export, columns, fields, tz, "筛选：全部案件",
                                      lambda done, of: seen.append((done, of)))
    assert seen and seen[-1] == (export.total, export.total)  # the progress reached the end
    assert [a for a, _ in seen] == sorted(a for a, _ in seen)
    return load_workbook(io.BytesIO(data)).active, export.total


def test_every_column_reads_back_with_its_header_and_type(loaded: Demo) -> None:
    fields = uc.custom_fields.field_definitions(loaded.app)
    assert fields, "the pcb demo has custom fields"
    columns = list(rc.KEYS) + [rc.custom_key(f.id or 0) for f in fields]
    ws, total = _export(loaded, columns)
    assert total == loaded.scalar(select(func.count()).select_from(ComplaintRow))

    assert ws["A1"].value == "客户投诉登记表"
    assert "全部案件" in ws["A2"].value and f"共 {total} 条" in ws["A2"].value
    assert ws.freeze_panes == "B4"
    assert any(str(r) == f"A1:{ws.cell(3, len(columns)).column_letter}1"
               for r in ws.merged_cells.ranges)
    heads = [c.value for c in ws[3]]
    assert heads[:7] == ["编号", "受理时间", "客户", "类别", "性质", "状态", "等级"]
    for key, head in {"responsible_department": "责任部门",
                      "root_cause_6m": "原因类别（人机料法环测）", "capa": "纠正预防措施（CAPA）",
                      "dispositions": "处理方案",
                      "compensation": "赔款合计", "approvals": "审批（签字人、时间）",
                      "reply_date": "回复日期", "closed_at": "结案日期",
                      "close_wd": "结案用时（工作日）", "satisfaction": "客户满意度"}.items():
        assert heads[columns.index(key)] == head, key
    assert heads[len(rc.KEYS):] == [f.label_zh for f in fields]
    # the description: wide (40 characters as Excel shows them; the file stores 40.71)
    assert 40 <= ws.column_dimensions["M"].width < 41

    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(rows) == total
    col = {k: i for i, k in enumerate(columns)}
    states = {s.value for s in State}
    closed = [r for r in rows if r[col["state"]] == "已结案"]
    still_open = [r for r in rows if r[col["state"]] not in ("已结案", "已取消")]
    assert closed and still_open, "the demo leaves cases at every stage"
    for r in rows:
        assert isinstance(r[col["received_at"]], datetime)
        assert r[col["state"]] not in states  # a label, never the code
        assert r[col["kind"]] in ("投诉", "建议", "咨询")
        for key in ("disposition_total", "compensation", "paid_total", "close_wd"):
            assert r[col[key]] is None or isinstance(r[col[key]], (int, float)), key
        assert r[col["reply_date"]] is None or isinstance(r[col["reply_date"]], datetime)
    for r in closed:  # a closed case: its close date (a date, no time), days and satisfaction
        assert isinstance(r[col["closed_at"]], datetime)
        assert r[col["closed_at"]].time() == datetime.min.time()
        assert isinstance(r[col["close_wd"]], (int, float))
    for r in still_open:
        assert r[col["closed_at"]] is None
    assert any(r[col["satisfaction"]] in ("满意", "基本满意", "不满意") for r in closed)
    assert any(r[col["root_cause"]] for r in rows)
    assert any("（" in (r[col["capa"]] or "") for r in rows)
    # the cells' number formats: what Excel shows
    number_cells = {c.value: c for c in ws["A"][3:]}
    with_money = [r for r in rows if r[col["compensation"]]]
    assert with_money, "the demo pays compensation in some cases"
    money_cell = ws.cell(4 + rows.index(with_money[0]), col["compensation"] + 1)
    assert money_cell.number_format == "#,##0.00"
    assert ws.cell(4, col["received_at"] + 1).number_format == "yyyy-mm-dd hh:mm"
    assert number_cells  # the number column is text

    # the amounts are the database's: the current round's compensation of one case
    number = with_money[0][col["number"]]
    expected = loaded.scalar(
        select(func.sum(DispositionRow.amount))
        .join(ComplaintRow, (ComplaintRow.id == DispositionRow.complaint_id)
              & (ComplaintRow.approval_round == DispositionRow.round))
        .where(ComplaintRow.number == number,
               DispositionRow.type == DispositionType.COMPENSATION.value))
    assert Decimal(str(with_money[0][col["compensation"]])) == Decimal(expected)
    # approvals in words: the signer's name and a local time, never an id
    signed = [r[col["approvals"]] for r in rows if r[col["approvals"]]]
    assert signed and all("：" in s and "（20" in s for s in signed)


def test_a_filtered_export_has_the_chosen_columns_and_the_csv_the_same_words(
        loaded: Demo) -> None:
    chosen = rc.chosen(["closed_at", "number", "compensation"], ())  # as the chooser hands it
    ws, total = _export(loaded, chosen, states=(State.CLOSED,))
    assert [c.value for c in ws[3]] == ["编号", "赔款合计", "结案日期"]  # the register's order
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(rows) == total == loaded.scalar(
        select(func.count()).select_from(ComplaintRow).where(ComplaintRow.state == "closed"))
    assert total > 0
    assert all(isinstance(r[2], datetime) and r[2].date() <= date.today() for r in rows)

    fields = uc.custom_fields.field_definitions(loaded.app)
    export = uc.search.register_export(loaded.app, loaded.qa, RegisterFilter())
    text = register_export.write_csv(export, ["number", "state", "closed_at"], fields,
                                     ZoneInfo("Asia/Shanghai")).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "编号,状态,结案日期"
    assert len(lines) == export.total + 1
    assert any(",已结案,20" in line for line in lines[1:])

    # The register counts no further than 10,000 (issue #14), so the export itself tells
    # whether its limit left cases out: one id more is read than it writes (the same demo)
    everything = loaded.scalar(select(func.count()).select_from(ComplaintRow))
    cut = uc.search.register_export(loaded.app, loaded.qa, RegisterFilter(), limit=everything - 1)
    assert (cut.total, cut.more) == (everything - 1, True)
    assert sum(len(b) for b in cut.batches) == everything - 1
    whole = uc.search.register_export(loaded.app, loaded.qa, RegisterFilter(), limit=everything)
    assert (whole.total, whole.more) == (everything, False)
