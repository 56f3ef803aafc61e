"""Search through the web API (``GET /search``): what the desktop does on an AWS profile.

The query is read here first (a query that cannot be read gets its caret without a request);
the API then searches the caller's documents only: the request is signed (SigV4) with the
signed-in user's identity pool credentials, and API Gateway passes the caller's identity id on,
which the API filters by. DynamoDB stays the source of truth: a hit carries the document as the
index has it, and the window reads it again before it changes anything.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from dms_desktop.core.errors import AuthError, Unavailable, ValidationError
from dms_desktop.core.models import Document
from dms_desktop.core.search.index import DEFAULT_LIMIT, Highlighted, SearchHit, check_limit
from dms_desktop.core.search.query import parse_query
from dms_desktop.core.search.service import SearchResults

TIMEOUT_SECONDS = 15.0


def _highlighted(text: Any, matches: Any) -> Highlighted:
    ranges = tuple(
        (int(pair[0]), int(pair[1]))
        for pair in (matches if isinstance(matches, list) else [])
        if isinstance(pair, list) and len(pair) == 2
    )
    return Highlighted(str(text or ""), ranges)


def hit_from_json(data: dict[str, Any]) -> SearchHit:
    """A hit as ``SearchHit.to_json_dict`` wrote it."""
    document = Document.model_validate(data)
    return SearchHit(
        document=document,
        name=_highlighted(document.filename, data.get("filenameMatches")),
        score=float(data.get("score") or 0.0),
        snippet=_highlighted(data.get("snippet"), data.get("snippetMatches")),
        note=str(data.get("textNote") or ""),
    )


class ApiSearch:
    """Search the signed-in user's documents with the web API at ``api_url`` in ``region``;
    ``credentials`` gives the user's current AWS credentials (botocore's frozen credentials)."""

    def __init__(self, api_url: str, region: str, credentials: Callable[[], Any]) -> None:
        if not api_url.startswith("https://"):
            raise ValidationError(f"The web API's URL must start with https:// ({api_url!r}).")
        self._url = api_url.rstrip("/") + "/search"
        self._region = region
        self._credentials = credentials

    def _signed_headers(self, address: str) -> dict[str, str]:
        """The headers of a GET of ``address`` signed for API Gateway's IAM authorisation."""
        request = AWSRequest(method="GET", url=address, headers={"Accept": "application/json"})
        SigV4Auth(self._credentials(), "execute-api", self._region).add_auth(request)
        return {name: str(value) for name, value in request.headers.items()}

    def search(self, text: str, limit: int = DEFAULT_LIMIT) -> SearchResults:
        query = parse_query(text)
        check_limit(limit)
        started = time.perf_counter()
        address = self._url + "?" + urllib.parse.urlencode({"q": text, "limit": min(limit, 100)})
        request = urllib.request.Request(  # noqa: S310 (https only, checked above)
            address, headers=self._signed_headers(address)
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
                body = json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise _error(exc) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise Unavailable(f"The search service cannot be reached: {exc}") from exc
        hits = [hit_from_json(hit) for hit in body.get("hits", []) if isinstance(hit, dict)]
        return SearchResults(query, hits, time.perf_counter() - started)

    def tag_keys(self, prefix: str = "", limit: int = 50) -> list[str]:
        return []  # the API has no tag list: the window completes from its tag panel


def _error(exc: urllib.error.HTTPError) -> Exception:
    try:
        message = str(json.loads(exc.read()).get("message", ""))
    except (ValueError, OSError, AttributeError):
        message = ""
    if exc.code in (401, 403):
        return AuthError("The search service did not accept the sign-in; sign in again.")
    if exc.code == 400:
        return ValidationError(message or "The search service refused the query.")
    return Unavailable(f"The search service failed ({exc.code}); try again shortly.")
