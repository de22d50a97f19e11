"""Fix homophone typos of domain terms (暂庭 → 暂停, 被案 → 备案, 报消 → 报销) by pinyin (pure after loading).

A span is replaced only when it sounds exactly like a domain term, differs from it in writing, and every one of
its characters stands alone in jieba's segmentation (a typo is not a word; so 医保吗 never becomes 医保码 and
可以报 never becomes 可医保).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.understanding.city import _is_han, pinyin_of


class HomophoneFixer:
    def __init__(self, terms: Iterable[str], segment: Callable[[str], list[str]]) -> None:
        self.segment = segment
        self._by_sound: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for term in sorted(set(terms), key=len, reverse=True):
            if 2 <= len(term) <= 8 and all(_is_han(ch) for ch in term):
                sounds = tuple(pinyin_of(term))
                self._by_sound.setdefault(sounds[0], []).append((sounds, term))

    def fix(self, text: str) -> str:
        if not any(_is_han(ch) for ch in text):
            return text
        sounds = pinyin_of(text)
        alone, pos = set(), 0
        for word in self.segment(text):
            if len(word) == 1:
                alone.add(pos)
            pos += len(word)
        out, i = [], 0
        while i < len(text):
            replaced = False
            for syllables, term in self._by_sound.get(sounds[i], []):
                span = text[i:i + len(term)]
                if (tuple(sounds[i:i + len(term)]) == syllables and span != term
                        and all(k in alone for k in range(i, i + len(term)))):
                    out.append(term)
                    i += len(term)
                    replaced = True
                    break
            if not replaced:
                out.append(text[i])
                i += 1
        return "".join(out)


def domain_terms(dictionary: Iterable[str], cut: Callable[[str], list[str]]) -> set[str]:
    """The domain words and the words they are made of (暂停参保 → 暂停, 参保)."""
    terms = set(dictionary)
    for term in list(terms):
        terms.update(w for w in cut(term) if len(w) >= 2)
    return terms
