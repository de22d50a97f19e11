"""Elliptical follow-ups ("那住院呢", "二级医院的话呢") read as the last question with one part changed (pure).

"重医看门诊去哪看" then "那住院呢" asks "重医看住院去哪看": the follow-up names one value of something the last
question named another value of (care type, hospital level, contribution tier), and the rest of the question
carries over. Only such a swap is made; anything else returns None and the follow-up is searched as written.
"""

from __future__ import annotations

import re

# values that stand for one another, longest first inside a group (门急诊 before 门诊)
SLOTS: tuple[tuple[str, ...], ...] = (
    ("普通门诊", "门急诊", "门诊", "急诊", "住院"),
    ("社区医院", "一级医院", "二级医院", "三级医院", "一级", "二级", "三级"),
    ("一档", "二档"),
    ("本科生", "研究生", "专科生"),
)
# "那住院呢", "如果是二级医院的话", "换成研究生呢？": the changed part, then what else the follow-up says
_ELLIPSIS = re.compile(r"^(?:那么?|那如果是?|如果是|要是|换成|改成)?\s*(?P<part>[^，,。？?！!]{1,8}?)"
                       r"(?:的话)?(?:呢|怎么样|咋样|又如何)?(?:[，,。？?！!]+|$)")
# what makes such a short part lean on the last question: 呢/的话/怎么样 at its end, or 那/如果/要是 at its start
_LEANS = re.compile(r"呢|的话|怎么样|咋样|又如何|^(?:那|如果|要是|换成|改成)")


def _value(text: str, group: tuple[str, ...]) -> tuple[int, str] | None:
    """The first value of ``group`` written in ``text`` (a longer value wins where two start together)."""
    found = [(text.find(v), -len(v), v) for v in group if v in text]
    return (min(found)[0], min(found)[2]) if found else None


def is_elliptical(follow_up: str) -> bool:
    """"那克拉玛依那边呢", "如果是二级医院的话": a short part and a 呢/的话/那 that leans on the last question."""
    text = follow_up.strip()
    return bool(_ELLIPSIS.fullmatch(text) and _LEANS.search(text))


def resolve(follow_up: str, previous: str | None) -> str | None:
    """The last question with the follow-up's value swapped in, plus the rest of the follow-up; or None."""
    if not previous:
        return None
    m = _ELLIPSIS.match(follow_up.strip())
    if not m or not _LEANS.search(follow_up.strip()):
        return None
    part, rest = m.group("part"), follow_up.strip()[m.end():].strip()
    for group in SLOTS:
        new, old = _value(part, group), _value(previous, group)
        if new and old and new[1] != old[1]:
            swapped = previous[:old[0]] + new[1] + previous[old[0] + len(old[1]):]
            return f"{swapped} {rest}".strip()
    return None
