"""POST /v1/chat/completions: OpenAI-compatible (streaming and not). The last user message is the question;
``model`` is ignored. Citations are in the message content and in the extra top-level field ``citations``.
Optional extras: ``city`` and ``session_id`` (as in /api/ask)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app.answer.models import AskRequest
from app.answer.service import StreamEvent
from app.input_error import InputError
from app.server import openai_chat as oc
from app.server.deps import RuntimeDep, ServiceDep, SettingsDep
from app.server.limits import clean_question
from app.server.routes.ask import SSE_HEADERS, start_stream
from app.server.streaming import Call, events_of, failure_message, sse

router = APIRouter(prefix="/v1", tags=["OpenAI 兼容"])
log = logging.getLogger(__name__)


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str | None = Field(default=None, description="忽略")
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    city: str | None = Field(default=None, description="扩展字段：城市 id")
    session_id: str | None = Field(default=None, description="扩展字段：会话 id")


def _ask_request(req: ChatRequest, max_chars: int) -> AskRequest:
    """The last user message as an AskRequest, or an InputError (422: too long, or no such message)."""
    question = clean_question(oc.last_user_text([m.model_dump() for m in req.messages]),
                              max_chars=max_chars, label="messages（消息）：最后一条用户消息")
    if not question:
        raise InputError("输入有误：messages（消息）：没有内容非空的用户消息（role 为 user）")
    return AskRequest(question=question, city=req.city, session_id=req.session_id)


@router.post("/chat/completions", summary="OpenAI 兼容的对话接口（stream 可选）",
             responses={200: {"content": {"application/json": {}, "text/event-stream": {}},
                              "description": "chat.completion（JSON）；stream 为 true 时为 chunk 事件流"}})
async def chat_completions(req: ChatRequest, service: ServiceDep, runtime: RuntimeDep,
                           settings: SettingsDep) -> Any:
    ask = _ask_request(req, settings.max_question_chars)
    model = req.model or "yibao"
    if not req.stream:
        response = await runtime.call(service.ask, ask)
        return oc.completion(response, model=model)
    first, events = await start_stream(service, ask, runtime)
    return StreamingResponse(_chunks(first, events, model, runtime.call), media_type="text/event-stream",
                             headers=SSE_HEADERS)


async def _chunks(first: StreamEvent | None, rest: Iterator[StreamEvent], model: str,
                  call: Call) -> AsyncIterator[str]:
    cid = oc.new_id()
    yield sse(None, oc.chunk(cid, model, delta={"role": "assistant", "content": ""}))
    try:
        async for event in events_of(first, rest, call):
            if event.type == "delta" and event.text:
                yield sse(None, oc.chunk(cid, model, delta={"content": event.text}))
            elif event.type == "final" and event.response is not None:
                if tail := oc.tail_of(event.response):
                    yield sse(None, oc.chunk(cid, model, delta={"content": tail}))
                yield sse(None, oc.chunk(cid, model, delta={}, finish="stop",
                                         citations=oc.citations_json(event.response),
                                         yibao=event.response.model_dump(mode="json")))
    except Exception as exc:
        log.exception("流式回答失败")
        yield sse(None, {"error": {"message": failure_message(exc), "type": "server_error"}})
    yield "data: [DONE]\n\n"
