"""Writes and Queries to run on several DynamoDB implementations and compare, page by page.

A scenario is a list of writes through every write API the sandbox must follow (PutItem,
BatchWriteItem, UpdateItem, DeleteItem, TransactWriteItems; conditional ones that pass and fail;
updates that move an item in an index or out of a sparse one), on two users' partitions. Then the
same Queries, in the shapes the app sends (each sort order both ways, the filters, the checksum
index, the tag projection, Limits, cursors), run on each implementation, and their pages (Items,
Count, ScannedCount, LastEvaluatedKey) are compared.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from hypothesis import strategies as st

from dms_desktop.core import schema
from dms_desktop.core.models import Document, format_timestamp, tag_key
from dms_desktop.core.repository import to_item
from dms_desktop.core.schema import CHECKSUM_INDEX, SORT_INDEXES, SortField
from tests.support.aws import OTHER_USER_ID, USER_ID

EMPTY_USER = "us-east-1:00000000-0000-0000-0000-00000000e0e0"  # never written: an empty partition
USERS = (USER_ID, OTHER_USER_ID)
BASE_TIME = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

# Small pools, so that sort keys tie (the index's order then falls back to the table's key).
FILENAMES = ("a.pdf", "A.pdf", "b.txt", "Zebra notes.md", "é.png", "über 2.png", "10.txt", "9.txt")
FILE_TYPES = ("application/pdf", "image/png", "image/jpeg", "text/plain")
SIZES = (0, 1, 7, 1000, 123_456_789)
UPDATED_OFFSETS = (0, 1, 59, 3600)
TAGS = ("work", "Work", "home", "tax 2024")
CHECKSUMS = ("0" * 64, "a" * 64, "f" * 64)


def document_id(slot: int) -> str:
    """A fixed, valid document id per slot (hypothesis replays examples exactly)."""
    return str(uuid.UUID(int=(0x0190 << 112) | (0x7 << 76) | (0b10 << 62) | (slot * 7919 + 1)))


@dataclass(frozen=True)
class Values:
    """What a document's sortable attributes are made of (indexes into the pools)."""

    filename: int
    file_type: int
    size: int
    updated: int
    tags: tuple[int, ...]
    checksum: int


@dataclass(frozen=True)
class Key:
    user: int  # index into USERS
    slot: int

    @property
    def user_id(self) -> str:
        return USERS[self.user]

    @property
    def document_id(self) -> str:
        return document_id(self.slot)

    def item_key(self) -> dict[str, Any]:
        return {"userId": {"S": self.user_id}, "documentId": {"S": self.document_id}}


@dataclass(frozen=True)
class Shaping:
    """Whether a scenario's sort keys may tie within a partition (dynalite orders ties by a hash
    of the item's key, moto and the sandbox by the table's sort key: compare only without)."""

    unique_sort_keys: bool

    def filename(self, values: Values, key: Key) -> str:
        name = FILENAMES[values.filename]
        if not self.unique_sort_keys:
            return name
        stem, dot, extension = name.rpartition(".")
        return f"{stem} {key.slot:03d}{dot}{extension}"

    def size(self, values: Values, key: Key) -> int:
        base = SIZES[values.size]
        return base * 1000 + key.slot if self.unique_sort_keys else base

    def updated_at(self, values: Values, key: Key) -> datetime:
        seconds = UPDATED_OFFSETS[values.updated]
        if self.unique_sort_keys:
            seconds = seconds * 1000 + key.slot
        return BASE_TIME + timedelta(seconds=seconds)

    def checksum(self, values: Values, key: Key) -> str:
        if self.unique_sort_keys:
            return f"{values.checksum:02x}{key.slot:062x}"
        return CHECKSUMS[values.checksum]

    def document(self, key: Key, values: Values) -> Document:
        return Document(
            user_id=key.user_id,
            document_id=key.document_id,
            filename=self.filename(values, key),
            file_type=FILE_TYPES[values.file_type],
            size=self.size(values, key),
            tags=tuple(TAGS[index] for index in values.tags),
            created_at=BASE_TIME,
            updated_at=self.updated_at(values, key),
            s3_key=schema.object_key(key.user_id, key.document_id),
            checksum=self.checksum(values, key),
        )


# --- writes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Put:
    key: Key
    values: Values
    only_if_new: bool  # ConditionExpression attribute_not_exists (the app's create)


@dataclass(frozen=True)
class BatchWrite:
    puts: tuple[tuple[Key, Values], ...]
    deletes: tuple[Key, ...]


@dataclass(frozen=True)
class Update:
    key: Key
    values: Values
    rename: bool
    retag: bool
    resize: bool  # or, with drop_size, leave the bySize index
    drop_size: bool
    drop_checksum: bool  # leave the checksum index
    expected_version: int | None  # the app's version check; None: no condition (an upsert)


@dataclass(frozen=True)
class Delete:
    key: Key
    only_if_exists: bool


@dataclass(frozen=True)
class Transact:
    writes: tuple[Put | Update | Delete, ...]
    doomed: bool  # ends with a ConditionCheck that fails: nothing may change


Write = Put | BatchWrite | Update | Delete | Transact


def _put_request(shaping: Shaping, write: Put) -> dict[str, Any]:
    request: dict[str, Any] = {"Item": to_item(shaping.document(write.key, write.values))}
    if write.only_if_new:
        request["ConditionExpression"] = "attribute_not_exists(documentId)"
    return request


def _update_request(shaping: Shaping, write: Update) -> dict[str, Any]:
    values: dict[str, Any] = {}
    names = {"#version": "version"}
    sets = ["#version = if_not_exists(#version, :zero) + :one"]
    values[":zero"], values[":one"] = {"N": "0"}, {"N": "1"}
    removes = []
    key, chosen = write.key, write.values
    if write.rename:
        filename = shaping.filename(chosen, key)
        file_type = FILE_TYPES[chosen.file_type]
        sets += ["filename = :name", "nameKey = :nameKey", "typeKey = :typeKey", "fileType = :type"]
        values[":name"] = {"S": filename}
        values[":nameKey"] = {"S": tag_key(filename)}
        values[":typeKey"] = {"S": f"{file_type}\x00{tag_key(filename)}"}
        values[":type"] = {"S": file_type}
    if write.retag:
        tags = [TAGS[index] for index in chosen.tags]
        sets += ["tags = :tags", "tagKeys = :tagKeys"]
        values[":tags"] = {"L": [{"S": tag} for tag in tags]}
        values[":tagKeys"] = {"L": [{"S": tag_key(tag)} for tag in tags]}
    if write.drop_size:
        removes.append("#size")
        names["#size"] = "size"
    elif write.resize:
        sets.append("#size = :size")
        names["#size"] = "size"
        values[":size"] = {"N": str(shaping.size(chosen, key))}
    if write.drop_checksum:
        removes.append("checksum")
    sets.append("updatedAt = :updated")
    values[":updated"] = {"S": format_timestamp(shaping.updated_at(chosen, key))}
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    request: dict[str, Any] = {
        "Key": key.item_key(),
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if write.expected_version is not None:
        request["ConditionExpression"] = "attribute_exists(documentId) AND #version = :expected"
        values[":expected"] = {"N": str(write.expected_version)}
    return request


def _delete_request(write: Delete) -> dict[str, Any]:
    request: dict[str, Any] = {"Key": write.key.item_key()}
    if write.only_if_exists:
        request["ConditionExpression"] = "attribute_exists(documentId)"
    return request


def _outcome(action: Any) -> str:
    try:
        action()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def apply(client: Any, table: str, shaping: Shaping, write: Write, split_transactions: bool) -> str:
    """Make one write; returns "ok" or the error code. With ``split_transactions`` (dynalite
    has no TransactWriteItems) a transaction's writes are made one by one."""
    if isinstance(write, Put):
        return _outcome(lambda: client.put_item(TableName=table, **_put_request(shaping, write)))
    if isinstance(write, Update):
        request = _update_request(shaping, write)
        return _outcome(lambda: client.update_item(TableName=table, **request))
    if isinstance(write, Delete):
        return _outcome(lambda: client.delete_item(TableName=table, **_delete_request(write)))
    if isinstance(write, BatchWrite):
        requests = [
            {"PutRequest": {"Item": to_item(shaping.document(key, values))}}
            for key, values in write.puts
        ] + [{"DeleteRequest": {"Key": key.item_key()}} for key in write.deletes]
        return _outcome(lambda: client.batch_write_item(RequestItems={table: requests}))
    if split_transactions:
        for part in write.writes:
            apply(client, table, shaping, part, split_transactions)
        return "ok"
    items: list[dict[str, Any]] = []
    for part in write.writes:
        if isinstance(part, Put):
            items.append({"Put": {"TableName": table, **_put_request(shaping, part)}})
        elif isinstance(part, Update):
            items.append({"Update": {"TableName": table, **_update_request(shaping, part)}})
        else:
            items.append({"Delete": {"TableName": table, **_delete_request(part)}})
    if write.doomed:
        items.append(
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"userId": {"S": EMPTY_USER}, "documentId": {"S": document_id(999)}},
                    "ConditionExpression": "attribute_exists(documentId)",
                }
            }
        )
    return _outcome(lambda: client.transact_write_items(TransactItems=items))


def keys() -> st.SearchStrategy[Key]:
    return st.builds(Key, user=st.integers(0, len(USERS) - 1), slot=st.integers(0, 9))


def values() -> st.SearchStrategy[Values]:
    return st.builds(
        Values,
        filename=st.integers(0, len(FILENAMES) - 1),
        file_type=st.integers(0, len(FILE_TYPES) - 1),
        size=st.integers(0, len(SIZES) - 1),
        updated=st.integers(0, len(UPDATED_OFFSETS) - 1),
        tags=st.lists(st.integers(0, len(TAGS) - 1), max_size=3, unique=True).map(tuple),
        checksum=st.integers(0, len(CHECKSUMS) - 1),
    )


def _single_writes() -> st.SearchStrategy[Put | Update | Delete]:
    return st.one_of(
        st.builds(Put, key=keys(), values=values(), only_if_new=st.booleans()),
        st.builds(
            Update,
            key=keys(),
            values=values(),
            rename=st.booleans(),
            retag=st.booleans(),
            resize=st.booleans(),
            drop_size=st.sampled_from([False, False, False, True]),
            drop_checksum=st.sampled_from([False, False, False, True]),
            expected_version=st.sampled_from([None, None, 1, 2]),
        ),
        st.builds(Delete, key=keys(), only_if_exists=st.booleans()),
    )


@st.composite
def _batches(draw: st.DrawFn) -> BatchWrite:
    chosen = draw(st.lists(keys(), min_size=1, max_size=25, unique=True))
    split = draw(st.integers(0, len(chosen)))
    puts = tuple((key, draw(values())) for key in chosen[:split])
    return BatchWrite(puts=puts, deletes=tuple(chosen[split:]))


@st.composite
def _transactions(draw: st.DrawFn) -> Transact:
    parts = draw(st.lists(_single_writes(), min_size=1, max_size=4, unique_by=lambda w: w.key))
    return Transact(writes=tuple(parts), doomed=draw(st.booleans()))


def scenarios() -> st.SearchStrategy[list[Write]]:
    """Writes that start with a batch (so that partitions are not empty), then anything."""
    writes: st.SearchStrategy[Write] = st.one_of(
        _single_writes(), _single_writes(), _batches(), _transactions()
    )
    return st.tuples(_batches(), st.lists(writes, max_size=25)).map(
        lambda parts: [parts[0], *parts[1]]
    )


# --- queries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """One Query request (without ExclusiveStartKey): which partition, index, order, filter."""

    user: str
    sort: SortField | None  # None: the checksum index
    descending: bool
    limit: int | None
    tag: str | None = None
    text: str | None = None
    file_type: str | None = None
    sort_key_condition: tuple[str, tuple[Any, ...]] | None = None  # (operator, values)
    projection: str | None = None

    def request(self, table: str) -> dict[str, Any]:
        values: dict[str, Any] = {":user": {"S": self.user}}
        if self.sort is None:
            index_name: str | None = CHECKSUM_INDEX
            range_key, range_type = "checksum", "S"
        else:
            index_name, range_key, range_type = SORT_INDEXES[self.sort]
        condition = "userId = :user"
        if self.sort_key_condition is not None:
            operator, operands = self.sort_key_condition
            for number, operand in enumerate(operands):
                values[f":k{number}"] = {range_type: str(operand)}
            if operator == "begins_with":
                condition += " AND begins_with(#range, :k0)"
            elif operator == "BETWEEN":
                condition += " AND #range BETWEEN :k0 AND :k1"
            else:
                condition += f" AND #range {operator} :k0"
        request: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not self.descending,
        }
        if self.sort_key_condition is not None:
            request["ExpressionAttributeNames"] = {"#range": range_key}
        if index_name is not None:
            request["IndexName"] = index_name
        if self.limit is not None:
            request["Limit"] = self.limit
        filters = []
        if self.tag is not None:
            filters.append("contains(tagKeys, :tag)")
            values[":tag"] = {"S": tag_key(self.tag)}
        if self.text is not None:
            filters.append("contains(nameKey, :text)")
            values[":text"] = {"S": tag_key(self.text)}
        if self.file_type is not None:
            if self.file_type.endswith("/*"):
                filters.append("begins_with(fileType, :type)")
                values[":type"] = {"S": self.file_type[:-1]}
            else:
                filters.append("fileType = :type")
                values[":type"] = {"S": self.file_type}
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        if self.projection is not None:
            request["ProjectionExpression"] = self.projection
        return request


def _conditions(sort: SortField | None) -> st.SearchStrategy[tuple[str, tuple[Any, ...]] | None]:
    if sort is None:
        return st.sampled_from(CHECKSUMS).map(lambda value: ("=", (value,))) | st.none()
    if sort is SortField.SIZE:
        numbers = st.sampled_from([0, 1, 7, 500, 1000, 10**9])
        return (
            st.none()
            | st.tuples(st.sampled_from(["=", "<", "<=", ">", ">="]), st.tuples(numbers))
            | st.tuples(st.just("BETWEEN"), st.tuples(numbers, numbers).map(sorted).map(tuple))
        )
    if sort is SortField.NAME:
        texts = st.sampled_from(["a", "a.pdf", "b", "z", "é", "9", "10.txt", "zz"])
        return (
            st.none()
            | st.tuples(
                st.sampled_from(["=", "<", "<=", ">", ">=", "begins_with"]), st.tuples(texts)
            )
            | st.tuples(st.just("BETWEEN"), st.tuples(texts, texts).map(sorted).map(tuple))
        )
    return st.none()


@st.composite
def shapes(draw: st.DrawFn, users: tuple[str, ...] = (*USERS, EMPTY_USER)) -> Shape:
    """A Query shape the app sends (or a close variant: sort key conditions, other Limits)."""
    sort = draw(st.sampled_from([*SortField, None]))
    limit = draw(st.sampled_from([None, 1, 2, 3, 5, 101]))
    filtering = sort is not None and draw(st.booleans())
    return Shape(
        user=draw(st.sampled_from(users)),
        sort=sort,
        descending=draw(st.booleans()),
        limit=limit,
        tag=draw(st.sampled_from([None, "work", "HOME", "nothing"])) if filtering else None,
        text=draw(st.sampled_from([None, "a", "NOTES", ".png"])) if filtering else None,
        file_type=draw(st.sampled_from([None, "image/*", "text/plain"])) if filtering else None,
        sort_key_condition=draw(_conditions(sort)),
        projection=draw(st.sampled_from([None, None, "tags", "documentId, filename"])),
    )


def pages(client: Any, request: dict[str, Any], most: int = 200) -> list[dict[str, Any]]:
    """Every page of a Query, following LastEvaluatedKey (the raw responses, without metadata)."""
    request = dict(request)
    found = []
    for _ in range(most):
        response = client.query(**request)
        response.pop("ResponseMetadata", None)
        response.setdefault("Items", [])
        found.append(response)
        if "LastEvaluatedKey" not in response:
            return found
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    raise AssertionError("the Query never ends")


def outcome(client: Any, request: dict[str, Any]) -> list[dict[str, Any]] | str:
    """The pages of a Query, or the code of the error it raised."""
    try:
        return pages(client, request)
    except ClientError as error:
        return str(error.response["Error"]["Code"])


def without_moto_boundary(
    sorted_pages: list[dict[str, Any]], moto_pages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The sorted lists' pages as moto would give them: where a page stops at its Limit exactly
    at the end of the partition, DynamoDB (and the sandbox) return a LastEvaluatedKey and then an
    empty page; moto returns no key. Checks that this is the only difference it removes."""
    if len(sorted_pages) != len(moto_pages) + 1:
        return sorted_pages
    last, boundary = sorted_pages[-1], sorted_pages[-2]
    assert last == {"Items": [], "Count": 0, "ScannedCount": 0}, last
    assert "LastEvaluatedKey" in boundary and "LastEvaluatedKey" not in moto_pages[-1]
    trimmed = {name: value for name, value in boundary.items() if name != "LastEvaluatedKey"}
    return [*sorted_pages[:-2], trimmed]


def all_pages(
    client: Any, table: str, shapes_to_run: list[Shape]
) -> Iterator[tuple[Shape, list[dict[str, Any]] | str]]:
    for shape in shapes_to_run:
        yield shape, outcome(client, shape.request(table))
