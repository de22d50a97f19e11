"""Issue 7, the HTTP service hardened, through its real interface (TestClient over the app ``create_app``
builds): limits from settings on every endpoint (422/413, Chinese, never a 500), invisible characters
stripped, per-client rate limit (429 + Retry-After), CORS closed unless configured, security headers and
a CSP the pages really satisfy, the counselor token (page, /api/batch, feedback export) and the export."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import KNOWLEDGE, city_names
from fastapi.testclient import TestClient

from app.answer.service import AnswerService
from app.server.auth import COOKIE
from app.server.main import create_app
from app.settings import Settings
from app.web.routes import STATIC, TEMPLATES

COVERED = sorted(c for c in city_names() if c != "national")
ID_NUMBER = "110101199003074258"
PHONE = "13812345678"
TOKEN = "s3cret-counselor-token"  # noqa: S105 - a test token
POSTS = ["/api/ask", "/api/ask/stream", "/api/batch", "/api/calc/benefit", "/api/calc/eligibility",
         "/api/feedback", "/v1/chat/completions"]
ASK = {"question": "武汉住院报销比例是多少"}
CHAT = {"messages": [{"role": "user", "content": "武汉住院报销比例是多少"}]}


def settings_for(tmp: Path, index_dir: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"knowledge_dir": KNOWLEDGE, "index_dir": index_dir,
                            "feedback_db": tmp / "feedback.sqlite", "rate_limit_per_minute": 0}
    return Settings(**{**base, **overrides})


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hardening")


@pytest.fixture(scope="module")
def client(tmp: Path, full_index: Path, full_loaded) -> Iterator[TestClient]:  # noqa: ANN001
    """The real pipeline; small limits so that they visibly come from the settings."""
    settings = settings_for(tmp, full_index, max_question_chars=50, max_batch_questions=3,
                            max_body_bytes=4096)
    with TestClient(create_app(settings, service=AnswerService(settings, index=full_loaded))) as c:
        yield c


@pytest.fixture(scope="module")
def guarded(tmp: Path, full_index: Path, full_loaded) -> Iterator[TestClient]:  # noqa: ANN001
    settings = settings_for(tmp, full_index, counselor_token=TOKEN, feedback_db=tmp / "guarded.sqlite")
    with TestClient(create_app(settings, service=AnswerService(settings, index=full_loaded))) as c:
        yield c


def bare(tmp_path: Path, **overrides: Any) -> TestClient:
    """An app without an index (starts in no time): enough for what sits in front of the routes."""
    return TestClient(create_app(settings_for(tmp_path, tmp_path / "no-index", **overrides)))


def assert_error(res: Any, status: int, *words: str) -> str:
    assert res.status_code == status, res.text
    assert res.headers["content-type"].startswith("application/json"), res.headers
    detail = res.json()["detail"]
    assert isinstance(detail, str) and "Traceback" not in res.text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in detail), detail
    for word in words:
        assert word in detail, detail
    return detail


# ---- questions: empty, too long (the setting), invisible characters ---------------------------------------
def test_limit_settings_reach_every_question_endpoint(client: TestClient) -> None:
    long_q = "武汉住院报销" * 9  # 54 characters > 50
    ok_q = "武汉住院报销比例是多少" * 4  # 44 characters
    for path, body in [("/api/ask", {"question": long_q}), ("/api/ask/stream", {"question": long_q}),
                       ("/api/batch", {"questions": [long_q]}), ("/api/batch", {"text": long_q}),
                       ("/v1/chat/completions", {"messages": [{"role": "user", "content": long_q}]}),
                       ("/v1/chat/completions", {"messages": [{"role": "user", "content": long_q}],
                                                 "stream": True})]:
        assert_error(client.post(path, json=body), 422, "50", "54")
    assert client.post("/api/ask", json={"question": ok_q}).status_code == 200
    assert client.post("/v1/chat/completions",
                       json={"messages": [{"role": "user", "content": ok_q}]}).status_code == 200
    # the batch size is a setting too (3 here); text and the list count together
    assert_error(client.post("/api/batch", json={"questions": ["住院报销比例？"] * 4}), 422, "3", "4")
    assert_error(client.post("/api/batch", json={"text": "住院报销比例？\n门诊怎么报？",
                                                "questions": ["怎么缴费？", "要不要停保？"]}), 422, "3")
    assert client.post("/api/batch", json={"questions": ["住院报销比例？"] * 3}).status_code == 200


def test_the_question_limit_is_counted_after_invisible_characters_go(client: TestClient) -> None:
    padded = "\u200b" * 40 + "武汉住院报销比例是多少" + "\x00" * 40  # 91 characters, 11 visible
    assert client.post("/api/ask", json={"question": padded}).status_code == 200


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "\x00\x07\x1b", "\u200b\ufeff\u202e"])
def test_empty_questions_are_422_everywhere(client: TestClient, question: str) -> None:
    for path, body in [("/api/ask", {"question": question}), ("/api/ask/stream", {"question": question}),
                       ("/api/batch", {"questions": [question]}), ("/api/batch", {"text": question}),
                       ("/v1/chat/completions", {"messages": [{"role": "user", "content": question}]})]:
        assert_error(client.post(path, json=body), 422), (path, body)


def test_invisible_characters_are_stripped(client: TestClient) -> None:
    dirty = "\x00武汉\u200b住院\x07报销\u202e比例\ufeff是多少\x7f"
    clean = client.post("/api/ask", json={"question": "武汉住院报销比例是多少"}).json()
    got = client.post("/api/ask", json={"question": dirty}).json()
    assert got["city"] == clean["city"] == "wuhan" and got["intent"] == clean["intent"]
    assert got["answer"] == clean["answer"]
    # batch: line breaks and tabs still separate and stay; everything else invisible goes
    paste = "张同学：武汉住院\x00报销比例\u200b是多少？\r\n李同学：上海\x1b怎么\t缴费？"
    items = client.post("/api/batch", json={"text": paste}).json()["items"]
    assert [i["response"]["city"] for i in items] == ["wuhan", "shanghai"]
    for item in items:
        q = item["question"]
        assert not [ch for ch in q if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t"], q
    assert "\t" in items[1]["question"]
    listed = client.post("/api/batch", json={"questions": ["上海\x00怎么\u200b缴费？"]}).json()["items"]
    assert listed[0]["question"] == "上海怎么缴费？"


# ---- malformed bodies: JSON, types, UTF-8 -----------------------------------------------------------------
@pytest.mark.parametrize("path", POSTS)
def test_malformed_bodies_are_422_in_chinese(client: TestClient, path: str) -> None:
    json_type = {"content-type": "application/json"}
    assert_error(client.post(path, content=b'{"question": ', headers=json_type), 422, "JSON")
    assert_error(client.post(path, content=b'{"question": "\xff"}', headers=json_type), 422, "UTF-8")
    assert_error(client.post(path, content=b"\xff\xfe{}", headers=json_type), 422, "JSON")  # a UTF-16 BOM
    assert_error(client.post(path, content=b'{"question": "\xe6\xad"}', headers=json_type), 422, "UTF-8")
    assert_error(client.post(path, content=b'{"question": "\\ud800"}', headers=json_type), 422)
    assert_error(client.post(path, content=b"question=1", headers={"content-type": "text/plain"}), 422)
    assert_error(client.post(path, content=b"", headers=json_type), 422)
    for junk in (None, 1, "x", [], [{}], {"question": 1, "text": 2, "questions": 3, "messages": 4, "city": 5,
                                         "rating": 6, "cost": "很多", "care": [], "session_id": {}}):
        assert_error(client.post(path, json=junk), 422)


def test_a_number_too_long_to_parse_is_422(tmp_path: Path) -> None:
    """Python refuses integers over 4300 digits: FastAPI's English 400 becomes our Chinese 422."""
    with bare(tmp_path) as c:
        body = b'{"a": 1' + b"0" * 5000 + b"}"
        for path in POSTS:
            res = c.post(path, content=body, headers={"content-type": "application/json"})
            assert_error(res, 422, "请求体")


def test_wrong_types_name_the_field(client: TestClient) -> None:
    assert_error(client.post("/api/ask", json={"question": ["住院"]}), 422, "question", "应为字符串")
    assert_error(client.post("/api/ask/stream", json={"question": "住院", "session_id": 3}), 422,
                 "session_id")
    assert_error(client.post("/api/batch", json={"questions": [1, 2]}), 422, "questions")
    assert_error(client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": 5}]}),
                 422, "content")
    assert_error(client.post("/v1/chat/completions", json={**CHAT, "stream": "maybe"}), 422, "stream")
    assert_error(client.post("/api/feedback", json={"rating": "up", "comment": 7}), 422, "comment")
    calc = {"city": "wuhan", "care": "inpatient", "hospital_level": "三级", "cost": 100}
    assert_error(client.post("/api/calc/benefit", json=calc), 422, "hospital_level")


def test_calculator_takes_the_documented_json_types(client: TestClient) -> None:
    """Over HTTP 0 is not false and a number is not a date (pydantic alone would read 0 as 1970-01-01)."""
    benefit = {"city": "wuhan", "care": "inpatient", "hospital_level": 3, "cost": 10000}
    assert client.post("/api/calc/benefit", json={**benefit, "hardship": False}).status_code == 200
    assert_error(client.post("/api/calc/benefit", json={**benefit, "hardship": 0}), 422, "hardship", "true")
    level = client.post("/api/calc/benefit", json={**benefit, "hospital_level": "3"})
    assert_error(level, 422, "hospital_level")
    eligibility = {"city": "wuhan", "level": "graduate"}
    assert client.post("/api/calc/eligibility", json={**eligibility, "date": "2025-09-01"}).status_code == 200
    assert_error(client.post("/api/calc/eligibility", json={**eligibility, "date": 0}), 422, "date")
    assert_error(client.post("/api/calc/eligibility", json={**eligibility, "full_time": 1}), 422, "full_time")


def test_unknown_query_parameters_are_refused(client: TestClient) -> None:
    assert_error(client.get("/api/feedback/export", params={"fromat": "csv"}), 422, "fromat", "format")
    assert_error(client.get("/api/cities", params={"x": "1"}), 422, "x")
    assert_error(client.post("/api/ask", params={"debug": "1"}, json=ASK), 422, "debug")
    assert client.get("/healthz", params={"probe": "lb"}).status_code == 200  # probes take anything


@pytest.mark.parametrize(("path", "body"), [
    ("/api/ask", {"question": "住院报销", "city": "atlantis"}),
    ("/api/ask/stream", {"question": "住院报销", "city": "atlantis"}),
    ("/api/batch", {"questions": ["住院报销"], "city": "atlantis"}),
    ("/v1/chat/completions", {**CHAT, "city": "atlantis"}),
    ("/v1/chat/completions", {**CHAT, "city": "atlantis", "stream": True}),
    ("/api/calc/benefit", {"city": "atlantis", "care": "inpatient", "hospital_level": 3, "cost": 100}),
    ("/api/calc/eligibility", {"city": "atlantis", "level": "undergraduate"}),
])
def test_unknown_city_lists_the_valid_ids(client: TestClient, path: str, body: dict[str, Any]) -> None:
    assert_error(client.post(path, json=body), 422, "atlantis", *COVERED)


# ---- body size --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", POSTS)
def test_a_body_over_the_limit_is_413(client: TestClient, path: str) -> None:
    big = json.dumps({"question": "住" * 3000}).encode()  # 9 KB > max_body_bytes = 4096
    detail = assert_error(client.post(path, content=big, headers={"content-type": "application/json"}),
                          413, "4096")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the bytes are counted as they arrive
        for _ in range(10):
            yield b" " * 1000

    res = client.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert assert_error(res, 413) == detail
    if path.startswith("/v1/"):
        assert res.json()["error"]["message"] == detail  # what an OpenAI client shows


def test_a_body_under_the_limit_is_fine(client: TestClient) -> None:
    body = json.dumps({**ASK, "id": "x" * 3000}).encode()
    assert len(body) < 4096
    res = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert res.status_code == 200


# ---- rate limit -------------------------------------------------------------------------------------------
def test_rate_limit_per_client(tmp_path: Path) -> None:
    with bare(tmp_path, rate_limit_per_minute=60, rate_limit_burst=3, rate_limit_exempt=[]) as c:
        for _ in range(3):
            assert c.get("/api/cities").status_code == 200
        refused = c.get("/api/cities")
        assert_error(refused, 429, "频繁")
        assert refused.headers["retry-after"].isdigit() and int(refused.headers["retry-after"]) >= 1
        v1 = c.post("/v1/chat/completions", json=CHAT)  # the same client, the same bucket
        assert_error(v1, 429)
        assert v1.json()["error"]["message"] == v1.json()["detail"]
        # pages, their assets and the probes are never limited
        for path in ["/", "/counselor", "/sources/wuhan_2025", "/static/chat.js", "/healthz", "/readyz",
                     "/docs", "/openapi.json"] * 3:
            assert c.get(path).status_code != 429, path


def test_token_guesses_at_the_counselor_page_are_limited(tmp_path: Path) -> None:
    limited = {"rate_limit_per_minute": 60, "rate_limit_burst": 2, "rate_limit_exempt": []}
    with bare(tmp_path, counselor_token=TOKEN, **limited) as c:
        codes = [c.post("/counselor", data={"token": f"guess{i}"}).status_code for i in range(2)]
        codes.append(c.get("/counselor", params={"token": "guess"}).status_code)
        assert codes == [401, 401, 429]
        assert c.get("/counselor").status_code == 401  # the page itself is not limited


def test_rate_limit_exempt_and_off(tmp_path: Path) -> None:
    with bare(tmp_path, rate_limit_per_minute=60, rate_limit_burst=1, rate_limit_exempt=["testclient"]) as c:
        assert all(c.get("/api/cities").status_code == 200 for _ in range(5))
    with bare(tmp_path, rate_limit_per_minute=0, rate_limit_burst=1, rate_limit_exempt=[]) as c:
        assert all(c.get("/api/cities").status_code == 200 for _ in range(5))


def test_rate_limit_behind_a_proxy(tmp_path: Path) -> None:
    limited = {"rate_limit_per_minute": 60, "rate_limit_burst": 1, "rate_limit_exempt": ["9.9.9.9"]}
    with bare(tmp_path, trust_proxy_headers=True, **limited) as c:
        def get(addr: str) -> int:
            return c.get("/api/cities", headers={"X-Forwarded-For": f"{addr}, 10.0.0.1"}).status_code

        assert [get("1.1.1.1"), get("1.1.1.1"), get("2.2.2.2")] == [200, 429, 200]
        assert [get("9.9.9.9") for _ in range(3)] == [200, 200, 200]  # exempt by its forwarded address
    # a network exempts every address in it (e.g. the evaluation harness's container network)
    with bare(tmp_path, trust_proxy_headers=True, **{**limited, "rate_limit_exempt": ["172.16.0.0/12"]}) as c:
        def status(addr: str) -> int:
            return c.get("/api/cities", headers={"X-Forwarded-For": addr}).status_code

        assert [status("172.18.0.7") for _ in range(3)] == [200, 200, 200]
        assert [status("8.8.8.8") for _ in range(2)] == [200, 429]
    with bare(tmp_path, trust_proxy_headers=False, **limited) as c:  # a spoofed header changes nothing
        codes = [c.get("/api/cities", headers={"X-Forwarded-For": f"3.3.3.{i}"}).status_code
                 for i in range(3)]
        assert codes == [200, 429, 429]


# ---- CORS -------------------------------------------------------------------------------------------------
def test_cors_is_closed_by_default(tmp_path: Path) -> None:
    with bare(tmp_path) as c:
        res = c.get("/api/cities", headers={"Origin": "https://evil.example"})
        assert res.status_code == 200 and "access-control-allow-origin" not in res.headers
        pre = c.options("/api/ask", headers={"Origin": "https://evil.example",
                                             "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in pre.headers


def test_cors_allows_only_the_listed_origins(tmp_path: Path) -> None:
    with bare(tmp_path, cors_origins=["https://ok.example"]) as c:
        ok = c.get("/api/cities", headers={"Origin": "https://ok.example"})
        assert ok.headers["access-control-allow-origin"] == "https://ok.example"
        assert "access-control-allow-origin" not in c.get("/api/cities",
                                                           headers={"Origin": "https://evil.example"}).headers
        pre = c.options("/api/ask", headers={"Origin": "https://ok.example",
                                             "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "content-type"})
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://ok.example"
        assert "POST" in pre.headers["access-control-allow-methods"]
        evil = c.options("/api/ask", headers={"Origin": "https://evil.example",
                                              "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in evil.headers


# ---- security headers and CSP -----------------------------------------------------------------------------
def assert_secured(res: Any) -> str:
    h = res.headers
    assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer" and "camera=()" in h["permissions-policy"]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    return str(h["content-security-policy"])


def test_security_headers_on_every_response(tmp_path: Path) -> None:
    with bare(tmp_path, rate_limit_per_minute=60, rate_limit_burst=1, rate_limit_exempt=[],
              max_body_bytes=1024) as c:
        for res in [c.get("/"), c.get("/counselor"), c.get("/sources/wuhan_2025"), c.get("/static/chat.js"),
                    c.get("/healthz"), c.get("/nope"), c.get("/api/cities"), c.get("/api/cities"),  # 200, 429
                    c.post("/api/feedback", content=b"x" * 2000), c.get("/docs"), c.get("/openapi.json")]:
            assert_secured(res)
        page = assert_secured(c.get("/"))
        assert "unsafe-inline" not in page and "unsafe-eval" not in page
        assert "script-src 'self';" in page and "style-src 'self';" in page
        docs = assert_secured(c.get("/docs"))  # Swagger UI starts from an inline script
        assert "script-src 'self' 'unsafe-inline'" in docs and "http" not in docs


def test_even_a_500_carries_the_headers(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(req: Any) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(client.app.state.runtime.service, "ask", boom)  # type: ignore[attr-defined]
    res = TestClient(client.app, raise_server_exceptions=False).post("/api/ask", json=ASK)
    assert_error(res, 500, "服务内部错误")
    assert_secured(res)


def test_pages_need_nothing_the_csp_forbids() -> None:
    """Pages: scripts and styles only from files; no inline <script>/<style>, no style="" or on…=""
    attributes, no javascript: URLs. Scripts: no eval, no style attribute set from a string."""
    for page in TEMPLATES.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), page.name
        assert "<style" not in html and not re.search(r"\sstyle\s*=", html), page.name
        assert not re.search(r"\son[a-z]+\s*=", html, re.I) and "javascript:" not in html, page.name
    for script in STATIC.glob("*.js"):
        js = script.read_text(encoding="utf-8")
        forbidden = r"\beval\(|new Function\(|setAttribute\(\s*['\"]style|\bstyle:\s*['\"`]"
        assert not re.search(forbidden, js), script.name
        assert "innerHTML" not in js and "insertAdjacentHTML" not in js, script.name


# ---- counselor token --------------------------------------------------------------------------------------
def test_counselor_page_asks_for_the_token(guarded: TestClient) -> None:
    guarded.cookies.clear()
    res = guarded.get("/counselor")
    assert res.status_code == 401 and res.headers["content-type"].startswith("text/html")
    assert "令牌" in res.text and 'name="token"' in res.text and "batch-form" not in res.text
    wrong = guarded.get("/counselor", params={"token": "guess"})
    assert wrong.status_code == 401 and "令牌不正确" in wrong.text
    assert COOKIE not in wrong.headers.get("set-cookie", "")
    assert guarded.get("/counselor", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    # the form on that page POSTs (a typed token stays out of URLs and access logs)
    assert '<form method="post" action="/counselor"' in res.text
    typed = guarded.post("/counselor", data={"token": TOKEN}, follow_redirects=False)
    assert typed.status_code == 303 and typed.headers["location"] == "/counselor"
    assert typed.headers["set-cookie"].startswith(f"{COOKIE}=")
    assert guarded.get("/counselor").status_code == 200  # the cookie, after the redirect
    guarded.cookies.clear()
    again = guarded.post("/counselor", data={"token": "guess"}, follow_redirects=False)
    assert again.status_code == 401 and "令牌不正确" in again.text and "set-cookie" not in again.headers


def test_counselor_token_in_the_url_sets_a_strict_cookie_for_the_pages_own_calls(guarded: TestClient) -> None:
    guarded.cookies.clear()
    res = guarded.get("/counselor", params={"token": TOKEN})
    assert res.status_code == 200 and "辅导员工作台" in res.text
    cookie = res.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert TOKEN not in cookie and "Secure" not in cookie  # an HMAC of the token; plain http here
    assert guarded.get("/counselor").status_code == 200  # the cookie opens the page
    batch = guarded.post("/api/batch", json={"questions": ["武汉住院报销比例是多少"]})  # as counselor.js does
    assert batch.status_code == 200 and batch.json()["items"][0]["response"]["city"] == "wuhan"
    assert guarded.get("/api/feedback/export").status_code == 200
    guarded.cookies.clear()
    guarded.cookies.set(COOKIE, "0" * 64)
    assert_error(guarded.post("/api/batch", json={"questions": ["住院报销"]}), 401, "令牌")
    guarded.cookies.clear()


def test_the_cookie_is_secure_behind_an_https_proxy(tmp_path: Path) -> None:
    with bare(tmp_path, counselor_token=TOKEN, trust_proxy_headers=True) as c:
        res = c.get("/counselor", params={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"})
        assert res.status_code == 200 and "Secure" in res.headers["set-cookie"]
    with bare(tmp_path, counselor_token=TOKEN) as c:  # an untrusted header is ignored
        res = c.get("/counselor", params={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"})
        assert "Secure" not in res.headers["set-cookie"]


@pytest.mark.parametrize("auth", ["", "Bearer wrong", "Bearer ", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_counselor_endpoints_refuse_without_the_token(guarded: TestClient, auth: str) -> None:
    guarded.cookies.clear()
    headers = {"Authorization": auth} if auth else {}
    for res in (guarded.post("/api/batch", json={"questions": ["住院报销"]}, headers=headers),
                guarded.get("/api/feedback/export", headers=headers)):
        assert_error(res, 401, "令牌", "Authorization")
        assert res.headers["www-authenticate"] == "Bearer"


def test_counselor_endpoints_accept_the_bearer_token(guarded: TestClient) -> None:
    guarded.cookies.clear()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    batch = guarded.post("/api/batch", json={"questions": ["武汉住院报销比例是多少"]}, headers=auth)
    assert batch.status_code == 200
    assert guarded.get("/api/feedback/export", headers=auth).status_code == 200


def test_students_endpoints_stay_open_with_a_token(guarded: TestClient) -> None:
    guarded.cookies.clear()
    assert guarded.post("/api/ask", json=ASK).status_code == 200
    assert guarded.post("/api/ask/stream", json=ASK).status_code == 200
    assert guarded.post("/v1/chat/completions", json=CHAT).status_code == 200
    assert guarded.post("/api/calc/benefit", json={"city": "wuhan", "care": "inpatient", "hospital_level": 3,
                                                   "cost": 1000}).status_code == 200
    assert guarded.get("/api/cities").status_code == 200
    assert guarded.get("/api/sources/wuhan_2025").status_code == 200
    assert guarded.post("/api/feedback", json={"rating": "up"}).status_code == 200
    assert guarded.get("/").status_code == 200


def test_without_a_token_everything_is_open_and_a_warning_is_logged(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="app.server.main")
    with bare(tmp_path, counselor_token="  ") as c:
        assert c.get("/counselor").status_code == 200
        assert c.get("/api/feedback/export").status_code == 200
        assert_error(c.post("/api/batch", json={"questions": ["住院报销"]}), 503)  # open (no index here)
    warnings = [r.getMessage() for r in caplog.records if "YIBAO_COUNSELOR_TOKEN" in r.getMessage()]
    assert len(warnings) == 1 and "/api/batch" in warnings[0]
    caplog.clear()
    with bare(tmp_path, counselor_token="t") as c:
        assert c.get("/counselor").status_code == 401
    assert not [r for r in caplog.records if "YIBAO_COUNSELOR_TOKEN" in r.getMessage()]


# ---- feedback export --------------------------------------------------------------------------------------
def test_feedback_export_is_masked_json_and_safe_csv(guarded: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    posted = guarded.post("/api/feedback", json={
        "session_id": "s-export", "question": f"我的身份证{ID_NUMBER}能参保吗", "answer": "可以。[1]",
        "rating": "down", "comment": f"=HYPERLINK(\"http://x\") 电话{PHONE}"}).json()
    data = guarded.get("/api/feedback/export", headers=auth)
    assert data.status_code == 200 and data.headers["content-type"].startswith("application/json")
    entry = next(e for e in data.json()["entries"] if e["id"] == posted["id"])
    assert entry["question"] == "我的身份证110***********4258能参保吗" and entry["rating"] == "down"
    assert entry["session_id"] == "s-export" and entry["created"]
    assert ID_NUMBER not in data.text and PHONE not in data.text
    ids = [e["id"] for e in data.json()["entries"]]
    assert ids == sorted(ids)
    res = guarded.get("/api/feedback/export", params={"format": "csv"}, headers=auth)
    assert res.status_code == 200 and res.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in res.headers["content-disposition"]
    assert res.content.startswith("\ufeff".encode())  # Excel reads UTF-8 Chinese with the BOM
    rows = list(csv.DictReader(io.StringIO(res.content.decode("utf-8-sig"))))
    row = next(r for r in rows if r["id"] == str(posted["id"]))
    assert row["comment"].startswith("'=HYPERLINK")  # stays text in a spreadsheet
    assert "138****5678" in row["comment"] and ID_NUMBER not in res.text
    assert_error(guarded.get("/api/feedback/export", params={"format": "xml"}, headers=auth), 422, "format")


# ---- the schema tells the truth about errors -------------------------------------------------------------
def test_openapi_documents_the_real_error_shape(client: TestClient, tmp_path: Path) -> None:
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(schema)
    assert schema["components"]["schemas"]["Error"]["properties"]["detail"]["type"] == "string"
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            for code, response in op["responses"].items():
                if code[0] in "45" and path != "/readyz":
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}, (path, method, code)
            if "requestBody" in op:
                assert "413" in op["responses"], (path, method)
            assert "429" not in op["responses"]  # rate limiting is off in this app
    assert schema["paths"]["/api/batch"]["post"]["security"] == [{"counselorToken": []}]
    assert "401" in schema["paths"]["/api/feedback/export"]["get"]["responses"]
    with bare(tmp_path, rate_limit_per_minute=10) as c:
        limited = c.get("/openapi.json").json()["paths"]
    assert "Retry-After" in limited["/api/ask"]["post"]["responses"]["429"]["headers"]
    assert "429" not in limited["/healthz"]["get"]["responses"]


def test_access_log_never_shows_the_counselor_token() -> None:
    """uvicorn's access-log record carries the path with its query string; `yibao serve` filters it."""
    import logging

    from app.server.main import RedactTokens

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/counselor?token=s3cret-Token&x=1", "1.1", 200), None)
    assert RedactTokens().filter(record)
    line = record.getMessage()
    assert "s3cret" not in line and "/counselor?token=***&x=1" in line
