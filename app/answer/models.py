"""The answer contract: the CLI (`yibao ask --json`) and HTTP (`POST /api/ask`) return exactly this."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.understanding.intent import Intent


class AskRequest(BaseModel):
    # no max_length here: the limit is a setting (max_question_chars, default 2000), checked by the server
    question: str = Field(min_length=1, description="学生的问题（最长 max_question_chars 个字符，默认 2000）")
    city: str | None = Field(default=None, description="城市 id；给出时优先于问题中的地名")
    session_id: str | None = Field(default=None, description="会话 id；沿用上文的城市、学校和意图")
    id: str | None = Field(default=None, description="调用方的题目 id，原样返回")


class Citation(BaseModel):
    n: int = Field(description="答案中的编号 [n]")
    doc_id: str
    city: str
    title: str
    section: str
    quote: str = Field(description="被引用的原文")
    chunk_id: str | None = None


class Clarification(BaseModel):
    question: str
    options: list[str] = Field(description="可选的城市 id")


class AskResponse(BaseModel):
    id: str | None = None
    answer: str
    city: str | None
    intent: Intent
    citations: list[Citation] = Field(default_factory=list)
    calculation: dict[str, Any] | None = None
    clarification: Clarification | None = None
    refused: bool = False
    session_id: str
    parts: list[AskResponse] | None = Field(
        default=None, description="一条消息含多个问题时，每个问题各自的回答（顺序同原文）"
    )
