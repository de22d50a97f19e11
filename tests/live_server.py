"""A real uvicorn server in a thread over any settings (the session-wide ``live_url`` in conftest serves the
full index; lifecycle and privacy tests need their own index, settings and logging)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from conftest import KNOWLEDGE, free_port

from app.answer.service import AnswerService
from app.server.main import create_app
from app.server.runtime import Runtime
from app.settings import Settings


@dataclass
class Live:
    url: str
    runtime: Runtime


def servable(knowledge: Path) -> Path:
    """The small test knowledge base lacks what the server reads besides guides: add the real ones."""
    if not (knowledge / "gazetteer.yaml").exists():
        shutil.copy(KNOWLEDGE / "gazetteer.yaml", knowledge / "gazetteer.yaml")
    if not (knowledge / "policies").exists():
        shutil.copytree(KNOWLEDGE / "policies", knowledge / "policies")
    return knowledge


@contextmanager
def serve(settings: Settings, service: AnswerService | None = None, **config: Any) -> Iterator[Live]:
    """``config`` goes to ``uvicorn.Config`` (e.g. ``log_config=None, access_log=True``)."""
    app = create_app(settings, service=service)
    config.setdefault("log_level", "warning")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{server.config.port}", app.state.runtime)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def wait_for(check: Callable[[], Any], *, timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy (returned) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if value := check():
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
