"""Uploads that cannot hurt (issue #11 item 3) on the pages: a picture shows as kesu's thumbnail
and the original only downloads (Complaint page, Approve card); a too-big picture and an import
file beyond its budgets are refused in the user's language; no uploader promises 200 MB; the
limits are settings on Admin."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.model import Channel, Kind
from core.usecases.complaints import ComplaintDraft, Upload
from core.usecases.context import Context
from tests.app.helpers import (
    en, login_as, new_app, no_exception, open_case_tab, open_page, open_tab, values, widget,
    zh,
)
from tests.integration.test_upload_images import blank_rows_xlsx, photo_with_orientation, png
from core import usecases as uc

CUSTOMER = "苏州恒信精密机械有限公司"


def _case_with(app: Context, uploads: list[Upload]) -> int:
    sales = uc.accounts.active_user(app, "sales")
    assert sales is not None
    cust = next(c.id for c in uc.reference.customers(app) if c.name == CUSTOMER)
    case = uc.complaints.register_complaint(app, sales, ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.PHONE, description="外壳划伤",
        product_code="GJ-880", defect_type_id=next(d.id for d in uc.reference.defect_types(app))),
        uploads)
    assert case.id is not None
    return case.id


def _open_case(case_id: int, lang: str = "zh") -> AppTest:
    """The Complaint page on its attachments tab."""
    at = login_as(new_app(), "sales")
    if lang == "en":
        at.query_params["lang"] = "en"
    at.run()
    at.query_params["id"] = str(case_id)
    at.switch_page("pages/complaint.py").run()
    no_exception(at)
    open_case_tab(at, "case.attachments", lang)
    return at


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """Which attachments a page read: originals (`attachment`) and thumbnails."""
    seen: dict[str, list[int]] = {"attachment": [], "attachment_thumbnail": []}
    for name in seen:
        real: Callable[..., Any] = getattr(uc.complaints, name)

        def spy(ctx: Context, actor: Any, attachment_id: int, _real: Callable[..., Any] = real,
                _name: str = name) -> Any:
            seen[_name].append(attachment_id)
            return _real(ctx, actor, attachment_id)

        monkeypatch.setattr(uc.complaints, name, spy)
    return seen


def _images(at: AppTest) -> list[Any]:
    return list(at.get("image"))


def _uploaders(at: AppTest) -> list[Any]:
    return list(at.get("file_uploader"))


def test_the_case_page_shows_the_thumbnail_and_never_reads_the_original(
        demo_db: Context, reads: dict[str, list[int]]) -> None:
    case_id = _case_with(demo_db, [Upload("照片.jpg", photo_with_orientation()),
                                   Upload("报告.pdf", b"%PDF-1.4\n%%EOF\n")])
    at = _open_case(case_id)
    sales = uc.accounts.active_user(demo_db, "sales")
    assert sales is not None
    photo, pdf = uc.complaints.complaint(demo_db, sales, case_id).attachments
    assert len(_images(at)) == 1 and _images(at)[0].captions == ["照片.jpg"]
    assert reads["attachment_thumbnail"].count(photo.id or 0) == 1
    assert reads["attachment"] == []  # the originals only on a download click
    downloads = [b for b in at.get("download_button") if b.proto.id and "att_" in b.proto.id]
    assert len(downloads) == 2
    assert zh("case.download_only") in values(at, "caption")  # the PDF: its name, no preview
    assert pdf.filename in values(at, "text")


def test_a_13000_px_png_uploaded_on_the_case_page_is_refused_in_chinese(demo_db: Context) -> None:
    case_id = _case_with(demo_db, [])
    at = _open_case(case_id)
    widget(at, "file_uploader", zh("case.add_attachments")).set_value(
        [("巨图.png", png(13_000, 13_000), "image/png")])
    submit = [b for b in at.button if b.key == f"FormSubmitter:add_files-{zh('case.upload')}"]
    submit[0].click().run()
    no_exception(at)
    assert values(at, "error") == [zh("err.image_pixels", name="巨图.png", width=13000,
                                      height=13000, mp="169", max=50)]
    sales = uc.accounts.active_user(demo_db, "sales")
    assert sales is not None
    assert uc.complaints.complaint(demo_db, sales, case_id).attachments == []


def test_uploaders_promise_the_per_file_setting_not_200_mb(demo_db: Context) -> None:
    at = _open_case(_case_with(demo_db, []), "en")
    (uploader,) = _uploaders(at)
    assert uploader.proto.max_upload_size_mb == 20
    assert "200" not in uploader.proto.help and "20 MB each, 100 MB per case" in uploader.proto.help
    imp = open_page("pages/import_register.py", "admin", "en")
    (uploader,) = _uploaders(imp)
    assert uploader.proto.max_upload_size_mb == 20
    assert en("imp.budgets", blank=50, cells="2,000,000", s="30") in values(imp, "caption")


def test_the_blank_rows_import_attack_is_refused_in_english(ref_db: Context) -> None:
    at = open_page("pages/import_register.py", "admin", "en")
    widget(at, "file_uploader", en("imp.upload")).set_value(
        ("register.xlsx", blank_rows_xlsx(20_000_000),
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    at.run(timeout=30)
    no_exception(at)
    assert values(at, "error") == [en("imp.err.blank_before_header", n=50)]


def _approval_card(case_id: int) -> None:
    """ui/approve.py's card for one case, as the Approve page draws it."""
    from decimal import Decimal

    from core import usecases as uc
    from core.model import ApprovalStep, Title
    from core.usecases.approve_queue import ApprovalCard
    from ui.approve import card
    from ui.context import kesu

    app = kesu()
    user = uc.accounts.active_user(app, "gm")
    assert user is not None
    view = uc.complaints.complaint(app, user, case_id)
    step = ApprovalStep(1, case_id, 1, 1, Title.GENERAL_MANAGER)
    photos = [a for a in view.attachments if a.content_type.startswith("image/")]
    card(user, ApprovalCard(view.complaint, "客户", step, [step], [], [], Decimal("0"), "张三",
                            "", photos, ""))


def test_the_approval_card_shows_thumbnails_only(demo_db: Context, reads: dict[str, list[int]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    monkeypatch.setattr(st, "page_link", lambda *a, **k: None)  # no navigation in a lone card
    case_id = _case_with(demo_db, [Upload("现场.jpg", photo_with_orientation(2000, 1500)),
                                   Upload("坏图.png", b"\x89PNG\r\n\x1a\n" + b"broken" * 30)])
    at = AppTest.from_function(_approval_card, args=(case_id,), default_timeout=30).run()
    no_exception(at)
    assert len(reads["attachment_thumbnail"]) == 2  # the card asked for thumbnails ...
    assert reads["attachment"] == []  # ... and never for an original
    assert len(_images(at)) == 1  # the damaged one: its name instead
    assert "坏图.png" in values(at, "caption")


def test_admin_edits_the_pixel_limit_and_the_per_case_total(ref_db: Context) -> None:
    at = open_page("pages/admin.py", "admin")
    tab = open_tab(at, "admin_tab", zh("admin.settings"))
    widget(tab, "number_input", zh("field.image_max_megapixels")).set_value(30)
    widget(tab, "number_input", zh("field.case_attachments_max_mb")).set_value(250)
    save = [b for b in tab.button if b.key == f"FormSubmitter:settings-{zh('common.save')}"]
    save[0].click().run()
    no_exception(at)
    cfg = uc.context.settings(ref_db)
    assert (cfg.image_max_megapixels, cfg.case_attachments_max_mb) == (30, 250)


def test_a_thumbnail_is_small_whatever_the_photo(demo_db: Context) -> None:
    case_id = _case_with(demo_db, [Upload("大照片.jpg", photo_with_orientation(6000, 4000, 1))])
    sales = uc.accounts.active_user(demo_db, "sales")
    assert sales is not None
    (att,) = uc.complaints.complaint(demo_db, sales, case_id).attachments
    thumb = uc.complaints.attachment_thumbnail(demo_db, sales, att.id or 0)
    assert thumb is not None
    assert Image.open(io.BytesIO(thumb)).size == (1600, 1067)
