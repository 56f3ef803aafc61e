"""The trash: deleting moves documents there (out of every list), a restore gives them back as
they were, emptying deletes them for good; all of it batched, each write conditional."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.change_report import ChangeStatus
from dms_desktop.core.errors import InTrash, NotFound
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.items import to_item
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.models import utc_now
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.schema import BUCKET_NAME, TABLE_NAME, item_key
from dms_desktop.core.service import DocumentService
from dms_desktop.core.transactions import ConditionalWrite, write_conditionally
from dms_desktop.core.transfers import expiry_epoch_seconds
from dms_desktop.core.trash import move_to_trash, purge_time
from tests.support.aws import USER_ID

from .conftest import make_document, put_documents


def _listed(service: DocumentService) -> list[str]:
    return [document.document_id for document in service.iter_documents(ListQuery())]


def _count_requests(client: Any) -> dict[str, int]:
    counts: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        counts[operation] = counts.get(operation, 0) + 1

    client.meta.events.register("before-send.dynamodb", count)
    return counts


def test_a_deleted_document_leaves_every_list_and_comes_back_exactly_as_it_was(
    service: DocumentService, tmp_path: Path, s3: Any
) -> None:
    source = tmp_path / "contract.pdf"
    source.write_bytes(b"%PDF-1.4 signed" * 1000)
    document = service.upload(source, tags=["Legal", "2024"])
    service.rename(document.document_id, "contract-final.pdf")
    before = service.get(document.document_id)

    report = service.trash_many([document.document_id])

    assert [result.status for result in report.results] == [ChangeStatus.DONE]
    trashed = report.results[0].document
    assert trashed is not None and trashed.in_trash
    assert _listed(service) == []
    assert service.tag_counts() == {}
    with pytest.raises(NotFound):
        service.find("contract-final.pdf")
    assert service.find_in_trash("contract-final.pdf").document_id == document.document_id
    assert service.find_duplicates(before.checksum) == []
    page = service.trash_page()
    assert [doc.document_id for doc in page.documents] == [document.document_id]
    in_trash = page.documents[0]
    assert in_trash == trashed
    assert in_trash.purge_at == purge_time(in_trash.trashed_at or utc_now(), service.trash_days)
    # The body stays where it was, untouched.
    body = s3.get_object(Bucket=BUCKET_NAME, Key=before.s3_key)["Body"].read()
    assert body == source.read_bytes()

    restored = service.restore_many([document.document_id])

    assert restored.results[0].status is ChangeStatus.DONE
    after = service.get(document.document_id)
    assert after == before  # same id, name, tags, version, times, checksum
    assert after.to_json_dict() == before.to_json_dict()
    assert restored.results[0].document == before
    assert _listed(service) == [document.document_id]
    assert service.tag_counts() == {"Legal": 1, "2024": 1}
    assert service.trash_page().documents == []
    target = service.download(document.document_id, tmp_path / "back.pdf")
    assert target.read_bytes() == source.read_bytes()


def test_a_document_in_the_trash_cannot_be_opened_or_changed(
    service: DocumentService, tmp_path: Path
) -> None:
    source = tmp_path / "a.txt"
    source.write_text("a")
    document = service.upload(source)
    service.trash_many([document.document_id])

    with pytest.raises(InTrash, match="restore it first"):
        service.download(document.document_id, tmp_path / "out.txt")
    with pytest.raises(InTrash):
        service.rename(document.document_id, "b.txt")
    with pytest.raises(InTrash):
        service.retag(document.document_id, add=["x"])
    assert not (tmp_path / "out.txt").exists()


def test_a_test_record_keeps_its_own_expiry_through_the_trash(
    service: DocumentService, repository: DocumentRepository, dynamodb: Any, tmp_path: Path
) -> None:
    source = tmp_path / "t.txt"
    source.write_text("t")
    soon = utc_now() + timedelta(days=2)
    record = service.upload(source, expires=soon)
    later = utc_now() + timedelta(days=300)
    lasting = service.upload(source, expires=later)

    service.trash_many([record.document_id, lasting.document_id])

    def ttl(document_id: str) -> int:
        item = dynamodb.get_item(TableName=TABLE_NAME, Key=item_key(USER_ID, document_id))
        return int(item["Item"][schema.EXPIRES_AT]["N"])

    # The TTL purges each when the first of its two ends comes.
    assert ttl(record.document_id) == expiry_epoch_seconds(soon)
    purge = service.get(lasting.document_id).purge_at
    assert purge is not None and ttl(lasting.document_id) == purge
    assert service.get(lasting.document_id).expires_at == expiry_epoch_seconds(later)

    service.restore_many([record.document_id, lasting.document_id])

    assert ttl(record.document_id) == expiry_epoch_seconds(soon)
    assert ttl(lasting.document_id) == expiry_epoch_seconds(later)
    assert service.get(lasting.document_id) == lasting


def test_what_is_gone_already_in_the_trash_or_not_in_it_is_reported(
    service: DocumentService, dynamodb: Any
) -> None:
    live, trashed = make_document(), make_document()
    put_documents(dynamodb, [live, trashed])
    service.trash_many([trashed.document_id])
    unknown = new_document_id()

    report = service.trash_many([live.document_id, trashed.document_id, unknown])

    assert [(r.document_id, r.status) for r in report.results] == [
        (live.document_id, ChangeStatus.DONE),
        (trashed.document_id, ChangeStatus.NOT_FOUND),
        (unknown, ChangeStatus.NOT_FOUND),
    ]
    assert isinstance(report.results[1].error, InTrash)

    service.restore_many([live.document_id])
    again = service.restore_many([live.document_id, unknown])
    assert [result.status for result in again.results] == [ChangeStatus.NOT_FOUND] * 2
    assert "not in the trash" in again.results[0].message
    assert "purged" in again.results[1].message


def test_a_large_selection_takes_a_few_batched_requests(
    service: DocumentService, dynamodb: Any
) -> None:
    documents = [make_document(filename=f"d{n:03d}.txt") for n in range(250)]
    put_documents(dynamodb, documents)
    ids = [document.document_id for document in documents]
    counts = _count_requests(dynamodb)
    seen: list[tuple[int, int]] = []

    report = service.trash_many(ids, progress=lambda *done: seen.append(done))

    assert [result.document_id for result in report.done] == ids
    assert counts == {"BatchGetItem": 3, "TransactWriteItems": 3}
    assert seen[0] == (0, 250) and seen[-1] == (250, 250)
    assert _listed(service) == []

    counts.clear()
    restored = service.restore_many(ids)
    assert len(restored.done) == 250
    assert counts == {"BatchGetItem": 3, "TransactWriteItems": 3}
    assert sorted(_listed(service)) == sorted(ids)


def test_a_write_whose_condition_fails_leaves_the_others_of_its_transaction_done(
    dynamodb: Any,
) -> None:
    documents = [make_document() for _ in range(3)]
    put_documents(dynamodb, documents)
    writes = [
        ConditionalWrite(
            document.document_id,
            item_key(USER_ID, document.document_id),
            "#version = :v",
            update="SET folder = :f",
            names={"#version": "version"},
            values={":v": {"N": "1" if number != 1 else "7"}, ":f": {"S": "moved"}},
        )
        for number, document in enumerate(documents)
    ]

    outcome = write_conditionally(dynamodb, TABLE_NAME, writes)

    assert outcome.done == [documents[0].document_id, documents[2].document_id]
    assert outcome.refused == [documents[1].document_id]
    assert outcome.requests == 2  # the second without the refused one


def test_emptying_the_trash_deletes_only_what_is_still_there(
    service: DocumentService, repository: DocumentRepository, dynamodb: Any, s3: Any
) -> None:
    old, recent, live = (make_document(filename=n) for n in ("old.txt", "recent.txt", "l.txt"))
    put_documents(dynamodb, [old, recent, live])
    for document in (old, recent, live):
        s3.put_object(Bucket=BUCKET_NAME, Key=document.s3_key, Body=b"x")
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    move_to_trash(repository.batches, USER_ID, [old.document_id], days=30, now=ten_days_ago)
    service.trash_many([recent.document_id])

    report = service.empty_trash(trashed_before=utc_now() - timedelta(days=7))

    assert report.deleted == [old.document_id]
    assert [doc.document_id for doc in service.trash_page().documents] == [recent.document_id]
    with pytest.raises(NotFound):
        service.get(old.document_id)
    keys = {entry["Key"] for entry in s3.list_objects_v2(Bucket=BUCKET_NAME)["Contents"]}
    assert keys == {recent.s3_key, live.s3_key}

    # A document restored after the trash was read is kept.
    from dms_desktop.core.bulk_delete import DeleteStatus, delete_documents

    kept = delete_documents(
        repository, service._blobs, USER_ID, [live.document_id], only_in_trash=True
    )
    assert kept.results[0].status is DeleteStatus.NOT_FOUND
    assert "no longer in the trash" in kept.results[0].message
    assert service.get(live.document_id) == live

    everything = service.empty_trash()
    assert everything.deleted == [recent.document_id]
    assert service.trash_page().documents == []


def test_a_trashed_item_maps_its_ttl_and_back(dynamodb: Any) -> None:
    document = make_document().model_copy(
        update={"expires_at": 2_000_000_000, "trashed_at": utc_now(), "purge_at": 1_900_000_000}
    )
    item = to_item(document)
    assert item[schema.EXPIRES_AT] == {"N": "1900000000"}
    assert item[schema.KEPT_EXPIRES_AT] == {"N": "2000000000"}
