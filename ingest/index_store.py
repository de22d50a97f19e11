"""The on-disk index: immutable build folders and an atomically swapped ``current`` link.

::

    <index_dir>/
      current -> builds/<build_id>      (symlink, replaced with os.replace: atomic)
      builds/<build_id>/manifest.json   (written last: a build without it is incomplete)
                        chunks.jsonl    (chunk text, metadata and BM25 tokens)
                        vectors.npy     (embeddings, row i = chunk i; reused by the next build)
                        dict/           (the jieba dictionary and synonyms the tokens were made with)
                        chroma/         (Chroma persistent collection over the same vectors)
      builds/.tmp-<build_id>/           (a build in progress; removed if found stale)

With ``YIBAO_CHROMA_URL`` a Chroma server also holds each build's vectors (``ingest/chroma_server.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest.chunking import Chunk
from ingest.errors import IngestError

COLLECTION = "yibao"
COLLECTION_METADATA = {"hnsw:space": "cosine"}
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
VECTORS = "vectors.npy"
TMP_PREFIX = ".tmp-"


def builds_dir(root: Path) -> Path:
    return root / "builds"


def finished_builds(root: Path) -> list[Path]:
    """Build folders, oldest first (build ids sort in creation order)."""
    folder = builds_dir(root)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(TMP_PREFIX)),
                  key=lambda p: p.name)


def current_build(root: Path) -> Path | None:
    link = root / "current"
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def read_manifest(build: Path | None) -> dict[str, Any] | None:
    if build is None:
        return None
    try:
        return json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """One ingest at a time per index folder (a second one waits)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_builds(root: Path) -> list[Path]:
    """Leftovers of an interrupted ingest (call under the lock)."""
    stale = [p for p in builds_dir(root).glob(TMP_PREFIX + "*") if p.is_dir()]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def write_chunks(build: Path, chunks: Sequence[Chunk], tokens: Sequence[list[str]]) -> None:
    with open(build / CHUNKS, "w", encoding="utf-8") as out:
        for chunk, toks in zip(chunks, tokens, strict=True):
            row = chunk.model_dump()
            row["tokens"] = toks
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_chunks(build: Path) -> tuple[list[Chunk], list[list[str]]]:
    chunks, tokens = [], []
    with open(build / CHUNKS, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            tokens.append(row.pop("tokens"))
            chunks.append(Chunk.model_validate(row))
    return chunks, tokens


def read_vectors(build: Path) -> np.ndarray:
    return np.load(build / VECTORS)


def chroma_client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    )


def write_chroma(build: Path, chunks: Sequence[Chunk], vectors: np.ndarray, documents: Sequence[str]) -> None:
    client = chroma_client(build / "chroma")
    # embedding_function=None: Chroma must never fall back to its downloading default model.
    collection = client.get_or_create_collection(
        COLLECTION, embedding_function=None, metadata=COLLECTION_METADATA
    )
    put_vectors(client, collection, chunks, vectors, documents)


def put_vectors(client: Any, collection: Any, chunks: Sequence[Chunk], vectors: np.ndarray,
                documents: Sequence[str]) -> None:
    """Write (or overwrite, by chunk id) chunks' vectors into a Chroma collection, in the client's batch size."""
    step = min(1000, client.get_max_batch_size())
    for i in range(0, len(chunks), step):
        part = chunks[i : i + step]
        collection.upsert(
            ids=[c.chunk_id for c in part],
            embeddings=vectors[i : i + step],
            documents=list(documents[i : i + step]),
            metadatas=[c.metadata() for c in part],
        )


def publish(root: Path, tmp: Path, build_id: str, keep: int) -> Path:
    """Rename the finished build into place and swap ``current`` atomically; prune old builds."""
    final = builds_dir(root) / build_id
    os.replace(tmp, final)
    link = root / "current"
    staging = root / f".current-{build_id}"
    if staging.is_symlink() or staging.exists():
        staging.unlink()
    staging.symlink_to(Path("builds") / build_id)
    os.replace(staging, link)  # atomic on POSIX: readers see the old or the new build, never neither
    builds = finished_builds(root)
    for old in builds[:-keep] if keep > 0 else []:
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def check_build(build: Path) -> None:
    """Raise IngestError if a build folder is missing a part (used by readers and repair)."""
    for name in (MANIFEST, CHUNKS, VECTORS, "chroma"):
        if not (build / name).exists():
            raise IngestError(build, f"索引不完整：缺少 {name}，请运行 yibao ingest 重建")
