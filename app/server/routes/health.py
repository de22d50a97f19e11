"""GET /healthz (the process answers) and GET /readyz (the index is loaded; if not, why)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.server.deps import RuntimeDep

router = APIRouter(tags=["运行状态"])


class Ready(BaseModel):
    ready: bool
    reason: str | None
    build_id: str | None
    sessions: str | None = Field(default=None, description="memory、redis 或 redis (不可用)（仍可回答，只是不记得上文）")


@router.get("/healthz", summary="进程存活")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready, summary="索引已加载、可以回答（否则 503 并说明原因）",
            responses={503: {"model": Ready}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    service = runtime.ready_service()  # cheap; a newer build is loaded in the background
    sessions = await run_in_threadpool(service.sessions.status) if service else None  # Redis: one PING
    # ready: ``reason`` is None, or why a newer build could not be loaded (the loaded one keeps serving)
    body = Ready(ready=service is not None, reason=runtime.index_error if service else runtime.reason,
                 build_id=runtime.build_id, sessions=sessions)
    return JSONResponse(body.model_dump(), status_code=200 if service else 503)
