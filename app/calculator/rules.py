"""Pure helpers shared by the benefit and eligibility engines: money rounding, display, notes, contacts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.calculator.models import CENT, Step
from app.calculator.schema import Note, Policy, Source

HARDSHIP_NAMES = {
    "dibao": "低保对象",
    "tekun": "特困人员",
    "orphan": "孤儿",
    "severe_disability": "重度残疾人",
}
LEVEL_NAMES = {1: "一级", 2: "二级", 3: "三级"}


def money(value: Decimal) -> Decimal:
    """Round to cents, half up (the calculator's only rounding rule)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(value: Decimal) -> str:
    """``Decimal('800.00')`` → ``'800元'``, ``Decimal('12.5')`` → ``'12.50元'``."""
    text = f"{money(value):,.2f}"
    return (text[:-3] if text.endswith(".00") else text) + "元"


def pct(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return f"{text}%"


def applies(note: Note, facts: Mapping[str, Any]) -> bool:
    return all(facts.get(key) == value for key, value in (note.when or {}).items())


def contacts_text(policy: Policy) -> str:
    parts = []
    for c in policy.contacts:
        detail = c.phone or c.address
        parts.append(f"{c.name} {detail}" if detail else c.name)
    return "；".join(parts)


class Trail:
    """Collects steps, notes and their sources while an engine works."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        self.facts = facts
        self.steps: list[Step] = []
        self.notes: list[str] = []
        self.sources: list[Source] = []

    def cite(self, source: Source | None) -> None:
        if source is not None and source not in self.sources:
            self.sources.append(source)

    def step(
        self, label: str, rule: str, source: Source | None = None, amount: Decimal | None = None
    ) -> None:
        self.steps.append(
            Step(label=label, amount=None if amount is None else money(amount), rule=rule, source=source)
        )
        self.cite(source)

    def note(self, text: str | None, source: Source | None = None) -> None:
        if text and text not in self.notes:
            self.notes.append(text)
            self.cite(source)

    def notes_from(self, notes: Iterable[Note]) -> None:
        for n in notes:
            if applies(n, self.facts):
                self.note(n.text, n.source)

    def year_note(self, policy: Policy) -> None:
        if policy.year_note:
            self.note(f"资料年份：{policy.year_note}")
