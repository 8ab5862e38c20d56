"""A browser client of a real server, for the fault and scale-out tests: Chromium (Debian's,
at /usr/bin/chromium) through Playwright, using the end-to-end tier's steps and texts."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.helpers import ZH, choose, click_button, idle, settle

DESCRIPTION_BOX = """label => {
    const t = document.querySelectorAll(`textarea[aria-label="${label}"]`);
    return t.length === 1 && t[0].value === "";
}"""


def fill_complaint(page: Page, description: str, code: str) -> None:
    """Fill the Log form (Chinese UI) with a quality complaint of its own product code (so no
    duplicate warning asks to confirm)."""
    settle(page, 500)  # a run still starting would detach the widgets under the cursor
    choose(page, ZH.customer, ZH.customer_option)
    page.get_by_role("textbox", name=ZH.description, exact=True).fill(description)
    page.get_by_role("textbox", name=ZH.product_code, exact=True).fill(code)
    choose(page, ZH.defect_type, ZH.defect_option)


def submit_complaint(page: Page) -> None:
    click_button(page, ZH.log_submit)


def fresh_session(page: Page) -> None:
    """Reload after logging in: the new session is logged in by the cookie. Right after the
    login form, the cookie writes of the next runs can swallow the first click (see
    tests/e2e/helpers.settle); a test of faults must not fail on that."""
    page.reload()
    expect(page.get_by_role("heading", name=ZH.log_title, exact=True)).to_be_visible()
    settle(page, 1000)


def wait_saved(page: Page, timeout_ms: int = 90_000) -> None:
    """The form empties only once the complaint is saved (the success line may already have
    gone with the next run while another page was being checked). Under load a SQLite
    writer may wait up to its 60 s busy timeout."""
    page.wait_for_function(DESCRIPTION_BOX, arg=ZH.description, timeout=timeout_ms)
    idle(page)
