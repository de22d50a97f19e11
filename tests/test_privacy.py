"""``mask_pii`` (pure): what counts as personal data, how it is masked, and what must be left alone."""

from __future__ import annotations

import pytest

from app.privacy import id_checksum_ok, luhn_ok, mask_pii


@pytest.mark.parametrize(("text", "masked"), [
    # 身份证: 18 digits (checksum right or wrong, X checksum in either case) and the old 15-digit form
    ("身份证110101199003074258", "身份证110***********4258"),
    ("身份证号：11010519491231002X。", "身份证号：110***********002X。"),
    ("11010519491231002x", "110***********002x"),
    ("110101199003074259", "110***********4259"),  # mistyped (checksum wrong): still someone's ID
    ("11010519491231003X", "110***********003X"),
    ("老身份证110105491231002", "老身份证110********1002"),
    # 手机号: plain, with +86 / 86, spaces or dashes
    ("手机13812345678", "手机138****5678"),
    ("电话 +86 138 1234 5678 谢谢", "电话 138****5678 谢谢"),
    ("+8613912345678", "139****5678"),
    ("86-13912345678", "139****5678"),
    ("138-1234-5678", "138****5678"),
    # 银行卡: Luhn-valid with or without spaces/dashes; an unbroken 16–19-digit run even if mistyped
    ("卡号6222020000001237", "卡号6222********1237"),
    ("卡号 6217 0000 0000 1234 560", "卡号 6217***********4560"),
    ("6222-0200-0000-1237", "6222********1237"),
    ("卡号6222020000001238", "卡号6222********1238"),
    # names after 我叫 / 姓名 / 名字是, compound surnames included
    ("姓名：张三", "姓名：张*"),
    ("姓名: 张三丰", "姓名:张**"),
    ("我叫李明，住院能报多少", "我叫李*，住院能报多少"),
    ("我叫欧阳娜娜，", "我叫欧***，"),
    ("名字是王五", "名字是王*"),
    ("姓名为赵六", "姓名为赵*"),
    # passports (labelled, or the Chinese E/G + 8 digits shape) and student numbers after their label
    ("留学生，护照号E12345678，", "留学生，护照号E******78，"),
    ("Passport No. X1234567 here", "Passport No. X*****67 here"),
    ("护照 G12345678", "护照 G******78"),
    ("EA1234567", "E******67"),
    ("学号2024011234，电话15909901234", "学号2*******34，电话159****1234"),
    ("学号：2018123456", "学号：2*******56"),
])
def test_masks(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize("text", [
    "住院花了20000元，三级医院报销比例60%，起付线800元",
    "全国医保服务热线 12393，学校医保办 027-12345678",
    "2025年度个人缴费400元，第2次住院",
    "编号2021301234",  # 10 digits: not a phone (after 学号 it is a student number: masked)
    "1381234567",  # one digit short of a phone
    "1000 2000 3000 4001",  # amounts listed with spaces, not a card (Luhn fails)
    "医保发〔2023〕4号",
    "相同证件号存在其他医保账户但姓名不同怎么办",  # 姓名 without a colon is not followed by a name
    "输入参保人的身份证号、姓名和手机号码登录",
    "半夜我叫了救护车，急诊费用怎么报销",  # 叫 as "call", not a name
])
def test_leaves_policy_text_alone(text: str) -> None:
    assert mask_pii(text) == text


def test_a_message_with_everything_keeps_no_personal_digit_run() -> None:
    text = ("我叫张三丰，身份证11010519491231002X，旧证110105491231002，手机+86 139 0000 1111，"
            "银行卡6217 0000 0000 1234 560，武汉住院报销比例是多少？")
    masked = mask_pii(text)
    for secret in ("张三丰", "1949123100", "4912310", "0000 1111", "13900001111", "00001234"):
        assert secret not in masked.replace(" ", "") and secret not in masked
    assert masked.endswith("武汉住院报销比例是多少？")
    assert mask_pii(masked) == masked  # idempotent: masking twice changes nothing


def test_checksums() -> None:
    assert id_checksum_ok("110101199003074258") and id_checksum_ok("11010519491231002x")
    assert not id_checksum_ok("110101199003074259") and not id_checksum_ok("1101011990030742")
    assert luhn_ok("6222020000001237") and not luhn_ok("6222020000001238")
