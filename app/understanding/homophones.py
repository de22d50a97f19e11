"""Fix homophone typos of domain terms (暂庭 → 暂停, 被案 → 备案, 报消 → 报销) by pinyin (pure after loading).

A span is replaced only when it sounds exactly like a domain term, is not itself a known word (a term, or a
name to keep such as 重医), holds no negation or particle (不交 stays), and every one of its characters stands
alone in jieba's segmentation (a typo is not a word; so 医保吗 never becomes 医保码 and 可以报 never becomes 可医保).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from app.understanding.sounds import SoundIndex, is_han

# 不交 is not a typo of 补交: a span with a negation, a particle or a pronoun is meant as written
# 一年一交 is not 一年移交: a numeral is meant as written too
FUNCTION_CHARS = frozenset("不没吗呢吧啊呀嘛的了是我你他她它这那就都也还又很太一二两三")


# a question word typed with a character dropped (交多钱 for 交多少钱): restored before the question is read
DROPPED: tuple[tuple[re.Pattern[str], str], ...] = ((re.compile(r"(?<=[交缴])多钱"), "多少钱"),)


class HomophoneFixer:
    def __init__(self, terms: Iterable[str], segment: Callable[[str], list[str]], keep: Iterable[str] = (),
                 words: Iterable[str] = ()) -> None:
        """``keep``: names that are right as written though they sound like a term (重医 is a school, not 中医);
        no character of them is changed where they are written (在重医交 is not 在重移交). ``words``: other words
        right as written (the guides' own: 长护 is not 账户); a span that is one of them is no typo."""
        self.segment = segment
        terms = set(terms)
        self._known = terms | set(keep) | set(words)
        names = sorted((k for k in keep if k), key=len, reverse=True)
        self._keep = re.compile("|".join(map(re.escape, names)), re.IGNORECASE) if names else None
        self._index: SoundIndex[str] = SoundIndex(
            (t, t) for t in terms if 2 <= len(t) <= 8 and all(is_han(ch) for ch in t))

    def fix(self, text: str) -> str:
        for pattern, full in DROPPED:
            text = pattern.sub(full, text)
        if not any(is_han(ch) for ch in text):
            return text
        alone, pos = set(), 0
        kept = {k for m in self._keep.finditer(text) for k in range(m.start(), m.end())} if self._keep else set()
        for word in self.segment(text):
            if len(word) == 1:
                alone.add(pos)
            pos += len(word)

        def is_typo(start: int, end: int, term: str) -> bool:
            written = text[start:end]
            return (written != term and written not in self._known and not FUNCTION_CHARS.intersection(written)
                    and all(k in alone and k not in kept for k in range(start, end)))

        out, pos = [], 0
        for start, end, term in self._index.find(text, is_typo):
            out += [text[pos:start], term]
            pos = end
        return "".join(out) + text[pos:]


def domain_terms(dictionary: Iterable[str], cut: Callable[[str], list[str]]) -> set[str]:
    """The domain words and the words they are made of (暂停参保 → 暂停, 参保)."""
    terms = set(dictionary)
    for term in list(terms):
        terms.update(w for w in cut(term) if len(w) >= 2)
    return terms
