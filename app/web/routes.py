"""Routes serving the pages and their assets. The pages are static files that call the JSON API themselves."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
# pages change with the code: let the browser revalidate (ETag / Last-Modified) instead of caching blindly
NO_CACHE = {"Cache-Control": "no-cache"}
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(TEMPLATES / name, media_type="text/html; charset=utf-8", headers=NO_CACHE)


@router.api_route("/", methods=["GET", "HEAD"])
async def chat_page() -> FileResponse:
    return _page("chat.html")


@router.api_route("/counselor", methods=["GET", "HEAD"])
async def counselor_page() -> FileResponse:
    return _page("counselor.html")


@router.api_route("/sources/{doc_id}", methods=["GET", "HEAD"])
async def source_page(doc_id: str) -> FileResponse:  # noqa: ARG001 - the page reads the id from its URL
    return _page("source.html")


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
async def static_file(path: str) -> FileResponse:
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file() or target.suffix not in MEDIA_TYPES:
        raise HTTPException(404, "没有这个文件")
    return FileResponse(target, media_type=MEDIA_TYPES[target.suffix], headers=NO_CACHE)
