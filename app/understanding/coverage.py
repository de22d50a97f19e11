"""Whether a city's guide speaks of the matter a question asks about (pure).

Each guide covers some matters and not others: Wuhan's and Chongqing's never mention graduation (毕业),
Chongqing's 2018 notice never mentions remote care (异地, 备案). Retrieval always finds *something*, so a
question about such a matter would be answered from whatever text shares its other words. Instead: the words
that name the matter (the intent's strong cues found in the question, or their synonyms) are looked for in the
city's guide; when most of the other cities' guides use them and this one never does, the guide does not cover
the matter, and the answer says so and points to the office that can tell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from app.understanding.intent import CUES, STRONG


# the procedures a guide may or may not describe; figures (benefit, pay) and enrolment every guide gives, asked
# in words of the students' own (报多少, 几成) that no guide uses
MATTERS = frozenset({"suspend", "remote_care", "claim", "graduate", "e_voucher"})
# the cues that name a procedure outright (毕业, 异地, 备案, 暂停, 垫付, 医保码); lighter strong cues are often a
# circumstance (自费: a self-paid bill is claimed under remote care in Wuhan's guide, which never says 自费)
NAMES_MATTER = 1.5 * STRONG
# a procedure asked in words no single cue weighs enough (报销要带哪些材料, 去哪里报): the question names it by
# the word for it, which a guide writes in one of several ways (Chongqing's 2018 notice has none: it gives the
# reimbursement limits, never how to claim)
PROCEDURES: dict[str, tuple[re.Pattern[str], str]] = {
    "claim": (re.compile(r"报销[^，,。？?；;！!]{0,8}(?:材料|资料|手续|流程)|(?:材料|资料)[^，,。？?；;！!]{0,8}报销|"
                         r"(?:去|到|在)哪(?:里|儿)?报(?!名)"), "报销手续"),
}
PROCEDURE_WORDS: dict[str, list[str]] = {"报销手续": ["报销材料", "报销流程", "手工报销", "零星报销", "垫付"]}


def matter_words(question: str, intent: str) -> list[str]:
    """The strong cues of ``intent`` in the question, a cue inside a longer one counted once (找谁报, not 报);
    none for an intent that is not a procedure (``MATTERS``)."""
    if intent not in MATTERS:
        return []
    low = question.lower()
    found = [cue for cue, weight in CUES.get(intent, {}).items() if weight >= NAMES_MATTER and cue in low]
    named = [c for c in found if not any(c != other and c in other for other in found)]
    if intent in PROCEDURES and PROCEDURES[intent][0].search(low) and PROCEDURES[intent][1] not in named:
        named.append(PROCEDURES[intent][1])
    return named


def says(text: str, word: str, synonyms: Mapping[str, Sequence[str]]) -> bool:
    """``text`` (lower-cased) holds the word or one of its synonyms."""
    return word in text or any(s.lower() in text for s in synonyms.get(word, ()))


def guide_lacks(words: Sequence[str], city: str, texts: Mapping[str, str],
                synonyms: Mapping[str, Sequence[str]]) -> list[str]:
    """The matter words the city's guide never uses although most of the other guides do; empty when the guide
    uses any of them (it speaks of the matter) or when no word is one the guides use for it. ``texts``: each
    city's guide text, lower-cased (national documents excluded)."""
    synonyms = {**synonyms, **PROCEDURE_WORDS}
    others = [c for c in texts if c != city]
    usual = [w for w in words if sum(says(texts[c], w, synonyms) for c in others) * 2 > len(others)]
    if not usual or any(says(texts.get(city, ""), w, synonyms) for w in usual):
        return []
    return usual
