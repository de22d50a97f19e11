"""BM25, dense and hybrid search over a :class:`LoadedIndex`, filtered to a city plus national documents."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import BaseModel, ConfigDict

from app.retrieval.fusion import rrf
from app.retrieval.index import LoadedIndex
from ingest.chunking import Chunk

Mode = Literal["hybrid", "bm25", "dense"]
NATIONAL = "national"


class Hit(BaseModel):
    chunk: Chunk
    score: float
    bm25_rank: int | None = None
    dense_rank: int | None = None


def city_scope(city: str | None) -> list[str] | None:
    """The cities a question may draw on: its own and the national documents (None = all)."""
    return None if not city else sorted({city, NATIONAL})


def bm25_ranking(index: LoadedIndex, query: str, cities: list[str] | None, n: int) -> list[tuple[str, float]]:
    tokens = index.tokenizer.tokenize(index.tokenizer.expand(query))
    if not tokens:
        return []
    bm25, rows = index.bm25(cities)
    scores = bm25.get_scores(tokens)
    order = np.argsort(-scores, kind="stable")[:n]
    return [(index.chunks[rows[i]].chunk_id, float(scores[i])) for i in order if scores[i] > 0]


def dense_ranking(index: LoadedIndex, query: str, cities: list[str] | None, n: int) -> list[tuple[str, float]]:
    where = {"city": {"$in": cities}} if cities else None
    vector = index.embeddings.embed_query(index.tokenizer.expand(query))
    return index.vectorstore.nearest(vector, n, where)


def search(
    index: LoadedIndex,
    query: str,
    *,
    city: str | None = None,
    k: int = 5,
    mode: Mode = "hybrid",
    candidates: int = 30,
    rrf_k: int = 60,
    prefer: Collection[tuple[str, str]] = (),
    prefer_weight: float = 1.0,
    keywords: str = "",
    dense_query: str | None = None,
) -> list[Hit]:
    """``prefer``: (doc_id, section) pairs the conversation is about (the sections the last answer cited). The
    candidates from them form a third ranking in the fusion, with ``prefer_weight``: a follow-up like
    "那要是去校外的医院看门诊呢" stays in the section it follows up on unless its own words point elsewhere.
    ``keywords``: guide terms for BM25 only (the dense search embeds the query alone: each token costs ~1 ms).
    ``dense_query``: what the dense search embeds, when it differs from what BM25 reads (default: ``query``)."""
    cities = city_scope(city)
    if mode == "bm25":
        ranked = bm25_ranking(index, query, cities, k)
        return [Hit(chunk=index.chunks[index.by_id[cid]], score=s, bm25_rank=r)
                for r, (cid, s) in enumerate(ranked, 1)]
    if mode == "dense":
        ranked = dense_ranking(index, query, cities, k)
        return [Hit(chunk=index.chunks[index.by_id[cid]], score=s, dense_rank=r)
                for r, (cid, s) in enumerate(ranked, 1)]
    sparse = [cid for cid, _ in bm25_ranking(index, f"{query} {keywords}" if keywords else query, cities, candidates)]
    dense = [cid for cid, _ in dense_ranking(index, dense_query or query, cities, candidates)]
    b_rank = {cid: r for r, cid in enumerate(sparse, 1)}
    d_rank = {cid: r for r, cid in enumerate(dense, 1)}
    rankings, weights = [sparse, dense], [1.0, 1.0]
    if prefer:
        pool = rrf([sparse, dense], k=rrf_k)
        rankings.append([cid for cid, _ in pool if _key(index.chunks[index.by_id[cid]]) in prefer])
        weights.append(prefer_weight)
    fused = rrf(rankings, k=rrf_k, weights=weights)[:k]
    return [
        Hit(chunk=index.chunks[index.by_id[cid]], score=s, bm25_rank=b_rank.get(cid), dense_rank=d_rank.get(cid))
        for cid, s in fused
    ]


def _key(chunk: Chunk) -> tuple[str, str]:
    return chunk.doc_id, chunk.section


class YibaoRetriever(BaseRetriever):
    """LangChain retriever over the hybrid search; ``city`` scopes it to one city plus national documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    index: LoadedIndex
    city: str | None = None
    k: int = 5
    mode: Mode = "hybrid"

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: object
    ) -> list[Document]:
        city = kwargs.get("city", self.city)
        hits = search(self.index, query, city=city if isinstance(city, str) else None, k=self.k, mode=self.mode)
        return [
            Document(page_content=h.chunk.text, metadata={**h.chunk.metadata(), "score": h.score}, id=h.chunk.chunk_id)
            for h in hits
        ]
