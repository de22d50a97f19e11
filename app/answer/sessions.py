"""Conversation state per ``session_id``: city, school, last intent and question.

Embedded (bounded, in memory, one process) or in Redis (shared by several app instances behind a load
balancer), chosen by ``settings.redis_url``. Either way a session is forgotten after
``settings.session_ttl_seconds``, holds no personal data, and losing it only costs the conversation's context:
a Redis that is down or slow never makes a question fail.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from typing import Protocol

import redis
from pydantic import BaseModel, ValidationError

from app.privacy import mask_pii
from app.redis_client import PREFIX, Outage, connect, reachable
from app.settings import Settings


class SessionState(BaseModel):
    city: str | None = None
    school: str | None = None
    intent: str | None = None
    last_question: str | None = None  # stored masked (no personal data)
    sections: list[tuple[str, str]] = []  # (doc_id, section) the last answer cited: what a follow-up is about
    updated: float = 0.0


class SessionStore(Protocol):
    def new_id(self) -> str: ...

    def get(self, session_id: str) -> SessionState | None: ...

    def put(self, session_id: str, state: SessionState) -> None: ...

    def status(self) -> str:
        """What /readyz shows: ``memory``, ``redis`` or ``redis (不可用)``."""
        ...


def new_session_id() -> str:
    return uuid.uuid4().hex


class MemorySessionStore:
    def __init__(self, *, max_sessions: int = 10000, ttl_seconds: float = 6 * 3600) -> None:
        self._data: OrderedDict[str, SessionState] = OrderedDict()
        self._lock = threading.Lock()
        self.max_sessions = max_sessions
        self.ttl = ttl_seconds

    new_id = staticmethod(new_session_id)

    def status(self) -> str:
        return "memory"

    def get(self, session_id: str) -> SessionState | None:
        with self._lock:
            state = self._data.get(session_id)
            if state is None or time.time() - state.updated > self.ttl:
                return None
            self._data.move_to_end(session_id)
            return state.model_copy()

    def put(self, session_id: str, state: SessionState) -> None:
        with self._lock:
            self._data[session_id] = state.model_copy(update={"updated": time.time()})
            self._data.move_to_end(session_id)
            while len(self._data) > self.max_sessions:
                self._data.popitem(last=False)


class RedisSessionStore:
    """One JSON value per session (SET … EX: Redis forgets it after the TTL). The key is a hash of the session
    id, so whatever a client sends as its id never reaches Redis. Redis down: ``get`` finds nothing, ``put``
    is skipped (a rate-limited warning is logged), and Redis is used again as soon as it answers."""

    def __init__(self, url: str, *, ttl_seconds: int = 6 * 3600) -> None:
        self._redis = connect(url)
        self._outage = Outage("会话暂不保存（回答不受影响，只是不记得上文）")
        self.ttl = ttl_seconds

    new_id = staticmethod(new_session_id)

    @staticmethod
    def key(session_id: str) -> str:
        return f"{PREFIX}session:{hashlib.sha256(session_id.encode()).hexdigest()[:32]}"

    def status(self) -> str:
        return "redis" if reachable(self._redis) else "redis (不可用)"

    def get(self, session_id: str) -> SessionState | None:
        if self._outage.skip():
            return None
        try:
            raw = self._redis.get(self.key(session_id))
        except redis.RedisError as exc:
            self._outage.failed(exc)
            return None
        self._outage.recovered()
        try:
            return SessionState.model_validate_json(raw) if raw else None
        except ValidationError:  # written by an incompatible version: start afresh
            return None

    def put(self, session_id: str, state: SessionState) -> None:
        if self._outage.skip():
            return
        question = mask_pii(state.last_question) if state.last_question else state.last_question  # again
        value = state.model_copy(update={"updated": time.time(), "last_question": question}).model_dump_json()
        try:
            self._redis.set(self.key(session_id), value, ex=self.ttl)
        except redis.RedisError as exc:
            self._outage.failed(exc)
            return
        self._outage.recovered()


def make_session_store(settings: Settings) -> SessionStore:
    if settings.redis_url:
        return RedisSessionStore(settings.redis_url, ttl_seconds=settings.session_ttl_seconds)
    return MemorySessionStore(ttl_seconds=settings.session_ttl_seconds)
