"""POST /api/feedback: 👍/👎 with an optional comment, stored in SQLite with personal data masked."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from app.server.deps import FeedbackDep

router = APIRouter(prefix="/api", tags=["反馈"])


class FeedbackRequest(BaseModel):
    session_id: str | None = Field(default=None, max_length=100)
    question: str | None = Field(default=None, max_length=5000)
    answer: str | None = Field(default=None, max_length=50_000)
    rating: Literal["up", "down"] = Field(description="up 👍 / down 👎")
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackResponse(BaseModel):
    ok: bool = True
    id: int


@router.post("/feedback", response_model=FeedbackResponse, summary="对回答点赞或点踩（可附意见）")
def feedback(req: FeedbackRequest, store: FeedbackDep) -> FeedbackResponse:
    try:
        row = store.add(**req.model_dump())
    except Exception as exc:  # sqlite3 errors: disk full, locked too long …
        raise HTTPException(503, "反馈暂时无法保存，请稍后再试") from exc
    return FeedbackResponse(id=row)
