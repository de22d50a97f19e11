"""Covered cities with their schools, guides and hotlines; each guide's Markdown. Read once; no FastAPI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from ingest.documents import load_cities, load_guides

NATIONAL = "national"


class Source(BaseModel):
    """A guide as served by GET /api/sources/{doc_id} (also its response model)."""

    model_config = ConfigDict(frozen=True)
    doc_id: str
    title: str
    city: str
    policy_year: int
    valid_note: str
    markdown: str


class Catalog:
    def __init__(self, *, cities: list[dict[str, Any]], sources: dict[str, Source]) -> None:
        self.cities = cities
        self.sources = sources

    def source(self, doc_id: str) -> Source | None:
        return self.sources.get(doc_id)


def _contacts(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
    seen, out = set(), []
    for c in raw:
        item = {k: str(c[k]) for k in ("name", "phone", "address") if c.get(k)}
        key = tuple(sorted(item.items()))
        if "name" in item and len(item) > 1 and key not in seen:
            seen.add(key)
            out.append(item)
    return out


def load_catalog(knowledge_dir: Path) -> Catalog:
    """Raises :class:`ingest.errors.IngestError` (naming the file) when the knowledge base is broken."""
    cities = load_cities(knowledge_dir)
    guides = load_guides(knowledge_dir)
    gazetteer = yaml.safe_load((knowledge_dir / "gazetteer.yaml").read_text(encoding="utf-8")) or {}
    covered = gazetteer.get("covered") or {}
    rows = []
    for cid, city in cities.items():
        if cid == NATIONAL:
            continue
        mine = sorted((g for g in guides if g.meta.city == cid), key=lambda g: -g.meta.policy_year)
        rows.append({
            "id": cid,
            "name": city.name,
            "schools": list(((covered.get(cid) or {}).get("schools") or {}).keys()),
            "docs": [{"doc_id": g.meta.doc_id, "title": g.meta.title, "policy_year": g.meta.policy_year,
                      "valid_note": g.meta.valid_note} for g in mine],
            "contacts": _contacts([c.model_dump() for g in mine for c in g.meta.contacts]),
        })
    sources = {
        g.meta.doc_id: Source(doc_id=g.meta.doc_id, title=g.meta.title, city=g.meta.city,
                              policy_year=g.meta.policy_year, valid_note=g.meta.valid_note, markdown=g.body)
        for g in guides
    }
    return Catalog(cities=rows, sources=sources)
