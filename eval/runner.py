"""Run a question set against yibao (in-process, or any deployment over HTTP) and score it.

    yibao eval [--set dev|test|all] [--against URL] [--report DIR]
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from eval.scoring import aggregate, score_item, turns_of

DATASETS = Path(__file__).resolve().parent / "datasets"


class Client(Protocol):
    name: str

    def ask(self, question: str, *, city: str | None, session_id: str | None) -> dict[str, Any]: ...


def load_set(name: str, folder: Path = DATASETS) -> list[dict[str, Any]]:
    names = ["dev", "test"] if name == "all" else [name]
    items: list[dict[str, Any]] = []
    for n in names:
        path = folder / f"{n}.jsonl"
        if not path.exists():
            raise FileNotFoundError(f"找不到题集 {path}")
        items += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return items


class InProcessClient:
    name = "yibao"

    def __init__(self, service: Any) -> None:
        self.service = service

    def ask(self, question: str, *, city: str | None, session_id: str | None) -> dict[str, Any]:
        from app.answer.models import AskRequest

        res = self.service.ask(AskRequest(question=question, city=city, session_id=session_id))
        return res.model_dump(mode="json")


class HttpClient:
    """Any deployment: POST {url}/api/ask with the same JSON as ``yibao ask --json``."""

    name = "yibao (HTTP)"

    def __init__(self, url: str, timeout: float = 60) -> None:
        import httpx

        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)

    def ask(self, question: str, *, city: str | None, session_id: str | None) -> dict[str, Any]:
        body = {"question": question, "city": city, "session_id": session_id}
        resp = self.http.post("/api/ask", json=body)
        resp.raise_for_status()
        return resp.json()


def run_items(items: list[dict[str, Any]], client: Client,
              on_item: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    results = []
    for item in items:
        responses, latencies = [], []
        session: str | None = None
        for turn in turns_of(item):
            started = time.perf_counter()
            try:
                res = client.ask(turn["question"], city=turn.get("city", item.get("city")), session_id=session)
            except Exception as exc:  # a failed call scores as a wrong answer, with the reason kept
                res = {"answer": "", "error": f"{type(exc).__name__}: {exc}"}
            latencies.append(1000 * (time.perf_counter() - started))
            session = res.get("session_id") or session
            responses.append(res)
        results.append(score_item(item, responses, latencies))
        if on_item:
            on_item()
    return results


def evaluate(items: list[dict[str, Any]], clients: list[Client],
             progress: Callable[[str, int], Callable[[], None]] | None = None) -> dict[str, Any]:
    """Score every client on the same items; the first client is the system, the rest are baselines."""
    report: dict[str, Any] = {"items": len(items), "systems": {}}
    for client in clients:
        tick = progress(client.name, len(items)) if progress else None
        results = run_items(items, client, tick)
        report["systems"][client.name] = {"summary": aggregate(results), "results": results}
    return report
