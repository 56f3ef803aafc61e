"""Generated documents (`dms local seed`): listed like uploads, bodies that match their metadata,
batched writes, cancel between batches, and clear refusals."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import Unavailable, ValidationError
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.seeding import DocumentSeeder, SeedRequest
from dms_desktop.core.service import DocumentService
from tests.support.aws import USER_ID


@pytest.fixture
def seeder(dynamodb: Any, s3: Any) -> DocumentSeeder:
    return DocumentSeeder(dynamodb, s3, schema.TABLE_NAME, schema.BUCKET_NAME)


def _all(service: DocumentService, query: ListQuery) -> list[Any]:
    documents, cursor = [], None
    while True:
        page = service.list_page(query, cursor)
        documents += page.documents
        if page.cursor is None:
            return documents
        cursor = page.cursor


def test_seeded_documents_are_listed_and_their_bodies_download_intact(
    seeder: DocumentSeeder, service: DocumentService, tmp_path: Path
) -> None:
    stored = seeder.seed(SeedRequest(USER_ID, 60, "Bulk", text=True), rng=random.Random(1))

    assert stored == 60
    documents = _all(service, ListQuery(tag="bulk", page_size=25))
    assert len(documents) == 60
    assert len({document.filename for document in documents}) == 60
    assert all("Bulk" in document.tags for document in documents)
    assert len({document.file_type for document in documents}) > 1
    sample = documents[7]
    path = service.download(sample.document_id, tmp_path)  # verifies the checksum
    assert path.stat().st_size == sample.size
    assert len(path.read_text().split()) > 60  # a paragraph of words: something to search


def test_metadata_is_written_25_items_a_request(seeder: DocumentSeeder, dynamodb: Any) -> None:
    writes: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        writes.append(len(params["RequestItems"][schema.TABLE_NAME]))

    dynamodb.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", count)
    seeder.seed(SeedRequest(USER_ID, 60))

    assert writes == [25, 25, 10]


def test_a_cancelled_seed_stops_between_batches_and_says_how_many_it_stored(
    seeder: DocumentSeeder, service: DocumentService
) -> None:
    cancel = CancelToken()
    reported: list[int] = []

    def progress(done: int) -> None:
        reported.append(done)
        cancel.cancel()

    stored = seeder.seed(SeedRequest(USER_ID, 100), progress=progress, cancel=cancel)

    assert stored == 25 and reported == [25]
    assert len(_all(service, ListQuery())) == 25


@pytest.mark.parametrize("count", [0, -3, 2_000_000])
def test_a_count_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(ValidationError, match="between 1 and 1,000,000"):
        SeedRequest(USER_ID, count)


def test_a_table_that_keeps_throttling_gives_one_clear_message(s3: Any) -> None:
    class Throttled:
        def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
            return {"UnprocessedItems": RequestItems}

    seeder = DocumentSeeder(
        Throttled(), s3, schema.TABLE_NAME, schema.BUCKET_NAME, sleep=lambda _: None
    )

    with pytest.raises(Unavailable, match="kept refusing to store 25 generated documents"):
        seeder.seed(SeedRequest(USER_ID, 30))
