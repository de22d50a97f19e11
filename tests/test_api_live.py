"""The API on a real uvicorn server (127.0.0.1, free port) used by real clients: the official ``openai``
Python client against /v1/chat/completions (plain and streaming), httpx against /api/ask and its stream."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from app.answer.models import AskResponse


@pytest.fixture(scope="module")
def base_url(live_url: str) -> str:
    return live_url


@pytest.fixture
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=30)


def test_openai_client_chat(client: openai.OpenAI) -> None:
    res = client.chat.completions.create(
        model="yibao", messages=[{"role": "user", "content": "武汉住院报销比例是多少"}])
    content = res.choices[0].message.content or ""
    assert res.choices[0].finish_reason == "stop" and res.choices[0].message.role == "assistant"
    assert "60%" in content and "[1]" in content and "来源：" in content
    extra = res.model_extra or {}
    assert extra["citations"][0]["doc_id"] == "wuhan_2025"
    assert f"[{extra['citations'][0]['n']}]" in content


def test_openai_client_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="yibao", stream=True, extra_body={"city": "karamay"},
        messages=[{"role": "system", "content": "请用中文回答"},
                  {"role": "user", "content": "异地就医备案怎么办"}])
    pieces, last = [], None
    for chunk in stream:
        pieces.append(chunk.choices[0].delta.content or "")
        last = chunk
    assert last is not None and last.choices[0].finish_reason == "stop"
    text = "".join(pieces)
    assert len([p for p in pieces if p]) > 1  # streamed in pieces
    assert text.startswith("【克拉玛依】") and "[1]" in text
    citations = (last.model_extra or {})["citations"]
    assert citations and all(c["city"] in ("karamay", "national") for c in citations)


def test_openai_client_sees_the_chinese_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as err:
        client.chat.completions.create(model="yibao", messages=[{"role": "user", "content": "住院报销"}],
                                       extra_body={"city": "atlantis"})
    assert "未知城市" in str(err.value) and "wuhan" in str(err.value)


def test_httpx_ask_and_stream(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        assert http.get("/readyz").json()["ready"] is True
        res = http.post("/api/ask", json={"question": "我是复旦的，医保怎么交费", "id": "live-1"})
        assert res.status_code == 200
        body = AskResponse.model_validate(res.json())
        assert body.id == "live-1" and body.city == "shanghai" and body.citations
        events: list[tuple[str, str]] = []
        with http.stream("POST", "/api/ask/stream", json={"question": "重庆医科大学怎么报销"}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, line[6:]))
        assert events[-1][0] == "final" and all(n == "delta" for n, _ in events[:-1])
        final = AskResponse.model_validate_json(events[-1][1])
        assert final.city == "chongqing"
        assert "".join(json.loads(d)["text"] for _, d in events[:-1]) == final.answer
        bad = http.post("/api/ask", json={"question": ""})
        assert bad.status_code == 422 and "问题" in bad.json()["detail"]


def test_a_client_leaving_mid_stream_does_not_hurt_the_server(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(3):
            body = {"question": "武汉住院报销比例是多少"}
            with http.stream("POST", "/api/ask/stream", json=body) as stream:
                assert next(stream.iter_lines()).startswith("event: delta")  # then hang up
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.post("/api/ask", json={"question": "上海门诊怎么报销"}).json()["city"] == "shanghai"
