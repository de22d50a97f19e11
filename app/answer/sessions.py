"""Conversation state per ``session_id``: city, school, last intent and question (bounded, in memory)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict

from pydantic import BaseModel


class SessionState(BaseModel):
    city: str | None = None
    school: str | None = None
    intent: str | None = None
    last_question: str | None = None  # stored masked (no personal data)
    updated: float = 0.0


class MemorySessionStore:
    def __init__(self, *, max_sessions: int = 10000, ttl_seconds: float = 6 * 3600) -> None:
        self._data: OrderedDict[str, SessionState] = OrderedDict()
        self._lock = threading.Lock()
        self.max_sessions = max_sessions
        self.ttl = ttl_seconds

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

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
