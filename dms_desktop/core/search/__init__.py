"""Search: the query language, text extraction, the stream indexer and the search indexes.

One query language for the CLI, the window and the web API (``query``); one indexer that keeps
an index in step with the Documents table's stream (``indexer``), whether it runs in the local
sandbox (an embedded tantivy index, ``embedded``) or in a Lambda function (OpenSearch,
``opensearch``). See docs/search.md.
"""
