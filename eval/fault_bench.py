"""Fault run (issue 7, scale-out): answers keep coming while a dependency of the server fails mid-load.

Starts the dependency and the server (a subprocess on a free 127.0.0.1 port, the index in YIBAO_INDEX_DIR or
data/index, YIBAO_RATE_LIMIT_PER_MINUTE=0), waits for /readyz, then runs conversations at ``--concurrency``
(default 32) for ``--seconds`` (default 30, capped at 60): a question of the retrieval benchmark with its
city, then the follow-up “那住院呢？” in the same session, which has its context when it is answered for that
city. The scenario breaks the dependency at 35 % of the run and repairs it at 65 %.

Scenarios (``--scenario``):

- ``redis-restart``: sessions and feedback in Redis; Redis is killed, then started again on the same port
  (empty: conversations from before are forgotten, new ones are kept again).

Another scenario (e.g. a Chroma server stopped) is a class with ``start() -> server env``, ``break_()``,
``repair() -> seconds`` and ``stop()``, added to ``SCENARIOS``.

Printed, never asserted: requests, requests/s, errors by status (5xx counted apart), p50/p95 before,
during and after the outage, how many follow-ups had their session context in each phase, and what /readyz
and a feedback POST said in each phase. Only 127.0.0.1 is contacted.

    .venv/bin/python -m eval.fault_bench [--scenario redis-restart] [--seconds 30] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from eval import load_bench as lb
from eval.redis_process import RedisProcess

FOLLOW_UP = "那住院呢？"
BREAK_AT, REPAIR_AT = 0.35, 0.65
PHASES = ("before", "outage", "after")


class Scenario(Protocol):
    what: str  # the dependency, as printed

    def start(self) -> dict[str, str]:
        """Start the dependency; returns the server's settings (environment variables) that use it."""
        ...

    def break_(self) -> None: ...

    def repair(self) -> float:
        """Bring it back; returns the seconds until it answered."""
        ...

    def stop(self) -> None: ...


class RedisRestart:
    what = "Redis"

    def __init__(self, workdir: Path) -> None:
        self.redis = RedisProcess(lb.free_port(), workdir)

    def start(self) -> dict[str, str]:
        self.redis.start()
        return {"YIBAO_REDIS_URL": self.redis.url}

    def break_(self) -> None:
        self.redis.stop()

    def repair(self) -> float:
        return self.redis.start()

    def stop(self) -> None:
        self.redis.stop()


SCENARIOS: dict[str, Callable[[Path], Scenario]] = {"redis-restart": RedisRestart}


@dataclass
class Run:
    started: float = field(default_factory=time.perf_counter)
    broken: float = float("inf")  # seconds into the run
    repaired: float = float("inf")
    repair_seconds: float = float("nan")  # from starting the dependency again until it answered
    took: float = 0.0
    ms: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    failed: Counter[str] = field(default_factory=Counter)  # phase → requests without a 200 answer
    statuses: Counter[str] = field(default_factory=Counter)
    context: dict[str, list[int]] = field(default_factory=lambda: {p: [0, 0] for p in PHASES})  # [kept, all]
    probes: dict[str, str] = field(default_factory=dict)

    def now(self) -> float:
        return time.perf_counter() - self.started

    def phase(self, t: float) -> str:
        return "before" if t < self.broken else "outage" if t < self.repaired else "after"


async def post(http: httpx.AsyncClient, run: Run, body: dict[str, Any]) -> dict[str, Any] | None:
    sent = run.now()
    try:
        res = await http.post("/api/ask", json=body)
        status = str(res.status_code)
        answer = res.json() if res.status_code == 200 else None
    except httpx.HTTPError as exc:
        status, answer = type(exc).__name__, None
    phase = run.phase(sent)
    run.ms[phase].append(1000 * (run.now() - sent))
    run.statuses[status] += 1
    if not (answer and answer.get("answer")):
        run.failed[phase] += 1
        return None
    return answer


async def conversation(http: httpx.AsyncClient, run: Run, question: dict[str, str | None]) -> None:
    first = await post(http, run, question)
    if first is None or first["city"] != question["city"]:
        return
    first_done = run.now()
    follow = await post(http, run, {"question": FOLLOW_UP, "session_id": first["session_id"]})
    if follow is None:
        return
    # by when the answers came back, not when they were sent: under load a request waits in the server's queue
    # for a while, and the session is read and written when it is answered
    phase = "before" if run.now() < run.broken else "after" if first_done >= run.repaired else "outage"
    run.context[phase][0] += follow["city"] == question["city"]
    run.context[phase][1] += 1


async def probe(http: httpx.AsyncClient, run: Run, phase: str) -> None:
    ready = await http.get("/readyz")
    feedback = await http.post("/api/feedback", json={"rating": "up", "comment": f"fault_bench {phase}"})
    sessions = ready.json().get("sessions") if ready.status_code in (200, 503) else None
    run.probes[phase] = (f"/readyz {ready.status_code} (sessions: {sessions}), "
                         f"feedback POST {feedback.status_code}")


async def schedule(http: httpx.AsyncClient, run: Run, scenario: Scenario, seconds: float) -> None:
    await asyncio.sleep(BREAK_AT * seconds / 2)
    await probe(http, run, "before")
    await asyncio.sleep(max(0.0, BREAK_AT * seconds - run.now()))
    await asyncio.to_thread(scenario.break_)
    run.broken = run.now()
    await asyncio.sleep(min(1.0, (REPAIR_AT - BREAK_AT) * seconds / 2))
    await probe(http, run, "outage")
    await asyncio.sleep(max(0.0, REPAIR_AT * seconds - run.now()))
    run.repair_seconds = await asyncio.to_thread(scenario.repair)
    run.repaired = run.now()
    await asyncio.sleep(min(2.0, (1 - REPAIR_AT) * seconds / 2))
    await probe(http, run, "after")


async def bench(base: str, scenario: Scenario, seconds: float, workers: int) -> Run:
    questions = [q for q in lb.load_questions() if q["city"]]
    limits = httpx.Limits(max_connections=workers + 2, max_keepalive_connections=workers + 2)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        run = Run()
        timer = asyncio.create_task(schedule(http, run, scenario, seconds))
        run.took = await lb.for_seconds(workers, seconds,
                                     lambda i: conversation(http, run, questions[i % len(questions)]))
        await timer
    return run


def report(run: Run, scenario: Scenario, workers: int) -> None:
    took = run.took
    every = [ms for phase in PHASES for ms in run.ms[phase]]
    print(f"{scenario.what} broken at {run.broken:.1f} s, repaired at {run.repaired:.1f} s (answering "
          f"{run.repair_seconds:.2f} s after being started); concurrency {workers}, {took:.1f} s")
    print(f"{'':<44}{'n':>6}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}{'mean':>9}")
    print(lb.row("all", every, sum(run.failed.values()), f"{len(every) / took:.1f} req/s"))
    spans = {"before": (0.0, run.broken), "outage": (run.broken, run.repaired), "after": (run.repaired, took)}
    for phase in PHASES:
        lo, hi = spans[phase]
        print(lb.row(f"{phase} ({lo:.1f}–{hi:.1f} s)", run.ms[phase], run.failed[phase]))
    by_status = ", ".join(f"{s} ×{n}" for s, n in sorted(run.statuses.items()))
    server_errors = sum(n for s, n in run.statuses.items() if s.startswith("5"))
    print(f"requests {len(every)}, {len(every) / took:.1f} req/s; by status: {by_status}; "
          f"5xx: {server_errors}")
    kept = ", ".join(f"{p} {run.context[p][0]}/{run.context[p][1]}" for p in PHASES)
    print(f"follow-ups “{FOLLOW_UP}” answered with their session context: {kept}")
    for phase in PHASES:
        print(f"{phase}: {run.probes.get(phase, 'not probed')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="redis-restart")
    parser.add_argument("--seconds", type=float, default=30, help="load time (capped at 60)")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    seconds = min(args.seconds, lb.MAX_SECONDS)
    with tempfile.TemporaryDirectory(prefix="yibao-fault-") as tmp:
        scenario = SCENARIOS[args.scenario](Path(tmp))
        env = {**scenario.start(), "YIBAO_RATE_LIMIT_PER_MINUTE": "0"}
        port = lb.free_port()
        base = f"http://{lb.HOST}:{port}"
        proc = lb.start_server(port, access_log=False, env=env)
        try:
            ready = lb.wait_ready(base, proc)
            print(f"scenario {args.scenario}: server start to ready {ready:.1f} s (pid {proc.pid}, "
                  f"{os.cpu_count()} CPUs), {', '.join(env)}")
            run = asyncio.run(bench(base, scenario, seconds, args.concurrency))
            report(run, scenario, args.concurrency)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            scenario.stop()


if __name__ == "__main__":
    main()
