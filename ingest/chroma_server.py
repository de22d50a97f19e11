"""Vectors on a Chroma server (``YIBAO_CHROMA_URL``): one collection per index build, ``yibao_<build_id>``.

The build on disk stays complete (``vectors.npy`` and its own on-disk Chroma): the server holds a copy that
any instance can (re)create from the build. That is how a fresh or wiped server gets filled, by ``yibao
ingest`` or by the first instance that loads the build; uploads are upserts, so two instances filling at once
agree.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ingest import index_store as store

PREFIX = "yibao_"
# a stuck server must not hold a request for ever (chromadb's own client waits without limit)
TIMEOUT = httpx.Timeout(15.0, connect=3.0)
log = logging.getLogger(__name__)


class VectorStoreUnavailable(RuntimeError):
    """The Chroma server cannot be reached (Chinese message); the next call tries again."""

    def __init__(self, url: str | None) -> None:
        super().__init__("向量库暂时不可用（无法连接 Chroma 服务器），请稍后再试")
        self.url = url


def collection_name(build_id: str) -> str:
    return PREFIX + build_id


@contextlib.contextmanager
def reachable(url: str | None) -> Iterator[None]:
    """Turn a network failure talking to the server into :class:`VectorStoreUnavailable`."""
    try:
        yield
    except httpx.TransportError as exc:  # refused, reset, timed out, name not resolved
        raise VectorStoreUnavailable(url) from exc


def http_client(url: str) -> Any:
    """A chromadb HttpClient for ``http(s)://host:port`` (telemetry off); raises if the server is down."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Chroma 服务器地址应形如 http://主机:端口，而不是 “{url}”")
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:  # with a time limit first: chromadb's own first request would wait for the OS to give up
        httpx.get(f"{parts.scheme}://{host}:{port}/api/v2/heartbeat", timeout=TIMEOUT).raise_for_status()
        client = chromadb.HttpClient(
            host=parts.hostname, port=port, ssl=ssl, settings=ChromaSettings(anonymized_telemetry=False)
        )
    except (httpx.HTTPError, ValueError) as exc:  # chromadb says "Could not connect …" with a ValueError
        raise VectorStoreUnavailable(url) from exc
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = TIMEOUT
    return client


def ensure_build(client: Any, build: Path, manifest: dict[str, Any]) -> bool:
    """Make sure the server holds the build's complete collection; upload it from the build's files if not.

    Returns True if vectors were uploaded. Cheap when the collection is there (one count).
    """
    # embedding_function=None: Chroma must never fall back to its downloading default model.
    collection = client.get_or_create_collection(
        collection_name(manifest["build_id"]), embedding_function=None, metadata=store.COLLECTION_METADATA
    )
    if collection.count() == manifest["chunk_count"]:
        return False
    chunks, _ = store.read_chunks(build)
    vectors = store.read_vectors(build)
    # documents are never read back from the server (search uses ids and metadata): the plain chunk text
    store.put_vectors(client, collection, chunks, vectors, [c.text for c in chunks])
    log.info("Chroma 服务器：已写入 %s（%d 个向量）", collection.name, len(chunks))
    return True


def delete_builds(client: Any, build_ids: Iterable[str]) -> list[str]:
    """Drop the collections of pruned builds; returns the names that were there."""
    from chromadb.errors import NotFoundError

    deleted = []
    for build_id in build_ids:
        try:
            client.delete_collection(collection_name(build_id))
            deleted.append(collection_name(build_id))
        except NotFoundError:
            pass
    return deleted


def close(client: Any) -> None:
    with contextlib.suppress(Exception):
        client.close()


@contextlib.contextmanager
def connected(url: str | None) -> Iterator[Any]:
    """A client for ``url`` closed afterwards, or None when no server is configured."""
    client = http_client(url) if url else None
    try:
        yield client
    finally:
        if client is not None:
            close(client)
