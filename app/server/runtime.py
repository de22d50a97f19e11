"""What the service holds between requests: settings, the answer pipeline (or why it is missing), the catalog
and the feedback store. Loaded once at start-up by the app's lifespan; no FastAPI here.

The index may change under a running server (``yibao ingest`` swaps the ``current`` link). Requests call
:meth:`Runtime.ready_service`, which at most every ``index_check_seconds`` resolves that link (a few system
calls). When it names another build than the loaded one, a background thread loads and warms a new
AnswerService (same embedder, same sessions) and swaps it in with one assignment; until then the old one keeps
answering. A build that fails to load leaves the old one serving, and ``index_error`` says why. Nothing runs
between requests, so shutdown has nothing to stop (a load in progress is a daemon thread)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from app.answer.models import AskRequest
from app.answer.service import AnswerService
from app.retrieval.index import IndexNotReady, load_configured_index
from app.server.catalog import Catalog, load_catalog
from app.server.stores import FeedbackBackend, make_feedback_store
from app.settings import Settings
from ingest import index_store as store

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0  # a missing or broken index is looked at again at most this often
WARM_UP = "住院报销比例是多少"
T = TypeVar("T")


def default_workers() -> int:
    """Answer-pipeline calls running at once. The pipeline is CPU-bound and mostly holds the GIL: more threads
    than cores only make requests wait for each other (measured: 16 threads 123 req/s p95 408 ms, 2 threads
    169 req/s p95 127 ms on 2 cores); the embedding releases the GIL, so one per core keeps all cores busy."""
    return max(2, os.cpu_count() or 2)


def why_not_loaded(exc: Exception) -> str:
    if isinstance(exc, IndexNotReady):
        return str(exc)
    return f"索引加载失败（{type(exc).__name__}）：{exc}；请运行 yibao ingest"


@dataclass
class Runtime:
    settings: Settings
    service: AnswerService | None = None
    reason: str | None = "服务正在启动"
    index_error: str | None = None  # a newer build failed to load (the loaded one keeps serving)
    catalog: Catalog | None = None
    catalog_error: str | None = None
    feedback: FeedbackBackend | None = None
    feedback_error: str | None = None
    workers: int = field(default_factory=default_workers)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_try: float = 0.0  # when a build was last loaded or tried
    _tried: str | None = None  # the build the `current` link named then
    _next_check: float = 0.0
    _loader: threading.Thread | None = None
    _embeddings: Any = None  # the embedding model once loaded: kept for the next build (same spec)
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
            self.feedback = make_feedback_store(self.settings)
        except Exception as exc:  # e.g. a read-only disk: everything but feedback still works
            self.feedback_error = f"反馈库无法打开（{type(exc).__name__}）"
            log.error("%s: %s", self.feedback_error, exc)
        if self.service is None:
            self._load_service()
        else:
            self.reason, self._tried = None, self.service.index.build.name
        if self.service is not None:
            self._warm_up(self.service)

    def ready_service(self) -> AnswerService | None:
        """The answer pipeline, or None (``reason`` says why). Never blocks: a newer or repaired build is
        looked for at most every ``index_check_seconds`` and loaded in a background thread."""
        now = time.monotonic()
        if now >= self._next_check:
            every = self._check_every()
            self._next_check = now + every
            if every != float("inf"):
                self._look_for_build(now)
        return self.service

    def _check_every(self) -> float:
        every = self.settings.index_check_seconds
        if self.service is None:  # nothing to answer with: keep looking, even if checks are switched off
            return min(every, RETRY_SECONDS) if every > 0 else RETRY_SECONDS
        return every if every > 0 else float("inf")

    def _look_for_build(self, now: float) -> None:
        if self._loader is not None and self._loader.is_alive():
            return
        build = store.current_build(self.settings.index_dir)
        target = build.name if build else None
        if self.service is not None:
            if target == self.service.index.build.name:
                self.index_error = None  # e.g. `current` was pointed back at the loaded build
                return
            if target == self._tried:
                return  # already failed (a new ingest makes a new build id)
        elif target == self._tried and now - self._last_try < RETRY_SECONDS:
            return
        with self._lock:
            if self._loader is not None and self._loader.is_alive():
                return
            if self.service is None and target and target != self._tried:
                self.reason = f"正在加载索引 {target}，请稍候"
            self._tried, self._last_try = target, now
            self._loader = threading.Thread(target=self._swap_in, name="yibao-index-loader", daemon=True)
            self._loader.start()

    def _swap_in(self) -> None:
        """Load and warm a new AnswerService off the request path, then publish it with one assignment."""
        old = self.service
        try:
            new = self._new_service()
        except Exception as exc:  # a missing, half-written or damaged build: the old one keeps serving
            reason = why_not_loaded(exc)
            if old is None:
                self.reason = reason
                log.warning("问答服务未就绪：%s", reason)
            else:
                self.index_error = f"新索引未能加载，仍使用 {old.index.build_id}：{reason}"
                log.error(self.index_error)
            return
        self._warm_up(new)
        try:  # the guides changed with the index: /api/sources and /api/cities follow
            catalog, self.catalog_error = load_catalog(self.settings.knowledge_dir), None
        except Exception as exc:
            catalog = self.catalog
            log.warning("知识库目录未能重新读取，沿用旧的：%s", exc)
        self.service = new  # requests already running finish on the old service
        self.catalog, self.reason, self.index_error = catalog, None, None
        log.info("索引已切换：%s → %s", old.index.build_id if old else "无", new.index.build_id)

    def _new_service(self) -> AnswerService:
        old = self.service
        # the build's spec is checked against settings.embedding, which the kept model was made for
        index = load_configured_index(self.settings, embeddings=old.index.embeddings if old else self._embeddings)
        self._embeddings = index.embeddings
        return AnswerService(self.settings, index=index, sessions=old.sessions if old else None)

    def _load_service(self) -> None:
        """At start-up (before serving): load in this thread."""
        build = store.current_build(self.settings.index_dir)
        self._tried, self._last_try = (build.name if build else None), time.monotonic()
        try:
            self.service, self.reason = self._new_service(), None
        except Exception as exc:  # a damaged index or knowledge base: report it, keep serving the rest
            self.reason = why_not_loaded(exc)
            log.warning("问答服务未就绪：%s", self.reason)

    def _warm_up(self, service: AnswerService) -> None:
        """One question per city: the embedder, jieba and each city's BM25 are ready before the first user.
        Without the LLM (the service is not serving yet, so switching it off here races with nothing)."""
        llm, service.llm = service.llm, None
        try:
            for city in [*service.covered, None]:
                service.ask(AskRequest(question=WARM_UP, city=city))
        except Exception as exc:  # warming is an optimisation only
            log.warning("预热失败：%s", exc)
        finally:
            service.llm = llm
