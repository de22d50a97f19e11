"""The composer's pure choices (no index): which sentence leads, which other sections join the answer."""

from __future__ import annotations

from app.answer.compose import Scorer, answer_kinds, lead_sentence, pick_blocks
from ingest.chunking import Chunk


def chunk(n: int, section: str, text: str, kind: str = "text") -> Chunk:
    return Chunk(chunk_id=f"c{n}", doc_id="d", city="wuhan", school="", title="指南", section=section,
                 policy_year=2025, kind=kind, order=n, text=text)


def scorer(*words: str) -> Scorer:
    """Each question word weighs 1; a text 'contains' a word as a substring (enough for these cases)."""
    return Scorer({w: 1.0 for w in words}, lambda text: [w for w in words if w in text])


ROW = chunk(1, "住院", "住院待遇表：医疗机构级别 三级；起付标准 800元；报销比例 60%；支付比例按级别执行。", "table_row")
FAQ = chunk(2, "住院", "问：住院怎么报？答：住院按比例报销。一个保险年度内住院最高报销15万元。", "faq")


def test_a_cap_question_is_led_by_the_cap_not_a_ratio_row() -> None:
    score = scorer("住院", "报销", "比例", "支付比例", "最高")
    question = "住院一年最多报多少"
    assert answer_kinds(question)
    lead = lead_sentence([ROW, FAQ], score, wants_figures=True, kinds=answer_kinds(question))
    assert lead is not None and "15万元" in lead[1]
    # without the kind, the ratio row (more question words, first hit) leads
    plain = lead_sentence([ROW, FAQ], score, wants_figures=True)
    assert plain is not None and plain[0] == 0


def test_a_ratio_question_asks_for_no_kind() -> None:
    assert answer_kinds("住院报销比例多少") == []


def test_another_section_joins_only_with_something_new() -> None:
    first = chunk(1, "A", "异地就医备案 在国家医保服务平台办理。")
    same_words = chunk(2, "B", "异地就医备案 要提前办理。")
    new_part = chunk(3, "C", "备案后 直接结算 不用垫钱。")
    filler = chunk(4, "D", "异地就医备案 异地就医备案。")
    score = scorer("异地就医备案", "直接结算")
    chosen = pick_blocks([first, same_words, filler, new_part], score=score, gain=0.1)
    # the second-ranked chunk always joins; a lower one that repeats the question's words does not; one that
    # covers the rest of the question does
    assert [c.chunk_id for c in chosen] == ["c1", "c2", "c3"]
