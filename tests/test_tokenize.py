"""Chinese tokenization with the domain dictionary in knowledge/dict (real jieba, owned Tokenizer)."""

from __future__ import annotations

from pathlib import Path

import jieba
import pytest
from conftest import KNOWLEDGE

from ingest.tokenize import STOPWORDS, DomainTokenizer, dictionary_hash, expand_query, load_synonyms

DICT = KNOWLEDGE / "dict"


@pytest.fixture(scope="module")
def tk() -> DomainTokenizer:
    return DomainTokenizer(DICT)


@pytest.mark.parametrize(("text", "words"), [
    ("大学生怎么办理异地就医备案", ["大学生", "怎么", "办理", "异地就医备案"]),
    ("老家的医保需要暂停参保吗", ["老家", "的", "医保", "需要", "暂停参保", "吗"]),
    ("住院起付线是多少", ["住院", "起付线", "是", "多少"]),
    ("大病保险怎么报销", ["大病保险", "怎么", "报销"]),
    ("激活医保电子凭证", ["激活", "医保电子凭证"]),
    ("在随申办或一网通办上办理", ["在", "随申办", "或", "一网通办", "上", "办理"]),
    ("下载国家医保服务平台APP", ["下载", "国家医保服务平台", "APP"]),
    ("重医圈存机怎么交医保", ["重医", "圈存机", "怎么", "交", "医保"]),  # not 重医圈/存机
])
def test_domain_terms_stay_whole(tk: DomainTokenizer, text: str, words: list[str]) -> None:
    assert tk.cut(text) == words


def test_without_the_domain_dictionary_terms_fall_apart() -> None:
    plain = DomainTokenizer(None)
    assert plain.cut("异地就医备案") == ["异地", "就医", "备案"]
    assert plain.cut("医保电子凭证") == ["医保", "电子", "凭证"]


def test_tokenize_keeps_compound_and_parts_and_drops_stop_words(tk: DomainTokenizer) -> None:
    tokens = tk.tokenize("请问我的医保电子凭证怎么激活？")
    assert tokens == ["医保", "电子", "凭证", "医保电子凭证", "电子凭证", "激活"]  # 电子凭证: a dictionary word inside
    assert not set(tokens) & STOPWORDS
    assert "？" not in tokens


def test_tokenize_lowercases_and_keeps_amounts(tk: DomainTokenizer) -> None:
    assert tk.tokenize("国家医保服务平台APP 报销比例60%") == [
        # longer dictionary words inside a compound are kept too (服务平台 inside 国家医保服务平台)
        "国家", "医保", "服务", "平台", "国家医保服务平台", "服务平台", "app", "报销", "比例", "报销比例", "60%"]
    assert tk.tokenize("起付标准800元") == ["标准", "起付标准", "800", "元"]


def test_stop_word_only_question_has_no_tokens(tk: DomainTokenizer) -> None:
    assert tk.tokenize("请问我们怎么办？") == []


def test_synonyms_expand_how_students_talk(tk: DomainTokenizer) -> None:
    expanded = tk.expand("老家的医保咋停")
    assert expanded.startswith("老家的医保咋停 ")
    assert "原参保地" in expanded.split()
    assert "暂停参保" in expanded.split()
    assert "异地就医" in tk.expand("回家看病怎么报销").split()
    # going on to graduate school after graduating is the guides' 继续深造; a graduate student now is not
    assert "继续深造" in tk.expand("毕业后读研，医保在哪参保").split()
    assert "继续深造" not in tk.expand("在上海读研，急诊自己付的钱能报吗").split()
    assert "退出现役" in tk.expand("退伍之后来上学，有没有等待期").split()
    assert "商业保险" in tk.expand("已经有commercial insurance了 还要买学校的医保吗").split()
    assert "定点医院" in tk.expand("平时看门诊必须去哪才能报").split()
    assert "无法刷码" in tk.expand("医保码领到了 但是去医院刷不了").split()
    assert {"人脸识别", "失败"} <= set(tk.expand("激活的时候face recognition一直fail").split())
    assert "定点医院" in tk.expand("看门诊能去哪些地方").split()
    assert "定点医院" not in tk.expand("医保费去哪才能交").split()


def test_expand_adds_each_term_once_and_not_what_is_already_there() -> None:
    synonyms = {"老家": ["原参保地", "户籍地"], "老家医保": ["原参保地"], "停保": ["暂停参保"]}
    assert expand_query("老家医保停保", synonyms) == "老家医保停保 原参保地 户籍地 暂停参保"
    assert expand_query("原参保地在老家", synonyms) == "原参保地在老家 户籍地"
    assert expand_query("怎么交费", synonyms) == "怎么交费"


def test_load_synonyms_reads_the_knowledge_file() -> None:
    synonyms = load_synonyms(DICT / "synonyms.yaml")
    assert "原参保地" in synonyms["老家的医保"]
    assert load_synonyms(DICT / "missing.yaml") == {}


def test_global_jieba_dictionary_is_not_touched(tk: DomainTokenizer) -> None:
    tk.cut("异地就医备案")
    assert jieba.lcut("异地就医备案") == ["异地", "就医", "备案"]


def test_dictionary_hash_follows_the_dictionary_files(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(DICT, tmp_path / "dict")
    before = dictionary_hash(tmp_path / "dict")
    assert dictionary_hash(tmp_path / "dict") == before
    with open(tmp_path / "dict" / "user_dict.txt", "a", encoding="utf-8") as handle:
        handle.write("青春护航计划 3000 n\n")
    assert dictionary_hash(tmp_path / "dict") != before


def test_english_words_expand_whole_word_in_any_case() -> None:
    synonyms = {"fee": ["缴费标准"], "app": ["APP"], "mini program": ["小程序"]}
    assert expand_query("How much are the FEES?", synonyms) == "How much are the FEES? 缴费标准"
    assert expand_query("coffee in the apple store", synonyms) == "coffee in the apple store"  # not inside words
    assert expand_query("用什么 Mini Program 注册", synonyms).endswith(" 小程序")


def test_the_knowledge_file_reads_english_questions(tk: DomainTokenizer) -> None:
    words = tk.expand("When is the deadline to pay the insurance fee after graduation?").split()
    assert {"缴费标准", "毕业后", "医保"} <= set(words)
