"""Whether a chunk of another section joins an answer: a small logistic model over generic features (pure).

The answer's lead comes from one section; :func:`app.answer.compose.pick_blocks` may add chunks of other
sections. Each one it adds is cited, and a cited section that does not answer the question makes the citations
wrong. The rules of ``pick_blocks`` (new question words, a retriever's first) admit candidates; this model then
weighs how likely the candidate's section is one the question is about, from features that say nothing about a
particular guide or question: how much of the question its heading and text cover, its ranks in BM25, the
dense search and the fusion, its kind and length, and whether it is national policy.

The weights (``join_model.json``) are fitted by ``python -m eval.train_joins`` on the opened question sets; the
never-read sets measure it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ingest.chunking import Chunk

MODEL_PATH = Path(__file__).with_name("join_model.json")
# feature names, in the order of the fitted weights
FEATURES = ("head", "body", "new", "position", "bm25", "dense", "faq", "table_row", "national",
            "bm25_first", "dense_first", "length", "lead_head", "lead_bm25", "lead_dense", "kind",
            "kind_new")

# a hit's (BM25 rank, dense rank), 1-based; None where that retriever did not return it
Ranks = Mapping[str, tuple[int | None, int | None]]


class JoinGate(Protocol):
    def admit(self, chunk: Chunk, features: Mapping[str, float]) -> bool: ...


def _share(weights: Mapping[str, float], terms: set[str], total: float) -> float:
    return sum(weights[t] for t in terms) / total if total > 0 else 0.0


def join_features(chunk: Chunk, lead: Chunk, *, position: int, ranks: Ranks, weights: Mapping[str, float],
                  chunk_terms: set[str], lead_terms: set[str], heading_terms: set[str], lead_heading_terms: set[str],
                  asked: set[str], kinds: Sequence[re.Pattern[str]] = ()) -> dict[str, float]:
    """The features of a candidate next to the lead's chunk: ``*_terms`` are the question terms in the chunk's
    text, in the lead chunk's text, in the chunk's own (last) heading and in the lead's; ``asked`` the terms
    the student wrote; ``kinds`` what a sentence giving the asked kind of figure holds (a date for 什么时候, a
    cap for 最多): a chunk that gives it where the lead's does not answers a part of the question. A lead whose
    heading and ranks say little about the question leaves room for another section."""
    total = sum(weights[t] for t in asked if t in weights)
    bm25, dense = ranks.get(chunk.chunk_id, (None, None))
    lead_bm25, lead_dense = ranks.get(lead.chunk_id, (None, None))
    kind = any(k.search(chunk.text) for k in kinds)
    return {
        "head": _share(weights, heading_terms & asked, total),
        "body": _share(weights, chunk_terms & asked, total),
        "new": _share(weights, (chunk_terms - lead_terms) & asked, total),
        "position": 1 / (1 + position),
        "bm25": 1 / bm25 if bm25 else 0.0,
        "dense": 1 / dense if dense else 0.0,
        "faq": float(chunk.kind == "faq"),
        "table_row": float(chunk.kind == "table_row"),
        "national": float(chunk.city == "national"),
        "bm25_first": float(bm25 == 1),
        "dense_first": float(dense == 1),
        "length": math.log(max(len(chunk.text), 1)),
        "lead_head": _share(weights, lead_heading_terms & asked, total),
        "lead_bm25": 1 / lead_bm25 if lead_bm25 else 0.0,
        "lead_dense": 1 / lead_dense if lead_dense else 0.0,
        "kind": float(kind),
        "kind_new": float(kind and not any(k.search(lead.text) for k in kinds)),
    }


@dataclass(frozen=True)
class JoinModel:
    weights: Mapping[str, float]
    bias: float
    threshold: float

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1 / (1 + math.exp(-z))

    def admit(self, chunk: Chunk, features: Mapping[str, float]) -> bool:
        return self.probability(features) >= self.threshold

    @classmethod
    def load(cls, path: Path = MODEL_PATH, threshold: float | None = None) -> JoinModel:
        return cls(*read_model(path, FEATURES, threshold))


def read_model(path: Path, features: Sequence[str], threshold: float | None = None
               ) -> tuple[dict[str, float], float, float]:
    """A fitted logistic model's (weights, bias, threshold) from its JSON file; ``threshold`` overrides the
    stored one. A file lacking a weight for one of ``features`` is refused."""
    data = json.loads(path.read_text(encoding="utf-8"))
    missing = set(features) - set(data["weights"])
    if missing:
        raise ValueError(f"{path}: no weight for {sorted(missing)}")
    return data["weights"], float(data["bias"]), float(data["threshold"] if threshold is None else threshold)
