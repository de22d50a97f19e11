"""The eval runner (eval/runner.py, eval/cli.py), its report (eval/report.py, eval/charts.py) and the
baselines (eval/baselines.py), on a handful of dev items against the real index (session fixtures
``full_index`` / ``full_loaded``); HTTP mode against a tiny local FastAPI wrapper of the same AnswerService.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import KNOWLEDGE, free_port, squash
from typer.testing import CliRunner

from app.answer.service import AnswerService
from app.settings import Settings, get_settings
from eval.baselines import SEEDS, Bm25Client, NaiveRagClient, attribute, raw_sources
from eval.charts import write_charts
from eval.cli import eval_app
from eval.report import build_report, render_markdown, write_report
from eval.runner import HttpClient, InProcessClient, below_floor, evaluate, load_set, run_items
from ingest.documents import load_guides

# a plain item, a multi-turn dialogue, a calculator item, national, ambiguous city, unknown city, off-topic
IDS = ("dev-wuhan-023", "dev-wuhan-002", "dev-wuhan-032", "dev-national-001", "dev-general-001",
       "dev-general-008", "dev-general-012")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    by_id = {it["id"]: it for it in load_set("dev")}
    return [by_id[i] for i in IDS]


@pytest.fixture(scope="module")
def service(full_index: Path, full_loaded) -> AnswerService:  # noqa: ANN001
    return AnswerService(Settings(knowledge_dir=KNOWLEDGE, index_dir=full_index), index=full_loaded)


@pytest.fixture(scope="module")
def naive(tmp_path_factory: pytest.TempPathFactory, embedder) -> NaiveRagClient:  # noqa: ANN001
    """The naive baseline over short copies of the raw texts (embedding them all takes most of a minute)."""
    seeds = tmp_path_factory.mktemp("seeds")
    for g in load_guides(KNOWLEDGE):
        raw = SEEDS / g.meta.source_file
        text = raw.read_text(encoding="utf-8") if raw.is_file() else g.body
        (seeds / g.meta.source_file).write_text(text[:1500], encoding="utf-8")
    return NaiveRagClient(knowledge_dir=KNOWLEDGE, embeddings=embedder, seeds_dir=seeds, chunk_size=200,
                          chunk_overlap=20)


@pytest.fixture(scope="module")
def run(items, service, naive, full_loaded) -> dict[str, Any]:  # noqa: ANN001
    clients = [InProcessClient(service), naive, Bm25Client(full_loaded)]
    return evaluate(items, clients, warm_up="大学生医保怎么参保")


@pytest.fixture(scope="module")
def report_dir(run, items, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: ANN001
    folder = tmp_path_factory.mktemp("report")
    meta = {"set": "dev", "started": "2026-01-01T00:00:00", "target": "in-process",
            "city_names": {"wuhan": "武汉"}, "descriptions": {"naive RAG": "short raw texts, chunk_size=200"}}
    write_report(build_report(run, items, meta), folder)
    return folder


# ---- report ----------------------------------------------------------------------------------------------
def test_report_files_exist_and_parse(report_dir: Path, items: list[dict[str, Any]]) -> None:
    data = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert data["system"] == "yibao" and data["baselines"] == ["naive RAG", "BM25-only"]
    assert data["items"] == len(items) and data["questions"] > len(items)  # the dialogue has several turns
    for name, sysrep in data["systems"].items():
        overall = sysrep["summary"]["overall"]
        assert overall["n"] == len(items), name
        assert 0 <= overall["answer_accuracy"] <= 1
        assert overall["latency_ms"]["p50"] > 0
        assert [r["id"] for r in sysrep["results"]] == list(IDS)
    assert set(data["comparison"]) == {"naive RAG", "BM25-only"}
    assert all(r["id"] in IDS and r["question"] for r in data["worst"])
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    for heading in ("## Overall", "## By city", "## By intent", "## By tag", "## Worst 20", "## Charts"):
        assert heading in md
    assert "| metric | **yibao** | naive RAG | BM25-only |" in md
    assert "yibao ÷ naive RAG" in md and "yibao ÷ BM25-only" in md
    assert "武汉 (wuhan)" in md
    for png in ("accuracy_by_city.png", "accuracy_by_intent.png", "latency.png"):
        assert (report_dir / png).read_bytes()[:8] == PNG
        assert f"]({png})" in md


def test_worst_items_show_question_answer_and_what_was_missing(run, items) -> None:  # noqa: ANN001
    report = build_report(run, items, {"set": "dev"})
    wrong = [r for r in run["systems"]["BM25-only"]["results"] if not r["correct"]]
    assert wrong  # BM25 cannot ask for the city nor refuse
    bm25_first = build_report({"items": run["items"], "systems": {"BM25-only": run["systems"]["BM25-only"]}},
                              items, {"set": "dev"})
    assert len(bm25_first["worst"]) == len(wrong)
    w = next(w for w in bm25_first["worst"] if w["id"] == "dev-general-001")
    assert w["question"] == "医保一年交多少钱" and w["answer"]
    assert "expected a clarifying question, got none" in w["reasons"]
    md = render_markdown(bm25_first)
    assert "`dev-general-001`" in md and "expected a clarifying question" in md
    assert report["worst"] == sorted(report["worst"], key=lambda w: w["fact_recall"] or 0.0)


def test_charts_fall_back_to_english_without_a_cjk_font(run, items, tmp_path: Path) -> None:  # noqa: ANN001
    report = build_report(run, items, {"city_names": {"wuhan": "武汉"}})
    drawn = write_charts(report, tmp_path, fonts=())
    assert drawn["font"] is None
    for name in drawn["files"].values():
        assert (tmp_path / name).read_bytes()[:8] == PNG


# ---- baselines -------------------------------------------------------------------------------------------
def test_baselines_are_scored_on_the_same_items(run) -> None:  # noqa: ANN001
    guides = {g.meta.doc_id for g in load_guides(KNOWLEDGE)}
    for name in ("naive RAG", "BM25-only"):
        results = run["systems"][name]["results"]
        assert [r["id"] for r in results] == list(IDS)
        for r in results:
            assert all(not t["got"]["clarified"] and not t["got"]["refused"] for t in r["turns"])
            assert r["latencies_ms"] and all(t["answer"] for t in r["turns"])
        by_id = {r["id"]: r for r in results}
        assert not by_id["dev-general-001"]["correct"]  # must ask for the city
        assert not by_id["dev-general-012"]["correct"]  # must refuse
        assert by_id["dev-general-012"]["intent_ok"] is False  # baselines have no intent
        cited = [c for r in results for turn in r["citations"] for c in turn]
        assert cited and all(c.split(" › ")[0] in guides for c in cited)
    naive_cites = [c for r in run["systems"]["naive RAG"]["results"] for t in r["citations"] for c in t]
    assert all(" › " not in c for c in naive_cites)  # doc_id with an empty section
    bm25_cites = [c for r in run["systems"]["BM25-only"]["results"] for t in r["citations"] for c in t]
    assert all(" › " in c for c in bm25_cites)
    assert run["systems"]["yibao"]["summary"]["overall"]["answer_accuracy"] > \
        run["systems"]["BM25-only"]["summary"]["overall"]["answer_accuracy"]


def test_bm25_baseline_returns_four_chunks_of_the_given_city(full_loaded) -> None:  # noqa: ANN001
    res = Bm25Client(full_loaded).ask("住院起付线是多少", city="wuhan", session_id=None)
    assert len(res["citations"]) == 4 and res["city"] == "wuhan" and res["intent"] is None
    assert {c["city"] for c in res["citations"]} <= {"wuhan", "national"}
    assert res["answer"] == "\n\n".join(c["quote"] for c in res["citations"])
    assert res["clarification"] is None and res["refused"] is False


def test_naive_baseline_answers_with_top_four_raw_chunks(naive: NaiveRagClient) -> None:
    res = naive.ask("武汉大学生住院报销比例", city="wuhan", session_id=None)
    assert len(res["citations"]) == 4 and res["city"] is None and res["intent"] is None
    assert all(c["section"] == "" for c in res["citations"])
    assert res["answer"] == "\n\n".join(c["quote"] for c in res["citations"])
    assert naive.note.startswith("raw seed texts")


def test_raw_sources_fall_back_to_the_markdown_bodies(tmp_path: Path) -> None:
    sources, note = raw_sources(KNOWLEDGE, tmp_path / "no-such-folder")
    assert note.startswith("fallback:") and "no-such-folder" in note
    assert len(sources) == len(load_guides(KNOWLEDGE)) and all(len(s.guides) == 1 for s in sources)


def test_a_file_shared_by_two_guides_is_attributed_by_overlap() -> None:
    guides = [g for g in load_guides(KNOWLEDGE) if g.meta.source_file == "002_9a416945e90f025c.txt"]
    assert {g.meta.doc_id for g in guides} == {"karamay_cupk_2026", "national_ybf_2020_33"}
    assert attribute("大中专学生原则上应在学籍地参加居民医保。若大中专学生为建档立卡贫困人口", guides) \
        == "national_ybf_2020_33"
    assert attribute("克拉玛依市城乡居民基本医疗保险缴费工作的通知 校区学生", guides) == "karamay_cupk_2026"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds is not beside the repo")
def test_raw_sources_read_the_seed_files_named_by_the_guides() -> None:
    sources, note = raw_sources(KNOWLEDGE)
    assert note.startswith("raw seed texts") and "fallback" not in note
    assert {s.name for s in sources} == {g.meta.source_file for g in load_guides(KNOWLEDGE)}


# ---- HTTP mode -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server_url(live_url: str) -> str:
    """The real yibao server (tests/conftest.py) over the shared index: scoring a deployment over HTTP."""
    return live_url


def test_http_mode_scores_a_deployment_like_in_process(server_url: str, run, items) -> None:  # noqa: ANN001
    results = run_items(items, HttpClient(server_url))
    local = run["systems"]["yibao"]["results"]
    assert [r["correct"] for r in results] == [r["correct"] for r in local]
    answers = [[t["answer"] for t in r["turns"]] for r in results]
    assert answers == [[t["answer"] for t in r["turns"]] for r in local]
    assert all("errors" not in r for r in results)


def test_http_errors_score_as_wrong_answers_with_the_reason(items) -> None:  # noqa: ANN001
    results = run_items(items[:1], HttpClient(f"http://127.0.0.1:{free_port()}", timeout=2))
    assert not results[0]["correct"] and results[0]["errors"]
    assert results[0]["reasons"][0].startswith("call failed: ConnectError")


# ---- command line ----------------------------------------------------------------------------------------
@pytest.fixture
def cli_env(full_index: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("YIBAO_INDEX_DIR", str(full_index))
    monkeypatch.setenv("YIBAO_KNOWLEDGE_DIR", str(KNOWLEDGE))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _half_right_set(path: Path) -> Path:
    """Two items: one any answer passes (no facts), one none can pass (an impossible fact): accuracy 0.5."""
    expect = {"city": "wuhan", "intent": "pay", "facts": [], "forbidden": [], "sources": [], "clarify": False,
              "refuse": False}
    rows = [{"id": "t-pass", "question": "武汉大学生医保一年交多少钱", "city": "wuhan", "expect": expect},
            {"id": "t-fail", "question": "武汉大学生医保一年交多少钱", "city": "wuhan",
             "expect": {**expect, "facts": [["这句话不会出现在任何回答里"]]}}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.usefixtures("cli_env")
def test_min_accuracy_fails_below_the_floor_and_passes_above(tmp_path: Path) -> None:
    qs = _half_right_set(tmp_path / "two.jsonl")
    args = ["--set", str(qs), "--no-baselines", "--no-charts", "--report"]
    below = CliRunner().invoke(eval_app, [*args, str(tmp_path / "r1"), "--min-accuracy", "0.6"])
    assert below.exit_code == 1, below.output
    assert "答案准确率0.500低于下限0.600" in squash(below.output)
    above = CliRunner().invoke(eval_app, [*args, str(tmp_path / "r2"), "--min-accuracy", "0.4"])
    assert above.exit_code == 0, above.output
    data = json.loads((tmp_path / "r2" / "report.json").read_text(encoding="utf-8"))
    assert data["systems"]["yibao"]["summary"]["overall"]["answer_accuracy"] == 0.5
    assert data["baselines"] == [] and (tmp_path / "r2" / "report.md").is_file()


def test_below_floor_is_the_gate() -> None:
    run_ = {"systems": {"yibao": {"summary": {"overall": {"answer_accuracy": 0.85}}}}}
    assert below_floor(run_, None) is None
    assert below_floor(run_, 0.85) is None
    assert "0.850" in (below_floor(run_, 0.86) or "")


@pytest.mark.usefixtures("cli_env")
def test_cli_against_a_running_server_writes_the_report(server_url: str, tmp_path: Path) -> None:
    res = CliRunner().invoke(eval_app, ["--set", "dev", "--limit", "3", "--against", server_url,
                                        "--no-baselines", "--report", str(tmp_path)])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["meta"]["target"] == server_url and data["items"] == 3
    assert data["system"] == "yibao (HTTP)"
    assert all("errors" not in r for r in data["systems"]["yibao (HTTP)"]["results"])
    assert (tmp_path / "latency.png").read_bytes()[:8] == PNG


def test_cli_rejects_an_unknown_set(tmp_path: Path) -> None:
    res = CliRunner().invoke(eval_app, ["--set", "prod", "--report", str(tmp_path)])
    assert res.exit_code == 2 and "未知题集" in res.output
