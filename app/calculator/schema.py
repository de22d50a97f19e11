"""The data model of a city's policy file: every number carries ``source: {doc_id, section}``.

A value a guide does not state is simply absent. The format is documented for humans in
``knowledge/policies/README.md``; :mod:`app.calculator.policy` loads and validates the files.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Care = Literal["inpatient", "outpatient"]
StudyLevel = Literal["undergraduate", "junior_college", "graduate"]
HardshipKind = Literal["dibao", "tekun", "orphan", "severe_disability"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    doc_id: str
    section: str


class Note(_Strict):
    """A remark shown to the user; ``when`` limits it to inputs with these values (``{emergency: true}``)."""

    text: str
    source: Source
    when: dict[str, Any] | None = None


class Cited(_Strict):
    source: Source
    quote: str | None = None  # verbatim text of the guide (a test checks it is there)
    note: str | None = None


class Amount(Cited):
    amount: Decimal = Field(ge=0)


class Option(Amount):
    label: str


class Percent(Cited):
    percent: Decimal | None = Field(None, ge=0, le=100)  # share the fund pays
    self_pay_percent: Decimal | None = Field(None, ge=0, le=100)  # as guides that state 个人自负比例

    @model_validator(mode="after")
    def _one_of(self) -> Percent:
        if (self.percent is None) == (self.self_pay_percent is None):
            raise ValueError("percent 与 self_pay_percent 须且只能给出一个")
        return self

    @property
    def fund_percent(self) -> Decimal:
        return self.percent if self.percent is not None else Decimal(100) - (self.self_pay_percent or 0)


class Deductible(Amount):
    per: Literal["visit", "admission", "year"]
    later: Literal["full", "half"] = "full"  # visit/admission deductibles from the 2nd visit/admission on
    top_up_on_higher_level: bool = (
        False  # year deductible: a later stay at a higher level pays the difference
    )


class Scheme(_Strict):
    """Basic-insurance rules for one hospital level (or for in-school clinics)."""

    label: str
    deductible: Deductible
    ratio: Percent
    per_visit_cap: Amount | None = None
    annual_cap: Amount | None = None
    only_if_emergency: Note | None = None
    notes: list[Note] = []


class CareRules(_Strict):
    label: str
    levels: dict[int, Scheme] = {}
    in_school: Scheme | None = None
    annual_cap: Amount | None = None
    not_computable: Note | None = None
    notes: list[Note] = []


class Band(_Strict):
    lower: Decimal = Field(ge=0)
    upper: Decimal | None = None
    percent: Decimal = Field(ge=0, le=100)


class SIGroup(Cited):
    label: str
    threshold: Decimal = Field(ge=0)
    bands: list[Band] = Field(min_length=1)
    annual_cap: Amount | None = None

    @model_validator(mode="after")
    def _contiguous(self) -> SIGroup:
        if self.bands[0].lower != self.threshold:
            raise ValueError("第一段的下限应等于起付线 threshold")
        for a, b in zip(self.bands, self.bands[1:], strict=False):
            if a.upper is None or a.upper != b.lower:
                raise ValueError("大病分段应首尾相接，只有最后一段可不设上限")
        return self


class SeriousIllness(_Strict):
    applies_to: list[Care]
    requires_listed_disease: bool = False
    general: SIGroup
    hardship: SIGroup | None = None
    notes: list[Note] = []


class ContinuityBonus(Cited):
    after_years: int = Field(ge=0)
    percent_per_year: Decimal = Field(gt=0)
    max_percent: Decimal = Field(gt=0)
    applies_to: list[Care]


class Benefit(_Strict):
    outpatient: CareRules
    inpatient: CareRules
    serious_illness: SeriousIllness | None = None
    continuity_bonus: ContinuityBonus | None = None
    notes: list[Note] = []


class Who(Cited):
    levels: list[StudyLevel] | None = None  # None: the guide does not restrict
    full_time_required: bool | None = None  # None: the guide does not say


class Poverty(Cited):
    enrol_where: Literal["home", "school_or_home"]
    text: str


class LateFee(Amount):
    paid_after: dt.date
    for_year: int


class Fees(_Strict):
    year: int  # the insurance year the amounts are for
    standard: Amount | None = None
    options: list[Option] = []
    hardship: dict[HardshipKind, Amount] = {}
    hardship_unstated: Note | None = None  # a reduction is promised but its amount is not stated
    hardship_unstated_for: list[HardshipKind] = []
    extras: list[Option] = []  # voluntary add-ons, not part of ``fee``
    late: list[LateFee] = []
    notes: list[Note] = []


class Window(Cited):
    label: str
    start: dt.date
    end: dt.date


class Coverage(Cited):
    kind: Literal["fixed", "next_year", "entry_to_year_end", "same_year_range"]
    start: dt.date | None = None  # fixed
    end: dt.date | None = None  # fixed
    start_md: str | None = Field(
        None, pattern=r"^\d\d-\d\d$"
    )  # entry_to_year_end (earliest) / same_year_range
    end_md: str | None = Field(None, pattern=r"^\d\d-\d\d$")  # same_year_range

    @model_validator(mode="after")
    def _fields(self) -> Coverage:
        need = {
            "fixed": ("start", "end"),
            "entry_to_year_end": ("start_md",),
            "same_year_range": ("start_md", "end_md"),
        }
        missing = [f for f in need.get(self.kind, ()) if getattr(self, f) is None]
        if missing:
            raise ValueError(f"coverage kind={self.kind} 需要字段：{'、'.join(missing)}")
        return self


class Text(Cited):
    text: str


class Late(Cited):
    allowed: bool
    text: str
    waiting_period: Text | None = None
    exempt: list[HardshipKind] = []  # categories not bound by the window and without waiting period


class RouteFee(Cited):
    kind: Literal["standard", "fixed"] = "standard"
    amount: Decimal | None = Field(None, ge=0)
    year: int | None = None


class When(_Strict):
    new_student: bool | None = None
    insured_elsewhere: bool | None = None
    months: list[int] | None = None


class Route(_Strict):
    id: str
    label: str
    when: When = When()
    fee: RouteFee | None = None
    window: Window | None = None
    coverage: Coverage | None = None
    waiting_period: Text | None = None
    late: Late | None = None
    deadline_note: Note | None = None
    notes: list[Note] = []


class Eligibility(_Strict):
    who: Who
    poverty_registered: Poverty
    insured_elsewhere: list[Note] = []
    fees: Fees
    routes: list[Route] = Field(min_length=1)
    notes: list[Note] = []


class Contact(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    phone: str | None = None
    address: str | None = None


class Policy(_Strict):
    city: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    city_name: str
    policy_year: int = Field(ge=1990, le=2100)
    doc_id: str
    sources: dict[str, Source] = {}  # named sources, referenced in the file with YAML anchors
    eligibility: Eligibility
    benefit: Benefit
    year_note: str | None = None  # filled from the guide's front-matter ``valid_note``
    contacts: list[Contact] = []  # filled from the guide's front-matter ``contacts``
