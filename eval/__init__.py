"""Evaluation and benchmarks for yibao (question sets, scorers, reports)."""
