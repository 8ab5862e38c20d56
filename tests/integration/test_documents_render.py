"""The case documents drawn from a real case on the real databases (SQLite file, PostgreSQL):
the PDF text read back with pypdf (Chinese from the embedded, bundled CJK font), the page
header with the case number and "第 n 页 / 共 m 页", tables across pages, and the XLSX cells
read back with openpyxl."""
from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from pypdf import PageObject
from pypdf.generic import DictionaryObject, NameObject, StreamObject

from core.documents import CaseDocuments
from core.model import ContainmentType, Lang, Severity
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.integration import test_lifecycle_db as ldb
from tests.integration.conftest import World
from tests.integration.test_lifecycle_db import Crew, to_pending_approval, version
from ui.pdf import to_pdf
from ui.xlsx import to_xlsx
from core import usecases as uc

crew = ldb.crew  # the lifecycle tests' production, finance and managers

DESCRIPTION = "轴承座内孔尺寸超差 0.05 mm，客户来料检验发现，要求返工。"
ROOT_CAUSE = "夹具磨损"  # what to_pending_approval records


def _pages(pdf: bytes) -> list[str]:
    """Each page's text, without whitespace (pypdf puts spaces between CJK glyphs).

    fpdf2 embeds the CJK font (CID-keyed CFF) with its own code→CID CMap stream as /Encoding.
    pypdf 7.1 does not read such a stream and decodes the two-byte codes one byte at a time
    (NULs, wrong letters); viewers and poppler's pdftotext read the file correctly. The codes
    are two bytes and /ToUnicode maps them, which is what pypdf does for /Identity-H: tell it
    so, in the reader's copy only."""
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for ref in _fonts(page).values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type0" and isinstance(
                    font["/Encoding"].get_object(), StreamObject):
                font[NameObject("/Encoding")] = NameObject("/Identity-H")
    return [re.sub(r"\s+", "", page.extract_text() or "") for page in reader.pages]


def _fonts(page: PageObject) -> DictionaryObject:
    """A page's font dictionary (pypdf types a dictionary's values as any PdfObject)."""
    resources = page["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    fonts = resources["/Font"].get_object()
    assert isinstance(fonts, DictionaryObject)
    return fonts


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def case(app: Context, world: World, crew: Crew, draft: Callable[..., ComplaintDraft]) -> int:
    """A quality complaint at pending approval, with a long containment list (the table must
    run over several pages) and a note that could be read as markup or a formula."""
    cid = to_pending_approval(app, world, crew, draft(
        description=DESCRIPTION, order_no="SO-4711", lot="L-2603", severity_proposed=Severity.B))
    uc.investigation.add_containment(app, world.qa, cid, ContainmentType.SORTING, 7,
                                     "=SUM(A1:A9) **不是公式**")
    for i in range(60):
        uc.investigation.add_containment(app, world.qa, cid, ContainmentType.QUARANTINE, i,
                                         f"第 {i} 批库存隔离，逐箱复检尺寸；" * 3)
    return cid


def _docs(app: Context, world: World, cid: int, lang: str = "zh", **kw: object) -> CaseDocuments:
    return uc.documents.case_documents(app, world.qa, cid, lang, **kw)  # type: ignore[arg-type]


def test_the_pdfs_carry_the_cases_chinese_text_number_and_page_header(app: Context, world: World,
                                                                      case: int) -> None:
    docs = _docs(app, world, case)
    number = docs.form.number
    for doc in (docs.form, docs.report):
        pages = _pages(to_pdf(doc))
        text = "".join(pages)
        for expected in (DESCRIPTION, number, world.customer.name, ROOT_CAUSE, "SO-4711"):
            assert _flat(expected) in text, (doc.kind, expected)
        n = len(pages)
        assert n >= 2, doc.kind
        for i, page in enumerate(pages, 1):  # every page: case number and 第 i 页 / 共 n 页
            assert number in page and f"第{i}页/共{n}页" in page, (doc.kind, i)
    form = _pages(to_pdf(docs.form))
    assert "客户投诉处理单" in form[0] and "签核记录" in "".join(form)
    # the containment table runs over a page break and repeats its heading row there
    heading = "类型数量说明执行人时间"
    assert len([p for p in form if heading in p]) >= 2
    assert "第0批库存隔离" in "".join(form) and "第59批库存隔离" in "".join(form)
    assert _flat("=SUM(A1:A9) **不是公式**") in "".join(form)
    report = "".join(_pages(to_pdf(docs.report)))
    for title in ("D1成立小组", "D4根本原因分析", "D8结案与团队表彰"):
        assert title in report


def test_the_pdf_embeds_the_bundled_cjk_font(app: Context, world: World, case: int) -> None:
    reader = PdfReader(io.BytesIO(to_pdf(_docs(app, world, case).form)))
    fonts = _fonts(reader.pages[0])
    names = {str(f.get_object()["/BaseFont"]) for f in fonts.values()}
    assert any("notosanscjksc" in n.lower() for n in names), names
    (font,) = [f.get_object() for f in fonts.values()]
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert "/FontFile3" in descriptor or "/FontFile2" in descriptor  # embedded, not referenced


def test_the_english_form_and_the_letter_in_the_customers_language(app: Context, world: World,
                                                                   case: int) -> None:
    uc.reference.save_reference(app, world.admin,
                                dataclasses.replace(world.customer, language=Lang.EN))
    version = uc.complaints.case_file(app, world.qa, case).complaint.version
    uc.documents.set_customer_summary(app, world.qa, case, version,
                                      "A worn fixture; it has been replaced.")
    docs = _docs(app, world, case, "en", company="Huadong Precision Co., Ltd.")
    form = _pages(to_pdf(docs.form))
    assert "Complainthandlingform" in form[0] and f"Page1of{len(form)}" in form[0]
    assert _flat(DESCRIPTION) in "".join(form)
    letter = "".join(_pages(to_pdf(docs.letter)))
    for expected in (
        "Re: your complaint",
        docs.form.number,
        "Dear",
        "Scratch",  # the description is Chinese: the defect type's English name instead
        "A worn fixture; it has been replaced.",  # QA's summary for the customer
        "Huadong Precision Co., Ltd.",
        "Yours sincerely",
    ):
        assert _flat(expected) in letter, expected
    assert _flat(DESCRIPTION) not in letter and ROOT_CAUSE not in letter
    chinese = _docs(app, world, case, letter_lang="zh").letter
    text = "".join(_pages(to_pdf(chinese)))
    assert "关于贵司投诉的回复" in text and _flat(DESCRIPTION) in text
    assert ROOT_CAUSE not in text  # the internal root cause never goes out


def test_a_note_longer_than_a_page_continues_on_the_next(app: Context, world: World,
                                                         case: int) -> None:
    note = "逐箱复检尺寸并记录，" * 499 + "完"  # 5,000 characters, the most a note may have
    uc.investigation.add_containment(app, world.qa, case, ContainmentType.OTHER, None, note)
    text = "".join(_pages(to_pdf(_docs(app, world, case).form)))
    # whole, in the containment table and in the history (the event's comment), the rows
    # continuing over pages between the header lines
    assert text.count("逐箱复检尺寸并记录，") == 2 * 499
    assert text.count("逐箱复检尺寸并记录，完") == 2
    sheet = load_workbook(io.BytesIO(to_xlsx(_docs(app, world, case).form))).worksheets[0]
    assert note in [c.value for row in sheet.iter_rows() for c in row]


def _cells(ws: object) -> list[list[object]]:
    return [[c.value for c in row] for row in ws.iter_rows()]  # type: ignore[attr-defined]


def _right_of(rows: list[list[object]], label: str) -> object:
    """The value in the cell to the right of `label`'s merged label cell (2 columns)."""
    for row in rows:
        for i, v in enumerate(row):
            if v == label:
                return row[i + 2]
    raise AssertionError(f"no cell {label!r}")


def test_the_xlsx_holds_the_expected_values(app: Context, world: World, case: int,
                                            crew: Crew) -> None:
    docs = _docs(app, world, case)
    wb = load_workbook(io.BytesIO(to_xlsx(docs.form)))
    assert len(wb.worksheets) == 1
    ws = wb.worksheets[0]
    rows = _cells(ws)
    assert rows[0][0] == "客户投诉处理单"
    assert "A1:L1" in {str(r) for r in ws.merged_cells.ranges}
    assert docs.form.number in str(rows[1][0])
    assert _right_of(rows, "客户") == world.customer.name
    assert _right_of(rows, "订单编号") == "SO-4711"
    assert _right_of(rows, "责任部门") == "制造部"
    assert _right_of(rows, "合计") == "8,000.00"
    flat = [v for row in rows for v in row if v is not None]
    assert DESCRIPTION in flat and ROOT_CAUSE in flat
    assert "'=SUM(A1:A9) **不是公式**" in flat  # text, never a formula
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    setup, header = ws.sheet_properties.pageSetUpPr, ws.oddHeader
    assert setup is not None and header is not None
    assert setup.fitToPage is True
    right, left = header.right.text or "", header.left.text or ""
    assert "&P" in right and "&N" in right
    assert docs.form.number in left
    description_row = next(r for r, row in enumerate(rows, 1) if DESCRIPTION in row)
    assert ws.cell(description_row, 1).alignment.wrap_text is True

    report = load_workbook(io.BytesIO(to_xlsx(docs.report))).worksheets[0]
    flat8d = [v for row in _cells(report) for v in row if v is not None]
    assert "8D 报告" in flat8d and "D5 选定的纠正措施" in flat8d and "更换夹具" in flat8d
    assert crew.prod.display_name in flat8d


def test_documents_follow_the_case_as_it_goes_on(app: Context, world: World, case: int,
                                                 crew: Crew) -> None:
    before = _docs(app, world, case)
    uc.approval.approve_step(app, crew.sm, case, version(app, world, case), "同意")
    after = _docs(app, world, case)
    signed = "".join(_pages(to_pdf(after.form)))
    assert crew.sm.display_name in signed and "已核准" in signed
    assert "已核准" not in "".join(_pages(to_pdf(before.form)))
