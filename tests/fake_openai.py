"""A real local HTTP server that speaks the OpenAI chat-completions API and returns scripted replies.

Each reply is ``{"content": "..."}`` or ``{"tool_calls": [{"name": ..., "arguments": {...}}]}`` or
``{"status": 500}``; replies are served in order (the last one repeats). Every request body is recorded.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


class FakeOpenAI:
    def __init__(self) -> None:
        self.replies: list[dict[str, Any]] = [{"content": "好的。"}]
        self.requests: list[dict[str, Any]] = []
        self._served = 0
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._completions)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: dict[str, Any]) -> None:
        self.replies, self._served, self.requests = list(replies), 0, []

    def start(self) -> FakeOpenAI:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

    def _next(self) -> dict[str, Any]:
        reply = self.replies[min(self._served, len(self.replies) - 1)]
        self._served += 1
        return reply

    async def _completions(self, request: Request) -> Any:
        body = await request.json()
        self.requests.append(body)
        reply = self._next()
        if "status" in reply:
            return JSONResponse({"error": {"message": "scripted failure"}}, status_code=reply["status"])
        model = body.get("model", "fake")
        calls = [
            {"id": f"call_{i}", "type": "function",
             "function": {"name": c["name"], "arguments": json.dumps(c["arguments"], ensure_ascii=False)}}
            for i, c in enumerate(reply.get("tool_calls", []))
        ]
        finish = "tool_calls" if calls else "stop"
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
            if calls:
                message["tool_calls"] = calls
            return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        return StreamingResponse(self._stream(model, reply.get("content") or "", calls, finish),
                                 media_type="text/event-stream")

    @staticmethod
    def _stream(model: str, content: str, calls: list[dict[str, Any]], finish: str) -> Iterator[str]:
        def chunk(delta: dict[str, Any], reason: str | None = None) -> str:
            data = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        for i in range(0, len(content), 4):  # a few characters at a time, like a real model
            yield chunk({"content": content[i: i + 4]})
        for i, call in enumerate(calls):
            yield chunk({"tool_calls": [{"index": i, **call}]})
        yield chunk({}, finish)
        yield "data: [DONE]\n\n"
