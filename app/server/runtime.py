"""What the service holds between requests: settings, the answer pipeline (or why it is missing), the catalog
and the feedback store. Loaded once at start-up by the app's lifespan; no FastAPI here."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from app.answer.models import AskRequest
from app.answer.service import AnswerService
from app.retrieval.index import IndexNotReady
from app.server.catalog import Catalog, load_catalog
from app.server.feedback_store import FeedbackStore
from app.settings import Settings

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0  # a missing index is looked for again at most this often (e.g. after `yibao ingest`)
WARM_UP = "住院报销比例是多少"
T = TypeVar("T")


def default_workers() -> int:
    """Answer-pipeline calls running at once. The pipeline is CPU-bound and mostly holds the GIL: more threads
    than cores only make requests wait for each other (measured: 16 threads 123 req/s p95 408 ms, 2 threads
    169 req/s p95 127 ms on 2 cores); the embedding releases the GIL, so one per core keeps all cores busy."""
    return max(2, os.cpu_count() or 2)


def feedback_path(settings: Settings) -> Path:
    return settings.feedback_db


@dataclass
class Runtime:
    settings: Settings
    service: AnswerService | None = None
    reason: str | None = "服务正在启动"
    catalog: Catalog | None = None
    catalog_error: str | None = None
    feedback: FeedbackStore | None = None
    feedback_error: str | None = None
    workers: int = field(default_factory=default_workers)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_try: float = 0.0
    _limiter: anyio.CapacityLimiter | None = None

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking pipeline work in a worker thread, at most ``workers`` at once (the rest queue)."""
        if self._limiter is None:  # created on the event loop
            self._limiter = anyio.CapacityLimiter(self.settings.max_concurrent_answers or self.workers)
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter)

    @property
    def build_id(self) -> str | None:
        return self.service.index.build_id if self.service else None

    def start(self) -> None:
        try:
            self.catalog = load_catalog(self.settings.knowledge_dir)
        except Exception as exc:  # a broken knowledge base must not stop the calculator or /healthz
            self.catalog_error = f"知识库无法读取：{exc}"
            log.error(self.catalog_error)
        try:
            self.feedback = FeedbackStore(feedback_path(self.settings))
        except Exception as exc:  # e.g. a read-only disk: everything but feedback still works
            self.feedback_error = f"反馈库无法打开（{type(exc).__name__}）"
            log.error("%s: %s", self.feedback_error, exc)
        if self.service is None:
            self._load_service()
        else:
            self.reason = None
        if self.service is not None:
            self._warm_up(self.service)

    def ready_service(self) -> AnswerService | None:
        """The answer pipeline, or None (``reason`` says why); a missing index is retried now and then."""
        if self.service is None and time.monotonic() - self._last_try >= RETRY_SECONDS:
            with self._lock:
                if self.service is None and time.monotonic() - self._last_try >= RETRY_SECONDS:
                    self._load_service()
        return self.service

    def _load_service(self) -> None:
        self._last_try = time.monotonic()
        try:
            self.service, self.reason = AnswerService(self.settings), None
        except IndexNotReady as exc:
            self.reason = str(exc)
        except Exception as exc:  # a damaged index or knowledge base: report it, keep serving the rest
            self.reason = f"索引加载失败（{type(exc).__name__}）：{exc}；请运行 yibao ingest --rebuild"
        if self.reason:
            log.warning("问答服务未就绪：%s", self.reason)

    def _warm_up(self, service: AnswerService) -> None:
        """One question per city: the embedder, jieba and each city's BM25 are ready before the first user."""
        try:
            for city in [*service.covered, None]:
                service.ask(AskRequest(question=WARM_UP, city=city))
        except Exception as exc:  # warming is an optimisation only
            log.warning("预热失败：%s", exc)
