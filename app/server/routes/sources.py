"""GET /api/sources/{doc_id}: a guide as Markdown, so a citation can open the exact section."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from app.server.catalog import Source
from app.server.deps import CatalogDep

router = APIRouter(prefix="/api", tags=["知识库"])


@router.get("/sources/{doc_id}", response_model=Source, summary="指南原文（Markdown）",
            responses={404: {"description": "没有这份指南"}})
async def source(doc_id: str, catalog: CatalogDep) -> Source:
    found = catalog.source(doc_id)
    if found is None:
        raise HTTPException(404, f"没有这份指南：“{doc_id[:80]}”，可用：{'、'.join(catalog.sources)}")
    return found
