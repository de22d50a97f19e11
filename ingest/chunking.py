"""Structure-aware chunking of a guide's Markdown body (pure: no I/O).

Blocks are read by the conventions of ``knowledge/FORMAT.md``: headings, paragraphs, ordered lists (procedures),
``**问：**``/``**答：**`` FAQ pairs and captioned pipe tables. Each chunk keeps its heading path; no chunk cuts a
sentence, a step list or a FAQ answer in half; each table row becomes a self-contained sentence.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

CHUNKER_VERSION = 5
MAX_TABLE_AS_TEXT = 1500  # a whole table is also kept as one text chunk up to this size
MAX_TEXT_CHARS = 500  # soft size for merging paragraphs; a single sentence is never cut

Kind = Literal["text", "step", "faq", "table_row"]

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_ITEM = re.compile(r"^\d{1,2}[.)、]\s+\S")
_QUESTION = re.compile(r"^(\*\*)?问[：:]")
_CAPTION = re.compile(r"^表[：:]\s*(.+)$")
_SENTENCE = re.compile(r"[^。！？；!?;]*[。！？；!?;]+[”’」）)]*|[^。！？；!?;]+$")


class Chunk(BaseModel):
    chunk_id: str
    doc_id: str
    city: str
    school: str
    title: str
    section: str
    policy_year: int
    kind: Kind
    order: int
    text: str

    def search_text(self, city_name: str) -> str:
        """What the indexes see: city and heading path give a chunk its context."""
        head = " ".join(x for x in (city_name, self.section) if x)
        return f"{head}\n{self.text}"

    def dense_text(self, city_name: str, max_chars: int = 0) -> str:
        """What the embedder sees: the search text cut to its head (embedding cost grows with length).

        The head of a chunk (heading path, FAQ question, first sentences, table caption and headers) carries
        its topic; BM25 still indexes the whole text. ``max_chars`` 0 keeps everything.
        """
        full = self.search_text(city_name)
        if not max_chars or len(full) <= max_chars:
            return full
        head = full[:max_chars]
        cut = max(head.rfind(p) for p in "。！？；\n")
        return head[: cut + 1] if cut > max_chars // 2 else head

    def metadata(self) -> dict[str, str | int]:
        return self.model_dump(exclude={"text"})


@dataclass
class Block:
    kind: Literal["para", "list", "faq", "table"]
    lines: list[str]
    path: tuple[str, ...]
    caption: str = ""


@dataclass
class _Reader:
    lines: list[str]
    pos: int = 0
    path: list[tuple[int, str]] = field(default_factory=list)

    def heading_path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.path)


def _clean_heading(text: str) -> str:
    return re.sub(r"\*\*|__", "", text).strip()


def parse_blocks(body: str) -> tuple[str, list[Block]]:
    """Split a Markdown body into blocks; returns (H1 title or '', blocks)."""
    r = _Reader(body.splitlines())
    blocks: list[Block] = []
    h1 = ""
    n = len(r.lines)

    def is_table(i: int) -> bool:
        return i < n and r.lines[i].lstrip().startswith("|")

    while r.pos < n:
        line = r.lines[r.pos].rstrip()
        stripped = line.strip()
        if not stripped:
            r.pos += 1
            continue
        if m := _HEADING.match(stripped):
            level, text = len(m.group(1)), _clean_heading(m.group(2))
            if level == 1 and not h1:
                h1 = text
            else:
                while r.path and r.path[-1][0] >= level:
                    r.path.pop()
                r.path.append((level, text))
            r.pos += 1
            continue
        path = r.heading_path()
        cap = _CAPTION.match(stripped)
        if cap or stripped.startswith("|"):
            caption = cap.group(1).strip() if cap else ""
            i = r.pos + 1 if cap else r.pos
            while i < n and not r.lines[i].strip() and cap:
                i += 1
            if is_table(i):
                rows = []
                while is_table(i):
                    rows.append(r.lines[i].strip())
                    i += 1
                blocks.append(Block("table", rows, path, caption))
                r.pos = i
                continue
        if _QUESTION.match(stripped):
            faq = [stripped]
            r.pos += 1
            while r.pos < n:
                nxt = r.lines[r.pos].strip()
                # a table in the answer is its own block (rows become table_row chunks), as is a heading
                if _HEADING.match(nxt) or _QUESTION.match(nxt) or _CAPTION.match(nxt) or nxt.startswith("|"):
                    break
                faq.append(r.lines[r.pos].rstrip())
                r.pos += 1
            blocks.append(Block("faq", _trim(faq), path))
            continue
        if _ITEM.match(stripped):
            items = []
            while r.pos < n:
                cur = r.lines[r.pos].rstrip()
                if cur.strip() and not (_ITEM.match(cur) or cur[:1].isspace()):
                    break
                if not cur.strip():  # a blank line ends the list unless it continues after it
                    j = r.pos + 1
                    while j < n and not r.lines[j].strip():
                        j += 1
                    if j >= n or not (_ITEM.match(r.lines[j]) or r.lines[j][:1].isspace()):
                        break
                items.append(cur)
                r.pos += 1
            blocks.append(Block("list", _trim(items), path))
            continue
        para = []
        while r.pos < n:
            cur = r.lines[r.pos].rstrip()
            s = cur.strip()
            if not s or _HEADING.match(s) or _ITEM.match(s) or _QUESTION.match(s) or s.startswith("|"):
                break
            if _CAPTION.match(s) and para:
                break
            para.append(cur)
            r.pos += 1
        if para:
            blocks.append(Block("para", para, path))
        else:  # a lone caption line with no table after it
            blocks.append(Block("para", [stripped], path))
            r.pos += 1
    return h1, blocks


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def split_sentences(text: str) -> list[str]:
    return [s for s in (m.group(0) for m in _SENTENCE.finditer(text)) if s.strip()]


def _pieces(text: str, limit: int) -> list[str]:
    """Split an over-long paragraph at sentence ends, never inside a sentence."""
    if len(text) <= limit:
        return [text]
    out, cur = [], ""
    for sentence in split_sentences(text):
        if cur and len(cur) + len(sentence) > limit:
            out.append(cur)
            cur = ""
        cur += sentence
    if cur:
        out.append(cur)
    return out


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def table_rows(block: Block) -> tuple[list[str], list[list[str]]]:
    rows = [_cells(r) for r in block.lines]
    rows = [r for r in rows if not all(re.fullmatch(r":?-{2,}:?", c) for c in r if c)]
    if not rows:
        return [], []
    return rows[0], rows[1:]


def row_sentence(*, city_name: str, caption: str, header: list[str], row: list[str]) -> str:
    """One table row as a sentence that carries the table's title and column headers."""
    pairs = [f"{h} {v}" if h else v for h, v in zip(header, row, strict=False) if v and v not in {"-", "—"}]
    lead = caption if city_name and caption.startswith(city_name) else " ".join(x for x in (city_name, caption) if x)
    return f"{lead}：{'；'.join(pairs)}。" if lead else "；".join(pairs) + "。"


def _chunk_id(doc_id: str, section: str, kind: str, text: str) -> str:
    return hashlib.sha1(f"{doc_id}\x1f{section}\x1f{kind}\x1f{text}".encode()).hexdigest()[:16]


def chunk_markdown(
    body: str,
    *,
    doc_id: str,
    city: str,
    city_name: str,
    title: str,
    school: str | None,
    policy_year: int,
) -> list[Chunk]:
    h1, blocks = parse_blocks(body)
    out: list[Chunk] = []
    seen: set[str] = set()

    def emit(kind: Kind, path: tuple[str, ...], text: str) -> None:
        text = text.strip()
        if not text:
            return
        section = " > ".join(path) or (h1 or title)
        cid = _chunk_id(doc_id, section, kind, text)
        if cid in seen:
            return
        seen.add(cid)
        out.append(
            Chunk(chunk_id=cid, doc_id=doc_id, city=city, school=school or "", title=title,
                  section=section, policy_year=policy_year, kind=kind, order=len(out), text=text)
        )

    pending: list[str] = []  # paragraphs of the current section waiting to be merged
    pending_path: tuple[str, ...] = ()

    def flush() -> None:
        nonlocal pending
        cur = ""
        for para in pending:
            for piece in _pieces(para, MAX_TEXT_CHARS):
                if cur and len(cur) + len(piece) > MAX_TEXT_CHARS:
                    emit("text", pending_path, cur)
                    cur = ""
                cur = f"{cur}\n{piece}" if cur else piece
        emit("text", pending_path, cur)
        pending = []

    for block in blocks:
        if block.path != pending_path:
            flush()
            pending_path = block.path
        if block.kind == "para":
            pending.append("\n".join(line.strip() for line in block.lines))
        elif block.kind == "list":
            intro = ""
            if pending and pending[-1].rstrip().endswith(("：", ":")):
                intro = pending.pop()
            flush()
            emit("step", block.path, "\n".join(x for x in (intro, "\n".join(block.lines)) if x))
        elif block.kind == "faq":
            flush()
            emit("faq", block.path, "\n".join(block.lines))
        else:
            flush()
            header, rows = table_rows(block)
            caption = block.caption or (block.path[-1] if block.path else title)
            table_text = "\n".join(block.lines)
            if len(table_text) <= MAX_TABLE_AS_TEXT:
                emit("text", block.path, f"表：{caption}\n{table_text}")
            for row in rows:
                emit("table_row", block.path,
                     row_sentence(city_name=city_name, caption=caption, header=header, row=row))
    flush()
    return out
