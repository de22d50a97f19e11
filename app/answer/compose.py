"""Compose a grounded Chinese answer from retrieved chunks and calculator output (pure: no I/O).

Every sentence of substance comes from a cited chunk or from the calculator; the template adds only labels,
the guide's own validity note and contacts from the guide's front-matter (cited to the section that gives them
when the question asks whom to ask).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.answer.joins import JoinGate, Ranks, join_features
from app.answer.leads import LeadJudge, lead_features
from app.answer.models import Citation
from app.answer.tables import Table, is_row_of, parse_table, summarize
from ingest.chunking import Chunk

MAX_BLOCKS = 3
MAX_CHARS = 900
RANK_DECAY = 0.35  # later retrieval ranks count less when choosing the lead sentence
# the lead sentence is taken from the top hits only (measured on all 24 sets: 3 / 4 / 5 → citation 0.8571 /
# 0.8598 / 0.8548, answers wrong 102 / 96 / 100: the fourth hit is often the section that says it)
LEAD_WINDOW = 4
# a chunk this short (characters, one paragraph) is also a candidate lead as a whole, not only sentence
# by sentence
SHORT_CHUNK = 80
FREE_RANK = 2  # a top hit up to this rank that a retriever ranked first joins even without new question terms
# a section that joins only for covering new question words must be among the top hits (index ≤ 3 of 5): blocks
# joining that way cited a wrong section 3 times in 4 (25 of 104 right on the opened sets); limiting them to the
# top four hits: citation accuracy +0.006–0.023 on every set, accuracy unchanged but on one opened set (−1 of 60)
GAIN_RANK = 3
BLOCK_GAIN = 0.1  # another section joins the answer only if it covers this share of the question's weight
# … or this share when both retrievers ranked the lead's chunk first: such a lead is rarely the wrong section, and
# a section joining it for a tenth of the question was cited wrongly 4 times in 5 (all sets: citation accuracy
# +0.024 mean over 17 sets, +0.031 on two unread sets not used to choose it; −4 answers of 1,000)
CONSENSUS_GAIN = 0.3
# a sentence says what its heading says too: the heading's question terms the sentence lacks count at this
# share of their weight ("一档：180元/人·年" under 三、缴费金额 answers "各档多少钱" as much as a summary item
# naming 缴费档次). Measured on all 24 sets: 0 / 0.3 / 0.5 / 0.7 → citation 0.8473 / 0.8499 / 0.8506 /
# 0.8511, answers wrong 105 / 101 / 103 / 103. The credit goes to the chunk's best sentence after it is chosen by
# its own words (counted in the choice, a short sentence lacking every word won its chunk by the heading's)
HEADING_SHARE = 0.5
# a top hit whose own heading names the asked matter (缴费 for a pay question, 异地 for remote care) is
# preferred as the lead by this factor (with HEADING_SHARE 0.5: 0 / 0.3 → citation 0.8496 / 0.8506, answers
# wrong 108 / 103)
HEADING_AFFINITY = 0.3
INTENT_HEADINGS: dict[str, re.Pattern[str]] = {
    "pay": re.compile(r"缴费|交费|收费|缴纳"),
    "claim": re.compile(r"报销|零星|结算"),
    "remote_care": re.compile(r"异地"),
    "suspend": re.compile(r"暂停|中止"),
    "enroll": re.compile(r"参保登记|参保对象|参保范围|如何参保|参保流程"),
    "benefit": re.compile(r"待遇|报销比例|起付|支付"),
    "graduate": re.compile(r"毕业"),
    "e_voucher": re.compile(r"医保码|电子凭证|电子医保|社保卡|社会保障卡"),
}
KIND_BONUS = 3.0  # a sentence of the asked kind (cap, deductible, date, fee) over other sentences with figures
QUOTE_CHARS = 300
LIST_CHARS = 160  # a lead introducing a list says its items up to this length
# a question that asks "how much / what ratio / what threshold" is answered by a figure
ASKS_FIGURE = re.compile(r"多少|几[块元个%成]|比例|标准|金额|起付|封顶|限额|百分|报多少|交多少|how much|ratio|rate|"
                         r"deductible|threshold|maximum|percent|\bfees?\b|\bcost", re.I)
# a question asking whom to ask, where to hand in, or a phone number: the contacts are part of the answer
# (a number asked for, not a student's own number in a counselor's paste: 电话13871234567, 电话 137****4528)
_ASKS_NUMBER = r"(?:电话|热线|联系方式)(?![:：]?\s*\d)|打哪|phone|hotline"
ASKS_CONTACT = re.compile(r"找谁|问谁|交给谁|哪个部门|什么部门|哪个科室|哪个办公室|联系人|\bwho\b|" + _ASKS_NUMBER, re.I)
# what kind of figure a question asks for → what a sentence giving that figure holds (topic and figure)
_YUAN = r"\d+(?:\.\d+)?\s*(?:万元|万|元)"
_AMOUNT = ".*" + _YUAN
ANSWER_KINDS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(r"最多|最高|封顶|上限|限额|\bmax", re.I), re.compile(r"(?=.*(?:最高|封顶|限额|上限))" + _AMOUNT)),  # cap
    # a deductible, in yuan (从多少钱开始报 asks for it too)
    (re.compile(r"起付|门槛|开始报|起报|deductible", re.I), re.compile(r"(?=.*起付)" + _AMOUNT)),
    (re.compile(r"截止|几号|哪天|哪一天|几月|哪个月|什么时候|啥时候|何时|保到|用到|deadline|\bwhen\b|"
                r"\b(?:which|what) date", re.I), re.compile(r"\d+月\d+日")),  # a date
    # a delay: 多久能用 is answered by 次日 or 3个工作日
    (re.compile(r"多久|多长时间|几天|多少天|how long", re.I),
     re.compile(r"次日|当日|当天|\d+\s*个?(?:工作日|自然日|天|日内|分钟|小时|个月)")),
    # the materials to bring: the sentence that lists them ("办理报销申报需提交材料：" with its list), not one
    # that mentions materials in passing
    (re.compile(r"(?:哪些|什么|啥|准备|带|交|提供)[^，。？?]{0,4}(?:材料|资料|证件|手续)|documents?\b", re.I),
     re.compile(r"(?:材料|资料|证件|证明)[^。；;]{0,24}[：:]\s*$")),
    # a web address (网址是多少 is answered by the URL, not by the step saying "登录参保系统")
    (re.compile(r"网址|网站|网页|链接|官网|\burl\b|website|\blink\b", re.I), re.compile(r"https?://|www\.", re.I)),
    # a phone number (电话多少: the sentence giving it, not one saying "拨打热线")
    # (digits bounded by non-digits: \b would not part 热线 from 12393, both being word characters)
    (re.compile(_ASKS_NUMBER, re.I),
     re.compile(r"(?<!\d)(?:\d{3,4}-)?\d{7,8}(?!\d)|(?<![\d-])\d{3,4}-\d{5}(?!\d)|(?<!\d)\d{5}(?![\d元%万])")),
    # where to get care: the sentence naming the hospitals (看门诊能去哪些地方 → 门诊定点医院：…), not a figure
    # about 门诊 ("where to claim" or "where to register" is not this: 住院去哪报销)
    (re.compile(r"(?:看病|看门诊|门诊|就医|就诊|住院|看急诊)(?:能|可以|要|得|该|应该|必须|只能)?(?:去|到|在)?(?:哪|什么地方)"
                r"(?!(?:里|儿|个部门)?(?:报|交|缴|办|备案|申请|领|登记))|(?:去|到|在)(?:哪|什么地方)(?:里|儿|些地方|家|"
                r"个|些)?(?:医院)?(?:能|可以)?(?:看病|看门诊|就医|就诊|住院)|which hospitals?|where\b.{0,20}\b(?:see a "
                r"doctor|treatment|hospital)", re.I),
     re.compile(r"医院|医务室|医疗机构|卫生院|卫生服务中心")),
    # what to do when something fails: the sentence about that failure ("人脸识别一直失败怎么办" → 若人脸识别失败，
    # 可调整光线…), not the steps that worked for everyone else
    (re.compile(r"失败|不成功|出错|报错|[刷扫识激登注申][^，。？?]{0,3}不(?:了|上|成功|出来)|打不开|fail|error|"
                r"不(?:了|上|成功|出来)[了啊呀]?[，,]?(?:怎么办|咋办|咋整|怎么处理|如何处理)", re.I),
     re.compile(r"失败|无法|不能|不成功|错误|不支持|不了")),
    # which app or platform: the sentence naming one ("在哪个平台办参保" → 学生可在“四川医保公共服务平台”上注册认证…),
    # not a step inside it (点击“城乡居民参保登记”)
    (re.compile(r"(?:哪个|哪一个|什么|啥|哪些)(?:平台|app|软件|小程序|公众号|系统|渠道)|用(?:什么|啥)(?:app|软件|小程序)|"
                r"\b(?:which|what) (?:app|platform)", re.I),
     re.compile(r"app|小程序|公众号|随申办|一网通办|[“\"][^”\"]{2,20}平台[”\"]", re.I)),
    # what the student pays, not the total funding (个人缴费标准为400元, not 筹资标准…1200元，包括…个人缴费两部分)
    (re.compile(r"交多少|多少钱|几块钱|多少块|缴多少|缴费标准|交费标准|\bfees?\b", re.I),
     re.compile(r"(?:个人(?:缴费标准|缴费|缴纳)|[一二]档)[^，。；;]{0,6}?" + _YUAN)),  # or a tier's fee: 一档180元
)


# the hits BM25 or the dense search ranked first: chunk id → which of them ("bm25", "dense")
Firsts = Mapping[str, frozenset[str]]


def firsts_of(ranks: Ranks) -> dict[str, frozenset[str]]:
    """The hits BM25 or the dense search ranked first, from their ranks."""
    out = {cid: frozenset(name for name, r in zip(("bm25", "dense"), pair) if r == 1) for cid, pair in ranks.items()}
    return {cid: by for cid, by in out.items() if by}


@dataclass
class DocInfo:
    """What the composer needs to know about a guide (from its front-matter)."""

    doc_id: str
    city: str
    city_name: str
    title: str
    policy_year: int
    valid_note: str
    contacts: list[dict[str, Any]] = field(default_factory=list)
    old: bool = False  # figures from an earlier year: say so
    school: str | None = None  # the school whose guide it is (None: a city's guide for all its schools)


@dataclass
class Composed:
    text: str
    citations: list[Citation]
    led: bool = False  # a sentence of the guides answers the question (else only related text was found)


class CitationList:
    """Numbers chunks in order of first use."""

    def __init__(self, docs: dict[str, DocInfo]) -> None:
        self.docs = docs
        self.items: list[Citation] = []

    def cite(self, chunk: Chunk, quote: str | None = None) -> int:
        for c in self.items:
            if c.chunk_id == chunk.chunk_id:
                return c.n
        n = len(self.items) + 1
        text = quote or chunk.text
        self.items.append(
            Citation(n=n, doc_id=chunk.doc_id, city=chunk.city, title=chunk.title, section=chunk.section,
                     quote=text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "…", chunk_id=chunk.chunk_id)
        )
        return n


@dataclass(frozen=True)
class Scorer:
    """Relevance of a piece of text to the question: the summed weight (BM25 idf) of the question's terms it
    contains. ``terms`` lets the composer ask which parts of the question a text covers."""

    weights: dict[str, float]
    tokens: Callable[[str], Iterable[str]]
    asked: frozenset[str] | None = None  # the terms the student wrote, not the synonyms the query adds (None: all)

    def terms(self, text: str) -> set[str]:
        return set(self.weights).intersection(self.tokens(text))

    def asked_terms(self, terms: Iterable[str]) -> set[str]:
        return set(terms) if self.asked is None else set(terms) & self.asked

    def weight(self, terms: Iterable[str]) -> float:
        return sum(self.weights[t] for t in terms)

    def __call__(self, text: str) -> float:
        return self.weight(self.terms(text))


def _faq_answer(text: str) -> str:
    m = re.search(r"(?:\*\*)?答[：:](?:\*\*)?", text)
    return text[m.end():].strip() if m else text


def _plain(text: str) -> str:
    return re.sub(r"\*\*", "", text).strip()


_CELL_STOP = re.compile(r"。(?=[；;。])")
_FIGURE = re.compile(r"\d[\d,.]*\s*(?:元|万元|%|％)")
_LIST_MARK = re.compile(r"^\s*(?:\d{1,2}[.、．)）]|[（(][一二三四五六七八九十\d]+[）)]|[-•])\s*")


def _sentences(text: str) -> list[str]:
    """Whole sentences (a list in one sentence, split by ；, stays together); lines are units too."""
    return [s for line in text.splitlines() for s in re.findall(r"[^。！？!?]+[。！？!?]*", line) if s.strip()]


def answer_kinds(question: str) -> list[re.Pattern[str]]:
    """For a question asking for a cap, a deductible, a date or a fee: what a sentence giving it must contain."""
    return [says for asks, says in ANSWER_KINDS if asks.search(question)]


def best_sentence(chunk: Chunk, score: Scorer, *, wants_figures: bool = False,
                  kinds: Sequence[re.Pattern[str]] = ()) -> tuple[float, bool, str] | None:
    """A chunk's sentence that best answers the question: (value, of the asked kind, sentence); shorter
    sentences are preferred, one with a figure when the question asks for one, one of the asked kind more."""
    best: tuple[float, bool, str, float] | None = None  # (value, kind, sentence, its heading's credit)
    body = _faq_answer(chunk.text) if chunk.kind == "faq" else chunk.text
    units = [body] if chunk.kind == "table_row" else _sentences(_plain(body))
    whole = _plain(body).strip()
    if len(units) > 1 and len(whole) <= SHORT_CHUNK and "\n" not in whole:
        units.append(whole)  # a couple of short sentences answer together (who may choose it; what to upload)
    heading = score.terms(_heading(chunk))
    for sentence in units:
        sentence = _LIST_MARK.sub("", sentence.strip())
        if len(sentence) < 6 or sentence.startswith(("|", "表：")):
            continue
        own = score.terms(sentence)
        factor = 1 / max(1.0, len(sentence) / 60) ** 0.4
        if wants_figures and _FIGURE.search(sentence):
            factor *= 1.6
        kind = any(k.search(sentence) for k in kinds)
        if kind:
            factor *= KIND_BONUS
        # the sentence is chosen by its own words; its heading's words then add to its value (they say which
        # chunk answers, not which of its sentences: a short sentence lacking every word must not win by them)
        value = score.weight(own) * factor
        if best is None or value > best[0]:
            best = (value, kind, sentence, HEADING_SHARE * score.weight(heading - own) * factor)
    return (best[0] + best[3], best[1], best[2]) if best else None


Found = tuple[float, bool, str] | None  # a chunk's best sentence: (value, of the asked kind, sentence)


def top_sentences(hits: Sequence[Chunk], score: Scorer, *, wants_figures: bool = False,
                  kinds: Sequence[re.Pattern[str]] = ()) -> list[Found]:
    """The best sentence of each of the top hits (what the lead is chosen from, and how sure it is)."""
    return [best_sentence(c, score, wants_figures=wants_figures, kinds=kinds) for c in hits[:LEAD_WINDOW]]


def lead_sentence(hits: Sequence[Chunk], score: Scorer, *, wants_figures: bool = False,
                  kinds: Sequence[re.Pattern[str]] = (), found: Sequence[Found] | None = None,
                  intent: str = "") -> tuple[int, str] | None:
    """The sentence that best answers the question among the top chunks: (hit index, sentence). A sentence
    with a figure is preferred when the question asks for one, and one of the asked kind (a cap, not a ratio
    table row, for 最多报多少) even more; earlier hits, the city's own guide and a hit whose heading names the
    ``intent``'s matter (:data:`INTENT_HEADINGS`) are preferred. ``found``: the
    hits' :func:`top_sentences`, when already known."""
    best: tuple[float, int, str] | None = None
    local = any(c.city != "national" for c in hits[:LEAD_WINDOW])
    if found is None:
        found = top_sentences(hits, score, wants_figures=wants_figures, kinds=kinds)
    any_kind = any(f is not None and f[1] for f in found[:LEAD_WINDOW])
    for i, (chunk, sentence) in enumerate(zip(hits[:LEAD_WINDOW], found)):
        if sentence is None:
            continue
        value = sentence[0] / (1 + RANK_DECAY * i)
        if local and chunk.city == "national":
            value *= 0.6
        # (not for a hit without the asked kind of sentence when another top hit has one: the kind says more)
        topic = INTENT_HEADINGS.get(intent)
        if topic and topic.search(_heading(chunk)) and (sentence[1] or not any_kind):
            value *= 1 + HEADING_AFFINITY
        if best is None or value > best[0]:
            best = (value, i, sentence[2])
    return (best[1], best[2]) if best and best[0] > 0 else None


def lead_trusted(hits: Sequence[Chunk], anchor: int, score: Scorer, judge: LeadJudge, *, ranks: Ranks,
                 found: Sequence[Found], wants_figures: bool, kinds: Sequence[re.Pattern[str]]) -> bool:
    """Whether ``judge`` (:mod:`app.answer.leads`) trusts the lead chunk ``hits[anchor]`` among the top hits
    (``found``: their :func:`top_sentences`); a lead from beyond them (a sub-section :func:`narrower` found)
    is not judged."""
    top = list(hits[:LEAD_WINDOW])
    if anchor >= len(top):
        return False
    values = [(f[0], f[1]) if f else (0.0, False) for f in found]
    lead = top[anchor]
    asked = score.asked_terms(score.weights)
    heading = score.terms(_heading(lead))
    return judge.trusts(lead, lead_features(
        top, anchor, values, ranks=ranks, asked_weight=score.weight(asked), all_weight=score.weight(score.weights),
        heading_asked=score.weight(score.asked_terms(heading)), heading_all=score.weight(heading),
        body_asked=score.weight(score.asked_terms(score.terms(lead.text))), has_kinds=bool(kinds),
        wants_figures=wants_figures))


# a sentence that points at what its heading names (可选这个备案类型, 该类人员) is read under that heading
_DEICTIC = re.compile(r"这个|这种|这类|该类|此类")


def _below(chunk: Chunk, parent: Chunk) -> bool:
    """Whether ``chunk`` is from a sub-section of ``parent``'s section."""
    return chunk.doc_id == parent.doc_id and chunk.section.startswith(f"{parent.section} > ")


def _label(chunk: Chunk) -> str | None:
    """A sub-section's heading when it is a short label (异地长期居住人员), without its list mark;
    else None."""
    if " > " not in chunk.section or chunk.kind == "faq":
        return None
    label = _LIST_MARK.sub("", _heading(chunk)).strip()
    return label if 0 < len(label) <= 12 else None


def deeper(hits: Sequence[Chunk], lead: int, found: Sequence[Found]) -> int | None:
    """One of the top hits from a sub-section of the lead's section whose best sentence answers at least as
    well as the lead's: the more specific section leads (the sentence under （1）异地长期居住人员 that
    says students treated where their household is registered choose it, not a row of the 备案类型 table
    above it)."""
    first, own = hits[lead], found[lead] if lead < len(found) else None
    if own is None:
        return None
    best: tuple[float, int] | None = None
    for j, (chunk, f) in enumerate(zip(hits[:LEAD_WINDOW], found, strict=False)):
        if f is not None and _below(chunk, first) and f[0] >= own[0] and (best is None or f[0] > best[0]):
            best = (f[0], j)
    return best[1] if best else None


def narrower(hits: Sequence[Chunk], lead: int, score: Scorer) -> int | None:
    """A found sub-section of the lead's section whose heading names a part of the question the lead's own
    heading does not: the introduction listing the options ("支持支付宝、微信…等方式缴费") gives way to the
    sub-section about the asked one ("（一）支付宝缴费") for "用支付宝咋交". (An option with no sub-section of
    its own, 能用微信交吗, keeps the introduction.)"""
    first = hits[lead]
    if first.kind != "text":
        return None
    own = score.terms(_heading(first))
    for j, chunk in enumerate(hits):
        if _below(chunk, first) and (
            score.asked_terms(score.terms(_heading(chunk)) - own)
        ):
            return j
    return None


def with_list(sentence: str, chunk: Chunk, limit: int = LIST_CHARS) -> str:
    """A lead that introduces a list ("报销申报需提交材料：") says the list's items after it, on one line, as far as
    ``limit`` characters allow; any other lead is returned as it is."""
    if not sentence.rstrip().endswith(("：", ":")):
        return sentence
    lines = _plain(_faq_answer(chunk.text) if chunk.kind == "faq" else chunk.text).splitlines()
    start = next((n for n, line in enumerate(lines) if sentence.strip() in _LIST_MARK.sub("", line)), None)
    if start is None:
        return sentence
    items: list[str] = []
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        if not _LIST_MARK.match(line):
            break
        item = _LIST_MARK.sub("", line).strip().rstrip("；;。，,")
        if items and len(sentence) + len("；".join([*items, item])) > limit:
            items.append("…")
            break
        items.append(item)
    return sentence.rstrip() + "；".join(items).replace("；…", "…") + ("。" if items and items[-1] != "…" else "")


def summarize_for(table: Table, score: Scorer) -> str | None:
    """The table's summary for this question: the columns it asks about, the rows it names (by words other
    than those of the asked columns' headers: 起付线 in a 门急诊 row's label does not name that row)."""
    asked_terms = {t for h in table.header if score(h) > 0 for t in score.terms(h)}
    return summarize(table, lambda header: score(header) > 0,
                     lambda labels: bool(score.terms(labels) - asked_terms))


def render_block(chunk: Chunk) -> str:
    if chunk.kind == "faq":
        question = re.sub(r"\*\*|问[：:]", "", chunk.text.split("\n", 1)[0]).strip()
        return f"{question}\n{_plain(_faq_answer(chunk.text))}"
    if chunk.kind == "table_row":
        return f"- {chunk.text}"
    return _plain(chunk.text)


def _heading(chunk: Chunk) -> str:
    return chunk.section.rpartition(" > ")[2]


# the kinds of care a guide's sections are about: a section headed by one the question does not name (六、住院医保
# 如何报销 or 五、普通门诊 for 门诊慢特病…能报多少) answers another question
CARE = {"outpatient": re.compile(r"门诊(?!慢|特殊|特病)|门急诊|急诊|校医院|医务室|拿药|开药|感冒|小病|outpatient", re.I),
        "chronic": re.compile(r"慢特病|慢性病|慢病|特殊疾病|门特|门慢|chronic", re.I),
        "inpatient": re.compile(r"住院|inpatient|hospitali[sz]", re.I)}


def care_named(text: str) -> frozenset[str]:
    """The kinds of care (``CARE``) ``text`` names."""
    return frozenset(k for k, pattern in CARE.items() if pattern.search(text))


# a section for students at graduation (毕业之后医保如何处理 > 四、参加户籍地城乡居民医疗保险: "毕业后…首先要暂停学籍地
# 医保关系") answers a question about graduation only, although it shares the words of others (暂停, 户籍地)
GRADUATION = re.compile(r"毕业|graduat", re.I)


def headings(chunk: Chunk) -> str:
    """What a chunk says it is about: its section's headings, and an FAQ pair's question (大学生发生的急诊费用是否
    可以申请报销？ is about 急诊 under 4. 就医政策 > 常见问题)."""
    if chunk.kind == "faq":
        return f"{chunk.section} > {chunk.text.split(chr(10), 1)[0]}"
    return chunk.section


def not_for_graduates(hits: Sequence[Chunk]) -> list[Chunk]:
    """The hits whose headings are not about graduation (``GRADUATION``)."""
    return [h for h in hits if not GRADUATION.search(h.section)]


# a section about the e-voucher or the card (五、医保归属地更改 > （一）电子医保凭证参保地更新) answers a question about
# them, not one that shares its other words (老家 → 参保地: 老家的医保怎么暂停)
CARD_HEADING = re.compile(r"医保码|电子凭证|电子医保|社保卡|社会保障卡|医保卡")


def not_about_cards(hits: Sequence[Chunk]) -> list[Chunk]:
    """The hits whose headings are not about the e-voucher or the card (``CARD_HEADING``)."""
    return [h for h in hits if not CARD_HEADING.search(h.section)]


def of_the_care(hits: Sequence[Chunk], care: frozenset[str]) -> list[Chunk]:
    """The hits whose headings do not name only another kind of care than ``care``; all of them when none is
    left (or ``care`` is empty)."""
    kept = [h for h in hits if not ((theirs := care_named(headings(h))) and not theirs & care)]
    return kept if care and kept else list(hits)


def _same_rows(a: Chunk, b: Chunk) -> bool:
    """One is a row of the other, the whole table (shown once: as the table, or as the rows ranked above it)."""
    if a.section != b.section or a.doc_id != b.doc_id or {a.kind, b.kind} != {"table_row", "text"}:
        return False
    row, table = (a, b) if a.kind == "table_row" else (b, a)
    return is_row_of(row.text, table.text)


def pick_blocks(hits: Sequence[Chunk], limit: int = MAX_BLOCKS, *, anchor: int = 0,
                score: Scorer | None = None, gain: float = 0.0, firsts: Firsts | None = None,
                ranks: Ranks | None = None, gate: JoinGate | None = None,
                kinds: Sequence[re.Pattern[str]] = (), trusted: bool = False) -> list[Chunk]:
    """The chunk the lead came from, then chunks of its section (rows of one table stay together), then chunks
    of other sections: those only when they cover a part of the question the chosen ones do not (terms the
    student wrote worth at least ``gain`` × their weight; 大中专学生 added for 大学生 does not count), or when
    BM25 or the dense search ranked them first (``firsts``) and the fusion kept them in the top
    ``FREE_RANK`` + 1: the two retrievers disagree on the best chunk, so both are shown — except BM25's first
    when the lead is the dense search's first: the lead is chosen by the question's words, so it already beat
    BM25's first on them, and the dense search agrees with it (such a join cited a wrong section 11 times in 12
    on the opened sets, where a dense first joining a BM25-first lead is right half the time). When both ranked
    the lead's chunk first, the share a section must cover rises to ``CONSENSUS_GAIN``. Near-duplicates go.
    A neighbouring section that merely repeats the question's words adds nothing to the answer and would be
    cited for nothing (measured on dev: citation
    precision 0.59 → 0.65 for the gain rule, 0.66 → 0.76 for the retrievers' firsts, 0.77 → 0.79 for counting
    only the student's own words, accuracy unchanged or better). A ``gate`` (:mod:`app.answer.joins`) has the
    last word on each chunk of another section these rules admit. A ``trusted`` lead (:mod:`app.answer.leads`)
    takes no other section but its own sub-sections."""
    first = hits[anchor]
    firsts = firsts if firsts is not None else firsts_of(ranks or {})
    lead_by = firsts.get(first.chunk_id, frozenset())
    if lead_by == {"bm25", "dense"}:
        gain = max(gain, CONSENSUS_GAIN)
    rank = {c.chunk_id: i for i, c in reversed(list(enumerate(hits)))}
    covered = score.terms(first.text) if score else set()
    lead_terms = set(covered)
    asked = score.asked_terms(score.weights) if score else set()
    total = score.weight(asked) if score else 0.0
    lead_heading = score.terms(_heading(first)) if score else set()
    ordered = [first, *(h for h in hits if h is not first and h.section == first.section),
               *(h for h in hits if h is not first and h.section != first.section)]
    chosen: list[Chunk] = []
    used = 0
    for chunk in ordered:
        if len(chosen) >= limit and not (chunk.kind == "table_row" and any(
            c.kind == "table_row" and c.section == chunk.section for c in chosen
        )):
            continue
        if any(chunk.text in c.text or c.text in chunk.text for c in chosen):
            continue
        if chunk.kind == "table_row" and any(_same_rows(chunk, c) for c in chosen):
            continue  # its table is shown
        rows = [c for c in chosen if c is not first and _same_rows(chunk, c)]  # a whole table replaces its rows
        freed = sum(len(c.text) for c in rows)
        if used and used - freed + len(chunk.text) > MAX_CHARS:
            continue
        if trusted and chunk.section != first.section and not _below(chunk, first):
            continue
        if score and chunk.section != first.section:
            new = score.terms(chunk.text) - covered
            gained = score.asked_terms(new)  # a synonym the query added is not a part of the question
            by = firsts.get(chunk.chunk_id, frozenset())
            free = bool(by) and rank[chunk.chunk_id] <= FREE_RANK and not (by == {"bm25"} and "dense" in lead_by)
            if (score.weight(gained) < gain * total or not gained or rank[chunk.chunk_id] > GAIN_RANK) and not free:
                continue
            if gate and not gate.admit(chunk, join_features(
                chunk, first, position=rank[chunk.chunk_id], ranks=ranks or {}, weights=score.weights,
                chunk_terms=score.terms(chunk.text), lead_terms=lead_terms,
                heading_terms=score.terms(_heading(chunk)), lead_heading_terms=lead_heading, asked=asked,
                kinds=kinds,
            )):
                continue
            covered |= new
        if rows:
            at = chosen.index(rows[0])
            chosen = [c for c in chosen if c not in rows]
            chosen.insert(at, chunk)
        else:
            chosen.append(chunk)
        used += len(chunk.text) - freed
    return chosen


def outline(children: Sequence[Chunk], cites: CitationList, limit: int = 6) -> str | None:
    """A section's sub-sections, each with its heading and first sentence: a broad question answered from a
    section's introduction ("毕业以后医保怎么处理") gets the options the guide lists under it."""
    if len(children) < 2:
        return None
    lines = []
    for child in children[:limit]:
        body = _faq_answer(child.text) if child.kind == "faq" else child.text
        first = next((_LIST_MARK.sub("", s) for s in _sentences(_plain(body)) if not s.startswith(("|", "表："))), "")
        heading = child.section.rpartition(" > ")[2]
        lines.append(f"- {heading}：{first.strip()} [{cites.cite(child)}]")
    return "\n".join(lines)


def contacts_for(docs: Sequence[DocInfo], intent: str, limit: int = 2) -> list[tuple[str, str, str]]:
    """(doc_id, name, phone or address) of the offices or hotlines from the guides' front-matter, those
    matching the intent first."""
    keys = {"remote_care": "备案|异地", "claim": "报销|医保", "pay": "缴费|税务|财务", "e_voucher": "社保卡|社会保障卡|医保"}
    pattern = keys.get(intent, "医保|咨询|热线")
    rows: list[tuple[int, tuple[str, str, str]]] = []
    for doc in docs:
        for c in doc.contacts:
            reach = c.get("phone") or c.get("address")
            if not reach:
                continue
            rows.append((0 if re.search(pattern, str(c.get("name", ""))) else 1, (doc.doc_id, c["name"], reach)))
    # the offices for this matter only, when the guide names any (a remote-care question gets the remote-care
    # number, not the social-security-card hotline beside it)
    if any(rank == 0 for rank, _ in rows):
        rows = [r for r in rows if r[0] == 0]
    seen: list[tuple[str, str, str]] = []
    for _, row in rows:
        if row not in seen:
            seen.append(row)
    return seen[:limit]


def contact_line(docs: Sequence[DocInfo], intent: str, cites: CitationList | None = None,
                 source: Callable[[str, str], Chunk | None] | None = None) -> str:
    """The contacts for the matter, "name：phone；…"; with ``cites`` and ``source`` (which chunk of a guide
    gives a phone or address) the sections giving them are cited after them."""
    contacts = contacts_for(docs, intent)
    line = "；".join(f"{name}：{reach}" for _, name, reach in contacts)
    if line and cites is not None and source:
        found = {c.chunk_id: c for doc_id, _, reach in contacts if (c := source(doc_id, reach))}
        line += "".join(f"[{cites.cite(c)}]" for c in found.values())
    return line


def notices(docs: Sequence[DocInfo]) -> list[str]:
    return [f"注意：{d.valid_note}" for d in docs if d.old]


def sources_block(citations: Sequence[Citation]) -> str:
    """One line per section: the passages quoted from one section (a table's rows) share it, [2][3] …"""
    numbers: dict[tuple[str, str], list[int]] = {}
    for c in citations:
        numbers.setdefault((c.title, c.section), []).append(c.n)
    return "\n".join(f"{''.join(f'[{n}]' for n in ns)} {title} › {section}"
                     for (title, section), ns in numbers.items())


def compose_answer(
    *,
    hits: Sequence[Chunk],
    docs: dict[str, DocInfo],
    intent: str,
    score: Scorer,
    city_name: str | None,
    calculation_text: str | None = None,
    calculation_sources: Sequence[Chunk] = (),
    question: str = "",
    table_of: Callable[[Chunk], Chunk | None] | None = None,
    ranks: Ranks | None = None,
    gate: JoinGate | None = None,
    leads: LeadJudge | None = None,
    children_of: Callable[[Chunk], Sequence[Chunk]] | None = None,
    contact_source: Callable[[str, str], Chunk | None] | None = None,
) -> Composed:
    """``ranks``: each hit's BM25 and dense rank (the hits a retriever ranked first follow, see
    :func:`pick_blocks`); ``gate`` weighs the chunks of other sections that would join, ``leads`` whether
    the lead needs them at all; ``contact_source``
    finds the chunk of a guide (doc_id) that gives a contact's phone or address, cited when the question
    asks whom to ask (``ASKS_CONTACT``). ``table_of`` finds the
    whole-table chunk a table row belongs to: a figure question led by one row is led by the table's figures
    for every row instead (:mod:`app.answer.tables`)."""
    cites = CitationList(docs)
    parts: list[str] = []
    if calculation_text:
        refs = "".join(f"[{cites.cite(c)}]" for c in calculation_sources)
        parts.append(calculation_text + refs)
    wants_figures = bool(question and ASKS_FIGURE.search(question))
    kinds = answer_kinds(question)
    found = top_sentences(hits, score, wants_figures=wants_figures, kinds=kinds)
    lead = lead_sentence(hits, score, found=found, intent=intent)
    # a sub-section chosen over its parent's own text is named (its heading says what the sentence is
    # about), and so is one whose sentence points at its heading
    deep = deeper(hits, lead[0], found) if lead else None
    if deep is not None:
        lead = (deep, found[deep][2])  # type: ignore[index]
    labelled = deep is not None
    if lead and (j := narrower(hits, lead[0], score)) is not None and (
        sub := lead_sentence([hits[j]], score, wants_figures=wants_figures, kinds=kinds)
    ):
        lead = (j, sub[1])
    trusted = bool(lead and leads and lead_trusted(hits, lead[0], score, leads, ranks=ranks or {}, found=found,
                                                   wants_figures=wants_figures, kinds=kinds))
    blocks = pick_blocks(hits, limit=2 if calculation_text else MAX_BLOCKS, anchor=lead[0] if lead else 0,
                         score=score, gain=BLOCK_GAIN, ranks=ranks, gate=gate, kinds=kinds,
                         trusted=trusted) if hits else []
    said = ""  # the lead as shown: a one-sentence chunk it says in full is not repeated below it
    if lead and not calculation_text:
        i, sentence = lead
        source = hits[i]
        if wants_figures and source.kind == "table_row" and table_of and (whole := table_of(source)):
            table = parse_table(whole.text)
            summary = summarize_for(table, score) if table else None
            if summary:
                sentence, source = summary, whole
        sentence = with_list(sentence, source)
        said = sentence.strip()
        if (labelled or _DEICTIC.search(sentence)) and (label := _label(source)) and label not in sentence:
            sentence = f"{label}：{sentence}"  # 可选这个备案类型 says which one only under its heading
        prefix = f"【{city_name}】" if city_name else ""
        parts.append(f"{prefix}{sentence}[{cites.cite(source)}]")
    details: list[str] = []
    shown = ""  # the outline's text: a one-sentence sub-section it holds is not repeated as a block
    for chunk in blocks:
        if shown and _plain(chunk.text) in shown:
            continue
        n = cites.cite(chunk)
        if not said or _LIST_MARK.sub("", _plain(render_block(chunk))).strip() != said:
            details.append(f"{render_block(chunk)} [{n}]")
        if lead and chunk is hits[lead[0]] and children_of and chunk.kind == "text" and not calculation_text:
            if overview := outline(children_of(chunk), cites):
                details.append(overview)
                shown = overview
    if details:
        parts.append(("相关规定：\n" if calculation_text else "详细说明：\n") + "\n\n".join(details))
    used_docs = [docs[d] for d in dict.fromkeys(c.doc_id for c in cites.items) if d in docs]
    parts += notices(used_docs)
    # whom to ask is (part of) the answer when the question asks it: the section giving the number is cited
    contact = contact_line(used_docs, intent, cites, contact_source if ASKS_CONTACT.search(question) else None)
    if cites.items:
        parts.append("来源：\n" + sources_block(cites.items))
    if contact:
        parts.append(f"咨询：{contact}")
    # a table cell's own full stop inside its row's sentence (…作废。；办理方式 …报销。。) is not shown
    return Composed(_CELL_STOP.sub("", "\n\n".join(parts)), cites.items, led=lead is not None)
