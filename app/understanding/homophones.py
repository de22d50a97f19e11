"""Fix homophone typos of domain terms (暂庭 → 暂停, 被案 → 备案, 报消 → 报销) by pinyin (pure after loading).

A span is replaced only when it sounds exactly like a domain term, differs from it in writing, and every one of
its characters stands alone in jieba's segmentation (a typo is not a word; so 医保吗 never becomes 医保码 and
可以报 never becomes 可医保).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.understanding.sounds import SoundIndex, is_han


class HomophoneFixer:
    def __init__(self, terms: Iterable[str], segment: Callable[[str], list[str]]) -> None:
        self.segment = segment
        self._index: SoundIndex[str] = SoundIndex(
            (t, t) for t in set(terms) if 2 <= len(t) <= 8 and all(is_han(ch) for ch in t))

    def fix(self, text: str) -> str:
        if not any(is_han(ch) for ch in text):
            return text
        alone, pos = set(), 0
        for word in self.segment(text):
            if len(word) == 1:
                alone.add(pos)
            pos += len(word)

        def is_typo(start: int, end: int, term: str) -> bool:
            return text[start:end] != term and all(k in alone for k in range(start, end))

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
