"""The counselor token (``YIBAO_COUNSELOR_TOKEN``) in front of /counselor, POST /api/batch and
GET /api/feedback/export. Students' endpoints stay open.

- Unset (or blank): everything is open; the app logs a warning at start-up.
- Set: ``Authorization: Bearer <token>``, or the cookie that ``/counselor?token=<token>`` sets (HttpOnly,
  SameSite=Strict: only this site's own pages send it, so the console's fetch calls to /api/batch work and
  another site cannot borrow it). The cookie holds an HMAC of the token, not the token. Comparisons take
  constant time (:func:`hmac.compare_digest`).

Settings are read from ``app.state.runtime`` (no import of the runtime here: the pages import this module).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.settings import Settings

COOKIE = "yibao_counselor"
COOKIE_MAX_AGE = 12 * 3600  # a working day; then the counselor opens /counselor?token=… again
DENIED = ("需要辅导员令牌：请在请求头加 Authorization: Bearer <令牌>，"
          "或在浏览器中打开 /counselor?token=<令牌> 后再试")
bearer = HTTPBearer(auto_error=False, scheme_name="counselorToken",
                    description="服务端设置了 YIBAO_COUNSELOR_TOKEN 时需要；未设置时不需要")


def token_of(settings: Settings) -> str | None:
    """The configured token; blank counts as unset."""
    secret = settings.counselor_token
    return (secret.get_secret_value().strip() or None) if secret is not None else None


def configured_token(request: Request) -> str | None:
    runtime = getattr(request.app.state, "runtime", None)
    return token_of(runtime.settings) if runtime is not None else None


def cookie_value(token: str) -> str:
    return hmac.new(token.encode(), b"yibao counselor cookie v1", hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def presented(request: Request, token: str) -> bool:
    """The request carries the token (Bearer) or the cookie derived from it."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip() and _same(value.strip(), token):
        return True
    cookie = request.cookies.get(COOKIE)
    return cookie is not None and _same(cookie, cookie_value(token))


async def require_counselor(request: Request,
                            _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
    """Dependency of the counselor's endpoints: 401 (Chinese) without the token when one is configured.
    (``bearer`` only documents the scheme in OpenAPI; :func:`presented` does the checking.)"""
    token = configured_token(request)
    if token is not None and not presented(request, token):
        raise HTTPException(401, DENIED, headers={"WWW-Authenticate": "Bearer"})


CounselorOnly = Depends(require_counselor)


def page_access(request: Request, given: str | None) -> Literal["open", "granted", "login", "wrong"]:
    """For the /counselor page, ``given`` the token typed or in ``?token=``: ``open`` (no token configured,
    or the request carries it), ``granted`` (``given`` is right: :func:`grant` the cookie), ``login`` (ask
    for it) or ``wrong``."""
    token = configured_token(request)
    if token is None:
        return "open"
    if given is not None:
        return "granted" if _same(given.strip(), token) else "wrong"
    return "open" if presented(request, token) else "login"


def grant(response: Response, request: Request) -> None:
    token = configured_token(request)
    assert token is not None
    settings = request.app.state.runtime.settings
    https = request.url.scheme == "https" or (
        settings.trust_proxy_headers and request.headers.get("x-forwarded-proto", "").lower() == "https")
    response.set_cookie(COOKIE, cookie_value(token), max_age=COOKIE_MAX_AGE, path="/", httponly=True,
                        samesite="strict", secure=https)
