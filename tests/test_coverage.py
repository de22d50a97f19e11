"""Whether a city's guide speaks of the matter asked: a question about a procedure the guide never mentions is
answered "not in the guide", with the office to ask, not from whatever text shares its other words."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answer.models import AskRequest
from app.answer.service import AnswerService
from app.settings import Settings
from app.understanding.coverage import guide_lacks, matter_words
from conftest import KNOWLEDGE

TEXTS = {"a": "医保缴费 住院报销", "b": "毕业生 暂停参保", "c": "毕业后 异地就医备案", "d": "毕业 离校", "e": "异地就医"}


def test_the_words_that_name_a_procedure() -> None:
    assert matter_words("武汉大学生毕业了医保怎么办", "graduate") == ["毕业"]
    assert set(matter_words("寒假回老家要办异地就医备案吗", "remote_care")) == {"异地", "备案"}
    # figures are every guide's, asked in the students' own words: never a matter
    assert matter_words("住院最多报多少", "benefit") == []
    # how to claim, asked without a single strong cue (材料, 去哪里报), names the claim procedure
    assert matter_words("出院以后报销要带哪些材料", "claim") == ["报销手续"]
    assert matter_words("回来去哪里报", "claim") == ["报销手续"] and matter_words("怎么报名", "claim") == []


def test_a_guide_lacks_a_matter_most_other_guides_speak_of() -> None:
    assert guide_lacks(["毕业"], "a", TEXTS, {}) == ["毕业"]  # b, c, d say 毕业; a never does
    assert guide_lacks(["毕业"], "b", TEXTS, {}) == []  # b does
    # only two of the other four use 异地: not a matter every guide describes
    assert guide_lacks(["异地"], "a", TEXTS, {}) == []
    # a synonym the guide uses counts as the word (停保 → 暂停参保)
    assert guide_lacks(["停保"], "b", {**TEXTS, "a": "暂停参保"}, {"停保": ["暂停参保"]}) == []


@pytest.fixture(scope="module")
def service(full_index: Path, full_loaded) -> AnswerService:  # noqa: ANN001
    return AnswerService(Settings(knowledge_dir=KNOWLEDGE, index_dir=full_index), index=full_loaded)


def test_a_matter_the_guide_never_mentions_is_answered_with_the_office_to_ask(service: AnswerService) -> None:
    res = service.ask(AskRequest(question="武汉这边大四要毕业了，学校交的医保毕业以后要自己去停吗"))
    assert res.city == "wuhan" and res.intent == "graduate" and not res.refused
    assert "没有讲到“毕业”" in res.answer
    # the offices come from the guide's contact table, cited
    assert res.citations and all(c.section.endswith("大学生参保工作联络表") for c in res.citations)
    assert "[1]" in res.answer and any(c.quote and "67880229" in c.quote for c in res.citations)


def test_a_guide_that_never_says_how_to_claim_says_so(service: AnswerService) -> None:
    # Chongqing's 2018 notice gives reimbursement limits only; the others say how a claim is made, each in its words
    res = service.ask(AskRequest(question="重医的学生住院了，报销需要哪些材料？"))
    assert res.city == "chongqing" and "没有讲到“报销手续”" in res.answer and "65715625" in res.answer
    res = service.ask(AskRequest(question="在达州住院出院了，报销要准备哪些材料"))
    assert "没有讲到" not in res.answer and any("报销" in c.section for c in res.citations)


def test_a_guide_that_speaks_of_the_matter_answers_it(service: AnswerService) -> None:
    res = service.ask(AskRequest(question="达州毕业了医保怎么办"))
    assert "没有讲到" not in res.answer
    assert any("毕业" in c.section for c in res.citations)
