"""Bounded HTTP load run against `POST /api/ask` from a second process (issue 6, "What must hold").

Starts the server as a subprocess on a free 127.0.0.1 port (the embedded default, the index in
YIBAO_INDEX_DIR or data/index), waits for /readyz, then, with the retrieval benchmark's questions
(eval/retrieval/*.jsonl, each with its city):

1. concurrency 1, every question once (a new question: its embedding is computed) → p50/p95;
2. concurrency 1, the same questions again (a repeated question: cached embedding) → p50/p95;
3. concurrency 16 for a fixed time over those repeated questions → requests/s, error count, p50/p95;
4. concurrency 16 for a fixed time, every request worded as never before (a filler word or punctuation
   added), so every request pays for its embedding → requests/s, error count, p50/p95.

The load phases together last at most ``--seconds`` (default 50, capped at 60); only 127.0.0.1 is contacted.
Figures are printed, never asserted.

    .venv/bin/python -m eval.load_bench [--seconds 45] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from math import nan
from pathlib import Path

import httpx

from eval.scoring import percentile

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "eval" / "retrieval"
HOST = "127.0.0.1"
MAX_SECONDS = 60.0


def load_questions() -> list[dict[str, str | None]]:
    rows = []
    for path in sorted(QUERIES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append({"question": row["query"], "city": row.get("city")})
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(port: int, access_log: bool, env: dict[str, str] | None = None,
                 log: Path | None = None) -> subprocess.Popen[bytes]:
    """The server as a subprocess; ``env`` adds settings (e.g. YIBAO_REDIS_URL) to this environment. Its log
    goes to the file ``log`` if given (a server logging a line per request, e.g. each 503 while a dependency
    is down, would fill an unread pipe and stall), else to a pipe that is read if it exits before ready."""
    cmd = [sys.executable, "-m", "app.server.main", "--host", HOST, "--port", str(port)]
    if not access_log:
        cmd.append("--no-access-log")
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "ANONYMIZED_TELEMETRY": "False", **(env or {})}
    with open(log, "ab") if log else contextlib.nullcontext(subprocess.PIPE) as err:
        return subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=err)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 120,
               log: Path | None = None) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            said = proc.stderr.read().decode() if proc.stderr else ""
            if log is not None:
                said = log.read_text(errors="replace")[-4000:]
            raise SystemExit("server exited:\n" + said)
        try:
            res = httpx.get(f"{base}/readyz", timeout=2)
            if res.status_code == 200:
                return time.perf_counter() - started
            if res.status_code == 503 and "ingest" in res.text:
                raise SystemExit(f"index not ready: {res.json()['reason']}")
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("server not ready in time")


async def one(http: httpx.AsyncClient, body: dict[str, str | None]) -> tuple[float, bool]:
    t = time.perf_counter()
    try:
        res = await http.post("/api/ask", json=body)
        ok = res.status_code == 200 and bool(res.json().get("answer"))
    except httpx.HTTPError:
        ok = False
    return 1000 * (time.perf_counter() - t), ok


async def sequential(http: httpx.AsyncClient, bodies: list[dict[str, str | None]],
                     until: float) -> tuple[list[float], int]:
    ms, errors = [], 0
    for body in bodies:
        if time.perf_counter() >= until:
            break
        took, ok = await one(http, body)
        ms.append(took)
        errors += not ok
    return ms, errors


def reworded(questions: list[dict[str, str | None]]) -> list[dict[str, str | None]]:
    """Every question in new wordings (same meaning): no request repeats an earlier one."""
    prefixes = ["请问", "老师，", "你好，", "想问下，", "同学问："]
    suffixes = ["？", "呀？", "呢？", "啊？", "。", "！", "～", "？？", "，谢谢", "，麻烦了"]
    return [{**q, "question": f"{pre}{q['question']}{post}"}
            for pre in prefixes for post in suffixes for q in questions]


async def for_seconds(workers: int, seconds: float, task: Callable[[int], Awaitable[None]]) -> float:
    """``workers`` coroutines call ``task(i)`` (i = 0, 1, 2 … spread over the workers) until ``seconds``
    have passed; returns the seconds it took."""
    started = time.perf_counter()
    until = started + seconds

    async def worker(w: int) -> None:
        i = w
        while time.perf_counter() < until:
            await task(i)
            i += workers

    await asyncio.gather(*(worker(w) for w in range(workers)))
    return time.perf_counter() - started


async def concurrent(http: httpx.AsyncClient, bodies: list[dict[str, str | None]], workers: int,
                     seconds: float) -> tuple[list[float], int, float]:
    ms: list[float] = []
    errors = 0

    async def task(i: int) -> None:
        nonlocal errors
        took, ok = await one(http, bodies[i % len(bodies)])
        ms.append(took)
        errors += not ok

    return ms, errors, await for_seconds(workers, seconds, task)


def row(name: str, ms: list[float], errors: int, extra: str = "") -> str:
    p50, p95 = (nan if v is None else v for v in (percentile(ms, 50), percentile(ms, 95)))
    return (f"{name:<44}{len(ms):>6}{errors:>7}{p50:>9.1f}{p95:>9.1f}"
            f"{statistics.mean(ms) if ms else nan:>9.1f}  {extra}")


async def bench(base: str, seconds: float, workers: int) -> None:
    questions = load_questions()
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        t0 = time.perf_counter()
        new_ms, new_err = await sequential(http, questions, t0 + seconds / 3)
        rep_ms, rep_err = await sequential(http, questions, time.perf_counter() + seconds / 6)
        left = max(2.0, seconds - (time.perf_counter() - t0))
        load_ms, load_err, took = await concurrent(http, questions, workers, left / 2)
        fresh_ms, fresh_err, fresh_took = await concurrent(http, reworded(questions), workers, left / 2)
    print(f"{len(questions)} questions (eval/retrieval/*.jsonl, with their city), POST /api/ask on {base}")
    print(f"{'':<44}{'n':>6}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}{'mean':>9}")
    print(row("concurrency 1, new question", new_ms, new_err))
    print(row("concurrency 1, repeated question", rep_ms, rep_err))
    print(row(f"concurrency {workers}, repeated, {took:.1f} s", load_ms, load_err,
              f"{len(load_ms) / took:.1f} req/s"))
    print(row(f"concurrency {workers}, all new, {fresh_took:.1f} s", fresh_ms, fresh_err,
              f"{len(fresh_ms) / fresh_took:.1f} req/s"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=50, help="total load time (capped at 60)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--access-log", action="store_true", help="let the server log every request")
    parser.add_argument("--url", help="use a server already running on 127.0.0.1 instead of starting one")
    args = parser.parse_args()
    seconds = min(args.seconds, MAX_SECONDS)
    if args.url:
        if httpx.URL(args.url).host != HOST:
            raise SystemExit("only 127.0.0.1 is allowed")
        asyncio.run(bench(args.url.rstrip("/"), seconds, args.concurrency))
        return
    port = free_port()
    base = f"http://{HOST}:{port}"
    # with the access log on, every request writes a line: to a file, never to a pipe nobody reads
    log = ROOT / "build" / "load_bench_server.log" if args.access_log else None
    if log:
        log.parent.mkdir(parents=True, exist_ok=True)
    proc = start_server(port, args.access_log, log=log)
    try:
        ready = wait_ready(base, proc, log=log)
        print(f"server start to ready: {ready:.1f} s (pid {proc.pid}, {os.cpu_count()} CPUs)")
        asyncio.run(bench(base, seconds, args.concurrency))
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
