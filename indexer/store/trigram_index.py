"""The trigram index: one tantivy document per stored blob, keyed by blob number.

Two trigram fields (as written, and lower-cased for case-insensitive search) indexed with doc
ids only. tantivy facts that shape this module (measured with tantivy-py 0.27): tokenizers are
not stored in the index, so they are registered after every open; `term_query` does not analyse
its text, so query terms are built in the field's own form; a huge `limit` aborts the process,
so limits come from `searcher.num_docs`; `reload()` is needed after a commit.
"""

from __future__ import annotations

from pathlib import Path

import tantivy

from indexer.regex.plan import Query

TRI = "tri"
TRI_CI = "tri_ci"
FLAGS = "flags"
TINY = "tiny"  # a blob shorter than three characters: it holds no trigram at all


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("blob_no", stored=False, indexed=True, fast=True)
    builder.add_text_field(TRI, tokenizer_name=TRI, index_option="basic")
    builder.add_text_field(TRI_CI, tokenizer_name=TRI_CI, index_option="basic")
    builder.add_text_field(FLAGS, tokenizer_name="raw", index_option="basic")
    return builder.build()


def _register_tokenizers(index: tantivy.Index) -> None:
    ngram = tantivy.Tokenizer.ngram(min_gram=3, max_gram=3, prefix_only=False)
    index.register_tokenizer(TRI, tantivy.TextAnalyzerBuilder(ngram).build())
    index.register_tokenizer(
        TRI_CI, tantivy.TextAnalyzerBuilder(ngram).filter(tantivy.Filter.lowercase()).build())


def _regex_escape(text: str) -> str:
    return "".join(c if c.isalnum() and ord(c) < 128 else f"\\x{{{ord(c):X}}}" for c in text)


class TrigramIndex:
    def __init__(self, path: Path | None) -> None:
        """An index in `path`, or in memory when `path` is None (tests)."""
        self.path = path
        self.schema = _schema()
        if path is None:
            self.index = tantivy.Index(self.schema)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        _register_tokenizers(self.index)
        self._writer: tantivy.IndexWriter | None = None
        self._uncommitted = False

    # --- writing ---
    def writer(self, expected_docs: int | None = None) -> tantivy.IndexWriter:
        """The index's writer, opened on first use. A few documents (a fork, a saved file) get
        one indexing thread: each thread writes a segment of its own, and every segment costs
        a round of fsyncs at commit."""
        if self._writer is None:
            small = self.path is None or (expected_docs is not None and expected_docs < 2000)
            self._writer = self.index.writer(heap_size=50_000_000 if small else 256_000_000,
                                             num_threads=1 if small else 2)
        return self._writer

    def add(self, blob_no: int, text: str) -> None:
        doc = tantivy.Document(tri=text, tri_ci=text)
        doc.add_unsigned("blob_no", blob_no)
        if len(text) < 3:
            doc.add_text(FLAGS, TINY)
        self.writer().add_document(doc)
        self._uncommitted = True

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._uncommitted = False

    def close_writer(self) -> None:
        if self._writer is not None:
            if self._uncommitted:  # a commit with nothing new still costs its fsyncs
                self._writer.commit()
                self._uncommitted = False
            self._writer.wait_merging_threads()
            self._writer = None

    def rollback(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
            self._writer = None
            self._uncommitted = False

    # --- reading ---
    def to_tantivy(self, query: Query, lowered: bool) -> tantivy.Query:
        field = TRI_CI if lowered else TRI
        if query.op == "all":
            return tantivy.Query.all_query()
        if query.op == "none":
            return tantivy.Query.empty_query()
        if query.op == "tri":
            return tantivy.Query.term_query(self.schema, field, query.text)
        if query.op == "pair":
            a = _regex_escape(query.text)
            pair = tantivy.Query.regex_query(self.schema, field, f"{a}(?s:.)|(?s:.){a}")
            tiny = tantivy.Query.term_query(self.schema, FLAGS, TINY)
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, pair), (tantivy.Occur.Should, tiny)])
        occur = tantivy.Occur.Must if query.op == "and" else tantivy.Occur.Should
        return tantivy.Query.boolean_query(
            [(occur, self.to_tantivy(sub, lowered)) for sub in query.args])

    def candidates(self, query: Query, lowered: bool) -> list[int]:
        """Blob numbers of every document satisfying the trigram query."""
        searcher = self.index.searcher()
        limit = searcher.num_docs
        if limit == 0:
            return []
        result = searcher.search(self.to_tantivy(query, lowered), limit=limit, count=False,
                                 order_by_field="blob_no", order=tantivy.Order.Asc)
        return [key for key, _ in result.hits]

