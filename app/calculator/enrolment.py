"""Eligibility, fee, deadline and coverage period (pure, no I/O): who may enrol where, what to pay, from when.

A city's ``eligibility.routes`` are tried in order; the first whose ``when`` matches the student is
used. Dates in the policy are fixed (e.g. a 集中缴费期) or relative to the given date (e.g. 缴费次年1月1日起).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from app.calculator.models import EligibilityInput, EligibilityOutput, FeeOption
from app.calculator.rules import HARDSHIP_NAMES, Trail, yuan
from app.calculator.schema import Coverage, Policy, Route

LEVEL_NAMES = {"undergraduate": "本科生", "junior_college": "专科（高职）生", "graduate": "研究生"}


@dataclass
class _Fee:
    amount: Decimal | None
    basis: str
    options: list[FeeOption]


def _md(year: int, md: str) -> dt.date:
    month, day = md.split("-")
    return dt.date(year, int(month), int(day))


def _coverage(cov: Coverage | None, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    if cov is None:
        return None, None
    if cov.kind == "fixed":
        return cov.start, cov.end
    if cov.kind == "next_year":
        return dt.date(day.year + 1, 1, 1), dt.date(day.year + 1, 12, 31)
    if cov.kind == "entry_to_year_end":
        return max(day, _md(day.year, cov.start_md or "01-01")), dt.date(day.year, 12, 31)
    return _md(day.year, cov.start_md or "01-01"), _md(day.year, cov.end_md or "12-31")


def _matches(route: Route, req: EligibilityInput) -> bool:
    w = route.when
    return (
        (w.new_student is None or w.new_student == req.new_student)
        and (w.insured_elsewhere is None or w.insured_elsewhere == req.insured_elsewhere)
        and (w.months is None or req.date.month in w.months)
    )


def _who(policy: Policy, req: EligibilityInput, trail: Trail) -> tuple[bool | None, str | None]:
    who = policy.eligibility.who
    trail.step("参保对象", who.quote or who.note or "指南所列参保对象", who.source)
    trail.note(who.note, who.source)
    if who.levels is not None and req.level not in who.levels:
        return False, f"{policy.city_name}指南所列参保对象不包括{LEVEL_NAMES[req.level]}。"
    if not req.full_time and who.full_time_required:
        return False, f"{policy.city_name}指南所列参保对象为全日制学生，非全日制学生不在其列。"
    if not req.full_time and who.full_time_required is None:
        return None, f"{policy.city_name}指南未说明非全日制学生能否参保，请向学校或医保部门确认。"
    return True, None


def _fee(policy: Policy, route: Route, req: EligibilityInput, year: int | None, late: bool) -> _Fee:
    fees, rf = policy.eligibility.fees, route.fee
    if rf is None:
        return _Fee(None, "指南未给出这种情形的缴费标准。", [])
    if rf.kind == "fixed":
        if year is not None and rf.year is not None and year != rf.year:
            return _Fee(None, f"指南只说明{rf.year}年度：{rf.quote}；{year}年度的规定指南未给出。", [])
        return _Fee(rf.amount, rf.quote or route.label, [])
    if fees.standard is None and not fees.options:
        return _Fee(None, "指南未给出缴费标准。", [])
    if late:
        for lf in fees.late:
            if lf.for_year == (year or fees.year):
                return _Fee(lf.amount, lf.quote or f"集中缴费期后缴费{yuan(lf.amount)}", [])
        target = year or fees.year
        return _Fee(None, f"集中缴费期过后补缴{target}年度医保费的个人缴费标准，指南未写明。", [])
    if year is not None and year != fees.year:
        known = f"（{yuan(fees.standard.amount)}）" if fees.standard else ""
        return _Fee(None, f"指南只给出{fees.year}年度的缴费标准{known}；{year}年度的标准指南未给出。", [])
    options = [FeeOption(label=o.label, amount=o.amount) for o in fees.options]
    kind = req.hardship
    if kind != "none":
        if kind in fees.hardship:
            a = fees.hardship[kind]
            return _Fee(a.amount, f"{HARDSHIP_NAMES[kind]}：{a.quote or yuan(a.amount)}", [])
        if kind in fees.hardship_unstated_for and fees.hardship_unstated is not None:
            return _Fee(None, fees.hardship_unstated.text, options)
    unmentioned = f"（指南未提及{HARDSHIP_NAMES[kind]}的缴费减免，按标准计）" if kind != "none" else ""
    if options:
        listed = "、".join(f"{o.label}{yuan(o.amount)}/年" for o in fees.options)
        return _Fee(None, f"可自选缴费档次：{listed}。{unmentioned}", options)
    if fees.standard is None:
        return _Fee(None, "指南未给出缴费标准。", [])
    basis = fees.standard.quote or f"个人缴费标准{yuan(fees.standard.amount)}"
    return _Fee(fees.standard.amount, basis + unmentioned, [])


def _fee_sources(policy: Policy, route: Route, req: EligibilityInput, trail: Trail, late: bool) -> None:
    fees = policy.eligibility.fees
    if route.fee is not None:
        trail.cite(route.fee.source)
    if req.hardship in fees.hardship:
        trail.cite(fees.hardship[req.hardship].source)
    for extra in fees.extras:
        trail.step(
            f"可选：{extra.label}",
            f"{yuan(extra.amount)}/年，不计入应缴医保费。{extra.note or ''}",
            extra.source,
            extra.amount,
        )
    for lf in fees.late:
        if req.date > lf.paid_after and req.date.year == lf.for_year:
            trail.note(f"{lf.quote}（适用于缴纳{lf.for_year}年度费用）", lf.source)
        if late:
            trail.note(lf.note, lf.source)
    trail.notes_from(fees.notes)


def _window(
    policy: Policy, route: Route, req: EligibilityInput, end: dt.date | None, trail: Trail
) -> tuple[dt.date | None, bool]:
    """(deadline, paying late) for the route's 集中缴费期; a date after a fixed policy period is stale."""
    w = route.window
    if w is None:
        return None, False
    trail.step(w.label, f"{w.start.isoformat()} 至 {w.end.isoformat()}", w.source)
    if req.date < w.start:
        trail.note(f"所给日期 {req.date.isoformat()} 早于{w.label}，缴费期尚未开始。", w.source)
        return w.end, False
    if req.date <= w.end:
        return w.end, False
    if route.coverage and route.coverage.kind == "fixed" and end is not None and req.date > end:
        trail.note(
            f"所给日期 {req.date.isoformat()} 晚于本资料的缴费期和保障期，资料可能已过时；"
            f"以下为{policy.policy_year}年度的规定，仅供参考，请向学校或医保部门确认最新规定。",
            w.source,
        )
        return None, False
    return None, True


def eligibility(policy: Policy, req: EligibilityInput) -> EligibilityOutput:
    """Can this student enrol in ``policy``'s city, where, for how much, by when, from when is it valid."""
    facts = {**req.model_dump(), "has_hardship": req.hardship != "none"}
    trail = Trail(facts)
    e = policy.eligibility
    eligible, reason = _who(policy, req, trail)
    enrol_where: Literal["school", "home"] = "school"
    if req.poverty_registered:
        trail.step("建档立卡", e.poverty_registered.text, e.poverty_registered.source)
        if e.poverty_registered.enrol_where == "home":
            enrol_where, eligible, reason = "home", False, e.poverty_registered.text
    if eligible is False:
        trail.year_note(policy)
        return EligibilityOutput(
            city=policy.city,
            eligible=False,
            reason=reason,
            enrol_where=enrol_where,
            fee_basis="不在本地参保，无需在此缴费。",
            steps=trail.steps,
            sources=trail.sources,
            notes=trail.notes,
            policy_year=policy.policy_year,
        )
    if req.insured_elsewhere:
        for n in e.insured_elsewhere:
            trail.step("已在外地参保", n.text, n.source)
    route = next((r for r in e.routes if _matches(r, req)), e.routes[-1])
    trail.step("适用情形", route.label, route.coverage.source if route.coverage else None)
    start, end = _coverage(route.coverage, req.date)
    waiting = route.waiting_period.text if route.waiting_period else None
    if route.waiting_period:
        trail.cite(route.waiting_period.source)
    deadline, late = _window(policy, route, req, end, trail)
    exempt = False
    if late:
        rule = route.late
        if rule is None:
            trail.note("指南未说明集中缴费期过后能否参保。")
        elif not rule.allowed:
            trail.step("已过缴费期", rule.text, rule.source)
            trail.year_note(policy)
            return EligibilityOutput(
                city=policy.city,
                eligible=False,
                reason=rule.text,
                enrol_where=enrol_where,
                fee_basis=rule.text,
                coverage_start=start,
                coverage_end=end,
                steps=trail.steps,
                sources=trail.sources,
                notes=trail.notes,
                policy_year=policy.policy_year,
            )
        elif req.hardship in rule.exempt:
            exempt = True
            trail.step(
                "医疗救助对象",
                f"{HARDSHIP_NAMES[req.hardship]}参保缴费不受集中缴费期限制，不设待遇等待期。",
                rule.source,
            )
            trail.note(rule.note, rule.source)
            waiting = "不设待遇等待期（医疗救助对象）。"
            start = None
            trail.note("指南未说明集中缴费期过后缴费的医疗救助对象待遇从哪一天开始（只说不设等待期）。")
        else:
            trail.step("集中缴费期已过", rule.text, rule.source)
            trail.note(rule.note, rule.source)
            if rule.waiting_period is not None:
                waiting = rule.waiting_period.text
                trail.cite(rule.waiting_period.source)
            start = None  # benefits start only after the waiting period, whose length the guide does not give
    year = start.year if route.coverage and route.coverage.kind != "fixed" and start else None
    fee = _fee(policy, route, req, year, late and not exempt)
    trail.step("应缴个人保费", fee.basis, route.fee.source if route.fee else None, fee.amount)
    _fee_sources(policy, route, req, trail, late and not exempt)
    if route.coverage is not None:
        trail.note(route.coverage.note, route.coverage.source)
    if waiting is None:
        trail.note("指南未说明这种情形的待遇等待期。")
    if route.deadline_note is not None and deadline is None:
        trail.note(route.deadline_note.text, route.deadline_note.source)
    trail.notes_from(route.notes)
    trail.notes_from(e.notes)
    trail.year_note(policy)
    return EligibilityOutput(
        city=policy.city,
        eligible=eligible,
        reason=reason,
        enrol_where=enrol_where,
        fee=fee.amount,
        fee_basis=fee.basis,
        fee_options=fee.options,
        deadline=deadline,
        coverage_start=start,
        coverage_end=end,
        waiting_period=waiting,
        steps=trail.steps,
        sources=trail.sources,
        notes=trail.notes,
        policy_year=policy.policy_year,
    )
