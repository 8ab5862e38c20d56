"""The README's nginx example, run (issue #11: https through a reverse proxy "with a tested
nginx example").

The `server`/`upstream` block after `<!-- nginx-example -->` in README.md (Security) and the
`export KESU_…` lines after `<!-- nginx-example-env -->` are read from the README itself, so
the text and this test cannot drift. Only what a test must change is changed, each rewrite
checked to match exactly once: the listen ports (free ports instead of 443 and 80), the
certificate (a self-signed one for kesu.factory.lan made here), the upstream port (this test's
server), the port in KESU_ALLOWED_HOSTS and KESU_ORIGINS (the browser's Host and Origin carry
the test's port, as they would for nginx on 8443), and nginx's own files (pid, logs, temp
folders: in tmp_path, in a minimal nginx.conf of the test's own).

nginx and kesu are on 127.0.0.1; the test's HTTP client connects from 127.0.0.2, the address
kesu must record for its sign-ins (not nginx's, nor one the client forged in
X-Forwarded-For). Chromium maps kesu.factory.lan to 127.0.0.1 (--host-resolver-rules).
Skipped only when nginx is not installed; CI (.ci/run) installs it and fails when this module
was skipped.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import http.client
import os
import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)
if NGINX is None:
    pytest.skip("the nginx proxy test needs nginx (apt-get install -y nginx)",
                allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, running_server  # noqa: E402
from tests.e2e.conftest import screenshot_if_failed  # noqa: E402
from tests.e2e.helpers import PASSWORD, ZH, heading, login  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NAME = "kesu.factory.lan"
LOCAL = "127.0.0.1"   # nginx and kesu
CLIENT = "127.0.0.2"  # the address the test's HTTP client connects from
HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options",
           "referrer-policy", "cross-origin-opener-policy")


# ---------------------------------------------------------------- the README's text


def readme_block(marker: str, language: str) -> str:
    """The fenced block right after `<!-- marker ... -->` in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.findall(rf"^<!-- {re.escape(marker)}(?::[^>]*)? -->\n```{language}\n(.*?)^```$",
                       text, flags=re.M | re.S)
    assert len(found) == 1, f"README.md: one ```{language} block after <!-- {marker} -->"
    return str(found[0])


def readme_env() -> dict[str, str]:
    """The `export KESU_X=value` lines of the README's settings for this proxy."""
    env = dict(re.findall(r"^export (KESU_[A-Z_]+)=(\S+)", readme_block(
        "nginx-example-env", "bash"), flags=re.M))
    assert {"KESU_HTTPS", "KESU_ALLOWED_HOSTS", "KESU_TRUSTED_PROXIES"} <= set(env), env
    return env


def replace_once(text: str, pattern: str, new: str) -> str:
    result, n = re.subn(pattern, new, text, flags=re.M)
    assert n == 1, f"README's nginx example: expected one match of {pattern!r}, found {n}"
    return result


def proxied_config(https_port: int, http_port: int, kesu_port: int, cert: Path, key: Path) -> str:
    """The README's block with only the test's ports and certificate."""
    block = readme_block("nginx-example", "nginx")
    block = replace_once(block, r"^(\s*)listen 443 ssl;", rf"\1listen {LOCAL}:{https_port} ssl;")
    block = replace_once(block, r"^(\s*)listen 80;", rf"\1listen {LOCAL}:{http_port};")
    block = replace_once(block, r"^(\s*ssl_certificate\s+)\S+;", rf"\g<1>{cert};")
    block = replace_once(block, r"^(\s*ssl_certificate_key\s+)\S+;", rf"\g<1>{key};")
    return replace_once(block, r"^(\s*server\s+)127\.0\.0\.1:8501;",
                        rf"\g<1>127.0.0.1:{kesu_port};")


def nginx_conf(tmp: Path, server_block: str) -> str:
    """A minimal nginx.conf of the test's own around the README's block: in the foreground,
    every file nginx writes in `tmp`, running as the current user."""
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    temps = "\n".join(f"    {kind}_temp_path {tmp / kind};"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"daemon off;\n{user}worker_processes 1;\npid {tmp / 'nginx.pid'};\n"
            f"error_log {tmp / 'error.log'} info;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f"    access_log {tmp / 'access.log'};\n{temps}\n"
            f"{server_block}\n"
            "}\n")


# ---------------------------------------------------------------- certificate, ports, nginx


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for kesu.factory.lan, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / f"{NAME}.crt", folder / f"{NAME}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@contextlib.contextmanager
def running_nginx(conf: Path, prefix: Path, port: int) -> Iterator[None]:
    """`nginx -c conf -p prefix` in the foreground until exit, once it accepts connections."""
    cmd = [str(NGINX), "-c", str(conf), "-p", str(prefix), "-e", str(prefix / "error.log")]
    check = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30,
                           check=False)
    if check.returncode != 0:
        pytest.fail(f"nginx -t refused the README's example:\n{check.stderr}\n"
                    f"{conf.read_text()}")
    log = prefix / "nginx.out"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"nginx exited with {proc.returncode}:\n{log.read_text()}\n"
                            f"{(prefix / 'error.log').read_text()}")
            with contextlib.suppress(OSError), socket.create_connection((LOCAL, port), 1):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"nginx did not listen on {LOCAL}:{port}")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()  # SIGTERM: nginx's fast shutdown
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for name in ("error.log", "access.log"):  # kept next to the server's log
            with contextlib.suppress(OSError):
                shutil.copy(prefix / name, ARTIFACTS / f"nginx-proxy-{name}")


@dataclass(frozen=True)
class Proxy:
    https_port: int
    http_port: int
    cert: Path
    prefix: Path     # nginx's files
    data_dir: Path   # the kesu server's (SQLite database)

    @property
    def origin(self) -> str:
        """The origin of kesu's pages as the browser sees them."""
        return f"https://{NAME}:{self.https_port}"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """kesu with the README's settings behind nginx with the README's configuration."""
    prefix = tmp_path_factory.mktemp("nginx")
    data_dir = tmp_path_factory.mktemp("kesu-nginx-data")
    cert, key = self_signed(prefix)
    https_port, http_port = _free_port(LOCAL), _free_port(LOCAL)
    env = readme_env()
    # the browser's Host and Origin carry the test's port
    for name, default in (("KESU_ALLOWED_HOSTS", NAME), ("KESU_ORIGINS", f"https://{NAME}")):
        values = [v.strip() for v in env[name].split(",") if v.strip()] if name in env else []
        assert default in values, f"README: {name} names {default}"
        env[name] = ",".join(f"{v}:{https_port}" if v == default else v for v in values)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_server(data_dir, 2, ARTIFACTS / "nginx-proxy-streamlit.log",
                        background=False, extra_env=env) as url:
        block = proxied_config(https_port, http_port, int(url.rsplit(":", 1)[1]), cert, key)
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_conf(prefix, block))
        with running_nginx(conf, prefix, https_port):
            yield Proxy(https_port, http_port, cert, prefix, data_dir)


# ---------------------------------------------------------------- a client through the proxy


class _Https(http.client.HTTPSConnection):
    """https://kesu.factory.lan:<port> at the test's nginx (the name resolves nowhere here)
    from the client address 127.0.0.2, nginx's certificate checked against the test's own."""

    def __init__(self, port: int, context: ssl.SSLContext) -> None:
        super().__init__(NAME, port, timeout=60, context=context)
        self.checked = context

    def connect(self) -> None:
        sock = socket.create_connection((LOCAL, self.port), self.timeout, (CLIENT, 0))
        self.sock = self.checked.wrap_socket(sock, server_hostname=NAME)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: str


def https(proxy: Proxy, path: str, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None) -> Answer:
    conn = _Https(proxy.https_port, ssl.create_default_context(cafile=str(proxy.cert)))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()},
                      resp.headers.get_all("set-cookie") or [], text)
    finally:
        conn.close()


def sign_in(proxy: Proxy, extra: dict[str, str] | None = None) -> Answer:
    form = f"username=sales&password={PASSWORD}&next=/log&lang=zh".encode()
    return https(proxy, "/signin", "POST", form,
                 {"Origin": proxy.origin, "Content-Type": "application/x-www-form-urlencoded",
                  **(extra or {})})


def last_clients(proxy: Proxy, n: int) -> list[str]:
    """The client addresses kesu recorded for the newest sign-ins (its SQLite database)."""
    with contextlib.closing(sqlite3.connect(proxy.data_dir / "kesu.db")) as db:
        return [str(r[0]) for r in db.execute(
            "SELECT client FROM sessions ORDER BY id DESC LIMIT ?", (n,))]


# ---------------------------------------------------------------- the checks


def test_the_sign_in_page_comes_over_https_with_the_security_headers(proxy: Proxy) -> None:
    a = https(proxy, "/signin")
    assert a.status == 200 and ZH.login_title in a.body
    assert all(h in a.headers for h in HEADERS), a.headers
    assert "frame-ancestors 'none'" in a.headers["content-security-policy"]
    page = https(proxy, "/log")  # the guard works behind the proxy too
    assert page.status == 303 and page.headers["location"] == "/signin?next=/log"
    # nginx passes any Host on: KESU_ALLOWED_HOSTS is what refuses another name
    other = https(proxy, "/signin", headers={"Host": f"evil.example:{proxy.https_port}"})
    assert other.status == 400 and other.body == "unknown host"


def test_signing_in_through_the_proxy_sets_a_secure_httponly_strict_cookie(
        proxy: Proxy) -> None:
    a = sign_in(proxy)
    assert a.status == 303 and a.headers["location"] == "/log", a.body
    (cookie,) = [c for c in a.cookies if c.startswith("kesu_session=")]
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= flags, cookie
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    assert https(proxy, "/log", headers={"Cookie": f"kesu_session={token}"}).status == 200


def test_a_sign_in_from_another_origin_is_refused_through_the_proxy(proxy: Proxy) -> None:
    a = sign_in(proxy, {"Origin": f"http://{NAME}:{proxy.http_port}"})
    assert a.status == 403 and not a.cookies


def test_plain_http_answers_only_a_redirect_to_https(proxy: Proxy) -> None:
    conn = http.client.HTTPConnection(LOCAL, proxy.http_port, timeout=30)
    try:
        conn.request("GET", "/signin?next=/log", headers={"Host": NAME})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    assert resp.status == 301
    assert resp.getheader("location") == f"https://{NAME}/signin?next=/log"


def test_kesu_records_the_clients_address_not_nginxs_nor_a_forged_one(proxy: Proxy) -> None:
    assert sign_in(proxy).status == 303
    assert sign_in(proxy, {"X-Forwarded-For": "203.0.113.7"}).status == 303
    assert last_clients(proxy, 2) == [CLIENT, CLIENT]


def test_a_body_above_client_max_body_size_ends_at_nginx(proxy: Proxy) -> None:
    """413 from nginx at the announced length (the browser test below uploads a file just
    under the attachment limit through it)."""
    conn = _Https(proxy.https_port, ssl.create_default_context(cafile=str(proxy.cert)))
    try:  # only the headers: nginx answers before any body
        conn.putrequest("PUT", "/_stcore/upload_file/session/file")
        conn.putheader("Content-Length", str(30 * 1024 * 1024))
        conn.endheaders()
        resp = conn.getresponse()
        assert resp.status == 413 and b"nginx" in resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def proxied_browser(chromium: Browser) -> Iterator[Browser]:
    """Chromium that finds kesu.factory.lan at the test's nginx (a second browser of the
    process's one Playwright: the host mapping is a launch option)."""
    browser = chromium.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {NAME} {LOCAL}"])
    yield browser
    browser.close()


@pytest.fixture
def page(proxy: Proxy, proxied_browser: Browser,
         request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page of a fresh context of that Chromium at https://kesu.factory.lan:<port> (the
    test's certificate is not trusted by the browser); a screenshot when the test failed."""
    context = proxied_browser.new_context(base_url=proxy.origin, ignore_https_errors=True,
                                          locale="zh-CN", viewport={"width": 1400,
                                                                    "height": 1000})
    pages = [context.new_page()]
    try:
        yield pages[0]
    finally:
        screenshot_if_failed(request, pages)
        context.close()


def test_chromium_signs_in_over_https_and_the_app_runs_through_the_websocket(
        proxy: Proxy, page: Page, tmp_path: Path) -> None:
    page.goto("/")
    expect(heading(page, ZH.login_title)).to_be_visible()
    assert page.url.startswith(f"{proxy.origin}/signin")
    login(page, ZH, "sales")  # the Log page is drawn: Streamlit's WebSocket through nginx
    expect(page.get_by_role("textbox", name=ZH.description, exact=True)).to_be_visible()
    cookies: list[Any] = [c for c in page.context.cookies() if c["name"] == "kesu_session"]
    assert len(cookies) == 1
    assert cookies[0]["secure"] and cookies[0]["httpOnly"]
    assert cookies[0]["sameSite"] == "Strict"
    # an attachment just under the limit (20 MB) passes nginx's client_max_body_size
    big = tmp_path / "report.pdf"
    big.write_bytes(b"%PDF-1.4\n" + os.urandom(19_000_000))  # (the uploader's MB: 10^6 B)
    page.locator("[data-testid='stMain'] input[type='file']").set_input_files(str(big))
    expect(page.get_by_text(big.name, exact=True)).to_be_visible()
    access = proxy.prefix / "access.log"
    deadline = time.monotonic() + 30
    while not re.search(r'"PUT /_stcore/upload_file/\S+ HTTP/1\.1" 204 ', access.read_text()):
        assert time.monotonic() < deadline, access.read_text()[-2000:]
        time.sleep(0.2)
    page.close()  # nginx logs the WebSocket when it ends
    deadline = time.monotonic() + 15
    while not re.search(r'"GET /_stcore/stream HTTP/1\.1" 101 ', access.read_text()):
        assert time.monotonic() < deadline, access.read_text()[-2000:]
        time.sleep(0.2)
