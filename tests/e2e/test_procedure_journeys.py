"""Issue #12's "Done means" in a real browser, in the Chinese UI (docs/procedure.md §6):

1. seed 4.3.2: sales proposes a compensation, the general manager reviews (step 1 of 2), the
   chairman approves on a phone, sales replies, finance pays in two instalments and completes;
   the handling form (PDF from the Complaint page) lists both signers and both payments;
2. seed 4.3.3: an approved rework carried out step by step by each step's owner — goods
   received (制造部) → rework plan (工程部) → purchase (物资中心) → rework (制造部) → QA
   inspection → customer re-inspection (营销部) — the disposition is done and the handling
   form's 执行过程 table lists every step;
3. the general manager as proposer: the chairman's card says why the GM's step moved, the
   chairman signs, the case goes on to the reply;
4. a field of the factory's own made on Admin (车牌号) is filled on the Log page, shown on the
   Complaint page, in the register's Excel export and on the handling form.

The steps before the one a journey is about are taken through the use cases (an in-process
service object on the server's SQLite file, WAL mode), as tests/e2e/test_lifecycle_journey.py
does. The texts a user reads come from the catalogs (`zh`); the demo's names are data.

This module has its own server (own port and KESU_DATA_DIR, `manage.py demo --cases 6`,
DATABASE_URL removed) because it changes users, settings and cases. Screenshots of a failed
test's pages go to KESU_E2E_ARTIFACTS (default <system temp>/kesu-e2e-artifacts)/procedure.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect
from playwright.sync_api import Error as PlaywrightError
from pypdf import PageObject, PdfReader
from pypdf.generic import DictionaryObject, NameObject, StreamObject

from core import usecases as uc
from core.i18n import t, tn
from core.model import (
    CapaType,
    Category,
    Channel,
    Complaint,
    DispositionType,
    Kind,
    ReplyMethod,
    Role,
    Severity,
    SixM,
    State,
    StepStatus,
    Title,
    User,
    Validity,
)
from core.usecases.accounts import UserInput
from core.usecases.approval import DispositionInput
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.e2e.conftest import running_server
from tests.e2e.helpers import (
    PASSWORD, heading, idle, save_after_grid_edit, settle, wait_for_login_cookie,
)

ARTIFACTS = (
    Path(os.environ.get("KESU_E2E_ARTIFACTS") or Path(tempfile.gettempdir()) / "kesu-e2e-artifacts")
    / "procedure"
)
DESKTOP: ViewportSize = {"width": 1400, "height": 1000}
PHONE: ViewportSize = {"width": 390, "height": 844}
# who holds which title in the demo (core/data/presets/manufacturing.json)
SIGNER = {Title.SALES_MANAGER.value: "manager", Title.GENERAL_MANAGER.value: "gm",
          Title.CHAIRMAN.value: "chairman", Title.QA_MANAGER.value: "qamanager"}

expect.set_options(timeout=20_000)


def zh_title(srv: Server, code: str) -> str:
    """A title's name as the demo defines it (titles are data, not catalog texts)."""
    return uc.authority.titles(srv.app).name(code, "zh")


def zh(key: str, **params: Any) -> str:
    """A text of the Chinese catalog (a key the catalog lacks fails here, not silently)."""
    text = t(key, "zh", **params)
    assert text != key, f"no Chinese text for {key}"
    return text


# ---------------------------------------------------------------- server and service layer


@dataclass
class Server:
    url: str
    data_dir: Path
    app: Context  # in-process, on the server's SQLite file

    def user(self, username: str) -> User:
        return next(u for u in uc.accounts.list_users(self.app, self.admin())
                    if u.username == username)

    def name(self, username: str) -> str:
        return self.user(username).display_name

    def admin(self) -> User:
        return next(u for u in uc.accounts.list_active_users(self.app) if u.username == "admin")

    def dept(self, code: str) -> int:
        return next(d.id for d in uc.reference.departments(self.app) if d.code == code)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh app on its own port and data folder with the demo; the two people the demo
    lacks for the rework chain (工程部, 物资中心), made as an administrator would."""
    data_dir = tmp_path_factory.mktemp("kesu-procedure-data")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("test_*.png"):  # screenshots of an earlier run
        old.unlink()
    with running_server(data_dir, 6, ARTIFACTS / "streamlit-server.log", background=False) as url:
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("DATABASE_URL", raising=False)
            mp.setenv("KESU_DATA_DIR", str(data_dir))
            mp.setenv("KESU_BCRYPT_ROUNDS", "4")
            from adapters.wiring import build_app

            app = build_app(f"sqlite:///{data_dir / 'kesu.db'}", run_migrations=False)
        srv = Server(url, data_dir, app)
        have = {u.username for u in uc.accounts.list_users(app, srv.admin())}
        for username, name, dept in (("eng", "林峰（工程部）", "ENG"),
                                     ("mat", "何静（物资中心）", "MAT")):
            if username not in have:
                uc.accounts.create_user(app, srv.admin(), UserInput(
                    username, name, frozenset({Role.PRODUCTION}), srv.dept(dept)), PASSWORD)
        yield srv
        app.uow.engine.dispose()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- one browser per user


@dataclass
class Users:
    """Logged-in pages, one browser context per user."""

    browser: Browser
    server: Server
    contexts: list[BrowserContext] = field(default_factory=list)
    pages: dict[str, Page] = field(default_factory=dict)

    def __call__(self, username: str, viewport: ViewportSize | None = None) -> Page:
        if username not in self.pages:
            context = self.browser.new_context(base_url=self.server.url, locale="zh-CN",
                                               viewport=viewport or DESKTOP,
                                               accept_downloads=True)
            self.contexts.append(context)
            page = context.new_page()
            _log_in(page, username)
            self.pages[username] = page
        return self.pages[username]


@pytest.fixture
def users(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Users]:
    """Pages per user; when the test fails, every one of them is saved as a screenshot."""
    u = Users(browser, server)
    try:
        yield u
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[-100:]
            for key, page in u.pages.items():
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{key}.png"), full_page=True)
                except Exception as err:  # noqa: BLE001 - a screenshot must not hide the failure
                    print(f"screenshot of {key} failed: {err}")
            print(f"screenshots in {ARTIFACTS}")
        for context in u.contexts:
            context.close()


# ---------------------------------------------------------------- browser steps


def _log_in(page: Page, username: str) -> None:
    """The login form, then the Log page; wait until the login cookie is really written."""
    page.goto("/?lang=zh")
    expect(heading(page, zh("login.title"))).to_be_visible()
    page.get_by_role("textbox", name=zh("login.username"), exact=True).fill(username)
    page.get_by_role("textbox", name=zh("login.password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=zh("login.submit"), exact=True).click()
    expect(heading(page, zh("log.title"))).to_be_visible()
    wait_for_login_cookie(page, username)
    _settle(page)


def _settle(page: Page) -> None:
    idle(page)
    settle(page, 500)


def _open(page: Page, path: str, title: str) -> None:
    """A typed URL (a new session, logged in by the cookie); wait for the page's heading."""
    page.goto(f"{path}{'&' if '?' in path else '?'}lang=zh")
    expect(heading(page, title)).to_be_visible()
    _settle(page)


def _case(page: Page, c: Complaint) -> None:
    _open(page, f"/complaint?id={c.id}", zh("case.title", number=c.number))


def _state_is(page: Page, state: State) -> None:
    text = f"{zh('field.state')}: {zh('state.' + state.value)}"
    expect(page.get_by_text(text, exact=True)).to_be_visible()


def _saved(page: Page, text: str | None = None) -> None:
    """The success message of the action just taken (shown once, after the rerun)."""
    ok = page.get_by_test_id("stAlertContentSuccess").filter(has_text=text or zh("common.saved"))
    expect(ok).to_be_visible()
    idle(page)


def _pick(page: Page, combobox: str, option: str) -> None:
    """A Streamlit selectbox: type to filter, click the option."""
    box = page.get_by_role("combobox", name=combobox, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


def _tab(page: Page, name: str) -> None:
    """Open a tab once the rerun's old page is gone; a rerun starting between the check and
    the click can show both pages' tabs for a moment: then wait and click again."""
    tab = page.get_by_role("tab", name=name)
    for attempt in range(3):
        idle(page)
        expect(tab).to_have_count(1)
        try:
            tab.click()
            return
        except PlaywrightError:
            if attempt == 2:
                raise


def _action(page: Page, name: str) -> Locator:
    """Open the action panel's expander `name` (Complaint page); return it."""
    exp = page.get_by_test_id("stExpander").filter(has=page.locator("summary", has_text=name))
    expect(exp).to_have_count(1)
    exp.locator("summary").click()
    expect(exp.get_by_test_id("stFormSubmitButton")).to_be_visible()
    return exp


def _form(page: Page, has_text: str) -> Locator:
    form = page.get_by_test_id("stForm").filter(has_text=has_text)
    expect(form).to_have_count(1)
    return form


def _submit(scope: Locator) -> None:
    settle(scope.page, 500)  # a quiet app first, as a person looks before clicking
    scope.get_by_test_id("stFormSubmitButton").get_by_role("button").click()


def _submit_saved(scope: Locator, text: str | None = None) -> None:
    """Submit a form and see its success message. A refusal fails at once with the message
    the user saw. A click that no run answered (once seen on a loaded PostgreSQL run: no
    success, no error, the case unchanged) is made again: the first did nothing."""
    page = scope.page
    ok = page.get_by_test_id("stAlertContentSuccess").filter(has_text=text or zh("common.saved"))
    for attempt in range(2):
        _submit(scope)
        try:
            expect(ok).to_be_visible(timeout=20_000)
            break
        except AssertionError:
            refused = page.get_by_test_id("stAlertContentError").all_inner_texts()
            if refused:
                raise AssertionError(f"the save was refused: {refused}") from None
            if attempt:
                raise
    idle(page)


def _card(page: Page, c: Complaint) -> Locator:
    """The case's card on the Approve page (the innermost block with its 核准 button)."""
    button = page.locator(f"[class*='st-key-ok_{c.id}_'] button")
    expect(button).to_be_visible()
    return page.get_by_test_id("stVerticalBlock").filter(has=button).filter(
        has_text=c.number).last


def _approve(page: Page, card: Locator, c: Complaint) -> None:
    settle(page, 500)
    card.locator(f"[class*='st-key-ok_{c.id}_'] button").click()
    _saved(page, zh("appr.approved", number=c.number))
    expect(page.locator(f"[class*='st-key-ok_{c.id}_'] button")).to_have_count(0)


def _no_horizontal_scroll(page: Page, width: int) -> None:
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width, f"the page is {page_width} px wide on a {width} px screen"


def _download(page: Page, button: str, to: Path) -> bytes:
    """Click a download button (its file is drawn on the click) and return the file."""
    target = page.get_by_role("button", name=button, exact=True)
    target.scroll_into_view_if_needed()
    settle(page, 500)
    with page.expect_download(timeout=60_000) as got:
        target.click()
    got.value.save_as(to)
    return to.read_bytes()


def _handling_form(page: Page, c: Complaint, tmp: Path) -> str:
    """The handling form's PDF as the Complaint page offers it; its text without spaces."""
    _case(page, c)
    page.get_by_role("tab", name=zh("doc.section"), exact=True).click()  # its own tab (#14)
    data = _download(page, zh("doc.download", doc=zh("doc.form"), fmt="PDF"),
                     tmp / f"{c.number}.pdf")
    assert data.startswith(b"%PDF")
    return "".join(_pdf_pages(data))


def _pdf_pages(pdf: bytes) -> list[str]:
    """Each page's text without whitespace. fpdf2 embeds the CJK font with its own code→CID
    CMap as /Encoding, which pypdf does not read: the codes are two bytes mapped by
    /ToUnicode, as for /Identity-H — tell pypdf so (tests/integration/test_documents_render)."""
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for ref in _fonts(page).values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type0" and isinstance(
                    font["/Encoding"].get_object(), StreamObject):
                font[NameObject("/Encoding")] = NameObject("/Identity-H")
    return [re.sub(r"\s+", "", page.extract_text() or "") for page in reader.pages]


def _fonts(page: PageObject) -> DictionaryObject:
    resources = page["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    fonts = resources["/Font"].get_object()
    assert isinstance(fonts, DictionaryObject)
    return fonts


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- cases made in-process


def _code() -> str:
    return f"PJ-{uuid.uuid4().hex[:8].upper()}"


def _id(c: Complaint) -> int:
    assert c.id is not None
    return c.id


def _disposition_case(srv: Server, text: str) -> Complaint:
    """A valid quality case of 制造部 whose CAPA plan QA approved: at "disposition"."""
    app = srv.app
    sales, qa, prod = srv.user("sales"), srv.user("qa"), srv.user("prod")
    code = _code()
    c = uc.complaints.register_complaint(app, sales, ComplaintDraft(
        customer_id=uc.reference.customers(app)[0].id, kind=Kind.COMPLAINT,
        channel=Channel.PHONE, description=f"{text} {code}", category=Category.QUALITY,
        product_code=code, defect_type_id=uc.reference.defect_types(app)[0].id,
        severity_proposed=Severity.C))
    c = uc.investigation.dispatch(app, sales, _id(c), c.version)
    c = uc.investigation.acknowledge(app, qa, _id(c), c.version)
    c = uc.investigation.classify(app, qa, _id(c), c.version, Validity.VALID, Category.QUALITY,
                                  Severity.C, srv.dept("MFG"))
    c = uc.investigation.save_analysis(app, prod, _id(c), c.version, prod_lot="L-2604",
                                       six_m=SixM.METHOD, root_cause="装配工序漏检外壳卡扣。")
    c = uc.investigation.add_capa(app, prod, _id(c), CapaType.CORRECTIVE, "增加卡扣全检工位",
                                  prod.id, datetime.now().date() + timedelta(days=30))
    c = uc.investigation.submit_analysis(app, prod, _id(c), c.version)
    c = uc.investigation.approve_capa(app, qa, _id(c), c.version)
    assert c.state == State.DISPOSITION
    return c


def _sign_all(srv: Server, cid: int) -> Complaint:
    """Every pending step signed by the demo's holder of its title."""
    app = srv.app
    while True:
        case = uc.complaints.case_file(app, srv.admin(), cid)
        if case.complaint.state != State.PENDING_APPROVAL:
            return case.complaint
        step = uc.approval.first_pending(case)
        assert step is not None
        uc.approval.approve_step(app, srv.user(SIGNER[step.title]), cid, case.complaint.version)


def _capa_done(srv: Server, cid: int) -> None:
    for a in uc.complaints.case_file(srv.app, srv.admin(), cid).capa:
        if a.status != "done":
            uc.investigation.complete_capa(srv.app, srv.user("prod"), a.id or 0,
                                           "卡扣全检工位已上线，首批 500 件无漏检。")


# ---------------------------------------------------------------- 1. seed 4.3.2 compensation


def test_compensation_gm_reviews_chairman_approves_finance_pays_twice(
        users: Users, server: Server, tmp_path: Path) -> None:
    t0 = time.monotonic()
    c = _disposition_case(server, "端到端 4.3.2：电饭煲内胆涂层脱落，客户索赔")

    # sales types an 8,000 CNY compensation into the dispositions editor and proposes it
    sales = users("sales")
    _case(sales, c)
    _state_is(sales, State.DISPOSITION)
    _tab(sales, zh("case.records"))
    grid = sales.get_by_test_id("stDataFrame").filter(
        has=sales.locator("th", has_text=zh("field.dispositions")))
    expect(grid).to_have_count(1)
    grid.scroll_into_view_if_needed()
    settle(sales, 1000)
    # the one starting row is a compensation of 0.00: select its first cell, move to the
    # amount, open the cell editor (once the canvas has the keyboard focus) and type
    expect(grid.locator("#glide-cell-1-0")).to_have_text(zh("disposition_type.compensation"))
    grid.click(position={"x": 120, "y": 52})
    sales.wait_for_function("document.activeElement?.tagName === 'CANVAS'", timeout=5000)
    sales.keyboard.press("ArrowRight")
    sales.keyboard.press("ArrowRight")
    sales.keyboard.press("Enter")
    editor = sales.locator("input.gdg-input, textarea.gdg-input")
    expect(editor).to_have_value(re.compile(r"^0(\.0+)?$"))  # really the amount cell
    editor.fill("8000")
    editor.press("Enter")
    expect(grid.locator("#glide-cell-3-0")).to_have_text(re.compile(r"^8,?000(\.00)?$"))
    save_after_grid_edit(sales, zh("disp.save"), zh("common.saved"))
    propose = _action(sales, zh("action.propose"))
    expect(sales.get_by_text(zh("appr.total", amount="8,000.00"), exact=True).first).to_be_visible()
    propose.get_by_role("textbox", name=zh("field.customer_position") + " *").fill(
        "客户接受分两期赔付 8,000 元。")
    _submit_saved(propose)
    _state_is(sales, State.PENDING_APPROVAL)

    # the general manager reviews: step 1 of 2 (the demo's rule for a compensation)
    gm = users("gm")
    _open(gm, "/approve", zh("appr.title"))
    card = _card(gm, c)
    expect(card.get_by_text(zh("appr.step", seq=1, n=2, title=zh_title(server, "general_manager")),
                            exact=True)).to_be_visible()
    expect(card.get_by_text(zh("appr.total", amount="8,000.00"), exact=True)).to_be_visible()
    card.get_by_role("textbox", name=zh("appr.comment")).fill("同意，请董事长批准。")
    _approve(gm, card, c)

    # the chairman approves step 2 of 2 on a phone, seeing the GM's signature and comment
    chairman = users("chairman", viewport=PHONE)
    _open(chairman, "/approve", zh("appr.title"))
    card = _card(chairman, c)
    expect(card.get_by_text(zh("appr.step", seq=2, n=2, title=zh_title(server, "chairman")),
                            exact=True)).to_be_visible()
    expect(card.get_by_text(re.compile(re.escape(server.name("gm")) + ".*同意，请董事长批准。"))
           ).to_be_visible()
    _no_horizontal_scroll(chairman, PHONE["width"])
    _approve(chairman, card, c)
    _no_horizontal_scroll(chairman, PHONE["width"])

    # sales replies to the customer
    _case(sales, c)
    _state_is(sales, State.REPLYING)
    reply = _action(sales, zh("action.reply"))
    reply.get_by_role("textbox", name=zh("field.reply_text") + " *").fill(
        "经调查为内胆喷涂工艺问题，我司分两期赔偿 8,000 元。")
    _submit_saved(reply)
    _state_is(sales, State.IMPLEMENTING)
    _capa_done(server, _id(c))  # production's corrective action (not this journey's point)

    # finance pays in two instalments through the payment form, then completes
    finance = users("finance")
    _case(finance, c)
    for amount, voucher in (("3000", "HK-4302-001"), ("5000", "HK-4302-002")):
        _tab(finance, zh("case.records"))
        payment = _form(finance, zh("disp.pay"))
        payment.get_by_role("textbox", name=zh("field.amount"), exact=True).fill(amount)
        payment.get_by_role("textbox", name=zh("field.voucher"), exact=True).fill(voucher)
        _submit_saved(payment)
    _tab(finance, zh("case.records"))
    expect(finance.get_by_text(zh("disp.paid", paid="8,000.00", approved="8,000.00"),
                               exact=True)).to_be_visible()
    expect(finance.get_by_test_id("stForm").filter(has_text=zh("disp.pay"))).to_have_count(0)
    _submit_saved(_action(finance, zh("action.complete")))
    _state_is(finance, State.VERIFYING)

    # the handling form lists both signers and both payments
    pdf = _handling_form(finance, c, tmp_path)
    for expected in (*(server.name(u) for u in ("gm", "chairman", "finance")),
                     zh_title(server, "general_manager"), zh_title(server, "chairman"),
                     "同意，请董事长批准。", zh("doc.payments"),
                     "3,000.00", "5,000.00", "HK-4302-001", "HK-4302-002"):
        assert _flat(expected) in pdf, expected
    case = uc.complaints.case_file(server.app, server.admin(), _id(c))
    steps = case.current(case.steps)
    assert [(s.title, s.status, s.decided_by_id) for s in steps] == [
        ("general_manager", StepStatus.APPROVED, server.user("gm").id),
        ("chairman", StepStatus.APPROVED, server.user("chairman").id)]
    assert [p.amount for p in uc.closure.payments(server.app, server.admin(), _id(c))] == [
        Decimal("3000.00"), Decimal("5000.00")]
    print(f"4.3.2 compensation journey took {time.monotonic() - t0:.1f} s")


# ---------------------------------------------------------------- 2. seed 4.3.3 rework chain


def _chain_step(page: Page, step: str) -> Locator:
    """The form of the chain's next step, on the Complaint page's 对策与方案 tab."""
    _tab(page, zh("case.records"))
    return _form(page, zh("chain_step." + step))


def _qty(form: Locator, name: str, value: int) -> None:
    box = form.get_by_label(zh("field." + name) + " *", exact=True)
    box.fill(str(value))


def _record(page: Page, form: Locator) -> None:
    _submit_saved(form)


def test_rework_chain_each_step_by_its_owner(users: Users, server: Server,
                                             tmp_path: Path) -> None:
    t0 = time.monotonic()
    app = server.app
    c = _disposition_case(server, "端到端 4.3.3：轴承座内孔尺寸超差，客户退货要求返工")
    sales = server.user("sales")
    c = uc.approval.set_dispositions(app, sales, _id(c), c.version, [
        DispositionInput(DispositionType.REWORK, 100, Decimal("1500.00"), "全数返工")])
    c = uc.approval.propose(app, sales, _id(c), c.version, "客户同意退回返工。")
    c = _sign_all(server, _id(c))
    c = uc.closure.reply(app, sales, _id(c), c.version, datetime.now().date(),
                         ReplyMethod.EMAIL, "我司将对退回的 100 件全数返工后重新交货。")
    assert c.state == State.IMPLEMENTING

    # goods received — the responsible department, 制造部
    prod = users("prod")
    _case(prod, c)
    _tab(prod, zh("case.records"))
    expect(prod.get_by_text(zh("chain.title"), exact=True)).to_be_visible()
    form = _chain_step(prod, "goods_received")
    _qty(form, "received_qty", 100)
    _record(prod, form)
    _tab(prod, zh("case.records"))
    expect(prod.get_by_text(re.compile("^✓ " + re.escape(zh("chain_step.goods_received"))))
           ).to_be_visible()
    # the plan is 工程部's: production of 制造部 is told who records it, without a form
    eng_dept = next(d.name_zh for d in uc.reference.departments(app) if d.code == "ENG")
    expect(prod.get_by_text(zh("chain.waiting", owner=f"{eng_dept} · {zh('role.production')}"),
                            exact=True)).to_be_visible()
    expect(prod.get_by_test_id("stForm").filter(has_text=zh("chain_step.rework_plan"))
           ).to_have_count(0)

    # the rework plan — 工程部
    eng = users("eng")
    _case(eng, c)
    form = _chain_step(eng, "rework_plan")
    form.get_by_role("textbox", name=zh("field.rework_plan") + " *").fill(
        "内孔重新精镗至公差中值，100% 三坐标复检。")
    _record(eng, form)

    # the purchase request and arrival — 物资中心
    mat = users("mat")
    _case(mat, c)
    form = _chain_step(mat, "purchase")
    form.get_by_role("textbox", name=zh("field.request_no") + " *").fill("请购-4303-01")
    _record(mat, form)

    # the rework — 制造部
    _case(prod, c)
    form = _chain_step(prod, "rework")
    _qty(form, "reworked_qty", 100)
    _record(prod, form)

    # QA inspection
    qa = users("qa")
    _case(qa, c)
    form = _chain_step(qa, "inspection")
    _qty(form, "passed_qty", 100)
    _qty(form, "failed_qty", 0)
    _record(qa, form)

    # the customer's re-inspection — 营销部
    sales_page = users("sales")
    _case(sales_page, c)
    form = _chain_step(sales_page, "customer_check")
    form.get_by_test_id("stRadio").get_by_text(zh("common.yes"), exact=True).click()
    form.get_by_role("textbox", name=zh("field.check_note")).fill("客户复检 100 件全部合格。")
    _record(sales_page, form)

    # the disposition is done; the chain says so and offers nothing more
    _tab(sales_page, zh("case.records"))
    expect(sales_page.get_by_text(zh("chain.finished"), exact=True)).to_be_visible()
    expect(sales_page.get_by_text(re.compile(
        "^" + re.escape(zh("disposition_type.rework")) + " · 100 · 1,500.00 · "
        + re.escape(zh("disp.done"))))).to_be_visible()
    expect(sales_page.get_by_role("button", name=zh("chain.record"))).to_have_count(0)

    # the handling form's 执行过程 lists every step, with its values and who recorded it
    pdf = _handling_form(qa, c, tmp_path)
    for expected in (zh("doc.chain_steps"),
                     *(zh("chain_step." + s) for s in ("goods_received", "rework_plan",
                                                       "purchase", "rework", "inspection",
                                                       "customer_check")),
                     zh("field.received_qty") + "100", "内孔重新精镗至公差中值", "请购-4303-01",
                     zh("field.reworked_qty") + "100", zh("field.passed_qty") + "100",
                     zh("field.accepted") + zh("common.yes"), "客户复检100件全部合格",
                     *(server.name(u) for u in ("eng", "mat", "prod", "qa", "sales"))):
        assert _flat(expected) in pdf, expected

    [view] = uc.chains.case_chains(app, server.admin(), _id(c))
    assert view.finished and view.disposition.done and view.disposition.done_qty == 100
    by = {u: server.user(u).id for u in ("prod", "eng", "mat", "qa", "sales")}
    assert [(r.step, r.by_id) for r in view.records] == [
        ("goods_received", by["prod"]), ("rework_plan", by["eng"]), ("purchase", by["mat"]),
        ("rework", by["prod"]), ("inspection", by["qa"]), ("customer_check", by["sales"])]
    print(f"4.3.3 rework journey took {time.monotonic() - t0:.1f} s")


# ---------------------------------------------------------------- 3. the GM as proposer


def test_general_manager_as_proposer_the_chairman_signs_instead(
        users: Users, server: Server) -> None:
    t0 = time.monotonic()
    app, admin = server.app, server.admin()
    gm = server.user("gm")
    as_was = UserInput(gm.username, gm.display_name, gm.roles, gm.department_id, gm.titles,
                       gm.language, gm.active, gm.email)
    # the general manager also works as sales (a small company: the GM deals with a customer)
    uc.accounts.update_user(app, admin, gm.id, UserInput(
        gm.username, gm.display_name, gm.roles | {Role.SALES}, gm.department_id, gm.titles,
        gm.language, gm.active, gm.email))
    try:
        c = _disposition_case(server, "端到端：总经理亲自提案的赔款")
        gm = server.user("gm")
        c = uc.approval.set_dispositions(app, gm, _id(c), c.version, [
            DispositionInput(DispositionType.COMPENSATION, None, Decimal("6000.00"))])

        # the general manager proposes in the browser
        gm_page = users("gm")
        _case(gm_page, c)
        propose = _action(gm_page, zh("action.propose"))
        propose.get_by_role("textbox", name=zh("field.customer_position") + " *").fill(
            "客户接受赔款 6,000 元。")
        _submit_saved(propose)
        _state_is(gm_page, State.PENDING_APPROVAL)
        # nothing for the GM to sign on the own proposal
        _open(gm_page, "/approve", zh("appr.title"))
        expect(gm_page.locator(f"[class*='st-key-ok_{c.id}_'] button")).to_have_count(0)

        # the chairman's card says why the GM's step is the chairman's
        chairman = users("chairman")
        _open(chairman, "/approve", zh("appr.title"))
        card = _card(chairman, c)
        moved = zh("appr.moved.proposer", titles=zh_title(server, "general_manager"),
                   title=zh_title(server, "chairman"))
        expect(card.get_by_text(moved, exact=True)).to_be_visible()
        expect(card.get_by_text(zh("appr.proposer", name=server.name("gm")), exact=True)
               ).to_be_visible()
        _approve(chairman, card, c)

        # the round is finished: the case goes on to the reply
        sales = users("sales")
        _case(sales, c)
        _state_is(sales, State.REPLYING)
        expect(sales.get_by_test_id("stExpander").filter(
            has=sales.locator("summary", has_text=zh("action.reply")))).to_have_count(1)
        case = uc.complaints.case_file(app, admin, _id(c))
        steps = case.current(case.steps)
        assert all(s.status == StepStatus.APPROVED for s in steps), steps
        assert {s.decided_by_id for s in steps} == {server.user("chairman").id}
        assert server.user("gm").id not in {s.decided_by_id for s in steps}
    finally:
        uc.accounts.update_user(app, admin, gm.id, as_was)
    print(f"GM-as-proposer journey took {time.monotonic() - t0:.1f} s")


# ---------------------------------------------------------------- 4. a field of their own


def test_custom_field_made_on_admin_is_logged_exported_and_printed(
        users: Users, server: Server, tmp_path: Path) -> None:
    t0 = time.monotonic()
    plate = "沪A·7K215"

    # the administrator adds a text field 车牌号 on Admin → 自定义字段
    admin = users("admin")
    _open(admin, "/admin", zh("admin.title"))
    _tab(admin, zh("admin.custom_fields"))
    new = admin.get_by_test_id("stExpander").filter(
        has=admin.locator("summary", has_text=zh("admin.custom_new")))
    expect(new).to_be_visible()  # the tab is drawn by the run its click starts (issue #14)
    idle(admin)
    form = new.get_by_test_id("stForm")
    if not form.is_visible():
        new.locator("summary").click()
    expect(form).to_be_visible()
    form.get_by_role("textbox", name=zh("field.custom_key") + " *").fill("plate")
    expect(form.get_by_role("combobox", name=zh("field.custom_type") + " *")).to_have_value(
        zh("field_type.text"))
    form.get_by_role("textbox", name=zh("field.label_zh") + " *").fill("车牌号")
    form.get_by_role("textbox", name=zh("field.label_en") + " *").fill("Vehicle plate")
    _submit_saved(form)
    _tab(admin, zh("admin.custom_fields"))  # still open after the save (a click changes nothing)
    expect(admin.get_by_test_id("stDataFrame").filter(has_text="车牌号")).to_have_count(1)

    # sales logs a case with it on the Log page
    sales = users("sales")
    _open(sales, "/", zh("log.title"))
    code = _code()
    _pick(sales, zh("field.customer") + " *", "华东电器有限公司")
    sales.get_by_role("textbox", name=zh("field.description") + " *", exact=True).fill(
        f"端到端：物流车运输途中包装破损 {code}")
    sales.get_by_role("textbox", name=zh("field.product_code") + " *", exact=True).fill(code)
    _pick(sales, zh("field.defect_type") + " *", "外观划伤")
    expect(sales.get_by_text(zh("custom.section"), exact=True)).to_be_visible()
    sales.get_by_role("textbox", name="车牌号", exact=True).fill(plate)
    settle(sales, 500)
    sales.get_by_role("button", name=zh("log.submit"), exact=True).click()
    saved = re.compile(re.escape(zh("log.saved", number="@@")).replace("@@", r"(KS\d{4}-\d{3,})"))
    ok = sales.get_by_test_id("stAlertContentSuccess").filter(has_text=saved)
    expect(ok).to_be_visible()
    found = saved.search(ok.inner_text())
    assert found, ok.inner_text()
    number = found.group(1)
    idle(sales)
    cid = uc.search.complaint_id_by_number(server.app, server.user("sales"), number)
    assert cid is not None
    c = uc.complaints.case_file(server.app, server.user("sales"), cid).complaint

    # the Complaint page shows it with the case's facts
    _case(sales, c)
    expect(sales.get_by_text(f"车牌号: {plate}", exact=True)).to_be_visible()

    # the register's Excel export has a 车牌号 column with the value
    _open(sales, "/", zh("log.title"))
    search = sales.get_by_role("textbox", name=zh("log.search"), exact=True)
    search.fill(code)
    search.press("Enter")
    expect(sales.get_by_text(tn("log.page_of", 1, "zh", total=1, page=1, pages=1), exact=True)
           ).to_be_visible()
    idle(sales)
    # the file is made first (its default columns include the factory's own fields), then
    # offered for download
    make = sales.get_by_role("button", name=zh("export.make"), exact=True)
    make.scroll_into_view_if_needed()
    make.click()
    expect(sales.get_by_text(tn("export.ready", 1, "zh"), exact=True)).to_be_visible()
    idle(sales)
    book = load_workbook(io.BytesIO(_download(sales, zh("log.export_xlsx"),
                                              tmp_path / "register.xlsx")))
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert rows[0][0] == zh("log.register"), rows[0]  # the title row, the filter line, the header
    header = rows[2]
    assert "车牌号" in header, header
    mine = [r for r in rows[1:] if number in r]
    assert len(mine) == 1, rows
    assert mine[0][header.index("车牌号")] == plate

    # and the handling form prints it among the factory's own fields
    pdf = _handling_form(sales, c, tmp_path)
    for expected in (zh("doc.s.custom"), "车牌号", plate):
        assert _flat(expected) in pdf, expected
    print(f"custom field journey took {time.monotonic() - t0:.1f} s")
