"""``yibao ingest``: validate every guide, chunk, embed only what changed, write a new build, swap it in."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel

from ingest import chroma_server
from ingest import index_store as store
from ingest.chunking import CHUNKER_VERSION, Chunk, chunk_markdown
from ingest.documents import Guide, load_cities, load_guides
from ingest.embeddings import make_embeddings
from ingest.tokenize import DomainTokenizer, dictionary_hash

Progress = Callable[[int, int], None]  # (done, total) embedded chunks
log = logging.getLogger(__name__)


class IngestReport(BaseModel):
    status: str  # "up_to_date" | "built"
    build_id: str
    build_dir: str
    documents: int
    chunks: int
    embedded: int = 0  # chunks whose embeddings were computed in this run
    reused: int = 0  # chunks whose embeddings came from the previous build
    removed: int = 0  # chunks of the previous build that are gone
    changed_docs: list[str] = []
    removed_docs: list[str] = []
    per_city: dict[str, int] = {}
    per_kind: dict[str, int] = {}
    chroma_collection: str | None = None  # the build's collection on the Chroma server, if one is configured
    uploaded: bool = False  # its vectors were (re)uploaded in this run
    seconds: float = 0.0


def _same_inputs(manifest: dict | None, *, spec: str, dense_chars: int, dict_hash: str, fingerprints: dict[str, str]) -> bool:
    return bool(
        manifest
        and manifest.get("chunker_version") == CHUNKER_VERSION
        and manifest.get("embedding", {}).get("spec") == spec
        and manifest.get("embedding", {}).get("dense_chars") == dense_chars
        and manifest.get("dict_hash") == dict_hash
        and {d: info["fingerprint"] for d, info in manifest.get("docs", {}).items()} == fingerprints
    )


def chunk_guides(guides: list[Guide], city_names: dict[str, str]) -> list[Chunk]:
    chunks: list[Chunk] = []
    for guide in guides:
        m = guide.meta
        skip = set(m.promotional_sections)
        chunks += [c for c in chunk_markdown(
            guide.body, doc_id=m.doc_id, city=m.city, city_name=city_names[m.city], title=m.title,
            school=m.school, policy_year=m.policy_year,
        ) if not skip.intersection(c.section.split(" > "))]
    return chunks


def _previous_vectors(build: Path | None, manifest: dict | None, embedding: dict) -> dict[str, np.ndarray]:
    old = (manifest or {}).get("embedding", {})
    if build is None or any(old.get(key) != value for key, value in embedding.items()):
        return {}
    try:
        chunks, _ = store.read_chunks(build)
        vectors = store.read_vectors(build)
    except (OSError, ValueError, KeyError):
        return {}  # a damaged previous build: embed everything again
    if len(vectors) != len(chunks):
        return {}
    return {c.chunk_id: vectors[i] for i, c in enumerate(chunks)}


def _intact(build: Path, manifest: dict) -> bool:
    """Every part is there and chunks, vectors and manifest agree: a truncated or garbled current build is not
    "up to date", so a plain ``yibao ingest`` repairs it."""
    try:
        store.check_build(build)
        chunks, _ = store.read_chunks(build)
        return len(chunks) == len(store.read_vectors(build)) == manifest.get("chunk_count")
    except Exception:
        return False


def _sync_server(client: Any, url: str | None, build: Path, manifest: dict[str, Any]) -> bool:
    with chroma_server.reachable(url):
        return chroma_server.ensure_build(client, build, manifest)


def _drop_server_builds(client: Any, url: str | None, build_ids: set[str]) -> None:
    """Pruned builds' collections; a failure only leaves them behind (the new build is already live)."""
    try:
        with chroma_server.reachable(url):
            chroma_server.delete_builds(client, sorted(build_ids))
    except chroma_server.VectorStoreUnavailable:
        log.warning("Chroma 服务器：旧索引的集合未能删除：%s", sorted(build_ids))


def run_ingest(
    *,
    knowledge_dir: Path,
    index_dir: Path,
    embedding_spec: str,
    embeddings: Embeddings | None = None,
    rebuild: bool = False,
    dense_chars: int = 0,
    keep_builds: int = 2,
    progress: Progress | None = None,
    chroma_url: str | None = None,
) -> IngestReport:
    """With ``chroma_url`` the build's vectors also go to that Chroma server (before the build goes
    live), a missing collection of an up-to-date build is uploaded again, and the collections of pruned
    builds are dropped."""
    started = time.perf_counter()
    guides = load_guides(knowledge_dir)  # validates everything before any index work
    cities = load_cities(knowledge_dir)
    city_names = {cid: c.name for cid, c in cities.items()}
    dict_dir = knowledge_dir / "dict"
    dict_hash = dictionary_hash(dict_dir)
    fingerprints = {g.meta.doc_id: g.fingerprint for g in guides}
    # an unreachable server fails here, before any index work
    with chroma_server.connected(chroma_url) as client, store.build_lock(index_dir):
        store.remove_stale_builds(index_dir)
        prev = store.current_build(index_dir)
        manifest = store.read_manifest(prev)
        prev_ok = prev is not None and manifest is not None and _intact(prev, manifest)
        if prev_ok and not rebuild and _same_inputs(
            manifest, spec=embedding_spec, dense_chars=dense_chars, dict_hash=dict_hash, fingerprints=fingerprints
        ):
            assert manifest is not None and prev is not None
            uploaded = client is not None and _sync_server(client, chroma_url, prev, manifest)
            return IngestReport(
                status="up_to_date", build_id=manifest["build_id"], build_dir=str(prev),
                documents=len(guides), chunks=manifest["chunk_count"], reused=manifest["chunk_count"],
                per_city=manifest["per_city"], per_kind=manifest.get("per_kind", {}),
                chroma_collection=chroma_server.collection_name(manifest["build_id"]) if client else None,
                uploaded=uploaded, seconds=time.perf_counter() - started,
            )

        chunks = chunk_guides(guides, city_names)
        texts = [c.search_text(city_names[c.city]) for c in chunks]
        dense = [c.dense_text(city_names[c.city], dense_chars) for c in chunks]
        previous = _previous_vectors(
            prev if prev_ok else None, manifest, {"spec": embedding_spec, "dense_chars": dense_chars}
        )
        known = {} if rebuild else previous
        todo = [i for i, c in enumerate(chunks) if c.chunk_id not in known]
        embedder = embeddings or make_embeddings(embedding_spec)
        fresh: dict[int, list[float]] = {}
        batch = 32
        for start in range(0, len(todo), batch):
            idx = todo[start : start + batch]
            for i, vec in zip(idx, embedder.embed_documents([dense[i] for i in idx]), strict=True):
                fresh[i] = vec
            if progress:
                progress(min(start + batch, len(todo)), len(todo))
        if progress and not todo:
            progress(0, 0)
        vectors = np.asarray(
            [fresh[i] if i in fresh else known[c.chunk_id] for i, c in enumerate(chunks)], dtype=np.float32
        )
        tokenizer = DomainTokenizer(dict_dir)
        tokens = [tokenizer.tokenize(t) for t in texts]

        # microseconds: build ids sort in creation order (pruning keeps the newest)
        build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + secrets.token_hex(3)
        tmp = store.builds_dir(index_dir) / f"{store.TMP_PREFIX}{build_id}"
        tmp.mkdir(parents=True)
        shutil.copytree(dict_dir, tmp / "dict") if dict_dir.exists() else (tmp / "dict").mkdir()
        store.write_chunks(tmp, chunks, tokens)
        np.save(tmp / store.VECTORS, vectors)
        store.write_chroma(tmp, chunks, vectors, texts)

        old_docs = set((manifest or {}).get("docs", {})) if prev_ok else set()
        old_fp = {d: i["fingerprint"] for d, i in (manifest or {}).get("docs", {}).items()} if prev_ok else {}
        per_city = dict(sorted(Counter(c.city for c in chunks).items()))
        per_kind = dict(sorted(Counter(c.kind for c in chunks).items()))
        per_doc = Counter(c.doc_id for c in chunks)
        new_manifest = {
            "format": 1,
            "build_id": build_id,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "chunker_version": CHUNKER_VERSION,
            "embedding": {"spec": embedding_spec, "dense_chars": dense_chars, "dim": int(vectors.shape[1]) if len(vectors) else 0},
            "dict_hash": dict_hash,
            "chunk_count": len(chunks),
            "per_city": per_city,
            "per_kind": per_kind,
            "docs": {
                g.meta.doc_id: {
                    "path": g.path, "fingerprint": g.fingerprint, "city": g.meta.city,
                    "title": g.meta.title, "policy_year": g.meta.policy_year,
                    "chunks": per_doc[g.meta.doc_id],
                }
                for g in guides
            },
        }
        # the manifest is written last: a folder without it is never taken for a finished build
        (tmp / store.MANIFEST).write_text(json.dumps(new_manifest, ensure_ascii=False, indent=1), "utf-8")
        if client is not None:  # before the swap: instances that pick up the new build find its vectors there
            _sync_server(client, chroma_url, tmp, new_manifest)
        before = {p.name for p in store.finished_builds(index_dir)}
        final = store.publish(index_dir, tmp, build_id, keep_builds)
        pruned = before - {p.name for p in store.finished_builds(index_dir)}
        if client is not None and pruned:
            _drop_server_builds(client, chroma_url, pruned)

    new_ids = {c.chunk_id for c in chunks}
    return IngestReport(
        status="built", build_id=build_id, build_dir=str(final), documents=len(guides), chunks=len(chunks),
        embedded=len(todo), reused=len(chunks) - len(todo),
        removed=len(set(previous) - new_ids),
        changed_docs=sorted(d for d, fp in fingerprints.items() if old_fp.get(d) != fp),
        removed_docs=sorted(old_docs - set(fingerprints)),
        per_city=per_city, per_kind=per_kind,
        chroma_collection=chroma_server.collection_name(build_id) if client is not None else None,
        uploaded=client is not None, seconds=time.perf_counter() - started,
    )
