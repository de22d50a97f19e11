"""In-process answer latency, warm, embedded default: p50/p95 over the retrieval benchmark's questions, with
BM25-only search in the same run as the baseline. Figures are printed, never asserted.

    .venv/bin/python -m eval.answer_bench [--rounds 2]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from app.answer.models import AskRequest
from app.answer.service import AnswerService
from app.retrieval.search import search
from app.settings import get_settings
from eval.retrieval_bench import load_queries
from eval.scoring import percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over the questions (after a warm-up)")
    args = parser.parse_args()
    started = time.perf_counter()
    service = AnswerService(get_settings())
    service.ask(AskRequest(question="武汉住院报销比例", city="wuhan"))
    cold = time.perf_counter() - started
    queries = load_queries()
    for q in queries:  # warm-up pass: jieba, Chroma and the query-embedding cache are hot afterwards
        service.ask(AskRequest(question=q["query"], city=q["city"]))
    answer_ms, bm25_ms, uncached_ms = [], [], []
    for r in range(args.rounds):
        for q in queries:
            t = time.perf_counter()
            service.ask(AskRequest(question=q["query"], city=q["city"]))
            answer_ms.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            search(service.index, q["query"], city=q["city"], mode="bm25")
            bm25_ms.append(1000 * (time.perf_counter() - t))
            if r == 0:  # the same question worded anew: no cached query embedding
                t = time.perf_counter()
                service.ask(AskRequest(question=q["query"] + "？", city=q["city"]))
                uncached_ms.append(1000 * (time.perf_counter() - t))
    print(f"cold start to first answer: {cold:.2f} s; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"{'':<36}{'p50 ms':>9}{'p95 ms':>9}{'mean':>9}")
    for name, values in (("answer (warm, repeated question)", answer_ms),
                         ("answer (warm, new wording)", uncached_ms), ("baseline: BM25 search only", bm25_ms)):
        print(f"{name:<36}{percentile(values, 50):>9.1f}{percentile(values, 95):>9.1f}{statistics.mean(values):>9.1f}")
    print(f"ratio answer/BM25 p50: {percentile(uncached_ms, 50) / max(percentile(bm25_ms, 50), 1e-6):.1f}x")


if __name__ == "__main__":
    main()
