"""Uploads that cannot hurt (issue #11 item 3): the pixel limit, the thumbnail's size, the per-case
total, the upload limit Streamlit enforces, and the budgets of the import reader — pure rules and
the use cases on in-memory fakes (a fake picture store that only reports sizes)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core import settings as settings_mod
from core.errors import InvalidInput
from core.importing import ReadBudget
from core.model import User
from core.rules.uploads import (
    THUMBNAIL_LONG_SIDE, ImageBomb, ImageStore, UnreadableImage, check_case_total, check_pixels,
    thumbnail_size,
)
from core.usecases.complaints import ComplaintDraft, Upload
from core.usecases.context import Context
from tests.unit.fakes import FakeBlobs
from core import usecases as uc

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"\x00" * 32
MB = 1024 * 1024


class FakePictures(FakeBlobs):
    """A picture store whose pictures have the sizes a test gives them (by their bytes)."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: dict[bytes, tuple[int, int] | Exception] = {}
        self.decoded: list[bytes] = []
        self.thumbs: dict[str, bytes] = {}

    def image_size(self, data: bytes) -> tuple[int, int]:
        found = self.sizes.get(data, UnreadableImage("not a picture"))
        if isinstance(found, Exception):
            raise found
        return found

    def put_image(self, data: bytes) -> tuple[str, int]:
        self.decoded.append(data)
        sha = self.put(data)
        self.thumbs[sha] = b"thumb of " + data[:8]
        return sha, len(data)

    def thumbnail(self, sha256: str, max_pixels: int) -> bytes | None:
        return self.thumbs.get(sha256)


@pytest.fixture
def pictures(kesu: Context) -> FakePictures:
    store = FakePictures()
    kesu.blobs = store
    return store


def _png(tag: str) -> bytes:
    return PNG + tag.encode()


# ---------------------------------------------------------------- the rules


def test_the_fake_picture_store_is_a_picture_store() -> None:
    assert isinstance(FakePictures(), ImageStore)
    assert not isinstance(FakeBlobs(), ImageStore)


def test_a_picture_at_the_pixel_limit_passes_one_pixel_more_is_refused() -> None:
    check_pixels("ok.png", 10_000, 5_000, 50)  # exactly 50 megapixels
    with pytest.raises(InvalidInput) as err:
        check_pixels("big.png", 10_000, 5_001, 50)
    assert err.value.key == "err.image_pixels"
    assert err.value.params["max"] == 50 and err.value.params["name"] == "big.png"


def test_a_13000_px_square_is_refused_with_its_size_in_the_message() -> None:
    with pytest.raises(InvalidInput) as err:
        check_pixels("bomb.png", 13_000, 13_000, 50)
    assert (err.value.params["width"], err.value.params["height"], err.value.params["mp"]) == (
        13_000, 13_000, "169")


@pytest.mark.parametrize(("size", "thumb"), [
    ((4000, 3000), (1600, 1200)),
    ((3000, 4000), (1200, 1600)),
    ((13000, 10), (1600, 1)),  # a sliver keeps at least one pixel
    ((800, 600), (800, 600)),  # never enlarged
    ((1600, 1600), (1600, 1600)),
])
def test_thumbnail_long_side_is_at_most_1600_px_proportions_kept(
        size: tuple[int, int], thumb: tuple[int, int]) -> None:
    assert thumbnail_size(*size) == thumb
    assert max(thumbnail_size(*size)) <= THUMBNAIL_LONG_SIDE


def test_case_total_refused_above_the_limit_with_the_numbers() -> None:
    check_case_total(60 * MB, 40 * MB, 100)  # exactly at the limit
    with pytest.raises(InvalidInput) as err:
        check_case_total(60 * MB, 40 * MB + 1, 100)
    assert err.value.key == "err.case_attachments_total"
    assert (err.value.params["max"], err.value.params["used"]) == (100, "60.0")


def test_settings_defaults_and_their_ranges() -> None:
    cfg = settings_mod.build({})
    assert (cfg.image_max_megapixels, cfg.case_attachments_max_mb) == (50, 100)
    assert cfg.image_max_pixels == 50_000_000
    assert settings_mod.validate("image_max_megapixels", "30") == 30
    assert settings_mod.validate("case_attachments_max_mb", 500) == 500
    for key, bad in (("image_max_megapixels", 0), ("image_max_megapixels", 200),
                     ("case_attachments_max_mb", 0)):
        with pytest.raises(ValueError):
            settings_mod.validate(key, bad)


def test_streamlit_upload_limit_in_config_toml_equals_the_per_file_setting_default() -> None:
    """Streamlit refuses bigger uploads before kesu sees them: its limit must be kesu's, not
    the 200 MB it promised before (until the first upload, when the guard sets it from the
    setting: tests/unit/test_web_filters.py)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == settings_mod.DEFAULTS["attachment_max_mb"]


# ---------------------------------------------------------------- the use cases


def test_a_picture_above_the_pixel_limit_is_refused_before_it_is_decoded(
        kesu: Context, sales: User, draft: ComplaintDraft, pictures: FakePictures) -> None:
    big = _png("big")
    pictures.sizes[big] = (13_000, 13_000)
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, draft, [Upload("big.png", big)])
    assert err.value.key == "err.image_pixels"
    assert pictures.decoded == [] and pictures.files == {}  # nothing decoded, nothing stored


def test_a_decompression_bomb_is_refused_in_the_users_words(
        kesu: Context, sales: User, draft: ComplaintDraft, pictures: FakePictures) -> None:
    bomb = _png("bomb")
    pictures.sizes[bomb] = ImageBomb("Image size (400000000 pixels) exceeds limit")
    c = uc.complaints.register_complaint(kesu, sales, draft)
    with pytest.raises(InvalidInput) as err:
        uc.complaints.add_attachments(kesu, sales, c.id or 0, [Upload("bomb.png", bomb)])
    assert (err.value.key, err.value.params["max"]) == ("err.image_bomb", 50)
    assert uc.complaints.complaint(kesu, sales, c.id or 0).attachments == []


def test_the_pixel_limit_is_the_admin_setting(kesu: Context, admin: User, sales: User,
                                              draft: ComplaintDraft,
                                              pictures: FakePictures) -> None:
    photo = _png("photo")
    pictures.sizes[photo] = (6000, 4000)  # 24 megapixels
    uc.reference.set_settings(kesu, admin, {"image_max_megapixels": 20})
    with pytest.raises(InvalidInput):
        uc.complaints.register_complaint(kesu, sales, draft, [Upload("p.png", photo)])
    uc.reference.set_settings(kesu, admin, {"image_max_megapixels": 30})
    c = uc.complaints.register_complaint(kesu, sales, draft, [Upload("p.png", photo)])
    (att,) = uc.complaints.complaint(kesu, sales, c.id or 0).attachments
    assert uc.complaints.attachment_thumbnail(kesu, sales, att.id or 0) == b"thumb of " + photo[:8]


def test_an_unreadable_picture_only_downloads(kesu: Context, sales: User, draft: ComplaintDraft,
                                              pictures: FakePictures) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft, [Upload("odd.png", _png("odd"))])
    (att,) = uc.complaints.complaint(kesu, sales, c.id or 0).attachments
    assert pictures.decoded == []
    assert uc.complaints.attachment_thumbnail(kesu, sales, att.id or 0) is None
    assert uc.complaints.attachment(kesu, sales, att.id or 0)[1] == _png("odd")


def test_a_pdf_has_no_thumbnail(kesu: Context, sales: User, draft: ComplaintDraft,
                                pictures: FakePictures) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft, [Upload("r.pdf", PDF)])
    (att,) = uc.complaints.complaint(kesu, sales, c.id or 0).attachments
    assert uc.complaints.attachment_thumbnail(kesu, sales, att.id or 0) is None


def test_without_a_picture_store_pictures_are_never_shown(kesu: Context, sales: User,
                                                          draft: ComplaintDraft) -> None:
    c = uc.complaints.register_complaint(kesu, sales, draft, [Upload("a.png", PNG)])
    (att,) = uc.complaints.complaint(kesu, sales, c.id or 0).attachments
    assert uc.complaints.attachment_thumbnail(kesu, sales, att.id or 0) is None


def test_a_case_cannot_hold_more_than_the_per_case_total(kesu: Context, admin: User,
                                                         sales: User,
                                                         draft: ComplaintDraft) -> None:
    uc.reference.set_settings(kesu, admin, {"case_attachments_max_mb": 2, "attachment_max_mb": 2})
    c = uc.complaints.register_complaint(kesu, sales, draft,
                                         [Upload("a.pdf", PDF + b"a" * (MB - 100))])
    uc.complaints.add_attachments(kesu, sales, c.id or 0, [Upload("b.pdf", PDF + b"b" * (MB // 2))])
    with pytest.raises(InvalidInput) as err:
        uc.complaints.add_attachments(kesu, sales, c.id or 0,
                                      [Upload("c.pdf", PDF + b"c" * (MB // 2))])
    assert (err.value.key, err.value.params["max"]) == ("err.case_attachments_total", 2)
    assert len(uc.complaints.complaint(kesu, sales, c.id or 0).attachments) == 2


def test_one_registration_cannot_bring_more_than_the_per_case_total(
        kesu: Context, admin: User, sales: User, draft: ComplaintDraft, blobs: FakeBlobs) -> None:
    uc.reference.set_settings(kesu, admin, {"case_attachments_max_mb": 1})
    with pytest.raises(InvalidInput) as err:
        uc.complaints.register_complaint(kesu, sales, draft,
                                         [Upload("a.pdf", PDF + b"a" * (MB // 2)),
                                          Upload("b.pdf", PDF + b"b" * (MB // 2))])
    assert err.value.key == "err.case_attachments_total"
    assert blobs.files == {}


def test_an_invalid_draft_stores_no_file(kesu: Context, sales: User, draft: ComplaintDraft,
                                         blobs: FakeBlobs) -> None:
    from tests.unit.conftest import with_
    with pytest.raises(InvalidInput):
        uc.complaints.register_complaint(kesu, sales, with_(draft, description=""),
                                         [Upload("a.pdf", PDF)])
    assert blobs.files == {}


def test_thumbnail_of_an_unknown_attachment_is_not_found(kesu: Context, sales: User) -> None:
    from core.errors import NotFound
    with pytest.raises(NotFound):
        uc.complaints.attachment_thumbnail(kesu, sales, 999)


# ---------------------------------------------------------------- the import reader's budgets


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_budget_refuses_the_51st_blank_row_before_the_header() -> None:
    b = ReadBudget(Ticks())
    for _ in range(50):
        b.row(0, blank=True, header_found=False)
    with pytest.raises(InvalidInput) as err:
        b.row(0, blank=True, header_found=False)
    assert (err.value.key, err.value.params["n"]) == ("imp.err.blank_before_header", 50)


def test_budget_lets_blank_rows_after_the_header_pass_until_the_cell_budget() -> None:
    b = ReadBudget(Ticks(), cells=1000)
    b.row(5, blank=False, header_found=False)
    for _ in range(995):
        b.row(0, blank=True, header_found=True)
    with pytest.raises(InvalidInput) as err:
        b.row(0, blank=True, header_found=True)
    assert err.value.key == "imp.err.too_many_cells"


def test_budget_counts_padded_cells_of_wide_rows() -> None:
    b = ReadBudget(Ticks())
    with pytest.raises(InvalidInput):
        for _ in range(200):
            b.row(16_384, blank=True, header_found=True)  # an empty cell at XFD, row after row


def test_budget_refuses_after_the_time_limit() -> None:
    ticks = Ticks()
    b = ReadBudget(ticks, seconds=30)
    b.row(3, blank=False, header_found=False)
    ticks.now = 30.5
    with pytest.raises(InvalidInput) as err:
        b.row(3, blank=False, header_found=True)
    assert (err.value.key, err.value.params["s"]) == ("imp.err.too_slow", "30")


def test_budget_refuses_too_many_xml_elements_or_cells_in_one_row() -> None:
    b = ReadBudget(Ticks(), elements=100)
    b.xml(100, 10)
    with pytest.raises(InvalidInput):
        b.xml(1, 10)
    with pytest.raises(InvalidInput):
        ReadBudget(Ticks()).xml(10, 16_385)
