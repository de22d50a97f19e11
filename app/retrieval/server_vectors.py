"""Dense search against a build's collection on a Chroma server (``YIBAO_CHROMA_URL``).

Connects lazily and again after a failure, re-creates the collection from the build's stored vectors when the
server does not have it (a fresh or wiped server), and turns an unreachable server into
:class:`VectorStoreUnavailable`, which the API answers with 503; the next call tries again.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from ingest import chroma_server
from ingest import index_store as store
from ingest.chroma_server import VectorStoreUnavailable

__all__ = ["ServerVectors", "VectorStoreUnavailable"]
log = logging.getLogger(__name__)


class ServerVectors:
    """Quacks like ``langchain_chroma.Chroma`` for :func:`app.retrieval.search.dense_ranking`."""

    def __init__(self, url: str, build: Path, manifest: dict[str, Any], embeddings: Embeddings) -> None:
        self.url = url
        self.collection_name = chroma_server.collection_name(manifest["build_id"])
        self._build, self._manifest, self._embeddings = build, manifest, embeddings
        self._client: Any = None
        self._store: Any = None  # langchain_chroma.Chroma over the collection
        self._lock = threading.Lock()

    def connect(self) -> Any:
        """The collection's vector store; uploads the build's vectors first if the server lacks them."""
        with self._lock:
            if self._store is None:
                from langchain_chroma import Chroma

                if self._client is None:
                    self._client = chroma_server.http_client(self.url)
                with chroma_server.reachable(self.url):
                    if chroma_server.ensure_build(self._client, self._build, self._manifest):
                        log.info("Chroma 服务器缺少 %s：已从 %s 写入", self.collection_name, self._build)
                    self._store = Chroma(
                        client=self._client, collection_name=self.collection_name,
                        embedding_function=self._embeddings, collection_metadata=store.COLLECTION_METADATA,
                    )
            return self._store

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None  # noqa: A002 - langchain's name
    ) -> list[tuple[Document, float]]:
        from chromadb.errors import NotFoundError

        vectors = self.connect()
        try:
            with chroma_server.reachable(self.url):
                return vectors.similarity_search_with_score(query, k=k, filter=filter)
        except NotFoundError:  # the server lost the collection (restarted empty, or pruned by another host)
            with self._lock:
                if self._store is vectors:
                    self._store = None
        with chroma_server.reachable(self.url):
            return self.connect().similarity_search_with_score(query, k=k, filter=filter)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                chroma_server.close(self._client)
            self._client = self._store = None
