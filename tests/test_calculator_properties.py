"""Properties for every input (hypothesis): money adds up, caps hold, more cost never pays less."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.calculator import engine
from app.calculator.models import BenefitInput, BenefitOutput, EligibilityInput
from app.calculator.policy import load_policies
from app.settings import PROJECT_ROOT

POLICIES = load_policies(PROJECT_ROOT / "knowledge")
CONTEXT = {"cities": sorted(POLICIES)}

costs = st.decimals(
    min_value=0, max_value=Decimal("9999999.99"), places=2, allow_nan=False, allow_infinity=False
)
small_costs = st.decimals(min_value=0, max_value=Decimal("600000"), places=2)

benefit_inputs = st.fixed_dictionaries(
    {
        "city": st.sampled_from(sorted(POLICIES)),
        "care": st.sampled_from(["inpatient", "outpatient"]),
        "hospital_level": st.integers(1, 3),
        "admission": st.integers(1, 5),
        "hardship": st.booleans(),
        "in_school": st.booleans(),
        "emergency": st.booleans(),
        "serious_illness": st.booleans(),
        "previous_level": st.none() | st.integers(1, 3),
        "continuous_years": st.none() | st.integers(0, 12),
    }
)


def run(raw: dict[str, Any], cost: Decimal) -> BenefitOutput:
    req = BenefitInput.model_validate({**raw, "cost": cost}, context=CONTEXT)
    return engine.benefit(POLICIES[req.city], req)


def _caps(raw: dict[str, Any]) -> list[Decimal]:
    """Every cap on the basic payment that the policy data give for this input."""
    care = getattr(POLICIES[raw["city"]].benefit, raw["care"])
    scheme = (
        care.in_school
        if raw["in_school"] and raw["care"] == "outpatient" and care.in_school
        else care.levels.get(raw["hospital_level"])
    )
    caps = [c.amount for c in (care.annual_cap,) if c]
    if scheme is not None:
        caps += [c.amount for c in (scheme.per_visit_cap, scheme.annual_cap) if c]
    return caps


@settings(max_examples=400, deadline=None)
@given(raw=benefit_inputs, cost=costs)
def test_money_adds_up_and_nothing_is_negative(raw: dict[str, Any], cost: Decimal) -> None:
    out = run(raw, cost)
    amounts = (out.basic_pays, out.serious_illness_pays, out.fund_pays, out.out_of_pocket)
    if not out.computable:
        assert all(a is None for a in amounts) and out.reason
        return
    basic, si, fund, oop = amounts
    assert basic is not None and si is not None and fund is not None and oop is not None
    assert fund + oop == cost
    assert fund == basic + si
    assert all(a >= 0 for a in amounts)
    assert fund <= cost
    assert all(a == a.quantize(Decimal("0.01")) for a in amounts)


@settings(max_examples=400, deadline=None)
@given(raw=benefit_inputs, cost=costs)
def test_caps_are_respected(raw: dict[str, Any], cost: Decimal) -> None:
    out = run(raw, cost)
    if not out.computable:
        return
    assert out.basic_pays is not None and out.serious_illness_pays is not None
    for cap in _caps(raw):
        assert out.basic_pays <= cap
    si = POLICIES[raw["city"]].benefit.serious_illness
    if si is not None:
        group = si.hardship if raw["hardship"] and si.hardship else si.general
        if group.annual_cap is not None:
            assert out.serious_illness_pays <= group.annual_cap.amount


@settings(max_examples=400, deadline=None)
@given(raw=benefit_inputs, a=small_costs, b=small_costs)
def test_more_cost_never_pays_less(raw: dict[str, Any], a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    out_low, out_high = run(raw, low), run(raw, high)
    assert out_low.computable == out_high.computable
    if not out_low.computable:
        return
    for field in ("basic_pays", "serious_illness_pays", "fund_pays"):
        assert getattr(out_high, field) >= getattr(out_low, field), field


@settings(max_examples=300, deadline=None)
@given(
    city=st.sampled_from(sorted(POLICIES)),
    level=st.sampled_from(["undergraduate", "junior_college", "graduate"]),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    hardship=st.sampled_from(["none", "dibao", "tekun", "orphan", "severe_disability"]),
    date=st.dates(min_value=dt.date(2017, 1, 1), max_value=dt.date(2028, 12, 31)),
)
def test_eligibility_is_always_answered_consistently(
    city: str, level: str, flags: tuple[bool, ...], hardship: str, date: dt.date
) -> None:
    full_time, poverty, new_student, elsewhere = flags
    req = EligibilityInput.model_validate(
        {
            "city": city,
            "level": level,
            "full_time": full_time,
            "poverty_registered": poverty,
            "hardship": hardship,
            "new_student": new_student,
            "insured_elsewhere": elsewhere,
            "date": date,
        },
        context=CONTEXT,
    )
    out = engine.eligibility(POLICIES[city], req)
    assert out.fee is None or out.fee >= 0
    assert all(o.amount >= 0 for o in out.fee_options)
    if out.coverage_start and out.coverage_end:
        assert out.coverage_start <= out.coverage_end
    if out.eligible is False:
        assert out.fee is None and out.reason
    if out.enrol_where == "home":
        assert out.eligible is False
    assert out.fee_basis and out.steps
    assert all(s.source is None or s.source in out.sources for s in out.steps)
