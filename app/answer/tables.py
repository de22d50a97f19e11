"""A table's figures in one line, for a lead that would otherwise be one of its rows (pure: no I/O).

"武汉住院起付线多少" is answered by a table with a row per hospital level; leading with one row (the 一级 row)
answers for one level only. The summary takes, from the whole table as the guide prints it, the column that
tells the rows apart (医疗机构级别) and the columns the question asks about (起付标准, 报销比例), verbatim:

    武汉 大学生住院起付标准和报销比例（按医疗机构级别）：三级医疗机构 起付标准 800元、报销比例 60%；二级医疗机构 …
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

TABLE_PREFIX = "表："
MAX_ROWS = 8
MAX_CHARS = 260
_DIGIT = re.compile(r"\d")
PLACEHOLDERS = {"", "-", "—"}


@dataclass(frozen=True)
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def is_row_of(row_text: str, table_text: str) -> bool:
    """A table-row chunk's sentence starts with its table's caption: ``<caption>：<header> <cell>；…``."""
    first = table_text.split("\n", 1)[0]
    return first.startswith(TABLE_PREFIX) and row_text.startswith(f"{first[len(TABLE_PREFIX):].strip()}：")


def parse_table(text: str) -> Table | None:
    """A table chunk's text (``表：<caption>`` then a pipe table) → its caption, header and rows."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 3 or not lines[0].startswith(TABLE_PREFIX) or not lines[1].lstrip().startswith("|"):
        return None
    header = _cells(lines[1])
    rows = [_cells(ln) for ln in lines[3:] if ln.lstrip().startswith("|")]
    rows = [r + [""] * (len(header) - len(r)) for r in rows if len(r) <= len(header)]
    return Table(lines[0][len(TABLE_PREFIX):].strip(), header, rows) if rows else None


def _key_columns(rows: list[list[str]], candidates: list[int]) -> list[int]:
    """The fewest columns (one, else two) whose values tell every row apart; else all candidates."""
    def unique(cols: tuple[int, ...]) -> bool:
        return len({tuple(r[i] for i in cols) for r in rows}) == len(rows)

    clean = [i for i in candidates if not any(r[i] in PLACEHOLDERS for r in rows)]  # no "—" as a label
    for i in sorted(clean, key=lambda i: -len({r[i] for r in rows})):
        if unique((i,)):
            return [i]
    for a, i in enumerate(candidates):
        for j in candidates[a + 1:]:
            if unique((i, j)):
                return [i, j]
    return candidates


def summarize(table: Table, asks: Callable[[str], bool], names: Callable[[str], bool]) -> str | None:
    """One line: for each row, the values that tell it apart and the asked columns' values. ``asks(header)``:
    the question asks for this column; ``names(labels)``: the question names this row (住院 among 门急诊/住院
    rows), and then only such rows are kept. None when the table is too
    big, no column with figures is asked about, or nothing tells the rows apart."""
    columns = list(zip(*table.rows, strict=True))
    figures = {i for i, col in enumerate(columns) if any(_DIGIT.search(v) for v in col)}
    asked = [i for i, h in enumerate(table.header) if i in figures and asks(h)]
    plain = [i for i in range(len(table.header)) if i not in figures]
    if not asked or not plain:
        return None
    rows = [r for r in table.rows if names(" ".join(r[i] for i in plain))]
    named = 0 < len(rows) < len(table.rows)
    rows = rows if named else table.rows
    if len(rows) > MAX_ROWS:
        return None
    varying = [i for i in plain if len({r[i] for r in rows}) > 1]
    if not varying and not named:
        return None
    key = _key_columns(rows, varying) if varying else [plain[0]]
    # rows a label does not tell apart with different asked values (一般人员 in three 报销区间 rows, each its own
    # 报销比例) are told apart by the figure column that varies, with its header; rows that say the same (一般人员
    # 年起付线 21000元 three times) are said once
    values = ["、".join(f"{table.header[i]} {row[i]}" for i in asked if row[i] not in PLACEHOLDERS) for row in rows]
    said: dict[tuple[str, ...], set[str]] = {}
    for row, value in zip(rows, values, strict=True):
        said.setdefault(tuple(row[i] for i in key), set()).add(value)
    figure_key: list[int] = []
    if any(len(v) > 1 for v in said.values()):
        figure_key = next(([i] for i in sorted(figures - set(asked))
                           if len({tuple(r[j] for j in [*key, i]) for r in rows}) == len(rows)), [])
    parts: list[str] = []
    for row, value in zip(rows, values, strict=True):
        label = [row[i] for i in key if row[i] not in PLACEHOLDERS]
        label += [f"{table.header[i]} {row[i]}" for i in figure_key if row[i] not in PLACEHOLDERS]
        if value and (part := f"{' '.join(label)} {value}") not in parts:
            parts.append(part)
    text = f"{table.caption}：{'；'.join(parts)}。"
    return text if parts and (named or len(parts) > 1) and len(text) <= MAX_CHARS else None
