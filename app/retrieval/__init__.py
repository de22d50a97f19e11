"""Hybrid retrieval over the built index: BM25 (jieba) + dense (Chroma), fused by reciprocal rank."""
