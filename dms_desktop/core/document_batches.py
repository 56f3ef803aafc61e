"""Many documents of one user at once: batched reads, deletes and conditional writes.

DynamoDB's batch requests (BatchGetItem: 100 keys, BatchWriteItem: 25 deletes) and transactions
(up to 100 conditional writes, core.transactions) instead of a request per document; the answers
say what became of each document.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws import aws_errors, translate
from .batches import MAX_ATTEMPTS, READ_BATCH, WRITE_BATCH, BatchOutcome, Sleep, backoff
from .cancellation import CancelToken
from .errors import AuthError, ConfigError, Throttled
from .schema import item_key
from .transactions import ConditionalWrite, WritesOutcome, write_conditionally

ItemKey = tuple[str, str]  # (user id, document id)


class DocumentBatches:
    """Batched requests on the `Documents` table, through a low-level client (thread-safe)."""

    def __init__(self, client: Any, table_name: str, *, sleep: Sleep = time.sleep) -> None:
        self._client = client
        self._table = table_name
        self._sleep = sleep

    def read_items(
        self, user_id: str, document_ids: Iterable[str], projection: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """The stored items of ``document_ids`` that exist, as stored (low-level form, damaged
        ones too), by document id: BatchGetItem, 100 keys a request, consistent."""
        items: dict[str, dict[str, Any]] = {}
        wanted = list(dict.fromkeys(document_ids))
        for start in range(0, len(wanted), READ_BATCH):
            request: dict[str, Any] = {
                "Keys": [item_key(user_id, i) for i in wanted[start : start + READ_BATCH]],
                "ConsistentRead": True,
            }
            if projection:
                request["ProjectionExpression"] = projection
            pending: dict[str, Any] = {self._table: request}
            for attempt in range(MAX_ATTEMPTS):
                if attempt:
                    self._sleep(backoff(attempt))
                with aws_errors("read the documents' metadata"):
                    response = self._client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self._table, []):
                    items[str(item["documentId"]["S"])] = item
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
            else:
                raise Throttled(
                    "The documents table is busy (it kept refusing part of a read); "
                    "try again in a minute."
                )
        return items

    def write(
        self,
        writes: Sequence[ConditionalWrite],
        *,
        cancel: CancelToken | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> WritesOutcome:
        """Apply conditional writes, up to 100 a transaction (core.transactions)."""
        return write_conditionally(
            self._client, self._table, writes, cancel=cancel, progress=progress, sleep=self._sleep
        )

    def put_new_items(self, items: Sequence[dict[str, Any]]) -> None:
        """Write the items of new documents (ids the app has just made, so none exists but
        one an earlier attempt of the same item wrote), 25 per BatchWriteItem; unprocessed
        items are retried with backoff. Throttled if some are still left after that.

        BatchWriteItem has no conditions: only for ids that cannot be taken by anything else
        (a TransactWriteItems with conditions would do, but the sandbox's backend copies the
        whole table for each transaction)."""
        for start in range(0, len(items), WRITE_BATCH):
            pending = [
                {"PutRequest": {"Item": item}} for item in items[start : start + WRITE_BATCH]
            ]
            for attempt in range(MAX_ATTEMPTS):
                if attempt:
                    self._sleep(backoff(attempt))
                with aws_errors("save the documents' metadata"):
                    response = self._client.batch_write_item(RequestItems={self._table: pending})
                pending = list(response.get("UnprocessedItems", {}).get(self._table, []))
                if not pending:
                    break
            else:
                raise Throttled(
                    "The documents table is busy (it kept refusing part of a write); "
                    "try again in a minute."
                )

    def stored_names(self, user_id: str, document_ids: Iterable[str]) -> dict[str, str]:
        """The filename stored for each of ``document_ids`` that has metadata, damaged or not
        (BatchGetItem, 100 keys a request, consistent). Ids without metadata are left out."""
        # Read as stored: a damaged item is found too, so that it can be deleted.
        items = self.read_items(user_id, document_ids, "documentId, filename")
        return {
            document_id: str(item.get("filename", {}).get("S", ""))
            for document_id, item in items.items()
        }

    def delete_items(
        self,
        keys: Iterable[ItemKey],
        *,
        cancel: CancelToken | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> BatchOutcome[ItemKey]:
        """Delete the items of ``keys`` (user id, document id), 25 per BatchWriteItem.

        Unprocessed items are retried with backoff, up to 8 requests a batch; what is left then
        fails. A request that fails fails its batch, and the next batch is tried; access denied or
        a bad setup stops the run (``stopped_by``). ``cancel`` is checked before each batch;
        ``progress`` gets the number of keys dealt with so far after each batch. Deleting an
        item that is already gone succeeds (BatchWriteItem has no conditions).
        """
        todo = list(dict.fromkeys(keys))
        outcome: BatchOutcome[ItemKey] = BatchOutcome()
        for start in range(0, len(todo), WRITE_BATCH):
            if cancel is not None and cancel.cancelled:
                outcome.cancelled = True
            if outcome.cancelled or outcome.stopped_by is not None:
                outcome.not_attempted = todo[start:]
                break
            batch = todo[start : start + WRITE_BATCH]
            self._delete_batch(batch, outcome)
            if outcome.stopped_by is not None:
                outcome.not_attempted = todo[start:]
                break
            if progress is not None:
                progress(start + len(batch))
        return outcome

    def _delete_batch(self, batch: list[ItemKey], outcome: BatchOutcome[ItemKey]) -> None:
        pending = [{"DeleteRequest": {"Key": item_key(*key)}} for key in batch]
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self._sleep(backoff(attempt))
            outcome.requests += 1
            try:
                response = self._client.batch_write_item(RequestItems={self._table: pending})
            except (ClientError, BotoCoreError) as exc:
                error = translate(exc, "delete document metadata")
                if isinstance(error, AuthError | ConfigError):
                    outcome.stopped_by = error
                    return
                left = {_key_of(request) for request in pending}
                outcome.done += [key for key in batch if key not in left]
                outcome.failed.update((key, str(error)) for key in batch if key in left)
                return
            pending = list(response.get("UnprocessedItems", {}).get(self._table, []))
            if not pending:
                break
        left = {_key_of(request) for request in pending}
        outcome.done += [key for key in batch if key not in left]
        outcome.failed.update(
            (key, f"still unprocessed after {MAX_ATTEMPTS} attempts (the table is throttling)")
            for key in batch
            if key in left
        )


def _key_of(request: dict[str, Any]) -> ItemKey:
    key = request["DeleteRequest"]["Key"]
    return str(key["userId"]["S"]), str(key["documentId"]["S"])
