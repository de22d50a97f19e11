"""Whom to ask: the contacts an answer shows, and their citation when the question asks for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answer.compose import ASKS_CONTACT, DocInfo, contact_line
from app.answer.models import AskRequest
from app.answer.service import AnswerService
from app.settings import Settings
from conftest import KNOWLEDGE


def test_a_question_asking_whom_or_which_number_asks_for_contacts() -> None:
    for q in ("重医缴费遇到问题找谁", "达州异地备案电话", "报销材料交到哪个办公室", "有电话能直接备案吗"):
        assert ASKS_CONTACT.search(q), q
    # a student's own number in a counselor's paste is not a question about contacts
    for q in ("学生李某（电话13909901234）想问医保交多少钱", "武汉住院报销比例是多少"):
        assert not ASKS_CONTACT.search(q), q


def test_contacts_for_the_matter_come_alone() -> None:
    doc = DocInfo("d", "dazhou", "达州", "指南", 2022, "", contacts=[
        {"name": "社会保障卡归属地修改热线", "phone": "0818-12333"},
        {"name": "异地就医备案电话", "phone": "0818-2182953"},
    ])
    assert contact_line([doc], "remote_care") == "异地就医备案电话：0818-2182953"
    assert contact_line([doc], "e_voucher") == "社会保障卡归属地修改热线：0818-12333"
    # nothing for this matter: the guide's contacts, as they come
    assert contact_line([doc], "pay") == "社会保障卡归属地修改热线：0818-12333；异地就医备案电话：0818-2182953"


@pytest.fixture(scope="module")
def service(full_index: Path, full_loaded) -> AnswerService:  # noqa: ANN001
    return AnswerService(Settings(knowledge_dir=KNOWLEDGE, index_dir=full_index), index=full_loaded)


def test_every_contact_is_traced_to_the_section_that_gives_it(service: AnswerService) -> None:
    for doc in service.docs.values():
        for c in doc.contacts:
            reach = c.get("phone") or c.get("address")
            if reach:
                chunk = service.contact_source(doc.doc_id, reach)
                assert chunk is not None and reach in chunk.text and chunk.doc_id == doc.doc_id, (doc.doc_id, c)


def test_the_number_asked_for_is_cited(service: AnswerService) -> None:
    res = service.ask(AskRequest(question="重医缴费遇到问题找谁"))
    contact = res.answer.rsplit("咨询：", 1)[1]
    assert "68486151" in contact
    cited = next(c for c in res.citations if "68486151" in c.quote)
    assert cited.section.endswith("三、如有不明之处") and f"[{cited.n}]" in contact
    # a question that does not ask whom to ask keeps the contacts as a plain footer
    plain = service.ask(AskRequest(question="重医医保一年交多少钱"))
    assert not any(c.section.endswith("三、如有不明之处") for c in plain.citations)
