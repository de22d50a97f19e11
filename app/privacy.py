"""Mask personal data (身份证号, 手机号, 银行卡号, names after 我叫/姓名) before text is shown, stored or logged."""

from __future__ import annotations

import re

_ID18 = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?![\dXx])")
_ID15 = re.compile(r"(?<!\d)\d{15}(?!\d)")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")
_NAME = re.compile(r"(我叫|姓名[：:]?|名字是|名字叫)\s*([\u4e00-\u9fff]{1,3})")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_checksum_ok(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_pii(text: str) -> str:
    def id18(m: re.Match[str]) -> str:
        number = m.group(0)
        # a valid checksum is an ID; an 18-digit run that fails it may still be one mistyped: mask both
        return number[:3] + "*" * 11 + number[-4:] if id_checksum_ok(number) or number.isdigit() else number

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return digits[:4] + "*" * (len(digits) - 8) + digits[-4:] if luhn_ok(digits) else m.group(0)

    text = _ID18.sub(id18, text)
    text = _CARD.sub(card, text)
    text = _ID15.sub(lambda m: m.group(0)[:3] + "*" * 8 + m.group(0)[-4:], text)
    text = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _NAME.sub(lambda m: m.group(1) + m.group(2)[0] + "*" * (len(m.group(2)) - 1), text)
