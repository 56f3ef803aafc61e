"""The sandbox's Queries from sorted lists answer as moto does, page by page, whatever the writes
before them; they cost what they read; and they stop where DynamoDB stops (at the Limit, with a
LastEvaluatedKey also at the end of the partition, and at 1 MB).

dynalite's opinion on the same scenarios: tests/integration/test_fast_query_backends.py.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from dms_desktop.core import schema
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.repository import DocumentRepository, to_item
from dms_desktop.core.schema import SortField
from dms_desktop.sandbox import fast_query, item_sizes, sorted_lists
from tests.support.aws import USER_ID, new_session
from tests.support.query_scenarios import (
    USERS,
    Shape,
    Shaping,
    Write,
    apply,
    outcome,
    pages,
    scenarios,
    shapes,
    without_moto_boundary,
)
from tests.unit.core.conftest import ids, make_document, varied_documents, walk

_tables = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _installed() -> None:
    fast_query.install()


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        yield new_session().client("dynamodb")


def _new_table(client: Any) -> str:
    table = f"Documents-{next(_tables)}"
    client.create_table(**schema.table_definition(table))
    return table


def _moto_table(table: str) -> Any:
    return dynamodb_backends["123456789012"]["us-east-1"].get_table(table)


def _both_ways(client: Any, request: dict[str, Any]) -> tuple[Any, Any]:
    sorted_way = outcome(client, request)
    with fast_query.answered_by_moto():
        moto_way = outcome(client, request)
    return sorted_way, moto_way


def _assert_answered_as_moto(client: Any, table: str, shape: Shape) -> None:
    request = shape.request(table)
    sorted_way, moto_way = _both_ways(client, request)
    if isinstance(moto_way, str) or isinstance(sorted_way, str):
        assert sorted_way == moto_way, request
        return
    assert without_moto_boundary(sorted_way, moto_way) == moto_way, request


def _warm_up(client: Any, table: str) -> None:
    """Query every order of every partition once: from now on the writes keep the lists."""
    for user in USERS:
        for sort in [*SortField, None]:
            pages(client, Shape(user=user, sort=sort, descending=False, limit=None).request(table))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    writes=scenarios(),
    built_after=st.integers(0, 30),
    queries=st.lists(shapes(), min_size=4, max_size=10),
)
def test_every_query_shape_is_answered_as_moto_answers_it(
    client: Any, writes: list[Write], built_after: int, queries: list[Shape]
) -> None:
    """Writes of every kind, with the sorted lists built before some of them (so the writes
    must keep them in step) and after the rest (so they are built from moto's items)."""
    table = _new_table(client)
    shaping = Shaping(unique_sort_keys=False)
    for number, write in enumerate(writes):
        if number == built_after:
            _warm_up(client, table)
        apply(client, table, shaping, write, split_transactions=False)
    answered_before = fast_query.answered["sorted"]
    for shape in queries:
        _assert_answered_as_moto(client, table, shape)
    assert fast_query.answered["sorted"] > answered_before  # the sorted lists did answer


@pytest.mark.parametrize("sort", list(SortField))
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize(
    "filters",
    [{}, {"tag": "t1"}, {"text": "doc 0"}, {"file_type": "image/*"}, {"file_type": "text/plain"}],
)
def test_the_apps_listing_is_the_same_either_way(
    client: Any, sort: SortField, descending: bool, filters: dict[str, str]
) -> None:
    table = _new_table(client)
    put_documents_into(client, table, varied_documents(45))
    repository = DocumentRepository(client, table)
    query = ListQuery(sort=sort, descending=descending, page_size=7, **filters)  # type: ignore[arg-type]
    listed, listed_pages = walk(repository, query)
    with fast_query.answered_by_moto():
        expected, expected_pages = walk(repository, query)
    assert ids(listed) == ids(expected)
    assert [page.cursor for page in listed_pages] == [page.cursor for page in expected_pages]


def put_documents_into(client: Any, table: str, documents: list[Any]) -> None:
    for start in range(0, len(documents), 25):
        chunk = documents[start : start + 25]
        client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": to_item(doc)}} for doc in chunk]}
        )


def test_a_page_that_ends_at_its_limit_returns_a_key_also_at_the_end(client: Any) -> None:
    """DynamoDB returns a LastEvaluatedKey whenever a page stops at its Limit, and then an empty
    page if nothing followed; moto omits that key (see findings)."""
    table = _new_table(client)
    put_documents_into(client, table, varied_documents(4))
    request = Shape(user=USER_ID, sort=SortField.CREATED, descending=True, limit=2).request(table)
    sorted_way, moto_way = _both_ways(client, request)
    assert [page["Count"] for page in sorted_way] == [2, 2, 0]
    assert ["LastEvaluatedKey" in page for page in sorted_way] == [True, True, False]
    assert [page["Count"] for page in moto_way] == [2, 2]
    assert ["LastEvaluatedKey" in page for page in moto_way] == [True, False]


def _big_document(number: int, padding: int) -> dict[str, Any]:
    item = to_item(make_document(filename=f"big {number:02d}.bin"))
    item["padding"] = {"S": "x" * padding}
    return item


def test_a_page_stops_once_it_has_read_1_mb(client: Any) -> None:
    table = _new_table(client)
    for number in range(12):
        client.put_item(TableName=table, Item=_big_document(number, 200_000))
    found = pages(client, Shape(USER_ID, SortField.CREATED, False, None).request(table))
    moto_table = _moto_table(table)
    sizes = [
        item_sizes.read_size(
            moto_table.get_item(DynamoType(i["userId"]), DynamoType(i["documentId"])).attrs,
            "documentId",
        )
        for page in found
        for i in page["Items"]
    ]
    # Each page takes items until it has read 1 MB or more (the item that crosses it included).
    counts = [page["Count"] for page in found]
    position = 0
    for count in counts[:-1]:
        page_sizes = sizes[position : position + count]
        assert sum(page_sizes) >= fast_query.PAGE_BYTES
        assert sum(page_sizes[:-1]) < fast_query.PAGE_BYTES
        position += count
    assert counts == [6, 6, 0]  # 200 kB items: the sixth crosses 1 MB; the twelfth does again
    assert [page.get("LastEvaluatedKey") is not None for page in found] == [True, True, False]


def test_a_page_stops_at_1_mb_by_the_sizes_items_have_after_updates(client: Any) -> None:
    """The sizes are measured once per item and kept: an item changed in place is measured
    again, an item replaced too."""
    table = _new_table(client)
    for number in range(12):
        client.put_item(TableName=table, Item=_big_document(number, 200_000))
    request = Shape(USER_ID, SortField.CREATED, False, None).request(table)
    found = pages(client, request)
    assert [page["Count"] for page in found] == [6, 6, 0]
    first = found[0]["Items"][0]
    key = {"userId": first["userId"], "documentId": first["documentId"]}

    client.update_item(  # in place, in moto: the first item shrinks to a few bytes
        TableName=table,
        Key=key,
        UpdateExpression="SET padding = :small",
        ExpressionAttributeValues={":small": {"S": "x"}},
    )
    assert [page["Count"] for page in pages(client, request)] == [7, 5]

    client.put_item(TableName=table, Item=first)  # a new item in its place, big again
    assert [page["Count"] for page in pages(client, request)] == [6, 6, 0]


def test_a_page_reads_only_what_it_returns_wherever_it_is(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cost of a page is its own items: not the partition's, not the pages before it."""
    table = _new_table(client)
    documents = [
        make_document(filename=f"n {n:04d}", tags=["rare"] if n % 400 == 7 else [])
        for n in range(1200)
    ]
    put_documents_into(client, table, documents)
    reads = []
    metered = fast_query._sizes.size  # each item read is metered towards the page's 1 MB
    monkeypatch.setattr(
        fast_query._sizes,
        "size",
        lambda *item_and_index: reads.append(1) or metered(*item_and_index),
    )
    request = Shape(USER_ID, SortField.NAME, True, 50).request(table)
    listed = 0
    while True:
        page = client.query(**request)
        listed += page["Count"]
        assert len(reads) == page["Count"] <= 50
        reads.clear()
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert listed == 1200
    filtered = Shape(USER_ID, SortField.NAME, False, 100, tag="rare").request(table)
    found = pages(client, filtered)
    rare_per_page = [sum(n % 400 == 7 for n in range(p * 100, p * 100 + 100)) for p in range(12)]
    assert [page["Count"] for page in found] == [*rare_per_page, 0]
    assert [page["ScannedCount"] for page in found] == [100] * 12 + [0]
    assert len(reads) == 1200


def test_a_write_around_the_sorted_lists_is_noticed(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    table = _new_table(client)
    put_documents_into(client, table, varied_documents(5))
    request = Shape(USER_ID, SortField.NAME, False, None).request(table)
    pages(client, request)  # builds the list
    stray = to_item(make_document(filename="stray.txt"))
    moto_table = _moto_table(table)
    key = DynamoType(stray["userId"])
    moto_table.items[key][DynamoType(stray["documentId"])] = Item(
        key, DynamoType(stray["documentId"]), stray
    )
    with caplog.at_level(logging.WARNING, logger=sorted_lists.__name__):
        found = pages(client, request)
    assert "went around" in caplog.text
    assert sum(page["Count"] for page in found) == 6


def test_shapes_it_does_not_cover_are_answered_by_moto(client: Any) -> None:
    table = _new_table(client)
    put_documents_into(client, table, varied_documents(6))
    answered = dict(fast_query.answered)
    legacy = {
        "TableName": table,
        "KeyConditions": {
            "userId": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": USER_ID}]}
        },
        "QueryFilter": {"size": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "3"}]}},
    }
    sorted_way, moto_way = _both_ways(client, legacy)
    assert sorted_way == moto_way
    outside = {
        **Shape(USER_ID, SortField.CREATED, False, 2).request(table),
        "ExclusiveStartKey": {"userId": {"S": "someone else"}, "documentId": {"S": "x"}},
    }
    first_page = client.query(**outside)
    with fast_query.answered_by_moto():
        assert client.query(**outside)["Items"] == first_page["Items"]
    assert fast_query.answered["sorted"] == answered["sorted"]
    assert fast_query.answered["moto"] > answered["moto"]


def test_queries_keep_no_copies_of_what_they_returned(client: Any) -> None:
    table = _new_table(client)
    put_documents_into(client, table, varied_documents(30))
    Item.instances_tracked.clear()
    request = Shape(USER_ID, SortField.CREATED, False, None).request(table)
    for _ in range(3):
        pages(client, request)
        with fast_query.answered_by_moto():
            pages(client, request)
    assert Item.instances_tracked == []


def test_other_hooks_on_the_same_methods_keep_working(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write-ahead log hooks moto's put_item too: both see every write, in either order of
    installing, and installing again hooks nothing twice."""
    from moto.dynamodb.models.table import Table

    seen: list[str] = []
    installed = Table.put_item

    @functools.wraps(installed)
    def recording(table: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        seen.append(item_attrs["documentId"]["S"])
        return installed(table, item_attrs, *args, **kwargs)

    monkeypatch.setattr(Table, "put_item", recording)
    fast_query.install()
    assert Table.put_item is recording  # ours is inside it already
    table = _new_table(client)
    request = Shape(USER_ID, SortField.NAME, False, None).request(table)
    pages(client, request)  # builds the list
    document = make_document(filename="late.txt")
    client.put_item(TableName=table, Item=to_item(document))
    assert seen == [document.document_id]
    assert [item["filename"]["S"] for item in pages(client, request)[0]["Items"]] == ["late.txt"]
