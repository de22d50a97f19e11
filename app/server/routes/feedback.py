"""POST /api/feedback: 👍/👎 with an optional comment, stored with personal data masked.
GET /api/feedback/export: every entry as JSON or CSV, for counselors (the counselor token, if configured)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.server.auth import CounselorOnly
from app.server.deps import FeedbackDep
from app.server.feedback_export import masked, to_csv

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


Format = Annotated[Literal["json", "csv"], Query(alias="format", description="json 或 csv")]


class FeedbackEntry(BaseModel):
    id: int
    created: str = Field(description="UTC 时间（ISO 8601）")
    session_id: str | None
    question: str | None
    answer: str | None
    rating: Literal["up", "down"]
    comment: str | None


class FeedbackExport(BaseModel):
    entries: list[FeedbackEntry] = Field(description="全部反馈，按时间先后；个人信息已打码")


@router.post("/feedback", response_model=FeedbackResponse, summary="对回答点赞或点踩（可附意见）")
def feedback(req: FeedbackRequest, store: FeedbackDep) -> FeedbackResponse:
    try:
        row = store.add(**req.model_dump())
    except Exception as exc:  # sqlite3 errors: disk full, locked too long …
        raise HTTPException(503, "反馈暂时无法保存，请稍后再试") from exc
    return FeedbackResponse(id=row)


@router.get("/feedback/export", response_model=FeedbackExport, dependencies=[CounselorOnly],
            summary="导出全部反馈（JSON 或 CSV，个人信息已打码；需要辅导员令牌）",
            responses={200: {"content": {"text/csv": {}}, "description": "format=csv 时为 CSV 文件"}})
async def export(store: FeedbackDep, fmt: Format = "json") -> FeedbackExport | Response:
    try:
        entries = [masked(e) for e in await run_in_threadpool(store.entries)]
    except Exception as exc:  # the database or Redis is unavailable
        raise HTTPException(503, "反馈暂时无法读取，请稍后再试") from exc
    if fmt == "csv":
        return Response(to_csv(entries), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="feedback.csv"'})
    return FeedbackExport.model_validate({"entries": entries})
