"""The page routes without a browser: each page and asset is served by the app itself, nothing is fetched from
elsewhere (offline), and /static/ cannot be used to read other files."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.web import router
from app.web.routes import STATIC, TEMPLATES


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


@pytest.mark.parametrize(("path", "marker"), [
    ("/", "<title>医保助手</title>"),
    ("/counselor", "辅导员工作台"),
    ("/sources/wuhan_2025", "指南原文"),
    ("/sources/anything-at-all", "指南原文"),  # the page itself reports an unknown guide
])
def test_pages_are_served_as_utf8_html(client: TestClient, path: str, marker: str) -> None:
    res = client.get(path)
    assert res.status_code == 200
    assert res.headers["content-type"] == "text/html; charset=utf-8"
    assert marker in res.text and '<meta charset="utf-8">' in res.text
    assert client.head(path).status_code == 200


def test_every_referenced_asset_exists(client: TestClient) -> None:
    for page in TEMPLATES.glob("*.html"):
        refs = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.read_text(encoding="utf-8"))
        assert refs, page.name
        for ref in refs:
            res = client.get(ref)
            assert res.status_code == 200, f"{page.name}: {ref}"
            kind = res.headers["content-type"].split(";")[0]
            assert kind in {"text/css", "text/javascript", "image/svg+xml"}


def test_nothing_is_loaded_from_the_internet() -> None:
    """No CDN, no web fonts, no remote images: the pages work with no network at all."""
    remote = re.compile(
        r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import|@font-face""", re.I)
    for path in [*TEMPLATES.glob("*.html"), *STATIC.glob("*.css"), *STATIC.glob("*.js")]:
        assert not remote.search(path.read_text(encoding="utf-8")), f"{path.name} loads something remote"


@pytest.mark.parametrize("path", [
    "/static/../routes.py", "/static/%2e%2e/routes.py", "/static/..%2Froutes.py",
    "/static/%2e%2e/%2e%2e/pyproject.toml", "/static/", "/static/nope.js", "/static//etc/passwd",
])
def test_static_cannot_escape_its_folder(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_app_includes_the_pages() -> None:
    from app.server.main import create_app

    app = TestClient(create_app())  # not entered: no lifespan, nothing is loaded; the pages need nothing
    assert app.get("/").status_code == 200 and "医保助手" in app.get("/").text
    assert app.get("/counselor").status_code == 200
    assert app.get("/static/chat.js").status_code == 200
