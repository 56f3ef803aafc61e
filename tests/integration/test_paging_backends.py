"""Paging on two DynamoDB implementations: moto, and dynalite as an independent opinion.

DynamoDB (and dynalite) return a LastEvaluatedKey when a read stops at its Limit exactly at the
end of the partition, then an empty page; moto omits the key. Either way a listing must offer a
cursor only when another document follows, and never end in an empty page.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from dms_desktop.core import schema
from dms_desktop.core.listing import ListQuery, sort_value
from dms_desktop.core.repository import DocumentRepository, to_item
from dms_desktop.core.schema import SortField
from tests.support.aws import USER_ID, new_session
from tests.support.dynalite import dynalite_binary, running_dynalite
from tests.unit.core.conftest import ids, varied_documents, walk

_table_numbers = itertools.count()


@pytest.fixture(scope="module")
def dynalite_endpoint() -> Iterator[str]:
    binary = dynalite_binary()
    if binary is None:
        pytest.skip("dynalite is not installed (needs Node.js and npm; .ci/setup installs it)")
    with running_dynalite(binary) as endpoint:
        yield endpoint


@pytest.fixture(params=["moto", "dynalite"])
def dynamodb(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    """A DynamoDB client and a new, empty Documents table on the chosen implementation."""
    table = f"Documents-{next(_table_numbers)}"
    if request.param == "moto":
        with mock_aws():
            client = new_session().client("dynamodb")
            client.create_table(**schema.table_definition(table))
            yield client, table
        return
    endpoint = request.getfixturevalue("dynalite_endpoint")
    client = new_session().client("dynamodb", endpoint_url=endpoint)
    client.create_table(**schema.table_definition(table))
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.05})
    yield client, table
    client.delete_table(TableName=table)


def _put_documents(client: Any, table: str, documents: list[Any]) -> None:
    """Write documents straight into ``table`` (BatchWriteItem, 25 at a time)."""
    for start in range(0, len(documents), 25):
        request = {
            table: [{"PutRequest": {"Item": to_item(doc)}} for doc in documents[start : start + 25]]
        }
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


@pytest.mark.parametrize("count", [0, 1, 4, 5, 6, 10, 11])
@pytest.mark.parametrize("sort", list(SortField))
def test_a_cursor_is_offered_only_when_more_documents_follow(
    dynamodb: tuple[Any, str], count: int, sort: SortField
) -> None:
    client, table = dynamodb
    documents = varied_documents(count)
    _put_documents(client, table, documents)
    for descending in (True, False):
        query = ListQuery(sort=sort, descending=descending, page_size=5)
        listed, pages = walk(DocumentRepository(client, table), query)
        assert sorted(ids(listed)) == sorted(ids(documents))
        assert len(pages) == max(1, -(-count // 5))  # no empty page after the last
        assert all(page.documents for page in pages[1:])
        assert [page.cursor is not None for page in pages] == [True] * (len(pages) - 1) + [False]
        keys = [sort_value(doc, sort) for doc in listed]
        assert keys == sorted(keys, reverse=descending)


@pytest.mark.parametrize("tag", ["t0", "t1", "t4"])
def test_a_filtered_listing_fills_its_pages_and_ends_without_an_empty_page(
    dynamodb: tuple[Any, str], tag: str
) -> None:
    client, table = dynamodb
    documents = varied_documents(30)  # tags t0..t4, six documents each
    _put_documents(client, table, documents)
    query = ListQuery(tag=tag, page_size=3)
    listed, pages = walk(DocumentRepository(client, table), query)
    assert sorted(ids(listed)) == sorted(ids([doc for doc in documents if tag in doc.tags]))
    assert [len(page.documents) for page in pages] == [3, 3]
    assert pages[-1].cursor is None


def test_an_empty_partition_is_one_empty_page(dynamodb: tuple[Any, str]) -> None:
    client, table = dynamodb
    _put_documents(client, table, varied_documents(3, user_id="someone-else"))
    listed, pages = walk(DocumentRepository(client, table), ListQuery(page_size=5), USER_ID)
    assert listed == [] and len(pages) == 1 and pages[0].cursor is None
