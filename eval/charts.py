"""PNG charts of an eval report (matplotlib, Agg backend): accuracy by city and by intent, latency histogram.

Chinese labels need a CJK font; when matplotlib finds none, the charts use English titles and the city ids
(pinyin) instead, and never fail for lack of a font.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

CJK_FONTS = (
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Noto Serif CJK SC",
    "Source Han Sans SC", "Source Han Sans CN", "Sarasa Gothic SC", "Droid Sans Fallback", "AR PL UMing CN",
    "AR PL UKai CN", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "STHeiti",
)
COLORS = ("#2a7ab0", "#e08a2c", "#7a9a3a", "#9467bd", "#8c564b")

TEXT = {
    True: {"city": "各城市答案准确率", "intent": "各意图答案准确率", "accuracy": "答案准确率",
           "latency": "每题延迟分布", "ms": "延迟（毫秒，对数刻度）", "count": "题数", "none": "无城市"},
    False: {"city": "Answer accuracy by city", "intent": "Answer accuracy by intent",
            "accuracy": "answer accuracy", "latency": "Latency per question", "ms": "latency (ms, log scale)",
            "count": "questions", "none": "no city"},
}


def find_cjk_font(candidates: Sequence[str] = CJK_FONTS) -> str | None:
    """The first of ``candidates`` that matplotlib knows, or None."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in candidates if name in known), None)


def _pyplot(font: str | None) -> Any:
    import logging

    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # "weight normal" noise of CJK fonts
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _grouped_bars(plt: Any, path: Path, title: str, ylabel: str, labels: list[str],
                  series: Mapping[str, list[float | None]]) -> None:
    n = max(len(series), 1)
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(min(12.0, max(6.0, 0.35 * len(labels) * max(n, 2) + 2)), 4.2))
    for i, (name, values) in enumerate(series.items()):
        xs = [x + (i - (n - 1) / 2) * width for x in range(len(labels))]
        ax.bar(xs, [v or 0.0 for v in values], width, label=name, color=COLORS[i % len(COLORS)])
    ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 6 else 0, ha="right"
                  if len(labels) > 6 else "center")
    ax.set_ylim(0, 1.18)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", ncol=n, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _latency_hist(plt: Any, path: Path, title: str, xlabel: str, ylabel: str,
                  series: Mapping[str, list[float]]) -> None:
    values = [v for vs in series.values() for v in vs if v > 0]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    if values:
        lo, hi = math.log10(min(values)), math.log10(max(values))
        bins = [10 ** (lo + (hi - lo + 1e-9) * i / 30) for i in range(31)]
        for i, (name, vs) in enumerate(series.items()):
            ax.hist([v for v in vs if v > 0], bins=bins, alpha=0.55, label=name,
                    color=COLORS[i % len(COLORS)])
        ax.set_xscale("log")
        from matplotlib.ticker import FuncFormatter

        # plain tick labels: mathtext's minus sign (10^-1) is missing from CJK fonts
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.legend(fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_charts(report: Mapping[str, Any], folder: Path, *,
                 fonts: Sequence[str] = CJK_FONTS) -> dict[str, Any]:
    """Write the three charts into ``folder``; returns their file names and the font used (None: English)."""
    font = find_cjk_font(fonts)
    plt = _pyplot(font)
    t = TEXT[font is not None]
    systems: Mapping[str, Any] = report["systems"]
    names = list(systems)
    city_names: Mapping[str, str] = report.get("meta", {}).get("city_names", {})
    files = {}

    first = systems[names[0]]["summary"]
    cities = list(first["by_city"])
    if font:
        city_labels = [t["none"] if c == "none" else city_names.get(c, c) for c in cities]
    else:
        city_labels = [t["none"] if c == "none" else c for c in cities]
    by_city = {n: [systems[n]["summary"]["by_city"].get(c, {}).get("answer_accuracy") for c in cities]
               for n in names}
    _grouped_bars(plt, folder / "accuracy_by_city.png", t["city"], t["accuracy"], city_labels, by_city)
    files["accuracy_by_city"] = "accuracy_by_city.png"

    intents = list(first["by_intent"])
    by_intent = {n: [systems[n]["summary"]["by_intent"].get(i, {}).get("answer_accuracy") for i in intents]
                 for n in names}
    _grouped_bars(plt, folder / "accuracy_by_intent.png", t["intent"], t["accuracy"], intents, by_intent)
    files["accuracy_by_intent"] = "accuracy_by_intent.png"

    lat = {n: [v for r in systems[n]["results"] for v in r.get("latencies_ms") or []] for n in names}
    _latency_hist(plt, folder / "latency.png", t["latency"], t["ms"], t["count"], lat)
    files["latency"] = "latency.png"
    return {"files": files, "font": font}
