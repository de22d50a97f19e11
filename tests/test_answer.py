"""The embedded answer pipeline on the real knowledge base: grounded answers, clarification, refusal,
unknown cities, no cross-city figures, sessions, and the CLI contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.answer.models import AskRequest, AskResponse
from app.answer.service import AnswerService
from app.settings import Settings
from conftest import KNOWLEDGE, run_cli


@pytest.fixture(scope="module")
def service(full_index: Path, full_loaded) -> AnswerService:  # noqa: ANN001
    return AnswerService(Settings(knowledge_dir=KNOWLEDGE, index_dir=full_index), index=full_loaded)


def ask(service: AnswerService, question: str, **kw: object) -> AskResponse:
    return service.ask(AskRequest(question=question, **kw))  # type: ignore[arg-type]


def test_answer_is_grounded_and_cited(service: AnswerService) -> None:
    res = ask(service, "武汉住院报销比例是多少")
    assert res.city == "wuhan" and res.intent == "benefit"
    assert "60%" in res.answer and "[1]" in res.answer
    assert res.citations[0].doc_id == "wuhan_2025" and res.citations[0].quote
    # every numbered citation in the text has its entry
    assert {c.n for c in res.citations} == set(range(1, len(res.citations) + 1))


def test_school_from_gazetteer_sets_the_city(service: AnswerService) -> None:
    res = ask(service, "我是华科的，老家的医保咋停")
    assert res.city == "wuhan" and res.intent == "suspend"
    assert "停保" in res.answer or "暂停" in res.answer


def test_city_unknown_asks_which_city(service: AnswerService) -> None:
    res = ask(service, "住院能报多少")
    assert res.clarification is not None and res.city is None
    assert set(res.clarification.options) == {"chongqing", "dazhou", "karamay", "shanghai", "wuhan"}


def test_a_date_or_amount_without_a_city_is_asked_back_not_answered_nationally(service: AnswerService) -> None:
    # the national document talks about 参保缴费期 in general; a deadline is each city's own
    res = ask(service, "医保缴费截止到哪天")
    assert res.clarification is not None and not res.citations
    general = ask(service, "大学生应该在哪里参保")  # a general rule: the national document answers
    assert general.clarification is None and {c.doc_id for c in general.citations} == {"national_ybf_2020_33"}


def test_the_speakers_school_is_the_context_of_a_pasted_message(service: AnswerService) -> None:
    res = ask(service, "华科辅导员：学生问老家的医保怎么暂停？")
    assert res.city == "wuhan" and res.clarification is None
    paste = ask(service, "复旦老师：1. 新生怎么参保确认？2. 寒假回家看病怎么办？")
    assert paste.parts is not None and [p.city for p in paste.parts] == ["shanghai", "shanghai"]


def test_the_guides_own_place_words_name_the_city(service: AnswerService) -> None:
    assert ask(service, "暑假在克外看门诊自费了怎么报").city == "karamay"  # 克外就诊: Karamay's guide


def test_a_guides_word_for_its_school_is_answered_for_its_city_saying_so(service: AnswerService) -> None:
    res = ask(service, "班长转一下：1.建档立卡的同学也要在校区交医保吗 2.今年集中缴费最晚到哪天")
    assert res.parts is not None and [p.city for p in res.parts] == ["karamay", "karamay"]
    assert res.parts[0].answer.startswith("（你没有说学校或城市") and "克拉玛依" in res.parts[0].answer.split("\n")[0]
    assert res.answer.count("你没有说学校或城市") == 1 and "1月10日" in res.answer
    # a campus matter that is not insurance is refused with no assumption, and leaves no city behind
    off = ask(service, "校区食堂几点开门")
    assert off.refused and "你没有说" not in off.answer
    assert ask(service, "交多少钱", session_id=off.session_id).clarification is not None


def test_uncovered_city_gives_national_rule_and_hotline(service: AnswerService) -> None:
    res = ask(service, "我在北京上学，医保怎么交")
    assert res.city is None and res.clarification is None
    assert "没有北京" in res.answer and "学籍地" in res.answer and "12393" in res.answer
    assert {c.doc_id for c in res.citations} <= {"national_ybf_2020_33"}


def test_off_topic_is_refused(service: AnswerService) -> None:
    res = ask(service, "帮我写一篇英语作文")
    assert res.refused and res.intent == "out_of_scope" and not res.citations


@pytest.mark.parametrize("city", ["chongqing", "dazhou", "karamay", "shanghai", "wuhan"])
def test_no_other_citys_sources(service: AnswerService, city: str) -> None:
    for question in ("住院报销比例多少", "一年交多少钱", "异地就医怎么备案", "老家医保怎么停"):
        res = ask(service, question, city=city)
        assert {c.city for c in res.citations} <= {city, "national"}, question


def test_old_guides_say_which_year(service: AnswerService) -> None:
    assert "2018" in ask(service, "一年交多少钱", city="chongqing").answer
    assert "2023" in ask(service, "一年交多少钱", city="shanghai").answer


def test_session_carries_city_and_intent(service: AnswerService) -> None:
    first = ask(service, "武汉住院起付线多少")
    follow = ask(service, "那二级医院呢？", session_id=first.session_id)
    assert follow.city == "wuhan" and follow.intent == "benefit"
    assert "400" in follow.answer


def test_calculation_shows_working(service: AnswerService) -> None:
    res = ask(service, "在武汉三级医院住院花了2万，能报多少", city="wuhan")
    assert res.intent == "calc" and res.calculation is not None
    # 《热点问题问答》六：三级医疗机构起付标准800元，报销比例60%: (20000 - 800) × 60% = 11520
    assert res.calculation["fund_pays"] == 11520.0
    assert "11,520.00" in res.answer and "起付线" in res.answer


def test_counselor_paste_answers_each_question_and_masks_ids(service: AnswerService) -> None:
    paste = "学生A问：武汉老家医保怎么停？学生B（身份证110101199003077578）问：上海住院报多少？"
    res = ask(service, paste)
    assert res.parts is not None and len(res.parts) == 2
    assert [p.city for p in res.parts] == ["wuhan", "shanghai"]
    assert "110101199003077578" not in res.answer


def test_cli_ask_json_contract(full_index: Path) -> None:
    proc = run_cli("ask", "武汉住院报销比例", "--json", knowledge=KNOWLEDGE, index=full_index)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) >= {"answer", "city", "intent", "citations", "calculation", "clarification", "refused",
                         "session_id"}
    assert data["city"] == "wuhan"


def test_lead_scoring_ignores_the_school_name_and_reads_unknown_words_by_character(service: AnswerService) -> None:
    weights = service._scorer("重医的救助类学生是不是得先交钱", "chongqing").weights
    assert weights["重医"] == 0  # it chose the guide; it says nothing about which sentence answers
    assert weights["交钱"] == 0 and weights["交"] > 0 and weights["先"] > 0  # the guide writes 先缴纳


def test_an_english_question_is_answered_from_the_guide(service: AnswerService) -> None:
    res = ask(service, "What is the deductible for inpatient care in Shanghai?")
    assert res.city == "shanghai" and res.citations and not res.clarification
    assert "50元" in res.answer and "300元" in res.answer  # the deductible for each hospital level


def test_a_place_without_a_guide_in_a_conversation_is_where_the_student_was_treated(service: AnswerService) -> None:
    first = ask(service, "克拉玛依校区医保怎么交")
    later = ask(service, "寒假在成都看急诊自费了，回学校怎么报销", session_id=first.session_id)
    assert later.city == "karamay" and all(c.city in ("karamay", "national") for c in later.citations)
    other = ask(service, "那成都呢", session_id=first.session_id)  # a follow-up naming the place asks about it
    assert other.city is None and "没有成都" in other.answer


def test_in_a_conversation_a_question_without_insurance_words_continues_the_topic(service: AnswerService) -> None:
    first = ask(service, "上海新生参保确认在哪里办")
    later = ask(service, "提交完了大概多久能弄好", session_id=first.session_id)
    assert later.city == "shanghai" and not later.refused and later.citations
    off = ask(service, "顺便问下上海有什么好玩的景点", session_id=first.session_id)
    assert off.refused


def test_a_procedure_question_without_a_city_is_asked_back(service: AnswerService) -> None:
    res = ask(service, "暂停老家医保要用哪个小程序")  # apps and steps differ by city: not the national rule
    assert res.clarification is not None


def test_a_follow_up_leans_towards_the_sections_the_last_answer_cited(service: AnswerService) -> None:
    from app.retrieval.search import search

    query = "去校外的医院看门诊呢 报销比例 起付标准"
    plain = search(service.index, query, city="wuhan", k=10)
    later = next(h.chunk for h in plain[2:] if h.chunk.section != plain[0].chunk.section)
    leaning = search(service.index, query, city="wuhan", k=10, prefer={(later.doc_id, later.section)},
                     prefer_weight=1.0)
    rank = [h.chunk.chunk_id for h in leaning].index
    assert rank(later.chunk_id) < [h.chunk.chunk_id for h in plain].index(later.chunk_id)
    # the session remembers what the last answer cited (the guide's sections only)
    first = ask(service, "武汉大学生普通门诊能报多少")
    state = service.sessions.get(first.session_id)
    assert state is not None and state.sections and all(doc == "wuhan_2025" for doc, _ in state.sections)

    # unless it swaps a part of the last question: 门诊 → 住院 asks about the inpatient section
    later = ask(service, "那如果是住院，一年最多能报多少钱", session_id=first.session_id)
    assert later.city == "wuhan" and "住院" in later.citations[0].section


def test_a_follow_up_about_another_matter_is_not_pulled_to_the_last_answers_sections(
        service: AnswerService) -> None:
    first = ask(service, "上海新生今年的医保需要自己交钱吗")  # answered from the FAQ
    later = ask(service, "那住院呢 三级医院自己要出多少", session_id=first.session_id)
    assert later.city == "shanghai" and later.intent == "benefit"
    assert "居保待遇" in later.citations[0].section


def test_a_follow_up_naming_another_city_asks_the_last_question_there(service: AnswerService) -> None:
    first = ask(service, "武汉住院起付线多少")
    later = ask(service, "那克拉玛依呢", session_id=first.session_id)
    assert later.city == "karamay" and "600元" in later.answer  # the deductible, not the text around it
    assert all(c.city in ("karamay", "national") for c in later.citations)


def test_a_question_about_a_named_procedure_reaches_it_without_its_words(service: AnswerService) -> None:
    res = ask(service, "达州读书，老家的医保怎么停，要上传什么")  # the guide calls it 城乡居民暂停参保
    assert res.intent == "suspend" and res.citations
    assert res.citations[0].section.endswith("城乡居民暂停参保")


def test_a_social_security_card_question_is_not_searched_with_the_e_vouchers_words(service: AnswerService) -> None:
    res = ask(service, "社保卡归属地怎么改到达州")
    assert res.intent == "e_voucher"
    assert res.citations[0].section.endswith("社会保障卡归属地修改")


def test_a_place_and_no_question_is_asked_what_about(service: AnswerService) -> None:
    res = ask(service, "那克拉玛依呢")  # no conversation before it
    assert res.city == "karamay" and not res.refused and "哪方面" in res.answer
    assert ask(service, "顺便问下上海有什么好玩的景点").refused  # a campus matter stays refused


def test_the_products_name_does_not_steer_the_search_where_a_guide_rarely_says_it(service: AnswerService) -> None:
    # the Karamay guide says 校区学生; its few 大学生 passages (继续深造) must not lead a question about ratios
    res = ask(service, "克拉玛依大学生医保住院报销比例是多少")
    lead = res.answer.split("\n", 1)[0]
    assert res.city == "karamay" and "85%" in lead and "深造" not in lead


def test_a_word_the_guides_write_is_not_taken_for_a_typo(service: AnswerService) -> None:
    # 长护 (the Karamay guide's 居民长护) sounds like 账户 when 长 is read zhǎng; 暂庭 is no guide word
    assert service.fixer.fix("能不能只交长护不交医保") == "能不能只交长护不交医保"
    assert service.fixer.fix("老家医保暂庭怎么办") == "老家医保暂停怎么办"


def test_a_short_question_in_a_paste_is_asked_side_by_side_not_as_a_follow_up(service: AnswerService) -> None:
    # "在哪交钱" after a deadline question is the paste's own question, not "…缴费标准" carried over
    res = ask(service, "克拉玛依的同学问：1.今年集中缴费最晚到哪天 2.在哪交钱")
    second = res.answer.split("【问题2】", 1)[1]
    assert "1月10日" in res.answer and "新疆税务社保缴费" in second


def test_a_part_naming_no_matter_of_its_own_is_searched_with_the_part_before(service: AnswerService) -> None:
    # "要去哪申请" asks where to apply for the 减免 the part before asked about: its words help find the section
    res = ask(service, "我是上海本市低保家庭的学生，参保费和门急诊起付线能不能减免？要去哪申请")
    second = res.answer.split("【问题2】", 1)[1]
    assert "街道社区事务受理服务中心" in second.split("来源：")[0]


def test_a_part_asking_how_much_after_an_outpatient_question_is_not_answered_for_inpatient_care(
        service: AnswerService) -> None:
    # "批下来能报多少" follows a 门诊慢特病 question: the 住院 section's ratios answer another question
    res = ask(service, "我在武汉读书，有哮喘想办门诊慢特病，在哪里申请？批下来能报多少")
    assert res.citations and not any("住院" in c.section for c in res.citations)
    assert "90%" in res.answer.split("【问题2】", 1)[1]
    # so is a part with insurance words of its own that names no kind of care
    res = ask(service, "武汉的门诊慢特病在哪申请？通过以后报销比例多少")
    assert res.citations and not any("住院" in c.section for c in res.citations)


def test_a_table_cell_s_full_stop_does_not_break_the_row_s_sentence(service: AnswerService) -> None:
    # the Karamay table of 备案类型 has cells ending in 。: the row's sentence reads 作废；办理方式 …, not 作废。；
    res = ask(service, "克拉玛依校区的，在外地看病报销要带哪些材料")
    assert "备案类型" in res.answer and "。；" not in res.answer and "。。" not in res.answer


def test_a_calculation_the_guide_has_no_figures_for_cites_only_what_the_guide_says_on_it(
        service: AnswerService) -> None:
    # Dazhou's guide refers the figures to the city's rules: that is the answer, not other rules found nearby
    res = ask(service, "达州中医药职业学院的，住院花了八千，医保能报多少")
    assert res.calculation is not None and res.calculation["computable"] is False
    assert "管理办法" in res.answer and {c.section for c in res.citations} == {"四、医保待遇 > （五）其他基本医保待遇"}
    # Chongqing's gives limits only: the limits table it cites still shows the row asked about
    res = ask(service, "重医一档，骑车摔伤算意外伤害，花了2000，能报多少")
    assert res.calculation is not None and res.calculation["computable"] is False and "1000元" in res.answer
    # asked without a cost, the figures the guide does not give get the same answer, with no calculation
    res = ask(service, "达州中医药职业学院住院起付线是多少")
    assert res.calculation is None and "管理办法" in res.answer.split("\n")[0]
    assert {c.section for c in res.citations} == {"四、医保待遇 > （五）其他基本医保待遇"}


def test_sections_for_graduates_answer_only_questions_about_graduation(service: AnswerService) -> None:
    # "毕业后…首先要暂停学籍地医保关系" shares 暂停 and 户籍地 with a freshman's question, but is not its answer
    res = ask(service, "我在克拉玛依校区读书，老家四川的城乡居民医保要怎么暂停")
    assert res.citations and not any("毕业" in c.section for c in res.citations)
    # in a conversation about graduation, a follow-up without the word still is about it
    first = ask(service, "克拉玛依校区毕业以后考上研究生了，医保在哪交")
    assert any("继续深造" in c.section for c in first.citations)
    follow = ask(service, "那要是回老家参保呢，先做什么", session_id=first.session_id)
    assert any("参加户籍地城乡居民医疗保险" in c.section for c in follow.citations)


def test_sections_about_the_card_answer_only_questions_about_it(service: AnswerService) -> None:
    # 老家 reads as 参保地, the word of "电子医保凭证参保地更新": not the answer to a question that names no card
    res = ask(service, "刚到达州上学，老家那边去年交过医保了，这边看病怎么算")
    assert res.citations and not any("电子医保凭证" in c.section for c in res.citations)
    res = ask(service, "达州的电子医保凭证参保地怎么改成达州")
    assert [c.section for c in res.citations][:1] == ["五、医保归属地更改 > （一）电子医保凭证参保地更新"]


def test_the_schools_full_name_gets_the_same_answer_as_its_short_name(service: AnswerService) -> None:
    # written in full, 重庆医科大学 matched the guide's table captions and the reimbursement-limit rows answered
    full = ask(service, "重庆医科大学的医保费最晚哪天交？")
    short = ask(service, "重医的医保费最晚哪天交？")
    assert [c.section for c in full.citations] == [c.section for c in short.citations]
    assert full.answer == short.answer.replace("重医", "重庆医科大学") or full.answer == short.answer
    assert "报销限额" not in full.answer.split("\n")[0]  # the lead is about paying, not a limits-table row
