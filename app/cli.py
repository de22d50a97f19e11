"""The ``yibao`` command line: ingest, search, chat, convert."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.calculator.cli import calc_app
from app.settings import Settings, get_settings
from eval.cli import eval_app

cli = typer.Typer(help="医保助手 yibao：大学生医保问答", no_args_is_help=True, add_completion=False)
cli.add_typer(calc_app, name="calc", help="医保待遇与参保资格计算器（输出 JSON）")
cli.add_typer(eval_app, name="eval", help="评测：题集打分、基线对比与报告（report.md / report.json / PNG 图表）")
out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]错误：[/]{escape(message)}")
    return typer.Exit(code)


def _settings(knowledge: Path | None = None) -> Settings:
    s = get_settings()
    return s.model_copy(update={"knowledge_dir": knowledge}) if knowledge else s


@cli.command()
def ingest(
    knowledge: Annotated[Path | None, typer.Option(help="知识库目录（默认 YIBAO_KNOWLEDGE_DIR）")] = None,
    rebuild: Annotated[bool, typer.Option(help="忽略已有索引，全部重建")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度条")] = False,
) -> None:
    """构建或增量更新索引（Chroma + BM25；设置了 YIBAO_CHROMA_URL 时向量也写入 Chroma 服务器）。"""
    from ingest.chroma_server import VectorStoreUnavailable
    from ingest.errors import IngestError
    from ingest.pipeline import run_ingest

    s = _settings(knowledge)
    with Progress(
        TextColumn("[cyan]嵌入片段"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, disable=quiet, transient=True,
    ) as bar:
        task = bar.add_task("embed", total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = run_ingest(
                knowledge_dir=s.knowledge_dir, index_dir=s.index_dir, embedding_spec=s.embedding,
                rebuild=rebuild, dense_chars=s.dense_chars, keep_builds=s.keep_builds, progress=on_progress,
                chroma_url=s.chroma_url,
            )
        except (IngestError, VectorStoreUnavailable) as exc:
            raise _fail(f"{exc}\n已有索引未改动。") from exc
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    if report.status == "up_to_date":
        out.print(f"索引已是最新（{report.build_id}，{report.chunks} 个片段），无需更新。")
    else:
        out.print(
            f"索引已更新：{report.build_id}，{report.documents} 份文档，{report.chunks} 个片段；"
            f"新嵌入 {report.embedded}，复用 {report.reused}，移除 {report.removed}，用时 {report.seconds:.1f} 秒。"
        )
        if report.changed_docs:
            out.print("有变化的文档：" + "、".join(report.changed_docs))
        if report.removed_docs:
            out.print("已删除的文档：" + "、".join(report.removed_docs))
    if report.chroma_collection:
        done = "已写入" if report.uploaded else "已有"
        out.print(f"Chroma 服务器 {s.chroma_url}：{done}集合 {report.chroma_collection}")
    table = Table("城市", "片段数")
    for city, n in report.per_city.items():
        table.add_row(city, str(n))
    out.print(table)


def _check_city(city: str | None, s: Settings) -> None:
    if city is None:
        return
    from ingest.documents import load_cities

    cities = load_cities(s.knowledge_dir)
    if city not in cities:
        raise _fail(f"未知城市 “{city}”，可用：{'、'.join(cities)}")


def _load(s: Settings):  # noqa: ANN202 - LoadedIndex, imported lazily
    from app.retrieval.index import IndexNotReady, load_configured_index

    try:
        return load_configured_index(s)
    except IndexNotReady as exc:
        raise _fail(str(exc)) from exc


@cli.command()
def search(
    query: Annotated[str, typer.Argument(help="问题")],
    city: Annotated[str | None, typer.Option(help="城市 id：chongqing/dazhou/karamay/shanghai/wuhan")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="返回片段数")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid | bm25 | dense")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """检索调试：打印最相关的片段及得分。"""
    from app.retrieval.index import VectorStoreUnavailable
    from app.retrieval.search import search as run_search

    s = get_settings()
    if not query.strip():
        raise _fail("问题不能为空")
    if mode not in ("hybrid", "bm25", "dense"):
        raise _fail("mode 只能是 hybrid、bm25 或 dense")
    _check_city(city, s)
    try:
        hits = run_search(_load(s), query, city=city, k=k, mode=mode, candidates=s.candidate_k, rrf_k=s.rrf_k)  # type: ignore[arg-type]
    except VectorStoreUnavailable as exc:
        raise _fail(f"{exc}（{exc.url}）") from exc
    if as_json:
        rows = [
            {**h.chunk.model_dump(), "score": round(h.score, 6), "bm25_rank": h.bm25_rank, "dense_rank": h.dense_rank}
            for h in hits
        ]
        sys.stdout.write(json.dumps({"query": query, "city": city, "mode": mode, "hits": rows}, ensure_ascii=False, indent=1) + "\n")
        return
    if not hits:
        out.print("没有找到相关内容。")
    for rank, h in enumerate(hits, 1):
        c = h.chunk
        out.print(f"[bold]{rank}. {h.score:.4f}[/] [dim]{c.chunk_id}[/] {c.city} · {c.doc_id} · {c.kind}")
        out.print(f"   [green]{c.section}[/]")
        out.print("   " + c.text.replace("\n", "\n   ")[:400])


def _service(s: Settings):  # noqa: ANN202 - AnswerService, imported lazily
    from app.answer.service import AnswerService
    from app.retrieval.index import IndexNotReady

    try:
        return AnswerService(s)
    except IndexNotReady as exc:
        raise _fail(str(exc)) from exc


@cli.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="问题（用 --file 时省略）")] = None,
    city: Annotated[str | None, typer.Option(help="城市 id：chongqing/dazhou/karamay/shanghai/wuhan")] = None,
    session: Annotated[str | None, typer.Option("--session", help="会话 id（沿用上文的城市和意图）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（与 POST /api/ask 相同）")] = False,
    file: Annotated[Path | None, typer.Option("--file", exists=True, dir_okay=False,
                                              help="JSONL：每行 {id, question, city?, session?}")] = None,
) -> None:
    """回答问题（嵌入式默认模式：检索 + 计算器，不需要大模型）。"""
    from pydantic import ValidationError

    from app.answer.models import AskRequest
    from app.retrieval.index import VectorStoreUnavailable
    from app.server.limits import clean_question

    s = get_settings()

    def cleaned(text: str) -> str:  # the server's limit and character rules (InputTooLong is a ValueError)
        return clean_question(text, max_chars=s.max_question_chars)

    if (question is None) == (file is None):
        raise _fail("请给出一个问题，或用 --file 指定问题文件（二选一）")
    svc = _service(s)
    if file is None:
        try:
            req = AskRequest(question=cleaned(question or ""), city=city, session_id=session)
            res = svc.ask(req)
        except (ValidationError, ValueError) as exc:
            raise _fail(_validation_message(exc)) from exc
        except VectorStoreUnavailable as exc:
            raise _fail(f"{exc}（{exc.url}）") from exc
        if as_json:
            sys.stdout.write(res.model_dump_json(exclude_none=False) + "\n")
        else:
            out.print(res.answer)
        return
    lines = file.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = None
        try:
            row = json.loads(line)
            text = row.get("question", "")
            req = AskRequest(question=cleaned(text) if isinstance(text, str) else text, city=row.get("city") or city,
                             session_id=row.get("session") or row.get("session_id"), id=row.get("id"))
            payload = svc.ask(req).model_dump(mode="json")
        except (ValidationError, ValueError, AttributeError) as exc:
            payload = {"id": row.get("id") if isinstance(row, dict) else None,
                       "error": f"第 {number} 行：{_validation_message(exc)}"}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def _validation_message(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        names = {"question": "问题", "city": "城市", "session_id": "会话 id", "id": "题目 id"}
        return "；".join(f"{names.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else '输入'}：{e['msg']}"
                        for e in exc.errors())
    if isinstance(exc, json.JSONDecodeError):
        return f"不是合法的 JSON（{exc.msg}）"
    return str(exc)


@cli.command()
def chat(city: Annotated[str | None, typer.Option(help="城市 id")] = None) -> None:
    """终端对话（当前显示检索到的指南原文）。输入 exit 退出。"""
    from app.retrieval.search import search as run_search

    s = get_settings()
    _check_city(city, s)
    index = _load(s)
    out.print("医保助手（离线检索模式）。输入问题，exit 退出。" + (f" 城市：{city}" if city else ""))
    while True:
        try:
            question = input("你：").strip()
        except (EOFError, KeyboardInterrupt):
            out.print()
            return
        if question in {"exit", "quit", "退出"}:
            return
        if not question:
            continue
        hits = run_search(index, question, city=city, k=3, candidates=s.candidate_k, rrf_k=s.rrf_k)
        for n, h in enumerate(hits, 1):
            out.print(f"[{n}] [green]{h.chunk.title} › {h.chunk.section}[/]\n{h.chunk.text}\n")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="端口")] = 8000,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="是否记录每个请求")] = True,
) -> None:
    """启动 HTTP 服务：API、学生聊天页 /、辅导员台 /counselor、接口文档 /docs（默认 http://127.0.0.1:8000）。"""
    from app.server.main import run

    run(host, port, access_log=access_log)


@cli.command()
def convert(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".txt / .docx / .pdf 文件")],
) -> None:
    """把 .txt/.docx/.pdf 指南转成知识库 Markdown 格式（输出到标准输出，供人工校对）。"""
    from ingest import convert as conv

    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            body = conv.docx_to_markdown(path)
        elif suffix == ".pdf":
            body = conv.pdf_to_markdown(path)
        elif suffix == ".txt":
            text = path.read_text(encoding="utf-8")
            has_meta = text.lstrip("\ufeff").startswith("---")
            body = conv.text_file_to_markdown(text, "") if has_meta else conv.plain_text_to_markdown(text)
        else:
            raise _fail("只支持 .txt、.docx、.pdf")
    except typer.Exit:
        raise
    except Exception as exc:  # conversion libraries raise many kinds of errors on damaged files
        raise _fail(f"{path}: 无法转换（{type(exc).__name__}），文件可能已损坏或不是该格式") from exc
    sys.stdout.write(body)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
