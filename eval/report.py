"""The eval report: ``report.json`` (everything), ``report.md`` (tables people read) and PNG charts.

:func:`build_report` adds the comparison (yibao ÷ each baseline) and the worst items to a run of
:func:`eval.runner.evaluate`; :func:`render_markdown` is pure; :func:`write_report` writes the folder.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.scoring import NO_CITY, turns_of

WORST = 20
log = logging.getLogger(__name__)

METRICS = (  # (key in the summary, label, kind)
    ("answer_accuracy", "answer accuracy", "pct"),
    ("fact_recall", "fact recall", "pct"),
    ("citation_accuracy", "citation accuracy (precision)", "pct"),
    ("citation_hit_rate", "citation hit rate", "pct"),
    ("city_accuracy", "city accuracy", "pct"),
    ("intent_accuracy", "intent accuracy", "pct"),
    ("calc_exact", "calculator exact (to the cent)", "pct"),
)


# ---- building ------------------------------------------------------------------------------------------
def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def comparison(systems: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    """yibao ÷ each baseline: answer accuracy and p50 latency (>1: yibao more accurate / slower)."""
    names = list(systems)
    main = systems[names[0]]["summary"]["overall"]
    out = {}
    for name in names[1:]:
        base = systems[name]["summary"]["overall"]
        out[name] = {
            "accuracy_ratio": _ratio(main["answer_accuracy"], base["answer_accuracy"]),
            "p50_latency_ratio": _ratio(main["latency_ms"]["p50"], base["latency_ms"]["p50"]),
            "p95_latency_ratio": _ratio(main["latency_ms"]["p95"], base["latency_ms"]["p95"]),
        }
    return out


def question_text(item: Mapping[str, Any]) -> str:
    return " ⏎ ".join(t["question"] for t in turns_of(item))


def worst_items(results: Sequence[Mapping[str, Any]], items: Sequence[Mapping[str, Any]],
                n: int = WORST) -> list[dict[str, Any]]:
    """The ``n`` worst wrong answers: lowest fact recall first, then no expected source cited."""
    questions = {it.get("id"): question_text(it) for it in items}
    wrong = [r for r in results if not r.get("correct")]

    def key(r: Mapping[str, Any]) -> tuple[float, bool, str]:
        recall = r.get("fact_recall")
        return (0.0 if recall is None else float(recall), bool(r.get("citation_hit")), str(r.get("id")))

    out = []
    for r in sorted(wrong, key=key)[:n]:
        turns = r.get("turns") or [{}]
        bad = next((i for i, t in enumerate(turns) if not t.get("correct")), 0)
        cited = r.get("citations") or []
        out.append({
            "id": r.get("id"), "city": r.get("city"), "intent": r.get("intent"), "tags": r.get("tags"),
            "question": questions.get(r.get("id"), ""), "answer": turns[bad].get("answer") or "",
            "reasons": list(r.get("reasons") or []), "fact_recall": r.get("fact_recall"),
            "cited": cited[bad] if bad < len(cited) else [],
        })
    return out


def build_report(run: Mapping[str, Any], items: Sequence[Mapping[str, Any]],
                 meta: Mapping[str, Any]) -> dict[str, Any]:
    """Everything of a run, machine-readable: meta, each system's summary and results, ratios, worst items."""
    systems = run["systems"]
    first = next(iter(systems))
    return {
        "meta": dict(meta),
        "items": run["items"],
        "questions": sum(len(turns_of(it)) for it in items),
        "system": first,
        "baselines": list(systems)[1:],
        "comparison": comparison(systems),
        "worst": worst_items(systems[first]["results"], items),
        "systems": systems,
    }


# ---- rendering -----------------------------------------------------------------------------------------
def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def _ms(v: float | None) -> str:
    return "—" if v is None else (f"{v:.0f} ms" if v >= 100 else f"{v:.1f} ms")


def _x(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}×"


def _cell(text: Any, limit: int | None = None) -> str:
    s = " ".join(str(text or "").split())
    if limit and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s.replace("|", "\\|")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> list[str]:
    align = align or "l" + "r" * (len(head) - 1)
    seps = ["---" if a == "l" else "---:" for a in align]
    return ["| " + " | ".join(head) + " |", "| " + " | ".join(seps) + " |",
            *("| " + " | ".join(r) + " |" for r in rows), ""]


def _overall(report: Mapping[str, Any]) -> list[str]:
    systems = report["systems"]
    names = list(systems)
    rows = []
    for key, label, _ in METRICS:
        rows.append([label, *(_pct(systems[n]["summary"]["overall"][key]) for n in names)])
    rows.append(["calculator items", *(str(systems[n]["summary"]["overall"]["calc_n"]) for n in names)])
    for q in ("p50", "p95"):
        rows.append([f"latency {q}",
                     *(_ms(systems[n]["summary"]["overall"]["latency_ms"][q]) for n in names)])
    rows.append(["run time", *(f"{systems[n].get('seconds', 0):.1f} s" for n in names)])
    return _table(["metric", *(f"**{n}**" if i == 0 else n for i, n in enumerate(names))], rows)


def _ratios(report: Mapping[str, Any]) -> list[str]:
    if not report["comparison"]:
        return ["No baseline in this run (`--no-baselines`).", ""]
    rows = [[f"{report['system']} ÷ {name}", _x(c["accuracy_ratio"]), _x(c["p50_latency_ratio"]),
             _x(c["p95_latency_ratio"])] for name, c in report["comparison"].items()]
    return [*_table(["ratio", "answer accuracy", "p50 latency", "p95 latency"], rows),
            "An accuracy ratio above 1 means yibao answers more items fully right; a latency ratio above 1 "
            "means yibao is slower by that factor.", ""]


def _label(group: str, key: str, names: Mapping[str, str]) -> str:
    if group == "by_city":
        return "— (no city expected)" if key == NO_CITY else f"{names.get(key, key)} ({key})"
    return key


def _breakdown(report: Mapping[str, Any], group: str, title: str) -> list[str]:
    systems = report["systems"]
    names = list(systems)
    first = systems[names[0]]["summary"][group]
    city_names = report["meta"].get("city_names", {})
    head = [title, "n", *(f"{n} acc." for n in names), f"{names[0]} fact recall", f"{names[0]} cite hit",
            f"{names[0]} p50"]
    rows = []
    for key, s in first.items():
        accs = [_pct(systems[n]["summary"][group].get(key, {}).get("answer_accuracy")) for n in names]
        rows.append([_label(group, key, city_names), str(s["n"]), *accs, _pct(s["fact_recall"]),
                     _pct(s["citation_hit_rate"]), _ms(s["latency_ms"]["p50"])])
    return _table(head, rows)


def _worst(report: Mapping[str, Any]) -> list[str]:
    worst = report["worst"]
    wrong = sum(1 for r in report["systems"][report["system"]]["results"] if not r.get("correct"))
    if not worst:
        return ["Every item was answered correctly.", ""]
    lines = [f"{wrong} of {report['items']} items are wrong; the {len(worst)} worst "
             "(lowest fact recall first):", ""]
    rows = [[f"`{w['id']}`", _cell(w["question"], 90), _cell(w["answer"], 160),
             _cell("; ".join(w["reasons"]), 200)] for w in worst]
    return [*lines, *_table(["id", "question", "answer (excerpt)", "what was missing"], rows, "llll")]


def render_markdown(report: Mapping[str, Any]) -> str:
    meta = report["meta"]
    names = list(report["systems"])
    out = [f"# yibao evaluation: {meta.get('set')} set, {meta.get('started', '')}", ""]
    out += [f"- **{report['items']} items** ({report['questions']} questions), target: {meta.get('target')}",
            f"- index: {meta.get('index', '—')}; embedder: {meta.get('embedding', '—')}; "
            f"commit: {meta.get('commit') or '—'}"]
    for name, desc in (meta.get("descriptions") or {}).items():
        out.append(f"- {name}: {desc}")
    out += ["- every system is scored by the same scorers (`eval/scoring.py`) on the same items; baselines "
            "never ask for clarification, refuse, or calculate", ""]
    out += ["## Overall", "", *_overall(report), *_ratios(report)]
    charts = meta.get("charts") or {}
    if charts.get("files"):
        font = charts.get("font")
        out += ["## Charts", "", f"Font: {font}." if font else
                "No CJK font found by matplotlib: chart labels are English / city ids.", ""]
        out += [f"![{k}]({v})" for k, v in charts["files"].items()] + [""]
    elif charts.get("error"):
        out += ["## Charts", "", f"Charts not drawn: {charts['error']}", ""]
    out += ["## By city", "", *_breakdown(report, "by_city", "city")]
    out += ["## By intent", "", "First expected intent of each item.", "",
            *_breakdown(report, "by_intent", "intent")]
    out += ["## By tag", "", "An item counts under each of its tags.", "",
            *_breakdown(report, "by_tag", "tag")]
    out += [f"## Worst {WORST} items ({names[0]})", "", *_worst(report)]
    out += ["## Metrics", "",
            "- **answer accuracy**: every fact group present, nothing forbidden, and the right clarify / "
            "refuse behaviour (multi-turn: every turn).",
            "- **fact recall**: share of expected fact groups present. **citation accuracy**: share of "
            "citations from an expected doc and section. **citation hit rate**: an expected source is cited.",
            "- **latency**: wall time of each call, measured by the runner (HTTP included in `--against` "
            "mode); one untimed warm-up question per system first.",
            "- The naive baseline cites the guide a chunk came from with an empty section, so it scores no "
            "citation match where the expected source names a section.", ""]
    return "\n".join(out)


def write_report(report: dict[str, Any], folder: Path, *, charts: bool = True) -> list[Path]:
    """Write charts, ``report.md`` and ``report.json`` into ``folder``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    if charts:
        try:
            from eval.charts import write_charts

            drawn = write_charts(report, folder)
            report["meta"]["charts"] = drawn
            paths += [folder / f for f in drawn["files"].values()]
        except ImportError as exc:  # matplotlib is in the 'eval' extra
            report["meta"]["charts"] = {"error": f"{exc} (pip install -e '.[eval]')"}
            log.warning("charts skipped: %s", exc)
    md, js = folder / "report.md", folder / "report.json"
    md.write_text(render_markdown(report), encoding="utf-8")
    js.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return [md, js, *paths]
