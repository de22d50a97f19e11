"""Sound-alike matching: texts indexed by pinyin, found in other texts by a longest-first scan (pure)."""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Generic, TypeVar

T = TypeVar("T")
Accept = Callable[[int, int, T], bool]  # (start, end, value) -> take this match?


def is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@lru_cache(maxsize=8192)
def _syllable(ch: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(ch)[0] if is_han(ch) else ch.lower()


def pinyin_of(text: str) -> list[str]:
    """One syllable per Chinese character (other characters stand for themselves), tones dropped."""
    return [_syllable(ch) for ch in text]


class SoundIndex(Generic[T]):
    """Values keyed by the sound of a text: grouped by first syllable, longest first, ties in order added."""

    def __init__(self, items: Iterable[tuple[str, T]] = ()) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], T]]] = {}
        for text, value in items:
            self.add(text, value)

    def add(self, text: str, value: T) -> None:
        sounds = tuple(pinyin_of(text))
        if not sounds:
            raise ValueError("cannot index an empty text")
        bucket = self._by_first.setdefault(sounds[0], [])
        insort(bucket, (sounds, value), key=lambda cand: -len(cand[0]))  # after equally long ones

    def find(self, text: str, accept: Accept[T] | None = None) -> list[tuple[int, int, T]]:
        """Non-overlapping ``(start, end, value)`` spans of ``text`` sounding like an indexed text, left to
        right: at each position the longest candidate ``accept`` allows is taken and the scan resumes after
        it. A text without Chinese characters matches nothing."""
        if not any(is_han(ch) for ch in text):
            return []
        sounds = tuple(pinyin_of(text))
        found: list[tuple[int, int, T]] = []
        i = 0
        while i < len(sounds):
            for syllables, value in self._by_first.get(sounds[i], ()):
                end = i + len(syllables)
                if sounds[i:end] == syllables and (accept is None or accept(i, end, value)):
                    found.append((i, end, value))
                    i = end
                    break
            else:
                i += 1
        return found
