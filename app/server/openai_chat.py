"""The OpenAI chat-completions wire format around an AskResponse (pure; no FastAPI here)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from app.answer import compose
from app.answer.models import AskResponse


def new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def text_of(content: Any) -> str:
    """A message's text: a string, or the ``text`` parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return text_of(message.get("content")).strip()
    return ""


def sources_block(response: AskResponse) -> str:
    return "来源：\n" + compose.sources_block(response.citations) if response.citations else ""


def tail_of(response: AskResponse) -> str:
    """What the streamed answer still needs so the citations are in the content: the sources, if absent."""
    return "" if not response.citations or "来源：" in response.answer else "\n\n" + sources_block(response)


def citations_json(response: AskResponse) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in response.citations]


def completion(response: AskResponse, *, model: str, completion_id: str | None = None) -> dict[str, Any]:
    return {
        "id": completion_id or new_id(), "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": response.answer + tail_of(response)}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": citations_json(response),
        "yibao": response.model_dump(mode="json"),
    }


def chunk(completion_id: str, model: str, *, delta: dict[str, Any], finish: str | None = None,
          **extra: Any) -> dict[str, Any]:
    return {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
