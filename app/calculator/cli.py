"""``yibao calc``: the calculator on the command line.

    python -m app.calculator.cli benefit --json \
        '{"city": "wuhan", "care": "inpatient", "hospital_level": 3, "cost": 10000}'

Prints the output JSON on stdout; bad input prints a Chinese error on stderr and exits with code 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from app.calculator.policy import PolicyError
from app.calculator.service import CalcInputError, run_benefit, run_eligibility

calc_app = typer.Typer(
    help="医保计算器：报销金额、参保资格与缴费", no_args_is_help=True, add_completion=False
)

JsonOption = Annotated[str, typer.Option("--json", help="输入参数（JSON 对象）")]
KnowledgeOption = Annotated[Path | None, typer.Option(help="知识库目录（默认 YIBAO_KNOWLEDGE_DIR）")]


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"错误：{message}\n")
    return typer.Exit(2)


def _run(raw_json: str, knowledge: Path | None, fn: Callable[..., BaseModel]) -> None:
    try:
        data: Any = json.loads(raw_json)
    except json.JSONDecodeError as exc:
        raise _fail(f"--json 不是合法的 JSON（第 {exc.colno} 列：{exc.msg}）") from exc
    try:
        out = fn(data, knowledge_dir=knowledge)
    except (CalcInputError, PolicyError) as exc:
        raise _fail(str(exc)) from exc
    sys.stdout.write(json.dumps(out.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n")


@calc_app.command()
def benefit(raw_json: JsonOption, knowledge: KnowledgeOption = None) -> None:
    """计算一次门诊或住院的报销。

    必填 city、care、hospital_level、cost；可选 admission、hardship、in_school、emergency 等。
    """
    _run(raw_json, knowledge, run_benefit)


@calc_app.command()
def eligibility(raw_json: JsonOption, knowledge: KnowledgeOption = None) -> None:
    """参保资格、缴费、截止日期与待遇期。

    必填 city、level；可选 full_time、poverty_registered、hardship、new_student、insured_elsewhere、date。
    """
    _run(raw_json, knowledge, run_eligibility)


if __name__ == "__main__":
    calc_app()
