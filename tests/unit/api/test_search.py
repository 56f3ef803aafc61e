"""GET /search with two callers, against a real OpenSearch-compatible server (osmem-server):
each finds only their own documents, whatever they ask."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.credentials import ReadOnlyCredentials

from dms_desktop.api import search
from dms_desktop.core.errors import AuthError
from dms_desktop.core.search.api_client import ApiSearch
from dms_desktop.core.search.index import Put
from dms_desktop.core.search.opensearch import SEARCH_ENDPOINT_VARIABLE, OpenSearchIndex
from dms_desktop.core.search.query import QuerySyntaxError
from dms_desktop.core.search.text import ExtractedText as Text
from tests.support.search import document
from tests.unit.api.conftest import ALICE, BOB, invoke, proxy_event


@pytest.fixture
def index(
    aws: None,
    opensearch_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[OpenSearchIndex]:
    name = f"api-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv(SEARCH_ENDPOINT_VARIABLE, opensearch_url)
    search.current_index.cache_clear()
    monkeypatch.setattr(
        search,
        "current_index",
        lambda: OpenSearchIndex(
            search.signed_client(opensearch_url, "eu-west-1", "es", None), name
        ),
    )
    writer = OpenSearchIndex(
        search.signed_client(opensearch_url, "eu-west-1", "es", None), name, refresh=True
    )
    writer.ensure_index()
    writer.apply(
        [
            Put(
                document(1, user_id=ALICE, filename="alice-plans.txt", tags=("secret",)),
                Text("the pelican budget for spring"),
            ),
            Put(
                document(2, user_id=BOB, filename="bob-notes.txt", tags=("secret",)),
                Text("a pelican in the garden"),
            ),
        ]
    )
    yield writer
    writer.close()


def _search(user: str, query: dict[str, str] | None) -> tuple[int, object]:
    answer = invoke(search.search_documents, proxy_event("GET", "/search", user=user, query=query))
    return answer.status, answer.body


def test_each_caller_finds_only_their_own_documents(index: OpenSearchIndex) -> None:
    for query in ("pelican", "tag:secret", "size:>=0", "-tag:nothing", "pelican OR garden"):
        for user, name in ((ALICE, "alice-plans.txt"), (BOB, "bob-notes.txt")):
            status, body = _search(user, {"q": query})
            assert status == 200, body
            assert [hit["filename"] for hit in body["hits"]] == [name], (user, query)  # type: ignore[index]
    status, body = _search(ALICE, {"q": "budget"})
    (hit,) = body["hits"]  # type: ignore[index]
    assert hit["snippet"][slice(*hit["snippetMatches"][0])] == "budget"
    assert hit["userId"] == ALICE


def test_a_user_id_in_the_request_changes_nothing(index: OpenSearchIndex) -> None:
    status, body = _search(ALICE, {"q": "garden", "userId": BOB, "user": BOB})
    assert status == 200 and body["hits"] == []  # type: ignore[index]


def test_bad_requests_are_answered_400(index: OpenSearchIndex) -> None:
    status, body = _search(ALICE, {"q": "size:>1Q"})
    assert status == 400
    assert body["error"] == "InvalidQuery" and body["position"] == [5, 8]  # type: ignore[index]
    assert "^^^" in body["message"]  # type: ignore[index]
    assert _search(ALICE, None)[0] == 400
    assert _search(ALICE, {"q": "x", "limit": "0"})[0] == 400
    assert _search(ALICE, {"q": "x", "limit": "many"})[0] == 400


def test_without_a_caller_nothing_is_searched(index: OpenSearchIndex) -> None:
    answer = invoke(
        search.search_documents, proxy_event("GET", "/search", user=None, query={"q": "pelican"})
    )
    assert answer.status == 401


class _Gateway:
    """API Gateway with IAM authorisation, as the desktop's client meets it: the request must be
    signed (SigV4, for execute-api in the API's region); the access key of the credentials that
    signed it names the caller's identity; the request becomes a proxy event."""

    def __init__(self, identities: dict[str, str]) -> None:
        self.identities = identities

    def urlopen(self, request: Any, timeout: float = 0) -> Any:
        import io
        import re
        import urllib.error
        import urllib.parse

        url = urllib.parse.urlsplit(request.full_url)
        assert url.scheme == "https" and url.path == "/v1/search"
        query = dict(urllib.parse.parse_qsl(url.query))
        signed = re.fullmatch(
            r"AWS4-HMAC-SHA256 Credential=(\w+)/\d{8}/eu-west-1/execute-api/aws4_request, "
            r"SignedHeaders=\S+, Signature=[0-9a-f]{64}",
            request.get_header("Authorization") or "",
        )
        user = self.identities.get(signed.group(1)) if signed else None
        if user is not None:
            assert request.get_header("X-amz-security-token") == "session-token"
        event = proxy_event("GET", "/search", user=user, query=query)
        answer = search.search_documents(event, None)
        body = answer["body"].encode()
        if answer["statusCode"] >= 400:
            raise urllib.error.HTTPError(
                request.full_url, answer["statusCode"], "error", {}, io.BytesIO(body)
            )
        return contextlib.nullcontext(io.BytesIO(body))


def _credentials(access_key: str) -> Any:
    return lambda: ReadOnlyCredentials(access_key, "secret-key", "session-token")


def test_the_desktop_client_gets_its_callers_hits_through_the_api(
    index: OpenSearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = _Gateway({"ASIAALICE": ALICE, "ASIABOB": BOB})
    monkeypatch.setattr("urllib.request.urlopen", gateway.urlopen)
    api = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/"
    alice = ApiSearch(api, "eu-west-1", _credentials("ASIAALICE"))
    bob = ApiSearch(api, "eu-west-1", _credentials("ASIABOB"))
    (hit,) = alice.search("pelican").hits
    assert hit.name.text == "alice-plans.txt" and hit.document.user_id == ALICE
    assert "[budget]" in alice.search("budget").hits[0].snippet.marked()
    assert [h.name.text for h in bob.search("pelican").hits] == ["bob-notes.txt"]
    assert bob.search("budget").hits == []
    with pytest.raises(QuerySyntaxError):  # read here: no request is made
        alice.search("size:>1Q")
    with pytest.raises(AuthError):
        ApiSearch(api, "eu-west-1", _credentials("ASIASTOLEN")).search("pelican")
