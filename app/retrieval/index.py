"""Load a finished index build (chunks, BM25, Chroma) once; searching never touches the disk again.

The vectors are searched in the build's on-disk Chroma, or with ``chroma_url`` in the build's collection on a
Chroma server (:mod:`app.retrieval.server_vectors`; filled from the build if the server lacks it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings
from rank_bm25 import BM25Okapi

from app.retrieval.server_vectors import ServerVectors, VectorStoreUnavailable
from app.retrieval.vectors import LocalVectors
from app.settings import Settings
from ingest import index_store as store
from ingest.chunking import Chunk
from ingest.embeddings import make_embeddings
from ingest.errors import IngestError
from ingest.tokenize import DomainTokenizer

__all__ = ["IndexNotReady", "LoadedIndex", "VectorStoreUnavailable", "load_configured_index", "load_index"]
log = logging.getLogger(__name__)


class IndexNotReady(RuntimeError):
    """No usable index: the message says why and how to fix it (Chinese)."""


@dataclass
class LoadedIndex:
    build: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    tokens: list[list[str]]
    tokenizer: DomainTokenizer
    embeddings: Embeddings
    vectorstore: LocalVectors | ServerVectors  # the build's Chroma collection, on disk or on a server
    by_id: dict[str, int] = field(default_factory=dict)
    _bm25: dict[tuple[str, ...] | None, tuple[BM25Okapi, list[int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}

    def bm25(self, cities: list[str] | None) -> tuple[BM25Okapi, list[int]]:
        """A BM25 index over the chunks of ``cities`` (None = all) and their positions in ``chunks``.

        Scoped statistics matter: within one city, that city's name is in every chunk and must not count.
        """
        key = tuple(sorted(cities)) if cities else None
        if key not in self._bm25:
            rows = [i for i, c in enumerate(self.chunks) if key is None or c.city in key]
            self._bm25[key] = (BM25Okapi([self.tokens[i] for i in rows] or [[""]]), rows)
        return self._bm25[key]

    @property
    def build_id(self) -> str:
        return str(self.manifest["build_id"])


def load_index(
    index_dir: Path,
    *,
    embeddings: Embeddings | None = None,
    embedding_spec: str | None = None,
    query_threads: int | None = None,
    chroma_url: str | None = None,
) -> LoadedIndex:
    build = store.current_build(index_dir)
    if build is None:
        raise IndexNotReady(f"索引不存在（{index_dir}），请先运行 yibao ingest")
    try:
        store.check_build(build)
    except IngestError as exc:
        raise IndexNotReady(str(exc)) from exc
    manifest = store.read_manifest(build)
    if manifest is None:
        raise IndexNotReady(f"索引清单损坏（{build}），请运行 yibao ingest --rebuild")
    spec = manifest["embedding"]["spec"]
    if embedding_spec and embedding_spec != spec:
        raise IndexNotReady(f"索引用 “{spec}” 构建，当前配置为 “{embedding_spec}”，请运行 yibao ingest")
    try:
        chunks, tokens = store.read_chunks(build)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexNotReady(f"索引片段文件损坏（{build}）：{exc}；请运行 yibao ingest --rebuild") from exc
    if not chunks:
        raise IndexNotReady("索引为空，请运行 yibao ingest")
    if len(chunks) != manifest.get("chunk_count", len(chunks)):  # e.g. cut at a line end
        raise IndexNotReady(f"索引片段文件不完整（{build}：{len(chunks)}/{manifest['chunk_count']} 个片段），"
                            "请运行 yibao ingest")
    embedder = embeddings or make_embeddings(spec, threads=query_threads)
    vectorstore: LocalVectors | ServerVectors
    if chroma_url:
        vectorstore = ServerVectors(chroma_url, build, manifest)
        try:
            vectorstore.connect()  # fills a fresh server now rather than on the first question
        except VectorStoreUnavailable:  # the index still loads: dense search retries on every question
            log.warning("Chroma 服务器 %s 暂时无法连接，将在检索时重试", chroma_url)
        except ValueError as exc:  # a malformed URL
            raise IndexNotReady(str(exc)) from exc
    else:
        # embedding_function=None: questions are embedded by ``embedder``; Chroma must never embed
        vectorstore = LocalVectors(store.chroma_client(build / "chroma").get_collection(
            store.COLLECTION, embedding_function=None))
    return LoadedIndex(
        build=build, manifest=manifest, chunks=chunks, tokens=tokens,
        tokenizer=DomainTokenizer(build / "dict"), embeddings=embedder, vectorstore=vectorstore,
    )


def load_configured_index(settings: Settings, *, embeddings: Embeddings | None = None) -> LoadedIndex:
    """The index as the settings describe it (folder, embedding backend, question threads, Chroma server)."""
    return load_index(settings.index_dir, embeddings=embeddings, embedding_spec=settings.embedding,
                      query_threads=settings.query_threads or None, chroma_url=settings.chroma_url)
