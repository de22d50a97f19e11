"""POST /api/calc/benefit and /api/calc/eligibility: the calculator's JSON (same as `yibao calc … --json`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException
from pydantic import BaseModel

from app.calculator.models import BenefitInput, BenefitOutput, EligibilityInput, EligibilityOutput
from app.calculator.policy import PolicyError
from app.calculator.service import run_benefit, run_eligibility
from app.server.deps import SettingsDep

router = APIRouter(prefix="/api/calc", tags=["计算器"])
# the body is validated by the calculator itself (its Chinese messages name the field); documented here
EXAMPLE = {"city": "wuhan", "care": "inpatient", "hospital_level": 3, "cost": 10000}
RawBody = Annotated[Any, Body(examples=[EXAMPLE])]


def _doc(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _run(run: Callable[..., Any], raw: Any, settings: SettingsDep) -> Any:
    """The calculator's answer; its CalcInputError (a Chinese message naming the field) is a 422."""
    try:
        return run(raw, knowledge_dir=settings.knowledge_dir, strict=True)  # JSON types as documented
    except PolicyError as exc:
        raise HTTPException(503, f"计算器暂不可用：{exc}") from exc


@router.post("/benefit", response_model=BenefitOutput, openapi_extra=_doc(BenefitInput),
             summary="能报销多少（起付线、比例、限额、大病保险，逐步给出依据）")
def benefit(raw: RawBody, settings: SettingsDep) -> Any:
    return _run(run_benefit, raw, settings)


@router.post("/eligibility", response_model=EligibilityOutput, openapi_extra=_doc(EligibilityInput),
             summary="能否参保、在哪参保、交多少钱、待遇起止")
def eligibility(raw: RawBody, settings: SettingsDep) -> Any:
    return _run(run_eligibility, raw, settings)
