"""The FastAPI app: ``create_app()`` (tests pass settings and a prebuilt AnswerService) and ``run()`` for
``yibao serve``. Everything heavy loads once in the lifespan, never at import time.

    python -m app.server.main [--host 127.0.0.1] [--port 8000]
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from app.answer.service import AnswerService
from app.server.auth import token_of
from app.server.errors import install_error_handlers
from app.server.middleware import install_middleware
from app.server.openapi import install_openapi
from app.server.query import known_query_only
from app.server.routes import ask, batch, calc, cities, feedback, health, openai_compat, sources
from app.server.runtime import Runtime
from app.settings import Settings, get_settings
from app.web import router as web_router

log = logging.getLogger(__name__)
ROUTERS = (health, ask, batch, calc, cities, sources, feedback, openai_compat)


def _fastapi(**kwargs: Any) -> FastAPI:
    """/docs with its Swagger UI assets served by the app itself (fastapi-offline): no internet needed."""
    try:
        from fastapi_offline import FastAPIOffline
    except ImportError:  # pragma: no cover - the docs page then loads its assets from a CDN
        log.warning("fastapi-offline 未安装：/docs 页面需要联网加载")
        return FastAPI(**kwargs)
    return FastAPIOffline(static_url="/docs-static", favicon_url="/docs-static/favicon.png", **kwargs)


def create_app(settings: Settings | None = None, *, service: AnswerService | None = None) -> FastAPI:
    runtime = Runtime(settings or (service.settings if service else get_settings()), service=service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if token_of(runtime.settings) is None:
            log.warning("未设置 YIBAO_COUNSELOR_TOKEN：辅导员工作台、/api/batch、/api/feedback/export "
                        "对所有人开放")
        await run_in_threadpool(runtime.start)
        yield

    app = _fastapi(
        title="医保助手 yibao", version="0.1.0", lifespan=lifespan,
        description="大学生医保问答：检索官方指南并给出出处；报销计算器；OpenAI 兼容接口。"
                    "错误统一为 {\"detail\": 中文说明}。",
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    install_middleware(app, runtime.settings)
    install_openapi(app, rate_limited=runtime.settings.rate_limit_per_minute > 0)
    for module in ROUTERS:  # the probes take whatever a load balancer sends
        strict = [] if module is health else [Depends(known_query_only)]
        app.include_router(module.router, dependencies=strict)
    app.include_router(web_router)
    return app


class RedactTokens(logging.Filter):
    """uvicorn's access log writes the query string: ``/counselor?token=…`` must not put the token there."""

    SECRET = re.compile(r"((?:^|[?&])token=)[^&\s]*", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.SECRET.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        return True


def run(host: str = "127.0.0.1", port: int = 8000, *, access_log: bool = True) -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    uvicorn.run(create_app(), host=host, port=port, access_log=access_log, log_level="info")


def main() -> None:
    parser = argparse.ArgumentParser(description="医保助手 HTTP 服务")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-access-log", action="store_true", help="不记录每个请求")
    args = parser.parse_args()
    run(args.host, args.port, access_log=not args.no_access_log)


if __name__ == "__main__":
    main()
