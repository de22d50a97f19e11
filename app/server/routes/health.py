"""GET /healthz (the process answers) and GET /readyz (the index is loaded; if not, why)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.server.deps import RuntimeDep

router = APIRouter(tags=["运行状态"])


class Ready(BaseModel):
    ready: bool
    reason: str | None
    build_id: str | None


@router.get("/healthz", summary="进程存活")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready, summary="索引已加载、可以回答（否则 503 并说明原因）",
            responses={503: {"model": Ready}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    service = runtime.service or await run_in_threadpool(runtime.ready_service)
    body = Ready(ready=service is not None, reason=None if service else runtime.reason,
                 build_id=runtime.build_id)
    return JSONResponse(body.model_dump(), status_code=200 if service else 503)
