"""Conditional writes of many items, batched: up to 100 in one TransactWriteItems request.

BatchWriteItem has no conditions and cannot update; one UpdateItem per document would take 1,000
requests for 1,000 documents. A transaction takes up to 100 conditional writes and applies all
or none of them: when some conditions fail, DynamoDB names them (its cancellation reasons), and
the others are sent again in the next request without them. So every write keeps its condition
(a version, "still in the trash", ...) and 1,000 documents take about ten requests.

A failed condition is the caller's business (:attr:`WritesOutcome.refused`); a transaction that
collides with another one, or a throttled request, is retried with backoff; access denied or a
bad setup stops the run (``stopped_by``) and leaves the rest not attempted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws import error_code, translate
from .batches import MAX_ATTEMPTS, Sleep, backoff
from .cancellation import CancelToken
from .errors import AuthError, ConfigError, DmsError

log = logging.getLogger(__name__)

TRANSACTION_ITEMS = 100  # TransactWriteItems' limit
_RETRIED_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


@dataclass(frozen=True)
class ConditionalWrite:
    """One item's write: an update (``update`` is its UpdateExpression) or, without one, a
    delete; either only if ``condition`` holds. ``values`` are low-level typed values."""

    document_id: str
    key: dict[str, Any]
    condition: str
    update: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def request(self, table: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "TableName": table,
            "Key": self.key,
            "ConditionExpression": self.condition,
        }
        if self.update is not None:
            body["UpdateExpression"] = self.update
        if self.names:
            body["ExpressionAttributeNames"] = self.names
        if self.values:
            body["ExpressionAttributeValues"] = self.values
        return {"Update" if self.update is not None else "Delete": body}


@dataclass
class WritesOutcome:
    """Each write of a run, by document id: done, refused (its condition failed), failed (with
    the reason) or not attempted (cancelled, or stopped)."""

    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    not_attempted: list[str] = field(default_factory=list)
    requests: int = 0
    cancelled: bool = False
    stopped_by: DmsError | None = None


def write_conditionally(
    client: Any,
    table: str,
    writes: Sequence[ConditionalWrite],
    *,
    cancel: CancelToken | None = None,
    progress: Callable[[int], None] | None = None,
    sleep: Sleep = time.sleep,
) -> WritesOutcome:
    """Apply ``writes`` (one per document) in transactions of up to 100; see the module
    docstring. ``progress`` gets the number of writes dealt with so far after each request."""
    outcome = WritesOutcome()
    todo = list(writes)
    dealt_with = 0
    for start in range(0, len(todo), TRANSACTION_ITEMS):
        if cancel is not None and cancel.cancelled:
            outcome.cancelled = True
        if outcome.cancelled or outcome.stopped_by is not None:
            outcome.not_attempted += [write.document_id for write in todo[start:]]
            break
        batch = todo[start : start + TRANSACTION_ITEMS]
        _write_batch(client, table, batch, outcome, sleep)
        if outcome.stopped_by is not None:
            outcome.not_attempted += [
                write.document_id
                for write in todo[start:]
                if write.document_id not in outcome.done
                and write.document_id not in outcome.refused
                and write.document_id not in outcome.failed
            ]
            break
        dealt_with += len(batch)
        if progress is not None:
            progress(dealt_with)
    return outcome


def _write_batch(
    client: Any,
    table: str,
    batch: list[ConditionalWrite],
    outcome: WritesOutcome,
    sleep: Sleep,
) -> None:
    pending = list(batch)
    attempt = 0
    while pending:
        outcome.requests += 1
        try:
            # botocore gives each call a ClientRequestToken and resends it with its retries, so
            # a request that timed out but was applied is not applied twice (and then refused).
            client.transact_write_items(TransactItems=[w.request(table) for w in pending])
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and error_code(exc) == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or []
                refused = {
                    write.document_id
                    for write, reason in zip(pending, reasons, strict=False)
                    if reason.get("Code") == "ConditionalCheckFailed"
                }
                retried = any(reason.get("Code") in _RETRIED_REASONS for reason in reasons)
                if refused:
                    outcome.refused += [w.document_id for w in pending if w.document_id in refused]
                    pending = [w for w in pending if w.document_id not in refused]
                    continue  # the others were not applied: send them again without these
                if not retried:
                    codes = ", ".join(sorted({str(r.get("Code")) for r in reasons})) or "?"
                    for write in pending:
                        outcome.failed[write.document_id] = f"refused by the table ({codes})"
                    return
            else:
                error = translate(exc, "change the documents")
                if isinstance(error, AuthError | ConfigError):
                    outcome.stopped_by = error
                    return
                if not _is_retried(exc):
                    for write in pending:
                        outcome.failed[write.document_id] = str(error)
                    return
            attempt += 1
            if attempt >= MAX_ATTEMPTS:
                for write in pending:
                    outcome.failed[write.document_id] = (
                        f"still refused after {MAX_ATTEMPTS} attempts (the table is busy)"
                    )
                return
            sleep(backoff(attempt))
            continue
        outcome.done += [write.document_id for write in pending]
        return


def _is_retried(exc: ClientError | BotoCoreError) -> bool:
    """Throttling and conflicts with other transactions pass; try again after a pause."""
    return isinstance(exc, ClientError) and error_code(exc) in {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "TransactionConflictException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
    }
