"""Intent from keywords (pure). Scores each intent by the cues it finds; specific intents win ties."""

from __future__ import annotations

import re
from typing import Literal

from app.normalize import money_digits

Intent = Literal[
    "enroll", "pay", "suspend", "remote_care", "claim", "benefit", "graduate", "e_voucher", "calc", "other",
    "out_of_scope",
]

# cue → weight; longer, more specific cues weigh more
CUES: dict[str, dict[str, float]] = {
    "suspend": {"暂停": 3, "停保": 3, "停掉": 2, "停了": 1.5, "咋停": 3, "怎么停": 3, "如何停": 3, "停医保": 3,
                "退保": 2, "终止": 1.5, "中止": 1.5, "重复参保": 3, "两边都交": 3, "两边都": 2, "原参保地": 2,
                "停": 0.8, "要停": 2.5, "停吗": 2.5, "得停": 2.5, "马上停": 2.5, "pause": 2.5, "suspend": 2.5},
    "remote_care": {"another city": 2.5, "hometown": 1.5, "异地": 3, "备案": 3, "外地看病": 3, "外地就医": 3, "回家看病": 3, "回老家看病": 3,
                    "在外地": 2, "外省": 1.5, "寒假": 1.5, "暑假": 1.5, "放假": 1.5, "实习": 1.5, "转诊": 2,
                    "回家生病": 3, "老家看病": 3, "老家生病": 3, "回家": 1, "跨省": 2, "回户籍地": 2.5,
                    "户籍地看病": 3},
    "claim": {"reimburse": 2.5, "claim": 2, "receipt": 2, "invoice": 2, "报销": 2.5, "零星": 3, "垫付": 3, "垫钱": 3, "自费": 2, "发票": 2.5, "票据": 2, "结算": 2,
              "理赔": 2.5, "材料": 1, "手工报": 3, "怎么报": 2, "咋报": 2, "找谁报": 2.5, "垫了": 3, "报下来": 3, "钱下来": 3, "钱能下来": 3, "到账": 3, "先垫": 3, "垫的": 3,
              "自己掏": 2, "还能报": 3, "现金付": 2.5},
    "benefit": {"ratio": 2.5, "deductible": 3, "cover": 1.5, "比例": 3, "起付": 3, "封顶": 3, "限额": 2.5, "报多少": 3, "能报": 2, "待遇": 2.5,
                "大病": 2, "门槛": 2, "支付": 1, "住院": 1.5, "门诊": 1.5, "百分之": 2, "几成": 3, "等待期": 2.5,
                "保到": 2.5, "用到": 2.5, "管到": 2.5, "保障期": 2.5,
                "慢特病": 3, "慢性病": 2.5, "赔多少": 3, "最多": 2.5, "再报": 3, "补助": 2,
                # when the cover starts and how long it lasts (交了医保，从什么时候开始能用) outweighs 交/缴费
                "开始能用": 3, "就能用": 3, "享受": 2, "保多久": 3, "保期": 2.5, "报销限额": 3, "报销比例": 3,
                "开始报": 3, "起报": 3, "开始能报": 3.5, "就能报": 3.5, "马上就能用": 3.5,  # 从多少钱开始报 asks the deductible, not the fee
                # what the student bears of a bill (住院自己要出多少钱), not what the insurance costs
                "自己出": 2.5, "自己要出": 2.5, "自付": 2.5, "自负": 2.5, "个人负担": 2.5,
                "inpatient": 1.5, "outpatient": 1.5, "hospital stay": 1.5, "hospitali": 1.5, "in hospital": 1.5},
    "pay": {"fee": 2.5, "how much": 2, "pay": 2, "交多少": 3, "多少钱": 2.5, "缴费": 2.5, "交钱": 3, "缴纳": 2, "怎么交": 3, "费用": 1,
            "缴费标准": 3, "支付宝": 1.5, "微信": 1, "截止": 2, "交费": 2.5, "补缴": 3, "补交": 3, "医保费": 2, "交医保": 2.5,
            "交了": 1, "几号": 1, "哪交": 2.5, "哪里交": 3, "几块钱": 3, "减免": 2.5, "少交": 2.5,
            "免交": 2.5, "代缴": 2.5, "给我交": 2.5, "给孩子交": 2.5, "完税": 3, "缴费凭证": 3,
            # a parent's account pays (共济), the wrong tier paid, when to pay, whether one must
            "帮我交": 3, "个人账户": 2.5, "共济": 3, "交成": 3, "交错": 3, "选成": 3, "几个档": 3, "两个档": 3,
            "开始交": 3, "最晚交": 3, "交到哪天": 3, "税务局": 2.5, "一年一交": 3, "必须交": 3,
            # the money on a card is an account's balance (用他们医保卡里的钱给我交), not the card
            "卡里的钱": 3, "账户里的钱": 3, "余额": 2.5},
    "enroll": {"enroll": 2.5, "register": 2, "参保": 2, "登记": 2, "办医保": 3, "买医保": 3, "参加医保": 3, "新生": 1.5, "入学": 1,
               "确认": 1.5, "承诺书": 2.5, "在哪参保": 3, "哪里参保": 3, "怎么参保": 3, "要不要参加": 2.5,
               "必须参加": 2, "建档立卡": 2, "生效": 2, "什么时候开始": 2, "管用": 2, "参加": 1.5,
               "能参": 2.5, "哪参": 3, "有必要": 2, "商业保险": 1.5,
               "还是回老家": 3, "or back home": 3},
    "graduate": {"graduat": 3, "毕业": 8, "读完书": 3,  # what to do at graduation, stopping included
                  "工作以后": 3, "离校": 2.5, "就业": 2.5, "找到工作": 3, "灵活就业": 3},  # 读研 alone is who asks (在上海读研，…怎么报)
    "e_voucher": {"医保码": 3, "电子凭证": 3, "社保卡": 3, "激活": 2.5, "医保卡": 2.5, "扫码": 2,
                  "电子医保": 3, "亮码": 3, "card": 2, "code": 2, "申领": 3},
}
STRONG = 2.0  # a cue this heavy names an insurance matter by itself (交多少, 备案); lighter ones are circumstances
# specificity when scores tie: earlier wins
PRIORITY = ["suspend", "remote_care", "graduate", "e_voucher", "claim", "pay", "benefit", "enroll"]
DOMAIN = re.compile(
    r"医保|保险|参保|看病|就医|医院|报销|住院|门诊|缴费|交费|社保|医疗|药|生病|备案|大病|起付|诊所|体检|挂号|病|"
    r"筹资|补助|救助|生育|急诊|医|档次|[一二]档|长护|护理保险|护理险|缴|学籍|户籍|统筹|居保|"
    r"insurance|medical|hospital|clinic|doctor|fee|reimburs|enrol",
    re.IGNORECASE,
)
# campus matters that are not medical insurance, even when they are paid (四六级报名费多少钱，在哪交)
OFF_TOPIC = re.compile(r"四六级|报名费|学费|住宿费|宿舍|食堂|快递|选课|绩点|网费|电费|话费|水费|天气|作文|写一[首篇]|翻译|"
                       r"股票|游戏|外卖|考研|校园网|饭卡|好玩|旅游|景点|景区|门票|学生票|乐园|美食|好吃|电影")
AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*(?:万|千)?\s*(?:元|块|rmb|yuan|cny)|花了\s*\d|\d+(?:\.\d+)?\s*万|[¥￥]\s*\d"
                    r"|(?:rmb|cny)\s*\d"
                    # a bill written bare after what it paid for: 住院2000, 门诊花费350
                    r"|(?:住院|门诊|急诊|看病|花费|医药费|医疗费|费用|账单|\bbill|\bcost)\s*(?:了|共|一共|总共|是|of)?\s*\d{3,}",
                    re.IGNORECASE)


def has_amount(text: str) -> bool:
    return bool(AMOUNT.search(money_digits(text)))


def classify(text: str, *, about_guides: bool = False) -> Intent:
    """``about_guides``: the question names a city or school we have a guide for, or is written in the guides'
    own words (then circumstances alone, 新生名单导入时报到注册日期填哪些月份, are a question for the guides,
    not off-topic)."""
    lowered = text.lower()
    if OFF_TOPIC.search(text) and not DOMAIN.search(text):
        return "out_of_scope"
    found = {name: [w for cue, w in cues.items() if cue in lowered] for name, cues in CUES.items()}
    if not about_guides and not DOMAIN.search(text) and all(w < STRONG for ws in found.values() for w in ws):
        # only circumstances (寒假, 回家, 微信, 新生) and no insurance word: 寒假回家的火车票怎么抢 is not ours
        return "out_of_scope"
    scores = {name: sum(ws) for name, ws in found.items()}
    if has_amount(text) and (scores["benefit"] > 0 or scores["claim"] > 0):
        return "calc"
    best = max(scores.values())
    if best <= 0:
        return "other" if DOMAIN.search(text) else "out_of_scope"
    return next(name for name in PRIORITY if scores[name] == best)  # type: ignore[return-value]
