"""Input limits that come from settings, and the characters a question must not carry (no FastAPI here).

Control characters (C0/C1, except tab and line breaks), zero-width characters, the byte-order mark and
bidirectional overrides are removed: they are invisible, can hide or reorder text in a counselor's export,
and mean nothing to the pipeline. ``\\r\\n`` and ``\\r`` become ``\\n``.
"""

from __future__ import annotations

import re

from app.input_error import InputError

INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


class InputTooLong(InputError):
    """The message is Chinese and names the field."""


def clean_text(text: str) -> str:
    return INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def check_length(text: str, *, max_chars: int, label: str = "question（问题）") -> str:
    if len(text) > max_chars:
        raise InputTooLong(f"输入有误：{label}：不能超过 {max_chars} 个字符（现有 {len(text)} 个）")
    return text


def clean_question(text: str, *, max_chars: int, label: str = "question（问题）") -> str:
    """The question without invisible characters, or :class:`InputTooLong` (an empty result is left to the
    pipeline, which answers 问题不能为空)."""
    return check_length(clean_text(text).strip(), max_chars=max_chars, label=label)
