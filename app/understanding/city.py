"""City and school detection from place names, districts and a gazetteer of schools (pure after loading)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import yaml

from app.understanding.sounds import SoundIndex, is_han

Source = Literal["param", "question", "session", "house_word"]


@dataclass(frozen=True)
class Alias:
    text: str
    city: str | None  # a covered city id, or None for a city we have no guide for
    school: str | None = None
    place: str | None = None  # the uncovered city's name
    platform: bool = False  # a city's own service app (随申办): names the city and is a topic of the question
    house: bool = False  # what one guide calls its own school (校区): a city only when nothing else names one


# a place right after these is the student's origin (老家宜昌, 家在重庆, 户口在攀枝花), not where they study
# (家在/家是 are left out: 我家是上海本地低保户 lives where they study)
ORIGIN = re.compile(r"(?:老家|家乡|户口|户籍|来自|原籍)[^，。,；;？?\s]{0,2}$")


def _alias_pattern(alias: str) -> str:
    escaped = re.escape(alias)
    return rf"(?<![A-Za-z]){escaped}(?![A-Za-z])" if alias.isascii() else escaped


@dataclass
class Gazetteer:
    aliases: list[Alias]
    not_followed_by: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # word segmentation of a text (every character kept): a school's short name that is also a word (上交 "hand
    # in", 重大 "major") is that school only where it is a word of the text: 小程序上/交费 is not 上交. Names that
    # are not words (重医) are not checked: the segmenter does not know them (重/医学生)
    segment: Callable[[str], list[str]] | None = None
    _pattern: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        self.aliases.sort(key=lambda a: len(a.text), reverse=True)  # longest first: 华中科技大学 before 华科
        self._by_text = {a.text.lower(): a for a in self.aliases}
        self._pattern = re.compile("|".join(_alias_pattern(a.text) for a in self.aliases), re.IGNORECASE)
        self._sound_index: SoundIndex[Alias] | None = None

    def _sounds(self) -> SoundIndex[Alias]:
        """Chinese names of 3+ characters also match by sound (克拉码依 is 克拉玛依 mistyped). Built on
        first use and published whole, so concurrent first calls at worst build it twice."""
        if self._sound_index is None:
            self._sound_index = SoundIndex((a.text, a) for a in self.aliases
                                           if len(a.text) >= 3 and all(is_han(ch) for ch in a.text))
        return self._sound_index

    def find(self, text: str) -> list[Alias]:
        """Every alias in ``text``, longest match first at each position, skipping excluded readings; if no
        name is written exactly, names that sound the same (homophone typos) are tried."""
        assert self._pattern is not None
        found = []
        bounds: set[int] | None = None
        for m in self._pattern.finditer(text):
            blocked = self.not_followed_by.get(m.group(0), ())
            if any(text.startswith(b, m.end()) for b in blocked):
                continue
            alias = self._by_text[m.group(0).lower()]
            if ORIGIN.search(text[max(0, m.start() - 4):m.start()]):
                continue  # 老家宜昌的, 户口在重庆: where the student comes from, not where they study
            if self.segment and _short_school(alias) and self.segment(alias.text) == [alias.text]:
                bounds = bounds if bounds is not None else _boundaries(self.segment(text))
                # 武大学生 segments 武/大学生: a school's students (…学生) still name the school
                if m.start() not in bounds or (m.end() not in bounds and not text.startswith("学生", m.end())):
                    continue
            if alias.school and alias.text.endswith("大学") and text.startswith("生", m.end()):
                alias = Alias(alias.text, alias.city)  # 武汉大学生 = students in Wuhan, not of 武汉大学
            found.append(alias)
        return found or self.find_by_sound(text)

    def covered_names(self, text: str) -> list[Alias]:
        """The names in ``text`` of places and schools we have a guide for (a house word like 校区 is not one)."""
        return [a for a in self.find(text) if a.city and not a.house]

    def respell(self, text: str) -> str:
        """A name written with a homophone typo (克拉玛衣, 华中科技大雪) spelled as the gazetteer writes it, when
        no name is written exactly: the search then sees the real name."""
        assert self._pattern is not None
        if self._pattern.search(text):
            return text
        for start, end, alias in reversed(self._sounds().find(text)):
            text = text[:start] + alias.text + text[end:]
        return text

    def find_by_sound(self, text: str) -> list[Alias]:
        """Names that sound like a span of ``text``, longest first at each position, without overlaps."""
        return [alias for _, _, alias in self._sounds().find(text)]


def _short_school(alias: Alias) -> bool:
    return bool(alias.school) and alias.text != alias.school and len(alias.text) <= 3 and all(
        is_han(ch) for ch in alias.text)


def _boundaries(words: list[str]) -> set[int]:
    ends, at = {0}, 0
    for word in words:
        at += len(word)
        ends.add(at)
    return ends


def load_gazetteer(path: Path, segment: Callable[[str], list[str]] | None = None) -> Gazetteer:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    aliases: list[Alias] = []
    for city, info in (data.get("covered") or {}).items():
        aliases += [Alias(p, city) for p in info.get("places") or []]
        aliases += [Alias(p, city, platform=True) for p in info.get("platforms") or []]
        aliases += [Alias(w, city, house=True) for w in info.get("house_words") or []]
        for school, shorts in (info.get("schools") or {}).items():
            aliases += [Alias(name, city, school) for name in [school, *(shorts or [])]]
    for place, names in (data.get("uncovered") or {}).items():
        aliases += [Alias(name, None, place=place) for name in names]
    # 州 is often typed 洲 (达洲, 杭洲): the same place
    aliases += [replace(a, text=a.text.replace("州", "洲")) for a in aliases if "州" in a.text]
    unique = {a.text: a for a in aliases}  # a later duplicate wins; keep the data free of them
    blocked = {k: tuple(v) for k, v in (data.get("not_followed_by") or {}).items()}
    return Gazetteer(list(unique.values()), blocked, segment)


@dataclass
class CityGuess:
    city: str | None = None
    school: str | None = None
    source: Source | None = None
    mentioned: list[str] = field(default_factory=list)  # covered city ids named in the question, in order
    uncovered: str | None = None  # a place we have no guide for, named in the question


def detect_city(
    text: str,
    gazetteer: Gazetteer,
    *,
    explicit: str | None = None,
    session_city: str | None = None,
    session_school: str | None = None,
) -> CityGuess:
    """An explicit ``city`` wins; then what the question names; then the conversation; then a guide's word for
    its own school (校区), as an assumption the answer states."""
    found = gazetteer.find(text)
    hits = [a for a in found if not a.house]
    mentioned: list[str] = []
    for a in hits:
        if a.city and a.city not in mentioned:
            mentioned.append(a.city)
    school = next((a.school for a in hits if a.school), None)
    uncovered = next((a.place for a in hits if a.city is None), None)
    if explicit:
        same = school if school and any(a.school == school and a.city == explicit for a in hits) else None
        return CityGuess(explicit, same or (session_school if session_city == explicit else None), "param",
                         mentioned, uncovered)
    if len(mentioned) == 1:
        return CityGuess(mentioned[0], school, "question", mentioned, uncovered)
    if mentioned:  # several covered cities named: a comparison or a move; the first school's city leads
        lead = next((a.city for a in hits if a.school), None)
        return CityGuess(lead, school, "question" if lead else None, mentioned, uncovered)
    if uncovered:
        return CityGuess(None, None, None, [], uncovered)
    if session_city:
        return CityGuess(session_city, session_school, "session", [], None)
    house = next((a.city for a in found if a.house), None)
    return CityGuess(house, None, "house_word") if house else CityGuess()


def school_names_replaced(text: str, gazetteer: Gazetteer, city: str, *, city_name: str,
                          own_schools: Collection[str]) -> tuple[str, str]:
    """The question as the two searches see it once its city is known: ``(for BM25, for the dense search)``.

    A school's name chose the guide; it says nothing about which part of it. Written in full it even misleads:
    重庆医科大学 splits into 重庆/医科/大学…, words of the guide's table captions, so the table rows outrank the
    asked passage (measured on 153 Chongqing questions: 0.967 accurate with 重医, 0.876 with 重庆医科大学; 70
    Karamay ones: 0.943 with 克拉玛依校区, 0.857 with the full name). BM25 sees the guide's own word for its
    school instead (克拉玛依校区 → 校区, for a guide that says 校区学生) or nothing; the dense search sees the city's
    name. However the school is named, the searches see the same question."""
    schools = [a for a in gazetteer.find(text) if a.school and a.city == city and a.text in text]
    if not schools:
        return text, text
    house = " ".join(sorted({a.text for a in gazetteer.aliases if a.house and a.city == city}))
    sparse, dense = text, text
    for alias in schools:  # longest first (find's order at each position): 重庆医科大学 before 重医
        sparse = sparse.replace(alias.text, f" {house} " if house and alias.school in own_schools else " ")
        dense = dense.replace(alias.text, city_name)
    sparse = re.sub(r"\s+", " ", sparse).strip()
    return (sparse if len(sparse) >= 2 else text), dense
