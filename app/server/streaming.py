"""Server-Sent Events from the synchronous answer pipeline (no FastAPI here).

The pipeline is a plain generator doing CPU work; the server advances it with ``next`` in a worker thread, one
step at a time (``call`` runs a function in a worker thread). :class:`SerialIterator` makes that safe even if
two threads ever touch it at once (a client that disconnects while a step runs). A failure mid-stream becomes
an ``error`` event instead of a broken stream.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, TypeVar

from app.answer.service import StreamEvent
from app.retrieval.index import VectorStoreUnavailable

T = TypeVar("T")
Call = Callable[..., Awaitable[Any]]
log = logging.getLogger(__name__)
FAILED = "生成回答时出错，请稍后再试"


def failure_message(exc: Exception) -> str:
    """What a client sees when a stream fails midway: the vector store's own message when it is down."""
    return str(exc) if isinstance(exc, VectorStoreUnavailable) else FAILED


class SerialIterator(Iterator[T]):
    def __init__(self, source: Iterable[T]) -> None:
        self._it = iter(source)
        self._lock = threading.Lock()

    def __next__(self) -> T:
        with self._lock:
            return next(self._it)

    def close(self) -> None:
        with self._lock:
            close: Callable[[], None] | None = getattr(self._it, "close", None)
            if close:
                close()


def sse(event: str | None, data: Any) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return head + "".join(f"data: {line}\n" for line in payload.split("\n")) + "\n"


async def events_of(first: StreamEvent | None, rest: Iterator[StreamEvent],
                    call: Call) -> AsyncIterator[StreamEvent]:
    event = first
    while event is not None:
        yield event
        event = await call(next, rest, None)


async def ask_events(first: StreamEvent | None, rest: Iterator[StreamEvent],
                     call: Call) -> AsyncIterator[str]:
    """``delta`` events with ``{"text"}``, then ``final`` with the AskResponse JSON; ``error`` on failure."""
    try:
        async for event in events_of(first, rest, call):
            if event.type == "delta":
                yield sse("delta", {"text": event.text})
            elif event.type == "final" and event.response is not None:
                yield sse("final", event.response.model_dump_json())
    except Exception as exc:
        log.exception("流式回答失败")
        yield sse("error", {"detail": failure_message(exc)})
