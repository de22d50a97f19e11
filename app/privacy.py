"""Mask personal data (身份证号, 手机号, 银行卡号, names after 我叫/姓名) before text is shown,
stored, logged or sent to an LLM (pure; SECURITY.md lists where it is applied)."""

from __future__ import annotations

import re

_ID18 = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?![\dXx])")
_ID15 = re.compile(r"(?<!\d)\d{15}(?!\d)")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")
_COMPOUND_SURNAMES = ("欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|长孙|宇文"
                      "|司徒|夏侯|轩辕|端木|独孤|南宫|西门|百里|呼延|澹台|钟离|赫连")
# 姓名 needs a colon or 是/为 after it: "姓名不同", "姓名和手机号" are not names
# 我叫了/叫过/叫的 (叫 as "call"): 我叫了救护车 is not a name
_NAME = re.compile(r"(我叫(?![了过着的])|姓名\s*[：:]|姓名[是为]|名字是|名字叫)\s*"
                   rf"((?:{_COMPOUND_SURNAMES})[\u4e00-\u9fff]{{1,2}}|[\u4e00-\u9fff]{{1,3}})")
# a passport number after its label (护照号E12345678, passport no. X1234567), or a Chinese passport's shape on its
# own (E/G + 8 digits, E + letter + 7 digits); a student number after its label (学号2024011234)
_LABELLED = re.compile(r"(护照号码?|护照|passport(?:\s*(?:no\.?|number|#))?|学号|学籍号)\s*[:：是为]?\s*([A-Za-z0-9]{5,14})(?![A-Za-z0-9])",
                       re.IGNORECASE)
_PASSPORT = re.compile(r"(?<![A-Za-z0-9])(?:[EG]\d{8}|E[A-Z]\d{7})(?![A-Za-z0-9])")
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


def _hide(token: str) -> str:
    """Keep the first character and the last two: E12345678 → E******78."""
    return token[:1] + "*" * (len(token) - 3) + token[-2:] if "*" not in token else token


def mask_pii(text: str) -> str:
    def id18(m: re.Match[str]) -> str:
        number = m.group(0)  # a valid checksum or not (a mistyped ID, 17 digits + X): it is someone's ID
        return number[:3] + "*" * 11 + number[-4:]

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        # spaced groups must pass Luhn (amounts listed with spaces must not); an unbroken 16–19-digit run is a
        # card number even if mistyped
        if luhn_ok(digits) or m.group(0).isdigit():
            return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
        return m.group(0)

    text = _ID18.sub(id18, text)
    text = _CARD.sub(card, text)
    text = _ID15.sub(lambda m: m.group(0)[:3] + "*" * 8 + m.group(0)[-4:], text)
    text = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LABELLED.sub(lambda m: m.group(0)[: m.start(2) - m.start(0)] + _hide(m.group(2)), text)
    text = _PASSPORT.sub(lambda m: _hide(m.group(0)), text)
    return _NAME.sub(lambda m: m.group(1) + m.group(2)[0] + "*" * (len(m.group(2)) - 1), text)
