"""Retrieval scoring (pure)."""

from __future__ import annotations

from collections.abc import Sequence


def first_relevant_rank(ranked: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant result, or None."""
    for rank, relevant in enumerate(ranked, start=1):
        if relevant:
            return rank
    return None


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of queries with a relevant result in the top k (one relevant result suffices)."""
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mrr(ranks: Sequence[int | None]) -> float:
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks) if ranks else 0.0
