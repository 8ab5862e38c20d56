"""kesu's own HTTP in front of Streamlit (issue #11, docs/decisions/0010-server-sessions.md):
the sign-in and sign-out routes that set and clear the HttpOnly session cookie, and one ASGI
middleware through which every request and WebSocket passes.

The middleware
- answers only for the allowed hosts (KESU_ALLOWED_HOSTS; every host when unset);
- lets a WebSocket in only from an allowed origin (KESU_ORIGINS; else exactly the origin of
  the Host it was sent to) and with a live session cookie — and tells Streamlit which session
  it is (a trusted header), so a Streamlit session can only be resumed by the same login;
- refuses files, uploads and component assets without a live session, and `/_stcore/metrics`
  to everybody;
- sends a page request without a session to the sign-in page;
- adds the security headers to every answer.
While the database has no user yet (the one-time set-up screen) the session checks stand
aside: there is nobody to be.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

import anyio.to_thread

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from streamlit import config as st_config
from streamlit.proto.BackMsg_pb2 import BackMsg

from core import usecases as uc
from core.errors import DomainError
from core.model import Lang
from core.i18n import t
from core.usecases.context import Context

COOKIE = "kesu_session"
SESSION_HEADER = b"x-kesu-session"  # server.trustedUserHeaders maps it into st.user
SIGNIN, SIGNOUT = "/signin", "/signout"
NEW_PASSWORD = "/signin/password"  # the one form a session after an admin's reset may use
# Streamlit's own paths that carry data or code of a logged-in page
GATED = ("/media/", "/_stcore/upload_file", "/component/", "/_stcore/bidi-components",
         "/_stcore/host-config", "/_stcore/script-health-check", "/app/static/")
PUBLIC = ("/_stcore/health", "/static/", "/favicon.png", SIGNIN, SIGNOUT)
CLOSED = ("/_stcore/metrics", "/_stcore/agent")
_NEXT = re.compile(r"^/[A-Za-z0-9_\-/]*$")

CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
       "connect-src 'self' ws: wss:; frame-src 'self' blob: data:; worker-src 'self' blob:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

log = logging.getLogger("kesu.web")
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# ---------------------------------------------------------------- the application object

ContextFactory = Callable[[], Context]
_SET_UP = [False]


def is_set_up(ctx: Context) -> bool:
    """Whether a first administrator exists (once true, it stays true: users are never
    deleted, so it is not asked again)."""
    if not _SET_UP[0] and not uc.accounts.needs_first_admin(ctx):
        _SET_UP[0] = True
    return _SET_UP[0]


# ---------------------------------------------------------------- settings of the deployment


def _list(name: str) -> list[str]:
    return [x.strip() for x in os.environ.get(name, "").split(",") if x.strip()]


def allowed_hosts() -> list[str]:
    """KESU_ALLOWED_HOSTS: the host names (with port when not the default) kesu answers to."""
    return [h.lower() for h in _list("KESU_ALLOWED_HOSTS")]


def allowed_origins(host: str) -> list[str]:
    """KESU_ORIGINS, else the page's own origin: the Host the request came to."""
    configured = _list("KESU_ORIGINS")
    if configured:
        return [o.rstrip("/").lower() for o in configured]
    return [f"http://{host}", f"https://{host}"] if host else []


def origin_allowed(headers: dict[str, str]) -> bool | None:
    """Whether the request's Origin is an allowed one; None when it sent none."""
    origin = headers.get("origin", "").rstrip("/").lower()
    if not origin:
        return None
    return origin in allowed_origins(headers.get("host", "").lower())


def client_address(request: Request) -> str:
    """Who is signing in, for the per-address delays and the security log: the peer's
    address, or — when the peer is one of KESU_TRUSTED_PROXIES (the reverse proxy's own
    addresses) — the nearest address in X-Forwarded-For that is not a trusted proxy.
    Without it, behind a proxy every user shares the proxy's address (README, Security)."""
    peer = (request.client.host if request.client else "").removeprefix("::ffff:")
    trusted = set(_list("KESU_TRUSTED_PROXIES"))
    if peer not in trusted:
        return peer[:64]
    hops = [h.strip().removeprefix("::ffff:")
            for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return peer[:64]


def secure_cookie(request_scheme: str) -> bool:
    """Secure cookies under https (directly, or said by a proxy: KESU_HTTPS=1)."""
    return request_scheme == "https" or os.environ.get("KESU_HTTPS") == "1"


# ---------------------------------------------------------------- the middleware


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def cookie_of(cookie_header: str, name: str = COOKIE) -> str | None:
    """One cookie's value from a Cookie header; None when absent or malformed."""
    try:
        jar: SimpleCookie = SimpleCookie()
        jar.load(cookie_header)
    except Exception:  # noqa: BLE001 - a garbled Cookie header is simply no cookie
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


UPLOAD = "/_stcore/upload_file"


def upload_limit_mb(ctx: Context) -> int:
    """kesu's per-file limit (Admin setting `attachment_max_mb`), also made Streamlit's own
    `server.maxUploadSize`, which its upload route reads on each request: the two agree on
    every instance without a restart (issue #11: Streamlit accepted 200 MB per request)."""
    mb = uc.context.settings(ctx).attachment_max_mb
    if st_config.get_option("server.maxUploadSize") != mb:
        st_config.set_option("server.maxUploadSize", mb, "kesu setting attachment_max_mb")
    return mb


def asks_to_clear_caches(data: bytes | None) -> bool:
    """Whether a client's WebSocket message is Streamlit's "clear caches" request (BackMsg
    clear_cache): it would empty every user's caches, the app object included."""
    if not data:
        return False
    try:
        return BackMsg.FromString(data).WhichOneof("type") == "clear_cache"
    except Exception:  # noqa: BLE001 - protobuf's DecodeError; Streamlit closes on it
        return False


def without_cache_clearing(receive: Receive) -> Receive:
    """The WebSocket's incoming messages without "clear caches" (issue #11: any client could
    clear every user's caches; kesu clears its own when data changes)."""
    async def filtered() -> MutableMapping[str, Any]:
        while True:
            message = await receive()
            if message["type"] == "websocket.receive" and asks_to_clear_caches(
                    message.get("bytes")):
                log.warning("a client asked to clear every user's caches: ignored")
                continue
            return message
    return filtered


class Guard:
    """The ASGI middleware (pure ASGI: it sees the WebSocket handshake too)."""

    def __init__(self, app: ASGIApp, ctx: ContextFactory) -> None:
        self.app, self.ctx = app, ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "").lower()
        hosts = allowed_hosts()
        if hosts and host not in hosts:
            await self._refuse(scope, receive, send, 400, "unknown host")
            return
        path = _clean(scope.get("path", "/"))
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, headers)
            return
        if any(path.startswith(p) for p in CLOSED):
            await self._refuse(scope, receive, send, 404, "not found")
            return
        if not any(path == p or path.startswith(p) for p in PUBLIC):
            live = await self._session(headers)
            if live is None and await _in_thread(is_set_up, self.ctx()):
                if any(path.startswith(p) for p in GATED) or scope.get("method") not in (
                        "GET", "HEAD"):
                    await self._refuse(scope, receive, send, 403, "sign in first")
                    return
                query = [("next", path)] if _NEXT.match(path) and path != "/" else []
                lang = _query_lang(scope)
                query += [("lang", lang)] if lang else []
                target = SIGNIN + ("?" + "&".join(f"{k}={quote(v)}" for k, v in query)
                                   if query else "")
                await _with_headers(RedirectResponse(target, status_code=303))(scope, receive,
                                                                               send)
                return
        if path.startswith(UPLOAD) and scope.get("method") in ("PUT", "POST"):
            limit = await _in_thread(upload_limit_mb, self.ctx())
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > (limit + 1) * 1024 * 1024:  # + form overhead
                await self._refuse(scope, receive, send, 413, "file too large")
                return
        # a page of the app is never kept by the browser: "back" after signing out asks again
        await self.app(scope, receive, _adding_headers(send, no_store=not path.startswith(
            ("/static/", "/favicon.png"))))

    async def _websocket(self, scope: Scope, receive: Receive, send: Send,
                         headers: dict[str, str]) -> None:
        if not origin_allowed(headers):  # a browser always sends one on a WebSocket
            await self._refuse(scope, receive, send, 403, "origin")
            return
        live = await self._session(headers)
        if live is None and await _in_thread(is_set_up, self.ctx()):
            await self._refuse(scope, receive, send, 403, "sign in first")
            return
        # Streamlit resumes a session only for the same st.user: make that the login session,
        # whatever the client sent under that name
        marker = f"s{live}".encode() if live is not None else b"setup"
        scope = dict(scope)
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != SESSION_HEADER]
        scope["headers"].append((SESSION_HEADER, marker))
        await self.app(scope, without_cache_clearing(receive), send)

    async def _session(self, headers: dict[str, str]) -> int | None:
        """The id of the live session the request's cookie names, or None."""
        token = cookie_of(headers.get("cookie", ""))
        if not token:
            return None
        found = await _in_thread(uc.sessions.session_of, self.ctx(), token)
        return int(found[1].id) if found else None

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int,
                      why: str) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.http.response.start", "status": status,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "websocket.http.response.body", "body": why.encode()})
            return
        await _with_headers(PlainTextResponse(why, status_code=status))(scope, receive, send)


def _query_lang(scope: Scope) -> str:
    """The `lang` a page URL asked for (?lang=en), to keep it on the sign-in page."""
    for part in scope.get("query_string", b"").decode("latin-1").split("&"):
        key, _, value = part.partition("=")
        if key == "lang" and value in ("zh", "en"):
            return value
    return ""


def _clean(path: str) -> str:
    """The path as Streamlit will route it: repeated slashes and dot segments folded."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts) + ("/" if path.endswith("/") and parts else "")


def _adding_headers(send: Send, no_store: bool = False) -> Send:
    extra = HEADERS + ([(b"cache-control", b"no-store")] if no_store else [])

    async def wrapped(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", [])
                       if not (no_store and k.lower() == b"cache-control")]
            have = {k.lower() for k, _ in headers}
            message["headers"] = headers + [(k, v) for k, v in extra if k not in have]
        await send(message)
    return wrapped


def _with_headers(response: Response) -> Response:
    for k, v in HEADERS:
        response.headers[k.decode()] = v.decode()
    return response


# ---------------------------------------------------------------- sign in, sign out


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang") or ""
    if asked in ("zh", "en"):
        return asked
    default = os.environ.get("KESU_DEFAULT_LANG", "zh")  # as the pages do
    return default if default in ("zh", "en") else "zh"


def _next_path(value: str | None) -> str:
    """Where to go after signing in: a path of this app only (never another site)."""
    return value if value and _NEXT.match(value) and not value.startswith("//") else "/"


_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Sans Pro",sans-serif;background:#fff;color:#31333f;
margin:0;display:flex;justify-content:center}
main{width:100%;max-width:420px;padding:48px 20px}
h1{font-size:2rem;margin:0 0 4px} p.tag{color:#6b6f7b;margin:0 0 24px}
label{display:block;font-size:.9rem;margin:16px 0 6px}
input{width:100%;box-sizing:border-box;font:inherit;font-size:1rem;padding:10px 12px;
border:1px solid #d5d7de;border-radius:8px;background:#f0f2f6}
button{margin-top:24px;font:inherit;font-size:1rem;padding:10px 18px;border:0;border-radius:8px;
background:#ff4b4b;color:#fff;cursor:pointer}
.err{background:#ffecec;color:#7d353b;padding:12px 14px;border-radius:8px;margin-top:16px}
.lang{float:right;font-size:.9rem}
"""


def _page(lang: str, title: str, inner: str, status: int) -> Response:
    """A plain HTML page of its own small style: no script, no outside file."""
    body = f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · kesu</title>
<style>{_STYLE}</style></head><body><main>
{inner}
</main></body></html>"""
    return _with_headers(HTMLResponse(body, status_code=status,
                                      headers={"cache-control": "no-store"}))


def signin_page(lang: str, next_path: str = "/", username: str = "", error: str = "",
                status: int = 200, chosen: bool = False) -> Response:
    """The sign-in form."""
    e = html.escape
    other = "en" if lang == "zh" else "zh"
    inner = f"""<a class="lang" href="{SIGNIN}?lang={other}&amp;next={e(quote(next_path))}">
{e(t(f"lang.{other}", lang))}</a>
<h1>{e(t("login.title", lang))}</h1>
<p class="tag">{e(t("app.tagline", lang))}</p>
{f'<p class="tag">{e(t("login.deep_link", lang))}</p>' if next_path != "/" else ''}
<form method="post" action="{SIGNIN}">
<input type="hidden" name="next" value="{e(next_path)}">
<input type="hidden" name="lang" value="{lang}">
<input type="hidden" name="chosen" value="{'1' if chosen else ''}">
<label for="username">{e(t("login.username", lang))}</label>
<input id="username" name="username" autocomplete="username" value="{e(username)}" required
 maxlength="100" autofocus>
<label for="password">{e(t("login.password", lang))}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required
 maxlength="200">
<button type="submit">{e(t("login.submit", lang))}</button>
</form>
{f'<div class="err" role="alert">{e(error)}</div>' if error else ''}"""
    return _page(lang, t("login.title", lang), inner, status)


def new_password_page(lang: str, next_path: str = "/", error: str = "",
                      status: int = 200) -> Response:
    """After an administrator's reset: the one thing the new session may do."""
    e = html.escape
    inner = f"""<h1>{e(t("login.must_change_title", lang))}</h1>
<p class="tag">{e(t("login.must_change_intro", lang))}</p>
<p class="tag">{e(t("account.policy", lang, n=uc.accounts.MIN_PASSWORD))}</p>
<form method="post" action="{NEW_PASSWORD}">
<input type="hidden" name="next" value="{e(next_path)}">
<input type="hidden" name="lang" value="{lang}">
<label for="new">{e(t("login.new_password", lang))}</label>
<input id="new" name="new" type="password" autocomplete="new-password" required
 maxlength="200" autofocus>
<label for="new2">{e(t("login.new_password2", lang))}</label>
<input id="new2" name="new2" type="password" autocomplete="new-password" required
 maxlength="200">
<button type="submit">{e(t("login.set_password", lang))}</button>
</form>
{f'<div class="err" role="alert">{e(error)}</div>' if error else ''}"""
    return _page(lang, t("login.must_change_title", lang), inner, status)


async def signin(ctx: Context, request: Request) -> Response:
    lang = _lang(request)
    if request.method == "GET":
        if request.cookies.get(COOKIE) and await _in_thread(
                uc.accounts.pending_password_change, ctx, request.cookies.get(COOKIE)):
            return _with_headers(RedirectResponse(
                NEW_PASSWORD + f"?lang={lang}&next="
                + quote(_next_path(request.query_params.get("next"))), status_code=303))
        return signin_page(lang, _next_path(request.query_params.get("next")),
                           chosen=request.query_params.get("lang") in ("zh", "en"))
    headers = {k.lower(): v for k, v in request.headers.items()}
    if origin_allowed(headers) is False:
        return _with_headers(PlainTextResponse("origin", status_code=403))
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    username = str(form.get("username") or "")[:100]
    password = str(form.get("password") or "")[:200]
    lang = str(form.get("lang") or lang) if form.get("lang") in ("zh", "en") else lang
    chosen = form.get("chosen") == "1"  # picked on this page (else the user's own language)
    next_path = _next_path(str(form.get("next") or "/"))
    if not username.strip() or not password:
        return signin_page(lang, next_path, username, t("login.missing", lang), 400, chosen)
    client = client_address(request)
    try:
        login = await _in_thread(uc.sessions.log_in, ctx, username, password, client,
                                 headers.get("user-agent", ""))
    except DomainError as err:
        return signin_page(lang, next_path, username, t(err.key, lang, **err.params), 401,
                           chosen)
    target = next_path
    if chosen and not login.user.must_change_password:  # kept as the user's own language
        if login.user.language.value != lang:
            await _in_thread(uc.accounts.set_language, ctx, login.user, Lang(lang))
    if chosen:
        target += ("&" if "?" in target else "?") + f"lang={lang}"
    if login.user.must_change_password:  # reset by an administrator: a new password first
        target = NEW_PASSWORD + f"?lang={lang}&next={quote(next_path)}"
    response = _with_headers(RedirectResponse(target, status_code=303))
    response.set_cookie(COOKIE, login.token, httponly=True, samesite="strict", path="/",
                        secure=secure_cookie(request.url.scheme))
    return response


async def new_password(ctx: Context, request: Request) -> Response:
    """The forced change after a reset: GET shows the form to the session waiting for it,
    POST sets the password (core checks the session and the policy) and goes on."""
    lang = _lang(request)
    token = request.cookies.get(COOKIE)
    if request.method == "GET":
        pending = await _in_thread(uc.accounts.pending_password_change, ctx, token)
        if pending is None:
            return _with_headers(RedirectResponse(SIGNIN + f"?lang={lang}", status_code=303))
        return new_password_page(lang, _next_path(request.query_params.get("next")))
    headers = {k.lower(): v for k, v in request.headers.items()}
    if origin_allowed(headers) is False:
        return _with_headers(PlainTextResponse("origin", status_code=403))
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    lang = str(form.get("lang")) if form.get("lang") in ("zh", "en") else lang
    next_path = _next_path(str(form.get("next") or "/"))
    new, new2 = str(form.get("new") or "")[:200], str(form.get("new2") or "")[:200]
    if new != new2:
        return new_password_page(lang, next_path, t("setup.mismatch", lang), 400)
    try:
        await _in_thread(uc.accounts.set_own_password, ctx, token, new)
    except DomainError as err:
        return new_password_page(lang, next_path, t(err.key, lang, **err.params), 400)
    target = next_path + ("&" if "?" in next_path else "?") + f"lang={lang}"
    return _with_headers(RedirectResponse(target, status_code=303))


async def signout(ctx: Context, request: Request) -> Response:
    """End this browser's session and clear its cookie (GET: a same-site link; the cookie is
    SameSite=Strict, so another site cannot sign anybody out)."""
    token = request.cookies.get(COOKIE)
    if token:
        await _in_thread(uc.sessions.log_out, ctx, token)
    lang = request.query_params.get("lang")
    response = _with_headers(RedirectResponse(
        SIGNIN + (f"?lang={lang}" if lang in ("zh", "en") else ""), status_code=303))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=secure_cookie(request.url.scheme))
    return response


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """A blocking call (bcrypt, the database) off the event loop."""
    return await anyio.to_thread.run_sync(lambda: fn(*args))


def routes(ctx: ContextFactory) -> list[Route]:
    """kesu's own routes, on the application object `ctx` gives."""
    async def signin_route(request: Request) -> Response:
        return await signin(ctx(), request)

    async def signout_route(request: Request) -> Response:
        return await signout(ctx(), request)

    async def new_password_route(request: Request) -> Response:
        return await new_password(ctx(), request)

    return [Route(SIGNIN, signin_route, methods=["GET", "POST"]),
            Route(NEW_PASSWORD, new_password_route, methods=["GET", "POST"]),
            Route(SIGNOUT, signout_route, methods=["GET"])]
