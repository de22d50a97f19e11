"""Nearest chunks to a question vector in a build's Chroma collection (on disk, or on a Chroma server).

The question is embedded by the caller and passed as ``query_embeddings`` (Chroma never embeds, so it never
falls back to its downloading default model), and only ids and distances come back: the chunk texts are
already in memory (measured: 2.7 ms instead of 6.1 ms for 30 neighbours, documents and metadata not fetched).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Where = dict[str, Any] | None


def nearest(collection: Any, vector: Sequence[float], k: int, where: Where = None) -> list[tuple[str, float]]:
    """``(chunk id, cosine similarity)`` of the ``k`` nearest vectors, best first."""
    res = collection.query(query_embeddings=[list(vector)], n_results=k, where=where, include=["distances"])
    return [(cid, 1.0 - float(dist)) for cid, dist in zip(res["ids"][0], res["distances"][0], strict=True)]


class LocalVectors:
    """The build's own on-disk Chroma collection (the embedded default)."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    def nearest(self, vector: Sequence[float], k: int, where: Where = None) -> list[tuple[str, float]]:
        return nearest(self.collection, vector, k, where)
