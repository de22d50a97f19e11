"""Scorers for the question sets (pure functions, no I/O).

A *response* is the answer contract of issue 4 (``AskResponse`` or its JSON as a dict): ``answer``, ``city``,
``intent``, ``citations[{doc_id, section, ...}]``, ``calculation``, ``clarification``, ``refused``. An
*expect* is the ``expect`` object of a dataset item (see ``eval/datasets/README.md``). Nothing here reads
files or the clock: the runner measures latency and passes it in.

Per response: :func:`answer_correct`, :func:`fact_recall`, :func:`citation_accuracy`, :func:`city_correct`,
:func:`intent_correct`, :func:`calc_exact`. Per item (one response, or one per turn): :func:`score_item`.
Over a run: :func:`aggregate` (overall and by city / intent / tag) and :func:`latency_percentiles`.
Retrieval: :func:`source_rank` gives the rank that ``eval.metrics.recall_at_k`` and ``mrr`` take.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.normalize import contains, normalize

NO_CITY = "none"  # group key of items expecting no city (clarify, unknown city, off-topic, national)


@dataclass(frozen=True)
class Verdict:
    """Whether an answer is correct, and why not. Truthy when correct."""

    ok: bool
    reasons: tuple[str, ...] = ()
    missing: tuple[tuple[str, ...], ...] = ()
    forbidden_found: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class CitationScore:
    """``precision``: share of the response's citations that match an expected source (None: no citations,
    or no expected sources); ``hit``: an expected source is cited (None: the item expects no sources)."""

    precision: float | None
    hit: bool | None
    cited: int = 0
    matched: int = 0


@dataclass
class _Acc:
    values: list[float] = field(default_factory=list)

    def add(self, value: float | bool | None) -> None:
        if value is not None:
            self.values.append(float(value))

    def mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None


# ---- access ------------------------------------------------------------------------------------------------
def as_dict(response: Any) -> dict[str, Any]:
    """A response as a plain dict: accepts the pydantic ``AskResponse`` or its JSON."""
    if response is None:
        return {}
    if isinstance(response, Mapping):
        return dict(response)
    dump = getattr(response, "model_dump", None)
    if callable(dump):
        return dict(dump(mode="json"))
    raise TypeError(f"cannot read a response of type {type(response).__name__}")


def _text(response: Mapping[str, Any]) -> str:
    """The text facts are looked for in: the answer, plus the clarifying question when there is one."""
    parts = [str(response.get("answer") or "")]
    clar = response.get("clarification")
    if isinstance(clar, Mapping) and clar.get("question"):
        parts.append(str(clar["question"]))
    return "\n".join(parts)


def _groups(expect: Mapping[str, Any]) -> list[list[str]]:
    return [[g] if isinstance(g, str) else list(g) for g in expect.get("facts") or []]


# ---- answer ------------------------------------------------------------------------------------------------
def find_missing(groups: Sequence[Sequence[str]], text: str) -> list[list[str]]:
    """The fact groups none of whose alternatives appears in ``text`` (after normalization)."""
    norm = normalize(text)
    return [list(g) for g in groups if not any(contains(norm, normalize(alt)) for alt in g)]


def find_forbidden(forbidden: Iterable[str], text: str) -> list[str]:
    norm = normalize(text)
    return [f for f in forbidden if contains(norm, normalize(f))]


def answer_correct(expect: Mapping[str, Any], response: Any) -> Verdict:
    """All fact groups present, nothing forbidden, and the right clarify / refuse behaviour.

    A clarify item passes only if the response carries a ``clarification``; a refuse item only if ``refused``.
    Any other item fails if the system asked for clarification or refused.
    """
    r = as_dict(response)
    if not r:
        return Verdict(False, ("no response",))
    reasons: list[str] = []
    clarified, refused = bool(r.get("clarification")), bool(r.get("refused"))
    if expect.get("clarify"):
        if not clarified:
            reasons.append("expected a clarifying question, got none")
    elif clarified:
        reasons.append("asked for clarification on a question it should answer")
    if expect.get("refuse"):
        if not refused:
            reasons.append("expected a refusal")
    elif refused:
        reasons.append("refused a question it should answer")
    text = _text(r)
    missing = find_missing(_groups(expect), text)
    reasons += ["missing fact: " + " | ".join(g) for g in missing]
    bad = find_forbidden(expect.get("forbidden") or [], text)
    reasons += [f"forbidden text present: {f}" for f in bad]
    return Verdict(not reasons, tuple(reasons), tuple(tuple(g) for g in missing), tuple(bad))


def fact_recall(expect: Mapping[str, Any], response: Any) -> float | None:
    """Share of fact groups present in the answer; None when the item lists no facts."""
    groups = _groups(expect)
    if not groups:
        return None
    r = as_dict(response)
    return 1 - len(find_missing(groups, _text(r))) / len(groups) if r else 0.0


# ---- citations ---------------------------------------------------------------------------------------------
def source_matches(cited: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
    """Same doc_id, and the expected section (a heading path or just its last heading) is in the cited one."""
    if cited.get("doc_id") != expected.get("doc_id"):
        return False
    want = normalize(str(expected.get("section") or ""))
    return not want or want in normalize(str(cited.get("section") or ""))


def citation_accuracy(expect: Mapping[str, Any], response: Any) -> CitationScore:
    expected = list(expect.get("sources") or [])
    cites = [c if isinstance(c, Mapping) else as_dict(c) for c in as_dict(response).get("citations") or []]
    if not expected:
        return CitationScore(None, None, len(cites), 0)
    ok = [any(source_matches(c, e) for e in expected) for c in cites]
    hit = any(source_matches(c, e) for c in cites for e in expected)
    return CitationScore(sum(ok) / len(ok) if ok else None, hit, len(ok), sum(ok))


def source_rank(expect: Mapping[str, Any], ranked: Sequence[Mapping[str, Any]]) -> int | None:
    """1-based rank of the first retrieved chunk from an expected source (for Recall@k and MRR)."""
    expected = list(expect.get("sources") or [])
    for rank, hit in enumerate(ranked, start=1):
        if any(source_matches(hit, e) for e in expected):
            return rank
    return None


# ---- city, intent, calculator ------------------------------------------------------------------------------
def city_correct(expect: Mapping[str, Any], response: Any) -> bool | None:
    """Expected city (or null) equals the response's. None for refuse items: their city does not matter."""
    if expect.get("refuse") or "city" not in expect:
        return None
    return (expect.get("city") or None) == (as_dict(response).get("city") or None)


def intent_correct(expect: Mapping[str, Any], response: Any) -> bool | None:
    """The response's intent is the expected one (``intent`` may list several acceptable intents)."""
    want = expect.get("intent")
    if not want:
        return None
    allowed = {want} if isinstance(want, str) else set(want)
    return as_dict(response).get("intent") in allowed


def _cents(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        return None


def calc_exact(expect: Mapping[str, Any], response: Any) -> bool | None:
    """Every expected amount (``fund_pays``, ``out_of_pocket`` …) equals ``calculation``'s, to the cent.

    None when the item expects no calculation.
    """
    want = expect.get("calc")
    if not want:
        return None
    got = as_dict(response).get("calculation")
    if not isinstance(got, Mapping):
        return False
    for key, amount in want.items():
        a, b = _cents(amount), _cents(got.get(key))
        if a is None or b is None or a != b:
            return False
    return True


# ---- latency -----------------------------------------------------------------------------------------------
def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0–100), linear interpolation between closest ranks; None for no values."""
    xs = sorted(float(v) for v in values if v is not None and not math.isnan(float(v)))
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_percentiles(values: Iterable[float]) -> dict[str, float | None]:
    xs = [float(v) for v in values if v is not None]
    return {"n": len(xs), "p50": percentile(xs, 50), "p95": percentile(xs, 95),
            "max": max(xs) if xs else None}


# ---- items and runs ----------------------------------------------------------------------------------------
def score_turn(expect: Mapping[str, Any], response: Any, *,
               latency_ms: float | None = None) -> dict[str, Any]:
    """Every metric for one response to one question."""
    verdict = answer_correct(expect, response)
    cites = citation_accuracy(expect, response)
    r = as_dict(response)
    return {
        "correct": verdict.ok,
        "reasons": list(verdict.reasons),
        "fact_recall": fact_recall(expect, response),
        "citation_precision": cites.precision,
        "citation_hit": cites.hit,
        "city_ok": city_correct(expect, response) if r else False,
        "intent_ok": intent_correct(expect, response) if r else False,
        "calc_ok": calc_exact(expect, response),
        "latency_ms": latency_ms,
        "answer": r.get("answer"),
        "got": {"city": r.get("city"), "intent": r.get("intent"), "clarified": bool(r.get("clarification")),
                "refused": bool(r.get("refused"))},
    }


def turns_of(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An item's questions as turns: ``[{question, expect}]`` (a single-question item is one turn)."""
    if item.get("turns"):
        return [dict(t) for t in item["turns"]]
    return [{"question": item["question"], "expect": item["expect"]}]


def _all(values: Iterable[bool | None]) -> bool | None:
    xs = [v for v in values if v is not None]
    return all(xs) if xs else None


def _mean(values: Iterable[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def score_item(item: Mapping[str, Any], responses: Sequence[Any],
               latencies_ms: Sequence[float | None] | None = None) -> dict[str, Any]:
    """Score an item from its responses (one per turn, in order). The item is correct when every turn is."""
    turns = turns_of(item)
    lat = list(latencies_ms or [])
    scored = [score_turn(t["expect"], responses[i] if i < len(responses) else None,
                         latency_ms=lat[i] if i < len(lat) else None)
              for i, t in enumerate(turns)]
    expects = [t["expect"] for t in turns]
    city = next((e.get("city") for e in expects if e.get("city")), None) or NO_CITY
    intent = expects[0].get("intent")
    return {
        "id": item.get("id"),
        "city": city,
        "intent": intent if isinstance(intent, str) or intent is None else intent[0],
        "tags": list(item.get("tags") or []),
        "correct": all(s["correct"] for s in scored),
        "reasons": [f"turn {i + 1}: {r}" if len(scored) > 1 else r
                    for i, s in enumerate(scored) for r in s["reasons"]],
        "fact_recall": _mean(s["fact_recall"] for s in scored),
        "citation_precision": _mean(s["citation_precision"] for s in scored),
        "citation_hit": _all(s["citation_hit"] for s in scored),
        "city_ok": _all(s["city_ok"] for s in scored),
        "intent_ok": _all(s["intent_ok"] for s in scored),
        "calc_ok": _all(s["calc_ok"] for s in scored),
        "latencies_ms": [s["latency_ms"] for s in scored if s["latency_ms"] is not None],
        "turns": scored,
    }


def _summary(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    acc = {k: _Acc() for k in ("correct", "fact_recall", "citation_precision", "citation_hit", "city_ok",
                               "intent_ok", "calc_ok")}
    latencies: list[float] = []
    for r in results:
        for key, a in acc.items():
            a.add(r.get(key))
        latencies += list(r.get("latencies_ms") or [])
    return {
        "n": len(results),
        "answer_accuracy": acc["correct"].mean(),
        "fact_recall": acc["fact_recall"].mean(),
        "citation_accuracy": acc["citation_precision"].mean(),
        "citation_hit_rate": acc["citation_hit"].mean(),
        "city_accuracy": acc["city_ok"].mean(),
        "intent_accuracy": acc["intent_ok"].mean(),
        "calc_exact": acc["calc_ok"].mean(),
        "calc_n": len(acc["calc_ok"].values),
        "latency_ms": latency_percentiles(latencies),
    }


def aggregate(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Overall metrics and the same metrics by expected city, by expected intent and by tag.

    Each metric is the mean over the items it applies to (None when it applies to none): ``answer_accuracy``,
    ``fact_recall``, ``citation_accuracy`` (mean citation precision), ``citation_hit_rate``,
    ``city_accuracy``, ``intent_accuracy``, ``calc_exact``; ``latency_ms`` has p50/p95 over every turn.
    """
    def by(key: str) -> dict[str, dict[str, Any]]:
        groups: dict[str, list[Mapping[str, Any]]] = {}
        for r in results:
            keys = r.get(key) or []
            for k in ([keys] if isinstance(keys, str) else keys):
                groups.setdefault(str(k), []).append(r)
        return {k: _summary(v) for k, v in sorted(groups.items())}

    return {
        "overall": _summary(results),
        "by_city": by("city"),
        "by_intent": by("intent"),
        "by_tag": by("tags"),
    }
