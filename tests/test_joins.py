"""The join model: which chunks of other sections join an answer (and are cited)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.answer.compose import answer_kinds, lead_sentence, lead_trusted, pick_blocks, top_sentences
from app.answer.leads import FEATURES as LEAD_FEATURES, LeadModel
from app.answer.joins import FEATURES, MODEL_PATH, JoinModel, join_features
from app.answer.models import AskRequest
from app.answer.service import AnswerService
from app.settings import Settings
from conftest import KNOWLEDGE
from eval.train_joins import HELD_OUT, TRAIN, Recorder
from ingest.chunking import Chunk
from test_compose import chunk, scorer


class Refuse(Recorder):
    """The trainer's recording gate, admitting nothing."""

    def admit(self, c: Chunk, features: Mapping[str, float]) -> bool:
        super().admit(c, features)
        return False


def test_the_packaged_model_has_every_feature_and_its_threshold() -> None:
    model = JoinModel.load()
    assert set(model.weights) == set(FEATURES)
    assert model.threshold == json.loads(MODEL_PATH.read_text(encoding="utf-8"))["threshold"]
    assert JoinModel.load(threshold=0.5).threshold == 0.5
    # a heading that names the question's words makes a join more likely, all else equal
    base = dict.fromkeys(FEATURES, 0.0)
    assert model.probability(base | {"head": 1.0}) > model.probability(base)


def test_a_model_file_missing_a_feature_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"weights": {"head": 1.0}, "bias": 0, "threshold": 0.5}), encoding="utf-8")
    with pytest.raises(ValueError, match="no weight"):
        JoinModel.load(path)


def test_features_say_how_much_of_the_question_a_candidate_covers() -> None:
    lead = chunk(1, "A > 办理", "异地就医备案 在国家医保服务平台办理。")
    other = chunk(2, "B > 直接结算", "备案后 直接结算，次日生效。")
    score = scorer("异地就医备案", "直接结算", "多久")
    terms = score.terms
    f = join_features(other, lead, position=1, ranks={"c2": (1, None), "c1": (2, 1)}, weights=score.weights,
                      chunk_terms=terms(other.text), lead_terms=terms(lead.text), heading_terms=terms("直接结算"),
                      lead_heading_terms=terms("办理"), asked=set(score.weights),
                      kinds=answer_kinds("备案后多久能直接结算"))
    assert math.isclose(f["head"], 1 / 3) and math.isclose(f["new"], 1 / 3)
    assert f["bm25"] == 1.0 and f["bm25_first"] == 1.0 and f["dense"] == 0.0 and f["lead_dense"] == 1.0
    assert f["kind"] == f["kind_new"] == 1.0  # 次日 answers 多久; the lead gives no delay


def test_a_gate_has_the_last_word_on_other_sections_only() -> None:
    first = chunk(1, "A", "异地就医备案 在国家医保服务平台办理。")
    same = chunk(2, "A", "异地就医备案 要提前 在国家医保服务平台办理。")
    other = chunk(3, "C", "备案后 直接结算 不用垫钱。")
    score = scorer("异地就医备案", "直接结算")
    assert [c.chunk_id for c in pick_blocks([first, same, other], score=score, gain=0.1)] == ["c1", "c2", "c3"]
    gate = Refuse()
    chosen = pick_blocks([first, same, other], score=score, gain=0.1, gate=gate)
    assert [c.chunk_id for c in chosen] == ["c1", "c2"]
    assert [c.chunk_id for c, _ in gate.rows] == ["c3"] and set(gate.rows[0][1]) == set(FEATURES)


@pytest.fixture(scope="module")
def service(full_index: Path, full_loaded) -> AnswerService:  # noqa: ANN001
    return AnswerService(Settings(knowledge_dir=KNOWLEDGE, index_dir=full_index), index=full_loaded)


def test_the_service_answers_through_the_model(service: AnswerService, full_index: Path, full_loaded) -> None:  # noqa: ANN001
    assert isinstance(service.joins, JoinModel) and service.joins.threshold == JoinModel.load().threshold
    off = AnswerService(Settings(knowledge_dir=KNOWLEDGE, index_dir=full_index, join_threshold=0), index=full_loaded)
    assert off.joins is None
    # a gate that admits nothing: the answer cites the lead's section (and its sub-sections) only
    question = "克拉玛依异地就医备案怎么办"
    gate, kept = Refuse(), service.joins
    service.joins = gate
    try:
        res = service.ask(AskRequest(question=question))
    finally:
        service.joins = kept
    assert gate.rows, "the question should have had a candidate from another section"
    lead = res.citations[0].section
    assert all(c.section.startswith(lead) for c in res.citations)
    assert off.ask(AskRequest(question=question)).citations  # and without the model it still answers


def test_the_trainer_refuses_the_sets_that_measure_it() -> None:
    from eval.train_joins import main
    import typer

    assert not set(TRAIN) & set(HELD_OUT)
    app = typer.Typer()
    app.command()(main)
    result = CliRunner().invoke(app, ["--sets", "dev,blind14"])
    assert result.exit_code != 0 and "blind14" in result.output


# ---- the lead model: a trusted lead takes no other section ------------------------------------------------
def test_the_packaged_lead_model_has_every_feature_and_its_threshold() -> None:
    model = LeadModel.load()
    assert set(model.weights) == set(LEAD_FEATURES)
    assert 0 < model.threshold <= 1
    assert not LeadModel.load(threshold=1.0).trusts(chunk(1, "A", "x"), dict.fromkeys(LEAD_FEATURES, 9.0))
    base = dict.fromkeys(LEAD_FEATURES, 0.0)
    # a lead both retrievers ranked first, far ahead of the other hits, is more likely right
    assert model.probability(base | {"bm25": 1.0, "margin": 1.0}) > model.probability(base)


class Trust:
    def __init__(self) -> None:
        self.seen: list[dict[str, float]] = []

    def trusts(self, lead: Chunk, features: Mapping[str, float]) -> bool:
        self.seen.append(dict(features))
        return True


def test_a_trusted_lead_keeps_other_sections_out_but_not_its_own_sub_sections() -> None:
    first = chunk(1, "A", "异地就医备案 在国家医保服务平台办理。")
    sub = chunk(2, "A > 材料", "备案 需要 直接结算 材料。")
    other = chunk(3, "B", "直接结算 多久 生效。")
    score = scorer("异地就医备案", "直接结算", "多久", "材料")
    loose = pick_blocks([first, sub, other], score=score, gain=0.1)
    assert [c.chunk_id for c in loose] == ["c1", "c2", "c3"]
    assert [c.chunk_id for c in pick_blocks([first, sub, other], score=score, gain=0.1, trusted=True)] == ["c1", "c2"]


def test_the_composer_asks_the_lead_model_with_the_lead_s_features() -> None:
    first = chunk(1, "A", "异地就医备案 在国家医保服务平台办理。")
    other = chunk(3, "B", "直接结算 多久 生效。")
    judge = Trust()
    hits = [first, other]
    score = scorer("异地就医备案", "直接结算", "多久")
    assert lead_sentence(hits, score) == (1, "直接结算 多久 生效。")  # it holds two of the question's words
    assert lead_trusted(hits, 1, score, judge, ranks={"c1": (2, 1), "c3": (1, 2)}, found=top_sentences(hits, score),
                        wants_figures=False, kinds=())
    (features,) = judge.seen
    assert set(features) == set(LEAD_FEATURES)
    assert features["val"] == 1.0 and features["bm25"] == 1.0 and features["dense"] == 0.5
    assert features["margin"] == 0.5 and features["head"] == 0.0  # the other hit's best sentence scores half


def test_the_lead_trainer_refuses_the_sets_that_measure_it() -> None:
    from eval.train_leads import main
    import typer

    app = typer.Typer()
    app.command()(main)
    result = CliRunner().invoke(app, ["--sets", "dev,test"])
    assert result.exit_code != 0 and "test" in result.output
