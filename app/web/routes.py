"""Routes serving the pages and their assets. The pages are static files that call the JSON API themselves."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from app.server import auth

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
# pages change with the code: let the browser revalidate (ETag / Last-Modified) instead of caching blindly
NO_CACHE = {"Cache-Control": "no-cache"}
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}

WRONG_TOKEN = '<br><strong class="login-error">令牌不正确，请重新输入。</strong>'

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(TEMPLATES / name, media_type="text/html; charset=utf-8", headers=NO_CACHE)


@router.api_route("/", methods=["GET", "HEAD"])
async def chat_page() -> FileResponse:
    return _page("chat.html")


@router.api_route("/counselor", methods=["GET", "HEAD"])
async def counselor_page(request: Request) -> Response:
    """Open when no counselor token is configured; otherwise the token (``?token=``, which also sets the
    cookie the page's API calls carry), the cookie or a Bearer header; else a 401 page asking for it."""
    access = auth.page_access(request, request.query_params.get("token"))
    if access in ("login", "wrong"):
        return _login_page(wrong=access == "wrong")
    page = _page("counselor.html")
    if access == "granted":
        auth.grant(page, request)
    return page


@router.post("/counselor")
async def counselor_login(request: Request) -> Response:
    """The 401 page's form (POST, so a typed token never lands in an access log): cookie, then the page."""
    form = parse_qs((await request.body())[:4096].decode("utf-8", errors="replace"))
    access = auth.page_access(request, (form.get("token") or [""])[0])
    if access in ("login", "wrong"):
        return _login_page(wrong=True)
    page = RedirectResponse("/counselor", status_code=303)
    if access == "granted":
        auth.grant(page, request)
    return page


@lru_cache(maxsize=1)
def _login_html() -> str:
    return (TEMPLATES / "counselor_login.html").read_text(encoding="utf-8")


def _login_page(*, wrong: bool) -> HTMLResponse:
    html = _login_html()
    if wrong:
        html = html.replace("<!--message-->", WRONG_TOKEN)
    return HTMLResponse(html, status_code=401, headers={**NO_CACHE, "WWW-Authenticate": "Bearer"})


@router.api_route("/sources/{doc_id}", methods=["GET", "HEAD"])
async def source_page(doc_id: str) -> FileResponse:  # noqa: ARG001 - the page reads the id from its URL
    return _page("source.html")


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
async def static_file(path: str) -> FileResponse:
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file() or target.suffix not in MEDIA_TYPES:
        raise HTTPException(404, "没有这个文件")
    return FileResponse(target, media_type=MEDIA_TYPES[target.suffix], headers=NO_CACHE)
