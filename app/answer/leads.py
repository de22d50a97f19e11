"""How sure the answer's lead section is right: a small logistic model over generic features (pure).

Chunks of other sections join an answer as a hedge: when the lead's section is wrong, one of them is often the
right one; when the lead is right, they are mostly cited for nothing (on the opened sets, joins under a right
lead were right 52 times in 246, under a wrong lead 62 times in 111). This model weighs the lead chunk among the
top hits (how well its best sentence scores against the others', its BM25 and dense ranks, how much of the
question its heading and text hold, its kind); an answer whose lead it trusts takes no other section but the
lead's own sub-sections.

The weights (``lead_model.json``) are fitted by ``python -m eval.train_leads`` on the opened question sets; the
never-read sets measure it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.answer.joins import read_model
from ingest.chunking import Chunk

MODEL_PATH = Path(__file__).with_name("lead_model.json")
FEATURES = ("val", "valabs", "kind", "bm25", "dense", "bm25_first", "dense_first", "head", "headall", "body",
            "faq", "row", "national", "len", "margin", "same_next", "has_kinds", "wants")

Ranks = Mapping[str, tuple[int | None, int | None]]


class LeadJudge(Protocol):
    def trusts(self, lead: Chunk, features: Mapping[str, float]) -> bool: ...


def lead_features(top: Sequence[Chunk], anchor: int, values: Sequence[tuple[float, bool]], *, ranks: Ranks,
                  asked_weight: float, all_weight: float, heading_asked: float, heading_all: float,
                  body_asked: float, has_kinds: bool, wants_figures: bool) -> dict[str, float]:
    """``top``: the hits the lead was chosen from; ``values``: each one's best sentence value and whether that
    sentence is of the asked kind; the weights are of the question's terms (asked: the ones the student wrote)
    in all, in the lead's heading and in its text."""
    lead = top[anchor]
    best = max((v for v, _ in values), default=0.0) or 1.0
    shares = sorted((v / best for v, _ in values), reverse=True)
    bm25, dense = ranks.get(lead.chunk_id, (None, None))
    total = asked_weight or 1.0
    return {
        "val": values[anchor][0] / best,
        "valabs": values[anchor][0] / total,
        "kind": float(values[anchor][1]),
        "bm25": 1 / bm25 if bm25 else 0.0,
        "dense": 1 / dense if dense else 0.0,
        "bm25_first": float(bm25 == 1),
        "dense_first": float(dense == 1),
        "head": heading_asked / total,
        "headall": heading_all / (all_weight or 1.0),
        "body": body_asked / total,
        "faq": float(lead.kind == "faq"),
        "row": float(lead.kind == "table_row"),
        "national": float(lead.city == "national"),
        "len": math.log(max(len(lead.text), 1)),
        "margin": shares[0] - (shares[1] if len(shares) > 1 else 0.0),
        "same_next": float(sum(c.section == lead.section for c in top) - 1),
        "has_kinds": float(has_kinds),
        "wants": float(wants_figures),
    }


@dataclass(frozen=True)
class LeadModel:
    weights: Mapping[str, float]
    bias: float
    threshold: float  # the probability at which the lead is trusted alone (1: never)

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1 / (1 + math.exp(-z))

    def trusts(self, lead: Chunk, features: Mapping[str, float]) -> bool:
        return self.threshold < 1 and self.probability(features) >= self.threshold

    @classmethod
    def load(cls, path: Path = MODEL_PATH, threshold: float | None = None) -> LeadModel:
        return cls(*read_model(path, FEATURES, threshold))
