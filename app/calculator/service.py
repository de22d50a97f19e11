"""Glue for the tool, CLI and (later) HTTP: validate raw input against the loaded policies, run the engine.

Raises :class:`CalcInputError` (Chinese message naming the field) on bad input and
:class:`app.calculator.policy.PolicyError` when the policy files themselves are broken.
"""

from __future__ import annotations

import json
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
from app.input_error import InputError


class CalcInputError(InputError):
    """Bad calculator input; ``str(exc)`` is a Chinese message naming the field."""


def _validate(
    model: type[BenefitInput] | type[EligibilityInput], raw: Any, policies: Mapping[str, Policy], strict: bool
) -> Any:
    if not isinstance(raw, Mapping):
        raise CalcInputError('输入有误：应为 JSON 对象，例如 {"city": "wuhan", …}')
    context = {"cities": sorted(policies)}
    try:
        if strict:  # parsed JSON, checked as JSON: 0 is not false, a number is not a date (1970-01-01)
            return model.model_validate_json(json.dumps(dict(raw)), strict=True, context=context)
        return model.model_validate(dict(raw), context=context)
    except ValidationError as exc:
        raise CalcInputError(describe_errors(exc)) from exc


def run_benefit(raw: Any, *, knowledge_dir: Path | None = None, strict: bool = False) -> BenefitOutput:
    """``strict``: ``raw`` is a request's JSON and must have the documented JSON types (HTTP); otherwise
    pydantic's usual conversions apply (the CLI, the LLM's tool calls)."""
    policies = default_policies(knowledge_dir)
    req: BenefitInput = _validate(BenefitInput, raw, policies, strict)
    return engine.benefit(policies[req.city], req)


def run_eligibility(raw: Any, *, knowledge_dir: Path | None = None,
                    strict: bool = False) -> EligibilityOutput:
    policies = default_policies(knowledge_dir)
    req: EligibilityInput = _validate(EligibilityInput, raw, policies, strict)
    return engine.eligibility(policies[req.city], req)
