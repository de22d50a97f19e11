"""Text normalization for matching numbers and facts (pure, no I/O): the evaluation matches gold facts with it
and the LLM mode's number check (app/answer/grounding.py) compares figures with it.

Both sides, the expected fact and the answer, go through :func:`normalize`, so a fact matches however the
answer writes it:

- full/half width (６０％ = 60%), spaces, quotation marks, dash variants, ASCII letter case;
- thousands commas (1,200 = 1200) and zero cents (400.00元 = 400元);
- 万/千 multipliers (1.2万 = 12000, 15万元 = 150000元);
- Chinese numerals before a unit (八百元 = 800元, 三级 = 3级, 第二次 = 第2次, 十二万 = 120000);
- percent words (百分之六十 = 六成 = 60%, 百分之百 = 百分之一百 = 100%); 块/块钱/rmb/¥ = 元.

:func:`contains` then checks a normalized needle against a normalized haystack without letting a number match
inside a longer number (400元 is not found in 1400元).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "零〇一二两三四五六七八九十百千万"

# a full-width "，" separates list items (三级800，二级400): it becomes "、", never a thousands comma
_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d,])")
_SPACES = re.compile(r"\s+")
_QUOTES = re.compile(r"[“”‘’\"'「」『』《》〈〉]")
_DASHES = re.compile(r"[‐‑‒–—―－~～〜]+")
_CN_RUN = rf"[零〇一二两三四五六七八九十][{_CN_NUM}]*"  # a Chinese number never starts with 百/千/万
# 百分之百 = 100%: a bare 百 (no numeral or digit after it) is the one number allowed to start with 百
_PERCENT_WORD = re.compile(rf"百分之(百(?![{_CN_NUM}\d])|{_CN_RUN}|\d+(?:\.\d+)?)")
_TENTHS = re.compile(  # 六成 = 60%, but not 完成, 一成不变
    r"(?<![\d.一二三四五六七八九十])([1-9]|[一二三四五六七八九])成(?![功为立绩本员年都熟就果不])"
)
_CN_BEFORE_UNIT = re.compile(rf"({_CN_RUN})(?=元|块|%|级|档|次|个|天|年|月|日|号|周|岁|人|项|种|倍)")
_CN_TEN_THOUSANDS = re.compile(rf"({_CN_RUN}万)")  # 十二万, 八万 with no unit after
_ORDINAL = re.compile(rf"第({_CN_RUN})")
_MULTIPLIED = re.compile(r"(\d+(?:\.\d+)?)(万|千)")
_YUAN = re.compile(r"(\d)(?:块钱|块|rmb|人民币|圆)")
_YUAN_SIGN = re.compile(r"[¥￥](\d+(?:\.\d+)?)(?!\d)(元)?")
_RMB_PREFIX = re.compile(r"(?:rmb|cny)(\d)")
_ZERO_CENTS = re.compile(r"(\d+)\.(\d*?)0+(?!\d)")


def cn_to_int(text: str) -> int | None:
    """Chinese numerals to an int, None if ``text`` is not a number.

    八百 → 800, 一千二百 → 1200, 一千二 → 1200 (spoken shorthand), 三万五 → 35000, 一百零五 → 105, 十五 → 15,
    一二〇 → 120 (digit by digit).
    """
    if not text or any(ch not in _CN_NUM for ch in text) or text[0] in "百千万":
        return None
    if all(ch in _CN_DIGITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, section, digit, last_unit, zero = 0, 0, None, 1, False
    for ch in text:
        if ch in "零〇":
            zero = True
        elif ch in _CN_DIGITS:
            if digit is not None:  # 一千二三: two digits in a row inside a unit form
                return None
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit, last_unit, zero = None, _CN_UNITS[ch], False
        else:  # 万
            total += (section + (digit or 0)) * 10000
            section, digit, last_unit, zero = 0, None, 10000, False
    if digit is not None and not zero and last_unit >= 100:
        digit *= last_unit // 10
    return total + section + (digit or 0)


def _decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cn_repl(match: re.Match[str]) -> str:
    value = cn_to_int(match.group(1))
    return match.group(0) if value is None else match.group(0).replace(match.group(1), str(value), 1)


def _percent_repl(match: re.Match[str]) -> str:
    raw = match.group(1)
    value = raw if raw[0].isdigit() else 100 if raw == "百" else cn_to_int(raw)
    return match.group(0) if value is None else f"{value}%"


def _tenths_repl(match: re.Match[str]) -> str:
    raw = match.group(1)
    value = int(raw) if raw.isdigit() else _CN_DIGITS[raw]
    return f"{value * 10}%"


def _multiply_repl(match: re.Match[str]) -> str:
    try:
        value = Decimal(match.group(1)) * (10000 if match.group(2) == "万" else 1000)
    except InvalidOperation:  # pragma: no cover - the regex only lets decimals through
        return match.group(0)
    return _decimal_text(value)


def _drop_zero_cents(match: re.Match[str]) -> str:
    return match.group(1) + ("." + match.group(2) if match.group(2) else "")


def normalize(text: str) -> str:
    """The canonical form used for matching (see the module docstring). Idempotent."""
    t = text or ""
    for _ in range(5):  # a converted numeral can complete an earlier pattern (0,00零 → 0,000)
        nxt = _pass(t)
        if nxt == t:
            break
        t = nxt
    return t


def _pass(text: str) -> str:
    t = unicodedata.normalize("NFKC", text.replace("，", "、")).lower()  # keep "，" a list separator
    t = _SPACES.sub("", t)
    t = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), t)
    t = _ZERO_CENTS.sub(_drop_zero_cents, t)
    t = _QUOTES.sub("", t)
    t = _DASHES.sub("-", t)
    t = _PERCENT_WORD.sub(_percent_repl, t)
    t = _TENTHS.sub(_tenths_repl, t)
    t = _ORDINAL.sub(_cn_repl, t)
    t = _CN_BEFORE_UNIT.sub(_cn_repl, t)
    t = _CN_TEN_THOUSANDS.sub(_cn_repl, t)
    t = _MULTIPLIED.sub(_multiply_repl, t)
    t = _MULTIPLIED.sub(_multiply_repl, t)  # 1千万 → 1000万 → 10000000
    t = _YUAN_SIGN.sub(lambda m: f"{m.group(1)}元", t)
    t = _RMB_PREFIX.sub(r"\1", t)
    t = _YUAN.sub(r"\1元", t)
    return _ZERO_CENTS.sub(_drop_zero_cents, t)


def money_digits(text: str) -> str:
    """Chinese numerals that can be an amount written in digits, so amounts are read alike (一万块 → 10000块,
    花了两千五 → 花了2500, 八百元 → 800元). A numeral becomes digits before 元/块 or when it has 百/千/万 in it;
    十月, 二级 and 第二次 stay as written."""
    def repl(match: re.Match[str]) -> str:
        run = match.group(0)
        if not (text.startswith(("元", "块"), match.end()) or any(u in run for u in "百千万")):
            return run
        value = cn_to_int(run)
        return run if value is None else str(value)

    return re.sub(_CN_RUN, repl, text)


def contains(haystack: str, needle: str) -> bool:
    """Whether normalized ``needle`` occurs in normalized ``haystack``, numbers matched whole.

    Both arguments must already be normalized. A needle that starts (ends) with a digit does not match right
    after (before) another digit or a decimal point: "400元" is not in "1400元", "60%" not in "160%".
    """
    if not needle:
        return True
    start = 0
    while (i := haystack.find(needle, start)) >= 0:
        j = i + len(needle)
        before = haystack[i - 1] if i > 0 else ""
        after = haystack[j:j + 2]
        before_ok = not needle[0].isdigit() or not (before.isdigit() or before == ".")
        decimal_after = after[:1] == "." and after[1:].isdigit()
        after_ok = not needle[-1].isdigit() or not (after[:1].isdigit() or decimal_after)
        if before_ok and after_ok:
            return True
        start = i + 1
    return False


def matches(answer: str, fact: str) -> bool:
    """Whether ``fact`` appears in ``answer`` after normalizing both (convenience for one-off checks)."""
    return contains(normalize(answer), normalize(fact))
