"""👍/👎 feedback in SQLite, masked before it is written (no FastAPI here; Redis: app/server/stores.py)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.privacy import mask_pii

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    session_id TEXT,
    question TEXT,
    answer TEXT,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT
)
"""


def masked_entry(*, rating: str, session_id: str | None = None, question: str | None = None,
                 answer: str | None = None, comment: str | None = None) -> dict[str, str | None]:
    """One feedback entry as every store keeps it: a UTC time, personal data masked."""
    def masked(text: str | None) -> str | None:
        return mask_pii(text) if text else text

    return {"created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "session_id": masked(session_id), "question": masked(question), "answer": masked(answer),
            "rating": rating, "comment": masked(comment)}


class FeedbackStore:
    """A short-lived connection per call: safe from any thread, no lock needed (SQLite serialises writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commit on success, roll back on error
                yield db
        finally:
            db.close()

    def add(self, *, rating: str, session_id: str | None = None, question: str | None = None,
            answer: str | None = None, comment: str | None = None) -> int:
        row = masked_entry(rating=rating, session_id=session_id, question=question, answer=answer,
                           comment=comment)
        with self._connect() as db:
            cur = db.execute("INSERT INTO feedback (created, session_id, question, answer, rating, comment) "
                             "VALUES (:created, :session_id, :question, :answer, :rating, :comment)", row)
        return int(cur.lastrowid or 0)

    def entries(self) -> list[dict[str, object]]:
        """Every entry, oldest first (as RedisFeedbackStore.entries): for GET /api/feedback/export."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT id, created, session_id, question, answer, rating, comment "
                              "FROM feedback ORDER BY id").fetchall()
        return [dict(row) for row in rows]
