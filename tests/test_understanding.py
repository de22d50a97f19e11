"""Query understanding (pure): city and school, intent, question splitting."""

from __future__ import annotations

import pytest

from app.understanding.city import detect_city, load_gazetteer, school_names_replaced
from app.understanding.intent import classify
from app.understanding.split import split_questions
from conftest import KNOWLEDGE
from ingest.tokenize import DomainTokenizer

GAZ = load_gazetteer(KNOWLEDGE / "gazetteer.yaml", DomainTokenizer(KNOWLEDGE / "dict").cut_all_chars)


@pytest.mark.parametrize(
    ("text", "city", "school"),
    [
        ("我是华科的，老家医保怎么停", "wuhan", "华中科技大学"),  # a school only the gazetteer knows
        ("复旦新生怎么参保", "shanghai", "复旦大学"),
        ("重医的学生交多少钱", "chongqing", "重庆医科大学"),
        ("中石油(北京)克拉玛依校区怎么报销", "karamay", "中国石油大学(北京)克拉玛依校区"),
        ("克拉玛依校区的医保码怎么激活", "karamay", "中国石油大学(北京)克拉玛依校区"),
        ("达州中医药职业学院交多少钱", "dazhou", "达州中医药职业学院"),
        ("我在光谷上学，寒假回家看病怎么办", "wuhan", None),
    ],
)
def test_city_and_school_from_the_question(text: str, city: str, school: str | None) -> None:
    guess = detect_city(text, GAZ)
    assert (guess.city, guess.school, guess.source) == (city, school, "question")


@pytest.mark.parametrize("text", ["重大疾病能报多少", "我在老家上大学前交过医保", "住院报多少"])
def test_common_words_are_not_places(text: str) -> None:
    assert detect_city(text, GAZ).city is None


@pytest.mark.parametrize(("text", "city"), [
    ("同学们问学校医保要在哪个小程序上交费", None),  # 小程序上/交费: 上交 (上海交通大学) is not a word here
    ("上交的学生医保怎么交", "shanghai"),
    ("我在重大读书，医保在哪交", "chongqing"),
    ("重医学生寒假回家住院能用医保吗", "chongqing"),  # 重医 is not a dictionary word: no segmentation check
    ("武大学生，想办门诊慢特病去哪申请", "wuhan"),  # 武/大学生: a school's students (…学生) still name it
])
def test_a_short_school_name_that_is_also_a_word_must_be_a_word_of_the_question(text: str, city: str | None) -> None:
    assert detect_city(text, GAZ).city == city


def test_where_the_student_comes_from_is_not_where_they_study() -> None:
    assert detect_city("老家重庆的，在武汉读书，医保怎么停", GAZ).city == "wuhan"
    assert detect_city("新生，老家宜昌的，原来那个医保要先停掉吗", GAZ).uncovered is None  # origin, not an unknown city
    assert detect_city("我户口在攀枝花，现在到达州中医药职业学院读书", GAZ).city == "dazhou"


def test_a_citys_own_service_app_names_the_city() -> None:
    import yaml

    assert detect_city("随申办建账成功了，医保电子凭证啥时候能领", GAZ).city == "shanghai"
    covered = yaml.safe_load((KNOWLEDGE / "gazetteer.yaml").read_text(encoding="utf-8"))["covered"]
    for city, info in covered.items():  # each is named by that city's own guide
        guides = " ".join(p.read_text(encoding="utf-8") for p in (KNOWLEDGE / "guides").glob(f"{city}_*.md"))
        assert all(app in guides for app in info.get("platforms") or []), city


def test_a_guides_word_for_its_own_school_names_its_city_only_when_nothing_else_does() -> None:
    import yaml

    guess = detect_city("建档立卡的同学也要在校区交医保吗", GAZ)
    assert (guess.city, guess.source) == ("karamay", "house_word")
    assert detect_city("我们武汉这边校区多，医保在哪交", GAZ).city == "wuhan"  # the question names a city
    assert detect_city("缙云校区的同学医保在哪交", GAZ).city == "chongqing"  # a longer name wins
    assert detect_city("校区在哪交医保", GAZ, session_city="shanghai").city == "shanghai"  # the conversation
    assert detect_city("我在西安的校区上学，医保在哪交", GAZ).uncovered == "西安"
    covered = yaml.safe_load((KNOWLEDGE / "gazetteer.yaml").read_text(encoding="utf-8"))["covered"]
    guides = {p.stem: p.read_text(encoding="utf-8") for p in (KNOWLEDGE / "guides").glob("*.md")}
    for city, info in covered.items():  # each is used by its own guide, and (nearly) only there
        for word in info.get("house_words") or []:
            own = sum(text.count(word) for name, text in guides.items() if name.startswith(city))
            others = sum(text.count(word) for name, text in guides.items() if not name.startswith(city))
            assert own >= 10 * max(others, 1), (city, word, own, others)


def test_explicit_city_wins_then_question_then_session() -> None:
    assert detect_city("武汉住院报多少", GAZ, explicit="shanghai").city == "shanghai"
    assert detect_city("武汉住院报多少", GAZ, session_city="shanghai").city == "wuhan"
    guess = detect_city("那住院呢", GAZ, session_city="wuhan")
    assert (guess.city, guess.source) == ("wuhan", "session")


def test_uncovered_city_is_reported() -> None:
    guess = detect_city("北京的大学怎么交医保", GAZ)
    assert guess.city is None and guess.uncovered == "北京"


def test_two_cities_are_both_mentioned() -> None:
    assert detect_city("武汉和上海哪个报得多", GAZ).mentioned == ["wuhan", "shanghai"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("老家的医保咋停", "suspend"),
        ("原来交的医保要不要暂停", "suspend"),
        ("寒假回家生病了怎么办", "remote_care"),
        ("异地就医备案在哪办", "remote_care"),
        ("自费看病的发票怎么报销", "claim"),
        ("住院能报多少", "benefit"),
        ("起付线是多少", "benefit"),
        ("一年交多少钱", "pay"),
        ("新生怎么参保", "enroll"),
        ("毕业了医保怎么办", "graduate"),
        ("医保码怎么激活", "e_voucher"),
        ("住院花了2万能报多少", "calc"),
        ("在三级医院住院花了15000元报销多少", "calc"),
        ("今天食堂吃什么", "out_of_scope"),
        ("帮我写一首诗", "out_of_scope"),
        ("医保是什么", "other"),
        # no cue for an intent, but words only this domain uses: answered from the guides, not refused
        ("档次是什么意思", "other"),
        ("交错档次了怎么办", "pay"),  # the wrong tier paid
        # paid, but not insurance: another campus matter
        ("四六级报名费多少钱？在哪交", "out_of_scope"),
        ("食堂饭卡在哪充值", "out_of_scope"),
        ("上海迪士尼学生票多少钱", "out_of_scope"),
        ("统筹基金是啥", "other"),
        ("长护险必须交吗", "pay"),
        ("我爸是职工医保，能用他个人账户帮我交吗", "pay"),  # 共济
        ("爸妈能用他们医保卡里的钱给我交学生医保吗", "pay"),  # the money on the card, not the card
        ("在学校交还是回老家交", "enroll"),
        ("达州毕业咋停医保", "graduate"),  # stopping at graduation is graduation
        ("武汉的慢特病咋申请 报销比例高不高", "benefit"),
        ("集中缴费期交了医保，从什么时候开始能用？能保多久", "benefit"),  # when the cover starts, not paying
        ("那大病保险从多少钱开始报", "benefit"),  # the deductible, not a fee
        ("那住院呢 三级医院自己要出多少钱", "benefit"),  # what the student bears of a bill
        ("在武汉读研，去校外医院看门诊怎么报销", "claim"),  # 读研 says who asks, not graduation
        ("交了医保以后啥时候开始能报", "benefit"),  # when the cover starts
        ("学校让在这边交医保，那我老家的医保要停吗", "suspend"),
        ("医保码还没弄好，自己现金付的，现在还能报吗", "claim"),
        # English: an amount in yuan / ¥ with a hospital stay is a computation
        ("My hospital stay cost 9000 yuan, how much is covered?", "calc"),
        ("inpatient bill ¥5000 at a secondary hospital", "calc"),
    ],
)
def test_intent(text: str, intent: str) -> None:
    assert classify(text) == intent


def test_circumstances_without_an_insurance_word_are_off_topic_unless_a_covered_place_is_named() -> None:
    assert classify("寒假回家的火车票怎么抢比较稳") == "out_of_scope"  # 寒假, 回家: circumstances only
    assert classify("寒假回家生病怎么办") == "remote_care"
    assert classify("上海新生导入模板里的报到注册日期有什么要求", about_guides=True) != "out_of_scope"


def test_calculator_inputs_from_an_english_question() -> None:
    from app.answer.extract import benefit_request

    request, notes = benefit_request("Second hospital stay this year at a tertiary hospital, the bill is 12,000 yuan",
                                     "wuhan")
    assert (request["care"], request["hospital_level"], request["admission"], request["cost"]) == \
        ("inpatient", 3, 2, "12000")
    assert not notes  # nothing had to be assumed
    request, _ = benefit_request("outpatient visit, community clinic, RMB 300", "shanghai")
    assert (request["care"], request["hospital_level"], request["cost"]) == ("outpatient", 1, "300")


def test_counselor_paste_splits_into_questions() -> None:
    paste = ("老师好！学生A问：老家医保怎么停？\n学生B说：我是华科大一新生，寒假回家生病了怎么办\n"
             "3. 住院能报多少")
    assert split_questions(paste) == ["老家医保怎么停？", "我是华科大一新生，寒假回家生病了怎么办", "住院能报多少"]


def test_a_paste_s_asker_and_announcement_are_not_part_of_its_first_question() -> None:
    paste = ("【辅导员】各位老师好，我是洪山区某高校25级辅导员，帮学生汇总几个问题：1）老家已经交了医保，还必须在武汉交吗？"
             "2）大病保险需要另外交钱吗？")  # markers right after punctuation count too
    assert split_questions(paste) == ["老家已经交了医保，还必须在武汉交吗？", "大病保险需要另外交钱吗？"]
    # what is said about the student stays with the question
    paste = "孩子今年刚入学，之前没在老家参过医保。1. 入学这年从什么时候开始能报？2. 非全日制的也能参加吗？"
    assert split_questions(paste)[0] == "孩子今年刚入学，之前没在老家参过医保，入学这年从什么时候开始能报？"
    assert split_questions("住院花了1.5万，第二次住院能报多少") == ["住院花了1.5万，第二次住院能报多少"]
    # an ordinal counting a unit (第一年, 第二次) is not a list marker, even after a space
    assert split_questions("大学生医保多少钱？freshman 第一年需要交吗") == ["大学生医保多少钱？", "freshman 第一年需要交吗"]
    assert split_questions("第一 怎么交费\n第二 住院能报多少") == ["怎么交费", "住院能报多少"]


def test_a_paste_s_preamble_is_not_a_question_of_its_own() -> None:
    # an announcement with words inside (几个新生的医保问题) and a request for answers (麻烦看看怎么回复) ask nothing
    paste = ("【辅导员转】各位老师好，班上有几个新生的医保问题想咨询：刘同学，手机15927001234。"
             "1、老家那边的怎么停？2、从什么时候开始能用？")
    assert split_questions(paste) == ["刘同学，手机15927001234，老家那边的怎么停？", "从什么时候开始能用？"]
    assert split_questions("辅导员转一下学生的问题，麻烦看看怎么回复\n1. 老家医保怎么停？\n2. 住院报多少") == [
        "老家医保怎么停？", "住院报多少"]
    assert split_questions("【转】各位老师好，汇总几位同学的问题，烦请解答\n1、在哪交钱？2、交多少？") == ["在哪交钱？", "交多少？"]


def test_bare_numbers_split_only_when_they_count_up() -> None:
    assert split_questions("辅导员：1 一年交多少钱 2 什么时候截止 3 去哪里交钱") == ["一年交多少钱", "什么时候截止", "去哪里交钱"]
    assert split_questions("住院 2 次能报多少") == ["住院 2 次能报多少"]  # a count, not a list
    assert split_questions("1 住院报多少 3 门诊呢") == ["1 住院报多少 3 门诊呢"]  # 1, 3: not a list


def test_a_second_question_after_a_question_mark_is_its_own() -> None:
    assert split_questions("随申办里参保确认要怎么弄？确认完多久能用医保") == ["随申办里参保确认要怎么弄？", "确认完多久能用医保"]
    assert split_questions("急诊自己先垫了钱，还能报吗？有没有时间限制") == ["急诊自己先垫了钱，还能报吗？", "有没有时间限制"]
    assert classify("大概多久能报下来") == "claim"
    # in chat a space after 吗 ends a question too
    assert split_questions("医保交400就行了吗 长护险是必须交的吗") == ["医保交400就行了吗", "长护险是必须交的吗"]
    assert split_questions("武汉住院报多少 门诊呢") == ["武汉住院报多少 门诊呢"]


def test_single_question_is_not_split() -> None:
    assert split_questions("我是武汉大学的新生，请问老家的医保怎么停？") == ["我是武汉大学的新生，请问老家的医保怎么停？"]
    assert split_questions("住院报多少") == ["住院报多少"]


def test_homophone_typos_of_domain_terms_are_fixed_and_words_are_left_alone() -> None:
    from app.understanding.homophones import HomophoneFixer, domain_terms
    from ingest.tokenize import DomainTokenizer

    tok = DomainTokenizer(KNOWLEDGE / "dict")
    fixer = HomophoneFixer(domain_terms(["暂停参保", "异地就医备案", "零星报销", "医保码"], tok.tokenize),
                           tok.cut_all_chars)
    assert fixer.fix("达州医保暂庭怎么办理") == "达州医保暂停怎么办理"
    assert fixer.fix("异地就医被案怎么弄") == "异地就医备案怎么弄"
    assert fixer.fix("自费看病怎么报消") == "自费看病怎么报销"
    assert fixer.fix("武汉医保一年交多钱") == "武汉医保一年交多少钱"  # a dropped character
    for fine in ("研究生可以参加武汉的大学生医保吗", "一包药多少钱", "可以报吗", "克拉玛依低保学生医保交多少", "花了好多钱"):
        assert fixer.fix(fine) == fine


def test_the_guides_words_fix_typos_but_names_and_negations_stay() -> None:
    from app.understanding.homophones import HomophoneFixer
    from ingest.tokenize import DomainTokenizer

    tok = DomainTokenizer(KNOWLEDGE / "dict")
    fixer = HomophoneFixer(["网址", "注册", "申请", "中医", "补交", "移交"], tok.cut_all_chars, keep=["重医"])
    assert fixer.fix("参保系统的网止是啥，注测找不到入口") == "参保系统的网址是啥，注册找不到入口"
    assert fixer.fix("重医的医保") == "重医的医保"  # a school's name, not a typo of 中医
    assert fixer.fix("不交医保费会怎样") == "不交医保费会怎样"  # 不交 is meant, not 补交
    assert fixer.fix("在重医交医保") == "在重医交医保"  # no character of a name changes: 医交 is not 移交
    assert fixer.fix("武汉医保是一年一交吗") == "武汉医保是一年一交吗"  # a numeral is meant: 一交 is not 移交


def test_chinese_numerals_of_an_amount_are_read_as_digits() -> None:
    from app.answer.extract import parse_cost
    from app.normalize import money_digits

    assert money_digits("住院花了一万块") == "住院花了10000块" and money_digits("花了两千五") == "花了2500"
    assert money_digits("十月一日在二级医院第二次住院") == "十月一日在二级医院第二次住院"  # not amounts
    assert parse_cost("住院花了一万块") == 10000
    assert classify("达州住院花了一万块，能报多少") == "calc"
    assert classify("克拉玛依一级医院住院2000，能报多少") == "calc"  # a bill written bare after what it paid for
    assert classify("2025年住院报销比例多少") == "benefit"  # a year is not a bill


def test_names_written_with_a_homophone_typo_are_respelled() -> None:
    assert GAZ.respell("克拉玛衣的医保一年交多少") == "克拉玛依的医保一年交多少"
    assert GAZ.respell("复但大学新生怎么参保") == "复旦大学新生怎么参保"
    assert GAZ.respell("我在武汉上学") == "我在武汉上学"  # written right: untouched
    # 州 typed 洲 is the same place
    assert detect_city("达洲这边医保费支付宝能交吗", GAZ).city == "dazhou"
    assert detect_city("杭洲读大二", GAZ).uncovered == "杭州"


def test_an_earlier_stay_told_in_words_counts_as_the_second_admission() -> None:
    from app.answer.extract import benefit_request

    request, _ = benefit_request("今年3月在二级医院住过一次院，现在又要去三级医院住院，费用10000元", "karamay")
    assert (request["admission"], request["previous_level"], request["hospital_level"]) == (2, 2, 3)
    request, _ = benefit_request("上个月已经住过一次院了，这次又住进三级医院，6000块", "wuhan")
    assert (request["admission"], request["previous_level"], request["hospital_level"]) == (2, None, 3)
    request, _ = benefit_request("三级医院住院花了1万", "wuhan")
    assert (request["admission"], request["previous_level"]) == (1, None)
    request, _ = benefit_request("今年第二回去一级医院看门诊了，这次花了80块", "karamay")  # 回 counts like 次
    assert (request["admission"], request["cost"], request["care"]) == (2, "80", "outpatient")


@pytest.mark.parametrize(("text", "level"), [
    ("去同一家一级社区医院看门诊", 1),  # 社区医院 ends in 区医院, but the student named the level
    ("在社区医院拿药", 1), ("在区医院住院", 2), ("县医院", 2), ("三甲医院", 3), ("省级医院", 3),
    ("level 2 hospital", 2), ("校医院", None),
])
def test_the_hospital_level_the_student_names_wins_over_the_kind_of_hospital(text: str, level: int | None) -> None:
    from app.answer.extract import parse_level

    assert parse_level(text) == level


@pytest.mark.parametrize(("follow_up", "previous", "read_as"), [
    ("那住院呢", "重医看门诊去哪看", "重医看住院去哪看"),
    ("那住院呢，只能在重庆住吗", "重医门诊定点医院是哪家", "重医住院定点医院是哪家 只能在重庆住吗"),
    ("那二级医院呢？", "武汉三级医院住院起付线多少", "武汉二级医院住院起付线多少"),
    ("那二档呢", "重医一档交多少钱", "重医二档交多少钱"),
    ("那二级医院呢？", "武汉住院起付线多少", None),  # nothing of that kind to swap: searched as written
    ("需要带什么材料", "上海急诊怎么报销", None),  # not elliptical
])
def test_an_elliptical_follow_up_is_the_last_question_with_one_part_changed(
        follow_up: str, previous: str, read_as: str | None) -> None:
    from app.understanding.ellipsis import resolve

    assert resolve(follow_up, previous) == read_as


def test_which_follow_ups_lean_on_the_last_question() -> None:
    from app.understanding.ellipsis import is_elliptical

    assert is_elliptical("那克拉玛依那边呢") and is_elliptical("如果是二级医院的话")
    assert not is_elliptical("克拉玛依住院起付线多少")


def test_asking_for_the_details_stays_with_its_question() -> None:
    assert split_questions("寒假回老家住院，需要提前办异地就医备案吗？具体咋办") == [
        "寒假回老家住院，需要提前办异地就医备案吗？具体咋办"]
    # an item of a numbered list is a question of its own, whatever its first word
    assert split_questions("1. 交多少钱？2. 具体在哪交？") == ["交多少钱？", "具体在哪交？"]


def test_school_names_do_not_steer_the_searches() -> None:
    """However the school is named, BM25 and the dense search see the same question: the guide's own word
    for its school (校区) or nothing for BM25, the city's name for the dense search."""
    own = {"重庆医科大学", "中国石油大学(北京)克拉玛依校区"}
    full = school_names_replaced("重庆医科大学的医保费最晚哪天交", GAZ, "chongqing", city_name="重庆", own_schools=own)
    short = school_names_replaced("重医的医保费最晚哪天交", GAZ, "chongqing", city_name="重庆", own_schools=own)
    assert full == short == ("的医保费最晚哪天交", "重庆的医保费最晚哪天交")
    karamay = [school_names_replaced(q, GAZ, "karamay", city_name="克拉玛依", own_schools=own)[0]
               for q in ("中国石油大学（北京）克拉玛依校区的医保怎么交", "石大克校的医保怎么交")]
    assert karamay == ["校区 的医保怎么交"] * 2
    # a city or place name is left alone (every chunk's search text starts with it), and so is a question
    # that would be left with nothing
    assert school_names_replaced("武汉大学生医保交多少", GAZ, "wuhan", city_name="武汉", own_schools=own) == (
        "武汉大学生医保交多少", "武汉大学生医保交多少")
    assert school_names_replaced("重医", GAZ, "chongqing", city_name="重庆", own_schools=own) == ("重医", "重庆")
