"""A new document's record: its fields, and the one way it is written (after the body)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dms_desktop.core.errors import Conflict
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.models import Document
from dms_desktop.core.records import new_document_record, store_document_record
from dms_desktop.core.repository import DocumentRepository
from tests.support.aws import USER_ID

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _record(document_id: str, checksum: str = "a" * 64) -> Document:
    return new_document_record(
        user_id=USER_ID,
        document_id=document_id,
        filename="Re\u0301sume\u0301.pdf",  # NFD, as some file systems give it
        file_type="application/pdf",
        size=42,
        checksum=checksum,
        tags=["Invoice", "invoice", " 2024 "],
        folder="taxes\\2024",
        now=NOW,
    )


def test_a_new_record_follows_the_data_model() -> None:
    document_id = new_document_id()

    document = new_document_record(
        user_id=USER_ID,
        document_id=document_id,
        filename="Re\u0301sume\u0301.pdf",
        file_type="application/pdf",
        size=42,
        checksum="a" * 64,
        tags=["Invoice", "invoice", " 2024 "],
        folder="taxes\\2024",
        expires_at=1_900_000_000,
        now=NOW,
    )

    assert document.filename == "Résumé.pdf"  # NFC
    assert document.tags == ("Invoice", "2024")
    assert document.folder == "taxes/2024"
    assert document.s3_key == f"private/{USER_ID}/{document_id}"  # from owner and id only
    assert (document.created_at, document.updated_at, document.version) == (NOW, NOW, 1)
    assert document.expires_at == 1_900_000_000


def test_storing_a_record_twice_for_the_same_body_is_one_record(
    repository: DocumentRepository,
) -> None:
    document = _record(new_document_id())
    first = store_document_record(repository, document)

    again = store_document_record(repository, document)

    assert again == first
    assert repository.get(USER_ID, first.document_id) == first


def test_a_record_for_another_body_under_a_taken_id_is_a_conflict(
    repository: DocumentRepository,
) -> None:
    document_id = new_document_id()
    store_document_record(repository, _record(document_id))

    with pytest.raises(Conflict):
        store_document_record(repository, _record(document_id, "b" * 64))
