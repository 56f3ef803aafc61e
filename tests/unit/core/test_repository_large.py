"""Listing 2,500 documents (one table for the module: moto serialises ~3 ms per returned item)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from dms_desktop.core import schema
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.models import Document
from dms_desktop.core.repository import DocumentRepository
from tests.support.aws import OTHER_USER_ID, USER_ID

from .conftest import (
    ids,
    make_document,
    new_session,
    newest_first,
    put_documents,
    walk,
)

LARGE_COUNT = 2_500

Catalog = tuple[DocumentRepository, list[Document], Document]


@pytest.fixture(scope="module")
def large_catalog() -> Iterator[Catalog]:
    """2,500 documents of the user (one with a rare tag) and a few of another user.

    Module-scoped with its own mock: no function-scoped moto fixture may run in this module.
    """
    with mock_aws():
        client = new_session().client("dynamodb")
        client.create_table(**schema.table_definition())
        documents = [make_document(tags=["common"]) for _ in range(LARGE_COUNT)]
        rare = make_document(filename="needle.pdf", tags=["common", "Rare-Tag"])
        documents[LARGE_COUNT // 3] = rare  # neither first nor last in any order
        put_documents(client, documents)
        put_documents(client, [make_document(OTHER_USER_ID, tags=["rare-tag"]) for _ in range(5)])
        yield DocumentRepository(client, schema.TABLE_NAME), documents, rare


def test_2500_documents_are_listed_once_each_newest_first(large_catalog: Catalog) -> None:
    repository, documents, _ = large_catalog
    listed, pages = walk(repository, ListQuery(page_size=300))
    assert len(listed) == LARGE_COUNT
    assert ids(listed) == newest_first(documents)
    assert len(pages) == 9
    assert pages[-1].cursor is None
    assert all(page.cursor is not None for page in pages[:-1])


def test_a_rare_tag_fills_the_first_page_with_few_requests(large_catalog: Catalog) -> None:
    repository, documents, rare = large_catalog
    page_size = 50
    page = repository.list_page(USER_ID, ListQuery(tag="rare-tag", page_size=page_size))
    assert ids(page.documents) == [rare.document_id]
    assert page.cursor is None
    # A fixed read size would take len(documents) / page_size = 50 requests.
    assert page.requests <= 8 < len(documents) // page_size


def test_a_rare_text_is_found_among_2500(large_catalog: Catalog) -> None:
    repository, _, rare = large_catalog
    found, pages = walk(repository, ListQuery(text="NEEDLE", page_size=20))
    assert ids(found) == [rare.document_id]
    assert len(pages) == 1
