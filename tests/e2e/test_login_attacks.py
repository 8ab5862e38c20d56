"""Attacks on the sign-in of a real running kesu server (issue #11 item 4): guessing gets
slower and says so, in the user's language; the owner gets in as soon as the wait is over;
a name without an account costs what a real one costs; weak passwords are refused; a user
an administrator reset chooses a new password before anything else. One named test per
attack.

The server is this module's own (a fresh demo database): its failure counters must not slow
the other e2e tests, and it runs with
- KESU_TRUSTED_PROXIES=127.0.0.1, so each test can come from its own client address
  (X-Forwarded-For, as behind the reverse proxy of a real deployment);
- KESU_BCRYPT_ROUNDS=10 instead of the tier's 4, so a password check costs enough time
  (tens of milliseconds) for the timing test to see one that was skipped."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import conftest
from tests.e2e.helpers import PASSWORD
from tests.e2e.test_server_guard import Answer, http, ws_open

ROUNDS = 10
WAIT_ZH, WAIT_EN = "秒后再试", "again in"
TOO_MANY_ZH = "登录失败次数过多"
WRONG_ZH = "用户名或密码错误。"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("kesu-login-attacks")
    plain_env = conftest._server_env

    def env(data_dir: Path) -> dict[str, str]:
        e = plain_env(data_dir)
        e.update(KESU_TRUSTED_PROXIES="127.0.0.1", KESU_BCRYPT_ROUNDS=str(ROUNDS))
        return e

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conftest, "_server_env", env)
        with conftest.running_server(data, 0, conftest.ARTIFACTS / "login-attacks.log",
                                     background=False) as url:
            yield url, data


@pytest.fixture(scope="module")
def base(server: tuple[str, Path]) -> str:
    return server[0]


def post(base: str, username: str, password: str, client: str, lang: str = "zh",
         cookie: str | None = None) -> Answer:
    headers = {"Origin": base, "X-Forwarded-For": client}
    if cookie:
        headers["Cookie"] = f"kesu_session={cookie}"
    return http(base + "/signin", "POST",
                {"username": username, "password": password, "next": "/log", "lang": lang},
                headers)


def token_of(a: Answer) -> str:
    (cookie,) = [c for c in a.cookies if c.startswith("kesu_session=")]
    return cookie.split(";", 1)[0].split("=", 1)[1]


def test_guessing_one_account_gets_slowed_and_says_so(base: str) -> None:
    # from a different address each time: only the account's own count holds them back
    answers = [post(base, "prod", f"guess-{i}", f"10.10.0.{i}") for i in range(3)]
    assert [a.status for a in answers] == [401, 401, 401]
    assert WAIT_ZH not in answers[0].body and WAIT_ZH not in answers[1].body
    assert WRONG_ZH in answers[2].body and "请 1 秒后再试" in answers[2].body
    refused = post(base, "prod", PASSWORD, "10.10.0.9")  # at once, even the right password
    assert refused.status == 401 and not refused.cookies
    assert TOO_MANY_ZH in refused.body and WAIT_ZH in refused.body
    in_english = post(base, "prod", "guess-x", "10.10.0.10", lang="en")
    assert "Try again in" in in_english.body or "try again in" in in_english.body


def test_guessing_many_accounts_from_one_client_gets_slowed(base: str) -> None:
    names = ["sales", "qa", "finance", "gm", "manager"] + [f"temp{i}" for i in range(5)]
    answers = [post(base, name, "Summer2026!", "10.20.0.1") for name in names]
    assert all(a.status == 401 for a in answers)
    assert all(WAIT_ZH not in a.body for a in answers[:9])  # one try per name: no name waits
    assert "请 1 秒后再试" in answers[9].body  # ... but the address does, from the 10th
    refused = post(base, "chairman", PASSWORD, "10.20.0.1")
    assert refused.status == 401 and TOO_MANY_ZH in refused.body
    elsewhere = post(base, "chairman", PASSWORD, "10.20.0.2")  # the owner, at their own desk
    assert elsewhere.status == 303 and token_of(elsewhere)


def test_the_owner_signs_in_after_the_delay(base: str) -> None:
    for i in range(4):  # 3 free failures, then 1 s; the 4th at once is refused unchecked
        post(base, "qamanager", f"guess-{i}", "10.30.0.1")
    waiting = post(base, "qamanager", PASSWORD, "10.30.0.2")
    assert waiting.status == 401 and "请 1 秒后再试" in waiting.body
    time.sleep(1.2)
    owner = post(base, "qamanager", PASSWORD, "10.30.0.2")
    assert owner.status == 303 and token_of(owner)
    slip = post(base, "qamanager", "typo", "10.30.0.2")  # the count started again
    assert slip.status == 401 and WAIT_ZH not in slip.body


def test_unknown_name_timing_matches_a_known_name(base: str) -> None:
    """Median answer times of wrong passwords for real names and for names without an
    account, interleaved, each try from its own address; every one is checked (none is
    refused for a wait)."""
    salt = bcrypt.gensalt(ROUNDS)
    start = time.perf_counter()
    for _ in range(3):
        bcrypt.checkpw(b"x", bcrypt.hashpw(b"y", salt))
    check_cost = (time.perf_counter() - start) / 6  # one bcrypt of this cost, about
    post(base, "nobody-warm", "x", "10.40.9.9")  # the dummy hash is made once per process

    known: list[float] = []
    unknown: list[float] = []
    names = ["admin", "chairman", "qamanager", "sales", "qa", "gm"]  # 3 failures at most
    for i in range(12):
        for sample, name in ((known, names[i % 6]), (unknown, f"ghost{i}")):
            t0 = time.perf_counter()
            a = post(base, name, f"wrong-{i}", f"10.40.{i}.{len(sample)}")
            sample.append(time.perf_counter() - t0)
            assert a.status == 401 and TOO_MANY_ZH not in a.body  # checked, not refused
    k, u = statistics.median(known), statistics.median(unknown)
    print(f"bcrypt {check_cost * 1000:.1f} ms; median known {k * 1000:.1f} ms, "
          f"unknown {u * 1000:.1f} ms")
    assert u > 0.5 * check_cost  # a name without an account is checked too
    assert abs(k - u) < max(0.5 * check_cost, 0.02)


def test_a_common_password_is_refused_on_my_account(base: str, browser: Browser,
                                                    request: pytest.FixtureRequest) -> None:
    context = browser.new_context(base_url=base, locale="zh-CN",
                                  viewport={"width": 1400, "height": 1000},
                                  extra_http_headers={"X-Forwarded-For": "10.50.0.1"})
    page = context.new_page()
    try:
        page.goto("/account?lang=zh")
        page.get_by_role("textbox", name="用户名", exact=True).fill("prod")
        page.get_by_role("textbox", name="密码", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        _change_password(page, PASSWORD, "woaini1314")
        expect(page.get_by_text("这个密码太常见，很容易被猜到，请换一个。")).to_be_visible()
        _change_password(page, PASSWORD, "prod-line-2026")
        expect(page.get_by_text("密码不能是用户名，也不能包含用户名（正写或倒写）。")).to_be_visible()
    finally:
        conftest.screenshot_if_failed(request, [page])
        context.close()
    still = post(base, "prod", PASSWORD, "10.50.0.2")
    assert still.status == 303  # the password did not change


def _change_password(page: Page, old: str, new: str) -> None:
    expect(page.get_by_role("heading", name="我的账户")).to_be_visible()
    page.get_by_label("当前密码").fill(old)
    page.get_by_label("新密码", exact=True).fill(new)
    page.get_by_label("再次输入新密码").fill(new)
    page.get_by_role("button", name="保存", exact=True).click()


def test_a_reset_user_must_set_a_new_password_before_anything_else(
        server: tuple[str, Path]) -> None:
    base, data = server
    reset = subprocess.run([sys.executable, "manage.py", "reset-password", "finance"],
                           input="temp-Rt5-wq\n", cwd=conftest.ROOT, text=True,
                           capture_output=True, env=conftest._server_env(data), timeout=60,
                           check=False)
    assert reset.returncode == 0, reset.stderr
    a = post(base, "finance", "temp-Rt5-wq", "10.60.0.1")
    assert a.status == 303 and a.headers["location"].startswith("/signin/password")
    token = token_of(a)
    cookie = {"Cookie": f"kesu_session={token}"}
    # nothing else: no page, no WebSocket; asking for the sign-in page shows the form again
    assert http(base + "/log", headers=cookie).status == 303
    assert http(base + "/log", headers=cookie).headers["location"].startswith("/signin")
    assert ws_open(base, token) == 403
    again = http(base + "/signin", headers=cookie)
    assert again.status == 303 and again.headers["location"].startswith("/signin/password")
    form = http(base + "/signin/password?lang=zh", headers=cookie)
    assert form.status == 200 and "请设置新密码" in form.body
    weak = http(base + "/signin/password", "POST",
                {"new": "1qaz2wsx", "new2": "1qaz2wsx", "lang": "zh", "next": "/log"},
                {"Origin": base, **cookie})
    assert weak.status == 400 and "这个密码太常见" in weak.body
    same = http(base + "/signin/password", "POST",
                {"new": "temp-Rt5-wq", "new2": "temp-Rt5-wq", "lang": "en", "next": "/log"},
                {"Origin": base, **cookie})
    assert same.status == 400 and "must differ" in same.body
    done = http(base + "/signin/password", "POST",
                {"new": "ledger-chose-7Q", "new2": "ledger-chose-7Q", "lang": "zh",
                 "next": "/log"}, {"Origin": base, **cookie})
    assert done.status == 303 and done.headers["location"] == "/log?lang=zh"
    assert http(base + "/log", headers=cookie).status == 200
    assert ws_open(base, token) == 101
    # and someone who only knew the administrator's password gets nothing any more
    assert post(base, "finance", "temp-Rt5-wq", "10.60.0.2").status == 401


