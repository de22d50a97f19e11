"""Pure ASGI middlewares (no BaseHTTPMiddleware: streaming responses pass straight through):

- :class:`SecurityHeaders`: CSP and friends on every response (app/server/headers.py; the 500 handler adds
  them itself, since Starlette sends a 500 from outside every middleware);
- :class:`RateLimit`: a token bucket per client on /api and /v1 → 429 with ``Retry-After``;
- :class:`BodyLimit`: bodies over ``max_body_bytes`` → 413, by ``Content-Length`` or by counting what arrives.

:func:`install_middleware` puts them (and CORS, only when origins are configured) in order.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.server.errors import error_body
from app.server.headers import security_headers, under
from app.server.ratelimit import TokenBucketLimiter
from app.settings import Settings

LIMITED_PREFIXES = ("/api", "/v1")


def _limited(scope: Scope) -> bool:
    """/api and /v1; and token guesses at the counselor page (guesses at the API's Bearer are /api anyway)."""
    if under(scope["path"], LIMITED_PREFIXES):
        return True
    return scope["path"] == "/counselor" and (scope["method"] == "POST" or b"token=" in scope["query_string"])


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        wanted = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k.encode(), v.encode()) for k, v in wanted.items() if k.encode() not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_address(scope: Scope, *, trust_proxy_headers: bool) -> str:
    """The peer's address, or the first ``X-Forwarded-For`` address when the proxy in front is ours (it must
    set the header, not append to what the client sent: nginx ``proxy_set_header X-Forwarded-For
    $remote_addr``, as in deploy/nginx.conf)."""
    if trust_proxy_headers:
        forwarded = Headers(scope=scope).get("x-forwarded-for", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def exempt_networks(entries: Collection[str]) -> tuple[tuple[Network, ...], frozenset[str]]:
    """``rate_limit_exempt`` entries: addresses ("127.0.0.1") and networks ("172.16.0.0/12"), and any other
    entry as a client name matched exactly (a test client's "testclient")."""
    networks: list[Network] = []
    names: set[str] = set()
    for entry in (e.strip() for e in entries if e.strip()):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry)
    return tuple(networks), frozenset(names)


def is_exempt(client: str, exempt: tuple[tuple[Network, ...], frozenset[str]]) -> bool:
    networks, names = exempt
    if client in names:
        return True
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in net for net in networks if net.version == address.version)


class RateLimit:
    """429 once a client has used its burst and its per-minute rate on /api and /v1 (pages, static files,
    /healthz and /readyz are not limited, except a counselor token sent to /counselor). Per instance: see
    :mod:`app.server.ratelimit`."""

    def __init__(self, app: ASGIApp, *, limiter: TokenBucketLimiter, exempt: Collection[str],
                 trust_proxy_headers: bool) -> None:
        self.app = app
        self.limiter = limiter
        self.exempt = exempt_networks(exempt)
        self.trust_proxy_headers = trust_proxy_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _limited(scope):
            client = client_address(scope, trust_proxy_headers=self.trust_proxy_headers)
            if not is_exempt(client, self.exempt):
                decision = self.limiter.hit(client)
                if not decision.allowed:
                    wait = decision.retry_after_header
                    detail = f"请求过于频繁，请 {wait} 秒后再试"
                    response = JSONResponse(error_body(scope["path"], detail, "rate_limit_exceeded"),
                                            status_code=429, headers={"Retry-After": wait})
                    return await response(scope, receive, send)
        await self.app(scope, receive, send)


class BodyTooLarge(HTTPException):
    """Raised while the body is read; FastAPI re-raises HTTP exceptions, so the app's handler answers 413."""


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.detail = f"请求内容过大：最多 {max_bytes} 字节，请减少内容或分批提交"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._reject(scope, receive, send)
        received, started = 0, False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(413, self.detail)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:  # read outside FastAPI's handling (not by a route): answer here
            if started:
                raise
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(error_body(scope["path"], self.detail), status_code=413)
        await response(scope, receive, send)


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Outermost first: security headers (on every answer, 413/429 too), CORS, rate limit, body limit."""
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # type: ignore[arg-type]
    if settings.rate_limit_per_minute > 0:
        limiter = TokenBucketLimiter(per_minute=settings.rate_limit_per_minute,
                                     burst=settings.rate_limit_burst)
        app.add_middleware(RateLimit, limiter=limiter, exempt=settings.rate_limit_exempt,  # type: ignore[arg-type]
                           trust_proxy_headers=settings.trust_proxy_headers)
    if settings.cors_origins:  # closed by default: no Access-Control-Allow-Origin for anyone
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,  # type: ignore[arg-type]
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(SecurityHeaders)  # type: ignore[arg-type]
