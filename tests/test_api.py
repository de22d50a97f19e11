"""The HTTP API (issue 6) through its real interface (Starlette TestClient over the ASGI app): every endpoint,
its errors (Chinese, 422 naming the field, never a 500 or a traceback), SSE, batch masking, stored feedback,
and an app whose index is missing (it still starts and says why)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import KNOWLEDGE, city_names
from fastapi.testclient import TestClient

from app.answer.models import AskResponse
from app.answer.service import AnswerService, StreamEvent
from app.calculator.service import run_benefit
from app.retrieval.index import VectorStoreUnavailable
from app.server.main import create_app
from app.settings import Settings

ID_NUMBER = "110101199003074258"  # a valid checksum: masked as 110***********4258
PHONE = "13812345678"
COVERED = sorted(c for c in city_names() if c != "national")


@pytest.fixture(scope="module", params=["embedded", "scale-out"])
def settings(request: pytest.FixtureRequest, full_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The whole suite runs twice: embedded (memory sessions, SQLite feedback, on-disk Chroma) and scale-out
    (sessions and feedback in a real redis-server, vectors on a real Chroma server)."""
    base = Settings(knowledge_dir=KNOWLEDGE, index_dir=full_index, rate_limit_per_minute=0,  # "testclient"
                    feedback_db=tmp_path_factory.mktemp("feedback") / "feedback.sqlite")
    if request.param == "embedded":
        return base
    redis, chroma = request.getfixturevalue("redis_server"), request.getfixturevalue("chroma_server")
    return base.model_copy(update={"redis_url": redis.url, "chroma_url": chroma.url})


@pytest.fixture(scope="module")
def loaded(settings: Settings, full_loaded, embedder):  # noqa: ANN001, ANN201 - LoadedIndex
    """The full index; in scale-out its vectors are searched on the Chroma server (filled from the build)."""
    if not settings.chroma_url:
        return full_loaded
    from app.retrieval.index import load_index

    return load_index(settings.index_dir, embeddings=embedder, chroma_url=settings.chroma_url)


@pytest.fixture(scope="module")
def client(settings: Settings, loaded) -> Any:  # noqa: ANN001
    service = AnswerService(settings, index=loaded)
    with TestClient(create_app(settings, service=service)) as c:
        yield c


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """(event, data) per Server-Sent Event block."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        events.append((name, "\n".join(data)))
    return events


def assert_error(res: Any, status: int, *words: str) -> str:
    assert res.status_code == status, res.text
    body = res.json()
    assert isinstance(body["detail"], str) and "Traceback" not in res.text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body  # a Chinese message
    for word in words:
        assert word in body["detail"], body
    return body["detail"]


# ---- health ---------------------------------------------------------------------------------------------
def test_health_and_ready(client: TestClient, full_loaded) -> None:  # noqa: ANN001
    assert client.get("/healthz").json() == {"status": "ok"}
    res = client.get("/readyz")
    assert res.status_code == 200
    assert res.json() == {"ready": True, "reason": None, "build_id": full_loaded.build_id,
                          "sessions": "redis" if client.app.state.runtime.settings.redis_url else "memory"}


def test_openapi_docs_list_every_endpoint(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "http" not in docs.text.replace("http-equiv", "")  # no CDN: /docs works offline
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', docs.text):
        assert client.get(asset).status_code == 200, asset
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/ask", "/api/ask/stream", "/api/batch", "/api/calc/benefit", "/api/calc/eligibility",
                 "/api/cities", "/api/sources/{doc_id}", "/api/feedback", "/v1/chat/completions",
                 "/healthz", "/readyz"):
        assert path in paths, path
    assert "cost" in json.dumps(paths["/api/calc/benefit"])  # the calculator's input is documented


# ---- ask ------------------------------------------------------------------------------------------------
def test_ask_returns_the_cli_contract(client: TestClient) -> None:
    res = client.post("/api/ask", json={"question": "武汉住院报销比例是多少", "id": "q-1"})
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/json")
    body = res.json()
    assert set(body) == set(AskResponse.model_fields)
    assert body["id"] == "q-1" and body["city"] == "wuhan" and body["intent"] == "benefit"
    assert "60%" in body["answer"] and "[1]" in body["answer"]
    cite = body["citations"][0]
    assert set(cite) == {"n", "doc_id", "city", "title", "section", "quote", "chunk_id"}
    assert cite["doc_id"] == "wuhan_2025" and cite["quote"]
    assert body["session_id"]


def test_ask_session_keeps_the_city(client: TestClient) -> None:
    first = client.post("/api/ask", json={"question": "我是华科的，老家的医保咋停"}).json()
    assert first["city"] == "wuhan"
    follow_up = {"question": "那住院能报多少", "session_id": first["session_id"]}
    again = client.post("/api/ask", json=follow_up).json()
    assert again["city"] == "wuhan" and again["session_id"] == first["session_id"]


def test_ask_calculation_and_clarification(client: TestClient) -> None:
    calc = client.post("/api/ask", json={"question": "武汉三级医院住院花了20000能报多少"}).json()
    assert calc["calculation"]["input"]["cost"] and calc["calculation"]["fund_pays"] > 0
    unclear = client.post("/api/ask", json={"question": "住院报销比例是多少"}).json()
    assert unclear["clarification"] and set(unclear["clarification"]["options"]) == set(COVERED)


@pytest.mark.parametrize(("body", "words"), [
    ({"question": ""}, ["question", "问题", "不能为空"]),
    ({"question": "   "}, ["问题不能为空"]),
    ({}, ["question", "缺少必填字段"]),
    ({"question": 12}, ["question", "应为字符串"]),
    ({"question": "住院"* 1001}, ["question", "2000"]),
    ({"question": "住院报销", "city": "beijing"}, ["beijing", *COVERED]),
    ({"question": "住院报销", "city": 3}, ["city", "城市"]),
    ([1, 2], ["请求体", "JSON 对象"]),
])
def test_ask_bad_input_is_422_in_chinese(client: TestClient, body: Any, words: list[str]) -> None:
    assert_error(client.post("/api/ask", json=body), 422, *words)


def test_ask_malformed_json(client: TestClient) -> None:
    res = client.post("/api/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert_error(res, 422, "JSON")


# ---- stream ---------------------------------------------------------------------------------------------
def test_ask_stream_sends_deltas_then_the_final_json(client: TestClient) -> None:
    with client.stream("POST", "/api/ask/stream", json={"question": "上海门诊怎么报销"}) as res:
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/event-stream")
        text = "".join(res.iter_text())
    events = sse_events(text)
    kinds = [e for e, _ in events]
    assert kinds[-1] == "final" and kinds.count("final") == 1 and set(kinds[:-1]) == {"delta"}
    assert len(kinds) > 2  # really in pieces
    streamed = "".join(json.loads(d)["text"] for e, d in events if e == "delta")
    final = AskResponse.model_validate_json(events[-1][1])
    assert final.city == "shanghai" and final.citations
    assert streamed == final.answer


def test_ask_stream_several_questions(client: TestClient) -> None:
    res = client.post("/api/ask/stream", json={"question": "武汉住院报销比例是多少？上海怎么缴费？"})
    events = sse_events(res.text)
    final = json.loads(events[-1][1])
    assert events[-1][0] == "final" and len(final["parts"]) == 2
    assert "【问题1】" in json.loads(events[0][1])["text"]


def test_ask_stream_bad_input_is_a_json_422(client: TestClient) -> None:
    res = client.post("/api/ask/stream", json={"question": "住院报销", "city": "atlantis"})
    assert res.headers["content-type"].startswith("application/json")
    assert_error(res, 422, "atlantis", "wuhan")
    assert_error(client.post("/api/ask/stream", json={"question": ""}), 422, "question")


# ---- batch ----------------------------------------------------------------------------------------------
def test_batch_answers_in_order_and_masks_personal_data(client: TestClient) -> None:
    paste = (f"张同学：老师好，我身份证{ID_NUMBER}，武汉住院能报多少？\n"
             f"李同学：上海怎么交医保？我电话{PHONE}\n"
             "王同学：克拉玛依异地就医备案怎么办？")
    res = client.post("/api/batch", json={"text": paste})
    assert res.status_code == 200, res.text
    items = res.json()["items"]
    assert [i["response"]["city"] for i in items] == ["wuhan", "shanghai", "karamay"]
    assert "110***********4258" in items[0]["question"]
    assert ID_NUMBER not in res.text and PHONE not in res.text
    for item in items:
        AskResponse.model_validate(item["response"])
        assert item["response"]["answer"]


def test_batch_question_list_and_city(client: TestClient) -> None:
    questions = ["住院报销比例是多少", " ", "怎么缴费"]
    res = client.post("/api/batch", json={"questions": questions, "city": "wuhan"})
    items = res.json()["items"]
    assert [i["question"] for i in items] == ["住院报销比例是多少", "怎么缴费"]
    assert all(i["response"]["city"] == "wuhan" for i in items)
    # separate students: no shared session
    assert items[0]["response"]["session_id"] != items[1]["response"]["session_id"]


@pytest.mark.parametrize(("body", "words"), [
    ({}, ["text", "questions"]),
    ({"text": "  \n "}, ["text"]),
    ({"questions": []}, ["questions"]),
    ({"questions": "住院报销"}, ["questions", "应为列表"]),
    ({"questions": ["住院报销"], "city": "beijing"}, ["beijing", "wuhan"]),
    ({"questions": ["住院报销"] * 201}, ["questions", "200"]),
])
def test_batch_bad_input(client: TestClient, body: dict[str, Any], words: list[str]) -> None:
    assert_error(client.post("/api/batch", json=body), 422, *words)


# ---- calculator -----------------------------------------------------------------------------------------
def test_calc_benefit_is_the_calculator_json(client: TestClient) -> None:
    raw = {"city": "wuhan", "care": "inpatient", "hospital_level": 3, "cost": 10000}
    res = client.post("/api/calc/benefit", json=raw)
    assert res.status_code == 200
    assert res.json() == run_benefit(raw, knowledge_dir=KNOWLEDGE).model_dump(mode="json")
    assert res.json()["computable"] is True and res.json()["steps"]


def test_calc_eligibility(client: TestClient) -> None:
    res = client.post("/api/calc/eligibility",
                      json={"city": "shanghai", "level": "undergraduate", "date": "2025-09-10"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["city"] == "shanghai" and body["enrol_where"] in ("school", "home") and body["steps"]


@pytest.mark.parametrize(("path", "body", "words"), [
    ("benefit", {"city": "wuhan", "care": "inpatient", "hospital_level": 5, "cost": 100},
     ["hospital_level", "3"]),
    ("benefit", {"city": "wuhan", "care": "inpatient", "hospital_level": 3}, ["cost", "缺少必填字段"]),
    ("benefit", {"city": "paris", "care": "inpatient", "hospital_level": 3, "cost": 1}, ["city", "wuhan"]),
    ("benefit", {"city": "wuhan", "care": "inpatient", "hospital_level": 3, "cost": -1}, ["cost"]),
    ("benefit", [1], ["JSON 对象"]),
    ("eligibility", {"city": "wuhan", "level": "phd"}, ["level"]),
    ("eligibility", {"city": "wuhan", "level": "graduate", "date": "2025-13-40"}, ["date"]),
])
def test_calc_bad_input(client: TestClient, path: str, body: Any, words: list[str]) -> None:
    assert_error(client.post(f"/api/calc/{path}", json=body), 422, *words)


# ---- cities and sources ---------------------------------------------------------------------------------
def test_cities(client: TestClient) -> None:
    cities = {c["id"]: c for c in client.get("/api/cities").json()["cities"]}
    assert sorted(cities) == COVERED  # covered cities only, no "national"
    wuhan = cities["wuhan"]
    assert wuhan["name"] == "武汉" and "华中科技大学" in wuhan["schools"]
    doc = wuhan["docs"][0]
    assert set(doc) == {"doc_id", "title", "policy_year", "valid_note"}
    assert doc["doc_id"] == "wuhan_2025" and doc["policy_year"] == 2025 and doc["title"] and doc["valid_note"]
    for city in cities.values():
        assert city["docs"] and city["schools"]
        for contact in city["contacts"]:
            assert contact["name"] and ("phone" in contact or "address" in contact)
    assert any(c["contacts"] for c in cities.values())


def test_source_markdown_holds_the_cited_section(client: TestClient) -> None:
    answer = client.post("/api/ask", json={"question": "武汉住院报销比例是多少"}).json()
    cite = answer["citations"][0]
    res = client.get(f"/api/sources/{cite['doc_id']}")
    assert res.status_code == 200
    body = res.json()
    assert set(body) == {"doc_id", "title", "city", "policy_year", "valid_note", "markdown"}
    assert body["city"] == "wuhan" and body["title"] == cite["title"]
    assert cite["section"].split(" > ")[-1] in body["markdown"]
    assert not body["markdown"].startswith("---")  # the body, not the front-matter
    assert client.get("/api/sources/national_ybf_2020_33").json()["city"] == "national"


def test_unknown_source_and_route_are_404_in_chinese(client: TestClient) -> None:
    assert_error(client.get("/api/sources/nope"), 404, "nope", "wuhan_2025")
    assert_error(client.get("/api/nothing-here"), 404)
    assert_error(client.get("/api/ask"), 405)


# ---- feedback -------------------------------------------------------------------------------------------
def test_feedback_is_stored_masked(client: TestClient, settings: Settings) -> None:
    res = client.post("/api/feedback", json={
        "session_id": "s1", "question": f"我的身份证{ID_NUMBER}能参保吗", "answer": "可以。[1]",
        "rating": "down", "comment": f"请打我电话{PHONE}",
    })
    assert res.status_code == 200
    body = res.json()
    assert body["ok"] is True and isinstance(body["id"], int)
    stored = next(e for e in client.app.state.runtime.feedback.entries() if e["id"] == body["id"])  # SQLite or Redis
    row = tuple(stored[k] for k in ("session_id", "question", "answer", "rating", "comment"))
    assert row == ("s1", "我的身份证110***********4258能参保吗", "可以。[1]", "down", "请打我电话138****5678")
    second = client.post("/api/feedback", json={"rating": "up"}).json()
    assert second["id"] > body["id"]


@pytest.mark.parametrize(("body", "words"), [
    ({"rating": "meh"}, ["rating", "评价", "up", "down"]),
    ({}, ["rating", "缺少必填字段"]),
    ({"rating": "up", "comment": "长" * 2001}, ["comment", "2000"]),
])
def test_feedback_bad_input(client: TestClient, body: dict[str, Any], words: list[str]) -> None:
    assert_error(client.post("/api/feedback", json=body), 422, *words)


# ---- OpenAI-compatible ---------------------------------------------------------------------------------
def test_chat_completions(client: TestClient) -> None:
    res = client.post("/v1/chat/completions", json={
        "model": "anything", "temperature": 0.2,
        "messages": [{"role": "system", "content": "你是助手"}, {"role": "user", "content": "上海怎么缴费"},
                     {"role": "assistant", "content": "…"},
                     {"role": "user", "content": [{"type": "text", "text": "武汉住院报销比例是多少"}]}],
    })
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["object"] == "chat.completion" and body["model"] == "anything"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant" and body["choices"][0]["finish_reason"] == "stop"
    assert "[1]" in message["content"] and "来源：" in message["content"]  # the last user message was asked
    assert body["citations"][0]["doc_id"] == "wuhan_2025"
    assert body["yibao"]["city"] == "wuhan"


def test_chat_completions_stream(client: TestClient) -> None:
    res = client.post("/v1/chat/completions", json={
        "messages": [{"role": "user", "content": "住院报销比例是多少"}], "stream": True, "city": "shanghai"})
    assert res.headers["content-type"].startswith("text/event-stream")
    events = sse_events(res.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(d) for _, d in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop" and last["citations"]
    assert last["yibao"]["city"] == "shanghai" and text.startswith("【上海】") and "[1]" in text


@pytest.mark.parametrize(("body", "words"), [
    ({"messages": []}, ["messages"]),
    ({"messages": [{"role": "system", "content": "hi"}]}, ["messages", "用户消息"]),
    ({"messages": [{"content": "hi"}]}, ["role", "缺少必填字段"]),
    ({"messages": [{"role": "user", "content": "住院"}], "city": "mars"}, ["mars", "wuhan"]),
])
def test_chat_completions_bad_input(client: TestClient, body: dict[str, Any], words: list[str]) -> None:
    res = client.post("/v1/chat/completions", json=body)
    detail = assert_error(res, 422, *words)
    assert res.json()["error"]["message"] == detail  # what an OpenAI client shows


# ---- robustness -----------------------------------------------------------------------------------------
JUNK = [None, 0, "x", [], {"question": None}, {"text": {"a": 1}}, {"questions": [None]}, {"messages": "hi"},
        {"rating": ["up"]}, {"city": "wuhan", "cost": "很多"}, {"question": "\x00\x01"},
        {"question": "？" * 5}]


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream", "/api/batch", "/api/calc/benefit",
                                  "/api/calc/eligibility", "/api/feedback", "/v1/chat/completions"])
def test_junk_never_causes_a_500(client: TestClient, path: str) -> None:
    for body in JUNK:
        res = client.post(path, json=body)
        assert res.status_code in (200, 422), (path, body, res.text)
        if res.status_code == 422:
            assert_error(res, 422)


@pytest.mark.parametrize(("error", "says"), [
    (RuntimeError("secret internal detail"), "出错"),  # nothing of the error itself reaches the client
    (VectorStoreUnavailable("http://127.0.0.1:1"), "向量库暂时不可用"),  # the Chroma server went away mid-answer
])
def test_a_failure_mid_stream_is_an_error_event(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                error: Exception, says: str) -> None:
    service = client.app.state.runtime.service  # type: ignore[attr-defined]

    def broken(req: Any) -> Iterator[StreamEvent]:
        yield StreamEvent("delta", "【武汉】")
        raise error

    monkeypatch.setattr(service, "ask_stream", broken)
    events = sse_events(client.post("/api/ask/stream", json={"question": "住院报销"}).text)
    assert events[0] == ("delta", json.dumps({"text": "【武汉】"}, ensure_ascii=False))
    assert events[-1][0] == "error" and says in json.loads(events[-1][1])["detail"]
    chat = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "住院报销"}],
                                                     "stream": True}).text
    assert "secret" not in chat and "Traceback" not in chat
    tail = sse_events(chat)
    assert tail[-1] == (None, "[DONE]") and says in json.loads(tail[-2][1])["error"]["message"]


def test_an_unexpected_error_is_a_chinese_500_without_traceback(settings: Settings, full_loaded,  # noqa: ANN001
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    service = AnswerService(settings, index=full_loaded)

    def boom(req: Any) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "ask", boom)
    with TestClient(create_app(settings, service=service), raise_server_exceptions=False) as c:
        res = c.post("/api/ask", json={"question": "住院报销"})
        assert_error(res, 500, "服务内部错误")
        assert "secret" not in res.text
        res = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "住院报销"}]})
        assert res.status_code == 500 and res.json()["error"]["message"] == res.json()["detail"]


def test_only_input_errors_are_422(settings: Settings, full_loaded,  # noqa: ANN001
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A pydantic ValidationError raised by our own code, or a ValueError that is not an input error (here
    from the calculator), is a bug: a 500, never a 422 that blames the client."""
    service = AnswerService(settings, index=full_loaded)

    def invalid(req: Any) -> Iterator[StreamEvent]:
        AskResponse.model_validate({"answer": 1})
        yield StreamEvent("delta", "")

    def broken(raw: Any, **kwargs: Any) -> None:
        raise ValueError("secret internal detail")

    monkeypatch.setattr(service, "ask_stream", invalid)  # service.ask runs ask_stream too
    monkeypatch.setattr("app.server.routes.calc.run_benefit", broken)
    ask, chat = {"question": "住院报销"}, {"messages": [{"role": "user", "content": "住院报销"}]}
    with TestClient(create_app(settings, service=service), raise_server_exceptions=False) as c:
        for path, body in [("/api/ask", ask), ("/api/ask/stream", ask), ("/v1/chat/completions", chat),
                           ("/v1/chat/completions", {**chat, "stream": True}),
                           ("/api/calc/benefit", {"city": "wuhan", "care": "inpatient", "cost": 100})]:
            res = c.post(path, json=body)
            assert_error(res, 500, "服务内部错误")
            assert "secret" not in res.text and "validation" not in res.text.lower()


# ---- no index -------------------------------------------------------------------------------------------
def test_without_an_index_the_app_starts_and_says_why(tmp_path: Path, full_index: Path) -> None:
    index_dir = tmp_path / "index"
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=index_dir)
    with TestClient(create_app(settings)) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["ready"] is False and ready.json()["build_id"] is None
        assert "yibao ingest" in ready.json()["reason"]
        assert c.get("/healthz").json() == {"status": "ok"}
        for path, body in (("/api/ask", {"question": "住院报销"}),
                           ("/api/ask/stream", {"question": "住院报销"}),
                           ("/api/batch", {"text": "住院报销"}),
                           ("/v1/chat/completions", {"messages": [{"role": "user", "content": "住院报销"}]})):
            assert_error(c.post(path, json=body), 503, "索引", "yibao ingest")
        # what needs no index still works
        calc = c.post("/api/calc/benefit", json={"city": "wuhan", "care": "inpatient", "hospital_level": 3,
                                                 "cost": 10000})
        assert calc.status_code == 200
        assert sorted(x["id"] for x in c.get("/api/cities").json()["cities"]) == COVERED
        assert c.get("/api/sources/wuhan_2025").status_code == 200
        assert c.post("/api/feedback", json={"rating": "up"}).status_code == 200
        # once the index exists (e.g. `yibao ingest` ran meanwhile) the service picks it up, in the background
        index_dir.symlink_to(full_index, target_is_directory=True)
        deadline = time.monotonic() + 120
        while not c.get("/readyz").json()["ready"]:
            assert time.monotonic() < deadline, "the index was not picked up"
            time.sleep(0.1)
        assert c.post("/api/ask", json={"question": "武汉住院报销比例"}).status_code == 200


def test_a_broken_index_is_reported(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    (index_dir / "builds" / "b1").mkdir(parents=True)
    (index_dir / "current").symlink_to("builds/b1")
    with TestClient(create_app(Settings(knowledge_dir=KNOWLEDGE, index_dir=index_dir))) as c:
        ready = c.get("/readyz").json()
        assert ready["ready"] is False and ready["reason"]
        assert_error(c.post("/api/ask", json={"question": "住院报销"}), 503)
