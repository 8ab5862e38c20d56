"""Chinese everywhere, in Chromium (issue #13): /log and an unknown address show kesu's own
pages instead of Streamlit's English "Page not found" pop-up, the file uploader's button and
limit read in Chinese, and Admin keeps its tab after a save."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import EN, TEXTS, ZH, heading, idle, login, settle

NAV_LOG = {"zh": "登记", "en": "Log"}
NOT_FOUND = {"zh": "页面不存在", "en": "Page not found"}
NOT_FOUND_TEXT = {"zh": "此地址没有对应的页面", "en": "No page answers this address"}
STREAMLIT_POPUP = "The page that you have requested does not seem to exist"


def _no_popup(page: Page) -> None:
    settle(page, 800)
    expect(page.get_by_text(STREAMLIT_POPUP)).to_have_count(0)
    expect(page.get_by_role("dialog")).to_have_count(0)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_log_and_unknown_addresses_answer_with_kesus_own_pages(page: Page, lang: str) -> None:
    tx = TEXTS[lang]
    page.goto(f"/?lang={lang}")
    login(page, tx, "sales")
    page.goto("/log")
    expect(heading(page, tx.log_title)).to_be_visible()
    _no_popup(page)
    page.goto("/logs")
    expect(heading(page, NOT_FOUND[lang])).to_be_visible()
    expect(page.get_by_text(NOT_FOUND_TEXT[lang])).to_be_visible()
    _no_popup(page)
    page.get_by_role("main").get_by_role("link", name=NAV_LOG[lang], exact=True).click()
    expect(heading(page, tx.log_title)).to_be_visible()


def test_a_signed_out_visitor_at_log_gets_the_login_form_without_a_popup(page: Page) -> None:
    page.goto("/log?lang=zh")
    expect(heading(page, ZH.login_title)).to_be_visible()
    expect(page.get_by_text(STREAMLIT_POPUP)).to_have_count(0)


def _after(page: Page, selector: str) -> str:
    return str(page.locator(selector).first.evaluate(
        "e => getComputedStyle(e, '::after').content"))


def test_the_uploader_reads_in_chinese_with_the_settings_limit(page: Page) -> None:
    page.goto("/?lang=zh")
    login(page, ZH, "qamanager")  # the import is for the QA manager and the administrator
    page.goto("/import")
    idle(page)
    button = '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
    hint = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    expect(page.locator(button).first).to_be_attached()
    assert _after(page, button) == '"上传文件"'
    assert _after(page, hint) == '"单个文件不超过 20 MB"'
    # the English text is still in the page, drawn at size 0
    assert page.locator(button).first.evaluate("e => getComputedStyle(e).fontSize") == "0px"


def test_the_uploader_keeps_streamlits_english_in_english(page: Page) -> None:
    page.goto("/?lang=en")
    login(page, EN, "qamanager")
    page.goto("/import")
    idle(page)
    hint = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    expect(page.locator(hint).first).to_have_text("20MB per file • XLSX, CSV")
    assert _after(page, hint) in ("none", "normal")


def test_admin_keeps_its_tab_after_a_save(page: Page) -> None:
    page.goto("/?lang=zh")
    login(page, ZH, "admin")
    page.goto("/admin")
    expect(heading(page, ZH.admin_title)).to_be_visible()
    settle(page)
    page.get_by_role("tab", name="设置", exact=True).click()
    settle(page)
    name = page.get_by_role("textbox", name="公司名称", exact=True)
    name.fill("苏州精工制造有限公司")
    settle(page)
    page.get_by_role("button", name="保存", exact=True).first.click()  # the settings' form
    expect(page.get_by_text("设置已保存")).to_be_visible()
    settle(page)
    expect(page.get_by_role("tab", name="设置", exact=True)).to_have_attribute(
        "aria-selected", "true")
