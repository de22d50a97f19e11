"""Where the server keeps feedback: SQLite (embedded, one instance) or Redis (``settings.redis_url``: shared
by every instance behind a load balancer). Sessions are chosen the same way in app/answer/sessions.py."""

from __future__ import annotations

import json
from typing import Any

from app.redis_client import PREFIX, connect
from app.server.feedback_store import FeedbackStore, masked_entry
from app.settings import Settings


class RedisFeedbackStore:
    """Ids from INCR; each entry, masked, as JSON in one hash (id → entry). No TTL: feedback is kept (give
    Redis persistence, e.g. ``--appendonly yes``). Redis down → ``add`` raises and the route answers 503."""

    KEY = PREFIX + "feedback"
    NEXT_ID = PREFIX + "feedback:next_id"

    def __init__(self, url: str) -> None:
        self._redis = connect(url)

    def add(self, *, rating: str, session_id: str | None = None, question: str | None = None,
            answer: str | None = None, comment: str | None = None) -> int:
        entry = masked_entry(rating=rating, session_id=session_id, question=question, answer=answer,
                             comment=comment)
        row_id = int(self._redis.incr(self.NEXT_ID))
        self._redis.hset(self.KEY, str(row_id), json.dumps({"id": row_id, **entry}, ensure_ascii=False))
        return row_id

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first."""
        stored = self._redis.hgetall(self.KEY)
        return [json.loads(stored[k]) for k in sorted(stored, key=int)]


FeedbackBackend = FeedbackStore | RedisFeedbackStore


def make_feedback_store(settings: Settings) -> FeedbackBackend:
    if settings.redis_url:
        return RedisFeedbackStore(settings.redis_url)
    return FeedbackStore(settings.feedback_db)
