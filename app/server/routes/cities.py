"""GET /api/cities: covered cities with their schools, guides (policy years) and hotlines."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.server.deps import CatalogDep

router = APIRouter(prefix="/api", tags=["知识库"])


class DocInfo(BaseModel):
    doc_id: str
    title: str
    policy_year: int
    valid_note: str


class CityInfo(BaseModel):
    id: str
    name: str
    schools: list[str] = Field(description="该城市已收录的学校（knowledge/gazetteer.yaml）")
    docs: list[DocInfo]
    contacts: list[dict[str, str]] = Field(description="咨询电话或地址：{name, phone} 或 {name, address}")


class CitiesResponse(BaseModel):
    cities: list[CityInfo]


@router.get("/cities", response_model=CitiesResponse, summary="已覆盖的城市、学校、政策年度和咨询电话")
async def cities(catalog: CatalogDep) -> dict[str, object]:
    return {"cities": catalog.cities}
