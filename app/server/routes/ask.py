"""POST /api/ask (the `yibao ask --json` contract) and POST /api/ask/stream (Server-Sent Events)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from app.answer.models import AskRequest, AskResponse
from app.answer.service import AnswerService, StreamEvent
from app.server.deps import RuntimeDep, ServiceDep, SettingsDep
from app.server.limits import clean_question
from app.server.runtime import Runtime
from app.server.streaming import SerialIterator, ask_events

router = APIRouter(prefix="/api", tags=["问答"])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def start_stream(service: AnswerService, req: AskRequest,
                       runtime: Runtime) -> tuple[StreamEvent | None, SerialIterator]:
    """The stream's first step, run now: it validates the question and city, so a bad request is a 422
    before the response starts, not an error event inside it."""
    events = SerialIterator(service.ask_stream(req))
    return await runtime.call(next, events, None), events


async def valid_ask(req: AskRequest, settings: SettingsDep) -> AskRequest:
    """The request with its question cleaned (invisible characters out), or InputTooLong (422) when it is
    longer than the setting."""
    question = clean_question(req.question, max_chars=settings.max_question_chars)
    return req.model_copy(update={"question": question})


AskDep = Annotated[AskRequest, Depends(valid_ask)]


@router.post("/ask", response_model=AskResponse, summary="回答一个问题（与 yibao ask --json 相同）")
async def ask(req: AskDep, service: ServiceDep, runtime: RuntimeDep) -> AskResponse:
    return await runtime.call(service.ask, req)


@router.post("/ask/stream", summary="流式回答（text/event-stream：delta… 然后 final）",
             response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "delta / final / error 事件"}})
async def ask_stream(req: AskDep, service: ServiceDep, runtime: RuntimeDep) -> StreamingResponse:
    first, events = await start_stream(service, req, runtime)
    return StreamingResponse(ask_events(first, events, runtime.call), media_type="text/event-stream",
                             headers=SSE_HEADERS)
