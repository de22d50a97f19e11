"""Fault run (issue 7, scale-out): answers keep coming while a dependency of the server fails mid-load.

Starts the dependency and the server (a subprocess on a free 127.0.0.1 port, the index in YIBAO_INDEX_DIR or
data/index, YIBAO_RATE_LIMIT_PER_MINUTE=0), waits for /readyz, then runs conversations at ``--concurrency``
(default 32) for ``--seconds`` (default 30, capped at 60): a question of the retrieval benchmark (the load
benchmark's 138 questions, eval/retrieval/*.jsonl) with its city, then the follow-up “那住院呢？” in the same
session, which has its context when it is answered for that city. The scenario breaks the dependency at 35 %
of the run and repairs it at 65 %.

Scenarios (``--scenario``):

- ``redis-restart``: sessions and feedback in Redis; Redis is killed, then started again on the same port
  (empty: conversations from before are forgotten, new ones are kept again).
- ``chroma-stop``: the vectors on a Chroma server (``chroma run``, filled from the build when the server
  loads it); the Chroma server is killed, then started again on the same data. Questions meanwhile get 503
  “向量库暂时不可用…” (never a 500); the time until answers come back is printed.
- ``steady``: nothing breaks, embedded set-up (no Redis, no Chroma server): the capacity figure;
  ``steady-chroma``: the same with the vectors on a Chroma server (its cost per request, on the same cores).

Another scenario is a class with ``what`` (None: no fault), ``start() -> server env``, ``break_()``,
``repair() -> seconds`` and ``stop()``, added to ``SCENARIOS``.

The questions repeat once all 138 have been asked (and the follow-up is always the same text); an instance
keeps the embeddings of 4096 recent question texts, so a repeated question skips most of its cost. With
``--new-wording`` every first question is worded as never before (the load benchmark's rewordings) and pays
for its embedding. The share of repeated texts is printed.

Printed, never asserted: requests, requests/s, status counts (5xx apart, with the message of each error),
p50/p95 before, during and after the outage, how long after the restart began answers came back, how many
follow-ups had their session context in each phase, and what /readyz and a feedback POST said in each phase.
Only 127.0.0.1 is contacted.

    .venv/bin/python -m eval.fault_bench [--scenario chroma-stop|redis-restart|steady|steady-chroma]
                                         [--seconds 30] [--concurrency 32] [--new-wording]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from eval import load_bench as lb
from eval.chroma_process import ChromaProcess
from eval.redis_process import RedisProcess

FOLLOW_UP = "那住院呢？"
BREAK_AT, REPAIR_AT = 0.35, 0.65
PHASES = ("before", "outage", "after")


class Scenario(Protocol):
    @property
    def what(self) -> str | None:
        """The dependency, as printed; None: nothing is broken."""
        ...

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


class ChromaStop:
    what: str | None = "Chroma server"

    def __init__(self, workdir: Path) -> None:
        # empty at first: the server fills it from the build when it loads the index
        self.chroma = ChromaProcess(lb.free_port(), workdir / "chroma-db", workdir / "chroma.log")

    def start(self) -> dict[str, str]:
        self.chroma.start()
        return {"YIBAO_CHROMA_URL": self.chroma.url}

    def break_(self) -> None:
        self.chroma.kill()

    def repair(self) -> float:
        return self.chroma.start()  # the same data

    def stop(self) -> None:
        self.chroma.stop()


class SteadyChroma(ChromaStop):
    """No fault, the vectors on a Chroma server (as in docker-compose.yml)."""

    what = None  # schedule() then never breaks it


class Steady:
    what = None

    def __init__(self, workdir: Path) -> None:
        pass

    def start(self) -> dict[str, str]:
        return {}

    def break_(self) -> None:
        pass

    def repair(self) -> float:
        return 0.0

    def stop(self) -> None:
        pass


SCENARIOS: dict[str, Callable[[Path], Scenario]] = {
    "redis-restart": RedisRestart, "chroma-stop": ChromaStop, "steady": Steady, "steady-chroma": SteadyChroma,
}


@dataclass
class Sent:
    """One request: seconds into the run when sent and answered, HTTP status (or the exception's name),
    whether it had an answer, and the message of an error response."""

    sent: float
    done: float
    status: str
    ok: bool
    detail: str = ""
    repeat: bool = False  # its text was sent before in this run


@dataclass
class Run:
    started: float = field(default_factory=time.perf_counter)
    broken: float = float("inf")  # seconds into the run
    restarting: float = float("inf")  # the dependency was being started again from here …
    repaired: float = float("inf")  # … and answered here
    took: float = 0.0
    requests: list[Sent] = field(default_factory=list)
    texts: Counter[str] = field(default_factory=Counter)  # question texts sent
    context: dict[str, list[int]] = field(default_factory=lambda: {p: [0, 0] for p in PHASES})  # [kept, all]
    probes: dict[str, str] = field(default_factory=dict)

    def now(self) -> float:
        return time.perf_counter() - self.started

    def phase(self, t: float) -> str:
        return "before" if t < self.broken else "outage" if t < self.repaired else "after"

    def in_phase(self, phase: str) -> list[Sent]:
        return [r for r in self.requests if self.phase(r.sent) == phase]


async def post(http: httpx.AsyncClient, run: Run, body: dict[str, Any]) -> dict[str, Any] | None:
    sent = run.now()
    repeat = run.texts[body["question"]] > 0
    run.texts[body["question"]] += 1
    detail, answer = "", None
    try:
        res = await http.post("/api/ask", json=body)
        status = str(res.status_code)
        if res.status_code == 200:
            answer = res.json()
        else:
            try:
                detail = str(res.json().get("detail", ""))
            except ValueError:
                detail = res.text
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    ok = bool(answer and answer.get("answer"))
    run.requests.append(Sent(sent, run.now(), status, ok, detail[:60], repeat))
    return answer if ok else None


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
    if scenario.what is None:
        await asyncio.sleep(seconds / 2)
        await probe(http, run, "before")
        return
    await asyncio.sleep(BREAK_AT * seconds / 2)
    await probe(http, run, "before")
    await asyncio.sleep(max(0.0, BREAK_AT * seconds - run.now()))
    await asyncio.to_thread(scenario.break_)
    run.broken = run.now()
    await asyncio.sleep(min(1.0, (REPAIR_AT - BREAK_AT) * seconds / 2))
    await probe(http, run, "outage")
    await asyncio.sleep(max(0.0, REPAIR_AT * seconds - run.now()))
    run.restarting = run.now()
    await asyncio.to_thread(scenario.repair)
    run.repaired = run.now()
    await asyncio.sleep(min(2.0, (1 - REPAIR_AT) * seconds / 2))
    await probe(http, run, "after")


async def bench(base: str, scenario: Scenario, seconds: float, workers: int, new_wording: bool) -> Run:
    questions = [q for q in lb.load_questions() if q["city"]]
    if new_wording:
        questions = lb.reworded(questions)
    limits = httpx.Limits(max_connections=workers + 2, max_keepalive_connections=workers + 2)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        run = Run()
        timer = asyncio.create_task(schedule(http, run, scenario, seconds))
        run.took = await lb.for_seconds(workers, seconds,
                                     lambda i: conversation(http, run, questions[i % len(questions)]))
        await timer
    return run


def by_status(requests: list[Sent]) -> str:
    counts = Counter((r.status, r.detail) for r in requests)
    return ", ".join(f"{s} ×{n}" + (f" “{d}”" if d else "") for (s, d), n in sorted(counts.items())) or "none"


def recovery(run: Run, what: str) -> str:
    """How long after the restart began the errors stopped (by when requests were answered)."""
    bad = [r.done for r in run.requests if r.done >= run.restarting and not r.ok]
    ok = [r.done for r in run.requests if r.done >= run.restarting and r.ok]
    said = f"{what} answered {run.repaired - run.restarting:.2f} s after it was started again; "
    if not bad:
        return said + "no failed request after the restart began"
    last = max(bad)
    answered = sum(t > last for t in ok)
    return said + (f"the last failed request was answered at +{last - run.restarting:.2f} s "
                   f"(= time to recovery), {answered} answers after it, none failed")


def repeats(run: Run, new_wording: bool) -> str:
    sent = sum(run.texts.values())
    again = sent - len(run.texts)
    firsts = "every first question in new wording" if new_wording else "the benchmark questions in turn"
    return (f"question texts: {sent} sent, {len(run.texts)} distinct, {again} ({again / max(sent, 1):.0%}) "
            f"repeat one sent earlier in this run ({firsts}, the follow-up always “{FOLLOW_UP}”); an "
            "instance caches the embeddings of its 4096 most recent question texts, so a repeated text skips "
            "the question embedding (most of an answer's CPU time)")


def report(run: Run, scenario: Scenario, workers: int, new_wording: bool) -> None:
    took = run.took
    everything = run.requests
    errors = [r for r in everything if not r.ok]
    if scenario.what is not None:
        print("phases by when a request was sent: requests waiting in the server when it broke count in "
              "'before', those sent while it was being restarted in 'outage'")
    print(f"{'':<44}{'n':>6}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}{'mean':>9}")
    print(lb.row(f"all ({took:.1f} s, concurrency {workers})", [1000 * (r.done - r.sent) for r in everything],
                 len(errors), f"{len(everything) / took:.1f} req/s"))
    if scenario.what is not None:
        spans = {"before": (0.0, run.broken), "outage": (run.broken, run.repaired),
                 "after": (run.repaired, took)}
        for phase in PHASES:
            lo, hi = spans[phase]
            rows = run.in_phase(phase)
            rate = len(rows) / (hi - lo) if hi > lo else float("nan")
            print(lb.row(f"{phase} ({lo:.1f}–{hi:.1f} s)", [1000 * (r.done - r.sent) for r in rows],
                         sum(not r.ok for r in rows), f"{rate:.1f} req/s"))
    for repeat in (False, True):
        rows = [r for r in everything if r.repeat == repeat]
        print(lb.row("repeated question text" if repeat else "first-time question text",
                     [1000 * (r.done - r.sent) for r in rows], sum(not r.ok for r in rows)))
    warm = max((r.done for r in everything if not r.repeat), default=took)  # every text asked once by then
    if scenario.what is None and took - warm >= 1:  # the capacity for repeated questions
        rows = [r for r in everything if r.sent >= warm]
        print(lb.row(f"once every text had been asked ({warm:.1f}–{took:.1f} s)",
                     [1000 * (r.done - r.sent) for r in rows], sum(not r.ok for r in rows),
                     f"{len(rows) / (took - warm):.1f} req/s"))
    server_errors = sum(r.status.startswith("5") for r in everything)
    others = sum(r.status.startswith("5") and r.status != "503" for r in everything)
    print(f"5xx: {server_errors} (other than 503: {others})")
    phases = PHASES if scenario.what is not None else ("before",)
    for phase in phases:
        print(f"by status, {phase if scenario.what else 'all'}: {by_status(run.in_phase(phase))}")
    if scenario.what is not None:
        print(f"{scenario.what} killed at {run.broken:.1f} s, started again at {run.restarting:.1f} s (times "
              f"from then, by when answered): {recovery(run, scenario.what)}")
        kept = ", ".join(f"{p} {run.context[p][0]}/{run.context[p][1]}" for p in PHASES)
        print(f"follow-ups “{FOLLOW_UP}” answered with their session context: {kept}")
        for phase in PHASES:
            print(f"{phase}: {run.probes.get(phase, 'not probed')}")
    else:
        print(f"mid-run: {run.probes.get('before', 'not probed')}")
    print(repeats(run, new_wording))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="redis-restart")
    parser.add_argument("--seconds", type=float, default=30, help="load time (capped at 60)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--new-wording", action="store_true",
                        help="word every first question as never before (no query-embedding cache hits)")
    args = parser.parse_args()
    seconds = min(args.seconds, lb.MAX_SECONDS)
    with tempfile.TemporaryDirectory(prefix="yibao-fault-") as tmp:
        scenario = SCENARIOS[args.scenario](Path(tmp))
        log = Path(tmp) / "server.log"
        port = lb.free_port()
        base = f"http://{lb.HOST}:{port}"
        try:
            env = {**scenario.start(), "YIBAO_RATE_LIMIT_PER_MINUTE": "0"}
            proc = lb.start_server(port, access_log=False, env=env, log=log)
            try:
                ready = lb.wait_ready(base, proc, log=log)
                print(f"scenario {args.scenario}: server start to ready {ready:.1f} s (pid {proc.pid}, "
                      f"{os.cpu_count()} CPUs), {', '.join(env)}")
                run = asyncio.run(bench(base, scenario, seconds, args.concurrency, args.new_wording))
                report(run, scenario, args.concurrency, args.new_wording)
            finally:
                lb.stop_server(proc)
        finally:
            scenario.stop()


if __name__ == "__main__":
    main()
