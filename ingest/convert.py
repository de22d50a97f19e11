"""Turn a new guide given as .txt, .docx or a text PDF into the Markdown form of ``knowledge/FORMAT.md``.

The conversion is deliberately plain: headings from Chinese outline numbering (一、 （一） 1.), joined broken
lines, ordered lists and pipe tables. A human can refine the result (``yibao convert`` writes it out).
"""

from __future__ import annotations

import re
from pathlib import Path

_H2 = re.compile(r"^[一二三四五六七八九十]+、\S")
_H3 = re.compile(r"^[（(][一二三四五六七八九十]+[）)]\s*\S")
_ITEM = re.compile(r"^(\d{1,2})[.、．)）]\s*(\S.*)$")
_SENTENCE_END = tuple("。！？；：:;!?）)」”")


def with_front_matter(meta_yaml: str, body: str) -> str:
    return f"---\n{meta_yaml.strip()}\n---\n\n{body.strip()}\n"


def _is_block_start(line: str) -> bool:
    return bool(_H2.match(line) or _H3.match(line) or _ITEM.match(line) or line.startswith(("#", "|", "-")))


def plain_text_to_markdown(text: str) -> str:
    """Outline-numbered plain text (OCR or export) → Markdown blocks."""
    out: list[str] = []
    para = ""

    def flush() -> None:
        nonlocal para
        if para:
            out.append(para)
            out.append("")
            para = ""

    for raw in text.splitlines():
        line = re.sub(r"[ \t\u3000]+", " ", raw).strip()
        if not line or re.fullmatch(r"[-—\d\s/第页]+", line):  # blank, page numbers
            flush() if para.endswith(_SENTENCE_END) else None
            continue
        if _H2.match(line) and len(line) <= 40:
            flush()
            out += [f"## {line}", ""]
        elif _H3.match(line) and len(line) <= 40:
            flush()
            out += [f"### {line}", ""]
        elif m := _ITEM.match(line):
            flush()
            para = f"{m.group(1)}. {m.group(2)}"
        elif para and not para.endswith(_SENTENCE_END) and not _is_block_start(line):
            para += line  # a sentence broken across lines
        else:
            flush()
            para = line
    flush()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def text_file_to_markdown(text: str, sidecar_meta: str) -> str:
    """A .txt guide: its own front-matter if it has one, else the sidecar's."""
    if text.lstrip("\ufeff").startswith("---"):
        head, _, rest = text.lstrip("\ufeff")[3:].partition("\n---")
        return with_front_matter(head, plain_text_to_markdown(rest.partition("\n")[2]))
    if not sidecar_meta:
        return text  # parse_guide reports the missing front-matter
    return with_front_matter(sidecar_meta, plain_text_to_markdown(text))


def _table_to_markdown(rows: list[list[str]]) -> str:
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    rows = [[c.replace("|", "／").replace("\n", " ").strip() for c in r] + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def docx_to_markdown(path: Path) -> str:
    import docx  # python-docx, imported only when a .docx guide is given

    document = docx.Document(str(path))
    parts: list[str] = []
    body = document.element.body
    tables = {t._tbl: t for t in document.tables}
    paragraphs = {p._p: p for p in document.paragraphs}
    last_text = ""
    counter = 0  # Word's automatic numbering ("List Number") is not in the paragraph text
    for element in body.iterchildren():
        if element in paragraphs:
            para = paragraphs[element]
            text = para.text.strip()
            if not text:
                continue
            style = (para.style.name or "").lower() if para.style is not None else ""
            numbered = style.startswith("list number") or para._p.pPr is not None and para._p.pPr.numPr is not None
            counter = counter + 1 if numbered else 0
            if numbered:
                parts.append(f"{counter}. {text}")
            elif style.startswith("heading") or style.startswith("标题"):
                level = int(re.sub(r"\D", "", style) or 1)
                parts.append("#" * min(level + 1, 4) + " " + text)
            elif style.startswith("title"):
                parts.append("# " + text)
            else:
                parts.append(plain_text_to_markdown(text).strip())
            last_text = text
        elif element in tables:
            rows = [[cell.text for cell in row.cells] for row in tables[element].rows]
            caption = last_text if len(last_text) <= 30 else "表格"
            parts.append(f"表：{caption}\n" + _table_to_markdown(rows))
    return "\n\n".join(p for p in parts if p) + "\n"


def pdf_to_markdown(path: Path) -> str:
    from pypdf import PdfReader  # imported only when a PDF guide is given

    reader = PdfReader(str(path))
    text = "\n".join((page.extract_text() or "") for page in reader.pages)
    return plain_text_to_markdown(text)
