"""Retagging many documents: batched reads and conditional writes, a conflict report for any that
changed meanwhile (never overwritten), and what is gone or in the trash is reported."""

from __future__ import annotations

from typing import Any

import pytest

from dms_desktop.core.bulk_tags import edited_tags
from dms_desktop.core.change_report import ChangeStatus
from dms_desktop.core.errors import InTrash, ValidationError
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService
from tests.support.aws import USER_ID

from .conftest import make_document, put_documents


def _count_requests(client: Any) -> dict[str, int]:
    counts: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        counts[operation] = counts.get(operation, 0) + 1

    client.meta.events.register("before-send.dynamodb", count)
    return counts


def test_edited_tags_add_and_remove_ignoring_case() -> None:
    assert edited_tags(("Invoice", "2024"), ["tax", "INVOICE"], ["2024"]) == ("Invoice", "tax")
    assert edited_tags(("a",), ["b"], ["B"]) == ("a",)


def test_three_hundred_documents_are_retagged_in_six_requests(
    service: DocumentService, dynamodb: Any
) -> None:
    documents = [
        make_document(filename=f"d{n:04d}.pdf", tags=["Draft", "2024"] if n % 2 else ["2024"])
        for n in range(300)
    ]
    put_documents(dynamodb, documents)
    ids = [document.document_id for document in documents]
    counts = _count_requests(dynamodb)
    seen: list[tuple[int, int]] = []

    report = service.retag_many(
        ids, add=["Final"], remove=["draft"], progress=lambda *done: seen.append(done)
    )

    assert [result.status for result in report.results] == [ChangeStatus.DONE] * 300
    assert counts == {"BatchGetItem": 3, "TransactWriteItems": 3}
    assert seen[0] == (0, 300) and seen[-1] == (300, 300)
    assert service.tag_counts() == {"2024": 300, "Final": 300}
    stored = service.get(ids[1])
    assert stored.tags == ("2024", "Final") and stored.version == documents[1].version + 1
    assert report.results[1].document == stored


def test_a_document_changed_meanwhile_is_a_conflict_and_keeps_its_change(
    service: DocumentService, repository: DocumentRepository, dynamodb: Any
) -> None:
    first, changed, untouched = (make_document(tags=["a"]) for _ in range(3))
    put_documents(dynamodb, [first, changed, untouched])
    edited: list[bool] = []

    def edit_first(**_: Any) -> None:  # another app instance, between our read and our write
        if not edited:
            edited.append(True)
            repository.update(USER_ID, changed.document_id, changed.version, tags=["mine"])

    dynamodb.meta.events.register("before-call.dynamodb.TransactWriteItems", edit_first)

    report = service.retag_many(
        [first.document_id, changed.document_id, untouched.document_id], add=["b"]
    )

    assert [result.status for result in report.results] == [
        ChangeStatus.DONE,
        ChangeStatus.CONFLICT,
        ChangeStatus.DONE,
    ]
    assert "changed meanwhile" in report.results[1].message
    assert service.get(changed.document_id).tags == ("mine",)
    assert service.get(first.document_id).tags == ("a", "b")


def test_what_is_gone_in_the_trash_or_unchanged_is_reported_without_a_write(
    service: DocumentService, dynamodb: Any
) -> None:
    tagged, trashed = make_document(tags=["x"]), make_document(tags=["y"])
    put_documents(dynamodb, [tagged, trashed])
    service.trash_many([trashed.document_id])
    unknown = new_document_id()
    counts = _count_requests(dynamodb)

    report = service.retag_many([tagged.document_id, trashed.document_id, unknown], add=["X"])

    assert [result.status for result in report.results] == [
        ChangeStatus.DONE,
        ChangeStatus.NOT_FOUND,
        ChangeStatus.NOT_FOUND,
    ]
    assert isinstance(report.results[1].error, InTrash)
    assert counts == {"BatchGetItem": 1}  # "X" is already there: nothing to write
    assert service.get(tagged.document_id).version == tagged.version
    with pytest.raises(ValidationError):
        service.retag_many([tagged.document_id], add=["x" * 500])
