"""Document metadata in DynamoDB: create, get, page through, update with a version lock, delete.

Paging is by hand with ``Limit`` + ``ExclusiveStartKey``. The cursor handed to callers is the key
of the last document *returned* (not DynamoDB's ``LastEvaluatedKey``), encoded, so a page cut
short because it was full resumes exactly after its last row; with filters, DynamoDB pages are
pulled until the requested page is full or the partition ends (a rare tag never shows as empty
pages). Both end-of-partition shapes are handled: no ``LastEvaluatedKey`` (moto at an exact page
boundary) and a ``LastEvaluatedKey`` followed by an empty page (DynamoDB).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from .aws import aws_errors, error_code
from .batches import BatchOutcome, Sleep
from .cancellation import CancelToken
from .cursors import decode_cursor, encode_cursor
from .document_batches import DocumentBatches, ItemKey
from .errors import (
    Conflict,
    IntegrityError,
    InTrash,
    NotFound,
    ValidationError,
)
from .items import ScanFilter, StoredItem, stored_item
from .items import from_item as from_item
from .items import to_item as to_item
from .listing import MAX_PAGE_SIZE, ListQuery, Page
from .models import Document, format_timestamp, normalize_filename, normalize_tags, tag_key, utc_now
from .schema import (
    CHECKSUM_INDEX,
    NAME_KEY,
    OWNER_NAME,
    SORT_INDEXES,
    TAG_KEYS,
    TRASH_INDEX,
    TRASHED_AT,
    TYPE_KEY,
    SortField,
    item_key,
)

log = logging.getLogger(__name__)

_FILTER_READ_GROWTH = 2  # filtered listing: each further DynamoDB read asks for twice as many
NOT_IN_TRASH = f"attribute_not_exists({TRASHED_AT})"

_serializer = TypeSerializer()


class DocumentRepository:
    """The `Documents` table, through a low-level DynamoDB client (thread-safe)."""

    def __init__(self, client: Any, table_name: str, *, sleep: Sleep = time.sleep) -> None:
        self._client = client
        self._table = table_name
        self._sleep = sleep  # between retries of a batch's unprocessed part
        self.batches = DocumentBatches(client, table_name, sleep=sleep)

    @property
    def client(self) -> Any:
        """The low-level DynamoDB client (for core.versions' conditional writes)."""
        return self._client

    @property
    def table_name(self) -> str:
        return self._table

    def create(self, document: Document, *, owner_name: str | None = None) -> Document:
        """Store a new document's metadata; ``owner_name`` is kept on the item for the admin
        tools (see core.owner_names), not part of the document."""
        item = to_item(document)
        if owner_name:
            item[OWNER_NAME] = {"S": owner_name}
        with aws_errors("save the document's metadata"):
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(documentId)",
                )
            except self._client.exceptions.ConditionalCheckFailedException as exc:
                raise Conflict(
                    f"A document with id {document.document_id} already exists."
                ) from exc
        return document

    def get(self, user_id: str, document_id: str) -> Document:
        with aws_errors("read the document"):
            response = self._client.get_item(
                TableName=self._table, Key=item_key(user_id, document_id), ConsistentRead=True
            )
        item = response.get("Item")
        if item is None:
            raise NotFound(f"There is no document with id {document_id}.")
        return from_item(item)

    def list_page(self, user_id: str, query: ListQuery, cursor: str | None = None) -> Page:
        """One page of the user's documents in the query's order, and the cursor of the next.

        A cursor is given only when another document follows: the page looks one document
        ahead. DynamoDB returns a ``LastEvaluatedKey`` when a read ends exactly at the end of the
        partition (and then an empty page), so that key alone does not tell."""
        index_name, range_key, range_type = SORT_INDEXES[query.sort]
        key_types = {"userId": "S", "documentId": "S", range_key: range_type}
        key_names = tuple(key_types)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "userId = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}},
            "ScanIndexForward": not query.descending,
        }
        if index_name is not None:
            request["IndexName"] = index_name
        _add_filters(request, query)
        start = decode_cursor(cursor, user_id, key_types) if cursor else None
        wanted = query.page_size + 1  # the page and one more, which only proves there is more
        read_size = min(wanted, MAX_PAGE_SIZE)
        documents: list[Document] = []
        last_item: dict[str, Any] = {}
        damaged: list[str] = []
        requests = 0
        while True:
            if start is not None:
                request["ExclusiveStartKey"] = start
            request["Limit"] = read_size
            with aws_errors("list the documents"):
                response = self._client.query(**request)
            requests += 1
            for item in response.get("Items", []):
                try:
                    document = from_item(item)
                except IntegrityError as error:
                    # One damaged item must not hide the rest of the list: leave it out, say so.
                    log.warning("left a damaged item out of the list: %s", error)
                    damaged.append(str(item.get("documentId", {}).get("S", "?")))
                    continue
                if len(documents) == query.page_size:  # the look-ahead: there is more
                    next_cursor = encode_cursor(last_item, key_names)
                    return Page(documents, next_cursor, requests, tuple(damaged))
                documents.append(document)
                last_item = item
            start = response.get("LastEvaluatedKey")
            if start is None:
                return Page(documents, None, requests, tuple(damaged))
            if query.is_filtered:
                read_size = min(read_size * _FILTER_READ_GROWTH, MAX_PAGE_SIZE)
            else:
                read_size = min(wanted - len(documents), MAX_PAGE_SIZE)

    def trash_page(
        self,
        user_id: str,
        page_size: int,
        cursor: str | None = None,
        *,
        trashed_before: str | None = None,
    ) -> Page:
        """One page of the user's trash, the most recently deleted first (the sparse trash
        index: one Query, whatever the size of the partition). ``trashed_before`` (a
        timestamp as stored): only documents deleted before it. The index is eventually
        consistent: a document deleted a moment ago may show a moment later."""
        key_types = {"userId": "S", "documentId": "S", TRASHED_AT: "S"}
        values: dict[str, Any] = {":user": {"S": user_id}}
        condition = "userId = :user"
        if trashed_before is not None:
            condition += f" AND {TRASHED_AT} < :before"
            values[":before"] = {"S": trashed_before}
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": TRASH_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": page_size,
        }
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(cursor, user_id, key_types)
        with aws_errors("list the trash"):
            response = self._client.query(**request)
        documents: list[Document] = []
        damaged: list[str] = []
        for item in response.get("Items", []):
            try:
                documents.append(from_item(item))
            except IntegrityError as error:
                log.warning("left a damaged item out of the trash: %s", error)
                damaged.append(str(item.get("documentId", {}).get("S", "?")))
        last = response.get("LastEvaluatedKey")
        next_cursor = encode_cursor(last, tuple(key_types)) if last else None
        return Page(documents, next_cursor, 1, tuple(damaged))

    def iter_all(self, user_id: str, query: ListQuery) -> Iterator[Document]:
        cursor: str | None = None
        while True:
            page = self.list_page(user_id, query, cursor)
            yield from page.documents
            if page.cursor is None:
                return
            cursor = page.cursor

    def tag_counts(self, user_id: str) -> dict[str, int]:
        """Each of the user's tags (first spelling seen) with how many documents carry it.

        Reads only the tags of the user's partition (a projection), page by page; documents in
        the trash are not counted.
        """
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "userId = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}},
            "ProjectionExpression": f"tags, {TRASHED_AT}",
        }
        counts: dict[str, int] = {}
        spellings: dict[str, str] = {}
        with aws_errors("count the tags"):
            while True:
                response = self._client.query(**request)
                for item in response.get("Items", []):
                    if TRASHED_AT in item:
                        continue  # the trash's documents are not browsed by tag
                    for value in item.get("tags", {}).get("L", []):
                        tag = value.get("S", "")
                        spelling = spellings.setdefault(tag_key(tag), tag)
                        counts[spelling] = counts.get(spelling, 0) + 1
                if "LastEvaluatedKey" not in response:
                    return counts
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def find_by_checksum(self, user_id: str, checksum: str) -> list[str]:
        """Ids of the user's documents whose body has this checksum (for duplicate warnings)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": CHECKSUM_INDEX,
            "KeyConditionExpression": "userId = :user AND checksum = :sum",
            "ExpressionAttributeValues": {":user": {"S": user_id}, ":sum": {"S": checksum}},
        }
        ids: list[str] = []
        with aws_errors("look for duplicates"):
            while True:
                response = self._client.query(**request)
                ids.extend(item["documentId"]["S"] for item in response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    return ids
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def checksums(self, user_id: str) -> dict[str, list[str]]:
        """Every checksum of the user's documents and their ids (the checksum index, read
        whole): the duplicate check of a job of many files, one read instead of one per file."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": CHECKSUM_INDEX,
            "KeyConditionExpression": "userId = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}},
            "ProjectionExpression": "checksum, documentId",
        }
        found: dict[str, list[str]] = {}
        with aws_errors("look for duplicates"):
            while True:
                response = self._client.query(**request)
                for item in response.get("Items", []):
                    checksum = item.get("checksum", {}).get("S")
                    if checksum:
                        found.setdefault(checksum, []).append(item["documentId"]["S"])
                if "LastEvaluatedKey" not in response:
                    return found
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def find_by_name(self, user_id: str, filename: str) -> list[Document]:
        """The user's documents named ``filename``, ignoring case (one Query on the name
        index, not a listing of everything). Damaged items and the trash are left out."""
        index_name, range_key, _ = SORT_INDEXES[SortField.NAME]
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index_name,
            "KeyConditionExpression": "userId = :user AND #name = :name",
            "ExpressionAttributeNames": {"#name": range_key},
            "ExpressionAttributeValues": {
                ":user": {"S": user_id},
                ":name": {"S": tag_key(filename)},
            },
            "FilterExpression": NOT_IN_TRASH,
        }
        documents: list[Document] = []
        with aws_errors("look up the document by name"):
            while True:
                response = self._client.query(**request)
                for item in response.get("Items", []):
                    try:
                        documents.append(from_item(item))
                    except IntegrityError as error:
                        log.warning("left a damaged item out of a name lookup: %s", error)
                if "LastEvaluatedKey" not in response:
                    return documents
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def update(
        self,
        user_id: str,
        document_id: str,
        expected_version: int,
        *,
        filename: str | None = None,
        tags: tuple[str, ...] | list[str] | None = None,
    ) -> Document:
        """Rename and/or retag, only if the stored version is still ``expected_version``."""
        if filename is None and tags is None:
            raise ValidationError("Nothing to change: give a new filename or tags.")
        values: dict[str, Any] = {
            ":expected": expected_version,
            ":one": 1,
            ":now": format_timestamp(utc_now()),
        }
        names: dict[str, str] = {"#version": "version"}
        assignments = ["#version = #version + :one", "updatedAt = :now"]
        if filename is not None:
            clean = normalize_filename(filename)
            values[":filename"] = clean
            values[":nameKey"] = tag_key(clean)
            assignments += [
                "filename = :filename",
                f"{NAME_KEY} = :nameKey",
                f"{TYPE_KEY} = :typeKey",
            ]
        if tags is not None:
            clean_tags = normalize_tags(tags)
            values[":tags"] = list(clean_tags)
            values[":tagKeys"] = [tag_key(tag) for tag in clean_tags]
            assignments += ["tags = :tags", f"{TAG_KEYS} = :tagKeys"]
        if filename is not None:
            # typeKey embeds the name; it needs the stored type, which a condition cannot read.
            current = self.get(user_id, document_id)
            values[":typeKey"] = f"{current.file_type}\x00{values[':nameKey']}"
        with aws_errors("update the document"):
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key=item_key(user_id, document_id),
                    UpdateExpression="SET " + ", ".join(assignments),
                    ConditionExpression=(
                        f"attribute_exists(documentId) AND #version = :expected AND {NOT_IN_TRASH}"
                    ),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={
                        name: _serializer.serialize(value) for name, value in values.items()
                    },
                    ReturnValues="ALL_NEW",
                )
            except self._client.exceptions.ConditionalCheckFailedException as exc:
                raise self._explain_failed_update(user_id, document_id, expected_version) from exc
        return from_item(response["Attributes"])

    def _explain_failed_update(
        self, user_id: str, document_id: str, expected_version: int
    ) -> Exception:
        try:
            current = self.get(user_id, document_id)
        except NotFound as missing:
            return missing
        if current.in_trash:
            return InTrash(current.filename, document_id)
        return Conflict(
            f"{current.filename!r} was changed elsewhere (version {current.version}, you edited "
            f"version {expected_version}); reload it and make your change again."
        )

    def delete(self, user_id: str, document_id: str) -> Document | None:
        """Delete the metadata; NotFound if it is already gone. Returns what was deleted (None if
        the item was damaged: not a valid document, deleted all the same)."""
        with aws_errors("delete the document"):
            try:
                response = self._client.delete_item(
                    TableName=self._table,
                    Key=item_key(user_id, document_id),
                    ConditionExpression="attribute_exists(documentId)",
                    ReturnValues="ALL_OLD",
                )
            except self._client.exceptions.ConditionalCheckFailedException as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    raise NotFound(f"There is no document with id {document_id}.") from exc
                raise
        try:
            return from_item(response["Attributes"])
        except IntegrityError as damaged:
            log.warning("deleted a damaged item: %s", damaged)
            return None

    def exists(self, user_id: str, document_id: str) -> bool:
        """Whether the document has metadata (a consistent read of its key only)."""
        with aws_errors("read a document's metadata"):
            response = self._client.get_item(
                TableName=self._table,
                Key=item_key(user_id, document_id),
                ConsistentRead=True,
                ProjectionExpression="documentId",
            )
        return "Item" in response

    def stored_names(self, user_id: str, document_ids: Iterable[str]) -> dict[str, str]:
        """The filename stored for each of ``document_ids`` that has metadata, damaged or not
        (batched); ids without metadata are left out (see core.document_batches)."""
        return self.batches.stored_names(user_id, document_ids)

    def delete_items(
        self,
        keys: Iterable[ItemKey],
        *,
        cancel: CancelToken | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> BatchOutcome[ItemKey]:
        """Delete the items of ``keys``, 25 per BatchWriteItem (see core.document_batches)."""
        return self.batches.delete_items(keys, cancel=cancel, progress=progress)

    def scan(
        self,
        keep: ScanFilter | None = None,
        *,
        segments: int = 1,
        cancel: CancelToken | None = None,
    ) -> Iterator[StoredItem]:
        """Every user's items (that ``keep`` lets through), read leniently, page by page (admins
        only: users may not Scan). ``segments`` > 1 reads the table in that many segments, one
        after the other. ``cancel`` is checked before each page."""
        request: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
        if keep is not None:
            expression, names, values = keep.expression()
            if expression:
                request["FilterExpression"] = expression
                request["ExpressionAttributeValues"] = values
                if names:
                    request["ExpressionAttributeNames"] = names
        parts = [None] if segments <= 1 else list(range(segments))
        for segment in parts:
            page_request = dict(request)
            if segment is not None:
                page_request.update(Segment=segment, TotalSegments=segments)
            while True:
                if cancel is not None:
                    cancel.raise_if_cancelled("Reading every document")
                with aws_errors("scan the documents table"):
                    response = self._client.scan(**page_request)
                for item in response.get("Items", []):
                    yield stored_item(item)
                last = response.get("LastEvaluatedKey")
                if not last:
                    break
                page_request["ExclusiveStartKey"] = last


def _add_filters(request: dict[str, Any], query: ListQuery) -> None:
    conditions: list[str] = [NOT_IN_TRASH]
    values = request["ExpressionAttributeValues"]
    if query.tag:
        conditions.append(f"contains({TAG_KEYS}, :tag)")
        values[":tag"] = {"S": tag_key(query.tag)}
    if query.text:
        conditions.append(f"contains({NAME_KEY}, :text)")
        values[":text"] = {"S": tag_key(query.text)}
    if query.file_type:
        wanted = query.file_type.strip().lower()
        if wanted.endswith("/*"):
            conditions.append("begins_with(fileType, :type)")
            values[":type"] = {"S": wanted[:-1]}
        else:
            conditions.append("fileType = :type")
            values[":type"] = {"S": wanted}
    request["FilterExpression"] = " AND ".join(conditions)
