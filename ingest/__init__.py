"""Knowledge ingest: load guides, chunk them by structure, index them (Chroma + BM25)."""
