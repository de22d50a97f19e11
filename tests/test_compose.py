"""The composer's pure choices (no index): which sentence leads, which other sections join the answer."""

from __future__ import annotations

from app.answer.compose import (
    DocInfo,
    Scorer,
    answer_kinds,
    care_named,
    compose_answer,
    deeper,
    lead_sentence,
    narrower,
    not_about_cards,
    not_for_graduates,
    of_the_care,
    pick_blocks,
    sources_block,
    summarize_for,
    top_sentences,
)
from app.answer.models import Citation
from app.answer.tables import parse_table
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


def test_a_fee_question_is_led_by_what_the_student_pays() -> None:
    funding = chunk(1, "二、收费标准", "居民医保个人筹资标准每人每年1200元，包括政府补助及个人缴费两部分。"
                                    "其中校区学生个人缴费标准为400元。")
    question = "医保一年交多少钱"
    score = scorer("医保", "筹资标准", "缴费标准", "个人")
    lead = lead_sentence([funding], score, wants_figures=True, kinds=answer_kinds(question))
    assert lead is not None and "400元" in lead[1]


def test_a_tier_fee_answers_a_fee_question() -> None:
    steps = chunk(1, "一、网上交医保费", "选择“自助缴费”，选择“建行卡缴纳医保费”。请选择相应缴费档次后点击缴费，一档180元/年，二档450元/年。")
    lead = lead_sentence([steps], scorer("缴费", "自助缴费", "医保费"), wants_figures=True,
                         kinds=answer_kinds("重医医保一年交多少钱"))
    assert lead is not None and "一档180元" in lead[1]


def test_a_ratio_question_asks_for_no_kind() -> None:
    assert answer_kinds("住院报销比例多少") == []


def test_where_to_get_care_is_led_by_the_hospitals_not_a_figure_about_outpatient_care() -> None:
    row = chunk(1, "（三）参保政策", "报销内容：类型 门诊；一档按比例报销限额 300元（定额）。", "table_row")
    hospitals = chunk(2, "（二）定点医院", "1. 门诊定点医院：附属大学城医院、校医务室。")
    question = "重医看门诊能去哪些地方"
    lead = lead_sentence([row, hospitals], scorer("门诊"), kinds=answer_kinds(question))
    assert lead is not None and lead[0] == 1
    assert answer_kinds("在重医读书，平时看门诊必须去哪才能报")
    assert answer_kinds("住院去哪报销") == [] and answer_kinds("住院去哪里报销") == []


def test_a_failure_question_is_led_by_the_sentence_about_that_failure() -> None:
    steps = chunk(1, "二、激活", "1. 打开APP，点击医保电子凭证，完成实名认证和人脸识别，设置密码即可激活。")
    notes = chunk(2, "三、注意事项", "1. 激活后实体卡仍可使用。\n2. 若人脸识别失败，可调整光线、姿势或更换设备尝试。")
    question = "医保码激活时人脸识别一直失败怎么办"
    lead = lead_sentence([steps, notes], scorer("激活", "人脸识别", "失败", "医保电子凭证"),
                         kinds=answer_kinds(question))
    assert lead is not None and "调整光线" in lead[1]
    assert answer_kinds("随申办注册不了怎么办") and not answer_kinds("老家医保停不了")
    # "X不了怎么办" asks what to do when X fails, whatever X is: the sentence saying 无法恢复 leads
    assert answer_kinds("老家医保暂停了恢复不了怎么办") and answer_kinds("怕暂停了以后恢复不了咋整")
    platform = chunk(4, "暂停参保业务操作流程", "进入省专区后，选择“城乡居民暂停参保”与对应地市进行暂停处理。")
    advice = chunk(5, "学生办理参保流程", "若外地医保暂停后无法恢复，可以等到12月末再暂停原医保。")
    question = "原来老家医保暂停了恢复不了怎么办"
    lead = lead_sentence([platform, advice], scorer("暂停", "恢复", "医保", "城乡居民", "处理"),
                         kinds=answer_kinds(question), intent="suspend")
    assert lead is not None and lead[0] == 1
    # a heading naming the matter (激活电子医保 for an e-voucher question) does not lift steps without the asked
    # kind of sentence over the hit that has one
    steps = chunk(3, "二、激活电子医保", steps.text)
    lead = lead_sentence([steps, notes], scorer("激活", "人脸识别", "失败", "医保电子凭证", "设置密码"),
                         kinds=answer_kinds(question), intent="e_voucher")
    assert lead is not None and "调整光线" in lead[1]


def test_a_which_platform_question_is_led_by_the_sentence_naming_the_platform() -> None:
    step = chunk(1, "城乡居民参保登记", "没有参保信息的，可点击“城乡居民参保登记”，填好信息后提交办理参保。")
    intro = chunk(2, "一、参保说明", "学生可在“四川医保公共服务平台”上注册认证，完成后即可办理参保登记。")
    question = "在哪个平台办参保"
    lead = lead_sentence([step, intro], scorer("参保", "办理", "平台"), kinds=answer_kinds(question))
    assert lead is not None and lead[0] == 1
    assert answer_kinds("参保确认用哪个app") and answer_kinds("which app do I use")


def test_a_short_sentence_does_not_win_its_chunk_by_the_headings_words() -> None:
    long = "学生通过登录随申办，进入居民医保事项，" + "按页面提示逐项填写并核对个人信息，" * 9 + "完成后提交。"
    section = chunk(1, "零星参保确认", long + "集中缴费期起始，该事项暂停。")
    words = {"参保确认": 3.0, "零星": 1.0, "随申办": 1.0}
    score = Scorer(words, lambda text: [w for w in words if w in text])
    lead = lead_sentence([section], score)
    assert lead is not None and "随申办" in lead[1]


def test_a_sentence_says_what_its_heading_says() -> None:
    # the summary item (ranked second) names 缴费档次 itself; the list item under 三、缴费金额 gets its heading's
    # word at a share, and its heading names the asked matter (pay)
    summary = chunk(1, "（三）参保政策", "2. 缴费档次：一档180元/年，二档450元/年。\n3. 缴费方式：校园卡网上缴费。")
    tiers = chunk(2, "三、缴费金额", "- 一档：180元/人·年；\n- 二档：450元/人·年。")
    score = scorer("档", "缴费档次", "缴费金额")
    lead = lead_sentence([tiers, summary], score, wants_figures=True, intent="pay")
    assert lead is not None and lead[0] == 0
    # under a heading that says nothing asked, the summary's fuller sentence leads
    other = chunk(3, "三、其他", tiers.text)
    plain = lead_sentence([other, summary], score, wants_figures=True, intent="pay")
    assert plain is not None and plain[0] == 1


def test_another_section_joins_only_with_something_new() -> None:
    first = chunk(1, "A", "异地就医备案 在国家医保服务平台办理。")
    same_words = chunk(2, "B", "异地就医备案 要提前办理。")
    new_part = chunk(3, "C", "备案后 直接结算 不用垫钱。")
    filler = chunk(4, "D", "异地就医备案 异地就医备案。")
    score = scorer("异地就医备案", "直接结算")
    # a chunk of another section that only repeats the question's words does not join; one that covers the
    # rest of the question does
    ranked = [first, same_words, new_part, filler]
    chosen = pick_blocks(ranked, limit=4, score=score, gain=0.1)
    assert [c.chunk_id for c in chosen] == ["c1", "c3"]
    # unless a retriever ranked it first and it is near the top: the retrievers disagree, both are shown
    chosen = pick_blocks(ranked, limit=4, score=score, gain=0.1, firsts={"c2": frozenset({"bm25"}), "c4": frozenset({"dense"})})
    assert [c.chunk_id for c in chosen] == ["c1", "c2", "c3"]  # c4 is a first, but ranked too low (fused)


def test_bm25s_first_does_not_join_a_lead_the_dense_search_ranked_first() -> None:
    first = chunk(1, "A", "异地就医备案后 直接结算。")
    same = chunk(2, "B", "异地就医备案 直接结算 要提前办理。")  # nothing new: it joins only as a retriever's first
    score = scorer("异地就医备案", "直接结算", "垫钱")
    assert [c.chunk_id for c in pick_blocks([first, same], limit=3, score=score, gain=0.1)] == ["c1"]
    chosen = pick_blocks([first, same], limit=3, score=score, gain=0.1, firsts={"c2": frozenset({"dense"})})
    assert [c.chunk_id for c in chosen] == ["c1", "c2"]
    # the lead already beat BM25's first on the question's words, and the dense search agrees with the lead
    both = {"c1": frozenset({"dense"}), "c2": frozenset({"bm25"})}
    assert [c.chunk_id for c in pick_blocks([first, same], limit=3, score=score, gain=0.1, firsts=both)] == ["c1"]


def test_a_lead_both_retrievers_ranked_first_takes_another_section_only_for_much_of_the_question() -> None:
    first = chunk(1, "A", "异地就医备案 在国家医保服务平台办理 直接结算。")
    small = chunk(2, "B", "异地就医备案 要带身份证。")  # covers 身份证: a fifth of the question
    score = scorer("异地就医备案", "国家医保服务平台", "直接结算", "办理", "身份证")
    assert [c.chunk_id for c in pick_blocks([first, small], limit=3, score=score, gain=0.1)] == ["c1", "c2"]
    both = {"c1": frozenset({"bm25", "dense"})}
    assert [c.chunk_id for c in pick_blocks([first, small], limit=3, score=score, gain=0.1, firsts=both)] == ["c1"]


TABLE = """表：上海 大学生居保待遇
| 待遇类别 | 医院级别 | 起付线 | 个人自负比例 |
|---|---|---|---|
| 门急诊待遇 | — | 门诊起付线300元/年 | 20% |
| 门急诊待遇 | 一级医院 | 门诊起付线300元/年 | 30% |
| 住院待遇 | 一级医院 | 50元/次 | 20% |
| 住院待遇 | 三级医院 | 300元/次 | 40% |"""


def test_a_table_is_parsed_with_its_caption() -> None:
    table = parse_table(TABLE)
    assert table is not None and table.caption == "上海 大学生居保待遇"
    assert table.header[2] == "起付线" and len(table.rows) == 4 and table.rows[2] == ["住院待遇", "一级医院", "50元/次", "20%"]
    assert parse_table("表：没有表格\n只是一句话") is None


def test_a_figure_question_gets_every_row_it_names_not_one() -> None:
    table = parse_table(TABLE)
    assert table is not None
    # 住院起付线: the 住院 rows only (起付线 in the 门急诊 cells does not name them), told apart by level
    summary = summarize_for(table, scorer("住院", "起付线"))
    assert summary == "上海 大学生居保待遇：一级医院 起付线 50元/次；三级医院 起付线 300元/次。"
    # a column nobody asked about is no summary
    assert summarize_for(table, scorer("报销时间")) is None


SERIOUS = """表：大病保险待遇一览表

| 人员类别 | 年起付线 | 报销区间 | 报销比例 |
|---|---|---|---|
| 一般人员 | 21000元 | 21000元至50000元 | 60% |
| 一般人员 | 21000元 | 50000元以上 | 65% |
| 困难人员 | 10500元 | 10500元至50000元 | 65% |
| 困难人员 | 10500元 | 50000元以上 | 70% |
"""


def test_a_summary_says_a_repeated_figure_once_and_tells_apart_what_a_label_does_not() -> None:
    table = parse_table(SERIOUS)
    assert table is not None
    # the 起付线 of each 人员类别 once, not once for each of its 报销区间 rows
    assert summarize_for(table, scorer("大病", "起付线")) == "大病保险待遇一览表：一般人员 年起付线 21000元；困难人员 年起付线 10500元。"
    # 比例 differs within 一般人员: the 报销区间 tells its rows apart
    summary = summarize_for(table, scorer("大病", "比例"))
    assert summary is not None and summary.startswith("大病保险待遇一览表：一般人员 报销区间 21000元至50000元 报销比例 60%；")
    assert summary.count("；") == 3


def test_the_summary_leads_instead_of_one_row() -> None:
    whole = chunk(9, "待遇", TABLE)
    row = chunk(8, "待遇", "上海 大学生居保待遇：待遇类别 住院待遇；医院级别 一级医院；起付线 50元/次；个人自负比例 20%。",
                "table_row")
    docs = {"d": DocInfo(doc_id="d", city="shanghai", city_name="上海", title="指南", policy_year=2023,
                         valid_note="", contacts=[])}
    composed = compose_answer(hits=[row], docs=docs, intent="benefit", score=scorer("住院", "起付线"),
                              city_name="上海", question="上海住院起付线多少", table_of=lambda c: whole)
    assert composed.text.startswith("【上海】上海 大学生居保待遇：一级医院 起付线 50元/次；三级医院 起付线 300元/次。[1]")
    assert composed.citations[0].chunk_id == "c9"


def test_a_broad_question_led_by_a_sections_introduction_gets_its_sub_sections() -> None:
    intro = chunk(1, "毕业之后医保如何处理", "亲爱的毕业生们，毕业后医保可能会带来一些新的问题。")
    kids = [chunk(2, "毕业之后医保如何处理 > 一、参加工作的", "由用人单位和职工个人共同缴纳。"),
            chunk(3, "毕业之后医保如何处理 > 二、继续深造的", "可以在就读高校所在地参保。后面还有说明。")]
    docs = {"d": DocInfo(doc_id="d", city="karamay", city_name="克拉玛依", title="指南", policy_year=2026,
                         valid_note="")}
    composed = compose_answer(hits=[intro, kids[0]], docs=docs, intent="graduate", score=scorer("毕业", "医保"),
                              city_name="克拉玛依", question="毕业以后医保怎么处理",
                              children_of=lambda c: kids if c is intro else [])
    assert "- 一、参加工作的：由用人单位和职工个人共同缴纳。 [2]" in composed.text
    assert "- 二、继续深造的：可以在就读高校所在地参保。 [3]" in composed.text
    assert composed.text.count("由用人单位") == 1  # a one-sentence sub-section is not repeated as a block
    assert [c.chunk_id for c in composed.citations] == ["c1", "c2", "c3"]


def test_a_lead_introducing_a_list_says_the_items() -> None:
    from app.answer.compose import with_list

    steps = chunk(1, "（二）异地就医", "异地就医备案参考方式：\n1. 拨打 0818-2182953 电话备案；\n2. 线上备案：微信小程序上备案。\n\n其他说明。")
    assert with_list("异地就医备案参考方式：", steps) == "异地就医备案参考方式：拨打 0818-2182953 电话备案；线上备案：微信小程序上备案。"
    # a long list is cut with an ellipsis; a sentence that introduces nothing is left alone
    long = chunk(2, "材料", "需提交材料：\n" + "\n".join(f"{n}. 第{n}种证明材料原件及复印件" for n in range(1, 20)))
    said = with_list("需提交材料：", long, limit=40)
    assert said.startswith("需提交材料：第1种证明材料原件及复印件；") and said.endswith("…") and len(said) < 60
    assert with_list("备案后直接结算。", steps) == "备案后直接结算。"


WHOLE = chunk(10, "住院", "表：住院待遇表\n| 医疗机构级别 | 起付标准 |\n|---|---|\n| 三级 | 800元 |\n| 二级 | 400元 |")
ROW3 = chunk(11, "住院", "住院待遇表：医疗机构级别 三级；起付标准 800元。", "table_row")
ROW2 = chunk(12, "住院", "住院待遇表：医疗机构级别 二级；起付标准 400元。", "table_row")


def test_a_table_is_shown_once_as_the_table_or_as_its_rows() -> None:
    lead = chunk(13, "住院", "住院起付标准按医疗机构级别执行。")
    # the whole table ranked above its rows: the rows go
    assert pick_blocks([lead, WHOLE, ROW3, ROW2]) == [lead, WHOLE]
    # rows ranked above the whole table: the table takes the place of the first of them
    assert pick_blocks([lead, ROW3, WHOLE, ROW2]) == [lead, WHOLE]
    # the lead's own row stays (its sentence leads); the table shows the others
    assert pick_blocks([ROW2, ROW3, WHOLE]) == [ROW2, WHOLE]


def test_the_sources_list_each_section_once() -> None:
    def cite(n: int, section: str) -> Citation:
        return Citation(n=n, doc_id="d", city="wuhan", title="指南", section=section, quote="…")

    text = sources_block([cite(1, "五、门诊"), cite(2, "六、住院"), cite(3, "六、住院")])
    assert text.splitlines() == ["[1] 指南 › 五、门诊", "[2][3] 指南 › 六、住院"]


def test_an_introduction_listing_the_options_gives_way_to_the_asked_ones_subsection() -> None:
    intro = chunk(20, "三、医保缴费", "目前医保支持支付宝、微信和四川电子税务等方式缴费。")
    alipay = chunk(21, "三、医保缴费 > （一）支付宝缴费", "打开支付宝 APP 首页，点开“市民中心”。", "step")
    other = chunk(22, "四、医保待遇", "支付宝缴费后次年享受待遇。")
    hits = [intro, other, alipay]
    assert narrower(hits, 0, scorer("支付宝", "缴费", "医保")) == 2
    # an option with no sub-section of its own (微信) keeps the introduction
    assert narrower(hits, 0, scorer("微信", "缴费", "医保")) is None


def test_a_materials_question_is_led_by_the_list_of_materials() -> None:
    elsewhere = chunk(30, "（二）异地就医", "如果没有备案，可将结算票据、出院证明等报销材料送回参保地医保中心报销。")
    local = chunk(31, "（一）达州就医 > 2. 报销申报需提交材料",
                  "参保人员办理报销申报需提交材料：\n1. 收据原件；\n2. 住院费用结算单；", "step")
    question = "在达州住院了，出院后去报销要带哪些材料"
    score = scorer("住院", "出院", "报销", "材料")
    lead = lead_sentence([elsewhere, local], score, kinds=answer_kinds(question))
    assert lead is not None and lead[0] == 1
    # without the kind, the sentence with more of the question's words leads
    assert lead_sentence([elsewhere, local], score) == (0, elsewhere.text)


def test_a_phone_question_is_led_by_the_number_and_a_given_number_asks_none() -> None:
    [says] = answer_kinds("医保热线电话多少")
    assert says.search("全国医保服务热线12393") and says.search("咨询电话：0818-2182953")
    assert not says.search("最高报销15000元")
    # a student's own (masked) number in a paste does not make it a phone question
    assert answer_kinds("（如 Ahmed，电话 137****4528），参保后领不到医保码，要看病怎么办") == []


def test_a_question_about_one_kind_of_care_is_not_answered_from_a_section_about_the_other() -> None:
    assert care_named("门诊慢特病认定后能报多少") == {"chronic"} and care_named("outpatient ratio") == {"outpatient"}
    assert care_named("有慢病，长期在门诊开药") == {"chronic", "outpatient"}
    assert care_named("住院和门诊分别报多少") == {"outpatient", "inpatient"} and not care_named("能报多少")
    assert care_named("平时感冒去学校医务室拿点药能报多少") == {"outpatient"}  # care named by what it is
    clinic = chunk(1, "问答 > 五、普通门诊如何报销", "门诊支付比例不低于70%。")
    stay = chunk(2, "问答 > 六、住院医保如何报销", "住院报销比例为：三级医疗机构60%。")
    serious = chunk(3, "问答 > 九、大病保险", "大病保险分段赔付。")
    assert of_the_care([stay, clinic, serious], care_named("门诊能报多少")) == [clinic, serious]
    chronic = chunk(4, "问答 > 七、门诊慢特病怎么办理", "门诊慢特病报销比例达90%。")
    assert of_the_care([clinic, chronic], care_named("门诊慢特病能报多少")) == [chronic]  # not 普通门诊
    assert of_the_care([clinic, chronic], care_named("门诊能报多少")) == [clinic]
    # an FAQ pair's question says what it is about, like a heading
    er = chunk(5, "4. 就医政策 > 常见问题", "**问：**大学生发生的急诊费用是否可以申请报销？\n\n**答：**可以。", "faq")
    assert of_the_care([er, stay], care_named("住院报销比例")) == [stay]
    assert of_the_care([stay, clinic], care_named("住院门诊都能报吗")) == [stay, clinic]  # both named: both kept
    assert of_the_care([stay], care_named("门诊能报多少")) == [stay]  # nothing else found: nothing dropped
    assert of_the_care([stay, clinic], frozenset()) == [stay, clinic]


def test_sections_for_graduates_are_told_apart_by_their_headings() -> None:
    home = chunk(1, "毕业之后医保如何处理 > 四、参加户籍地城乡居民医疗保险", "毕业后首先要暂停学籍地医保关系。")
    pause = chunk(2, "外地医保如何暂停", "在国家医保服务平台暂停参保。")
    assert not_for_graduates([home, pause]) == [pause]


def test_sections_about_the_card_are_told_apart_by_their_headings() -> None:
    voucher = chunk(1, "五、医保归属地更改 > （一）电子医保凭证参保地更新", "电子医保凭证参保地更新。")
    pause = chunk(2, "城乡居民暂停参保", "在平台暂停参保。")
    assert not_about_cards([voucher, pause]) == [pause]


def test_a_sub_section_that_answers_as_well_as_its_parents_table_leads_under_its_label() -> None:
    docs = {"d": DocInfo(doc_id="d", city="karamay", city_name="克拉玛依", title="指南", policy_year=2026,
                         valid_note="")}
    parent = "异地就医备案政策"
    row_text = "备案类型表：备案类型 临时备案；适用人员 异地转诊人员；说明 转诊地就医结算。"
    row = chunk(1, parent, row_text, "table_row")
    child = chunk(2, f"{parent} > （1）异地长期居住人员",
                  "学生在户籍地就医，可选这个备案类型。上传材料：户口首页。")
    other = chunk(3, "缴费流程", "户籍地就医结算缴费。")
    score = scorer("户籍地", "就医", "备案类型", "结算")
    question = "回户籍地看病，备案类型选哪个"
    # the table row ranks first and scores as well, but the more specific section answers it
    assert lead_sentence([row, child], score) == (0, row_text)
    assert deeper([row, child], 0, top_sentences([row, child], score)) == 1
    # only a sub-section of the lead's own section, and only one that scores at least as well
    assert deeper([row, other], 0, top_sentences([row, other], score)) is None
    weak = chunk(4, f"{parent} > （2）异地转诊人员", "上传转诊单。")
    assert deeper([row, weak], 0, top_sentences([row, weak], score)) is None
    composed = compose_answer(hits=[row, child], docs=docs, intent="remote_care", score=score,
                              city_name="克拉玛依", question=question)
    # "这个备案类型" says which type only with its heading
    assert composed.text.startswith(
        "【克拉玛依】异地长期居住人员：学生在户籍地就医，可选这个备案类型。[1]")
    assert composed.citations[0].chunk_id == "c2"


def test_a_short_chunk_can_lead_as_a_whole_when_its_sentences_answer_together() -> None:
    home = chunk(1, "备案 > （1）异地长期居住人员",
                 "学生在户籍地就医，可选这个备案类型。上传材料：户口首页、户口本人页。")
    referral = chunk(2, "备案 > （2）异地转诊人员", "学生异地备案上传材料：医院开具转诊转院单。")
    score = scorer("户籍地", "就医", "上传材料")
    # sentence by sentence, the referral's one sentence holds more of the question than either of home's
    lead = lead_sentence([referral, home], score)
    assert lead == (1, "学生在户籍地就医，可选这个备案类型。上传材料：户口首页、户口本人页。")
    # led directly (no parent above it), a sentence pointing at its heading (这个备案类型) is still named
    docs = {"d": DocInfo(doc_id="d", city="karamay", city_name="克拉玛依", title="指南", policy_year=2026,
                         valid_note="")}
    composed = compose_answer(hits=[home], docs=docs, intent="remote_care", score=score, city_name="克拉玛依",
                              question="回户籍地看病要上传什么材料")
    assert composed.text.startswith("【克拉玛依】异地长期居住人员：学生在户籍地就医")
    plain = compose_answer(hits=[referral], docs=docs, intent="remote_care", score=score,
                           city_name="克拉玛依", question="转诊要上传什么材料")
    assert plain.text.startswith("【克拉玛依】学生异地备案上传材料")  # nothing pointed at: no label
