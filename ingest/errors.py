from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """A problem with one input file; the message is Chinese and names the file."""

    def __init__(self, path: Path | str | None, problem: str) -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)
