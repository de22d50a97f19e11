"""Unknown query parameters are an error, not silently ignored: ``/api/feedback/export?fromat=csv`` would
otherwise return JSON without a word. A dependency of every API router (see ``create_app``)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request


def _query_names(dependant: Any) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def known_query_only(request: Request) -> None:
    route = request.scope.get("route")
    if not request.query_params or not hasattr(route, "dependant"):
        return
    known = _query_names(route.dependant)  # a handful of parameters: cheaper than caching safely
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        allowed = f"可用：{'、'.join(sorted(known))}" if known else "该接口不接受查询参数"
        raise HTTPException(422, f"输入有误：不认识的查询参数 {'、'.join(unknown)[:200]}（{allowed}）")
