"""Retrieval over a snapshot: lexical (BM25 over chunks) and symbol search."""
