"""Searching for one signed-in user: what the CLI and the window call.

A :class:`DocumentSearch` answers a query typed in the query language with hits, best first.
``connect.open_search`` gives the right one for a profile: on the sandbox the embedded index in
its data folder (:class:`IndexSearch`), on AWS the web API's ``GET /search`` (``api_client``).
The user id is always the signed-in user's, never something typed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from dms_desktop.core.search.index import (
    DEFAULT_LIMIT,
    SearchHit,
    SearchIndex,
    check_limit,
    outside_the_trash,
)
from dms_desktop.core.search.query import SearchQuery, parse_query


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    hits: list[SearchHit]
    seconds: float  # how long the index took


class DocumentSearch(Protocol):
    def search(self, text: str, limit: int = DEFAULT_LIMIT) -> SearchResults:
        """The documents matching ``text`` (QuerySyntaxError if it cannot be read)."""
        ...

    def tag_keys(self, prefix: str = "", limit: int = 50) -> list[str]:
        """The user's tags starting with ``prefix`` (casefolded), for completion."""
        ...


class IndexSearch:
    """Search one user's documents in an index this process can read."""

    def __init__(self, index: SearchIndex, user_id: str) -> None:
        self._index = index
        self._user_id = user_id

    def search(self, text: str, limit: int = DEFAULT_LIMIT) -> SearchResults:
        query = parse_query(text)
        check_limit(limit)
        started = time.perf_counter()
        hits = outside_the_trash(self._index.search(self._user_id, query, limit))
        return SearchResults(query, hits, time.perf_counter() - started)

    def tag_keys(self, prefix: str = "", limit: int = 50) -> list[str]:
        return self._index.tag_keys(self._user_id, prefix, limit)
