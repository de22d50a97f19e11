"""Load and validate ``knowledge/policies/<city>_<year>.yaml`` (the calculator's only I/O).

The data model is :mod:`app.calculator.schema`; the format is documented in ``knowledge/policies/README.md``.
The guide's front-matter (``guides/<doc_id>.md``) supplies ``contacts`` and ``year_note`` (``valid_note``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.calculator.schema import Policy


class PolicyError(Exception):
    """A policy file is missing or malformed; the message (Chinese) names the file."""


def _front_matter(knowledge_dir: Path, doc_id: str) -> dict[str, Any]:
    from ingest.documents import split_front_matter

    path = knowledge_dir / "guides" / f"{doc_id}.md"
    if not path.exists():
        return {}
    meta, _ = split_front_matter(path.read_text(encoding="utf-8"))
    return meta


def load_policy_file(path: Path, knowledge_dir: Path) -> Policy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}：无法读取或不是合法的 YAML（{exc}）") from exc
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}：顶层应为键值对")
    meta = _front_matter(knowledge_dir, str(raw.get("doc_id", "")))
    raw.setdefault("year_note", meta.get("valid_note"))
    raw.setdefault("contacts", meta.get("contacts") or [])
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}：{e['msg']}" for e in exc.errors()]
        raise PolicyError(f"{path}：政策数据有误：" + "；".join(lines)) from exc


def load_policies(knowledge_dir: Path) -> dict[str, Policy]:
    """Every ``policies/*.yaml`` by city id; two files for one city keep the newer policy year."""
    folder = knowledge_dir / "policies"
    if not folder.is_dir():
        raise PolicyError(f"找不到政策目录 {folder}")
    out: dict[str, Policy] = {}
    for path in sorted(folder.glob("*.yaml")):
        policy = load_policy_file(path, knowledge_dir)
        if policy.city not in out or out[policy.city].policy_year < policy.policy_year:
            out[policy.city] = policy
    if not out:
        raise PolicyError(f"{folder} 中没有任何政策文件")
    return out


@lru_cache(maxsize=4)
def _cached(knowledge_dir: str) -> dict[str, Policy]:
    return load_policies(Path(knowledge_dir))


def default_policies(knowledge_dir: Path | None = None) -> dict[str, Policy]:
    """Policies under ``knowledge_dir`` (default: settings), loaded once per folder."""
    if knowledge_dir is None:
        from app.settings import get_settings

        knowledge_dir = get_settings().knowledge_dir
    return _cached(str(knowledge_dir))
