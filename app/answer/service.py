"""The answer pipeline: understand → (clarify | refuse | calculate | retrieve) → compose. No FastAPI here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.answer import compose as cmp
from app.answer.joins import JoinGate, JoinModel, Ranks
from app.answer.leads import LeadJudge, LeadModel
from app.answer.extract import benefit_request, parse_admission, parse_cost, parse_level
from app.answer.models import AskRequest, AskResponse, Clarification
from app.answer.sessions import SessionState, SessionStore, make_session_store
from app.answer.tables import TABLE_PREFIX, is_row_of
from app.input_error import InputError
from app.privacy import mask_pii
from app.retrieval.index import LoadedIndex, load_configured_index
from app.retrieval.search import NATIONAL, city_scope, search
from app.settings import Settings, llm_enabled
from app.understanding.city import Gazetteer, detect_city, load_gazetteer, school_names_replaced
from app.understanding.coverage import guide_lacks, matter_words
from app.understanding.ellipsis import is_elliptical, resolve
from app.understanding.homophones import HomophoneFixer, domain_terms
from app.understanding.intent import CUES, DOMAIN, OFF_TOPIC, Intent, classify
from app.understanding.split import split_questions
from ingest.chunking import Chunk
from ingest.documents import City, load_cities, load_guides
from ingest.tokenize import USER_DICT

INTENT_HINTS = {
    "benefit": "报销比例 起付标准 支付限额 待遇", "claim": "报销 材料 流程", "pay": "缴费标准",
    "suspend": "暂停参保", "remote_care": "异地就医备案", "enroll": "参保登记", "graduate": "毕业后 医保",
    "e_voucher": "医保电子凭证 激活", "calc": "起付标准 报销比例 支付限额",
}
# a procedure the guides name one way (暂停参保, 异地就医备案, 医保电子凭证, 毕业后): its words join every search
# for it, not only follow-ups (measured on all sets: accuracy same or better; for pay/claim/enroll worse)
ALWAYS_HINT = frozenset({"suspend", "remote_care", "e_voucher", "graduate"})
# the social-security card is the e_voucher intent's other card: a question naming it (and not the e-voucher)
# searches with the guides' words for it, not the e-voucher's ("社保卡归属地怎么改" is not about 医保电子凭证)
CARD = re.compile(r"社保卡|社会保障卡|social security card", re.I)
VOUCHER = re.compile(r"医保码|电子凭证|电子医保|码")
CARD_HINT = "社会保障卡 社保卡"
FOLLOW_UP = re.compile(r"^(那|那么|那如果|如果是|如果|还有|换成|要是)")
NATIONAL_HOTLINE = "全国医保服务热线 12393"
# a follow-up's pull towards the sections the last answer cited (measured on the question sets: 0.3 keeps
# "那要是去校外的医院看门诊呢" in the outpatient section; 0.5 and 1 pull "最晚哪天要交" away from its own words)
PREFER_WEIGHT = 0.3
GUIDE_WORDS = 0.9  # share of a question's words found in the guides that makes it a question for them
NATIONAL_CUE = re.compile(r"国家(?:文件|政策|规定|医保局)|全国|national|国家层面|医保发", re.IGNORECASE)
# what only a city's guide can answer: an amount, a date, or where and with what to do something
LOCAL_FACT = re.compile(cmp.ASKS_FIGURE.pattern + r"|截止|几号|哪天|什么时候|何时|时间|几月|多久|deadline|when|"
                        r"小程序|APP|公众号|平台|网址|网站|入口|材料|流程|步骤|电话|窗口|办公室|哪个部门", re.I)
log = logging.getLogger(__name__)
# the product's own name in a question ("克拉玛依大学生医保住院报销比例") says what every guide is about, not which
# part of it. Where a guide rarely says 大学生 (Karamay: 校区学生; Dazhou), the few passages that do (继续深造的大学生)
# would outrank the asked one, so the search drops it there (idf above TOPIC_IDF; 0.6–0.7 where a guide says it
# throughout, 2.2 and 3.3 where it does not)
TOPIC = re.compile(r"大学生(?:医疗保险|医保)?")
TOPIC_IDF = 1.5
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Draft:
    """What an LLM may rewrite: the question and the evidence behind the extractive answer."""

    question: str
    city: str | None
    city_name: str | None
    chunks: list[Chunk]
    calculation: dict[str, Any] | None = None


@dataclass
class Answered:
    response: AskResponse
    draft: Draft | None = None


@dataclass
class StreamEvent:
    type: str  # "delta" (answer text) | "final" (the whole AskResponse)
    text: str = ""
    response: AskResponse | None = None


def load_doc_infos(knowledge_dir: Path, cities: dict[str, City], today: dt.date) -> dict[str, cmp.DocInfo]:
    infos = {}
    for g in load_guides(knowledge_dir):
        m = g.meta
        infos[m.doc_id] = cmp.DocInfo(
            doc_id=m.doc_id, city=m.city, city_name=cities[m.city].name, title=m.title,
            policy_year=m.policy_year, valid_note=m.valid_note,
            contacts=[c.model_dump(exclude_none=True) for c in m.contacts],
            old=m.city != NATIONAL and m.policy_year < today.year - 1, school=m.school,
        )
    return infos


class AnswerService:
    def __init__(self, settings: Settings, *, index: LoadedIndex | None = None,
                 sessions: SessionStore | None = None, today: dt.date | None = None) -> None:
        self.settings = settings
        self.index = index or load_configured_index(settings)
        self.cities = load_cities(settings.knowledge_dir)
        self.gazetteer: Gazetteer = load_gazetteer(settings.knowledge_dir / "gazetteer.yaml",
                                                    self.index.tokenizer.cut_all_chars)
        self.docs = load_doc_infos(settings.knowledge_dir, self.cities, today or dt.date.today())
        self._own_schools: dict[str, set[str]] = {}  # city → the schools whose own guides it has
        for d in self.docs.values():
            if d.school:
                self._own_schools.setdefault(d.city, set()).add(d.school)
        self.sessions = sessions or make_session_store(settings)
        self.fixer = self._homophone_fixer()
        self._tables = self._whole_tables()
        self._children = self._subsections()
        self._contacts = self._contact_sources()
        self._guide_texts = self._city_texts()
        # the chunks of other sections an answer adds pass this model (None: the composer's rules alone)
        self.joins: JoinGate | None = (None if settings.join_threshold == 0
                                       else JoinModel.load(threshold=settings.join_threshold))
        # a lead this model trusts takes no other section (None: other sections join by ``joins`` alone)
        self.leads: LeadJudge | None = (None if settings.lead_trust == 1
                                        else LeadModel.load(threshold=settings.lead_trust))
        self.llm: Any = None
        if llm_enabled(settings):
            from app.answer.llm import LLMWriter
            from app.calculator.tools import make_calculator_tools

            self.llm = LLMWriter(settings, make_calculator_tools(settings.knowledge_dir))

    def _homophone_fixer(self) -> HomophoneFixer:
        tok = self.index.tokenizer
        dict_file = (tok.dict_dir / USER_DICT) if tok.dict_dir else None
        words = [line.split()[0] for line in dict_file.read_text(encoding="utf-8").splitlines() if line.strip()] \
            if dict_file and dict_file.exists() else []
        words += [t for terms in tok.synonyms.values() for t in terms]
        # place and school names stay as written (重医 is not 中医), and so do the guides' own words (长护 is the
        # Karamay guide's 居民长护, not 账户 — 长 also reads zhǎng)
        return HomophoneFixer(domain_terms(words, tok.tokenize), tok.cut_all_chars,
                              keep=[a.text for a in self.gazetteer.aliases],
                              words=[t for t in self.index.bm25(None)[0].idf if len(t) >= 2])

    def _whole_tables(self) -> dict[tuple[str, str], list[Chunk]]:
        """The chunks holding a whole table (``表：<caption>`` + pipe table), by document and section."""
        out: dict[tuple[str, str], list[Chunk]] = {}
        for c in self.index.chunks:
            if c.kind == "text" and c.text.startswith(TABLE_PREFIX):
                out.setdefault((c.doc_id, c.section), []).append(c)
        return out

    def _subsections(self) -> dict[tuple[str, str], list[Chunk]]:
        """For a section with sub-sections: the first chunk of each direct sub-section, in the guide's order."""
        first: dict[tuple[str, str], Chunk] = {}
        for c in sorted(self.index.chunks, key=lambda c: (c.doc_id, c.order)):
            first.setdefault((c.doc_id, c.section), c)
        out: dict[tuple[str, str], list[Chunk]] = {}
        for (doc, section), chunk in first.items():
            parent, sep, _ = section.rpartition(" > ")
            if sep and (doc, parent) in first:
                out.setdefault((doc, parent), []).append(chunk)
        return out

    def _contact_sources(self) -> dict[tuple[str, str], Chunk]:
        """(doc_id, phone or address) of each contact in a guide's front-matter → the chunk of that guide that
        gives it (of several, the one naming most of the contact's name); a contact no chunk gives is left out."""
        out: dict[tuple[str, str], Chunk] = {}
        for doc in self.docs.values():
            chunks = [c for c in self.index.chunks if c.doc_id == doc.doc_id]
            for contact in doc.contacts:
                reach = str(contact.get("phone") or contact.get("address") or "")
                giving = [c for c in chunks if reach and reach in c.text]
                if giving:
                    name = set(str(contact.get("name", "")))
                    out[(doc.doc_id, reach)] = max(giving, key=lambda c: len(name & set(c.section + c.text)))
        return out

    def _city_texts(self) -> dict[str, str]:
        """Each covered city's guide text (headings and chunks), lower-cased: what :mod:`coverage` looks in."""
        texts: dict[str, list[str]] = {}
        for c in self.index.chunks:
            if c.city != NATIONAL:
                texts.setdefault(c.city, []).append(f"{c.section}\n{c.text}".lower())
        return {city: "\n".join(parts) for city, parts in texts.items()}

    def contact_source(self, doc_id: str, reach: str) -> Chunk | None:
        return self._contacts.get((doc_id, reach))

    def _children_of(self, chunk: Chunk) -> list[Chunk]:
        return self._children.get((chunk.doc_id, chunk.section), [])

    def _table_of(self, row: Chunk) -> Chunk | None:
        """The whole table a table-row chunk comes from (its sentence starts with the table's caption)."""
        return next((whole for whole in self._tables.get((row.doc_id, row.section), [])
                     if is_row_of(row.text, whole.text)), None)

    @property
    def covered(self) -> list[str]:
        return [c for c in self.cities if c != NATIONAL]

    # ---- public -------------------------------------------------------------------------------------
    def ask(self, req: AskRequest) -> AskResponse:
        final = None
        for event in self.ask_stream(req):
            if event.type == "final":
                final = event.response
        assert final is not None
        return final

    def ask_stream(self, req: AskRequest) -> Iterator[StreamEvent]:
        """Answer text in pieces as it is ready, then the final response (same as :meth:`ask`)."""
        # masked first: personal data never enters the pipeline (splitting may drop a name's "姓名：")
        # 暂庭 → 暂停, 克拉玛衣 → 克拉玛依: typos fixed before anything reads the question
        question = self.gazetteer.respell(self.fixer.fix(mask_pii(_CONTROL.sub("", req.question).strip())))
        if not question:
            raise InputError("问题不能为空")
        if req.city is not None and req.city not in self.covered:
            raise InputError(f"未知城市 “{req.city}”，可用：{'、'.join(self.covered)}")
        session_id = req.session_id or self.sessions.new_id()
        state = (self.sessions.get(session_id) if req.session_id else None) or SessionState()
        questions = split_questions(question)
        assumed: str | None = None  # a city named only by a guide's word for its own school (在校区交)
        if not req.city and (questions != [question] or not state.city):
            # what a pasted message says around its questions ("重医辅导员：…", "上海高校老师问：…") is their
            # context; a guide's word for its own school names its city when nothing else does
            whole = detect_city(question, self.gazetteer)
            if whole.city and (whole.source == "question" or not state.city):
                state.city, state.school = whole.city, whole.school
                assumed = whole.city if whole.source == "house_word" else None
        parts: list[AskResponse] = []
        for i, q in enumerate(questions, 1):
            if len(questions) > 1:
                yield StreamEvent("delta", f"{chr(10) * 2 if i > 1 else ''}【问题{i}】{mask_pii(q)}\n")
                state.sections = []  # a paste's questions are asked side by side, not one after the other
            before = questions[i - 2] if i > 1 else ""
            answered = self._answer_one(q, req.city, state, in_paste=len(questions) > 1, before=before)
            part = answered.response
            state.sections = [(c.doc_id, c.section) for c in part.citations if c.city != NATIONAL]
            # the assumption is said once, with the first answer that relies on it (not with a refusal)
            note = ""
            if assumed and part.city == assumed and not part.refused:
                note, assumed = self._assumption(assumed) + "\n\n", None
            if answered.draft is not None and self.llm is not None:
                if note:
                    yield StreamEvent("delta", note)
                part = yield from self._llm_answer(answered)
            else:
                yield from _pieces(note + part.answer)
            parts.append(part.model_copy(update={"answer": note + part.answer}) if note else part)
        if assumed and all(p.city != assumed or p.refused for p in parts):
            state.city = state.school = None  # nothing relied on it (校区食堂几点开门): not the conversation's city
        self.sessions.put(session_id, state)
        result = parts[0] if len(parts) == 1 else _merge(parts, questions)
        yield StreamEvent("final", response=result.model_copy(update={"id": req.id, "session_id": session_id}))

    def _assumption(self, city: str) -> str:
        name = self.cities[city].name
        return f"（你没有说学校或城市，按问题里的说法推断是{name}的学校，以下按{name}的指南回答；如果不是，请告诉我学校或城市。）"

    def _llm_answer(self, answered: Answered) -> Iterator[StreamEvent]:
        """Stream the LLM's checked sentences; fall back to the extractive answer if the LLM fails."""
        from app.answer.llm import LLMResult

        draft, base = answered.draft, answered.response
        assert draft is not None
        result = LLMResult()
        if draft.calculation:
            result.tool_outputs.append(json.dumps(draft.calculation, ensure_ascii=False))
        shown = False
        try:
            for sentence in self.llm.stream(mask_pii(draft.question), draft.city_name, draft.chunks, result):
                shown = True
                yield StreamEvent("delta", sentence)
        except Exception as exc:  # any endpoint failure: the embedded answer still stands
            log.warning("LLM 调用失败，改用检索答案：%s", type(exc).__name__)
            if not shown:
                yield from _pieces(base.answer)
                return base
        if not result.text.strip():
            yield from _pieces(base.answer)
            return base
        cites = cmp.CitationList(self.docs)
        used = sorted({int(n) for n in re.findall(r"\[(\d+)\]", result.text) if 0 < int(n) <= len(draft.chunks)})
        for n in used or range(1, len(draft.chunks) + 1):
            cites.cite(draft.chunks[n - 1])
        renumber = {str(n): str(i) for i, n in enumerate(used, 1)}
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{renumber.get(m.group(1), m.group(1))}]", result.text.strip())
        tail = []
        if result.withheld:
            tail.append("（部分数字未能在指南原文中核实，已略去，请以指南原文和经办机构答复为准。）")
        tail.append("来源：\n" + cmp.sources_block(cites.items))
        for piece in tail:
            yield StreamEvent("delta", "\n\n" + piece)
        calc = draft.calculation
        return base.model_copy(update={"answer": "\n\n".join([text, *tail]), "citations": cites.items,
                                       "calculation": calc})

    # ---- one question -----------------------------------------------------------------------------------
    def _answer_one(self, question: str, explicit_city: str | None, state: SessionState, *,
                    in_paste: bool = False, before: str = "") -> Answered:
        """``before``: the part of the paste before this one, if any."""
        named = [a.city for a in self.gazetteer.covered_names(question)]
        intent: Intent = classify(question, about_guides=bool(named) or self._in_guide_words(question))
        # in a conversation, a short or "那…" question, or one with no insurance word that is not about another
        # campus matter ("提交以后多久能建好账户", "照片有大小限制不"), continues the last topic; in a paste, a
        # short question ("3.在哪交钱") is one of a list asked side by side, not a follow-up
        follow_up = bool(state.intent) and (bool(FOLLOW_UP.match(question)) or (len(question) <= 8 and not in_paste) or (
            intent == "out_of_scope" and not OFF_TOPIC.search(question)))
        # a follow-up asking about another matter than the last question ("那住院呢 三级医院自己要出多少" after
        # "新生医保要交钱吗") is not pulled towards the last answer's sections
        same_matter = intent in ("other", "out_of_scope") or _matter(intent) == _matter(state.intent)
        # graduation stays the matter of a follow-up ("那如果不读了回老家参加居民医保呢" after 毕业以后读研…)
        graduation = follow_up and state.intent == "graduate"
        if follow_up and intent in ("other", "out_of_scope"):
            intent = state.intent  # type: ignore[assignment]
        if follow_up and state.intent == "calc" and intent in ("benefit", "calc"):
            intent = "calc"
        if intent == "out_of_scope" and named and not OFF_TOPIC.search(question) and is_elliptical(question):
            # "那克拉玛依呢" with nothing before it: a place and no question; ask what they want to know
            name = self.cities[named[0]].name
            return _done(f"【{name}】你想了解{name}大学生医保的哪方面？可以问参保登记、缴费标准和时间、暂停原参保地、"
                         "异地就医备案、报销材料和流程、起付线和报销比例、毕业后怎么办。", named[0], "other")
        if intent == "out_of_scope":
            return _done(
                "抱歉，我是大学生医保助手，只能回答参保、缴费、暂停参保、异地就医备案、报销和医保待遇等问题。"
                "请换个与医保相关的问题试试。", None, intent, refused=True,
            )
        guess = detect_city(question, self.gazetteer, explicit=explicit_city,
                            session_city=state.city, session_school=state.school)
        city = guess.city
        if city is None and guess.uncovered and state.city and not follow_up:
            # "暑假在乌鲁木齐住院了怎么报" from a Karamay student: a place without a guide named in a full question
            # of the conversation is where they are or were treated, not where they are insured ("那成都呢" asks
            # about that place instead)
            city = state.city
        if city is None and len(guess.mentioned) > 1:
            parts = [self._answer_one(f"{question}（{self.cities[c].name}）", c, state.model_copy()).response
                     for c in guess.mentioned]
            return Answered(_merge(parts, [self.cities[c].name for c in guess.mentioned]))
        # "那住院呢" after "重医看门诊去哪看" asks "重医看住院去哪看"
        resolved = resolve(question, state.last_question) if follow_up and intent != "calc" else None
        if (not resolved and follow_up and guess.source == "question" and state.city and city != state.city
                and state.last_question and is_elliptical(question)):
            # "那克拉玛依那边呢" after "上海…一年交多少" asks "克拉玛依…一年交多少"
            resolved = self._other_place(state.last_question, question)
        if resolved and (full := classify(resolved)) not in ("other", "out_of_scope", "calc"):
            intent = full
        state.intent = intent
        if resolved or not (follow_up and intent == "calc"):
            state.last_question = mask_pii(resolved or question)
        if city is None and guess.uncovered:
            return Answered(self._uncovered(question, guess.uncovered, intent))
        if city is None:
            return Answered(self._no_city(question, intent))
        state.city, state.school = city, guess.school or (state.school if state.city == city else None)
        if lacking := guide_lacks(matter_words(question, intent), city, self._guide_texts,
                                  self.index.tokenizer.synonyms):
            return Answered(self._not_in_guide(city, intent, lacking))
        if intent == "calc":
            calc_question = f"{state.last_question} {question}" if follow_up else question
            return self._calculate(calc_question, question if follow_up else None, city, intent)
        if intent == "benefit" and cmp.ASKS_FIGURE.search(question) and (
            given := self._figures_not_given(question, city, intent)
        ):
            return given
        # a follow-up read whole ("重医看住院去哪看") is searched as such; another one ("交多少") carries its
        # intent's words into the search, and so does any question about a named procedure (ALWAYS_HINT)
        query = resolved or (f"{question} {INTENT_HINTS.get(intent, '')}" if follow_up else question)
        keywords = _hint(intent, question) if intent in ALWAYS_HINT and not follow_up and not resolved else ""
        # a follow-up pulls towards the sections the last answer cited, unless it swapped a part of the last
        # question (门诊 → 住院): then it asks about another section
        prior = {tuple(s) for s in state.sections} if follow_up and not resolved and same_matter else set()
        # a part naming no insurance matter of its own ("…门诊慢特病去哪申请？认定下来以后能报多少") is about
        # the part before it: that part's words help find its sections, its own words choose the answer
        context = before if before and not DOMAIN.search(question) else ""
        return self._retrieve_and_compose(query, city, intent, question=question, prefer=prior, keywords=keywords,
                                          context=context, before=before,
                                          graduation=graduation)

    def _other_place(self, previous: str, follow_up: str) -> str:
        """The last question asked of the place the follow-up names: its place names swapped for that one."""
        name = self.gazetteer.covered_names(follow_up)[0].text
        old = {a.text for a in self.gazetteer.covered_names(previous)}
        if not old:
            return f"{name} {previous}"
        return re.sub("|".join(re.escape(t) for t in sorted(old, key=len, reverse=True)), name, previous)

    def _in_guide_words(self, question: str) -> bool:
        """(Nearly) all the question's words are the guides' words (measured: off-topic questions in the sets
        have at most 2/3 of their words in the guides)."""
        idf = self.index.bm25(None)[0].idf
        words = {t for t in self.index.tokenizer.tokenize(question) if len(t) >= 2}
        return len(words) >= 3 and sum(t in idf for t in words) >= GUIDE_WORDS * len(words)

    def _hits(self, query: str, city: str | None, k: int | None = None,
              prefer: Collection[tuple[str, str]] = (), keywords: str = "") -> tuple[list[Chunk], Ranks]:
        """The chunks found, best first, and each one's BM25 and dense rank."""
        s = self.settings
        dense_query = None
        if city and city != NATIONAL:
            query, dense_query = school_names_replaced(
                query, self.gazetteer, city, city_name=self.cities[city].name,
                own_schools=self._own_schools.get(city, set()))
        hits = search(self.index, query, city=city, k=k or s.top_k, candidates=s.candidate_k, rrf_k=s.rrf_k,
                      prefer=prefer, prefer_weight=PREFER_WEIGHT, keywords=keywords, dense_query=dense_query)
        return [h.chunk for h in hits], {h.chunk.chunk_id: (h.bm25_rank, h.dense_rank) for h in hits}

    def _scorer(self, query: str, city: str | None) -> cmp.Scorer:
        """Question terms weighted by their BM25 idf in the city's guides. The names that chose the guide (重医,
        克拉玛依校区) weigh nothing: they say which guide, not which part of it. A word the guides never use
        counts by its characters that they do (先交 → 先, 交: the guide writes 先缴纳)."""
        idf = self.index.bm25(city_scope(city))[0].idf
        tok = self.index.tokenizer
        own = set(tok.tokenize(query))
        wanted = own | set(tok.tokenize(tok.expand(query)))
        places = {t for alias in self.gazetteer.find(query) if not alias.platform  # 随申办 is also the topic
                  for t in tok.tokenize(alias.text)}
        weights = {t: 0.0 if t in places else max(idf.get(t, 0.0), 0.0) for t in wanted}
        for word in wanted - places:
            if word not in idf and len(word) > 1:
                weights |= {ch: idf[ch] for ch in word if ch not in weights and idf.get(ch, 0.0) > 0}
        asked = frozenset(own | {ch for word in own for ch in word})
        return cmp.Scorer(weights, tok.tokenize_cached, asked)

    def _retrieve_and_compose(self, query: str, city: str, intent: Intent, *, question: str | None = None,
                              prefer: Collection[tuple[str, str]] = (), keywords: str = "",
                              context: str = "", before: str = "", graduation: bool = False) -> Answered:
        """``query`` is what is searched (a follow-up carries its intent's words); ``question`` what the student
        asked, for the LLM (default: the query); ``prefer`` the sections the conversation is about; ``context``
        what BM25 also reads, ``before`` the paste's part before this one (its kind of care holds for this part
        when this one names none: "认定以后报销比例能有多少" after a 门诊慢特病 question);
        ``graduation``: the conversation is about graduation (else sections for graduates are found only when
        the question or its intent is about it)."""
        question = question or query
        if self.index.bm25(city_scope(city))[0].idf.get("大学生", 0.0) > TOPIC_IDF:
            query = TOPIC.sub("", query).strip() or query
        # a question about one kind of care (门诊, 住院) is not answered from a section about the other (found
        # among all the candidates, not only the top ones); a paste's part that names no care is about the care
        # the part before named
        # the part before helps BM25 find the sections (the dense query and the scorer keep this part's own words)
        found, ranks = self._hits(query, city, k=self.settings.candidate_k, prefer=prefer,
                                  keywords=f"{keywords} {context}".strip())
        found = _in_scope(found, f"{query} {context}", cmp.care_named(query) or cmp.care_named(before),
                          graduation=graduation or intent == "graduate", intent=intent)
        found = found[:self.settings.top_k]
        ranks = {h.chunk_id: ranks[h.chunk_id] for h in found}  # the ranks of the hits composed from, as before
        # the city's own guide answers first; national policy follows as background
        scorer = self._scorer(f"{query} {keywords}" if keywords else query, city)
        hits = [h for h in found if h.city != NATIONAL] + [h for h in found if h.city == NATIONAL]
        composed = cmp.compose_answer(hits=hits, docs=self.docs, intent=intent, score=scorer, ranks=ranks,
                                      gate=self.joins, leads=self.leads,
                                      city_name=self.cities[city].name, question=query, table_of=self._table_of,
                                      children_of=self._children_of, contact_source=self.contact_source)
        if not hits or not composed.citations or not composed.led:
            return Answered(self._not_in_guide(city, intent))
        reply = _reply(composed.text, city, intent, citations=composed.citations)
        return Answered(reply, Draft(question, city, self.cities[city].name, hits))

    def _not_in_guide(self, city: str, intent: Intent, matter: Sequence[str] = ()) -> AskResponse:
        """The guide does not answer: say so (naming the matter it never mentions, when known) and give the
        offices from its front-matter, cited to the sections that give them."""
        docs = [d for d in self.docs.values() if d.city == city]
        name = self.cities[city].name
        cites = cmp.CitationList(self.docs)
        contact = cmp.contact_line(docs, intent, cites, self.contact_source) or NATIONAL_HOTLINE
        what = (f"没有讲到“{'、'.join(matter)}”的相关规定" if matter else "没有找到这个问题的答案")
        text = f"【{name}】抱歉，{name}的医保指南里{what}，我不想猜测。请咨询学校医保工作人员或：{contact}。"
        if cites.items:
            text += "\n\n来源：\n" + cmp.sources_block(cites.items)
        return _reply(text, city, intent, citations=cites.items)

    def _no_city(self, question: str, intent: Intent) -> AskResponse:
        hits, ranks = self._hits(question, None)
        if NATIONAL_CUE.search(question):  # "国家文件说…": the national documents answer, whatever the city
            found, found_ranks = self._hits(question, NATIONAL)
            if national := [h for h in found if h.city == NATIONAL]:
                hits, ranks = national, found_ranks
        # national policy answers a general question; an amount or a date is each city's own: ask which city
        if hits and hits[0].city == NATIONAL and (NATIONAL_CUE.search(question) or not LOCAL_FACT.search(question)):
            national = [h for h in hits if h.city == NATIONAL]
            composed = cmp.compose_answer(hits=national, docs=self.docs, intent=intent, ranks=ranks,
                                          gate=self.joins, leads=self.leads,
                                          score=self._scorer(question, None), city_name="全国", question=question)
            if composed.citations:
                return _reply(composed.text, None, intent, citations=composed.citations)
        names = "、".join(self.cities[c].name for c in self.covered)
        ask = f"各地医保政策不同，请问你在哪个城市或学校上学？目前有{names}的指南。"
        return _reply(ask, None, intent, clarification=Clarification(question=ask, options=self.covered))

    def _uncovered(self, question: str, place: str, intent: Intent) -> AskResponse:
        found, ranks = self._hits(question, NATIONAL, k=3)
        national = [h for h in found if h.city == NATIONAL]
        composed = cmp.compose_answer(hits=national, docs=self.docs, intent=intent, ranks=ranks,
                                      gate=self.joins, leads=self.leads,
                                      score=self._scorer(question, NATIONAL), city_name="全国", question=question)
        names = "、".join(self.cities[c].name for c in self.covered)
        head = (f"抱歉，目前没有{place}的大学生医保指南（现有：{names}），无法给出{place}的具体标准。"
                f"全国通用的规定是：大中专学生原则上在学籍地参加居民医保。")
        tail = f"具体办理请咨询学校医保工作人员（或学校所在地医保经办机构），也可拨打{NATIONAL_HOTLINE}。"
        return _reply(f"{head}\n\n{composed.text}\n\n{tail}", None, intent, citations=composed.citations)

    def _calculate(self, question: str, override: str | None, city: str, intent: Intent) -> Answered:
        from app.calculator.service import CalcInputError, run_benefit

        request, notes = benefit_request(question, city)
        if override:  # a follow-up like "那二级医院呢": its own words win over the earlier question's
            request, notes = _apply_override(request, notes, override)
        if request["cost"] is None:
            return self._retrieve_and_compose(question, city, "benefit")
        try:
            out = run_benefit(request, knowledge_dir=self.settings.knowledge_dir)
        except CalcInputError as exc:
            return _done(f"无法计算：{exc}", city, intent)
        calc = out.model_dump(mode="json")
        calc["input"] = request
        sources = self._section_chunks((s.source.doc_id, s.source.section) for s in out.steps if s.source)
        if not out.computable:
            text = f"【{self.cities[city].name}】{out.reason}"
        else:
            text = _calc_text(self.cities[city].name, out, notes)
        return self._with_working(question, city, intent, text, sources, calc, computed=out.computable)

    def _figures_not_given(self, question: str, city: str, intent: Intent) -> Answered | None:
        """A question for the figures of one kind of care (达州住院报销比例多少) whose guide gives none (the policy
        file's ``not_computable``): answered as a calculation would be, by saying so with its source."""
        from app.calculator.policy import default_policies

        care = cmp.care_named(question)
        if len(care) != 1 or care == {"chronic"}:  # the policy files' outpatient rules are for 普通门诊, not 慢特病
            return None
        rules = getattr(default_policies(self.settings.knowledge_dir)[city].benefit, next(iter(care)), None)
        if rules is None or rules.not_computable is None:
            return None
        note = rules.not_computable
        sources = self._section_chunks([(note.source.doc_id, note.source.section)])
        return self._with_working(question, city, intent, f"【{self.cities[city].name}】{note.text}", sources, None,
                                  computed=False)

    def _with_working(self, question: str, city: str, intent: Intent, text: str, sources: list[Chunk],
                      calc: dict[str, Any] | None, *, computed: bool) -> Answered:
        """The calculator's working (or its reason for not calculating) first, cited, then what the guide says."""
        hits, ranks = self._hits(f"{question} {INTENT_HINTS['calc']}", city)
        if not computed:
            # the guide gives no figures to calculate with: what it does say is in the sections the calculator
            # cites (Chongqing's limits table); rules found elsewhere for a calculation not made answer nothing
            cited = {(c.doc_id, c.section) for c in sources}
            hits = [h for h in hits if (h.doc_id, h.section) in cited]
        composed = cmp.compose_answer(hits=hits, docs=self.docs, intent=intent, score=self._scorer(question, city),
                                      ranks=ranks, gate=self.joins, leads=self.leads,
                                      city_name=self.cities[city].name, calculation_text=text,
                                      calculation_sources=sources)
        reply = _reply(composed.text, city, intent, citations=composed.citations, calculation=calc)
        return Answered(reply, Draft(question, city, self.cities[city].name, [*sources, *hits], calc))

    def _section_chunks(self, refs: Iterable[tuple[str, str]]) -> list[Chunk]:
        out: list[Chunk] = []
        for doc_id, section in dict.fromkeys(refs):
            chunk = next((c for c in self.index.chunks if c.doc_id == doc_id and c.section == section), None)
            chunk = chunk or next((c for c in self.index.chunks if c.doc_id == doc_id and section in c.section),
                                  None)
            if chunk and chunk not in out:
                out.append(chunk)
        return out


def _matter(intent: str | None) -> str | None:
    """What an intent asks about: a calculation asks what the benefit pays."""
    return "benefit" if intent == "calc" else intent


def _in_scope(found: list[Chunk], asked: str, care: frozenset[str], *, graduation: bool, intent: str
              ) -> list[Chunk]:
    """The hits about what was asked: not of the other kind of care (``care``, see
    :func:`app.answer.compose.of_the_care`), not for graduates unless graduation is asked (or is the matter of
    the conversation: ``graduation``); a filter that would leave none of the city's own chunks is not applied."""
    low = asked.lower()
    filters = [lambda hits: cmp.of_the_care(hits, care)]
    if not graduation and not any(cue in low for cue in CUES["graduate"]):
        filters.append(cmp.not_for_graduates)
    if intent != "e_voucher" and not any(cue in low for cue in CUES["e_voucher"]):
        filters.append(cmp.not_about_cards)
    for keep in filters:
        kept = keep(found)
        if any(h.city != NATIONAL for h in kept):
            found = kept
    return found


def _hint(intent: Intent, question: str) -> str:
    """The words a question about a named procedure searches with besides its own (:data:`ALWAYS_HINT`)."""
    if intent == "e_voucher" and CARD.search(question) and not VOUCHER.search(question):
        return CARD_HINT
    return INTENT_HINTS[intent]


def _apply_override(request: dict[str, Any], notes: list[str], text: str) -> tuple[dict[str, Any], list[str]]:
    request = dict(request)
    if (level := parse_level(text)) is not None:
        request["hospital_level"] = level
        notes = [n for n in notes if "医院等级" not in n]
    if (cost := parse_cost(text)) is not None:
        request["cost"] = str(cost)
    if "住院" in text:
        request["care"] = "inpatient"
    elif "门诊" in text:
        request["care"] = "outpatient"
    if "第" in text and "次" in text:
        request["admission"] = parse_admission(text)
    return request, notes


def _calc_text(city_name: str, out: Any, notes: list[str]) -> str:
    lines = [f"【{city_name}】按指南规则计算（{out.policy_year}年度标准）："]
    for i, step in enumerate(out.steps, 1):
        amount = f"{step.amount:,.2f}元" if step.amount is not None else ""
        lines.append(f"{i}. {step.label}：{amount}（{step.rule}）")
    lines.append(
        f"结果：医保基金支付 {out.fund_pays:,.2f} 元（基本医保 {out.basic_pays:,.2f} 元，"
        f"大病保险 {out.serious_illness_pays:,.2f} 元），个人负担 {out.out_of_pocket:,.2f} 元。"
    )
    lines += [f"说明：{n}" for n in [*notes, *out.notes]]
    return "\n".join(lines)


def _reply(answer: str, city: str | None, intent: Intent, **extra: Any) -> AskResponse:
    return AskResponse(answer=answer, city=city, intent=intent, session_id="", **extra)


def _done(answer: str, city: str | None, intent: Intent, **extra: Any) -> Answered:
    return Answered(_reply(answer, city, intent, **extra))


def _pieces(text: str) -> Iterator[StreamEvent]:
    """The embedded answer streamed by lines (it is ready at once; streaming keeps one client code path)."""
    for line in text.splitlines(keepends=True):
        yield StreamEvent("delta", line)


def _merge(parts: list[AskResponse], labels: list[str]) -> AskResponse:
    """Several answers in one reply; citation numbers are renumbered to stay unique."""
    texts, citations, offset = [], [], 0
    for i, (part, label) in enumerate(zip(parts, labels, strict=True), 1):
        shift = offset
        body = re.sub(r"\[(\d+)\]", lambda m, shift=shift: f"[{int(m.group(1)) + shift}]", part.answer)
        texts.append(f"【问题{i}】{mask_pii(label)}\n{body}")
        citations += [c.model_copy(update={"n": c.n + shift}) for c in part.citations]
        offset += len(part.citations)
    first = parts[0]
    return first.model_copy(update={
        "answer": "\n\n".join(texts), "citations": citations,
        "calculation": next((p.calculation for p in parts if p.calculation), None),
        "clarification": first.clarification,
        "refused": all(p.refused for p in parts),
        "parts": parts,
    })
