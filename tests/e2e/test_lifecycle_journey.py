"""Issue #3 in a real browser: one complaint walks the whole lifecycle, user by user.

Each demo user works in their own browser context and logs in through the login form. The
journey (docs/procedure.md §5–6): sales logs and dispatches → QA acknowledges and classifies
(valid, 制造部)
→ production analyses (6M, root cause, lot) and plans a CAPA action → QA sends it back once →
production resubmits → QA approves the plan → sales proposes an 8,000 CNY compensation (typed
into the dispositions data editor) → by the demo's approval rules the general manager reviews,
then the chairman approves on a 390 px phone screen → sales replies → production marks the
CAPA done, finance records the payment and completes → QA verifies → sales records the
follow-up → closed, with every step in the timeline. Everything in the journey is done
through the UI.

Two negative tests: sales cannot act out of turn (Investigate/Approve are not theirs, and a
case under investigation offers them no QA action), and two sales managers' browsers
approving the same step at once: one wins, the other is told or no longer sees it; the database
holds one approval.

This module has its own server (own port, own temporary KESU_DATA_DIR with
`manage.py demo --cases 10`, DATABASE_URL removed) because it changes cases and runs an
in-process service object (adapters.wiring.build_app on the same SQLite file, WAL mode) to prepare
the negative tests' cases and to check the database afterwards. The browser itself is the
shared session fixture of conftest.py. Screenshots of a failed test's pages go to
KESU_E2E_ARTIFACTS (default <system temp>/kesu-e2e-artifacts)/lifecycle.
"""

from __future__ import annotations

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

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from core.errors import NotAllowed
from core.usecases.approval import DispositionInput
from core.model import (
    CapaType,
    Category,
    Channel,
    Complaint,
    DispositionType,
    Kind,
    Severity,
    SixM,
    State,
    StepStatus,
    User,
    Validity,
)
from core.i18n import t
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.e2e.conftest import running_server
from tests.e2e.helpers import (
    PASSWORD, ZH, heading, idle, save_after_grid_edit, settle, wait_for_login_cookie,
)
from core import usecases as uc

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = (
    Path(os.environ.get("KESU_E2E_ARTIFACTS") or Path(tempfile.gettempdir()) / "kesu-e2e-artifacts")
    / "lifecycle"
)
DESKTOP: ViewportSize = {"width": 1400, "height": 1000}
PHONE: ViewportSize = {"width": 390, "height": 844}

expect.set_options(timeout=20_000)


def zh(key: str) -> str:
    """A text of the Chinese catalog (a key the catalog lacks fails here, not silently)."""
    text = t(key, "zh")
    assert text != key, f"no Chinese text for {key}"
    return text


# ---------------------------------------------------------------- server and service layer


@dataclass
class Server:
    url: str
    data_dir: Path
    app: Context  # in-process, on the server's SQLite file

    def user(self, username: str) -> User:
        return next(u for u in uc.accounts.list_active_users(self.app) if u.username == username)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh app on its own port and data folder, with `manage.py demo --cases 10`."""
    data_dir = tmp_path_factory.mktemp("kesu-lifecycle-data")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("test_*.png"):  # screenshots of an earlier run
        old.unlink()
    with running_server(data_dir, 10, ARTIFACTS / "streamlit-server.log", background=False) as url:
        # the same database in this process (WAL: both may write); build_app reads the env
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("DATABASE_URL", raising=False)
            mp.setenv("KESU_DATA_DIR", str(data_dir))
            mp.setenv("KESU_BCRYPT_ROUNDS", "4")
            from adapters.wiring import build_app

            app = build_app(f"sqlite:///{data_dir / 'kesu.db'}", run_migrations=False)
        yield Server(url, data_dir, app)
        app.uow.engine.dispose()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- one browser per user


@dataclass
class Users:
    """Logged-in pages, one browser context per user (and per `tag` for a second one)."""

    browser: Browser
    server: Server
    contexts: list[BrowserContext] = field(default_factory=list)
    pages: dict[str, Page] = field(default_factory=dict)

    def __call__(self, username: str, tag: str = "", viewport: ViewportSize | None = None) -> Page:
        key = f"{username}{tag}"
        if key not in self.pages:
            context = self.browser.new_context(base_url=self.server.url, locale="zh-CN",
                                               viewport=viewport or DESKTOP)
            self.contexts.append(context)
            page = context.new_page()
            _log_in(page, username)
            self.pages[key] = page
        return self.pages[key]


@pytest.fixture
def users(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Users]:
    """Pages per user; when the test fails, every one of them is saved as a screenshot."""
    failed_before = request.session.testsfailed
    u = Users(browser, server)
    try:
        yield u
    finally:
        rep = getattr(request.node, "rep_call", None)
        failed = (rep is not None and rep.failed) or request.session.testsfailed > failed_before
        if failed:
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
    expect(heading(page, ZH.login_title)).to_be_visible()
    page.get_by_role("textbox", name=ZH.username, exact=True).fill(username)
    page.get_by_role("textbox", name=ZH.password, exact=True).fill(PASSWORD)
    page.get_by_role("button", name=ZH.login, exact=True).click()
    expect(heading(page, ZH.log_title)).to_be_visible()
    logout = page.get_by_role("button", name=ZH.logout)
    try:
        expect(logout).to_be_visible()
    except AssertionError:
        # Seen once in CI on a loaded machine (2026-12-07): the Log page drawn, the sidebar
        # stopped after "当前用户" (no language switch, no logout) for 20 s. A person would
        # press F5; the login cookie must carry the reload, which is checked here too.
        print(f"{username}: sidebar incomplete after login, reloading")
        page.goto("/?lang=zh")
        expect(heading(page, ZH.log_title)).to_be_visible()
        expect(logout).to_be_visible()
    wait_for_login_cookie(page, username)
    _settle(page)


def _settle(page: Page) -> None:
    """After a page load: wait for a quiet app before the next click."""
    idle(page)
    settle(page, 500)


def _open(page: Page, path: str, title: str) -> None:
    """A typed URL (a new session, logged in by the cookie); wait for the page's heading."""
    page.goto(f"{path}{'&' if '?' in path else '?'}lang=zh")
    expect(heading(page, title)).to_be_visible()
    _settle(page)


def _case(page: Page, cid: int, number: str) -> None:
    _open(page, f"/complaint?id={cid}", f"客诉 {number}")


def _investigate(page: Page, cid: int, number: str, state: str) -> None:
    _open(page, f"/investigate?id={cid}", "调查")
    expect(heading(page, f"{number} · {state}")).to_be_visible()
    idle(page)


def _state_is(page: Page, label: str) -> None:
    expect(page.get_by_text(f"状态: {label}", exact=True)).to_be_visible()


def _saved(page: Page, text: str = "已保存。") -> None:
    """The success message of the action just taken (shown once, after the rerun)."""
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text=text)).to_be_visible()
    idle(page)


def _pick(scope: Page | Locator, page: Page, combobox: str, option: str) -> None:
    """A Streamlit selectbox: type to filter, click the option."""
    box = scope.get_by_role("combobox", name=combobox, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


def _action(page: Page, name: str) -> Locator:
    """Open the action panel's expander `name` (Complaint page); return it."""
    exp = page.get_by_test_id("stExpander").filter(has=page.locator("summary", has_text=name))
    expect(exp).to_have_count(1)
    exp.locator("summary").click()
    expect(exp.get_by_test_id("stFormSubmitButton")).to_be_visible()
    return exp


def _submit(scope: Locator) -> None:
    settle(scope.page, 500)  # a quiet app first, as a person looks before clicking
    scope.get_by_test_id("stFormSubmitButton").get_by_role("button").click()


def _form(page: Page, has_text: str) -> Locator:
    return page.get_by_test_id("stForm").filter(has_text=has_text)


def _popover(page: Page, trigger: str) -> Locator:
    """Open a popover by its button; return its body."""
    page.get_by_test_id("stPopover").get_by_role("button", name=trigger).click()
    body = page.get_by_test_id("stPopoverBody")
    expect(body).to_be_visible()
    return body


def _approve_button(page: Page, cid: int) -> Locator:
    """The big 核准 button of the case's card on the Approve page (key ok_<case>_<step>)."""
    return page.locator(f"[class*='st-key-ok_{cid}_'] button")


def _card(page: Page, cid: int, number: str) -> Locator:
    """The case's card on the Approve page (the innermost block with its 核准 button): other
    demo cases may wait for the same manager with the same total."""
    return page.get_by_test_id("stVerticalBlock").filter(has=_approve_button(page, cid)).filter(
        has_text=number).last


def _no_horizontal_scroll(page: Page, width: int) -> None:
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width, f"the page is {page_width} px wide on a {width} px screen"
    main = page.evaluate("""() => { const m = document.querySelector('[data-testid=stMain]');
                                   return [m.scrollWidth, m.clientWidth]; }""")
    assert main[0] <= main[1], f"the main area scrolls sideways: {main}"


def _timeline_actions(app: Context, actor: User, cid: int) -> list[str]:
    return [e.action for e in uc.complaints.complaint(app, actor, cid).events]


# ---------------------------------------------------------------- cases made in-process


def _new_case(srv: Server, text: str, severity: Severity = Severity.C) -> Complaint:
    app = srv.app
    sales = srv.user("sales")
    customer = uc.reference.customers(app)[0]
    defect = uc.reference.defect_types(app)[0]
    code = f"LC-{uuid.uuid4().hex[:8].upper()}"
    return uc.complaints.register_complaint(
        app,
        sales,
        ComplaintDraft(customer_id=customer.id, kind=Kind.COMPLAINT, channel=Channel.PHONE,
                       description=f"{text} {code}", category=Category.QUALITY, product_code=code,
                       defect_type_id=defect.id, severity_proposed=severity),
    )


def _id(c: Complaint) -> int:
    """A stored case's id (Complaint.id is None only before the case is saved)."""
    assert c.id is not None
    return c.id


def _investigating_case(srv: Server) -> Complaint:
    app = srv.app
    c = _new_case(srv, "端到端：越权测试")
    c = uc.investigation.dispatch(app, srv.user("sales"), _id(c), c.version)
    return uc.investigation.acknowledge(app, srv.user("qa"), _id(c), c.version)


def _pending_approval_case(srv: Server, amount: str) -> Complaint:
    """A case whose dispositions wait for the sales manager: a rework of ≤ 2,000 CNY is one
    step by the demo's rules (a compensation would go to the general manager and chairman)."""
    app = srv.app
    sales, qa, prod = srv.user("sales"), srv.user("qa"), srv.user("prod")
    mfg = next(d.id for d in uc.reference.departments(app) if d.code == "MFG")
    c = _investigating_case(srv)
    c = uc.investigation.classify(app, qa, _id(c), c.version, Validity.VALID, Category.QUALITY,
                                  Severity.C, mfg)
    c = uc.investigation.save_analysis(app, prod, _id(c), c.version, prod_lot="L-CONC",
                                       six_m=SixM.METHOD, root_cause="作业指导书缺少扭矩要求。")
    c = uc.investigation.add_capa(app, prod, _id(c), CapaType.CORRECTIVE, "修订作业指导书", prod.id,
                                  datetime.now().date() + timedelta(days=30))
    c = uc.investigation.submit_analysis(app, prod, _id(c), c.version)
    c = uc.investigation.approve_capa(app, qa, _id(c), c.version)
    rework = DispositionInput(DispositionType.REWORK, None, Decimal(amount))
    c = uc.approval.set_dispositions(app, sales, _id(c), c.version, [rework])
    return uc.approval.propose(app, sales, _id(c), c.version, "客户同意返工方案。")


# ---------------------------------------------------------------- the journey


def test_complaint_lifecycle_journey(users: Users, server: Server) -> None:
    t0 = time.monotonic()
    app = server.app
    code = f"LC-{uuid.uuid4().hex[:8].upper()}"
    description = f"端到端全流程：电热水壶壶盖开裂 {code}"

    # 1. sales logs the complaint on the Log page
    sales = users("sales")
    _pick(sales, sales, "客户 *", "华东电器有限公司")
    sales.get_by_role("textbox", name="问题描述 *", exact=True).fill(description)
    # a quality complaint must name its product and defect: both labels carry the star
    sales.get_by_role("textbox", name=f"{zh('field.product_code')} *", exact=True).fill(code)
    _pick(sales, sales, f"{zh('field.defect_type')} *", "开裂")
    _pick(sales, sales, "客户要求", "赔款")
    sales.get_by_role("textbox", name="索赔金额（元）", exact=True).fill("8000")
    _pick(sales, sales, "建议等级", "B 一般")
    sales.get_by_role("button", name="登记客诉", exact=True).click()
    ok = sales.get_by_test_id("stAlertContentSuccess").filter(has_text=ZH.saved)
    expect(ok).to_be_visible()
    found = ZH.saved.search(ok.inner_text())
    assert found, ok.inner_text()
    number = found.group(1)
    idle(sales)
    # open it by its number: the URL carries its id from here on
    _open(sales, "/complaint", "客诉详情")
    lookup = sales.get_by_role("textbox", name="输入编号打开客诉", exact=True)
    lookup.fill(number)
    lookup.press("Enter")
    expect(heading(sales, f"客诉 {number}")).to_be_visible()
    expect(sales).to_have_url(re.compile(r"[?&]id=\d+"))
    cid = int(re.search(r"[?&]id=(\d+)", sales.url).group(1))  # type: ignore[union-attr]
    idle(sales)
    _state_is(sales, "已登记")

    # 2. sales dispatches it to QA
    _submit(_action(sales, "发单给品管"))
    _saved(sales)
    _state_is(sales, "已发单")

    # 3. QA acknowledges (签收) and classifies: valid, responsible department 制造部
    qa = users("qa")
    _investigate(qa, cid, number, "已发单")
    qa.get_by_role("button", name="签收", exact=True).click()
    _saved(qa)
    expect(heading(qa, f"{number} · 调查中")).to_be_visible()
    classify = _form(qa, "有效性")
    expect(classify.get_by_role("radio", name="有效（我方责任）")).to_be_checked()
    expect(classify.get_by_role("combobox", name="等级", exact=True)).to_have_value("B 一般")
    _pick(classify, qa, "责任部门", "制造部")
    _submit(classify)
    _saved(qa)
    expect(heading(qa, f"{number} · 原因分析")).to_be_visible()

    # 4. production: facts, 6M and root cause; one CAPA action with owner and due date; submit
    prod = users("prod")
    _investigate(prod, cid, number, "原因分析")
    analysis = _form(prod, "根本原因")
    analysis.get_by_role("textbox", name="生产批号", exact=True).fill("P2611-07")
    analysis.get_by_role("textbox", name="产线", exact=True).fill("2号线")
    analysis.get_by_test_id("stRadio").filter(has_text="人机料法环测").get_by_text(
        "机", exact=True
    ).click()
    analysis.get_by_role("textbox", name="根本原因 *", exact=True).fill(
        "注塑模具冷却水路堵塞，壶盖局部应力集中导致开裂。"
    )
    _submit(analysis)
    _saved(prod)
    capa = _form(prod, "对策内容")
    _pick(capa, prod, "负责人 *", "刘洋（制造部）")
    capa.get_by_role("textbox", name="对策内容 *", exact=True).fill("清理并改造模具冷却水路")
    # the date field is three spin buttons (year / month / day) that take typed digits
    due = datetime.now() + timedelta(days=14)
    capa.get_by_role("spinbutton", name="year, 完成日期 *").click()
    prod.keyboard.type(due.strftime("%Y%m%d"))
    prod.keyboard.press("Tab")
    expect(capa.locator("input[type='date']")).to_have_value(due.strftime("%Y-%m-%d"))
    _submit(capa)
    _saved(prod)
    expect(prod.get_by_text("清理并改造模具冷却水路", exact=False).first).to_be_visible()
    prod.get_by_role("button", name="提交原因分析与对策", exact=True).click()
    _saved(prod)
    expect(heading(prod, f"{number} · 对策评审")).to_be_visible()

    # 5. QA sends it back once, with a reason
    _investigate(qa, cid, number, "对策评审")
    body = _popover(qa, "退回重新分析")
    body.get_by_role("textbox", name="原因 *").fill("请补充模具点检记录，确认堵塞原因。")
    body.get_by_role("button", name="提交", exact=True).click()
    _saved(qa)
    expect(heading(qa, f"{number} · 原因分析")).to_be_visible()

    # 6. production submits again
    _investigate(prod, cid, number, "原因分析")
    prod.get_by_role("button", name="提交原因分析与对策", exact=True).click()
    _saved(prod)
    expect(heading(prod, f"{number} · 对策评审")).to_be_visible()

    # 7. QA approves the CAPA plan
    _investigate(qa, cid, number, "对策评审")
    qa.get_by_role("button", name="批准对策", exact=True).click()
    _saved(qa)
    expect(heading(qa, f"{number} · 处理方案")).to_be_visible()

    # 8. sales: an 8,000 CNY compensation in the dispositions editor, then submit for approval
    _case(sales, cid, number)
    _state_is(sales, "处理方案")
    sales.get_by_role("tab", name="对策与方案").click()
    grid = sales.get_by_test_id("stDataFrame").filter(has=sales.locator("th", has_text="处理方案"))
    expect(grid).to_have_count(1)
    grid.scroll_into_view_if_needed()
    settle(sales, 1000)
    # the editor's one starting row is a compensation of 0.00; the canvas grid has 35 px rows:
    # select the first cell, move to the amount column, open its editor and type the amount.
    # The grid takes the keyboard focus a moment after the click: keys pressed before that go
    # to the tab list (the arrows then switch tabs) — wait for the focus.
    expect(grid.locator("#glide-cell-1-0")).to_have_text("赔款")
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
    save_after_grid_edit(sales, "保存方案", "已保存。")
    propose = _action(sales, "提交核决")
    expect(sales.get_by_text("合计 8,000.00 元", exact=True).first).to_be_visible()
    propose.get_by_role("textbox", name="客户意见 *").fill("客户接受赔款 8,000 元，不再追加索赔。")
    _submit(propose)
    _saved(sales)
    _state_is(sales, "待核决")

    # 9. the general manager reviews: step 1 of 2 (the demo's rule for compensation)
    gm = users("gm")
    _open(gm, "/approve", "核决")
    button = _approve_button(gm, cid)
    expect(button).to_be_visible()
    expect(_card(gm, cid, number).get_by_text("第 1/2 步：总经理", exact=True)).to_be_visible()
    button.click()
    _saved(gm, f"已核准 {number}。")
    expect(_approve_button(gm, cid)).to_have_count(0)

    # 10. the chairman approves step 2 on a phone (390×844): no sideways scrolling
    chairman = users("chairman", viewport=PHONE)
    _open(chairman, "/approve", "核决")
    button = _approve_button(chairman, cid)
    expect(button).to_be_visible()
    card = _card(chairman, cid, number)
    expect(card.get_by_text("合计 8,000.00 元", exact=True)).to_be_visible()
    expect(card.get_by_text("第 2/2 步：董事长", exact=True)).to_be_visible()
    _no_horizontal_scroll(chairman, PHONE["width"])
    box = button.bounding_box()
    assert box is not None and box["width"] >= 0.7 * PHONE["width"], box  # a big button
    button.click()
    _saved(chairman, f"已核准 {number}。")
    _no_horizontal_scroll(chairman, PHONE["width"])

    # 11. sales replies to the customer
    _case(sales, cid, number)
    _state_is(sales, "待回复")
    reply = _action(sales, "回复客户")
    reply.get_by_role("textbox", name="回复内容 *").fill(
        "经调查为模具冷却不良所致，我司赔偿 8,000 元并已完成模具整改。"
    )
    _submit(reply)
    _saved(sales)
    _state_is(sales, "执行中")

    # 12. production marks the CAPA action done with evidence
    _investigate(prod, cid, number, "执行中")
    body = _popover(prod, "标记完成")
    body.get_by_role("textbox", name="完成证据 *").fill("模具水路已清理改造，试模 200 件无开裂。")
    body.get_by_role("button", name="标记完成", exact=True).click()
    _saved(prod)
    expect(prod.get_by_test_id("stPopover")).to_have_count(0)  # no open action left
    expect(prod.get_by_text(re.compile(r"已完成.*清理并改造模具冷却水路")).first).to_be_visible()

    # 13. finance pays in two instalments (seed 4.3.2), then hands over for verification
    finance = users("finance")
    _case(finance, cid, number)
    def actions_tab() -> None:  # once the rerun's old page is gone: one tab of that name
        tab = finance.get_by_role("tab", name="对策与方案")
        expect(tab).to_have_count(1)
        tab.click()

    for amount, voucher in (("3000", "HK-2026-001"), ("5000", "HK-2026-002")):
        actions_tab()
        payment = _form(finance, "记录付款")
        payment.get_by_role("textbox", name="金额（元）", exact=True).fill(amount)
        payment.get_by_role("textbox", name="凭证号", exact=True).fill(voucher)
        _submit(payment)
        _saved(finance)
    _submit(_action(finance, "执行完毕，交品管确认"))
    _saved(finance)
    _state_is(finance, "效果确认")

    # 14. QA verifies: effective
    _investigate(qa, cid, number, "效果确认")
    verify = _form(qa, "结论")
    expect(verify.get_by_role("radio", name="有效", exact=True)).to_be_checked()
    verify.get_by_role("textbox", name="备注").fill("连续三批出货无同类不良。")
    _submit(verify)
    _saved(qa)
    expect(heading(qa, f"{number} · 回访")).to_be_visible()

    # 15. sales records the follow-up: satisfied, score 5 → closed
    _case(sales, cid, number)
    _state_is(sales, "回访")
    follow = _action(sales, "回访")
    follow.get_by_role("textbox", name="客户联系人", exact=True).fill("李经理")
    slider = follow.get_by_role("slider")
    slider.focus()
    slider.press("End")
    expect(slider).to_have_value("5")
    expect(follow.get_by_role("radio", name="满意", exact=True)).to_be_checked()
    _submit(follow)
    _saved(sales)
    _state_is(sales, "已结案")
    expect(sales.get_by_text("当前没有需要您执行的操作。", exact=True)).to_be_visible()

    # 16. the timeline lists every step
    expected = [
        "registered",
        "dispatch",
        "acknowledge",
        "classify_valid",
        "analysis_saved",
        "capa_added",
        "submit_analysis",
        "send_back",
        "submit_analysis",
        "approve_capa",
        "dispositions_set",
        "propose",
        "approve_step",
        "approve_step",
        "reply",
        "capa_done",
        "payment_recorded",  # two instalments
        "payment_recorded",
        "complete",
        "verify",
        "follow_up",
    ]
    assert _timeline_actions(app, server.user("sales"), cid) == expected
    sales.get_by_role("tab", name=f"处理记录 ({len(expected)})").click()
    timeline = sales.get_by_role("tabpanel", name=f"处理记录 ({len(expected)})")
    labels = {
        "registered": "登记",
        "dispatch": "发单给品管",
        "acknowledge": "签收",
        "classify_valid": "判定有效并指定责任部门",
        "analysis_saved": "原因分析",
        "capa_added": "新增对策",
        "submit_analysis": "提交原因分析与对策",
        "send_back": "退回重新分析",
        "approve_capa": "批准对策",
        "dispositions_set": "处理方案",
        "propose": "提交核决",
        "approve_step": "核准",
        "reply": "回复客户",
        "capa_done": "对策完成",
        "execution_recorded": "执行记录",
        "complete": "执行完毕，交品管确认",
        "verify": "效果确认",
        "follow_up": "回访",
    }
    for action, label in labels.items():
        expect(timeline.get_by_text(label, exact=True)).to_have_count(expected.count(action))
    for who in (
        "王丽（营销）",
        "陈强（品管QE）",
        "刘洋（制造部）",
        "吴建国（总经理）",
        "郑卫东（董事长）",
        "赵敏（财务）",
    ):
        expect(timeline.get_by_text(re.compile(f"^{re.escape(who)} · ")).first).to_be_visible()
    expect(timeline.get_by_text("请补充模具点检记录，确认堵塞原因。")).to_be_visible()

    closed = uc.complaints.case_file(app, server.user("sales"), cid)
    c = closed.complaint
    assert c.state == State.CLOSED and c.sent_back_count == 1
    assert c.satisfaction_score == 5 and c.responsible_department_id == next(
        d.id for d in uc.reference.departments(app) if d.code == "MFG"
    )
    assert [s.status for s in closed.current(closed.steps)] == [StepStatus.APPROVED] * 2
    assert closed.disposition_total == Decimal("8000.00")
    print(f"journey took {time.monotonic() - t0:.1f} s")


# ---------------------------------------------------------------- negative tests


def test_sales_cannot_act_out_of_turn(users: Users, server: Server) -> None:
    """Investigate and Approve are not sales' pages; QA's actions are not offered to sales."""
    c = _investigating_case(server)
    sales = users("sales")
    for path, title in (("/investigate", "调查"), ("/approve", "核决")):
        sales.goto(f"{path}?id={c.id}&lang=zh")
        # refused: a "your role cannot open this page" message, or (a page that is simply not
        # registered) Streamlit's "page not found" over the default page; never the target
        refused = sales.get_by_text("您的角色不能打开此页面。", exact=True).or_(
            heading(sales, ZH.log_title)
        )
        expect(refused.first).to_be_visible()
        _settle(sales)
        expect(refused.first).to_be_visible()
        expect(heading(sales, title)).to_have_count(0)
        expect(sales.get_by_role("link", name=title, exact=True)).to_have_count(0)
        expect(sales.get_by_role("button", name="签收")).to_have_count(0)
        expect(sales.get_by_role("button", name="核准")).to_have_count(0)

    _case(sales, _id(c), c.number)
    _state_is(sales, "调查中")
    expect(sales.get_by_text("可执行的操作", exact=True)).to_be_visible()
    # (the timeline tab does mention 签收: the acknowledgement is an event of this case)
    qa_actions = re.compile("签收|判定有效|判定无效|退回补充资料")
    expect(sales.get_by_role("link", name=qa_actions)).to_have_count(0)
    expect(
        sales.get_by_test_id("stExpander").filter(has=sales.locator("summary", has_text=qa_actions))
    ).to_have_count(0)
    expect(sales.get_by_role("button", name=qa_actions)).to_have_count(0)
    # the same page does offer them to QA (so the absence above means something)
    qa = users("qa")
    _case(qa, _id(c), c.number)
    expect(qa.get_by_role("link", name="➡ 判定有效并指定责任部门")).to_be_visible()
    # and the service refuses sales whatever the page
    with pytest.raises(NotAllowed):
        uc.investigation.classify(
            server.app,
            server.user("sales"),
            _id(c),
            c.version,
            Validity.VALID,
            Category.QUALITY,
            Severity.C,
            next(d.id for d in uc.reference.departments(server.app) if d.code == "MFG"),
        )
    assert (
        uc.complaints.case_file(server.app, server.user("qa"), _id(c)).complaint.state
        == State.INVESTIGATING
    )


def test_two_managers_approving_the_same_step_at_once(users: Users, server: Server) -> None:
    """Two browsers of `manager` (the sales manager) click 核准 on the same step: it is
    approved exactly once."""
    c = _pending_approval_case(server, "1500.00")
    first, second = users("manager", "#1"), users("manager", "#2")
    for page in (first, second):
        _open(page, "/approve", "核决")
        expect(_approve_button(page, _id(c))).to_be_visible()
        idle(page)
    # both browsers click at the same moment: timers set for one instant of the shared clock
    # (a Playwright click after another would usually reach the server after the first run)
    at = first.evaluate("Date.now()") + 500
    for page in (first, second):
        page.evaluate(
            """([sel, at]) => setTimeout(() => document.querySelector(sel).click(),
                                                   at - Date.now())""",
            [f"[class*='st-key-ok_{c.id}_'] button", at],
        )
    first.wait_for_timeout(600)

    approved = re.compile(f"已核准 {re.escape(c.number)}。")
    stale = re.compile("该客诉已被 .+ 于 .+ 修改")
    winners = []
    deadline = time.monotonic() + 20
    while True:
        winners = [
            p
            for p in (first, second)
            if p.get_by_test_id("stAlertContentSuccess").filter(has_text=approved).count()
        ]
        if winners or time.monotonic() > deadline:
            break
        first.wait_for_timeout(100)
    assert len(winners) == 1, "exactly one browser is told the step was approved"
    loser = second if winners[0] is first else first
    for page in (first, second):
        idle(page)
        page.wait_for_timeout(500)
        idle(page)
    told = loser.get_by_test_id("stAlertContentError").filter(has_text=stale).count() > 0
    gone = _approve_button(loser, _id(c)).count() == 0
    assert told or gone, "the other browser still offers the approved step without a word"
    assert gone, "an approved step is never offered again"
    expect(loser.get_by_test_id("stAlertContentSuccess").filter(has_text=approved)).to_have_count(0)

    app = server.app
    manager = server.user("manager")
    actions = _timeline_actions(app, manager, _id(c))
    assert actions.count("approve_step") == 1, actions
    case = uc.complaints.case_file(app, manager, _id(c))
    steps = case.current(case.steps)
    assert [s.status for s in steps] == [StepStatus.APPROVED], steps
    assert steps[0].decided_by_id == manager.id
    assert case.complaint.state == State.REPLYING
    print(
        f"winner: {'first' if winners[0] is first else 'second'}; "
        f"the other {'saw the stale-case message' if told else 'no longer saw the card'}"
    )
