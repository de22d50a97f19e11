"""Check every number an LLM writes against the sources it was given (pure).

A number is grounded when the same value appears in a cited chunk or the calculator's output (never the question).
Values are compared after the same normalisation the evaluation uses (:func:`app.normalize.normalize`):
1.2万 = 12000, 12,000 = 12000, 60％ = 60%, 八百元 = 800元, 百分之六十 = 60% — a number written in words is
checked like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from app.normalize import normalize

_NUMBER = re.compile(r"(\d+(?:[,，]\d{3})*(?:\.\d+)?)\s*(万|千)?")
_CITATION = re.compile(r"\[\d+\]")


def numbers_in(text: str) -> set[Decimal]:
    values: set[Decimal] = set()
    for m in _NUMBER.finditer(normalize(_CITATION.sub("", text))):
        try:
            value = Decimal(m.group(1).replace(",", "").replace("，", ""))
        except InvalidOperation:
            continue
        unit = {"万": 10000, "千": 1000}.get(m.group(2) or "", 1)
        values.add((value * unit).normalize())
        if unit != 1:
            values.add(value.normalize())
    return values


class KnownNumbers:
    """The values the sources contain, parsed once; sources can be added (a tool's output mid-answer)."""

    def __init__(self, sources: Iterable[str] = ()) -> None:
        self.values: set[Decimal] = set()
        for text in sources:
            self.add(text)

    def add(self, text: str) -> None:
        self.values |= numbers_in(text)


def ungrounded_numbers(answer: str, sources: Iterable[str] | KnownNumbers) -> list[str]:
    """The numbers in ``answer`` (as written) that no source contains."""
    known = (sources if isinstance(sources, KnownNumbers) else KnownNumbers(sources)).values
    missing = []
    text = normalize(_CITATION.sub("", answer))
    for m in _NUMBER.finditer(text):
        if _is_list_marker(text, m):
            continue
        if not numbers_in(m.group(0)) <= known and m.group(0).strip() not in missing:
            missing.append(m.group(0).strip())
    return missing


def _is_list_marker(text: str, m: re.Match[str]) -> bool:
    """Small bare integers (step numbers, "第2次") carry no policy figure."""
    follower = text[m.end(): m.end() + 1]
    return m.group(0).isdigit() and int(m.group(0)) <= 10 and follower not in {"%", "％", "元", "万", "千", "块"}
