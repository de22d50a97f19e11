"""👍/👎 feedback in SQLite, masked before it is written (no FastAPI here)."""

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
        def masked(text: str | None) -> str | None:
            return mask_pii(text) if text else text

        row = (dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), masked(session_id), masked(question),
               masked(answer), rating, masked(comment))
        with self._connect() as db:
            cur = db.execute("INSERT INTO feedback (created, session_id, question, answer, rating, comment) "
                             "VALUES (?, ?, ?, ?, ?, ?)", row)
        return int(cur.lastrowid or 0)
