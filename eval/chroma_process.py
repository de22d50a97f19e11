"""A throw-away Chroma server (``chroma run``, the CLI that comes with chromadb) on 127.0.0.1 that can be
stopped and started again on the same port: the fault benchmark and the Chroma-server tests use it to take the
vectors away mid-load. Its data stays in ``path`` across restarts unless another path is given."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

CHROMA = Path(sys.executable).parent / "chroma"


class ChromaProcess:
    def __init__(self, port: int, path: Path, log: Path) -> None:
        self.port, self.path, self.log = port, path, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, path: Path | None = None, timeout: float = 30) -> float:
        """Start (on ``path`` if given, from then on) and wait until its heartbeat answers; returns the
        seconds that took."""
        self.path = path or self.path
        started = time.perf_counter()
        args = ["run", "--host", "127.0.0.1", "--port", str(self.port), "--path", str(self.path)]
        with open(self.log, "ab") as log:  # its own process group: kill() takes anything it started with it
            self.proc = subprocess.Popen([str(CHROMA), *args], stdout=log, stderr=subprocess.STDOUT,
                                         env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
                                         start_new_session=True)
        while time.perf_counter() - started < timeout:
            try:
                httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).raise_for_status()
                return time.perf_counter() - started
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    tail = self.log.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"chroma run exited ({self.proc.returncode}); port {self.port} "
                                       f"taken?\n{tail}") from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("chroma run did not answer its heartbeat in time")

    def stop(self) -> None:
        """Shut it down (SIGTERM, then SIGKILL after 10 s)."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill it (SIGKILL: an outage, not a graceful shutdown)."""
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def collections(self) -> dict[str, int]:
        """Collection name → number of vectors."""
        from ingest import chroma_server

        with chroma_server.connected(self.url) as client:
            return {c.name: c.count() for c in client.list_collections()}
