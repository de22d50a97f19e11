"""LangChain tools over the calculator, so an LLM can compute instead of paraphrasing.

Each tool validates its arguments with the calculator's pydantic input model and returns the output as a
JSON string (``ensure_ascii=False``). Bad arguments come back as a Chinese message naming the field, not as
an exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import ValidationError

from app.calculator.models import BenefitInput, EligibilityInput, describe_errors
from app.calculator.service import CalcInputError, run_benefit, run_eligibility

BENEFIT_DESCRIPTION = (
    "计算大学生医保一次门诊或住院能报销多少：按指南的起付线、报销比例、单次/年度限额和大病保险分段逐步计算，"
    "返回基本医保支付、大病保险支付、基金合计、个人负担和每一步的依据（含出处）。"
    "cost 填医保目录范围内（合规）费用，单位元。指南数据不足时返回 computable=false 及应咨询的部门电话。"
)
ELIGIBILITY_DESCRIPTION = (
    "判断大学生能否在某城市参加居民医保、在学校还是户籍地参保、个人要交多少钱、缴费截止日期、"
    "待遇起止日期和等待期，并给出每一步的指南出处。date 为缴费或报到注册日期（YYYY-MM-DD），默认今天。"
)


def _error_text(exc: ValidationError | Any) -> str:
    return describe_errors(exc) if isinstance(exc, ValidationError) else f"输入有误：{exc}"


def make_calculator_tools(knowledge_dir: Path | None = None) -> list[StructuredTool]:
    """The ``calc_benefit`` and ``calc_eligibility`` tools over the policies in ``knowledge_dir``."""

    def json_tool(run: Callable[..., Any]) -> Callable[..., str]:
        def call(**kwargs: Any) -> str:
            try:
                out = run(kwargs, knowledge_dir=knowledge_dir)
            except CalcInputError as exc:
                return str(exc)
            return json.dumps(out.model_dump(mode="json"), ensure_ascii=False)

        return call

    calc_benefit, calc_eligibility = json_tool(run_benefit), json_tool(run_eligibility)

    return [
        StructuredTool.from_function(
            func=calc_benefit,
            name="calc_benefit",
            description=BENEFIT_DESCRIPTION,
            args_schema=BenefitInput,
            handle_validation_error=_error_text,
        ),
        StructuredTool.from_function(
            func=calc_eligibility,
            name="calc_eligibility",
            description=ELIGIBILITY_DESCRIPTION,
            args_schema=EligibilityInput,
            handle_validation_error=_error_text,
        ),
    ]
