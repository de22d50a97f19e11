"""Every error a client sees is ``{"detail": "<Chinese message>"}``: validation → 422 naming the field, no
tracebacks. The OpenAI-compatible path also carries ``error.message`` so OpenAI clients show the text.

Routes raise :class:`~app.input_error.InputError` (too long, a bad batch or calculator input, the pipeline's
问题不能为空 / 未知城市) and let it propagate: it is answered 422 here. Any other ``ValueError`` — a pydantic
``ValidationError`` from our own code included — is a bug and a 500."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.input_error import InputError
from app.retrieval.index import VectorStoreUnavailable
from app.server.headers import security_headers

log = logging.getLogger(__name__)

FIELDS = {
    "question": "问题", "city": "城市", "session_id": "会话 id", "id": "题目 id", "text": "粘贴的文本",
    "questions": "问题列表", "rating": "评价", "comment": "意见", "answer": "回答", "messages": "消息",
    "role": "角色", "content": "内容", "stream": "是否流式", "model": "模型", "body": "请求体",
}
MESSAGES = {
    "missing": "缺少必填字段", "json_invalid": "不是合法的 JSON", "string_type": "应为字符串",
    "list_type": "应为列表", "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "dict_type": "应为 JSON 对象", "model_attributes_type": "应为 JSON 对象", "model_type": "应为 JSON 对象",
    "int_type": "应为整数", "int_parsing": "应为整数", "extra_forbidden": "不认识的字段",
    "string_unicode": "含有无效的字符（应为 UTF-8 文本）",
}
# FastAPI's 400 when the body cannot even be decoded (invalid UTF-8, a number too long to parse): a client
# error like any other malformed body, so 422 in Chinese
UNPARSABLE = "There was an error parsing the body"
UNPARSABLE_ZH = "输入有误：请求体无法解析，应为 UTF-8 编码的 JSON"


def _message(err: dict[str, Any]) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length", 1) <= 1 else f"至少 {ctx['min_length']} 个字符"
    if kind == "string_too_long":
        return f"不能超过 {ctx.get('max_length')} 个字符"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind == "literal_error":
        return "只能是 " + str(ctx.get("expected", "")).replace(" or ", "、").replace(", ", "、")
    if kind == "value_error":  # our own validators raise ValueError with a Chinese message
        return str(ctx.get("error") or err.get("msg", "")).removeprefix("Value error, ")
    return MESSAGES.get(kind, "格式不对")


def describe(errors: Sequence[Any]) -> str:
    """``输入有误：question（问题）：不能为空`` — one part per bad field, the body prefix dropped."""
    parts = []
    for err in errors:
        if err.get("type") == "json_invalid":  # loc is ("body", <character offset>)
            where = err.get("loc", ())[-1]
            parts.append(f"请求体不是合法的 JSON（第 {where} 个字符附近）" if isinstance(where, int)
                         else "请求体不是合法的 JSON")
            continue
        loc = [str(p) for p in err.get("loc", ()) if p != "body"] or ["body"]
        field = ".".join(loc)
        name = FIELDS.get(loc[-1] if not loc[-1].isdigit() else loc[0])
        label = f"{field}（{name}）" if name and name != field else field
        parts.append(f"{label}：{_message(err)}")
    return "输入有误：" + "；".join(parts)


def error_body(path: str, detail: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """The JSON of an error at ``path`` (also used by the middlewares, which have no Request)."""
    body: dict[str, Any] = {"detail": detail}
    if path.startswith("/v1/"):
        body["error"] = {"message": detail, "type": kind}
    return body


def _body(request: Request, detail: str, kind: str) -> dict[str, Any]:
    return error_body(request.url.path, detail, kind)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(_body(request, describe(exc.errors()), "invalid_request_error"), status_code=422)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(_body(request, str(exc), "invalid_request_error"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 400 and detail == UNPARSABLE:
            return JSONResponse(_body(request, UNPARSABLE_ZH, "invalid_request_error"), status_code=422)
        if exc.status_code == 404 and detail == "Not Found":
            detail = "找不到该地址"
        elif exc.status_code == 405:
            detail = "不支持该请求方法"
        kind = "invalid_request_error" if exc.status_code < 500 else "service_unavailable"
        return JSONResponse(_body(request, detail, kind), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("未处理的错误：%s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(_body(request, "服务内部错误，请稍后再试", "server_error"), status_code=500,
                            headers=security_headers(request.url.path))  # sent outside the middlewares

    @app.exception_handler(VectorStoreUnavailable)
    async def vectors_down(request: Request, exc: VectorStoreUnavailable) -> JSONResponse:
        """The Chroma server is down: 503 now; the next request reconnects (no restart needed)."""
        log.warning("向量库不可用（%s）：%s %s", exc.url, request.method, request.url.path)
        return JSONResponse(_body(request, str(exc), "service_unavailable"), status_code=503,
                            headers={"Retry-After": "5"})
