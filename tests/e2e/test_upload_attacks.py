"""Uploads that cannot hurt (issue #11 item 3), attacked through the real UI of a running kesu in
Chromium: files go in with Playwright's set_input_files on Streamlit's file uploader, the way a
person drops them there. One named test per attack."""
from __future__ import annotations

import io
import re
import time
import uuid
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, Response, expect

from core.i18n import t
from tests.e2e.helpers import ZH, choose, click_button, heading, idle, login, settle
from tests.integration.test_upload_images import blank_rows_xlsx, photo_with_orientation

UPLOADER = "[data-testid='stMain'] input[type='file']"


def _log_with(page: Page, file: Path) -> None:
    """Fill the Log form as sales, with `file` attached, and submit it."""
    page.goto("/?lang=zh")
    login(page, ZH, "sales")
    code = f"UPL-{uuid.uuid4().hex[:8].upper()}"
    choose(page, ZH.customer, ZH.customer_option)
    page.get_by_role("textbox", name=ZH.description, exact=True).fill(f"上传测试 {code}")
    page.get_by_role("textbox", name=ZH.product_code, exact=True).fill(code)
    choose(page, ZH.defect_type, ZH.defect_option)
    page.locator(UPLOADER).set_input_files(str(file))
    expect(page.get_by_text(file.name, exact=True)).to_be_visible()  # the upload finished
    click_button(page, ZH.log_submit)


def _logged_case(page: Page, file: Path) -> str:
    """Log a case with `file` and open its attachments tab; its number."""
    _log_with(page, file)
    ok = page.get_by_test_id("stAlertContentSuccess").filter(has_text=ZH.saved)
    expect(ok.or_(page.get_by_test_id("stAlertContentError"))).to_be_visible()
    assert ok.count() == 1, page.get_by_test_id("stAlertContentError").all_inner_texts()
    match = ZH.saved.search(ok.inner_text())
    assert match, ok.inner_text()
    settle(page)
    page.goto("/complaint?lang=zh")
    lookup = page.get_by_role("textbox", name=ZH.case_lookup, exact=True)
    expect(lookup).to_be_visible()
    idle(page)
    lookup.fill(match.group(1))
    lookup.press("Enter")
    expect(heading(page, ZH.case_title.format(number=match.group(1)))).to_be_visible()
    page.get_by_role("tab", name=ZH.attachments_tab.format(n=1)).click()
    return match.group(1)


def test_a_13000_px_png_is_refused_at_upload(page: Page, tmp_path: Path) -> None:
    huge = tmp_path / "巨图.png"
    Image.new("1", (13_000, 13_000)).save(huge, format="PNG")  # 169 megapixels, a few KB
    started = time.monotonic()
    _log_with(page, huge)
    refusal = t("err.image_pixels", "zh", name="巨图.png", width=13000, height=13000, mp="169",
                max=50)
    expect(page.get_by_test_id("stAlertContentError").filter(has_text=refusal)).to_be_visible()
    assert time.monotonic() - started < 60
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)  # nothing logged
    expect(page.get_by_text("Traceback")).to_have_count(0)


def test_a_phone_photo_is_stored_upright_and_shown_as_a_thumbnail_of_at_most_1600_px(
        page: Page, tmp_path: Path) -> None:
    photo = tmp_path / "手机照片.jpg"
    photo.write_bytes(photo_with_orientation(4000, 3000, 6))  # landscape pixels, EXIF: turn
    _logged_case(page, photo)
    img = page.get_by_role("tabpanel").locator("img").first
    expect(img).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    src = img.get_attribute("src")
    assert src and "/media/" in src
    served = page.request.get(src)  # with the page's session cookie
    assert served.ok
    shown = Image.open(io.BytesIO(served.body()))
    assert max(shown.size) <= 1600
    assert shown.size == (1200, 1600)  # upright: portrait, as the phone was held
    assert len(served.body()) < len(photo.read_bytes())
    assert page.evaluate("img => [img.naturalWidth, img.naturalHeight]",
                         img.element_handle()) == [1200, 1600]


def test_a_pdf_only_downloads_as_an_attachment_with_nosniff(page: Page, tmp_path: Path) -> None:
    pdf = tmp_path / "检验报告.pdf"
    pdf.write_bytes(b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n")
    _logged_case(page, pdf)
    panel = page.get_by_role("tabpanel").filter(has_text=pdf.name)
    expect(panel.locator("img")).to_have_count(0)  # nothing of it rendered inline
    expect(panel.locator("iframe, embed, object")).to_have_count(0)
    button = panel.get_by_role("button", name=re.compile(r"^下载"))
    with page.expect_response(lambda r: "/media/" in r.url) as answer, \
            page.expect_download() as download:
        button.click()
    response: Response = answer.value
    headers = response.all_headers()
    assert headers["content-disposition"].startswith("attachment")
    assert headers["x-content-type-options"] == "nosniff"
    saved = download.value.path()
    assert Path(saved).read_bytes() == pdf.read_bytes()


def test_an_xlsx_with_20_million_blank_rows_is_refused_within_seconds(page: Page,
                                                                      tmp_path: Path) -> None:
    attack = tmp_path / "登记表.xlsx"
    attack.write_bytes(blank_rows_xlsx(20_000_000))  # ~0.18 MB
    page.goto("/?lang=zh")
    login(page, ZH, "admin")
    page.goto("/import?lang=zh")
    expect(heading(page, t("imp.title", "zh"))).to_be_visible()
    idle(page)
    started = time.monotonic()
    page.locator(UPLOADER).set_input_files(str(attack))
    refusal = t("imp.err.blank_before_header", "zh", n=50)
    expect(page.get_by_test_id("stAlertContentError").filter(has_text=refusal)).to_be_visible(
        timeout=15_000)
    assert time.monotonic() - started < 10
