"""The OpenAPI schema says what clients really get on an error: ``{"detail": "<说明>"}`` (plus ``error``
on /v1), not FastAPI's default list of validation errors; and it lists the statuses the middlewares add
(413, 429) and the 401 of the counselor's endpoints. Pure post-processing of the generated schema."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "中文说明"},
        "error": {"type": "object", "description": "仅 /v1：OpenAI 格式的同一说明",
                  "properties": {"message": {"type": "string"}, "type": {"type": "string"}}},
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
DESCRIPTIONS = {
    "401": "需要辅导员令牌", "404": "没有找到", "413": "请求体过大", "422": "输入有误",
    "429": "请求过于频繁（见 Retry-After）", "503": "服务暂不可用（例如索引尚未建立）",
}
LIMITED = ("/api/", "/v1/")


def _error(code: str, description: str | None = None) -> dict[str, Any]:
    return {"description": description or DESCRIPTIONS.get(code, "错误"),
            "content": {"application/json": {"schema": ERROR_REF}}}


def describe_errors(schema: dict[str, Any], *, rate_limited: bool) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        api = path.startswith(LIMITED)
        for op in operations.values():
            responses = op.setdefault("responses", {})
            for code, response in list(responses.items()):
                content = response.get("content", {}).get("application/json", {})
                if code[0] in "45" and (not content or "ValidationError" in str(content.get("schema"))):
                    responses[code] = _error(code, response.get("description"))
            if "422" in responses:
                responses["422"]["description"] = DESCRIPTIONS["422"]
            if "requestBody" in op:
                responses.setdefault("413", _error("413"))
            if op.get("security"):
                responses.setdefault("401", _error("401"))
            if api:  # unknown query parameters are refused (app/server/query.py); services may be down
                responses.setdefault("422", _error("422"))
                responses.setdefault("503", _error("503"))
                if rate_limited:
                    retry = {"description": "几秒后可以再试", "schema": {"type": "integer"}}
                    responses.setdefault("429", {**_error("429"), "headers": {"Retry-After": retry}})
    return schema


def install_openapi(app: FastAPI, *, rate_limited: bool) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_errors(generate(), rate_limited=rate_limited)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
