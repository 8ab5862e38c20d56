"""Uploads that cannot hurt (issue #11 item 3) on a real database and the real attachment store:
Pillow measures, turns and thumbnails pictures; the import reader keeps to its budgets."""
from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from adapters.blobs import FileBlobStore
from core.errors import InvalidInput
from core.i18n import t
from core.importing import MAX_BLANK_BEFORE_HEADER
from core.usecases.complaints import ComplaintDraft, Upload
from core.usecases.context import Context
from tests.integration.conftest import World
from ui.importer import read_table
from core import usecases as uc

MB = 1024 * 1024


def photo_with_orientation(width: int = 4000, height: int = 3000, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: pixels landscape, EXIF saying "turn 90° clockwise"; a
    blue band marks its top edge."""
    im = Image.new("RGB", (width, height), (220, 220, 220))
    im.paste((0, 0, 255), (0, 0, width, height // 10))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def png(width: int, height: int, mode: str = "1") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, format="PNG")
    return out.getvalue()


def blank_rows_xlsx(blank_rows: int) -> bytes:
    """An xlsx of a few hundred KB whose only sheet has `blank_rows` empty rows, then a header:
    the sheet XML written directly, streamed into the zip."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
            'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
            'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels":
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}"><Relationship '
            f'Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml":
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            '<sheets><sheet name="登记表" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}"><Relationship '
            f'Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, body in parts.items():
            z.writestr(name, body)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}">'
                    '<sheetData>'.encode())
            block = b"<row/>" * 100_000
            for _ in range(blank_rows // 100_000):
                f.write(block)
            f.write(b"<row/>" * (blank_rows % 100_000))
            f.write('<row><c t="inlineStr"><is><t>投诉日期</t></is></c></row></sheetData>'
                    '</worksheet>'.encode())
    return buf.getvalue()


def _store(app: Context) -> FileBlobStore:
    assert isinstance(app.blobs, FileBlobStore)
    return app.blobs


# ---------------------------------------------------------------- pictures


def test_a_phone_photo_is_stored_upright_and_shown_as_a_1600_px_thumbnail(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    c = uc.complaints.register_complaint(app, world.sales, draft(),
                                         [Upload("手机照片.jpg", photo_with_orientation())])
    (att,) = uc.complaints.complaint(app, world.sales, c.id or 0).attachments
    original = Image.open(io.BytesIO(uc.complaints.attachment(app, world.sales, att.id or 0)[1]))
    assert original.size == (3000, 4000)  # turned: portrait, as the phone held it
    assert original.getexif().get(0x0112) in (None, 1)  # no viewer turns it a second time
    pixel = original.getpixel((2990, 100))
    assert isinstance(pixel, tuple) and pixel[2] > 200  # the blue band is now the right edge
    thumb_bytes = uc.complaints.attachment_thumbnail(app, world.sales, att.id or 0)
    assert thumb_bytes is not None
    thumb = Image.open(io.BytesIO(thumb_bytes))
    assert (thumb.format, thumb.size) == ("JPEG", (1200, 1600))
    assert att.size == len(uc.complaints.attachment(app, world.sales, att.id or 0)[1])


def test_a_small_drawing_keeps_its_size_and_stays_png(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    c = uc.complaints.register_complaint(app, world.sales, draft(),
                                         [Upload("图纸.png", png(640, 480, "P"))])
    (att,) = uc.complaints.complaint(app, world.sales, c.id or 0).attachments
    thumb = uc.complaints.attachment_thumbnail(app, world.sales, att.id or 0)
    assert thumb is not None
    assert Image.open(io.BytesIO(thumb)).format == "PNG"
    assert Image.open(io.BytesIO(thumb)).size == (640, 480)


def test_a_13000_px_png_is_refused_and_nothing_is_stored(
        app: Context, world: World, draft: Callable[..., ComplaintDraft],
        monkeypatch: pytest.MonkeyPatch) -> None:
    c = uc.complaints.register_complaint(app, world.sales, draft())
    data = png(13_000, 13_000)

    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("the picture was decoded")
    # measured from the header, never decoded (a decode would take seconds and 500 MB)
    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(InvalidInput) as err:
        uc.complaints.add_attachments(app, world.sales, c.id or 0, [Upload("huge.png", data)])
    assert err.value.key == "err.image_pixels"
    assert "13000×13000" in t(err.value.key, "zh", **err.value.params)
    assert "50 megapixel" in t(err.value.key, "en", **err.value.params)
    assert uc.complaints.complaint(app, world.sales, c.id or 0).attachments == []


def test_a_decompression_bomb_is_refused_with_a_message_not_a_trace(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(app, world.sales, draft(),
                                         [Upload("bomb.png", png(20_000, 20_000))])
    assert err.value.key == "err.image_bomb"
    assert "bomb.png" in t(err.value.key, "zh", **err.value.params)


def test_a_picture_stored_before_thumbnails_gets_one_when_first_shown(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    """Old data keeps working: a sideways photo stored as it came (no thumbnail beside it) is
    shown upright and small; the thumbnail is kept for next time; nothing is deleted."""
    c = uc.complaints.register_complaint(app, world.sales, draft(),
                                         [Upload("old.jpg", photo_with_orientation(2400, 1800))])
    (att,) = uc.complaints.complaint(app, world.sales, c.id or 0).attachments
    store = _store(app)
    old = photo_with_orientation(2400, 1800)
    old_sha = store.put(old)  # the file as an older kesu stored it, and its row pointing at it
    with app.uow(write=True) as uow:
        from core.model import Attachment
        uow.attachments.add(Attachment(None, c.id or 0, old_sha, "old2.jpg", "image/jpeg",
                                       len(old), world.sales.id, att.uploaded_at))
        uow.commit()
    (_, older) = uc.complaints.complaint(app, world.sales, c.id or 0).attachments
    thumb_path = store._thumb_path(old_sha)
    assert not thumb_path.exists()
    thumb = uc.complaints.attachment_thumbnail(app, world.sales, older.id or 0)
    assert thumb is not None and Image.open(io.BytesIO(thumb)).size == (1200, 1600)
    assert thumb_path.read_bytes() == thumb  # made once
    assert uc.complaints.attachment(app, world.sales, older.id or 0)[1] == old  # kept as it was


def test_a_damaged_picture_only_downloads(app: Context, world: World,
                                          draft: Callable[..., ComplaintDraft]) -> None:
    damaged = b"\x89PNG\r\n\x1a\n" + b"\x00\x01 fake image body " * 50
    c = uc.complaints.register_complaint(app, world.sales, draft(), [Upload("x.png", damaged)])
    (att,) = uc.complaints.complaint(app, world.sales, c.id or 0).attachments
    assert uc.complaints.attachment_thumbnail(app, world.sales, att.id or 0) is None
    assert uc.complaints.attachment(app, world.sales, att.id or 0)[1] == damaged


def test_the_per_case_total_holds_on_the_real_database(
        app: Context, world: World, draft: Callable[..., ComplaintDraft]) -> None:
    uc.reference.set_settings(app, world.admin, {"case_attachments_max_mb": 3})
    pdf = b"%PDF-1.4\n" + b"x" * (2 * MB)
    c = uc.complaints.register_complaint(app, world.sales, draft(), [Upload("a.pdf", pdf)])
    with pytest.raises(InvalidInput) as err:
        uc.complaints.add_attachments(app, world.sales, c.id or 0,
                                      [Upload("b.pdf", pdf + b"other")])
    assert "3 MB" in t(err.value.key, "en", **err.value.params)
    assert len(uc.complaints.complaint(app, world.sales, c.id or 0).attachments) == 1


# ---------------------------------------------------------------- the import reader


def test_twenty_million_blank_rows_before_the_header_are_refused_at_once() -> None:
    """The attack: 0.18 MB of xlsx, 20,000,000 empty rows, then the header. It once cost 60 s
    of CPU and 1.8 GB; now the 51st blank row ends the reading."""
    data = blank_rows_xlsx(20_000_000)
    assert len(data) < MB
    tracemalloc.start()
    started = time.process_time()
    try:
        with pytest.raises(InvalidInput) as err:
            read_table("登记表.xlsx", data, 20 * MB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.process_time() - started < 3
    assert peak < 50 * MB
    assert err.value.key == "imp.err.blank_before_header"
    assert str(MAX_BLANK_BEFORE_HEADER) in t(err.value.key, "zh", **err.value.params)


def test_a_few_blank_rows_before_the_header_are_fine() -> None:
    table = read_table("登记表.xlsx", blank_rows_xlsx(MAX_BLANK_BEFORE_HEADER), 20 * MB)
    assert table.headers == ("投诉日期",)


def test_blank_lines_before_a_csv_header_are_refused_too() -> None:
    data = ("\n" * 1000 + "投诉日期,客户\n2024-03-05,华东\n").encode()
    with pytest.raises(InvalidInput) as err:
        read_table("登记表.csv", data, 20 * MB)
    assert err.value.key == "imp.err.blank_before_header"


def test_a_row_of_a_million_cells_is_refused_before_openpyxl_holds_it(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("登记表")
    ws.append(["投诉日期"])
    wb.save(tmp_path / "a.xlsx")
    with zipfile.ZipFile(tmp_path / "a.xlsx") as z:  # the same file, one row much wider
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    parts[sheet] = parts[sheet].replace(b"</sheetData>",
                                        b"<row>" + b"<c/>" * 1_000_000 + b"</row></sheetData>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, body in parts.items():
            z.writestr(n, body)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput) as err:
            read_table("wide.xlsx", buf.getvalue(), 20 * MB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.value.key == "imp.err.too_many_cells"
    assert peak < 100 * MB
