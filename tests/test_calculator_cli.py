"""The calculator CLI (``calc_app``, to be registered as ``yibao calc``): JSON out, Chinese errors, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from app.calculator.cli import calc_app
from app.settings import PROJECT_ROOT

runner = CliRunner()


def invoke(*args: str):  # noqa: ANN201 - typer's Result
    return runner.invoke(calc_app, list(args))


def test_benefit_prints_output_json() -> None:
    # 武汉：“三级医疗机构800元”“三级医疗机构60%”：(10000 − 800) × 60% = 5520
    result = invoke(
        "benefit", "--json", '{"city": "wuhan", "care": "inpatient", "hospital_level": 3, "cost": 10000}'
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["fund_pays"] == 5520.0 and data["out_of_pocket"] == 4480.0 and data["computable"] is True
    assert "起付线" in result.stdout  # Chinese printed as is (ensure_ascii=False), not \\u escapes
    assert {"label", "amount", "rule", "source"} <= set(data["steps"][1])


def test_eligibility_prints_output_json() -> None:
    # 克拉玛依：“个人缴费标准为400元”，“集中参保缴费期为2025年9月1日至2026年1月10日”
    result = invoke("eligibility", "--json", '{"city": "karamay", "level": "graduate", "date": "2025-10-01"}')
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["fee"], data["deadline"], data["coverage_start"]) == (400.0, "2026-01-10", "2026-01-01")
    assert data["sources"] and data["enrol_where"] == "school"


def test_not_computable_is_not_an_error() -> None:
    result = invoke(
        "benefit", "--json", '{"city": "dazhou", "care": "inpatient", "hospital_level": 2, "cost": 100}'
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["computable"] is False and "0818-12333" in data["reason"]


@pytest.mark.parametrize(
    ("command", "payload", "words"),
    [
        (
            "benefit",
            '{"city": "beijing", "care": "inpatient", "hospital_level": 3, "cost": 1}',
            "可用的城市 id",
        ),
        (
            "benefit",
            '{"city": "wuhan", "care": "inpatient", "hospital_level": 3, "cost": -5}',
            "cost（合规医疗费用）",
        ),
        (
            "benefit",
            '{"city": "wuhan", "care": "inpatient", "hospital_level": 3, "cost": 99999999}',
            "应小于",
        ),
        (
            "benefit",
            '{"city": "wuhan", "care": "inpatient", "hospital_level": 4, "cost": 1}',
            "hospital_level（医院等级）",
        ),
        ("benefit", '{"city": "wuhan", "care": "inpatient", "cost": 1}', "缺少必填字段"),
        ("benefit", '{"city": "wuhan"', "不是合法的 JSON"),
        ("benefit", "[1, 2]", "JSON 对象"),
        ("eligibility", '{"city": "wuhan"}', "level（学历层次）：缺少必填字段"),
        ("eligibility", '{"city": "wuhan", "level": "graduate", "date": "yesterday"}', "YYYY-MM-DD"),
    ],
)
def test_bad_input_is_a_chinese_error_with_exit_2(command: str, payload: str, words: str) -> None:
    result = invoke(command, "--json", payload)
    assert result.exit_code == 2
    assert words in result.stderr and result.stderr.startswith("错误：")
    assert "Traceback" not in result.output and result.stdout == ""


def test_module_entry_point_runs() -> None:
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.calculator.cli",
            "benefit",
            "--json",
            '{"city": "shanghai", "care": "outpatient", "hospital_level": 1, "cost": 100, "in_school": true}',
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["fund_pays"] == 80.0  # 上海“校内门诊 个人自负比例20%”：100 × 80%
    bad = subprocess.run(
        [sys.executable, "-m", "app.calculator.cli", "benefit", "--json", '{"city": "mars"}'],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "未知城市" in bad.stderr and "Traceback" not in bad.stderr
