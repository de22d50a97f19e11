"""Dependencies handlers take as parameters (``Annotated`` aliases). All async: no thread hop per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.answer.service import AnswerService
from app.server.catalog import Catalog
from app.server.runtime import Runtime
from app.server.stores import FeedbackBackend
from app.settings import Settings


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


async def get_service(runtime: RuntimeDep) -> AnswerService:
    service = runtime.ready_service()  # cheap; a newer index is loaded in the background
    if service is None:
        raise HTTPException(503, f"问答服务暂不可用：{runtime.reason}")
    return service


async def get_catalog(runtime: RuntimeDep) -> Catalog:
    if runtime.catalog is None:
        raise HTTPException(503, runtime.catalog_error or "知识库尚未加载")
    return runtime.catalog


async def get_feedback(runtime: RuntimeDep) -> FeedbackBackend:
    if runtime.feedback is None:
        raise HTTPException(503, runtime.feedback_error or "反馈库尚未打开")
    return runtime.feedback


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServiceDep = Annotated[AnswerService, Depends(get_service)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
FeedbackDep = Annotated[FeedbackBackend, Depends(get_feedback)]
