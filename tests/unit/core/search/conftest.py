"""Both search indexes, for the tests that every index must pass: the embedded one (tantivy in a
folder) and the OpenSearch one against a real OpenSearch-compatible server (osmem-server)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core.search.embedded import EmbeddedIndex
from dms_desktop.core.search.extract import TextCache
from dms_desktop.core.search.indexer import StreamIndexer
from tests.support.search import Bodies


@pytest.fixture(params=["embedded", "opensearch"])
def search_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "embedded":
        index = EmbeddedIndex(tmp_path / "index", writable=True)
    else:
        from opensearchpy import OpenSearch

        from dms_desktop.core.search.opensearch import OpenSearchIndex

        url = request.getfixturevalue("opensearch_url")
        client = OpenSearch(hosts=[url], timeout=30)
        index = OpenSearchIndex(client, f"test-{uuid.uuid4().hex[:12]}", refresh=True)
        index.ensure_index()
    try:
        yield index
    finally:
        index.close()


@pytest.fixture
def bodies() -> Bodies:
    return Bodies()


@pytest.fixture
def indexer(search_index: Any, bodies: Bodies, tmp_path: Path) -> StreamIndexer:
    return StreamIndexer(search_index, bodies.read, TextCache(tmp_path / "texts"))
