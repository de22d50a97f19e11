"""Chinese tokenization for BM25: an owned jieba Tokenizer with the domain dictionary, plus query expansion.

The tokenizer is created lazily and never touches jieba's global dictionary (thread-safe in a server).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

import jieba
import yaml

TOKENIZER_VERSION = 2  # bump when tokenize() changes: stored BM25 tokens are then rebuilt
USER_DICT = "user_dict.txt"
SYNONYMS = "synonyms.yaml"

STOPWORDS = frozenset(
    """的 了 吗 呢 啊 吧 呀 嘛 么 是 我 我们 你 你们 他 她 它 在 和 与 及 或 有 要 能 会 可以 可 请问 请 一下
    这个 那个 这 那 就 都 也 还 又 怎么 怎么办 怎样 如何 什么 咋 咋办 哪 哪里 哪儿 多少 几 吗 想 需要 应该 该
    啥 么 之 为 以 对 从 到 给 被 把 让 等 其 该 及其 并 而 但 如果 因为 所以 已经 没有 不 没""".split()
)
_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff%％]")


def dictionary_hash(dict_dir: Path) -> str:
    digest = hashlib.sha256(f"tokenizer-{TOKENIZER_VERSION}".encode())
    for name in (USER_DICT, SYNONYMS):
        path = dict_dir / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:16]


def load_synonyms(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): [str(v) for v in (vals or [])] for k, vals in data.items()}


@lru_cache(maxsize=1024)
def _english(phrase: str) -> re.Pattern[str]:
    """An English phrase as a whole word, any case, plural allowed: "fee" finds "Fees", not "coffee"."""
    return re.compile(rf"(?<![a-z]){re.escape(phrase.lower())}(?:s|es)?(?![a-z])", re.IGNORECASE)


def _says(text: str, phrase: str) -> bool:
    return bool(_english(phrase).search(text)) if phrase.isascii() else phrase in text


def expand_query(text: str, synonyms: dict[str, list[str]]) -> str:
    """Append the guide terms for colloquial phrases found in ``text`` (pure). Chinese phrases match as
    substrings, English ones as whole words in any case."""
    extra: list[str] = []
    for phrase, terms in synonyms.items():
        if _says(text, phrase):
            extra += [t for t in terms if t not in text and t not in extra]
    return f"{text} {' '.join(extra)}" if extra else text


class DomainTokenizer:
    def __init__(self, dict_dir: Path | None = None) -> None:
        self.dict_dir = dict_dir
        self._jieba: jieba.Tokenizer | None = None
        self._lock = threading.Lock()
        self.synonyms = load_synonyms(dict_dir / SYNONYMS) if dict_dir else {}
        # answers score the same guide sentences again and again: keep their tokens
        self.tokenize_cached = lru_cache(maxsize=50_000)(lambda text: tuple(self.tokenize(text)))

    def _tokenizer(self) -> jieba.Tokenizer:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    jieba.setLogLevel(logging.WARNING)
                    tk = jieba.Tokenizer()
                    tk.initialize()
                    if self.dict_dir and (self.dict_dir / USER_DICT).exists():
                        tk.load_userdict(str(self.dict_dir / USER_DICT))
                    self._jieba = tk
        return self._jieba

    def cut_all_chars(self, text: str) -> list[str]:
        """Segmentation that keeps every character (spaces and punctuation included), for aligning positions."""
        return list(self._tokenizer().cut(text, HMM=False))

    def cut(self, text: str) -> list[str]:
        """Plain segmentation (used by tests to pin domain terms)."""
        return [w for w in self._tokenizer().cut(text) if w.strip()]

    def tokenize(self, text: str) -> list[str]:
        """Search-mode tokens for BM25: compounds and their parts, lowercased, stop words dropped.

        jieba's search mode only adds 2- and 3-character parts; longer dictionary words inside a compound are
        added too, so 乌鲁木齐市 also yields 乌鲁木齐 and 异地就医备案登记 yields 异地就医备案.
        """
        tk = self._tokenizer()
        words: list[str] = []
        for w in tk.cut_for_search(text.lower()):
            words.append(w)
            for size in range(4, len(w)):
                words += [w[i:i + size] for i in range(len(w) - size + 1) if tk.FREQ.get(w[i:i + size])]
        return [w for w in words if w.strip() and _TOKEN_OK.search(w) and w not in STOPWORDS]

    def expand(self, text: str) -> str:
        return expand_query(text, self.synonyms)
