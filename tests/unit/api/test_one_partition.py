"""One partition per person: a document uploaded through the web API (an IAM-authorised call,
signed with the person's identity pool credentials) and one uploaded by the desktop app (signed
in through the same identity pool) are the same person's documents, seen from either side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dms_desktop.api import handlers
from dms_desktop.core.blobs import BlobStore
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService
from tests.unit.api.conftest import (
    ALICE,
    BOB,
    BUCKET,
    TABLE,
    invoke,
    proxy_event,
    store,
)


def _desktop(dynamodb: Any, s3: Any, identity_id: str) -> DocumentService:
    """The desktop app's service for the person whose identity id its sign-in gave."""
    return DocumentService(DocumentRepository(dynamodb, TABLE), BlobStore(s3, BUCKET), identity_id)


def test_web_api_and_desktop_documents_are_one_persons(
    dynamodb: Any, s3: Any, tmp_path: Path
) -> None:
    source = tmp_path / "from the desktop.txt"
    source.write_text("typed at home")
    desktop = _desktop(dynamodb, s3, ALICE)

    from_desktop = desktop.upload(source)
    from_web = store(ALICE, b"typed in the browser", filename="from the web.txt")

    listed = invoke(handlers.get_documents, proxy_event("GET", "/documents", user=ALICE))
    assert listed.status == 200
    assert {document["documentId"] for document in listed.body["documents"]} == {
        from_desktop.document_id,
        from_web["documentId"],
    }
    on_desktop = DocumentRepository(dynamodb, TABLE).iter_all(ALICE, ListQuery())
    assert {document.filename for document in on_desktop} == {
        "from the desktop.txt",
        "from the web.txt",
    }
    fetched = invoke(
        handlers.get_document_by_id,
        proxy_event(
            "GET", "/documents/{documentId}", user=ALICE, document_id=from_desktop.document_id
        ),
    )
    assert fetched.status == 200
    assert fetched.body["document"]["s3Key"] == f"private/{ALICE}/{from_desktop.document_id}"


def test_another_persons_desktop_documents_stay_out_of_reach(
    dynamodb: Any, s3: Any, tmp_path: Path
) -> None:
    source = tmp_path / "bob.txt"
    source.write_text("bob's")
    bobs = _desktop(dynamodb, s3, BOB).upload(source)

    listed = invoke(handlers.get_documents, proxy_event("GET", "/documents", user=ALICE))
    fetched = invoke(
        handlers.get_document_by_id,
        proxy_event("GET", "/documents/{documentId}", user=ALICE, document_id=bobs.document_id),
    )

    assert listed.body["documents"] == []
    assert fetched.status == 404


def test_a_guest_identity_is_not_signed_in(dynamodb: Any) -> None:
    event = proxy_event("GET", "/documents", user=ALICE)
    event["requestContext"]["identity"]["cognitoAuthenticationType"] = "unauthenticated"

    answer = invoke(handlers.get_documents, event)

    assert answer.status == 401
