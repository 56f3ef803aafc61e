"""The trash: deleting a document moves it there, and a restore brings it back as it was.

Moving to the trash changes only the item: it gets ``trashedAt`` (which puts it in the sparse
trash index and out of every list, search and tag count), ``purgeAt`` and the table's TTL
(``expiresAt``) set to when the trash purges it. Its id, name, tags, version, body and the
body's versions stay as they are, so a restore (which removes those attributes again) gives back
exactly the document that was deleted. A test record keeps its own expiry aside
(``keptExpiresAt``) and gets it back on restore.

Both are batched: one BatchGetItem per 100 documents (what is there, and a test record's
expiry), then conditional writes in transactions of up to 100 (core.transactions), each only if
the document is still as read (not in the trash yet; still in the trash since the same moment).

The purge itself is DynamoDB's: the TTL deletes the item once ``expiresAt`` has passed (the
sandbox does the same), and a consumer of the table's stream deletes the body.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from .cancellation import CancelToken, ProgressCallback
from .change_report import ChangeReport, ChangeResult, ChangeStatus
from .document_batches import DocumentBatches
from .errors import Cancelled, Conflict, DmsError, IntegrityError, InTrash, NotFound, Unavailable
from .items import from_item, trash_expiry
from .models import Document, format_timestamp, parse_timestamp, utc_now
from .schema import EXPIRES_AT, KEPT_EXPIRES_AT, PURGE_AT, TRASHED_AT, item_key
from .transactions import ConditionalWrite, WritesOutcome

log = logging.getLogger(__name__)


def purge_time(trashed_at: datetime, days: int) -> int:
    """When a document moved to the trash at ``trashed_at`` is purged (epoch seconds)."""
    return math.ceil((trashed_at + timedelta(days=days)).timestamp())


def move_to_trash(
    batches: DocumentBatches,
    user_id: str,
    document_ids: Sequence[str],
    *,
    days: int,
    now: datetime | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> ChangeReport:
    """Move ``document_ids`` (checked, distinct) to the trash, to be purged ``days`` from now.

    Raises (nothing moved) only if the first read fails; later failures are in the report, as
    are documents that are gone or already in the trash (NOT_FOUND)."""
    moment = now or utc_now()
    trashed_at = format_timestamp(moment)
    purge_at = purge_time(moment, days)
    items = read_for_change(batches, user_id, document_ids, progress)
    results: dict[str, ChangeResult] = {}
    writes: list[ConditionalWrite] = []
    after: dict[str, Document | None] = {}
    for document_id in document_ids:
        item = items.get(document_id)
        name = stored_name(item)
        if item is None:
            results[document_id] = missing_result(document_id)
        elif TRASHED_AT in item:
            results[document_id] = ChangeResult(
                document_id, ChangeStatus.NOT_FOUND, name, InTrash(name, document_id)
            )
        else:
            own_expiry = _number(item.get(EXPIRES_AT))
            values: dict[str, Any] = {
                ":at": {"S": trashed_at},
                ":purge": {"N": str(purge_at)},
                ":ttl": {"N": str(trash_expiry(purge_at, own_expiry))},
            }
            assignments = [f"{TRASHED_AT} = :at", f"{PURGE_AT} = :purge", f"{EXPIRES_AT} = :ttl"]
            condition = f"attribute_exists(documentId) AND attribute_not_exists({TRASHED_AT})"
            if own_expiry is None:
                condition += f" AND attribute_not_exists({EXPIRES_AT})"
            else:
                values[":kept"] = {"N": str(own_expiry)}
                assignments.append(f"{KEPT_EXPIRES_AT} = :kept")
                condition += f" AND {EXPIRES_AT} = :kept"
            writes.append(
                ConditionalWrite(
                    document_id,
                    item_key(user_id, document_id),
                    condition,
                    update="SET " + ", ".join(assignments),
                    values=values,
                )
            )
            document = _document(item)
            after[document_id] = (
                None
                if document is None
                else document.model_copy(
                    update={"trashed_at": parse_timestamp(trashed_at), "purge_at": purge_at}
                )
            )
    outcome = write_changes(batches, writes, len(document_ids), cancel, progress)
    report = change_report(batches, user_id, document_ids, items, results, outcome, after)
    log.info("moved %d of %d documents to the trash", len(report.done), len(document_ids))
    return report


def restore_from_trash(
    batches: DocumentBatches,
    user_id: str,
    document_ids: Sequence[str],
    *,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> ChangeReport:
    """Take ``document_ids`` (checked, distinct) out of the trash, as they were before.

    A document that is not in the trash (restored already, never deleted, or purged) is
    NOT_FOUND; nothing else is changed."""
    items = read_for_change(batches, user_id, document_ids, progress)
    results: dict[str, ChangeResult] = {}
    writes: list[ConditionalWrite] = []
    after: dict[str, Document | None] = {}
    for document_id in document_ids:
        item = items.get(document_id)
        name = stored_name(item)
        if item is None:
            results[document_id] = missing_result(document_id, purged=True)
        elif TRASHED_AT not in item:
            results[document_id] = ChangeResult(
                document_id,
                ChangeStatus.NOT_FOUND,
                name,
                NotFound(f"{name or document_id!r} is not in the trash."),
            )
        else:
            kept = _number(item.get(KEPT_EXPIRES_AT))
            removed = [TRASHED_AT, PURGE_AT, KEPT_EXPIRES_AT]
            values: dict[str, Any] = {":at": item[TRASHED_AT]}
            update = ""
            if kept is None:
                removed.append(EXPIRES_AT)
            else:
                update = f"SET {EXPIRES_AT} = :kept "
                values[":kept"] = {"N": str(kept)}
            writes.append(
                ConditionalWrite(
                    document_id,
                    item_key(user_id, document_id),
                    f"{TRASHED_AT} = :at",  # still in the trash since the moment read
                    update=update + "REMOVE " + ", ".join(removed),
                    values=values,
                )
            )
            document = _document(item)
            after[document_id] = (
                None
                if document is None
                else document.model_copy(update={"trashed_at": None, "purge_at": None})
            )
    outcome = write_changes(batches, writes, len(document_ids), cancel, progress)
    report = change_report(batches, user_id, document_ids, items, results, outcome, after)
    log.info("restored %d of %d documents from the trash", len(report.done), len(document_ids))
    return report


# --- the steps of a batched change (shared with core.bulk_tags) -------------------------------


def read_for_change(
    batches: DocumentBatches,
    user_id: str,
    document_ids: Sequence[str],
    progress: ProgressCallback | None,
) -> dict[str, dict[str, Any]]:
    if progress is not None:
        progress(0, len(document_ids))
    return batches.read_items(user_id, document_ids)


def write_changes(
    batches: DocumentBatches,
    writes: list[ConditionalWrite],
    total: int,
    cancel: CancelToken | None,
    progress: ProgressCallback | None,
) -> WritesOutcome:
    skipped = total - len(writes)  # answered by the read already

    def relay(done: int) -> None:
        if progress is not None:
            progress(skipped + done, total)

    outcome = batches.write(writes, cancel=cancel, progress=relay)
    if progress is not None:
        progress(total, total)
    return outcome


def change_report(
    batches: DocumentBatches,
    user_id: str,
    document_ids: Sequence[str],
    items: dict[str, dict[str, Any]],
    results: dict[str, ChangeResult],
    outcome: WritesOutcome,
    after: dict[str, Document | None],
) -> ChangeReport:
    """Every document's result, in the order asked: those the read answered, then what the
    writes did (a refused write is explained by reading the document again)."""
    done = set(outcome.done)
    not_attempted = set(outcome.not_attempted)
    refused = set(outcome.refused)
    now = batches.read_items(user_id, [i for i in document_ids if i in refused]) if refused else {}
    stop_error: DmsError = (
        Cancelled("Cancelled before this document; it was not changed.")
        if outcome.cancelled
        else outcome.stopped_by or Unavailable("Stopped before this document.")
    )
    report = ChangeReport(requests=outcome.requests + 1 + (1 if refused else 0))
    for document_id in document_ids:
        name = stored_name(items.get(document_id))
        if document_id in results:
            report.results.append(results[document_id])
        elif document_id in done:
            report.results.append(
                ChangeResult(document_id, ChangeStatus.DONE, name, None, after.get(document_id))
            )
        elif document_id in refused:
            current = now.get(document_id)
            if current is None:
                report.results.append(missing_result(document_id))
            else:
                error: DmsError = Conflict(
                    f"{name or document_id!r} was changed meanwhile; try again."
                )
                report.results.append(ChangeResult(document_id, ChangeStatus.CONFLICT, name, error))
        elif document_id in not_attempted:
            status = ChangeStatus.CANCELLED if outcome.cancelled else ChangeStatus.FAILED
            report.results.append(ChangeResult(document_id, status, name, stop_error))
        else:
            reason = outcome.failed.get(document_id, "no answer")
            error = Unavailable(f"Could not change {name or document_id}: {reason}.")
            report.results.append(ChangeResult(document_id, ChangeStatus.FAILED, name, error))
    return report


def missing_result(document_id: str, *, purged: bool = False) -> ChangeResult:
    detail = " (deleted for good, or purged from the trash)" if purged else ""
    error = NotFound(f"There is no document with id {document_id}{detail}.")
    return ChangeResult(document_id, ChangeStatus.NOT_FOUND, "", error)


def stored_name(item: dict[str, Any] | None) -> str:
    return str((item or {}).get("filename", {}).get("S", ""))


def _number(value: Any) -> int | None:
    try:
        return int(value["N"]) if isinstance(value, dict) and "N" in value else None
    except (TypeError, ValueError):
        return None


def _document(item: dict[str, Any]) -> Document | None:
    """The document of an item, or None if it is damaged (it is moved all the same)."""
    try:
        return from_item(item)
    except IntegrityError:
        return None
