"""Glue for the tool, CLI and (later) HTTP: validate raw input against the loaded policies, run the engine.

Raises :class:`CalcInputError` (Chinese message naming the field) on bad input and
:class:`app.calculator.policy.PolicyError` when the policy files themselves are broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.calculator import engine
from app.calculator.models import (
    BenefitInput,
    BenefitOutput,
    EligibilityInput,
    EligibilityOutput,
    describe_errors,
)
from app.calculator.policy import default_policies
from app.calculator.schema import Policy


class CalcInputError(ValueError):
    """Bad calculator input; ``str(exc)`` is a Chinese message naming the field."""


def _validate(
    model: type[BenefitInput] | type[EligibilityInput], raw: Any, policies: Mapping[str, Policy]
) -> Any:
    if not isinstance(raw, Mapping):
        raise CalcInputError('输入有误：应为 JSON 对象，例如 {"city": "wuhan", …}')
    try:
        return model.model_validate(dict(raw), context={"cities": sorted(policies)})
    except ValidationError as exc:
        raise CalcInputError(describe_errors(exc)) from exc


def run_benefit(raw: Any, *, knowledge_dir: Path | None = None) -> BenefitOutput:
    policies = default_policies(knowledge_dir)
    req: BenefitInput = _validate(BenefitInput, raw, policies)
    return engine.benefit(policies[req.city], req)


def run_eligibility(raw: Any, *, knowledge_dir: Path | None = None) -> EligibilityOutput:
    policies = default_policies(knowledge_dir)
    req: EligibilityInput = _validate(EligibilityInput, raw, policies)
    return engine.eligibility(policies[req.city], req)
