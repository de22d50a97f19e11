"""The structure-aware chunker (ingest/chunking.py): pure, so tested directly on Markdown strings."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from conftest import KNOWLEDGE
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunking import CHUNKER_VERSION, MAX_TEXT_CHARS, Chunk, chunk_markdown, parse_blocks
from ingest.documents import load_cities, read_guide_file

SENTENCE_END = "。！？；!?;"


def chunk(body: str, **meta: object) -> list[Chunk]:
    args: dict[str, object] = dict(doc_id="test_doc", city="wuhan", city_name="武汉", title="测试指南",
                                   school=None, policy_year=2025)
    args.update(meta)
    return chunk_markdown(body, **args)  # type: ignore[arg-type]


def of_kind(chunks: list[Chunk], kind: str) -> list[Chunk]:
    return [c for c in chunks if c.kind == kind]


TABLE = """# 测试指南

## 二、住院待遇

表：住院起付标准和报销比例

| 医疗机构级别 | 起付标准 | 报销比例 |
|---|---|---|
| 三级医疗机构 | 800元 | 60% |
| 二级医疗机构 | 400元 | - |
"""


def test_table_row_is_a_sentence_with_city_caption_and_headers() -> None:
    rows = of_kind(chunk(TABLE), "table_row")
    assert [r.text for r in rows] == [
        "武汉 住院起付标准和报销比例：医疗机构级别 三级医疗机构；起付标准 800元；报销比例 60%。",
        "武汉 住院起付标准和报销比例：医疗机构级别 二级医疗机构；起付标准 400元。",  # "-" cell left out
    ]
    assert all(r.section == "二、住院待遇" for r in rows)


def test_caption_that_already_names_the_city_does_not_repeat_it() -> None:
    body = "## 缴费\n\n表：武汉 大学生缴费标准\n\n| 年度 | 个人缴费 |\n|---|---|\n| 2025 | 400元 |\n"
    [row] = of_kind(chunk(body), "table_row")
    assert row.text == "武汉 大学生缴费标准：年度 2025；个人缴费 400元。"


def test_small_table_is_also_kept_whole_as_text() -> None:
    texts = of_kind(chunk(TABLE), "text")
    assert len(texts) == 1
    assert texts[0].text.startswith("表：住院起付标准和报销比例\n| 医疗机构级别 |")
    assert "| 二级医疗机构 | 400元 | - |" in texts[0].text


def test_table_without_caption_takes_its_heading_as_title() -> None:
    body = "# T\n\n## 缴费标准\n\n| 类别 | 金额 |\n|---|---|\n| 大学生 | 400元 |\n"
    [row] = of_kind(chunk(body), "table_row")
    assert row.text == "武汉 缴费标准：类别 大学生；金额 400元。"


FAQ = """# 测试指南

## 三、常见问题

**问：**寒暑假回老家看病能报销吗？

**答：**可以，分两种情况：

1. 已办理异地就医备案的，直接结算。
2. 未备案的，回校后零星报销。

**问：**医保卡丢了怎么办？

**答：**到学校医保办补办。
"""


def test_faq_pair_is_one_chunk_with_question_and_answer() -> None:
    chunks = chunk(FAQ)
    faqs = of_kind(chunks, "faq")
    assert len(faqs) == 2
    first, second = faqs
    assert first.text.startswith("**问：**寒暑假回老家看病能报销吗？")
    assert "**答：**可以，分两种情况：" in first.text
    assert "2. 未备案的，回校后零星报销。" in first.text  # the answer's list stays in the pair
    assert "医保卡丢了" not in first.text
    assert second.text == "**问：**医保卡丢了怎么办？\n\n**答：**到学校医保办补办。"
    assert of_kind(chunks, "step") == []  # the answer's list is not split off as a procedure
    assert {c.section for c in faqs} == {"三、常见问题"}


def test_table_inside_faq_answer_still_yields_table_rows() -> None:
    body = FAQ.replace("**问：**医保卡丢了", TABLE.split("## 二、住院待遇\n\n")[1] + "\n**问：**医保卡丢了")
    rows = of_kind(chunk(body), "table_row")
    assert "武汉 住院起付标准和报销比例：医疗机构级别 三级医疗机构；起付标准 800元；报销比例 60%。" in [
        r.text for r in rows]


STEPS = """# 测试指南

## 一、暂停参保

新生入学前已在户籍地参保的，应先暂停原参保地的医保。

办理暂停参保的步骤：

1. 下载国家医保服务平台APP并实名注册。
2. 在首页选择“参保信息变更”。
   - 选择“暂停参保”业务。
   - 填写暂停原因。
3. 提交申请，等待原参保地审核。

审核通过后即完成暂停。
"""


def test_step_list_is_one_step_chunk_with_its_intro() -> None:
    chunks = chunk(STEPS)
    [step] = of_kind(chunks, "step")
    assert step.text.splitlines() == [
        "办理暂停参保的步骤：",
        "1. 下载国家医保服务平台APP并实名注册。",
        "2. 在首页选择“参保信息变更”。",
        "   - 选择“暂停参保”业务。",
        "   - 填写暂停原因。",
        "3. 提交申请，等待原参保地审核。",
    ]
    texts = [c.text for c in of_kind(chunks, "text")]
    assert texts == ["新生入学前已在户籍地参保的，应先暂停原参保地的医保。", "审核通过后即完成暂停。"]


def test_paragraph_not_ending_in_colon_is_not_taken_as_intro() -> None:
    body = "## 流程\n\n请按顺序办理。\n\n1. 第一步。\n2. 第二步。\n"
    [step] = of_kind(chunk(body), "step")
    assert step.text == "1. 第一步。\n2. 第二步。"


def test_long_step_list_is_never_split() -> None:
    steps = "\n".join(f"{i}. 第{i}步：" + "按照页面提示填写并核对相关参保信息，" * 4 + "然后点击下一步。"
                      for i in range(1, 21))
    body = f"## 操作流程\n\n操作步骤如下：\n\n{steps}\n"
    [step] = of_kind(chunk(body), "step")
    assert len(step.text) > 3 * MAX_TEXT_CHARS
    assert step.text.startswith("操作步骤如下：\n1. 第1步")
    last = "20. 第20步：" + "按照页面提示填写并核对相关参保信息，" * 4 + "然后点击下一步。"
    assert step.text.endswith(last)


def test_heading_paths_join_levels_and_leave_out_h1() -> None:
    body = """# 指南标题

开头的说明。

## 一、参保

### （一）**缴费**

缴费说明。

#### 1. 线上缴费

线上说明。

### （二）补缴

补缴说明。

## 二、报销

报销说明。
"""
    sections = {c.text: c.section for c in chunk(body)}
    assert sections == {
        "开头的说明。": "指南标题",  # before any ## heading: the H1 title stands in
        "缴费说明。": "一、参保 > （一）缴费",  # bold markers are dropped from headings
        "线上说明。": "一、参保 > （一）缴费 > 1. 线上缴费",
        "补缴说明。": "一、参保 > （二）补缴",
        "报销说明。": "二、报销",
    }


def test_long_paragraph_is_split_only_at_sentence_ends() -> None:
    sentences = [f"第{i}句说明大学生在学籍地参加居民医保的有关要求和办理时间。" for i in range(40)]
    chunks = chunk("## 说明\n\n" + "".join(sentences) + "\n")
    assert len(chunks) > 1
    assert all(len(c.text) <= MAX_TEXT_CHARS for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)
    assert "".join(c.text for c in chunks) == "".join(sentences)


def test_single_overlong_sentence_is_kept_whole() -> None:
    sentence = "大学生" + "参加居民医保并按规定缴费" * 60 + "。"
    [only] = chunk(f"## 说明\n\n{sentence}\n")
    assert only.text == sentence


sentence_text = st.text(alphabet="医保参学生缴费报销住院备案异地就医", min_size=1, max_size=80)
sentences_strategy = st.lists(
    st.tuples(sentence_text, st.sampled_from(["。", "！", "？", "；"])).map("".join), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(sentences_strategy)
def test_no_text_chunk_ends_mid_sentence(sentences: list[str]) -> None:
    chunks = chunk("## 段落\n\n" + "".join(sentences) + "\n")
    assert all(c.text[-1] in SENTENCE_END for c in chunks)
    assert "".join(c.text.replace("\n", "") for c in chunks) == "".join(sentences)


def test_chunk_ids_are_stable_content_hashes() -> None:
    body = STEPS + "\n" + TABLE.split("\n", 1)[1]
    first, again = chunk(body), chunk(body)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert all(re.fullmatch(r"[0-9a-f]{16}", c.chunk_id) for c in first)

    edited = chunk(body.replace("审核通过后即完成暂停。", "审核通过后即完成暂停，可在APP中查看结果。"))
    old, new = {c.chunk_id for c in first}, {c.chunk_id for c in edited}
    assert len(old - new) == 1 and len(new - old) == 1  # only the edited paragraph got a new id
    assert {c.chunk_id for c in chunk(body, doc_id="other_doc")}.isdisjoint(old)


def test_chunk_metadata_fields() -> None:
    chunks = chunk(STEPS, doc_id="wuhan_x", school="测试大学", title="某校指南", policy_year=2024)
    for c in chunks:
        meta = c.metadata()
        fields = {"doc_id", "city", "school", "title", "section", "policy_year", "kind", "chunk_id"}
        assert fields <= set(meta)
        assert "text" not in meta
        assert meta["doc_id"] == "wuhan_x" and meta["city"] == "wuhan" and meta["school"] == "测试大学"
        assert meta["title"] == "某校指南" and meta["policy_year"] == 2024
        assert meta["section"] == "一、暂停参保" and meta["chunk_id"] == c.chunk_id
    # Chroma metadata cannot hold None: a guide without a school gets ""
    assert all(c.metadata()["school"] == "" for c in chunk(STEPS))


def test_search_text_carries_city_and_heading_path() -> None:
    [step] = of_kind(chunk(STEPS), "step")
    assert step.search_text("武汉").startswith("武汉 一、暂停参保\n办理暂停参保的步骤：")


# --- every real guide -----------------------------------------------------------------------------------

GUIDES = sorted((KNOWLEDGE / "guides").glob("*.md"))
CITIES = load_cities(KNOWLEDGE)


def real_chunks(path: Path) -> tuple[str, list[Chunk]]:
    guide = read_guide_file(path, CITIES)
    m = guide.meta
    return guide.body, chunk_markdown(guide.body, doc_id=m.doc_id, city=m.city, city_name=CITIES[m.city].name,
                                      title=m.title, school=m.school, policy_year=m.policy_year)


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: p.stem)
def test_real_guide_chunk_invariants(path: Path) -> None:
    body, chunks = real_chunks(path)
    assert chunks
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert [c.order for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.text.strip(), c
        assert c.section.strip(), c
        assert c.kind in {"text", "step", "faq", "table_row"}
    _, blocks = parse_blocks(body)
    tables = [b for b in blocks if b.kind == "table"]
    assert all(b.caption for b in tables), "FORMAT.md: every table has a 表：caption line"
    for row in of_kind(chunks, "table_row"):
        assert any(b.caption in row.text for b in tables), row.text
    for step in of_kind(chunks, "step"):
        assert re.search(r"^\d{1,2}[.)、] ", step.text, re.M), step.text


def test_real_guides_have_no_duplicate_chunk_ids_across_documents() -> None:
    ids = [c.chunk_id for path in GUIDES for c in real_chunks(path)[1]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", [
    p for p in GUIDES
], ids=lambda p: p.stem)
def test_every_captioned_table_in_a_real_guide_becomes_table_rows(path: Path) -> None:
    body, chunks = real_chunks(path)
    captions = re.findall(r"^表[：:]\s*(.+)$", body, re.M)
    rows = of_kind(chunks, "table_row")
    for caption in captions:
        assert any(caption.strip() in r.text for r in rows), caption


def test_dense_text_is_the_head_cut_at_a_sentence_end() -> None:
    [only] = chunk("## 说明\n\n第一句话很短。" + "第二句话很长" * 20 + "。\n")
    full = only.search_text("武汉")
    assert full.startswith("武汉 说明\n第一句话很短。")
    assert only.dense_text("武汉") == only.dense_text("武汉", len(full)) == full
    assert only.dense_text("武汉", 20) == "武汉 说明\n第一句话很短。"


# --- the chunker's output is tied to CHUNKER_VERSION ----------------------------------------------------
# A build is reused ("up_to_date") when the guides, the dictionary, the embedder and CHUNKER_VERSION are
# unchanged. Any change to what the chunker emits must therefore bump CHUNKER_VERSION, or existing indexes
# keep the old chunks. This digest of the chunker's output on a fixed document is recorded per version.

GOLDEN_BODY = STEPS + "\n" + TABLE.split("\n", 1)[1] + "\n" + FAQ.split("\n", 1)[1] + """
## 四、缴费标准

表：武汉 大学生缴费标准

| 年度 | 个人缴费 |
|---|---|
| 2025 | 400元 |
"""
# version -> digest; 4 was recorded from the chunker as of commit 2f98174. After bumping CHUNKER_VERSION, add
# the new version's digest (the KeyError below says so).
GOLDEN_DIGESTS = {4: "bfc9d8d3270ca2eb", 5: "1eb5f1db133c0474"}


def output_digest() -> str:
    rows = [[c.chunk_id, c.kind, c.section, c.text] for c in chunk(GOLDEN_BODY)]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()[:16]


def test_chunker_output_changes_only_with_chunker_version() -> None:
    assert output_digest() == GOLDEN_DIGESTS[CHUNKER_VERSION], "chunker output changed: bump CHUNKER_VERSION"
