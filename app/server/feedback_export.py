"""Feedback entries for the counselor's export (no FastAPI here): masked again on the way out (entries written
before masking existed, or by hand, must not leak a number), and CSV that a spreadsheet opens safely."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from app.privacy import mask_pii

COLUMNS = ("id", "created", "session_id", "question", "answer", "rating", "comment")
TEXT_COLUMNS = ("session_id", "question", "answer", "comment")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def masked(entry: Mapping[str, Any]) -> dict[str, Any]:
    row = {k: entry.get(k) for k in COLUMNS}
    for k in TEXT_COLUMNS:
        if isinstance(row[k], str):
            row[k] = mask_pii(row[k])
    return row


def _cell(value: Any) -> str:
    """A student's comment like ``=HYPERLINK(…)`` must stay text in Excel/WPS: prefix an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(entries: Iterable[Mapping[str, Any]]) -> str:
    """UTF-8 CSV with a byte-order mark (Excel on Chinese Windows otherwise reads it as GBK)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow([_cell(entry.get(k)) for k in COLUMNS])
    return "\ufeff" + out.getvalue()
