"""One damaged metadata item (written behind the app's back) does not hide the rest of a list."""

from __future__ import annotations

from typing import Any

from dms_desktop.core import schema
from dms_desktop.core.listing import ListQuery, damaged_message
from dms_desktop.core.repository import DocumentRepository, to_item

from .conftest import USER_ID, make_document


def store_damaged(dynamodb: Any, filename: str = "../escape.txt") -> str:
    """A stored item whose filename breaks the data model; its document id."""
    item = to_item(make_document(filename="fine.txt"))
    item["filename"] = {"S": filename}
    dynamodb.put_item(TableName=schema.TABLE_NAME, Item=item)
    return str(item["documentId"]["S"])


def test_a_damaged_item_is_left_out_and_named(
    repository: DocumentRepository, dynamodb: Any
) -> None:
    good = [repository.create(make_document(filename=f"doc-{n}.txt")) for n in range(4)]
    damaged_id = store_damaged(dynamodb)

    page = repository.list_page(USER_ID, ListQuery(page_size=3))
    rest = repository.list_page(USER_ID, ListQuery(page_size=3), page.cursor)

    listed = [doc.document_id for doc in page.documents + rest.documents]
    assert sorted(listed) == sorted(doc.document_id for doc in good)
    assert len(page.documents) == 3  # the page is still full
    assert damaged_id in page.damaged + rest.damaged
    assert rest.cursor is None


def test_the_message_names_the_documents_and_what_to_do() -> None:
    message = damaged_message(["a", "b", "c", "d"])

    assert message.startswith("4 documents could not be listed because their stored details")
    assert "(a, b, c, ...)" in message
    assert "consistency check" in message
