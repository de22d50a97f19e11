"""Input and output models of the calculator; :func:`describe_errors` renders validation errors in Chinese.

The city is checked against the loaded policies: pass ``context={"cities": [...]}`` to ``model_validate``;
without a context the default policy folder (settings) is used.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.calculator.schema import Source

MAX_COST = Decimal("10000000")  # 1000 万元: anything above is a typo, not a hospital bill
CENT = Decimal("0.01")

Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

FIELD_NAMES = {
    "city": "城市",
    "care": "就医类型",
    "hospital_level": "医院等级",
    "cost": "合规医疗费用",
    "admission": "本年度第几次住院/就诊",
    "hardship": "困难人员",
    "in_school": "校内门诊",
    "emergency": "急诊",
    "serious_illness": "所患疾病属大病保险范围",
    "previous_level": "上次住院的医院等级",
    "continuous_years": "连续参保年数",
    "level": "学历层次",
    "full_time": "全日制",
    "poverty_registered": "建档立卡",
    "new_student": "新生",
    "insured_elsewhere": "已在外地参保",
    "date": "日期",
}


def _city_ids(info: ValidationInfo) -> list[str]:
    if isinstance(info.context, dict) and "cities" in info.context:
        return list(info.context["cities"])
    from app.calculator.policy import default_policies

    return sorted(default_policies())


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city: str = Field(description="城市 id，如 wuhan、shanghai、karamay、chongqing、dazhou")

    @field_validator("city")
    @classmethod
    def _known_city(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip().lower()
        valid = _city_ids(info)
        if value not in valid:
            raise PydanticCustomError(
                "unknown_city",
                "未知城市 “{city}”，可用的城市 id：{valid}",
                {"city": value, "valid": "、".join(valid)},
            )
        return value


class BenefitInput(_Input):
    care: Literal["inpatient", "outpatient"] = Field(description="就医类型：inpatient 住院，outpatient 门诊")
    hospital_level: int = Field(ge=1, le=3, description="医院等级：1 一级，2 二级，3 三级")
    cost: Decimal = Field(
        ge=0, lt=MAX_COST, allow_inf_nan=False, description="本次合规（医保目录范围内）医疗费用，单位元"
    )
    admission: int = Field(
        1, ge=1, le=366, description="本年度第几次住院（住院）或第几次就诊（门诊），默认 1"
    )
    hardship: bool = Field(False, description="是否困难人员（低保、低收入等），影响大病保险起付线和比例")
    in_school: bool = Field(False, description="是否在校内医疗机构门诊（上海校内门诊）")
    emergency: bool = Field(False, description="是否急诊")
    serious_illness: bool = Field(
        False, description="所患疾病是否属于指南所列大病（上海大病保险只对所列大病）"
    )
    previous_level: int | None = Field(
        None, ge=1, le=3, description="本年度上次住院的医院等级（克拉玛依补足起付线差额用），可不填"
    )
    continuous_years: int | None = Field(
        None, ge=0, le=100, description="连续参保年数（克拉玛依连续参保提高报销比例用），可不填"
    )

    @field_validator("cost")
    @classmethod
    def _cents(cls, value: Decimal) -> Decimal:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)


class EligibilityInput(_Input):
    level: Literal["undergraduate", "junior_college", "graduate"] = Field(
        description="学历层次：undergraduate 本科，junior_college 专科/高职，graduate 研究生"
    )
    full_time: bool = Field(True, description="是否全日制")
    poverty_registered: bool = Field(False, description="是否建档立卡贫困人口")
    hardship: Literal["none", "dibao", "tekun", "orphan", "severe_disability"] = Field(
        "none",
        description="困难类别：none 无，dibao 低保，tekun 特困，orphan 孤儿，severe_disability 重度残疾",
    )
    new_student: bool = Field(False, description="是否新生（入学当年）")
    insured_elsewhere: bool = Field(False, description="是否已在户籍地或外地参加基本医保")
    date: dt.date = Field(
        default_factory=dt.date.today, description="缴费或报到注册日期 YYYY-MM-DD，默认今天"
    )


class Step(BaseModel):
    label: str
    amount: Money | None = None
    rule: str
    source: Source | None = None


class BenefitOutput(BaseModel):
    city: str
    computable: bool
    reason: str | None = None
    basic_pays: Money | None = None
    serious_illness_pays: Money | None = None
    fund_pays: Money | None = None
    out_of_pocket: Money | None = None
    steps: list[Step] = []
    notes: list[str] = []
    policy_year: int


class FeeOption(BaseModel):
    label: str
    amount: Money


class EligibilityOutput(BaseModel):
    city: str
    eligible: bool | None  # None: the guide does not say
    reason: str | None = None
    enrol_where: Literal["school", "home"]
    fee: Money | None = None
    fee_basis: str
    fee_options: list[FeeOption] = []
    deadline: dt.date | None = None
    coverage_start: dt.date | None = None
    coverage_end: dt.date | None = None
    waiting_period: str | None = None
    steps: list[Step] = []
    sources: list[Source] = []
    notes: list[str] = []
    policy_year: int


_MESSAGES: dict[str, str] = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "finite_number": "应为有限的数字",
    "string_type": "应为字符串",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "model_type": "应为 JSON 对象",
}


def _message(err: Any) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    bounds = {
        "greater_than_equal": ("ge", "应大于或等于"),
        "greater_than": ("gt", "应大于"),
        "less_than_equal": ("le", "应小于或等于"),
        "less_than": ("lt", "应小于"),
    }
    if kind in bounds:
        key, words = bounds[kind]
        return f"{words} {ctx.get(key)}"
    if kind == "literal_error":
        return "只能是 " + str(ctx.get("expected", "")).replace(" or ", "、").replace(", ", "、")
    return _MESSAGES.get(kind, str(err["msg"]))


def describe_errors(exc: ValidationError) -> str:
    """One Chinese line naming every bad field, e.g. ``cost（合规医疗费用）：不能小于 0``."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "输入"
        name = FIELD_NAMES.get(str(err["loc"][0])) if err["loc"] else None
        label = f"{field}（{name}）" if name else field
        parts.append(f"{label}：{_message(err)}")
    return "输入有误：" + "；".join(parts)
