"""The desktop's side of long share links (core.share_links.ApiShareLinks through
DocumentService.share_link) against the web API's handlers (moto, in-process): a Cognito sign-in
gets links of up to an hour presigned with its own credentials and longer ones from the API's
share route, signed (SigV4, execute-api) with those credentials; the link downloads the bytes."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import botocore.credentials
import pytest
import requests

from dms_desktop.api import share
from dms_desktop.core.blobs import BlobStore
from dms_desktop.core.errors import ConfigError, NotFound, ValidationError
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService
from dms_desktop.core.share_links import ApiShareLinks
from tests.unit.api.conftest import (
    ALICE,
    BUCKET,
    REGION,
    TABLE,
    LambdaContext,
    proxy_event,
    store,
)

API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/"
HOUR = timedelta(hours=1)


@pytest.fixture
def signing_key(api: None, session: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    kms = session.client("kms", region_name=REGION)
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    monkeypatch.setenv(share.SHARE_KEY_VARIABLE, key["Arn"])
    share.current_signer.cache_clear()
    yield
    share.current_signer.cache_clear()


class ApiGateway:
    """What API Gateway does with the desktop's request: checks that it is SigV4-signed for
    execute-api and passes it to the share function as the caller ``user``."""

    def __init__(self, user: str) -> None:
        self.user = user
        self.requests: list[urllib.request.Request] = []

    def urlopen(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        self.requests.append(request)
        headers = {name.lower(): value for name, value in request.header_items()}
        assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
        assert f"/{REGION}/execute-api/aws4_request" in headers["authorization"]
        parts = urlsplit(request.full_url)
        assert parts.path.startswith("/v1/documents/") and parts.path.endswith("/share")
        document_id = parts.path.split("/")[3]
        body = request.data.decode() if isinstance(request.data, bytes) else None
        event = proxy_event(
            "POST",
            "/documents/{documentId}/share",
            user=self.user,
            document_id=document_id,
            body=body,
        )
        result = share.share_document(event, LambdaContext())
        if result["statusCode"] >= 400:
            raise urllib.error.HTTPError(
                request.full_url,
                result["statusCode"],
                "refused",
                None,  # type: ignore[arg-type]
                io.BytesIO(result["body"].encode()),
            )
        return io.BytesIO(result["body"].encode())


def _service(dynamodb: Any, s3: Any, links: ApiShareLinks | None) -> DocumentService:
    return DocumentService(
        DocumentRepository(dynamodb, TABLE),
        BlobStore(s3, BUCKET),
        ALICE,
        share_limit=HOUR,  # a Cognito sign-in's credentials
        api_share_links=links,
    )


def _credentials() -> Any:
    return botocore.credentials.ReadOnlyCredentials("ASIAEXAMPLE", "secret", "session-token")


def _open(url: str) -> requests.Response:
    token = urlsplit(url).path.removeprefix("/v1/share/")
    event = proxy_event("GET", "/share/{token}", user=None)
    event["pathParameters"] = {"token": token}
    opened = share.open_share_link(event, LambdaContext())
    assert opened["statusCode"] == 302, opened
    return requests.get(opened["headers"]["Location"], timeout=10)


@pytest.mark.usefixtures("signing_key")
def test_links_longer_than_the_sign_in_come_from_the_api_and_download_the_bytes(
    dynamodb: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = ApiGateway(ALICE)
    monkeypatch.setattr(urllib.request, "urlopen", gateway.urlopen)
    document_id = store(content=b"seven days of bytes")["documentId"]
    service = _service(dynamodb, s3, ApiShareLinks(API_URL, REGION, _credentials))

    week = service.share_link(document_id, timedelta(days=7))
    hour = service.share_link(document_id, HOUR)

    assert week.signed_by == "api" and week.to_json_dict()["signedBy"] == "api"
    assert week.url.startswith(API_URL + "share/v1.")
    assert timedelta(days=7) - timedelta(minutes=1) < week.expires_at - hour.expires_at + HOUR
    assert _open(week.url).content == b"seven days of bytes"
    assert hour.signed_by == "credentials" and urlsplit(hour.url).netloc.startswith(BUCKET)
    assert len(gateway.requests) == 1  # the hour's link was presigned here
    assert json.loads(gateway.requests[0].data or b"") == {"expiresIn": 7 * 86400}


@pytest.mark.usefixtures("signing_key")
def test_the_api_answers_for_the_document_of_the_caller_only(
    dynamodb: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the desktop to ask for a document API Gateway's caller does not own, the API
    refuses: the owner is the identity that signed, not anything the request says."""
    from tests.unit.api.conftest import BOB

    monkeypatch.setattr(urllib.request, "urlopen", ApiGateway(BOB).urlopen)
    document_id = store(content=b"alice's")["documentId"]
    service = _service(dynamodb, s3, ApiShareLinks(API_URL, REGION, _credentials))

    with pytest.raises(NotFound):
        service.share_link(document_id, timedelta(days=1))


def test_without_the_api_a_cognito_sign_in_gets_an_hour_at_most(dynamodb: Any, s3: Any) -> None:
    document_id = store()["documentId"]
    service = _service(dynamodb, s3, None)

    assert service.share_signer(timedelta(days=1)) is None
    with pytest.raises(ValidationError, match="api_url"):
        service.share_link(document_id, timedelta(days=1))
    assert service.share_link(document_id, HOUR).signed_by == "credentials"


def test_an_api_stack_without_the_share_route_is_named_not_taken_for_a_bad_sign_in(
    dynamodb: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def older_api(request: urllib.request.Request, timeout: float) -> io.BytesIO:
        body = io.BytesIO(b'{"message":"Missing Authentication Token"}')
        raise urllib.error.HTTPError(request.full_url, 403, "Forbidden", None, body)  # type: ignore[arg-type]

    monkeypatch.setattr(urllib.request, "urlopen", older_api)
    document_id = store()["documentId"]
    service = _service(dynamodb, s3, ApiShareLinks(API_URL, REGION, _credentials))

    with pytest.raises(ConfigError, match="no share route"):
        service.share_link(document_id, timedelta(days=7))
