"""Load and validate the guides in ``knowledge/guides/`` (Markdown with YAML front-matter).

Pure parsing (:func:`split_front_matter`, :func:`parse_guide`) is separate from file reading
(:func:`read_guide_file`, :func:`load_guides`). Every problem is an :class:`IngestError` that names the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ingest import convert
from ingest.errors import IngestError

GUIDE_SUFFIXES = (".md", ".txt", ".docx", ".pdf")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


class City(BaseModel):
    id: str
    name: str
    province: str | None = None


class Contact(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    phone: str | None = None
    address: str | None = None


class DocMeta(BaseModel):
    model_config = ConfigDict(extra="allow")

    doc_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=80)
    city: str
    title: str = Field(min_length=1)
    school: str | None = None
    issuer: str = Field(min_length=1)
    published: str
    policy_year: int = Field(ge=1990, le=2100)
    source_file: str = Field(min_length=1)
    valid_note: str = Field(min_length=1)
    contacts: list[Contact] = Field(default_factory=list)
    promotional_sections: list[str] = Field(
        default_factory=list,
        description="Headings whose sections are promotional text (a letter to students, slogans): no policy in "
        "them, so they are not indexed and can never be quoted as an answer.",
    )

    @field_validator("published", mode="before")
    @classmethod
    def _date_to_str(cls, value: Any) -> Any:
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, int):
            return str(value)
        return value

    @field_validator("published")
    @classmethod
    def _published_form(cls, value: str) -> str:
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
            raise ValueError("应为 YYYY-MM-DD、YYYY-MM 或 YYYY")
        return value


class Guide(BaseModel):
    meta: DocMeta
    body: str
    path: str
    fingerprint: str  # sha256 of the input bytes (and sidecar), decides re-indexing


def load_cities(knowledge_dir: Path) -> dict[str, City]:
    path = knowledge_dir / "cities.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return {cid: City(id=cid, **(info or {})) for cid, info in data["cities"].items()}
    except FileNotFoundError as exc:
        raise IngestError(path, "找不到城市列表文件 cities.yaml") from exc
    except (yaml.YAMLError, KeyError, TypeError, ValidationError) as exc:
        raise IngestError(path, f"城市列表格式错误：{exc}") from exc


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return (front-matter mapping, body). Raises ValueError with a Chinese message."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise ValueError("缺少 YAML front-matter（文件开头应为 --- … --- 包住的元数据）")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise ValueError(f"front-matter 不是合法的 YAML：{exc}") from exc
    if not isinstance(meta, dict):
        raise ValueError("front-matter 应为键值对（YAML mapping）")
    return meta, text.lstrip("\ufeff")[match.end():]


def _format_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "front-matter"
        kind = "缺少必填字段" if err["type"] == "missing" else err["msg"]
        parts.append(f"{field}：{kind}")
    return "front-matter 字段有误：" + "；".join(parts)


def parse_guide(text: str, *, path: str, cities: dict[str, City], fingerprint: str) -> Guide:
    try:
        raw_meta, body = split_front_matter(text)
    except ValueError as exc:
        raise IngestError(path, str(exc)) from exc
    try:
        meta = DocMeta.model_validate(raw_meta)
    except ValidationError as exc:
        raise IngestError(path, _format_validation(exc)) from exc
    if meta.city not in cities:
        valid = "、".join(cities)
        raise IngestError(
            path, f"未知城市 id “{meta.city}”，可用的有：{valid}（新城市请先在 knowledge/cities.yaml 中登记）"
        )
    if not body.strip():
        raise IngestError(path, "正文为空：只有 front-matter，没有指南内容")
    headings = {line.lstrip("#").strip() for line in body.splitlines() if line.startswith("#")}
    if missing := [h for h in meta.promotional_sections if h not in headings]:
        raise IngestError(path, f"promotional_sections 中的标题在正文里找不到：{'、'.join(missing)}")
    return Guide(meta=meta, body=body, path=path, fingerprint=fingerprint)


def _decode_text(data: bytes, path: Path) -> str:
    if not data.strip():
        raise IngestError(path, "文件为空")
    if b"\x00" in data:
        raise IngestError(path, "不是文本文件（含二进制内容），请提供 UTF-8 编码的 Markdown/文本")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(path, f"不是 UTF-8 编码的文本（第 {exc.start} 字节处无法解码），可能是二进制文件") from exc
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t")
    if controls > max(3, len(text) // 200):
        raise IngestError(path, "含大量控制字符，像是二进制文件而不是文本")
    return text


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".yaml")


def read_guide_file(path: Path, cities: dict[str, City]) -> Guide:
    """Read one guide file of any supported kind and return it in Markdown form."""
    data = path.read_bytes()
    digest = hashlib.sha256(data)
    suffix = path.suffix.lower()
    sidecar = _sidecar(path)
    sidecar_meta = ""
    if suffix != ".md" and sidecar.exists():
        sidecar_meta = sidecar.read_text(encoding="utf-8")
        digest.update(sidecar_meta.encode("utf-8"))
    if suffix in (".md", ".txt"):
        text = _decode_text(data, path)
        if suffix == ".txt":
            text = convert.text_file_to_markdown(text, sidecar_meta)
    elif suffix in (".docx", ".pdf"):
        if not data.strip():
            raise IngestError(path, "文件为空")
        if not sidecar_meta:
            raise IngestError(path, f"缺少元数据文件 {sidecar.name}（写明 doc_id、city、title 等 front-matter 字段）")
        try:
            body = convert.docx_to_markdown(path) if suffix == ".docx" else convert.pdf_to_markdown(path)
        except Exception as exc:  # conversion libraries raise many kinds of errors on junk input
            raise IngestError(path, f"无法读取 {suffix[1:]} 文件（{type(exc).__name__}），文件可能已损坏") from exc
        if not body.strip():
            raise IngestError(path, "没有可提取的文字（扫描版 PDF 需先 OCR）")
        text = convert.with_front_matter(sidecar_meta, body)
    else:
        raise IngestError(path, f"不支持的文件类型 {suffix}，可用：{'、'.join(GUIDE_SUFFIXES)}")
    return parse_guide(text, path=str(path), cities=cities, fingerprint=digest.hexdigest())


def guide_files(guides_dir: Path) -> list[Path]:
    if not guides_dir.is_dir():
        raise IngestError(guides_dir, "找不到指南目录")
    return sorted(p for p in guides_dir.iterdir() if p.is_file() and p.suffix.lower() in GUIDE_SUFFIXES)


def load_guides(knowledge_dir: Path) -> list[Guide]:
    """Load and validate every guide; any problem aborts with an error naming the file."""
    cities = load_cities(knowledge_dir)
    guides: list[Guide] = []
    seen: dict[str, str] = {}
    for path in guide_files(knowledge_dir / "guides"):
        guide = read_guide_file(path, cities)
        if guide.meta.doc_id in seen:
            raise IngestError(
                path, f"doc_id “{guide.meta.doc_id}” 重复，已被 {seen[guide.meta.doc_id]} 使用"
            )
        seen[guide.meta.doc_id] = str(path)
        guides.append(guide)
    if not guides:
        raise IngestError(knowledge_dir / "guides", "目录中没有任何指南文件")
    return guides
