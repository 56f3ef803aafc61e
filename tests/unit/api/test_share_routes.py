"""Share links of the web API (moto, in-process): ``POST /documents/{id}/share`` makes a link of
one of the caller's documents valid up to 7 days; ``GET /share/{token}`` (no sign-in) redirects to
a fresh download URL while the link is valid, the HMAC is the key's and the document is there
and out of the trash."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from dms_desktop.api import handlers, share
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.models import parse_timestamp
from tests.unit.api.conftest import (
    ALICE,
    BOB,
    REGION,
    Answer,
    LambdaContext,
    invoke,
    proxy_event,
    store,
)


@pytest.fixture
def signing_key(api: None, session: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The stack's KMS HMAC key, named in the functions' environment."""
    kms = session.client("kms", region_name=REGION)
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    monkeypatch.setenv(share.SHARE_KEY_VARIABLE, key["Arn"])
    share.current_signer.cache_clear()
    yield str(key["Arn"])
    share.current_signer.cache_clear()


pytestmark = pytest.mark.usefixtures("signing_key")


def _share(document_id: str, user: str = ALICE, body: Any = None) -> Answer:
    event = proxy_event(
        "POST", "/documents/{documentId}/share", user=user, document_id=document_id, body=body
    )
    return invoke(share.share_document, event)


def _token(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "abc123.execute-api.eu-west-1.amazonaws.com"
    assert parts.path.startswith("/v1/share/")
    return parts.path.removeprefix("/v1/share/")


def _open(token: str) -> dict[str, Any]:
    """GET /share/{token} as API Gateway passes it on: a route without an authoriser."""
    event = proxy_event("GET", "/share/{token}", user=None)
    event["pathParameters"] = {"token": token}
    event["path"] = f"/share/{token}"
    result: dict[str, Any] = share.open_share_link(event, LambdaContext())
    return result


def _follow(token: str) -> requests.Response:
    opened = _open(token)
    assert opened["statusCode"] == 302, opened
    return requests.get(opened["headers"]["Location"], timeout=10)


def test_a_link_of_seven_days_downloads_the_document_without_signing_in() -> None:
    document = store(content=b"the shared bytes", filename="Report 2026.pdf")

    answer = _share(document["documentId"], body={"expiresIn": 7 * 86400})

    assert answer.status == 201
    assert answer.body["signedBy"] == "api"
    assert answer.body["filename"] == "Report 2026.pdf"
    expires = parse_timestamp(answer.body["expiresAt"]).timestamp()
    assert abs(expires - (time.time() + 7 * 86400)) < 5
    downloaded = _follow(_token(answer.body["url"]))
    assert downloaded.status_code == 200
    assert downloaded.content == b"the shared bytes"
    assert "Report%202026.pdf" in downloaded.headers["Content-Disposition"]


def test_a_link_lasts_a_day_unless_told_and_seven_days_at_most() -> None:
    document_id = store()["documentId"]

    default = _share(document_id)
    too_long = _share(document_id, body={"expiresIn": 7 * 86400 + 1})
    not_a_number = _share(document_id, body={"expiresIn": "7d"})

    expires = parse_timestamp(default.body["expiresAt"]).timestamp()
    assert abs(expires - (time.time() + 86400)) < 5
    assert too_long.status == 400 and set(too_long.body["fields"]) == {"expiresIn"}
    assert not_a_number.status == 400 and set(not_a_number.body["fields"]) == {"expiresIn"}


def test_an_expired_link_is_410(monkeypatch: pytest.MonkeyPatch) -> None:
    document_id = store()["documentId"]
    token = _token(_share(document_id, body={"expiresIn": 60}).body["url"])
    now = time.time()

    monkeypatch.setattr(share.time, "time", lambda: now + 61)

    assert _open(token)["statusCode"] == 410


def test_only_ones_own_documents_out_of_the_trash_can_be_shared() -> None:
    document_id = store(ALICE)["documentId"]

    assert _share(document_id, user=BOB).status == 404
    assert _share(new_document_id()).status == 404
    assert (
        invoke(
            handlers.delete_document,
            proxy_event("DELETE", "/documents/{documentId}", document_id=document_id),
        ).status
        == 200
    )
    refused = _share(document_id)
    assert refused.status == 404 and "in the trash" in refused.body["message"]


def test_a_link_stops_working_when_its_document_goes_to_the_trash_and_works_again_after() -> None:
    document_id = store(content=b"abc")["documentId"]
    token = _token(_share(document_id).body["url"])
    delete = proxy_event("DELETE", "/documents/{documentId}", document_id=document_id)
    restore = proxy_event("POST", "/documents/{documentId}/restore", document_id=document_id)

    assert invoke(handlers.delete_document, delete).status == 200
    assert _open(token)["statusCode"] == 404
    assert invoke(handlers.restore_document, restore).status == 200
    assert _follow(token).content == b"abc"


def _forged(token: str, **change: Any) -> str:
    version, payload, mac = token.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields.update(change)
    encoded = base64.urlsafe_b64encode(
        json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
    )
    return f"{version}.{encoded.rstrip(b'=').decode()}.{mac}"


def test_a_changed_token_opens_nothing() -> None:
    """Neither another document, another owner's, nor a later expiry: the HMAC no longer
    matches; and a token made with another key is refused too."""
    alice_document = store(ALICE, content=b"alice")["documentId"]
    bob_document = store(BOB, content=b"bob")["documentId"]
    token = _token(_share(alice_document).body["url"])

    for forged in (
        _forged(token, d=store(ALICE)["documentId"]),
        _forged(token, u=BOB, d=bob_document),
        _forged(token, e=int(time.time()) + 30 * 86400),
        token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "v1.not-base64!.x",
        "anything",
    ):
        opened = _open(forged)
        assert opened["statusCode"] == 404, forged
        assert "Location" not in opened["headers"]


def test_the_token_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    document_id = store()["documentId"]
    answer = _share(document_id)
    token = _token(answer.body["url"])
    caplog.clear()

    _open(token)

    assert caplog.records
    assert not any(token in record.getMessage() for record in caplog.records)
    assert not any(token in json.dumps(getattr(r, "fields", {})) for r in caplog.records)
