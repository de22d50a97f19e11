"""Many questions at once (no FastAPI here): split a paste, mask personal data first, answer each in order."""

from __future__ import annotations

from app.answer.models import AskRequest, AskResponse
from app.answer.service import AnswerService
from app.input_error import InputError
from app.privacy import mask_pii
from app.server.limits import clean_text
from app.understanding.split import split_questions


class BatchInputError(InputError):
    """Bad batch input; the message is Chinese."""


def plan(service: AnswerService, *, text: str | None, questions: list[str] | None, city: str | None,
         max_questions: int = 200, max_chars: int = 2000) -> list[str]:
    """The questions to answer, in order, already masked: no personal number can reach an answer, a session
    or a log. Invisible characters are dropped (line breaks and tabs in the pasted text stay: they separate
    questions). Raises :class:`BatchInputError` when there is nothing to answer, too much, or the city is
    unknown."""
    if city is not None and city not in service.covered:
        raise BatchInputError(f"未知城市 “{city}”，可用：{'、'.join(service.covered)}")
    text = clean_text(text) if text else text
    # masked before splitting: the splitter drops speaker labels such as the "姓名：" before a name
    found = split_questions(mask_pii(text)) if text and text.strip() else []
    found += [q for q in (clean_text(q).strip() for q in questions or [] if q) if q]
    if not found:
        raise BatchInputError("输入有误：text（粘贴的文本）或 questions（问题列表）至少给出一个非空问题")
    if len(found) > max_questions:
        raise BatchInputError(f"输入有误：一次最多 {max_questions} 个问题（text 与 questions 合计），"
                              f"本次 {len(found)} 个")
    for n, q in enumerate(found, 1):
        if len(q) > max_chars:
            raise BatchInputError(f"输入有误：第 {n} 个问题（“{mask_pii(q)[:20]}…”）超过 {max_chars} 个字符"
                                  f"（现有 {len(q)} 个），请删减或拆分")
    return [mask_pii(q) for q in found]


def answer_one(service: AnswerService, masked: str, city: str | None) -> AskResponse:
    """One question of a batch, in its own session (a paste mixes different students)."""
    try:
        return service.ask(AskRequest(question=masked, city=city))
    except InputError as exc:  # e.g. a question made of control characters only
        raise BatchInputError(f"问题“{masked[:30]}”：{exc}") from exc


