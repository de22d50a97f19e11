"""Sessions and feedback in Redis (issue 7, scale-out), against a real ``redis-server`` and the real HTTP
API: two app instances share one conversation, nothing personal reaches Redis, and a Redis that dies
mid-conversation costs the context, never an answer (feedback then says 503 in Chinese); once Redis is back it
is used again."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from conftest import KNOWLEDGE, free_port
from fastapi.testclient import TestClient

from app.answer.service import AnswerService
from app.answer.sessions import MemorySessionStore, RedisSessionStore, SessionState, make_session_store
from app.privacy import id_checksum_ok
from app.server.main import create_app
from app.server.stores import RedisFeedbackStore
from app.settings import Settings
from eval.redis_process import RedisProcess

TTL = 600


def valid_id(prefix17: str = "11010119900307777") -> str:
    number = next(prefix17 + c for c in "0123456789X" if id_checksum_ok(prefix17 + c))
    assert id_checksum_ok(number)
    return number


ID_NUMBER = valid_id()
ID_MASKED = ID_NUMBER[:3] + "*" * 11 + ID_NUMBER[-4:]
PHONE = "13912345678"


@pytest.fixture
def db(redis_server: RedisProcess) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def settings(full_index: Path, redis_server: RedisProcess,
             tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(knowledge_dir=KNOWLEDGE, index_dir=full_index,
                    redis_url=redis_server.url, session_ttl_seconds=TTL, rate_limit_per_minute=0,
                    feedback_db=tmp_path_factory.mktemp("fb") / "feedback.sqlite")


def instance(settings: Settings, loaded: Any) -> TestClient:
    """One app instance (its own AnswerService, session and feedback stores), as behind a load balancer."""
    return TestClient(create_app(settings, service=AnswerService(settings, index=loaded)))


@pytest.fixture(scope="module")
def two(settings: Settings, full_loaded: Any) -> Iterator[tuple[TestClient, TestClient]]:
    with instance(settings, full_loaded) as a, instance(settings, full_loaded) as b:
        yield a, b


def ask(client: TestClient, question: str, session_id: str | None = None) -> dict[str, Any]:
    res = client.post("/api/ask", json={"question": question, "session_id": session_id})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["answer"]
    return body


def everything_in(db: redis.Redis) -> str:
    """Every key and value in Redis, as one text."""
    parts = []
    for key in db.scan_iter(count=1000):
        kind = db.type(key)
        value: Any = db.get(key) if kind == "string" else db.hgetall(key) if kind == "hash" else kind
        parts.append(f"{key} {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(parts)


# ---- the factory ----------------------------------------------------------------------------------------
def test_settings_choose_the_store(settings: Settings) -> None:
    assert isinstance(make_session_store(settings.model_copy(update={"redis_url": None})), MemorySessionStore)
    store = make_session_store(settings)
    assert isinstance(store, RedisSessionStore) and store.ttl == TTL


# ---- through the HTTP API -------------------------------------------------------------------------------
def test_a_conversation_moves_between_instances(two: tuple[TestClient, TestClient]) -> None:
    a, b = two
    assert a.get("/readyz").json()["sessions"] == "redis"
    first = ask(a, "武汉门诊怎么报销？")
    assert first["city"] == "wuhan"
    follow = ask(b, "那住院呢？", first["session_id"])  # another instance: only Redis knows the city
    assert follow["city"] == "wuhan" and follow["clarification"] is None, follow
    assert "60%" in follow["answer"]
    stranger = ask(b, "那住院呢？")  # no session: which city?
    assert stranger["city"] is None and stranger["clarification"]


def test_sessions_expire(two: tuple[TestClient, TestClient], db: redis.Redis) -> None:
    a, _ = two
    session_id = ask(a, "武汉住院起付线多少")["session_id"]
    key = RedisSessionStore.key(session_id)
    assert TTL - 60 < db.ttl(key) <= TTL
    assert json.loads(db.get(key))["city"] == "wuhan"


def test_no_personal_data_reaches_redis(two: tuple[TestClient, TestClient], db: redis.Redis) -> None:
    a, b = two
    # pasted into the question, and even used as the session id
    first = ask(a, f"我叫张三丰，身份证{ID_NUMBER}，电话{PHONE}，在武汉上学，住院怎么报销", session_id=ID_NUMBER)
    assert first["city"] == "wuhan"
    assert ask(b, "那门诊呢？", session_id=ID_NUMBER)["city"] == "wuhan"
    res = b.post("/api/feedback", json={"session_id": ID_NUMBER, "question": f"身份证{ID_NUMBER}",
                                        "rating": "down", "comment": f"我叫张三丰，电话{PHONE}"})
    assert res.status_code == 200
    stored = everything_in(db)
    for secret in (ID_NUMBER, PHONE, "张三丰"):
        assert secret not in stored
    assert ID_MASKED in stored and "张**" in stored  # masked, not dropped


def test_feedback_is_stored_in_redis_masked(two: tuple[TestClient, TestClient], db: redis.Redis,
                                           settings: Settings) -> None:
    a, b = two
    one = a.post("/api/feedback", json={"session_id": "s1", "question": f"我的身份证{ID_NUMBER}能参保吗",
                                        "answer": "可以。[1]", "rating": "down", "comment": f"请打我电话{PHONE}"})
    assert one.status_code == 200, one.text
    two_ = b.post("/api/feedback", json={"rating": "up"}).json()  # the other instance: ids stay unique
    assert two_["id"] > one.json()["id"]
    entry = json.loads(db.hget(RedisFeedbackStore.KEY, str(one.json()["id"])))
    assert {k: entry[k] for k in ("session_id", "question", "answer", "rating", "comment")} == {
        "session_id": "s1", "question": f"我的身份证{ID_MASKED}能参保吗", "answer": "可以。[1]",
        "rating": "down", "comment": "请打我电话139****5678"}
    assert entry["created"]
    ids = [e["id"] for e in RedisFeedbackStore(settings.redis_url or "").entries()]  # what the export reads
    assert ids == sorted(ids) and {one.json()["id"], two_["id"]} <= set(ids)


def test_redis_dying_costs_the_context_never_the_answer(two: tuple[TestClient, TestClient],
                                                        redis_server: RedisProcess) -> None:
    a, b = two
    first = ask(a, "武汉门诊怎么报销？")
    redis_server.stop()
    try:
        started = time.perf_counter()
        follow = ask(b, "那住院呢？", first["session_id"])  # 200 with an answer; the city is forgotten
        assert follow["clarification"] and follow["city"] is None
        assert ask(a, "武汉住院报销比例是多少")["city"] == "wuhan"
        assert time.perf_counter() - started < 10
        ready = a.get("/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True  # degraded is still ready
        assert ready.json()["sessions"] == "redis (不可用)"
        res = a.post("/api/feedback", json={"rating": "up"})
        assert res.status_code == 503 and res.json()["detail"] == "反馈暂时无法保存，请稍后再试"
    finally:
        redis_server.start()
    deadline = time.monotonic() + 10  # redis-py reconnects; a store skips Redis for a second after a failure
    while True:
        again = ask(a, "武汉门诊怎么报销？")
        if ask(b, "那住院呢？", again["session_id"])["city"] == "wuhan":
            break
        assert time.monotonic() < deadline, "sessions did not come back after Redis restarted"
        time.sleep(0.2)
    assert a.get("/readyz").json()["sessions"] == "redis"
    assert a.post("/api/feedback", json={"rating": "up"}).status_code == 200


# ---- the store alone --------------------------------------------------------------------------------------
def test_an_unreachable_redis_is_quick_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisSessionStore(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    caplog.set_level(logging.WARNING, logger="app.redis_client")
    started = time.perf_counter()
    for _ in range(50):
        store.put("s", SessionState(city="wuhan"))
        assert store.get("s") is None
    assert time.perf_counter() - started < 2
    assert len([r for r in caplog.records if "Redis 不可用" in r.getMessage()]) == 1
    assert store.status() == "redis (不可用)"


def test_masks_again_before_writing(redis_server: RedisProcess, db: redis.Redis) -> None:
    store = RedisSessionStore(redis_server.url, ttl_seconds=TTL)
    store.put("t1", SessionState(city="wuhan", last_question=f"身份证{ID_NUMBER}"))  # a caller forgot to mask
    state = store.get("t1")
    assert state is not None and state.city == "wuhan" and state.last_question == f"身份证{ID_MASKED}"
    assert ID_NUMBER not in everything_in(db)


def test_unused_sqlite_is_not_created(settings: Settings, two: tuple[TestClient, TestClient]) -> None:
    assert not Path(settings.feedback_db).exists()
