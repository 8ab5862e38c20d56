"""An old 客户投诉登记表 as factories keep it (issue #13), built with openpyxl in memory: a title
row merged across the columns, a department line, a blank line, the header in row 4, good rows
with full-width digits, an Excel serial date and dotted / slashed / Chinese dates, blank rows,
a row prepared ahead (only its 序号), a customer cell holding a formula, and a 合计 row with
=SUM(…). Used by the unit, integration and app tests of the import."""
from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

TITLE = "2026年客户投诉登记表"
DEPARTMENT = "品质保障部    编制：王芳    审核：李强"
HEADERS = ("序号", "投诉编号", "投诉日期", "客户名称", "产品型号", "不良现象", "问题描述",
           "交货数量", "不良数量", "索赔金额", "状态", "结案日期", "备注")
HEADER_ROW = 4
CUSTOMER = "华东电器有限公司"
OTHER_CUSTOMER = "深圳市宏达电子科技有限公司"
SERIAL = (date(2026, 2, 3) - date(1899, 12, 30)).days  # 46056: 2026-02-03 as Excel counts
FORMULA = "=VLOOKUP(E11,客户清单!A:B,2,0)"
TOTALS_ROW = 13
FORMULA_ROW = 11
PREPARED_ROW = 12  # only its 序号 typed in: nothing to import
# the good rows: Excel row -> (number, received day, customer, delivered, defective, closed day)
GOOD: dict[int, tuple[str, date, str, int | None, int | None, date | None]] = {
    5: ("QA-2602-01", date(2026, 2, 2), CUSTOMER, 500, 12, date(2026, 2, 12)),
    6: ("QA-2602-02", date(2026, 2, 3), OTHER_CUSTOMER, 1200, 40, None),
    8: ("QA-2602-03", date(2026, 2, 12), CUSTOMER, 300, 7, date(2026, 2, 20)),
    9: ("QA-2602-05", date(2026, 2, 16), OTHER_CUSTOMER, None, None, None),
}


def register() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook opens on its one worksheet
    ws.title = "登记表"
    ws["A1"] = TITLE
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    ws["A2"] = DEPARTMENT
    ws.merge_cells("A2:F2")
    ws["K2"], ws["L2"] = "更新日期：", datetime(2026, 2, 28)
    for col, header in enumerate(HEADERS, start=1):
        ws.cell(HEADER_ROW, col, header)
    rows: dict[int, list[Any]] = {
        5: [1, "QA-2602-01", datetime(2026, 2, 2), CUSTOMER, "HD-2040", "外观划伤",
            "外壳划伤 12 件", 500, 12, 300, "已结案", "2026.02.12", ""],
        # an Excel serial date, full-width digits in the quantities
        6: [2, "QA-2602-02", SERIAL, OTHER_CUSTOMER, "LX-220", "开裂", "灯罩开裂",
            "１，２００", "４０", None, "处理中", None, "客户催促"],
        # 7: a blank row between months
        8: [3, "ＱＡ-２６０２-０３", "2026/2/12", CUSTOMER, "PC-118", "焊接不良", "焊点虚焊",
            300, 7, "１５０.５０", "已结案", "2026年2月20日", None],
        9: [4, "QA-2602-05", "2026.02.16", OTHER_CUSTOMER, "HD-3100", None, "说明书缺页",
            None, None, None, "处理中", None, None],
        # 10: blank
        FORMULA_ROW: [5, "QA-2602-04", "2026.02.18", FORMULA, "MJ-501", "外观划伤", "颜色偏差",
                      100, 3, None, "处理中", None, None],
        PREPARED_ROW: [6],
        TOTALS_ROW: ["合计", None, None, None, None, None, None, "=SUM(H5:H12)",
                     "=SUM(I5:I12)", "=SUM(J5:J12)", None, None, None],
    }
    for number, values in rows.items():
        for col, value in enumerate(values, start=1):
            if value is not None:
                ws.cell(number, col, value)
    ws.merge_cells(start_row=TOTALS_ROW, start_column=1, end_row=TOTALS_ROW, end_column=7)
    ws["C5"].number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A5"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
