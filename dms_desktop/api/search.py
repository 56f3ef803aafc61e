"""``GET /search?q=QUERY[&limit=N]``: the caller's documents that match a query.

The query is the one language of the CLI and the window (core.search.query). The OpenSearch
index holds everyone's documents; this handler always searches with the caller's user id, the
identity id API Gateway authorised (handlers.caller_id), as a filter (never a user id from the
request). Answers:
200 ``{"hits": [...]}`` (each the document's fields, score, snippet and where it matched), 400
for a query that cannot be read (``message`` points at the bad part, ``position`` is its
``[start, end)``), 503 when the index cannot be reached.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3

from ..core.errors import ConfigError
from ..core.search.index import DEFAULT_LIMIT, MAX_LIMIT, outside_the_trash
from ..core.search.opensearch import (
    SEARCH_ENDPOINT_VARIABLE,
    SEARCH_SERVICE_VARIABLE,
    OpenSearchIndex,
    signed_client,
)
from ..core.search.query import QuerySyntaxError, parse_query
from .backend import Backend
from .handlers import Call, Reply, _endpoint
from .inputs import InvalidInput

MAX_API_LIMIT = 100


@cache
def current_index() -> OpenSearchIndex:
    """This container's OpenSearch index (``current_index.cache_clear()`` forgets it)."""
    endpoint = os.environ.get(SEARCH_ENDPOINT_VARIABLE)
    if not endpoint:
        raise ConfigError(f"The function's environment lacks {SEARCH_ENDPOINT_VARIABLE}.")
    session = boto3.session.Session()
    region = session.region_name or os.environ.get("AWS_REGION", "us-east-1")
    service = os.environ.get(SEARCH_SERVICE_VARIABLE, "es")
    return OpenSearchIndex(signed_client(endpoint, region, service, session))


def _limit(parameters: dict[str, Any]) -> int:
    raw = parameters.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(str(raw))
    except ValueError:
        limit = 0
    if not 1 <= limit <= min(MAX_LIMIT, MAX_API_LIMIT):
        raise InvalidInput({"limit": f"a whole number from 1 to {MAX_API_LIMIT}"})
    return limit


@_endpoint("SearchDocuments")
def search_documents(call: Call, _backend: Backend) -> Reply:
    """The caller's documents matching ``q``, best first."""
    parameters = call.event.get("queryStringParameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    text = parameters.get("q")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput({"q": "the query: words, fields such as tag:x, OR, parentheses"})
    limit = _limit(parameters)
    call.summary.update(queryChars=len(text), limit=limit)  # never the query itself
    try:
        query = parse_query(text)
    except QuerySyntaxError as error:
        return Reply(
            400,
            {
                "error": "InvalidQuery",
                "message": str(error),
                "position": [error.start, error.end],
            },
            "invalid",
        )
    hits = outside_the_trash(current_index().search(call.user_id, query, limit))
    call.summary["returned"] = len(hits)
    return Reply(200, {"hits": [hit.to_json_dict() for hit in hits]})
