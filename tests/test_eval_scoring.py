"""Scorers (app/normalize.py, eval/scoring.py) and the question sets (eval/datasets/*.jsonl)."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.normalize import cn_to_int, contains, matches, normalize
from app.understanding.intent import Intent
from eval.runner import SETS
from eval.scoring import (
    aggregate,
    answer_correct,
    calc_exact,
    citation_accuracy,
    city_correct,
    fact_recall,
    intent_correct,
    latency_percentiles,
    percentile,
    score_item,
    source_matches,
    source_rank,
    turns_of,
)
from ingest.chunking import parse_blocks
from ingest.documents import load_cities, load_guides

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE = REPO / "knowledge"
DATASETS = REPO / "eval" / "datasets"
SPLITS = tuple(s for s in SETS if s != "all")  # every set in eval/datasets: the validity checks run over all
BALANCED = ("dev", "test")  # the stratified split; fresh, blind and blind2 are separate blind sets, not part of it
TAGS = {"colloquial", "typo", "mixed_lang", "short", "counselor_paste", "ambiguous_city", "unknown_city",
        "off_topic", "multi_turn", "calc", "national", "not_in_guide"}
EXPECT_KEYS = {"city", "intent", "facts", "forbidden", "sources", "clarify", "refuse", "calc"}
FAQ = "武汉大学生2025年度医保参保缴费热点问题问答"
SEC = f"{FAQ} > 八、武汉大学生医保异地住院结算如何办理 > （二）大学生如何办理异地就医备案手续"
REMOTE = "（二）大学生如何办理异地就医备案手续"


def resp(answer: str = "", **kw: Any) -> dict[str, Any]:
    base = {"answer": answer, "city": None, "intent": "other", "citations": [], "calculation": None,
            "clarification": None, "refused": False, "session_id": "s"}
    return base | kw


def exp(**kw: Any) -> dict[str, Any]:
    base = {"city": None, "intent": "benefit", "facts": [], "forbidden": [], "sources": [], "clarify": False,
            "refuse": False}
    return base | kw


# ---- normalization -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("a", "b"), [
    ("１２０００元", "12000元"),          # full width
    ("60％", "60%"),
    ("1.2万", "12000"),
    ("15万元", "150000元"),
    ("3千", "3000"),
    ("1千万", "10000000"),
    ("12,000 元", "12000元"),            # thousands comma and space
    ("5,520.00元", "5520元"),            # cents dropped when zero
    ("400.50元", "400.5元"),
    ("400块", "400元"),
    ("400块钱", "400元"),
    ("¥320.00", "320元"),
    ("RMB 400", "400"),
    ("百分之六十", "60%"),
    ("百分之65", "65%"),
    ("六成", "60%"),
    ("八百元", "800元"),
    ("一千二百元", "1200元"),
    ("十二万", "120000"),
    ("三级医院", "3级医院"),
    ("第二次住院", "第2次住院"),
    ("六个月", "6个月"),
    ("“湖北医疗保障”小程序", "湖北医疗保障小程序"),
    ("0818—2182953", "0818-2182953"),
    ("国家医保服务平台 APP", "国家医保服务平台app"),
])
def test_normalize_equates_forms(a: str, b: str) -> None:
    assert normalize(a) == normalize(b)


@pytest.mark.parametrize(("text", "expected"), [
    ("百分之百", "100%"),
    ("百分之一百", "100%"),
    ("住院费用百分之百报销。", "住院费用100%报销。"),
    ("百分之百，不设起付线", "100%、不设起付线"),
    ("百分之百万", "百分之百万"),  # not a percentage: left alone
])
def test_percent_of_one_hundred(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_percent_of_one_hundred_matches_the_figure() -> None:
    assert matches("政策范围内百分之百报销", "100%") and matches("报销比例100%", "百分之一百")
    assert not matches("百分之百", "00%")


@pytest.mark.parametrize("text", ["完成参保", "万水千山", "一成不变的规定", "万一住院", "千万别忘了"])
def test_normalize_leaves_words_alone(text: str) -> None:
    assert normalize(text) == text


def test_list_commas_are_not_thousands_separators() -> None:
    assert normalize("三级800，二级400") != normalize("三级800400")
    assert contains(normalize("三级800，二级400"), normalize("400"))


@pytest.mark.parametrize(("text", "value"), [
    ("八百", 800), ("一千二", 1200), ("一千二百", 1200), ("三万五", 35000), ("一百零五", 105), ("十五", 15),
    ("二十", 20), ("两千", 2000), ("一二〇", 120), ("百", None), ("万一", None), ("", None),
])
def test_cn_to_int(text: str, value: int | None) -> None:
    assert cn_to_int(text) == value


@given(st.text(alphabet="0123456789.,，万千百十一二三四五六七八九两零元块%％ 级次第成之分", max_size=30))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


def test_contains_matches_whole_numbers() -> None:
    assert not matches("学费1400元", "400元")
    assert not matches("比例160%", "60%")
    assert not matches("共5520.5元", "5520")
    assert matches("每人400元/年", "400元")
    assert matches("拨打021-12393", "12393")
    assert matches("基金支付 5,520.00 元。", "5520")
    assert matches("个人负担4.58万元", "45800元")
    assert contains("abc", "")


# ---- answer correctness ------------------------------------------------------------------------------------
def test_all_fact_groups_must_be_present() -> None:
    e = exp(facts=[["800元", "800 元"], ["60%", "百分之六十"]])
    assert answer_correct(e, resp("三级医院起付标准八百元，报销百分之六十"))
    v = answer_correct(e, resp("三级医院起付标准800元"))
    assert not v and v.missing == (("60%", "百分之六十"),)
    assert "missing fact: 60% | 百分之六十" in v.reasons
    assert fact_recall(e, resp("三级医院起付标准800元")) == 0.5
    assert fact_recall(exp(), resp("x")) is None


def test_forbidden_text_fails() -> None:
    e = exp(facts=[["400元"]], forbidden=["245元"])
    assert answer_correct(e, resp("武汉每人400元"))
    v = answer_correct(e, resp("武汉每人400元，上海245元"))
    assert not v and v.forbidden_found == ("245元",)
    assert answer_correct(e, resp("武汉每人400元，另 1245元 不算"))  # whole numbers only


def test_clarify_behaviour() -> None:
    ask = {"question": "你在哪个城市上学？", "options": ["wuhan", "shanghai"]}
    assert answer_correct(exp(clarify=True), resp("你在哪个城市上学？", clarification=ask))
    assert not answer_correct(exp(clarify=True), resp("住院报销60%"))
    v = answer_correct(exp(facts=[["60%"]]), resp("住院报销60%", clarification=ask))
    assert not v and "asked for clarification" in v.reasons[0]


def test_refuse_behaviour() -> None:
    assert answer_correct(exp(intent="out_of_scope", refuse=True), resp("抱歉，只回答医保问题", refused=True))
    assert not answer_correct(exp(refuse=True), resp("今天晴"))
    assert not answer_correct(exp(), resp("抱歉", refused=True))


def test_missing_response_is_wrong() -> None:
    v = answer_correct(exp(), None)
    assert not v and v.reasons == ("no response",)
    assert fact_recall(exp(facts=[["x"]]), None) == 0.0


def test_accepts_pydantic_response() -> None:
    from app.answer.models import AskResponse, Citation

    r = AskResponse(answer="武汉三级医院起付标准800元", city="wuhan", intent="benefit", session_id="s",
                    citations=[Citation(n=1, doc_id="wuhan_2025", city="wuhan", title="t",
                                        section=f"{FAQ} > 六、武汉大学生住院医保如何报销",
                                        quote="q")])
    e = exp(city="wuhan", facts=[["800元"]],
            sources=[{"doc_id": "wuhan_2025", "section": "六、武汉大学生住院医保如何报销"}])
    assert answer_correct(e, r) and city_correct(e, r) and intent_correct(e, r)
    assert citation_accuracy(e, r).precision == 1.0


# ---- citations ---------------------------------------------------------------------------------------------
def test_source_matches_full_path_or_last_heading() -> None:
    cited = {"doc_id": "wuhan_2025", "section": SEC}
    assert source_matches(cited, {"doc_id": "wuhan_2025", "section": REMOTE})
    assert source_matches(cited, {"doc_id": "wuhan_2025", "section": SEC})
    assert not source_matches(cited, {"doc_id": "karamay_cupk_2026", "section": REMOTE})
    assert not source_matches(cited, {"doc_id": "wuhan_2025", "section": "六、武汉大学生住院医保如何报销"})


def test_citation_accuracy() -> None:
    e = exp(sources=[{"doc_id": "wuhan_2025", "section": REMOTE}])
    good = {"doc_id": "wuhan_2025", "section": SEC}
    other = {"doc_id": "wuhan_2025", "section": f"{FAQ} > 九、武汉大学生没有社保卡如何就医"}
    score = citation_accuracy(e, resp(citations=[good, other, good | {"doc_id": "shanghai_2023"}]))
    assert score.precision == pytest.approx(1 / 3) and score.hit is True and score.cited == 3
    none = citation_accuracy(e, resp())
    assert none.precision is None and none.hit is False
    assert citation_accuracy(exp(), resp(citations=[good])).hit is None


def test_source_rank_for_recall_and_mrr() -> None:
    e = exp(sources=[{"doc_id": "wuhan_2025", "section": REMOTE}])
    ranked = [{"doc_id": "wuhan_2025", "section": "六、住院"}, {"doc_id": "wuhan_2025", "section": SEC}]
    assert source_rank(e, ranked) == 2
    assert source_rank(e, ranked[:1]) is None


# ---- city, intent, calculator ------------------------------------------------------------------------------
def test_city_and_intent() -> None:
    assert city_correct(exp(city="wuhan"), resp(city="wuhan"))
    assert not city_correct(exp(city="wuhan"), resp(city="karamay"))
    assert city_correct(exp(city=None), resp(city=None))
    assert city_correct(exp(refuse=True), resp(city="wuhan")) is None  # the city of a refusal does not matter
    assert intent_correct(exp(intent="pay"), resp(intent="pay"))
    assert intent_correct(exp(intent=["claim", "benefit"]), resp(intent="benefit"))
    assert not intent_correct(exp(intent="pay"), resp(intent="enroll"))


def test_calc_exact_to_the_cent() -> None:
    e = exp(calc={"fund_pays": 5520})
    assert calc_exact(e, resp(calculation={"fund_pays": 5520.0, "out_of_pocket": 4480}))
    assert calc_exact(e, resp(calculation={"fund_pays": "5520.004"}))
    assert not calc_exact(e, resp(calculation={"fund_pays": 5520.01}))
    assert not calc_exact(e, resp(calculation={"basic_pays": 5520}))
    assert not calc_exact(e, resp())
    assert calc_exact(exp(), resp()) is None
    assert calc_exact(exp(calc={"fund_pays": 0}), resp(calculation={"fund_pays": 0.0}))


def test_latency_percentiles() -> None:
    xs = list(range(1, 101))
    assert percentile(xs, 50) == pytest.approx(50.5)
    assert percentile(xs, 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    assert latency_percentiles([10, 20, 30]) == {"n": 3, "p50": 20.0, "p95": pytest.approx(29.0), "max": 30}


# ---- items and aggregation ---------------------------------------------------------------------------------
DIALOG = {
    "id": "dev-wuhan-099", "city": None, "tags": ["multi_turn"],
    "turns": [
        {"question": "武汉门诊怎么报", "expect": exp(city="wuhan", intent="benefit", facts=[["70%"]])},
        {"question": "那住院呢？", "expect": exp(city="wuhan", intent="benefit", facts=[["60%"]])},
    ],
}


def test_score_item_multi_turn() -> None:
    ok = score_item(DIALOG, [resp("不低于70%", city="wuhan", intent="benefit"),
                             resp("三级60%", city="wuhan", intent="benefit")], [12.0, 30.0])
    assert ok["correct"] and ok["city"] == "wuhan" and ok["latencies_ms"] == [12.0, 30.0]
    bad = score_item(DIALOG, [resp("不低于70%", city="wuhan", intent="benefit"),
                              resp("三级60%", city="karamay", intent="benefit")])
    assert bad["correct"] and bad["city_ok"] is False
    short = score_item(DIALOG, [resp("不低于70%", city="wuhan", intent="benefit")])
    assert not short["correct"] and short["reasons"] == ["turn 2: no response"]
    assert len(turns_of(DIALOG)) == 2
    assert turns_of({"question": "q", "expect": exp()}) == [{"question": "q", "expect": exp()}]


def test_aggregate_breakdowns() -> None:
    one = {"id": "a", "question": "武汉交多少", "tags": ["short"],
           "expect": exp(city="wuhan", intent="pay", facts=[["400元"]])}
    two = {"id": "b", "question": "北京交多少", "tags": ["unknown_city", "short"],
           "expect": exp(city=None, intent="pay", facts=[["学籍地"]])}
    three = {"id": "c", "question": "武汉住院1万报多少", "tags": ["calc"],
             "expect": exp(city="wuhan", intent="calc", facts=[["5520"]], calc={"fund_pays": 5520})}
    results = [
        score_item(one, [resp("400元", city="wuhan", intent="pay")], [10]),
        score_item(two, [resp("没有北京的指南", intent="pay")], [20]),
        score_item(three, [resp("基金支付5,520.00元", city="wuhan", intent="calc",
                                calculation={"fund_pays": 5520})], [30]),
    ]
    agg = aggregate(results)
    assert agg["overall"]["n"] == 3
    assert agg["overall"]["answer_accuracy"] == pytest.approx(2 / 3)
    assert agg["overall"]["calc_exact"] == 1.0 and agg["overall"]["calc_n"] == 1
    assert agg["overall"]["latency_ms"]["p50"] == 20
    assert agg["by_city"]["wuhan"]["answer_accuracy"] == 1.0 and agg["by_city"]["none"]["n"] == 1
    assert agg["by_intent"]["pay"]["n"] == 2
    assert agg["by_tag"]["short"]["answer_accuracy"] == 0.5
    assert agg["overall"]["citation_accuracy"] is None
    assert aggregate([])["overall"]["answer_accuracy"] is None


# ---- the question sets -------------------------------------------------------------------------------------
@cache
def dataset(split: str) -> list[dict[str, Any]]:
    lines = (DATASETS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@cache
def guides() -> dict[str, Any]:
    return {g.meta.doc_id: g for g in load_guides(KNOWLEDGE)}


@cache
def sections(doc_id: str) -> list[str]:
    _, blocks = parse_blocks(guides()[doc_id].body)
    return sorted({" > ".join(b.path) for b in blocks})


def all_items() -> list[tuple[str, dict[str, Any]]]:
    return [(split, item) for split in SPLITS for item in dataset(split)]


def all_expects() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(item, t["expect"]) for _, item in all_items() for t in turns_of(item)]


def test_every_line_parses_and_ids_are_unique() -> None:
    ids = [item["id"] for _, item in all_items()]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 260
    for split, item in all_items():
        assert item["id"].startswith(f"{split}-")
        assert ("question" in item) != ("turns" in item), item["id"]
        assert "expect" in item or "turns" in item
        assert set(item["tags"]) <= TAGS, item["id"]


def test_split_is_about_half_and_half() -> None:
    dev, test = len(dataset("dev")), len(dataset("test"))
    assert abs(dev - test) <= 0.1 * (dev + test)
    for key in ("calc", "counselor_paste", "multi_turn", "ambiguous_city", "unknown_city", "off_topic"):
        n = [sum(key in it["tags"] for it in dataset(s)) for s in BALANCED]
        assert min(n) >= 2 and abs(n[0] - n[1]) <= 2, (key, n)


def test_expectations_are_valid() -> None:
    intents = set(get_args(Intent))
    cities = set(load_cities(KNOWLEDGE))
    for item, e in all_expects():
        where = item["id"]
        assert set(e) <= EXPECT_KEYS and {"city", "intent", "facts", "sources"} <= set(e), where
        assert e["city"] is None or e["city"] in cities, where
        assert item.get("city") is None or item["city"] in cities - {"national"}, where
        wanted = [e["intent"]] if isinstance(e["intent"], str) else e["intent"]
        assert wanted and set(wanted) <= intents, where
        for group in e["facts"]:
            assert isinstance(group, list) and group and all(isinstance(a, str) and a for a in group), where
        if e.get("clarify"):
            assert e["city"] is None and not e.get("refuse"), where
        if e.get("refuse"):
            assert wanted == ["out_of_scope"] and not e["facts"], where
        elif not e.get("clarify"):
            assert e["facts"], f"{where}: an answerable question needs at least one fact"
        if e.get("calc"):
            assert item.get("note"), f"{where}: show the working of an expected amount in `note`"


def test_every_expected_source_exists_in_the_guides() -> None:
    for item, e in all_expects():
        for source in e["sources"]:
            assert source["doc_id"] in guides(), item["id"]
            assert any(source_matches({"doc_id": source["doc_id"], "section": s}, source)
                       for s in sections(source["doc_id"])), (item["id"], source)


def test_facts_are_copied_from_the_guides() -> None:
    """Each fact group has an alternative in the cited guides (the not-in-guide hotline in the city's guide);
    exceptions: amounts the calculator items work out, and the "no guide" wording of unknown cities (and their
    hotline, which must be a phone in some guide's contacts)."""
    text = {doc_id: normalize(Path(g.path).read_text(encoding="utf-8")) for doc_id, g in guides().items()}
    by_city = {g.meta.city: doc_id for doc_id, g in guides().items()}
    hotlines = {c.phone for g in guides().values() for c in g.meta.contacts if c.phone}
    for item, e in all_expects():
        docs = {s["doc_id"] for s in e["sources"]}
        if "not_in_guide" in item["tags"] and e["city"]:
            docs.add(by_city[e["city"]])
        haystack = "\n".join(text[d] for d in docs)
        amounts = {normalize(f"{v:g}") for v in (e.get("calc") or {}).values()}
        for group in e["facts"]:
            if any(normalize(a).removesuffix("元") in amounts for a in group):
                continue
            if "unknown_city" in item["tags"] and "没有" in group:
                continue
            if "unknown_city" in item["tags"] and set(group) <= hotlines:
                continue  # the 医保服务热线 (12393) of fresh.jsonl's unknown-city items: a guide's contact
            assert any(contains(haystack, normalize(a)) for a in group), (item["id"], group)


def test_not_in_guide_items_expect_the_guides_own_contacts() -> None:
    contacts = {g.meta.city: {c.phone for c in g.meta.contacts if c.phone} for g in guides().values()}
    for item, e in all_expects():
        if "not_in_guide" in item["tags"] and e["city"]:
            assert e["facts"] and set(e["facts"][0]) <= contacts[e["city"]], item["id"]


def test_forbidden_strings_are_not_in_the_expected_citys_guide() -> None:
    """A forbidden figure must be impossible in a correct answer: it is not in the guides the answer uses."""
    text = {doc_id: normalize(Path(g.path).read_text(encoding="utf-8")) for doc_id, g in guides().items()}
    by_city = {g.meta.city: doc_id for doc_id, g in guides().items()}
    for item, e in all_expects():
        docs = {s["doc_id"] for s in e["sources"]} | ({by_city[e["city"]]} if e["city"] else set())
        haystack = "\n".join(text[d] for d in docs)
        for f in e["forbidden"]:
            assert not contains(haystack, normalize(f)), (item["id"], f)


def test_coverage_of_cities_intents_and_kinds() -> None:
    pairs = Counter()
    tags = Counter()
    for item, e in all_expects():
        wanted = [e["intent"]] if isinstance(e["intent"], str) else e["intent"]
        pairs[(e["city"], wanted[0])] += 1
    for _, item in all_items():
        tags.update(item["tags"])
    for city in ("wuhan", "shanghai", "karamay", "dazhou", "chongqing"):
        for intent in ("enroll", "pay", "benefit", "calc"):
            assert pairs[(city, intent)] >= 1, (city, intent)
    assert tags["calc"] >= 20 and tags["multi_turn"] >= 10 and tags["counselor_paste"] >= 10
    assert min(tags[t] for t in TAGS) >= 5
