"""The calculator engine: pure functions over loaded policy data, no I/O.

``benefit()`` works through 起付线 → 报销比例 → 单次/年度限额 → 大病分段, recording each step with its source.
``eligibility()`` lives in :mod:`app.calculator.enrolment` and is re-exported here.
"""

from __future__ import annotations

from decimal import Decimal

from app.calculator.enrolment import eligibility
from app.calculator.models import BenefitInput, BenefitOutput
from app.calculator.rules import LEVEL_NAMES, Trail, contacts_text, money, pct, yuan
from app.calculator.schema import Amount, CareRules, Policy, Scheme

__all__ = ["benefit", "eligibility"]

ZERO = Decimal(0)


class NotComputable(Exception):
    """The guide does not give enough to compute this case; the message says why (Chinese)."""


def _scheme(care: CareRules, req: BenefitInput, trail: Trail) -> Scheme:
    if req.in_school and req.care == "outpatient":
        if care.in_school is not None:
            return care.in_school
        trail.note("该城市指南没有单独的校内门诊待遇，按医院等级计算。")
    elif req.in_school:
        trail.note("校内门诊待遇只适用于门诊，住院按医院等级计算。")
    scheme = care.levels.get(req.hospital_level)
    if scheme is None:
        raise NotComputable(f"指南未给出{LEVEL_NAMES[req.hospital_level]}医疗机构的{care.label}待遇。")
    return scheme


def _deductible(care: CareRules, scheme: Scheme, req: BenefitInput) -> tuple[Decimal, str]:
    d, n = scheme.deductible, req.admission
    if d.amount == 0:
        return ZERO, f"{scheme.label}不设起付线"
    unit = "年" if d.per == "year" else "次"
    base = f"{scheme.label}起付线{yuan(d.amount)}/{unit}"
    if n == 1:
        return d.amount, f"{base}；本年度第1次，按100%"
    if d.per != "year":
        if d.later == "half":
            return d.amount / 2, f"{base}；本年度第{n}次，起付线减半"
        return d.amount, f"{base}；每次都要付，第{n}次仍按100%"
    prev = req.previous_level
    if d.top_up_on_higher_level and prev is not None and prev != req.hospital_level:
        other = care.levels.get(prev)
        if other is None or prev > req.hospital_level:
            raise NotComputable(
                "指南只说明再次在高等级医疗机构住院应补足起付标准差额，"
                "未说明先在高等级、后在低等级医疗机构住院时起付线如何计算。"
            )
        diff = d.amount - other.deductible.amount
        return diff, (
            f"{base}；本年度第{n}次，上次在{LEVEL_NAMES[prev]}医疗机构（起付线{yuan(other.deductible.amount)}），"
            f"补足差额{yuan(diff)}"
        )
    rule = f"{base}，按年度计；本年度第{n}次，按此前已付满年度起付线计，不再支付"
    if d.top_up_on_higher_level:
        rule += "（按同一等级再次住院计；上次在较低等级医院住院的，请填写 previous_level 以补足差额）"
    return ZERO, rule


def _percent(policy: Policy, scheme: Scheme, req: BenefitInput, trail: Trail) -> Decimal:
    percent = scheme.ratio.fund_percent
    bonus = policy.benefit.continuity_bonus
    if bonus and req.care in bonus.applies_to and req.continuous_years is not None:
        extra = min(
            max(req.continuous_years - bonus.after_years, 0) * bonus.percent_per_year, bonus.max_percent
        )
        if extra:
            percent = min(percent + extra, Decimal(100))
            trail.step(
                "连续参保提高比例",
                f"连续参保{req.continuous_years}年，报销比例提高{extra.normalize():f}个百分点"
                f"（连续缴费{bonus.after_years}年以上每多1年提高{bonus.percent_per_year.normalize():f}个百分点，"
                f"最高{bonus.max_percent.normalize():f}个百分点）",
                bonus.source,
            )
            trail.note(bonus.note, bonus.source)
    return percent


def _basic(policy: Policy, care: CareRules, scheme: Scheme, req: BenefitInput, trail: Trail) -> Decimal:
    ded, rule = _deductible(care, scheme, req)
    applied = min(ded, req.cost)
    trail.step("起付线", rule, scheme.deductible.source, applied)
    trail.note(scheme.deductible.note, scheme.deductible.source)
    above = req.cost - applied
    trail.step("起付线以上费用", "合规费用 − 起付线", None, above)
    percent = _percent(policy, scheme, req, trail)
    paid = money(above * percent / 100)
    self_pay = scheme.ratio.self_pay_percent
    shown = (
        f"（个人自负{pct(self_pay)}）"
        if self_pay is not None and percent == scheme.ratio.fund_percent
        else ""
    )
    trail.step("按比例报销", f"{yuan(above)} × 报销比例{pct(percent)}{shown}", scheme.ratio.source, paid)
    caps: list[tuple[str, Amount | None]] = [
        ("单次支付限额", scheme.per_visit_cap),
        ("年度支付限额", scheme.annual_cap),
        ("年度最高支付限额", care.annual_cap),
    ]
    for label, cap in caps:
        if cap is not None and paid > cap.amount:
            paid = cap.amount
            trail.step(f"封顶：{label}", f"超过{label}{yuan(cap.amount)}，按限额支付", cap.source, paid)
    trail.step("基本医保支付", "起付线、比例、限额之后的基本医保支付额", None, paid)
    return paid


def _serious_illness(policy: Policy, req: BenefitInput, burden: Decimal, trail: Trail) -> Decimal:
    si = policy.benefit.serious_illness
    if si is None or req.care not in si.applies_to:
        return ZERO
    if si.requires_listed_disease and not req.serious_illness:
        trail.note(
            "未计算大病保险：该城市大病保险只适用于所列大病；"
            "如所患疾病属大病范围，请设置 serious_illness=true。"
        )
        trail.notes_from(si.notes[:1])
        return ZERO
    group = si.hardship if req.hardship and si.hardship else si.general
    trail.step(
        "大病保险计算基数", f"个人负担的合规费用 = 合规费用 − 基本医保支付（{group.label}）", None, burden
    )
    total = ZERO
    if burden <= group.threshold:
        trail.step(
            "大病保险",
            f"个人负担未超过大病保险起付线{yuan(group.threshold)}，大病保险不支付",
            group.source,
            ZERO,
        )
    for band in group.bands:
        if burden <= band.lower:
            break
        top = burden if band.upper is None else min(burden, band.upper)
        part = top - band.lower
        pay = money(part * band.percent / 100)
        span = (
            f"{yuan(band.lower)}至{yuan(band.upper)}" if band.upper is not None else f"{yuan(band.lower)}以上"
        )
        trail.step(f"大病分段 {span}", f"{yuan(part)} × {pct(band.percent)}", group.source, pay)
        total += pay
    cap = group.annual_cap
    if cap is not None and total > cap.amount:
        total = cap.amount
        trail.step("封顶：大病保险年度限额", f"超过年度限额{yuan(cap.amount)}，按限额支付", cap.source, total)
    trail.note(group.note, group.source)
    trail.notes_from(si.notes)
    return total


def _not_computable(policy: Policy, req: BenefitInput, reason: str, trail: Trail) -> BenefitOutput:
    contacts = contacts_text(policy)
    full = f"{reason}{' 请咨询：' + contacts if contacts else ''}"
    trail.year_note(policy)
    return BenefitOutput(
        city=policy.city,
        computable=False,
        reason=full,
        steps=trail.steps,
        notes=trail.notes,
        policy_year=policy.policy_year,
    )


def benefit(policy: Policy, req: BenefitInput) -> BenefitOutput:
    """Reimbursement of one visit or admission under ``policy`` (amounts rounded half up to cents)."""
    trail = Trail(req.model_dump())
    care: CareRules = getattr(policy.benefit, req.care)
    if care.not_computable is not None:
        trail.step("无法计算", care.not_computable.text, care.not_computable.source)
        trail.notes_from(care.notes)
        trail.notes_from(policy.benefit.notes)
        return _not_computable(policy, req, care.not_computable.text, trail)
    trail.step("合规医疗费用", "本次医保目录范围内的费用（输入）", None, req.cost)
    try:
        scheme = _scheme(care, req, trail)
        if scheme.only_if_emergency is not None and not req.emergency:
            trail.step("不予报销", scheme.only_if_emergency.text, scheme.only_if_emergency.source, ZERO)
            basic = si_pay = ZERO
        else:
            basic = _basic(policy, care, scheme, req, trail)
            si_pay = _serious_illness(policy, req, req.cost - basic, trail)
    except NotComputable as exc:
        return _not_computable(policy, req, str(exc), trail)
    fund = basic + si_pay
    trail.step("医保基金支付合计", "基本医保支付 + 大病保险支付", None, fund)
    trail.step("个人负担", "合规费用 − 医保基金支付（不含目录外自费费用）", None, req.cost - fund)
    trail.notes_from(scheme.notes)
    trail.notes_from(care.notes)
    trail.notes_from(policy.benefit.notes)
    trail.year_note(policy)
    return BenefitOutput(
        city=policy.city,
        computable=True,
        basic_pays=basic,
        serious_illness_pays=si_pay,
        fund_pays=fund,
        out_of_pocket=req.cost - fund,
        steps=trail.steps,
        notes=trail.notes,
        policy_year=policy.policy_year,
    )
