"""POST /api/batch: a counselor's paste (or a list) → answers in order, personal data masked. Needs the
counselor token when one is configured (app/server/auth.py)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.answer.models import AskResponse
from app.server.auth import CounselorOnly
from app.server.batch_service import answer_one, plan
from app.server.deps import RuntimeDep, ServiceDep, SettingsDep

router = APIRouter(prefix="/api", tags=["问答"])


class BatchRequest(BaseModel):
    text: str | None = Field(default=None, max_length=50_000,
                             description="粘贴的一段文字（群聊记录或一行一个问题）")
    questions: list[str] | None = Field(default=None,
                                        description="问题列表（与 text 二选一或同时给出；合计最多 "
                                                    "max_batch_questions 个，默认 200）")
    city: str | None = Field(default=None, description="城市 id；不给时按每个问题中的地名判断")


class BatchItem(BaseModel):
    question: str = Field(description="问题（个人信息已打码）")
    response: AskResponse


class BatchResponse(BaseModel):
    items: list[BatchItem]


@router.post("/batch", response_model=BatchResponse, summary="批量回答（辅导员粘贴；需要辅导员令牌）",
             dependencies=[CounselorOnly])
async def batch(req: BatchRequest, service: ServiceDep, runtime: RuntimeDep,
                settings: SettingsDep) -> BatchResponse:
    items = []  # plan and answer_one raise BatchInputError (422) on bad input
    questions = plan(service, text=req.text, questions=req.questions, city=req.city,
                     max_questions=settings.max_batch_questions, max_chars=settings.max_question_chars)
    for masked in questions:  # one worker-thread call per question: a long paste never blocks other users
        response = await runtime.call(answer_one, service, masked, req.city)
        items.append(BatchItem(question=masked, response=response))
    return BatchResponse(items=items)
