"""A third opinion on the sandbox's Queries: dynalite (an independent DynamoDB, written from
DynamoDB's documented behaviour) answers the same Queries after the same writes with the same
pages, item for item, key for key, including where moto differs from DynamoDB (the
LastEvaluatedKey of a page that stops at its Limit at the end of the partition; pages of 1 MB).

The scenarios keep sort keys unique within a partition: items that tie on an index's sort key
come in the table's key order from moto and the sandbox, and in the order of a hash of their key
from dynalite (DynamoDB does not say). tests/unit/sandbox/test_fast_query.py compares the
sandbox with moto with ties.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from dms_desktop.core import schema
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.repository import to_item
from dms_desktop.core.schema import SortField
from dms_desktop.sandbox import SandboxInfo, connect_or_start, fast_query, stop
from dms_desktop.sandbox.provisioning import sandbox_client
from tests.integration.test_sandbox_crashes import kill_9
from tests.support.aws import USER_ID, new_session
from tests.support.dynalite import dynalite_binary, running_dynalite
from tests.support.query_scenarios import (
    EMPTY_USER,
    USERS,
    Shape,
    Shaping,
    Transact,
    Write,
    apply,
    outcome,
    pages,
    scenarios,
    shapes,
)
from tests.unit.core.conftest import make_document

_tables = itertools.count()


@pytest.fixture(scope="module")
def dynalite() -> Iterator[Any]:
    binary = dynalite_binary()
    if binary is None:
        pytest.skip("dynalite is not installed (needs Node.js and npm; .ci/setup installs it)")
    with running_dynalite(binary) as endpoint:
        yield new_session().client("dynamodb", endpoint_url=endpoint)


@pytest.fixture
def sandbox_dynamodb() -> Iterator[Any]:
    """moto in this process, its Queries answered by the sandbox's sorted lists."""
    fast_query.install()
    with mock_aws():
        yield new_session().client("dynamodb")


def _tables_on(sandbox: Any, dynalite: Any) -> str:
    table = f"Documents-{next(_tables)}"
    sandbox.create_table(**schema.table_definition(table))
    dynalite.create_table(**schema.table_definition(table))
    dynalite.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.05})
    return table


def _dynamodb_accepts(shape: Shape) -> bool:
    # A filter on the index's own sort key (the app's text search in name order) is a
    # ValidationException on DynamoDB and dynalite; moto, and so the sandbox, accept it.
    return not (shape.sort is SortField.NAME and shape.text is not None)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    writes=scenarios(),
    queries=st.lists(shapes().filter(_dynamodb_accepts), min_size=4, max_size=10),
)
def test_dynalite_pages_every_query_shape_as_the_sandbox_does(
    sandbox_dynamodb: Any, dynalite: Any, writes: list[Write], queries: list[Shape]
) -> None:
    table = _tables_on(sandbox_dynamodb, dynalite)
    shaping = Shaping(unique_sort_keys=True)
    try:
        for write in writes:
            done = apply(sandbox_dynamodb, table, shaping, write, split_transactions=False)
            if isinstance(write, Transact):  # dynalite has no TransactWriteItems
                if done == "ok":
                    apply(dynalite, table, shaping, write, split_transactions=True)
                continue
            assert apply(dynalite, table, shaping, write, split_transactions=False) == done
        for shape in queries:
            request = shape.request(table)
            assert outcome(sandbox_dynamodb, request) == outcome(dynalite, request), request
    finally:
        dynalite.delete_table(TableName=table)


@pytest.mark.parametrize("limit", [None, 3, 6])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("tag", [None, "big"])
def test_pages_stop_at_1_mb_where_dynalite_stops(
    sandbox_dynamodb: Any, dynalite: Any, limit: int | None, descending: bool, tag: str | None
) -> None:
    table = _tables_on(sandbox_dynamodb, dynalite)
    try:
        for number in range(12):
            document = make_document(
                filename=f"big {number:02d}", tags=["big"] if number % 3 else []
            )
            item = to_item(document)
            item["padding"] = {"S": "x" * 200_000}
            for client in (sandbox_dynamodb, dynalite):
                client.put_item(TableName=table, Item=item)
        request = Shape(USER_ID, SortField.CREATED, descending, limit, tag=tag).request(table)
        assert outcome(sandbox_dynamodb, request) == outcome(dynalite, request)
    finally:
        dynalite.delete_table(TableName=table)


@pytest.mark.parametrize("user", [*USERS, EMPTY_USER])
def test_an_empty_partition_is_one_empty_page_on_both(
    sandbox_dynamodb: Any, dynalite: Any, user: str
) -> None:
    table = _tables_on(sandbox_dynamodb, dynalite)
    try:
        for sort in [*SortField, None]:
            request = Shape(user, sort, True, 5).request(table)
            assert outcome(sandbox_dynamodb, request) == outcome(dynalite, request)
            assert outcome(dynalite, request) == [{"Items": [], "Count": 0, "ScannedCount": 0}]
    finally:
        dynalite.delete_table(TableName=table)


def _sandbox_pages(info: SandboxInfo, request: dict[str, Any]) -> list[dict[str, Any]]:
    dynamodb = sandbox_client(info.endpoint_url, "dynamodb", None)
    try:
        return pages(dynamodb, request)
    finally:
        dynamodb.close()


def _write_documents(info: SandboxInfo, documents: list[Any]) -> None:
    dynamodb = sandbox_client(info.endpoint_url, "dynamodb", None)
    try:
        for document in documents:
            dynamodb.put_item(TableName=info.table, Item=to_item(document))
    finally:
        dynamodb.close()


@pytest.mark.server
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_the_sandbox_server_pages_like_dynamodb_also_after_kill_9(tmp_path: Path) -> None:
    """The server installs the sorted lists (a page that stops at its Limit at the end of the
    partition has a key, as on DynamoDB), keeps them in step with writes, and builds them again
    from the state it restarts with after a kill -9 (its checkpoint and write-ahead log)."""
    paths = AppPaths.resolve(tmp_path / "home")
    user = "us-east-1:fast-query-restart"
    documents = [make_document(user, filename=f"n{n}") for n in range(4)]

    def listed(info: SandboxInfo) -> tuple[list[int], list[str]]:
        found = _sandbox_pages(info, Shape(user, SortField.NAME, False, 2).request(info.table))
        names = [item["filename"]["S"] for page in found for item in page["Items"]]
        return [page["Count"] for page in found], names

    try:
        info = connect_or_start(paths)
        _write_documents(info, documents)
        assert listed(info) == ([2, 2, 0], ["n0", "n1", "n2", "n3"])  # builds the list
        _write_documents(info, [make_document(user, filename="n9")])
        dynamodb = sandbox_client(info.endpoint_url, "dynamodb", None)
        try:
            dynamodb.delete_item(
                TableName=info.table,
                Key={"userId": {"S": user}, "documentId": {"S": documents[1].document_id}},
            )
        finally:
            dynamodb.close()
        assert listed(info) == ([2, 2, 0], ["n0", "n2", "n3", "n9"])
        kill_9(info)
        info = connect_or_start(paths)
        assert listed(info) == ([2, 2, 0], ["n0", "n2", "n3", "n9"])
    finally:
        stop(paths)


@pytest.mark.server
def test_moto_answers_every_query_when_the_sorted_lists_are_switched_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DMS_SANDBOX_FAST_QUERY=0 where the sandbox starts: moto's Query (no key at the end)."""
    monkeypatch.setenv(fast_query.DISABLE_ENV, "0")
    paths = AppPaths.resolve(tmp_path / "home")
    user = "us-east-1:fast-query-off"
    try:
        info = connect_or_start(paths)
        _write_documents(info, [make_document(user, filename=f"n{n}") for n in range(4)])
        request = Shape(user, SortField.NAME, False, 2).request(info.table)
        assert [page["Count"] for page in _sandbox_pages(info, request)] == [2, 2]
    finally:
        stop(paths)
