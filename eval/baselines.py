"""Baselines scored in the same run as yibao, on the same items, by the same scorers.

- :class:`NaiveRagClient`: a textbook LangChain RAG. ``RecursiveCharacterTextSplitter`` over the RAW guide
  texts (``shared/seeds/<source_file>`` beside the repo, named by each guide's front-matter), embedded with
  the same embedder as yibao into a temporary in-memory Chroma; the top-4 chunks, concatenated, are the
  answer.
  Citations name the guide the chunk's file belongs to, with an empty section. No city, no intent.
- :class:`Bm25Client`: yibao's own index, BM25 only (scoped to the caller's city when one is given); the top-4
  chunk texts are the answer, cited with their doc_id and section.

Neither ever asks for clarification, refuses or calculates: they show what retrieval alone gets right.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from app.settings import PROJECT_ROOT
from ingest.documents import Guide, load_guides

SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"
TOP_K = 4
CHUNK_SIZE = 500
CHUNK_OVERLAP = 50


@dataclass(frozen=True)
class SourceText:
    """One raw text the naive baseline indexes, and the guides it may be attributed to."""

    name: str
    text: str
    guides: tuple[Guide, ...]


def _bigrams(text: str) -> set[str]:
    chars = "".join(text.split())
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def attribute(chunk: str, guides: Sequence[Guide]) -> str:
    """The doc_id of the guide a raw chunk belongs to.

    One guide per file in the usual case; when several guides were written from one file (a national document
    quoted inside a city guide), the guide whose body shares the most character bigrams with the chunk.
    """
    if len(guides) == 1:
        return guides[0].meta.doc_id
    grams = _bigrams(chunk)
    return max(guides, key=lambda g: len(grams & _bigrams(g.body))).meta.doc_id


def raw_sources(knowledge_dir: Path, seeds_dir: Path = SEEDS) -> tuple[list[SourceText], str]:
    """The raw seed texts named by the guides' ``source_file``, and a note saying what was used.

    Falls back to the guides' Markdown bodies when the seeds folder (or one of its files) is missing.
    """
    guides = load_guides(knowledge_dir)
    by_file: dict[str, list[Guide]] = {}
    for g in guides:
        by_file.setdefault(g.meta.source_file, []).append(g)
    if not seeds_dir.is_dir():
        note = (f"fallback: the raw seed folder {seeds_dir} is missing, so the naive baseline indexes the "
                f"knowledge Markdown bodies ({len(guides)} guides) instead of the raw texts")
        return [SourceText(g.meta.doc_id, g.body, (g,)) for g in guides], note
    sources, missing = [], []
    for name, group in sorted(by_file.items()):
        path = seeds_dir / name
        if path.is_file():
            sources.append(SourceText(name, path.read_text(encoding="utf-8", errors="replace"), tuple(group)))
        else:
            missing.append(name)
            sources += [SourceText(g.meta.doc_id, g.body, (g,)) for g in group]
    note = f"raw seed texts from {seeds_dir} ({len(by_file) - len(missing)} files)"
    if missing:
        note += f"; fallback to the knowledge Markdown bodies for missing files: {', '.join(missing)}"
    return sources, note


def _reply(answer: str, citations: list[dict[str, Any]], city: str | None) -> dict[str, Any]:
    return {"answer": answer, "city": city, "intent": None, "citations": citations, "calculation": None,
            "clarification": None, "refused": False, "session_id": None}


class NaiveRagClient:
    """Naive LangChain RAG over the raw guides: split, embed into Chroma, return the top-4 chunks."""

    name = "naive RAG"

    def __init__(self, *, knowledge_dir: Path, embeddings: Embeddings, seeds_dir: Path = SEEDS,
                 k: int = TOP_K, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.k, self.chunk_size, self.chunk_overlap = k, chunk_size, chunk_overlap
        self.sources, self.note = raw_sources(knowledge_dir, seeds_dir)
        splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
        texts, metas = [], []
        for src in self.sources:
            for piece in splitter.split_text(src.text):
                texts.append(piece)
                metas.append({"doc_id": attribute(piece, src.guides), "source": src.name})
        self.chunks = len(texts)
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        # an explicit embedding function: Chroma must never fall back to its downloading default model
        self.store = Chroma(collection_name=f"naive-{uuid.uuid4().hex[:12]}", client=client,
                            embedding_function=embeddings, collection_metadata={"hnsw:space": "cosine"})
        self.store.add_texts(texts, metadatas=metas)
        self._guides = {g.meta.doc_id: g.meta for s in self.sources for g in s.guides}

    def describe(self) -> str:
        return (f"RecursiveCharacterTextSplitter(chunk_size={self.chunk_size}, overlap={self.chunk_overlap}) "
                f"→ {self.chunks} chunks, same embedder, in-memory Chroma, top-{self.k} concatenated; "
                f"{self.note}")

    def ask(self, question: str, *, city: str | None, session_id: str | None) -> dict[str, Any]:
        docs = self.store.similarity_search(question, k=self.k)
        cites = []
        for i, d in enumerate(docs, 1):
            meta = self._guides[d.metadata["doc_id"]]
            cites.append({"n": i, "doc_id": meta.doc_id, "city": meta.city, "title": meta.title,
                          "section": "", "quote": d.page_content})
        return _reply("\n\n".join(d.page_content for d in docs), cites, None)


class Bm25Client:
    """yibao's index, BM25 only: the top-4 chunks of the caller's city (or of all cities) as the answer."""

    name = "BM25-only"

    def __init__(self, index: Any, k: int = TOP_K) -> None:
        self.index = index
        self.k = k

    def describe(self) -> str:
        return (f"yibao index {self.index.build_id}, BM25 only, city-scoped when the caller passes a city, "
                f"top-{self.k} chunk texts concatenated")

    def ask(self, question: str, *, city: str | None, session_id: str | None) -> dict[str, Any]:
        from app.retrieval.search import search

        hits = search(self.index, question, city=city or None, k=self.k, mode="bm25")
        cites = [{"n": i, "doc_id": h.chunk.doc_id, "city": h.chunk.city, "title": h.chunk.title,
                  "section": h.chunk.section, "quote": h.chunk.text, "chunk_id": h.chunk.chunk_id}
                 for i, h in enumerate(hits, 1)]
        return _reply("\n\n".join(h.chunk.text for h in hits), cites, city or None)
