"""Pull calculator inputs out of a question's words and numbers (pure)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from app.normalize import money_digits

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_AMOUNT = re.compile(r"(?:[¥￥]|rmb|cny)?\s*(\d+(?:[.,]\d+)*)\s*(万|w|千|k)?\s*(?:多)?\s*(元|块|rmb|yuan|cny)?",
                     re.IGNORECASE)


_NOT_MONEY_AFTER = tuple("年月日号次回趟级岁天个人%％倍")


def parse_cost(text: str) -> Decimal | None:
    """The largest money amount in the text, in yuan (2万 → 20000, 3千块 → 3000, 1,200元 → 1200, 花了20000,
    一万块 → 10000)."""
    text = money_digits(text)
    best: Decimal | None = None
    for m in _AMOUNT.finditer(text):
        number, unit, currency = m.group(1).replace(",", ""), m.group(2), m.group(3)
        if not unit and not currency:
            # a bare number is money only if it is big enough and is not a year, a date, a count or a level
            after = text[m.end():m.end() + 1]
            before = text[max(0, m.start() - 1):m.start()]
            if Decimal(number) < 50 or after.startswith(_NOT_MONEY_AFTER) or before == "第":
                continue
        value = Decimal(number) * {"万": 10000, "w": 10000, "千": 1000, "k": 1000}.get((unit or "").lower(), 1)
        best = value if best is None or value > best else best
    return best


# a level the student names (二级医院, 三甲) wins over one told by the kind of hospital (社区医院 is level 1,
# though it ends in 区医院, which is a district's level-2 hospital)
_NAMED_LEVELS = (
    (3, re.compile(r"三级|三甲|3级|三乙|tertiary|(?:level|grade|class)[ -]?(?:3|iii)\b", re.I)),
    (2, re.compile(r"二级|2级|二甲|二乙|secondary|(?:level|grade|class)[ -]?(?:2|ii)\b", re.I)),
    (1, re.compile(r"一级|1级|primary|(?:level|grade|class)[ -]?(?:1|i)\b", re.I)),
)
_TOLD_LEVELS = (
    (3, re.compile(r"省级|市级大医院")),
    (2, re.compile(r"区级|县级|县医院|(?<!社)区医院")),
    (1, re.compile(r"社区|卫生院|卫生服务中心|诊所|村卫生室|community", re.I)),
)


def parse_level(text: str) -> int | None:
    for levels in (_NAMED_LEVELS, _TOLD_LEVELS):
        for level, pattern in levels:
            if pattern.search(text):
                return level
    return None


_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "1st": 1, "2nd": 2, "3rd": 3}
_ENGLISH_ORDINAL = re.compile(r"\b(first|second|third|fourth|fifth|1st|2nd|3rd)\b[^.?!]{0,30}?"
                              r"\b(?:time|stay|admission|hospitali)", re.I)


# an earlier stay this year, told rather than counted: 已经住过一次院, 上个月住过院, 又住进, 再次住院
_EARLIER_STAY = re.compile(r"住过[^，。,；;？?]{0,4}院|住过一次|又住|又要住|再次住|再住院|二次住院")
# the level of that earlier stay: 3月在二级医院住过一次院
_EARLIER_LEVEL = re.compile(r"([一二三123])\s*级[^，。,；;？?]{0,8}?住过")
_LEVEL_DIGITS = {"一": 1, "二": 2, "三": 3, "1": 1, "2": 2, "3": 3}


def parse_previous_level(text: str) -> tuple[int | None, str]:
    """The hospital level of an earlier stay this year, and the text without it (so it is not read as this
    stay's level)."""
    m = _EARLIER_LEVEL.search(text)
    if not m:
        return None, text
    return _LEVEL_DIGITS[m.group(1)], text[:m.start()] + text[m.end():]


def parse_admission(text: str) -> int:
    if m := re.search(r"第\s*([一二两三四五六七八九十]|\d+)\s*[次回趟]", text):  # 第二回 = 第二次
        raw = m.group(1)
        return int(raw) if raw.isdigit() else _CN_DIGITS.get(raw, 1)
    if _EARLIER_STAY.search(text):
        return 2
    english = _ENGLISH_ORDINAL.search(text)
    return _ORDINALS[english.group(1).lower()] if english else 1


def benefit_request(text: str, city: str) -> tuple[dict[str, Any], list[str]]:
    """Calculator input from a question, plus Chinese notes on every assumption made."""
    notes: list[str] = []
    if re.search(r"住院|inpatient|hospital stay|hospitali[sz]|admitted", text, re.I):
        care = "inpatient"
    elif re.search(r"门诊|门急诊|急诊|看病|拿药|开药|挂号|outpatient|clinic|emergency", text, re.I):
        care = "outpatient"
    else:
        care = "inpatient"
        notes.append("问题未说明门诊还是住院，按住院计算。")
    previous_level, rest = parse_previous_level(text)
    level = parse_level(rest)
    if level is None:
        level = 3
        notes.append("问题未说明医院等级，按三级医疗机构计算。")
    cost = parse_cost(text)
    request = {
        "city": city,
        "care": care,
        "hospital_level": level,
        "cost": str(cost) if cost is not None else None,
        "admission": parse_admission(text),
        "previous_level": previous_level,
        "hardship": bool(re.search(r"低保|特困|孤儿|困难|残疾|低收入|脱贫", text)),
        "in_school": bool(re.search(r"校内|校医院|学校医院", text)),
        "emergency": "急诊" in text,
    }
    return request, notes
