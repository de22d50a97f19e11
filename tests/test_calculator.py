"""Hand-worked examples for the calculator, one per city and rule kind.

Every expected number is written by hand from the guide sentence quoted above it; none is computed by the code
under test. Amounts are in yuan.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.calculator.models import BenefitOutput, EligibilityOutput
from app.calculator.policy import PolicyError, load_policies
from app.calculator.service import CalcInputError, run_benefit, run_eligibility
from app.settings import PROJECT_ROOT
from ingest.chunking import parse_blocks
from ingest.documents import split_front_matter

KNOWLEDGE = PROJECT_ROOT / "knowledge"
D = Decimal


def benefit(**kw: Any) -> BenefitOutput:
    return run_benefit(kw, knowledge_dir=KNOWLEDGE)


def elig(**kw: Any) -> EligibilityOutput:
    return run_eligibility({"level": "undergraduate", **kw}, knowledge_dir=KNOWLEDGE)


def paid(out: BenefitOutput) -> tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None]:
    return out.basic_pays, out.serious_illness_pays, out.fund_pays, out.out_of_pocket


# ---------------------------------------------------------------- policy files: sources, quotes, schema


def _guides() -> dict[str, tuple[set[str], str]]:
    """doc_id → (every heading path, whitespace-free body)."""
    out = {}
    for path in (KNOWLEDGE / "guides").glob("*.md"):
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
        _, blocks = parse_blocks(body)
        sections = {" > ".join(b.path[:i]) for b in blocks for i in range(1, len(b.path) + 1)}
        out[meta["doc_id"]] = (sections, re.sub(r"\s+", "", body))
    return out


def _walk(node: Any, path: str = ""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


POLICY_FILES = sorted((KNOWLEDGE / "policies").glob("*.yaml"))


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.stem)
def test_every_source_section_exists_and_every_quote_is_verbatim(path: Path) -> None:
    guides = _guides()
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    checked = 0
    for where, node in _walk(raw):
        source = node.get("source")
        if isinstance(source, dict):
            assert source["doc_id"] in guides, f"{path.name}{where}: unknown doc_id {source['doc_id']}"
            sections, body = guides[source["doc_id"]]
            assert source["section"] in sections, f"{path.name}{where}: no section “{source['section']}”"
            checked += 1
        if isinstance(node.get("quote"), str):
            doc = node["source"]["doc_id"]
            assert re.sub(r"\s+", "", node["quote"]) in guides[doc][1], (
                f"{path.name}{where}: quote not in {doc}"
            )
    assert checked > 5


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.stem)
def test_every_number_carries_a_source(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    numeric = {
        "amount",
        "percent",
        "self_pay_percent",
        "threshold",
        "start",
        "end",
        "paid_after",
        "after_years",
    }
    raw.pop("sources", None)  # the named-source table (anchors) holds no values
    for where, node in _walk(raw):
        if numeric & set(node) and "bands[" not in where:  # a band's source is its group's
            assert "source" in node, f"{path.name}{where} has a number without source"


def test_file_names_match_city_and_year() -> None:
    policies = load_policies(KNOWLEDGE)
    assert sorted(policies) == ["chongqing", "dazhou", "karamay", "shanghai", "wuhan"]
    for path in POLICY_FILES:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert path.stem == f"{raw['city']}_{raw['policy_year']}"
    # contacts and year note come from the guide's front-matter
    assert any(c.phone == "0990-6612393" for c in policies["karamay"].contacts)
    assert "2018-2019学年度" in (policies["chongqing"].year_note or "")


def test_new_city_is_a_new_yaml_file(tmp_path: Path) -> None:
    shutil.copytree(KNOWLEDGE / "guides", tmp_path / "guides")
    (tmp_path / "policies").mkdir()
    text = (KNOWLEDGE / "policies" / "wuhan_2025.yaml").read_text(encoding="utf-8")
    (tmp_path / "policies" / "testville_2025.yaml").write_text(
        text.replace("city: wuhan", "city: testville").replace("city_name: 武汉", "city_name: 测试市"),
        encoding="utf-8",
    )
    out = run_benefit(
        {"city": "testville", "care": "inpatient", "hospital_level": 3, "cost": 10000}, knowledge_dir=tmp_path
    )
    assert out.fund_pays == D("5520.00")
    with pytest.raises(CalcInputError, match="testville"):
        run_benefit(
            {"city": "wuhan", "care": "inpatient", "hospital_level": 3, "cost": 1}, knowledge_dir=tmp_path
        )


def test_broken_policy_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "bad_2025.yaml").write_text("city: bad\npolicy_year: 2025\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="bad_2025.yaml"):
        load_policies(tmp_path)


# ---------------------------------------------------------------- Karamay benefits


def test_karamay_outpatient_level1_per_visit_deductible() -> None:
    # 待遇表：“普通门诊 | 一级医疗机构 | 医保目录范围内 | 10元(单次) | 100元 | 70% | 900元”
    # 50 − 10 = 40；40 × 70% = 28
    assert paid(benefit(city="karamay", care="outpatient", hospital_level=1, cost=50)) == (
        D("28.00"),
        D("0.00"),
        D("28.00"),
        D("22.00"),
    )


def test_karamay_outpatient_deductible_halved_from_second_visit() -> None:
    # “普通门诊年度内第二次及以后起付线减半”：一级 10 → 5；50 − 5 = 45；45 × 70% = 31.5
    assert benefit(city="karamay", care="outpatient", hospital_level=1, cost=50, admission=2).fund_pays == D(
        "31.50"
    )
    # 二级 20 → 10（第3次仍减半）；300 − 10 = 290；290 × 60% = 174（未超单次限额200元）
    assert benefit(city="karamay", care="outpatient", hospital_level=2, cost=300, admission=3).fund_pays == D(
        "174.00"
    )


def test_karamay_outpatient_per_visit_cap() -> None:
    # 一级“单次支付限额 100元”：(500 − 10) × 70% = 343 → 100
    out = benefit(city="karamay", care="outpatient", hospital_level=1, cost=500)
    assert paid(out) == (D("100.00"), D("0.00"), D("100.00"), D("400.00"))
    assert any(s.label == "封顶：单次支付限额" for s in out.steps)


def test_karamay_outpatient_level3_emergency_and_annual_cap() -> None:
    # “普通门诊 | 三级医疗机构 | 限急诊、儿科门诊 | 20元(年度) | — | 70% | 900元”
    # 急诊 1000：(1000 − 20) × 70% = 686
    assert benefit(
        city="karamay", care="outpatient", hospital_level=3, cost=1000, emergency=True
    ).fund_pays == D("686.00")
    # 急诊 2000：(2000 − 20) × 70% = 1386 → 年度限额 900
    out = benefit(city="karamay", care="outpatient", hospital_level=3, cost=2000, emergency=True)
    assert out.fund_pays == D("900.00") and out.out_of_pocket == D("1100.00")


def test_karamay_level3_outpatient_not_emergency_pays_nothing() -> None:
    # “1.急诊、一、二级医院门诊情况（三级医院门诊无法报销）”
    out = benefit(city="karamay", care="outpatient", hospital_level=3, cost=1000)
    assert out.computable and paid(out) == (D("0.00"), D("0.00"), D("0.00"), D("1000.00"))


def test_karamay_inpatient_yearly_deductible() -> None:
    # “普通住院 | 三级医疗机构 | 医保目录范围内 | 600元(年度) | 0 | 65% | —”：(10000 − 600) × 65% = 6110
    assert paid(benefit(city="karamay", care="inpatient", hospital_level=3, cost=10000)) == (
        D("6110.00"),
        D("0.00"),
        D("6110.00"),
        D("3890.00"),
    )
    # “参保人员在同一等级医疗机构再次住院的，不再支付起付标准”：10000 × 65% = 6500
    assert benefit(
        city="karamay", care="inpatient", hospital_level=3, cost=10000, admission=2
    ).fund_pays == D("6500.00")


def test_karamay_second_admission_at_higher_level_tops_up() -> None:
    # “再次在高等级医疗机构住院的，应补足低等级医疗机构与高等级医疗机构起付标准的差额”
    # 上次一级（100元），本次三级（600元）：补 500；(10000 − 500) × 65% = 6175
    out = benefit(
        city="karamay", care="inpatient", hospital_level=3, cost=10000, admission=2, previous_level=1
    )
    assert out.fund_pays == D("6175.00")
    # 先高后低：指南未说明 → 不计算
    out = benefit(
        city="karamay", care="inpatient", hospital_level=1, cost=10000, admission=2, previous_level=3
    )
    assert not out.computable and "0990-6612393" in (out.reason or "")


def test_karamay_serious_illness_crosses_three_bands() -> None:
    # 一般人员：“21000元至50000元 60%”“50000元至100000元 65%”“100000元以上 70%”，年度限额30万元
    # 三级住院 400000：基本 (400000 − 600) × 65% = 259610；个人负担 140390
    # 大病 29000 × 60% = 17400；50000 × 65% = 32500；40390 × 70% = 28273；合计 78173
    out = benefit(city="karamay", care="inpatient", hospital_level=3, cost=400000)
    assert paid(out) == (D("259610.00"), D("78173.00"), D("337783.00"), D("62217.00"))
    assert [s.amount for s in out.steps if s.label.startswith("大病分段")] == [
        D("17400.00"),
        D("32500.00"),
        D("28273.00"),
    ]


def test_karamay_serious_illness_hardship_threshold_and_ratios() -> None:
    # 困难人员：“10500元至50000元 65%”“50000元至100000元 70%”“100000元以上 75%”，年度限额“无”
    # 个人负担 140390：39500 × 65% = 25675；50000 × 70% = 35000；40390 × 75% = 30292.5；合计 90967.5
    out = benefit(city="karamay", care="inpatient", hospital_level=3, cost=400000, hardship=True)
    assert paid(out) == (D("259610.00"), D("90967.50"), D("350577.50"), D("49422.50"))
    # 三级住院 40000：基本 39400 × 65% = 25610，个人负担 14390：一般人员未到 21000 → 0；
    # 困难人员 (14390 − 10500) × 65% = 2528.5
    assert benefit(city="karamay", care="inpatient", hospital_level=3, cost=40000).serious_illness_pays == D(
        "0.00"
    )
    assert benefit(
        city="karamay", care="inpatient", hospital_level=3, cost=40000, hardship=True
    ).serious_illness_pays == D("2528.50")


def test_karamay_serious_illness_annual_cap() -> None:
    # 一般人员年度限额“30万元”：三级住院 9,000,000，个人负担 3,150,390 → 大病按段算远超 30万 → 300000
    out = benefit(city="karamay", care="inpatient", hospital_level=3, cost=9000000)
    assert out.serious_illness_pays == D("300000.00")
    assert out.basic_pays == D("5849610.00")  # (9000000 − 600) × 65%


def test_karamay_worked_case_18_97_wan() -> None:
    # 案例一：“28天共产生医疗费用18.97万元。该同学连续8年参加城乡居民基本医疗保险，报销比例从65%提高到70%，
    # 基本医疗保险支付11.2万元，大病保险支付3.19万元，医保基金共支付14.39万元，个人只需承担4.58万元。”
    # 案例三：“连续缴费3年以上，第4年每多交1年提高一个百分点，最高封顶5个百分点” → 8年：+5 → 70%
    # 全部 189700 视为合规：基本 189100 × 70% = 132370；个人负担 57330；
    # 大病 29000 × 60% = 17400 + 7330 × 65% = 4764.5 → 22164.5；基金 154534.5（案例 14.39万）
    out = benefit(city="karamay", care="inpatient", hospital_level=3, cost=189700, continuous_years=8)
    assert paid(out) == (D("132370.00"), D("22164.50"), D("154534.50"), D("35165.50"))
    # 案例的基本医保 11.2万 正是合规费用 160600 的结果：(160600 − 600) × 70% = 112000；
    # 大病按此为 (48600 − 21000) × 60% = 16560，少于案例的 3.19万（差异见 knowledge/policies/README.md）
    out = benefit(city="karamay", care="inpatient", hospital_level=3, cost=160600, continuous_years=8)
    assert paid(out) == (D("112000.00"), D("16560.00"), D("128560.00"), D("32040.00"))
    # 不给连续参保年数就按表中 65%：(189700 − 600) × 65% = 122915
    assert benefit(city="karamay", care="inpatient", hospital_level=3, cost=189700).basic_pays == D(
        "122915.00"
    )
    # 连续4年：+1 个百分点 → 66%：189100 × 66% = 124806
    assert benefit(
        city="karamay", care="inpatient", hospital_level=3, cost=189700, continuous_years=4
    ).basic_pays == D("124806.00")


# ---------------------------------------------------------------- Wuhan benefits


def test_wuhan_inpatient_first_admission() -> None:
    # “三级医疗机构800元”“三级医疗机构60%”：(10000 − 800) × 60% = 5520
    assert paid(benefit(city="wuhan", care="inpatient", hospital_level=3, cost=10000)) == (
        D("5520.00"),
        D("0.00"),
        D("5520.00"),
        D("4480.00"),
    )


def test_wuhan_deductible_halved_only_at_levels_2_and_3() -> None:
    # “在二级、三级医疗机构住院，第一次住院的，起付标准按100%执行；从第二次住院开始，起付标准减半（不递减）”
    # 三级第2次：800 → 400；(10000 − 400) × 60% = 5760
    assert benefit(city="wuhan", care="inpatient", hospital_level=3, cost=10000, admission=2).fund_pays == D(
        "5760.00"
    )
    # 二级第3次：400 → 200（不递减）；(10000 − 200) × 70% = 6860
    assert benefit(city="wuhan", care="inpatient", hospital_level=2, cost=10000, admission=3).fund_pays == D(
        "6860.00"
    )
    # 一级第2次不减半：“一级医疗机构200元”“一级医疗机构和社区卫生服务中心90%”：(10000 − 200) × 90% = 8820
    assert benefit(city="wuhan", care="inpatient", hospital_level=1, cost=10000, admission=2).fund_pays == D(
        "8820.00"
    )


def test_wuhan_annual_cap_and_serious_illness_bands() -> None:
    # “在一个保险年度内，大学生住院基本医疗保险最高报销15万元”
    # 一级 200000：(200000 − 200) × 90% = 179820 → 150000；个人负担 50000
    # 大病“12000元-30000元 60%”“30000元-100000元 65%”：18000 × 60% = 10800；20000 × 65% = 13000 → 23800
    out = benefit(city="wuhan", care="inpatient", hospital_level=1, cost=200000)
    assert paid(out) == (D("150000.00"), D("23800.00"), D("173800.00"), D("26200.00"))
    assert any(s.label == "封顶：年度最高支付限额" for s in out.steps)


def test_wuhan_serious_illness_top_band_and_cap() -> None:
    # 三级 500000：基本 (500000 − 800) × 60% = 299520 → 150000；个人负担 350000
    # 10800 + 70000 × 65% = 45500 + 250000 × “100000元以上 75%” = 187500 → 243800
    assert benefit(city="wuhan", care="inpatient", hospital_level=3, cost=500000).serious_illness_pays == D(
        "243800.00"
    )
    # “年度支付限额为30万元”：1000000 → 个人负担 850000 → 10800 + 45500 + 562500 = 618800 → 300000
    out = benefit(city="wuhan", care="inpatient", hospital_level=3, cost=1000000)
    assert paid(out) == (D("150000.00"), D("300000.00"), D("450000.00"), D("550000.00"))


def test_wuhan_outpatient_not_computable_names_office() -> None:
    # “高校科研院所按照支付比例不低于70%、年度支付限额不低于400元的标准……具体办法由各高校科研院所自行制定”
    out = benefit(city="wuhan", care="outpatient", hospital_level=1, cost=100)
    assert not out.computable and out.fund_pays is None
    assert "不低于70%" in (out.reason or "") and "67880229" in (out.reason or "")


def test_wuhan_emergency_note_and_hardship_note() -> None:
    out = benefit(city="wuhan", care="inpatient", hospital_level=3, cost=10000, emergency=True, hardship=True)
    assert any("紧急抢救费用并入住院医疗费用" in n for n in out.notes)
    assert any("困难人员" in n for n in out.notes)


# ---------------------------------------------------------------- Shanghai benefits


def test_shanghai_in_school_outpatient() -> None:
    # “门急诊待遇 | 校内门诊 | — | — | 20%”：个人自负20% → 100 × 80% = 80
    assert paid(benefit(city="shanghai", care="outpatient", hospital_level=1, cost=100, in_school=True)) == (
        D("80.00"),
        D("0.00"),
        D("80.00"),
        D("20.00"),
    )


def test_shanghai_outside_outpatient_yearly_deductible() -> None:
    # “校外门急诊（超门诊起付线后） | 三级医院 | 门诊起付线300元/年 | 50%”：(1000 − 300) × 50% = 350
    assert benefit(city="shanghai", care="outpatient", hospital_level=3, cost=1000).fund_pays == D("350.00")
    # 一级自负30%，本年度第2次（年度起付线已付）：1000 × 70% = 700
    assert benefit(
        city="shanghai", care="outpatient", hospital_level=1, cost=1000, admission=2
    ).fund_pays == D("700.00")
    # 二级 200 元，未过 300 元起付线：基金 0
    assert paid(benefit(city="shanghai", care="outpatient", hospital_level=2, cost=200)) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
        D("200.00"),
    )


def test_shanghai_inpatient_per_admission_deductible_every_time() -> None:
    # “住院 | 三级医院 | 300元/次 | 40%”：(10000 − 300) × 60% = 5820，第2次住院同样按次付 300
    assert benefit(city="shanghai", care="inpatient", hospital_level=3, cost=10000).fund_pays == D("5820.00")
    assert benefit(
        city="shanghai", care="inpatient", hospital_level=3, cost=10000, admission=2
    ).fund_pays == D("5820.00")
    # “一级医院 | 50元/次 | 20%”：9950 × 80% = 7960；“二级医院 | 100元/次 | 25%”：9900 × 75% = 7425
    assert benefit(city="shanghai", care="inpatient", hospital_level=1, cost=10000).fund_pays == D("7960.00")
    assert benefit(city="shanghai", care="inpatient", hospital_level=2, cost=10000).fund_pays == D("7425.00")


def test_shanghai_serious_illness_only_for_listed_diseases() -> None:
    # “在居民医保结算后，个人自负的部分可由大病保险资金再报销60%，本市低保、低收入家庭成员再报销65%。”
    # 三级住院 10000：基本 5820，个人负担 4180；大病 4180 × 60% = 2508；困难 4180 × 65% = 2717
    out = benefit(city="shanghai", care="inpatient", hospital_level=3, cost=10000, serious_illness=True)
    assert paid(out) == (D("5820.00"), D("2508.00"), D("8328.00"), D("1672.00"))
    out = benefit(
        city="shanghai", care="inpatient", hospital_level=3, cost=10000, serious_illness=True, hardship=True
    )
    assert paid(out) == (D("5820.00"), D("2717.00"), D("8537.00"), D("1463.00"))
    out = benefit(city="shanghai", care="inpatient", hospital_level=3, cost=10000)
    assert out.serious_illness_pays == D("0.00") and any("serious_illness" in n for n in out.notes)
    assert any("2023年8月" in n for n in out.notes)  # old guide: the year is stated


# ---------------------------------------------------------------- Chongqing and Dazhou benefits


def test_chongqing_benefit_not_computable_gives_caps_and_hotline() -> None:
    # “重大疾病、住院 | 8万元 | 12万元”，通知没有起付线和报销比例
    out = benefit(city="chongqing", care="inpatient", hospital_level=3, cost=10000)
    assert not out.computable and out.basic_pays is None
    assert "8万元" in (out.reason or "") and "65715625" in (out.reason or "")
    assert any("2018-2019学年度" in n for n in out.notes)
    out = benefit(city="chongqing", care="outpatient", hospital_level=1, cost=100)
    assert not out.computable and "300元（定额）" in (out.reason or "")


def test_dazhou_benefit_not_computable() -> None:
    # “其他基本医保待遇按《达州市城乡居民基本医疗保险管理办法》执行”，指南未公布比例
    for care in ("inpatient", "outpatient"):
        out = benefit(city="dazhou", care=care, hospital_level=2, cost=5000)
        assert not out.computable and "0818-12333" in (out.reason or "")


# ---------------------------------------------------------------- eligibility: Karamay


def test_karamay_fee_window_and_coverage() -> None:
    # “2026年度校区学生克拉玛依居民医保个人缴费标准为400元”；“集中参保缴费期为2025年9月1日至2026年1月10日”
    out = elig(city="karamay", date="2025-10-01")
    assert (out.eligible, out.enrol_where, out.fee, out.deadline) == (
        True,
        "school",
        D("400.00"),
        dt.date(2026, 1, 10),
    )
    assert (out.coverage_start, out.coverage_end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert any(s.amount == D("53.00") for s in out.steps)  # 长护 53 元，自愿，不计入 fee


@pytest.mark.parametrize(
    ("kind", "fee"),
    [
        # “城乡特困人员、孤儿（含事实无人抚养儿童）参加居民医保个人不缴费”
        ("tekun", D("0.00")),
        ("orphan", D("0.00")),
        # “低保对象个人缴纳100元”“重度残疾人个人缴纳100元”
        ("dibao", D("100.00")),
        ("severe_disability", D("100.00")),
    ],
)
def test_karamay_hardship_fees(kind: str, fee: Decimal) -> None:
    assert elig(city="karamay", date="2025-10-01", hardship=kind).fee == fee


def test_karamay_poverty_registered_enrols_at_home() -> None:
    # “全体在校学生（除建档立卡贫困人口，其在家乡地参保）”
    out = elig(city="karamay", poverty_registered=True, date="2025-10-01")
    assert (out.eligible, out.enrol_where, out.fee) == (False, "home", None)


def test_karamay_after_window_waiting_period_and_no_invented_fee() -> None:
    # “集中缴费期过后参保缴费人员设置待遇等待期……待遇等待期按照自治区有关规定执行。”
    out = elig(city="karamay", date="2026-03-01")
    assert out.eligible and out.fee is None and out.coverage_start is None
    assert "自治区" in (out.waiting_period or "")
    # 重度残疾人不是指南所说的医疗救助对象：同样等待期
    assert "自治区" in (
        elig(city="karamay", date="2026-03-01", hardship="severe_disability").waiting_period or ""
    )


def test_karamay_medical_aid_members_not_bound_by_window() -> None:
    # “医疗救助对象参保缴费不受集中缴费期的限制，不设待遇等待期”
    out = elig(city="karamay", date="2026-03-01", hardship="dibao")
    assert out.fee == D("100.00") and "不设待遇等待期" in (out.waiting_period or "")


def test_karamay_before_window_and_2025_late_fee_note() -> None:
    # “2025年6月30日以后缴纳当年居民医保费用的，个人缴费标准为1200元。”
    out = elig(city="karamay", date="2025-07-15")
    assert out.fee == D("400.00") and out.deadline == dt.date(2026, 1, 10)
    assert any("1200元" in n for n in out.notes)


def test_karamay_date_after_policy_period_is_flagged() -> None:
    out = elig(city="karamay", date="2027-03-01")
    assert any("资料可能已过时" in n for n in out.notes)


# ---------------------------------------------------------------- eligibility: Wuhan


def test_wuhan_new_student_not_insured_at_home() -> None:
    # “足额缴纳入学当年……个人应缴保费部分，即可享受入学当年9月1日至12月31日的居民医保待遇。不设待遇等待期。”
    # “武汉市2025年度城乡居民医保个人缴费标准为400元/人”
    out = elig(city="wuhan", new_student=True, date="2025-09-05")
    assert (out.fee, out.coverage_start, out.coverage_end) == (
        D("400.00"),
        dt.date(2025, 9, 1),
        dt.date(2025, 12, 31),
    )
    assert out.waiting_period == "不设待遇等待期。"


def test_wuhan_new_student_insured_at_home_pays_next_year() -> None:
    # “今年9月，大学新生进校应缴纳2025年度的武汉医保费”；“前一年缴纳第二年的医保费”
    out = elig(city="wuhan", new_student=True, insured_elsewhere=True, date="2024-09-05")
    assert (out.fee, out.coverage_start, out.coverage_end) == (
        D("400.00"),
        dt.date(2025, 1, 1),
        dt.date(2025, 12, 31),
    )
    assert any("参保暂停" in s.rule for s in out.steps)


def test_wuhan_fee_for_an_unstated_year_is_absent() -> None:
    out = elig(city="wuhan", date="2025-10-01")  # pays for 2026, whose fee the 2025 notice does not give
    assert out.fee is None and out.coverage_start == dt.date(2026, 1, 1) and "2025年度" in out.fee_basis


def test_wuhan_full_time_only_and_poverty_may_choose_home() -> None:
    # “全日制本、专科学生和全日制研究生”
    assert elig(city="wuhan", full_time=False, date="2024-10-01").eligible is False
    # 国家：“若大中专学生为建档立卡贫困人口，可以选择在建档立卡贫困人口身份认定地参保。”
    out = elig(city="wuhan", poverty_registered=True, date="2024-10-01")
    assert out.eligible and out.enrol_where == "school" and any("可以选择" in s.rule for s in out.steps)


# ---------------------------------------------------------------- eligibility: Shanghai


def test_shanghai_new_student_coverage_dates() -> None:
    # “8月报到注册的新生，经参保确认及承诺后，当年度居民医保待遇起止时间为9月1日至当年12月31日”
    # “个人免缴2023年度居民医保个人缴费部分”
    out = elig(city="shanghai", new_student=True, date="2023-08-25")
    assert (out.fee, out.coverage_start, out.coverage_end) == (
        D("0.00"),
        dt.date(2023, 9, 1),
        dt.date(2023, 12, 31),
    )
    # “每年秋季报到注册的新生……当年度居民医保待遇享受起止时间为入学之日起至当年12月31日”
    assert elig(city="shanghai", new_student=True, date="2023-09-12").coverage_start == dt.date(2023, 9, 12)


def test_shanghai_annual_fee_and_hardship() -> None:
    # “2023年大学生居保个人缴费标准为245元/年”；“于次年1月1日至12月31日享受”
    out = elig(city="shanghai", date="2022-11-12")
    assert (out.fee, out.coverage_start, out.coverage_end) == (
        D("245.00"),
        dt.date(2023, 1, 1),
        dt.date(2023, 12, 31),
    )
    # “本市重残大学生个人不缴费。”
    assert elig(city="shanghai", date="2022-11-12", hardship="severe_disability").fee == D("0.00")
    # 低保：“可到街道社区事务受理服务中心申请减免”，金额未说明 → 不给数字
    out = elig(city="shanghai", date="2022-11-12", hardship="dibao")
    assert out.fee is None and "申请减免" in out.fee_basis
    # 非全日制：指南未说明
    assert elig(city="shanghai", full_time=False, date="2022-11-12").eligible is None


# ---------------------------------------------------------------- eligibility: Chongqing and Dazhou


def test_chongqing_fee_tiers_window_and_coverage() -> None:
    # “一档：180元/人·年；二档：450元/人·年。”“待遇时间：当年的9月1日至次年8月31日。”
    # “缴费时间为2018年9月17日至2018年10月16日，请在这期间内进行缴费，过期不能补交。”
    out = elig(city="chongqing", date="2018-09-20")
    assert out.fee is None and [(o.label, o.amount) for o in out.fee_options] == [
        ("一档", D("180.00")),
        ("二档", D("450.00")),
    ]
    assert (out.deadline, out.coverage_start, out.coverage_end) == (
        dt.date(2018, 10, 16),
        dt.date(2018, 9, 1),
        dt.date(2019, 8, 31),
    )
    late = elig(city="chongqing", date="2018-10-20")
    assert late.eligible is False and "过期不能补交" in (late.reason or "")
    # 2025 年提问：资料过时，给出 2018 年规定并提示
    assert any("资料可能已过时" in n for n in elig(city="chongqing", date="2025-09-20").notes)


def test_chongqing_full_time_and_hardship() -> None:
    # “全日制本专科生、全日制研究生”
    assert elig(city="chongqing", full_time=False, date="2018-09-20").eligible is False
    # “救助类学生先缴纳医保参保费用，待渝中区民政局对其救助对象的身份认定后，按规定减免参保费用。”
    out = elig(city="chongqing", hardship="dibao", date="2018-09-20")
    assert out.fee is None and "先缴纳" in out.fee_basis and len(out.fee_options) == 2


def test_dazhou_coverage_from_next_january_no_fee_published() -> None:
    # “在集中缴费期参保缴费学生从缴费次年1月1日起享受基本医保待遇
    #  （如：2022年集中缴费期参保缴费，待遇从2023年1月1日算起，保期为1年）”
    out = elig(city="dazhou", date="2022-09-05")
    assert (out.coverage_start, out.coverage_end) == (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert out.fee is None and out.fee_basis == "指南未给出缴费标准。"
    assert out.eligible is True and elig(city="dazhou", full_time=False, date="2022-09-05").eligible is None


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (
            {"city": "beijing", "care": "inpatient", "hospital_level": 1, "cost": 1},
            "city",
            "chongqing、dazhou",
        ),
        ({"city": "wuhan", "care": "inpatient", "hospital_level": 1, "cost": -1}, "cost", "应大于或等于 0"),
        ({"city": "wuhan", "care": "inpatient", "hospital_level": 1, "cost": 1e8}, "cost", "应小于"),
        (
            {"city": "wuhan", "care": "inpatient", "hospital_level": 4, "cost": 1},
            "hospital_level",
            "应小于或等于 3",
        ),
        ({"city": "wuhan", "care": "inpatient", "cost": 1}, "hospital_level", "缺少必填字段"),
        ({"city": "wuhan", "care": "dental", "hospital_level": 1, "cost": 1}, "care", "只能是"),
        ({"city": "wuhan", "care": "inpatient", "hospital_level": 1, "cost": "abc"}, "cost", "应为数字"),
        (
            {"city": "wuhan", "care": "inpatient", "hospital_level": 1, "cost": 1, "foo": 1},
            "foo",
            "不认识的字段",
        ),
    ],
)
def test_bad_benefit_input_names_the_field_in_chinese(raw: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(CalcInputError) as info:
        run_benefit(raw, knowledge_dir=KNOWLEDGE)
    assert field in str(info.value) and words in str(info.value)


def test_bad_eligibility_input() -> None:
    with pytest.raises(CalcInputError, match="date（日期）"):
        run_eligibility(
            {"city": "wuhan", "level": "undergraduate", "date": "2025-13-01"}, knowledge_dir=KNOWLEDGE
        )
    with pytest.raises(CalcInputError, match="hardship"):
        run_eligibility(
            {"city": "wuhan", "level": "undergraduate", "hardship": "rich"}, knowledge_dir=KNOWLEDGE
        )
    with pytest.raises(CalcInputError, match="JSON 对象"):
        run_eligibility(["wuhan"], knowledge_dir=KNOWLEDGE)


def test_cost_is_rounded_to_cents_and_output_is_json_numbers() -> None:
    out = benefit(city="wuhan", care="inpatient", hospital_level=3, cost="1000.005")
    # 1000.005 → 1000.01；(1000.01 − 800) × 60% = 120.006 → 120.01（四舍五入到分）
    assert out.basic_pays == D("120.01") and out.out_of_pocket == D("880.00")
    dumped = out.model_dump(mode="json")
    assert dumped["basic_pays"] == 120.01 and isinstance(dumped["out_of_pocket"], float)
    # 0.005 进位：(800.01 − 800) × 60% = 0.006 → 0.01
    assert benefit(city="wuhan", care="inpatient", hospital_level=3, cost="800.01").basic_pays == D("0.01")


def test_langchain_tools() -> None:
    import json

    from app.calculator.tools import make_calculator_tools

    tools = {t.name: t for t in make_calculator_tools(KNOWLEDGE)}
    assert set(tools) == {"calc_benefit", "calc_eligibility"}
    assert "报销" in tools["calc_benefit"].description
    assert tools["calc_benefit"].args["hospital_level"]["maximum"] == 3
    result = json.loads(
        tools["calc_benefit"].invoke(
            {"city": "wuhan", "care": "inpatient", "hospital_level": 3, "cost": 10000}
        )
    )
    assert result["fund_pays"] == 5520.0
    assert "应小于或等于 3" in tools["calc_benefit"].invoke(
        {"city": "wuhan", "care": "inpatient", "hospital_level": 4, "cost": 1}
    )
    result = json.loads(
        tools["calc_eligibility"].invoke({"city": "karamay", "level": "graduate", "date": "2025-10-01"})
    )
    assert result["fee"] == 400.0 and result["deadline"] == "2026-01-10"
