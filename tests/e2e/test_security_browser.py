"""Security in a real browser (issue #6): script payloads stay text, forbidden URLs stay shut.

Attack → test (the whole list: tests/unit/test_security_services.py's docstring):
- HTML/JS payloads (`<img src=x onerror=alert(1)>`, `<script>alert(1)</script>`,
  `"><svg onload=alert(1)>`) in every free-text field a user can fill — description, product
  name, order, lot, customer reference, customer name and contact, defect type names, a user's
  display name, comments of every step, return reason, containment note, production facts,
  5 Why, root cause, CAPA text, meeting decisions, disposition notes, customer position,
  hold reason, extension reason — and in an attachment's file name. Opened in Chromium: the
  Log register, the Complaint page (facts, records, attachments, timeline), My Tasks, Approve
  and Investigate. No dialog fires, no <img>/<script>/<svg> of a payload exists in the page,
  and each payload is visible as text → test_payloads_are_shown_as_text_on_*.
- A forbidden page by URL deep link (sales opens /admin, /approve, /investigate; QA opens
  /admin) → the page's own content never shows, a translated message does →
  test_a_forbidden_url_shows_the_message_not_the_page.
- Logout really ends the session: after logging out, the browser's cookie is gone; putting
  the old cookie value back (a copied or stolen cookie) does not log in →
  test_an_old_cookie_replayed_after_logout_is_refused.
- A cookie from before a password change, or of a user deactivated since → the login form
  → test_a_cookie_is_refused_after_password_change_or_deactivation.

The module has its own server (own port and temporary data folder, `manage.py demo`) and
writes the payload cases through the services in this process (adapters.wiring.build_app on the same
SQLite file) — the forms themselves are driven by tests/e2e/test_journeys.py and
test_lifecycle_journey.py; what matters here is what the pages do with stored text.
"""
from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from core.usecases.approval import CostInput
from core.usecases.approval import DispositionInput
from core.model import (
    CapaType, Category, Channel, ContainmentType, CostCategory, Customer, DefectType,
    DispositionType, Kind, Role, Severity, SixM, User, Validity,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from core.usecases.complaints import Upload
from core.usecases.accounts import UserInput
from tests.e2e.conftest import running_server, screenshot_if_failed
from tests.e2e.helpers import (PASSWORD, ZH, heading, idle, login, login_form_shown, settle,
                               wait_for_login_cookie)
from core import usecases as uc

ARTIFACTS = Path(os.environ.get("KESU_E2E_ARTIFACTS")
                 or Path(tempfile.gettempdir()) / "kesu-e2e-artifacts") / "security"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
SVG = '"><svg onload=alert(1)>'
PAYLOADS = (IMG, SCRIPT, SVG)
# Markdown, for the texts a page writes with st.markdown / st.caption: an image from another
# server (a beacon: every viewer's browser would call it), a javascript: link, a heading
BEACON = "http://127.0.0.1:9/beacon.png"
MD = f"Md ![px]({BEACON}) [clickme](javascript:alert(1)) # big"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe"
       b"\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")

expect.set_options(timeout=20_000)

INJECTED_JS = """() => {
    const bad = [];
    for (const el of document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload]'))
        bad.push(el.outerHTML.slice(0, 120));
    for (const s of document.querySelectorAll('script'))
        if (s.textContent.includes('alert(1)')) bad.push('script: ' + s.textContent.slice(0, 80));
    return bad;
}"""


# ---------------------------------------------------------------- server, payload data


@dataclass
class Seeded:
    url: str
    app: Context
    sales: User      # the payload user: display name is a payload
    pending: int     # a case at pending approval, full of payloads
    pending_number: str
    dispatched: int  # waiting for QA
    returned: int    # returned to the payload user
    log: Path        # the server's output
    cookies: list[str] = field(default_factory=list)  # every login cookie value seen


def _user(app: Context, username: str) -> User:
    return next(u for u in uc.accounts.list_active_users(app) if u.username == username)


with_md: list[int] = []  # the case whose customer, user and extension reason are Markdown


def _seed(app: Context) -> tuple[User, int, str, int, int]:
    admin, qa, prod = _user(app, "admin"), _user(app, "qa"), _user(app, "prod")
    mfg = next(d.id for d in uc.reference.departments(app) if d.code == "MFG")
    sales_dept = next(d.id for d in uc.reference.departments(app) if d.code == "SALES")
    evil = uc.accounts.create_user(app, admin, UserInput(
        "xss_sales", f"Eve {SVG}", frozenset({Role.SALES}), sales_dept), PASSWORD)
    cust = uc.reference.save_reference(app, admin, Customer(0, f"Evil {IMG} Co.", contact=SCRIPT))
    defect = uc.reference.save_reference(app, admin,
                                         DefectType(0, "XSS", f"缺陷 {SCRIPT}", f"Defect {SVG}"))
    draft = ComplaintDraft(customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.EMAIL,
                           description=f"desc {IMG}\n{SCRIPT}\n{SVG}", category=Category.QUALITY,
                           customer_ref=SVG[:60], product_code="HD-2040", product_name=f"壶 {IMG}",
                           order_no=SCRIPT[:60], lot=SVG[:60], delivered_qty=100, defective_qty=5,
                           defect_type_id=defect, claimed_amount="800",
                           severity_proposed=Severity.C)
    files = [Upload(f"{IMG}.png", PNG)]
    a = uc.complaints.register_complaint(app, evil, draft, files)
    cid = a.id or 0

    def v() -> int:
        return uc.complaints.case_file(app, admin, cid).complaint.version

    uc.investigation.dispatch(app, evil, cid, v(), f"dispatch {SCRIPT}")
    uc.investigation.acknowledge(app, qa, cid, v(), f"ack {SVG}")
    uc.investigation.add_containment(app, qa, cid, ContainmentType.QUARANTINE, 5, f"contain {IMG}")
    uc.investigation.classify(app, qa, cid, v(), Validity.VALID, Category.QUALITY, Severity.C, mfg,
                              f"classify {SCRIPT}")
    uc.investigation.save_analysis(app, prod, cid, v(), prod_line=f"L {IMG}", prod_shift=SVG[:40],
                                   prod_operator=SCRIPT[:40], prod_lot="L1",
                                   whys=[IMG, SCRIPT, SVG], six_m=SixM.MACHINE,
                                   root_cause=f"root {SVG}")
    uc.investigation.add_capa(app, prod, cid, CapaType.CORRECTIVE, f"capa {IMG}", prod.id,
                              uc.stats.stats_today(app) + timedelta(days=10))
    uc.investigation.submit_analysis(app, prod, cid, v(), f"submit {SCRIPT}")
    uc.investigation.approve_capa(app, qa, cid, v(), f"capa ok {SVG}")
    uc.meetings.add_meeting(app, qa, cid, uc.stats.stats_today(app), [qa.id, prod.id],
                            f"meeting {IMG}")
    uc.approval.set_dispositions(
        app,
        evil,
        cid,
        v(),
        [DispositionInput(DispositionType.COMPENSATION, None, "800", f"note {SCRIPT}")],
        [CostInput(CostCategory.COMPENSATION, "800", mfg)],
    )
    uc.approval.propose(app, evil, cid, v(), f"position {SVG}")
    number = uc.complaints.case_file(app, admin, cid).complaint.number

    b = uc.complaints.register_complaint(app, evil, draft)
    uc.investigation.dispatch(app, evil, b.id or 0, 1, f"dispatch {IMG}")
    c = uc.complaints.register_complaint(app, evil, draft)
    uc.investigation.dispatch(app, evil, c.id or 0, 1)
    uc.investigation.return_to_sales(app, qa, c.id or 0, 2, f"missing {SCRIPT}")
    md = uc.reference.save_reference(app, admin, Customer(0, MD))
    marker = uc.accounts.create_user(app, admin,
                                     UserInput("md_sales", MD, frozenset({Role.SALES}), sales_dept),
                                     PASSWORD)
    m = uc.complaints.register_complaint(
        app, marker, dataclasses.replace(draft, customer_id=md, description=f"text {MD}")
    )
    uc.investigation.dispatch(app, marker, m.id or 0, 1, f"comment {MD}")
    step = uc.timing.due_times(app, marker, m.id or 0)[0].step
    uc.timing.request_extension(app, marker, m.id or 0, 2, step,
                                datetime.now(timezone.utc) + timedelta(days=40), f"reason {MD}")
    with_md.append(m.id or 0)
    for victim in ("victim_pass", "victim_deac"):  # before the server's first run: the
        # cookie restore works from a user list it caches for 30 s
        uc.accounts.create_user(app, admin, UserInput(victim, "Victim", frozenset({Role.FINANCE})),
                                PASSWORD)
    return evil, cid, number, b.id or 0, c.id or 0


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    data_dir = tmp_path_factory.mktemp("kesu-security-data")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_server(data_dir, 5, ARTIFACTS / "streamlit-server.log", background=False) as url:
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("DATABASE_URL", raising=False)
            mp.setenv("KESU_DATA_DIR", str(data_dir))
            mp.setenv("KESU_BCRYPT_ROUNDS", "4")
            from adapters.wiring import build_app

            app = build_app(f"sqlite:///{data_dir / 'kesu.db'}", run_migrations=False)
            evil, pending, number, dispatched, returned = _seed(app)
            yield Seeded(url, app, evil, pending, number, dispatched, returned,
                         ARTIFACTS / "streamlit-server.log")
        app.uow.engine.dispose()  # type: ignore[attr-defined]


@dataclass
class Watched:
    page: Page
    dialogs: list[str]


@pytest.fixture
def open_as(browser: Browser, seeded: Seeded,
            request: pytest.FixtureRequest) -> Iterator[Callable[[str], Watched]]:
    """A logged-in page per user, each in its own context, every dialog recorded."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def open_page(username: str) -> Watched:
        context = browser.new_context(base_url=seeded.url, locale="zh-CN",
                                      viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        dialogs: list[str] = []

        def on_dialog(d: Dialog) -> None:
            dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        page.goto("/?lang=zh")
        login_form_shown(page, ZH)
        login(page, ZH, username)
        wait_for_login_cookie(page, username)  # HttpOnly: the browser's store, not the page's
        settle(page)
        cookie = _cookie(context)
        if cookie is not None:
            seeded.cookies.append(str(cookie["value"]))
        return Watched(page, dialogs)

    try:
        yield open_page
    finally:
        screenshot_if_failed(request, pages)
        for c in contexts:
            c.close()


def _safe(w: Watched, *texts: str) -> None:
    """No dialog, no injected element; each text visible as text."""
    page = w.page
    settle(page, 800)
    for text in texts:
        shown = page.get_by_text(text, exact=False).filter(visible=True)
        expect(shown.first, f"not shown as text: {text}").to_be_visible()
    assert page.evaluate(INJECTED_JS) == []
    assert w.dialogs == []


# ---------------------------------------------------------------- the pages


def test_payloads_are_shown_as_text_on_the_complaint_page(open_as: Callable[[str], Watched],
                                                          seeded: Seeded) -> None:
    w = open_as("qa")
    page = w.page
    page.goto(f"/complaint?id={seeded.pending}&lang=zh")
    expect(heading(page, f"客诉 {seeded.pending_number}")).to_be_visible()
    idle(page)
    _safe(w, f"desc {IMG}", SCRIPT, f"Evil {IMG} Co.", f"壶 {IMG}")  # facts
    page.get_by_role("tab", name=re.compile("^对策与方案")).click()
    _safe(w, f"root {SVG}", f"capa {IMG}", f"contain {IMG}", f"meeting {IMG}", f"note {SCRIPT}")
    page.get_by_role("tab", name=re.compile(r"^附件")).click()
    _safe(w, f"{IMG}.png")
    page.get_by_role("tab", name=re.compile(r"^处理记录")).click()
    _safe(w, f"dispatch {SCRIPT}", f"ack {SVG}", f"classify {SCRIPT}", f"Eve {SVG}",
          f"position {SVG}")


def test_payloads_are_shown_as_text_on_my_tasks(open_as: Callable[[str], Watched],
                                                seeded: Seeded) -> None:
    qa = open_as("qa")
    qa.page.goto("/tasks?lang=zh")
    expect(heading(qa.page, "我的待办")).to_be_visible()
    _safe(qa, f"Evil {IMG} Co.")
    eve = open_as("xss_sales")
    eve.page.goto("/tasks?lang=zh")
    expect(heading(eve.page, "我的待办")).to_be_visible()
    _safe(eve, f"Evil {IMG} Co.", f"Eve {SVG}")


def test_payloads_are_shown_as_text_on_approve(open_as: Callable[[str], Watched],
                                               seeded: Seeded) -> None:
    w = open_as("gm")  # the demo's rules: a compensation is reviewed by the general manager
    w.page.goto("/approve?lang=zh")
    expect(w.page.get_by_text(seeded.pending_number).first).to_be_visible()
    _safe(w, f"Evil {IMG} Co.", f"note {SCRIPT}", f"Eve {SVG}", f"position {SVG}", f"root {SVG}")


def test_payloads_are_shown_as_text_on_the_log_register(open_as: Callable[[str], Watched],
                                                        seeded: Seeded) -> None:
    """The register is a data grid (drawn on a canvas, its cells in an accessible table)."""
    w = open_as("qa")
    page = w.page
    search = page.get_by_role("textbox", name=ZH.search, exact=True)
    search.fill("Evil")
    search.press("Enter")
    idle(page)
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    # the grid fills its accessible table a moment after it is drawn: wait for the row
    expect(page.get_by_test_id("stDataFrame").locator("table").first).to_contain_text(
        f"Evil {IMG} Co."
    )
    _safe(w)


def test_payloads_are_shown_as_text_on_investigate(open_as: Callable[[str], Watched],
                                                   seeded: Seeded) -> None:
    w = open_as("qa")
    w.page.goto(f"/investigate?id={seeded.pending}&lang=zh")
    expect(heading(w.page, f"{seeded.pending_number} · 待核决")).to_be_visible()
    _safe(w, f"desc {IMG}", SCRIPT, f"capa {IMG}")


def test_the_checks_catch_a_real_injection(open_as: Callable[[str], Watched]) -> None:
    """The detectors above are live: real HTML from a payload fires a dialog and is found."""
    w = open_as("qa")
    w.page.evaluate("html => document.body.insertAdjacentHTML('beforeend', html)", IMG)
    w.page.wait_for_function("() => true")
    expect(w.page.locator('img[src="x"]')).to_have_count(1)
    assert w.page.evaluate(INJECTED_JS) != []
    w.page.wait_for_timeout(500)  # let the image error fire (a wait, not an assertion on time)
    assert w.dialogs == ["1"]


def test_markdown_in_user_text_is_shown_as_text(open_as: Callable[[str], Watched],
                                                seeded: Seeded) -> None:
    """My Tasks writes the customer's name with st.markdown: no image is fetched from
    another server, no javascript: link, the name reads as typed."""
    w = open_as("qa")
    asked: list[str] = []
    w.page.on("request", lambda r: asked.append(r.url))
    w.page.goto("/tasks?lang=zh")
    expect(heading(w.page, "我的待办")).to_be_visible()
    _safe(w, MD)
    assert w.page.locator(f'img[src="{BEACON}"]').count() == 0
    assert w.page.locator('a[href^="javascript:"]').count() == 0
    # the Complaint page: the extension request (a warning) and the timeline's "by" lines
    w.page.goto(f"/complaint?id={with_md[0]}&lang=zh")
    idle(w.page)
    _safe(w, f"reason {MD}", f"text {MD}")
    w.page.get_by_role("tab", name=re.compile(r"^处理记录")).click()
    _safe(w, f"comment {MD}")
    by = w.page.get_by_test_id("stCaptionContainer").filter(has_text=MD)
    expect(by.first).to_be_visible()  # "by <the user's name>" lines of the timeline
    assert w.page.locator(f'img[src="{BEACON}"]').count() == 0
    assert not [u for u in asked if "beacon" in u]


# ---------------------------------------------------------------- forbidden URLs


@pytest.mark.parametrize(
    ("username", "path", "title"),
    [
        ("sales", "admin", "系统管理"),
        ("sales", "approve", "核决"),
        ("sales", "investigate", "调查"),
        ("qa", "admin", "系统管理"),
        ("finance", "investigate", "调查"),
    ],
)
def test_a_forbidden_url_shows_the_message_not_the_page(open_as: Callable[[str], Watched],
                                                        username: str, path: str,
                                                        title: str) -> None:
    w = open_as(username)
    w.page.goto(f"/{path}?lang=zh")
    idle(w.page)
    settle(w.page)
    expect(
        w.page.get_by_test_id("stAlertContentError").filter(has_text="您的角色不能打开此页面。")
    ).to_be_visible()
    expect(heading(w.page, title)).to_have_count(0)


# ---------------------------------------------------------------- the login cookie


def _cookie(context: BrowserContext) -> dict[str, object] | None:
    return next((dict(c) for c in context.cookies() if c["name"] == "kesu_session"), None)


def _put_back(context: BrowserContext, cookie: dict[str, object]) -> None:
    """A copy of a cookie (name, value, domain, path) into another browser context."""
    context.add_cookies([{"name": str(cookie["name"]), "value": str(cookie["value"]),
                          "domain": str(cookie["domain"]), "path": str(cookie["path"])}])


def test_an_old_cookie_replayed_after_logout_is_refused(open_as: Callable[[str], Watched],
                                                        browser: Browser, seeded: Seeded) -> None:
    w = open_as("finance")
    page = w.page
    settle(page)
    old = _cookie(page.context)
    assert old is not None, "logged in without a cookie?"
    settle(page)
    page.get_by_role("button", name=ZH.logout, exact=True).click()
    login_form_shown(page, ZH)
    assert _cookie(page.context) is None  # the browser's cookie is gone
    # a copy of the old cookie, put back (or used from another browser)
    thief = browser.new_context(base_url=seeded.url, locale="zh-CN")
    try:
        _put_back(thief, old)
        p = thief.new_page()
        p.goto("/?lang=zh")
        login_form_shown(p, ZH)
        expect(heading(p, ZH.log_title)).to_have_count(0)
    finally:
        thief.close()


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_a_cookie_is_refused_after_password_change_or_deactivation(
    open_as: Callable[[str], Watched], browser: Browser, seeded: Seeded, change: str
) -> None:
    app = seeded.app
    admin = _user(app, "admin")
    username = f"victim_{change[:4]}"
    victim = _user(app, username)
    w = open_as(username)
    settle(w.page)
    cookie = _cookie(w.page.context)
    assert cookie is not None
    # the same cookie still works in a new tab before the change
    again = w.page.context.new_page()
    again.goto("/?lang=zh")
    expect(heading(again, ZH.log_title)).to_be_visible()
    again.close()
    if change == "password":
        uc.accounts.reset_password(app, admin, victim.id, "a brand new password")
    else:
        uc.accounts.update_user(
            app,
            admin,
            victim.id,
            UserInput(username, "Victim", frozenset({Role.FINANCE}), active=False),
        )
    thief = browser.new_context(base_url=seeded.url, locale="zh-CN")
    try:
        _put_back(thief, cookie)
        p = thief.new_page()
        p.goto("/?lang=zh")
        login_form_shown(p, ZH)
    finally:
        thief.close()
    # and the session already open ends at its next run
    w.page.reload()
    login_form_shown(w.page, ZH)


WRONG = "Wr0ng-Pa55-for-the-log"


def test_no_password_hash_or_cookie_in_the_server_log(open_as: Callable[[str], Watched],
                                                      browser: Browser, seeded: Seeded) -> None:
    """Runs last in this module: the server has seen logins, failed logins, logouts, a
    password reset and cookie replays by now."""
    context = browser.new_context(base_url=seeded.url, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto("/?lang=zh")
        login_form_shown(page, ZH)
        page.get_by_role("textbox", name=ZH.username, exact=True).fill("qa")
        page.get_by_role("textbox", name=ZH.password, exact=True).fill(WRONG)
        page.get_by_role("button", name=ZH.login, exact=True).click()
        expect(page.get_by_text(ZH.login_failed)).to_be_visible()
    finally:
        context.close()
    open_as("sales")  # one more successful login
    assert seeded.cookies, "no cookie was seen: the check would be empty"
    log = seeded.log.read_text(errors="replace")
    assert "You can now view" in log  # the server's output is there to read
    for secret in [PASSWORD, WRONG, "a brand new password", *seeded.cookies]:
        assert secret not in log
    assert not re.search(r"\$2[aby]\$\d\d\$", log)  # no bcrypt hash
