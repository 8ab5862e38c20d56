"""Time limits in the browser (issue #4): an overdue step shows as overdue for its holder on
My Tasks and on the Complaint page, and the general manager finds the escalation in the inbox.

The session's demo data (manage.py demo) holds open complaints months past their reply limit:
the server's background scheduler escalates them (level 2 = 2× the limit → general manager).
"""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import ZH, heading, idle, login, settle

OVERDUE = re.compile(r"已逾期 [\d.]+ (工作日|工作小时)")


def test_holder_sees_overdue_on_my_tasks_and_the_complaint_page(page: Page) -> None:
    page.goto("/?lang=zh")
    login(page, ZH, "prod")
    settle(page)
    page.get_by_role("link", name="我的待办").click()
    expect(heading(page, "我的待办")).to_be_visible()
    idle(page)
    first_overdue = page.get_by_text(OVERDUE).first
    expect(first_overdue).to_be_visible()
    # overdue tasks come first: the first due line on the page is an overdue one
    first_due = page.get_by_text(re.compile(r"期限 \d{4}-\d{2}-\d{2} \d{2}:\d{2}")).first
    expect(first_due).to_contain_text("已逾期")
    settle(page)
    page.get_by_role("button", name="去处理").first.click()  # the first task is overdue
    expect(heading(page, "调查")).to_be_visible()
    idle(page)
    expect(page.get_by_text(re.compile(r"— 期限 .* · 已逾期")).first).to_be_visible()


def test_general_manager_sees_the_escalation_in_the_inbox(page: Page) -> None:
    page.goto("/?lang=zh")
    login(page, ZH, "gm")
    escalation = re.compile(r"「回复客户」已逾期（第 2 级提醒）")
    for _ in range(12):  # the scheduler ticks every few seconds after the server starts
        settle(page)
        page.goto("/inbox")
        expect(heading(page, "消息")).to_be_visible()
        idle(page)
        if page.get_by_text(escalation).count():
            break
        page.wait_for_timeout(5000)
    expect(page.get_by_text(escalation).first).to_be_visible()
    # the navigation shows the unread count, e.g. "消息 (3)"
    expect(page.get_by_role("link", name=re.compile(r"^消息 \(\d+\)$"))).to_be_visible()
