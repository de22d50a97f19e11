"""Dense search against a build's collection on a Chroma server (``YIBAO_CHROMA_URL``).

Connects lazily and again after a failure, re-creates the collection from the build's stored vectors when the
server does not have it (a fresh or wiped server), and turns an unreachable server into
:class:`VectorStoreUnavailable`, which the API answers with 503; the next call tries again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.retrieval.vectors import Where, nearest
from ingest import chroma_server
from ingest.chroma_server import VectorStoreUnavailable

__all__ = ["ServerVectors", "VectorStoreUnavailable"]
log = logging.getLogger(__name__)


class ServerVectors:
    """The build's collection on a Chroma server; the same ``nearest`` as :class:`LocalVectors`."""

    def __init__(self, url: str, build: Path, manifest: dict[str, Any]) -> None:
        self.url = url
        self.collection_name = chroma_server.collection_name(manifest["build_id"])
        self._build, self._manifest = build, manifest
        self._client: Any = None
        self._collection: Any = None
        self._lock = threading.Lock()

    def connect(self) -> Any:
        """The collection; uploads the build's vectors first if the server lacks them."""
        with self._lock:
            if self._collection is None:
                if self._client is None:
                    self._client = chroma_server.http_client(self.url)
                with chroma_server.reachable(self.url):
                    if chroma_server.ensure_build(self._client, self._build, self._manifest):
                        log.info("Chroma 服务器缺少 %s：已从 %s 写入", self.collection_name, self._build)
                    # embedding_function=None: questions arrive embedded; Chroma must never embed
                    self._collection = self._client.get_collection(self.collection_name, embedding_function=None)
            return self._collection

    def nearest(self, vector: Sequence[float], k: int, where: Where = None) -> list[tuple[str, float]]:
        from chromadb.errors import NotFoundError

        collection = self.connect()
        try:
            with chroma_server.reachable(self.url):
                return nearest(collection, vector, k, where)
        except NotFoundError:  # the server lost the collection (restarted empty, or pruned by another host)
            with self._lock:
                if self._collection is collection:
                    self._collection = None
        with chroma_server.reachable(self.url):
            return nearest(self.connect(), vector, k, where)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                chroma_server.close(self._client)
            self._client = self._collection = None
