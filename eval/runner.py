"""Run a question set against yibao (in-process, or any deployment over HTTP) and score it.

    yibao eval [--set dev|test|all] [--against URL] [--report DIR] [--baselines/--no-baselines]
               [--min-accuracy FLOAT]

The command line is ``eval/cli.py``, the report ``eval/report.py``, the baselines ``eval/baselines.py``.
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


def _order(name: str) -> tuple[int, str, int]:
    """dev, test, then the others by name and number (blind, blind2 … blind12, fresh)."""
    stem = name.rstrip("0123456789")
    return ({"dev": 0, "test": 1}.get(name, 2), stem, int(name[len(stem):] or 1))


# every set in eval/datasets (a new file is a new set), and all = dev + test (the sets the checks balance)
SETS = (*sorted((p.stem for p in DATASETS.glob("*.jsonl")), key=_order), "all")


def load_set(name: str, folder: Path = DATASETS) -> list[dict[str, Any]]:
    """The items of a set in ``eval/datasets`` (``all`` = dev + test); a name ending in ``.jsonl`` is a path."""
    if name not in SETS and name.endswith(".jsonl"):
        paths = [Path(name)]
    else:
        paths = [folder / f"{n}.jsonl" for n in (["dev", "test"] if name == "all" else [name])]
    items: list[dict[str, Any]] = []
    for path in paths:
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
                res = client.ask(turn["question"], city=turn.get("city", item.get("city")),
                                 session_id=session)
            except Exception as exc:  # a failed call scores as a wrong answer, with the reason kept
                res = {"answer": "", "error": f"{type(exc).__name__}: {exc}"}
            latencies.append(1000 * (time.perf_counter() - started))
            session = res.get("session_id") or session
            responses.append(res)
        scored = score_item(item, responses, latencies)
        errors = [r["error"] for r in responses if r.get("error")]
        if errors:
            scored["errors"] = errors
            scored["reasons"] = [f"call failed: {e}" for e in errors] + scored["reasons"]
        scored["citations"] = [_cited(r) for r in responses]
        results.append(scored)
        if on_item:
            on_item()
    return results


def _cited(response: dict[str, Any]) -> list[str]:
    """``doc_id › section`` of each citation, for the report."""
    return [f"{c.get('doc_id')} › {c.get('section')}" if c.get("section") else str(c.get("doc_id"))
            for c in response.get("citations") or [] if isinstance(c, dict)]


def evaluate(items: list[dict[str, Any]], clients: list[Client],
             progress: Callable[[str, int], Callable[[], None]] | None = None, *,
             warm_up: str | None = None) -> dict[str, Any]:
    """Score every client on the same items; the first client is the system, the rest are baselines.

    ``warm_up``: a question asked once, untimed and unscored, before each client's run (so p50/p95 are warm
    latencies, not the first call's lazy loading).
    """
    report: dict[str, Any] = {"items": len(items), "systems": {}}
    for client in clients:
        if warm_up:
            try:
                client.ask(warm_up, city=None, session_id=None)
            except Exception:  # a failing deployment shows in the scored run, not here
                pass
        tick = progress(client.name, len(items)) if progress else None
        started = time.perf_counter()
        results = run_items(items, client, tick)
        report["systems"][client.name] = {"summary": aggregate(results), "results": results,
                                          "seconds": round(time.perf_counter() - started, 3)}
    return report


def accuracy_of(report: dict[str, Any], system: str | None = None) -> float:
    """Answer accuracy of ``system`` (default: the first, i.e. yibao) in an :func:`evaluate` report."""
    systems = report["systems"]
    name = system or next(iter(systems))
    return float(systems[name]["summary"]["overall"]["answer_accuracy"] or 0.0)


def below_floor(report: dict[str, Any], floor: float | None) -> str | None:
    """The regression gate: a message when yibao's answer accuracy is below ``floor``, else None."""
    if floor is None:
        return None
    acc = accuracy_of(report)
    if acc + 1e-9 >= floor:
        return None
    return (f"答案准确率 {acc:.3f} 低于下限 {floor:.3f}（--min-accuracy）："
            "回答质量退步了，请查看报告中最差的题目")
