"""``yibao eval``: score yibao (in-process or any deployment over HTTP) and the baselines on a question set.

    yibao eval [--set dev|test|all|PATH.jsonl] [--against URL] [--report DIR] [--baselines/--no-baselines]
               [--min-accuracy FLOAT]

Also runnable alone: ``python -m eval.cli --set dev``. Exit codes: 0 done, 1 accuracy below
``--min-accuracy`` (the CI regression gate), 2 bad input or no index.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.settings import PROJECT_ROOT, Settings, get_settings
from eval.runner import SETS, Client, HttpClient, InProcessClient, below_floor, evaluate, load_set

REPORTS = PROJECT_ROOT / "eval" / "reports"
WARM_UP = "大学生医保怎么参保"

eval_app = typer.Typer(help="评测：题集打分、基线对比与报告", add_completion=False)
out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]错误：[/]{escape(message)}")
    return typer.Exit(code)


def _commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _system(s: Settings, against: str | None) -> tuple[Client, Any]:
    """The system under test, and the loaded index when in-process (the BM25 baseline reuses it)."""
    from app.retrieval.index import IndexNotReady

    if against:
        return HttpClient(against), None
    from app.answer.service import AnswerService

    try:
        service = AnswerService(s)
    except IndexNotReady as exc:
        raise _fail(str(exc)) from exc
    return InProcessClient(service), service.index


def _baselines(s: Settings, index: Any) -> tuple[list[Client], dict[str, str]]:
    from app.retrieval.index import IndexNotReady, load_index
    from eval.baselines import Bm25Client, NaiveRagClient
    from ingest.embeddings import make_embeddings

    clients: list[Client] = []
    notes: dict[str, str] = {}
    with err.status("基线：切分原始指南并嵌入内存 Chroma（朴素 LangChain RAG）…"):
        started = time.perf_counter()
        naive = NaiveRagClient(knowledge_dir=s.knowledge_dir, embeddings=make_embeddings(s.embedding))
        clients.append(naive)
        notes[naive.name] = f"{naive.describe()}; built in {time.perf_counter() - started:.1f} s"
    if index is None:  # --against: BM25 over this machine's index, if there is one
        try:
            index = load_index(s.index_dir, embedding_spec=s.embedding)
        except IndexNotReady as exc:
            err.print(f"[yellow]跳过 BM25 基线：[/]{escape(str(exc))}")
    if index is not None:
        bm25 = Bm25Client(index)
        clients.append(bm25)
        notes[bm25.name] = bm25.describe()
    return clients, notes


def _summary_table(report: dict[str, Any]) -> Table:
    table = Table("系统", "答案准确率", "事实召回", "引用准确", "引用命中", "p50 ms", "p95 ms")
    for name, sysrep in report["systems"].items():
        o = sysrep["summary"]["overall"]

        def pct(v: float | None) -> str:
            return "—" if v is None else f"{100 * v:.1f}%"

        lat = o["latency_ms"]
        table.add_row(name, pct(o["answer_accuracy"]), pct(o["fact_recall"]), pct(o["citation_accuracy"]),
                      pct(o["citation_hit_rate"]), f"{lat['p50']:.1f}" if lat["p50"] is not None else "—",
                      f"{lat['p95']:.1f}" if lat["p95"] is not None else "—")
    return table


@eval_app.callback(invoke_without_command=True)
def run(
    set_name: Annotated[str, typer.Option(
        "--set", help="题集：eval/datasets 下的文件名（dev、test、fresh、blind、blind2…），all（dev+test），或一个 JSONL 题集文件的路径")] = "dev",
    against: Annotated[str | None, typer.Option(
        "--against", help="评测运行中的服务（POST {URL}/api/ask），默认进程内调用")] = None,
    report_dir: Annotated[Path | None, typer.Option(
        "--report", help="报告目录（默认 eval/reports/<时间戳>/）", file_okay=False)] = None,
    baselines: Annotated[bool, typer.Option(
        "--baselines/--no-baselines", help="同一次运行中对比朴素 LangChain RAG 与纯 BM25 基线")] = True,
    min_accuracy: Annotated[float | None, typer.Option(
        "--min-accuracy", min=0.0, max=1.0,
        help="答案准确率下限（0–1），低于它退出码为 1（CI 回归门槛）")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="只评测前 N 题（调试用）")] = None,
    charts: Annotated[bool, typer.Option("--charts/--no-charts", help="生成 PNG 图表")] = True,
) -> None:
    """评测 yibao 与基线，写出 report.md、report.json 和图表。"""
    from eval.report import build_report, write_report
    from ingest.documents import load_cities

    s = get_settings()
    if set_name not in SETS and not set_name.endswith(".jsonl"):
        raise _fail(f"未知题集 “{set_name}”：可用 {'、'.join(SETS)}，或 .jsonl 文件路径")
    try:
        items = load_set(set_name)
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    items = items[:limit] if limit else items
    if not items:
        raise _fail("题集为空")
    started = dt.datetime.now()
    folder = report_dir or REPORTS / started.strftime("%Y%m%d-%H%M%S")
    system, index = _system(s, against)
    clients, notes = [system], {}
    if baselines:
        extra, notes = _baselines(s, index)
        clients += extra

    with Progress(TextColumn("[cyan]{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as bar:
        def progress(name: str, total: int) -> Callable[[], None]:
            task = bar.add_task(name, total=total)
            return lambda: bar.advance(task)

        run_ = evaluate(items, clients, progress, warm_up=WARM_UP)

    meta = {
        "set": set_name, "limit": limit, "started": started.isoformat(timespec="seconds"),
        "target": against or "in-process (AnswerService, embedded default)",
        "index": getattr(index, "build_id", None), "embedding": s.embedding, "commit": _commit(),
        "python": platform.python_version(),
        "city_names": {cid: c.name for cid, c in load_cities(s.knowledge_dir).items()},
        "descriptions": notes, "min_accuracy": min_accuracy,
    }
    report = build_report(run_, items, meta)
    write_report(report, folder, charts=charts)
    out.print(_summary_table(report))
    for name, c in report["comparison"].items():
        acc = "—" if c["accuracy_ratio"] is None else f"{c['accuracy_ratio']:.2f}×"
        lat = "—" if c["p50_latency_ratio"] is None else f"{c['p50_latency_ratio']:.2f}×"
        out.print(f"{report['system']} ÷ {name}：准确率 {acc}，p50 延迟 {lat}")
    out.print(f"报告：{folder / 'report.md'}")
    message = below_floor(run_, min_accuracy)
    if message:
        raise _fail(message, code=1)


def main() -> None:
    eval_app()


if __name__ == "__main__":
    main()
