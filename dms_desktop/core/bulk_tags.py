"""Adding and removing tags on many documents at once, batched.

One BatchGetItem per 100 documents reads them; each document whose tags change gets a
conditional write (only if its version is still the one read and it is not in the trash), up to
100 in one TransactWriteItems request (core.transactions). A document changed meanwhile is a
CONFLICT in the report, never overwritten; one in the trash or gone is NOT_FOUND; one whose tags
would not change is DONE without a write.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from .cancellation import CancelToken, ProgressCallback
from .change_report import ChangeReport, ChangeResult, ChangeStatus
from .document_batches import DocumentBatches
from .errors import IntegrityError, InTrash
from .items import from_item
from .models import Document, format_timestamp, normalize_tags, parse_timestamp, tag_key, utc_now
from .schema import TAG_KEYS, TRASHED_AT, item_key
from .transactions import ConditionalWrite
from .trash import change_report, missing_result, read_for_change, stored_name, write_changes

log = logging.getLogger(__name__)


def edited_tags(tags: Iterable[str], add: Sequence[str], remove: Sequence[str]) -> tuple[str, ...]:
    """``tags`` with ``add`` added and ``remove`` removed (both ignoring case; a tag both added
    and removed is removed)."""
    removed = {tag_key(tag) for tag in remove}
    return normalize_tags([tag for tag in [*tags, *add] if tag_key(tag) not in removed])


def retag_documents(
    batches: DocumentBatches,
    user_id: str,
    document_ids: Sequence[str],
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    now: datetime | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> ChangeReport:
    """Add ``add`` and remove ``remove`` on ``document_ids`` (checked, distinct); see the module
    docstring. Raises (nothing changed) only if the first read fails."""
    add = normalize_tags(list(add))  # bad input fails before any request
    updated_at = format_timestamp(now or utc_now())
    items = read_for_change(batches, user_id, document_ids, progress)
    results: dict[str, ChangeResult] = {}
    writes: list[ConditionalWrite] = []
    after: dict[str, Document | None] = {}
    for document_id in document_ids:
        item = items.get(document_id)
        name = stored_name(item)
        if item is None:
            results[document_id] = missing_result(document_id)
            continue
        if TRASHED_AT in item:
            error = InTrash(name, document_id)
            results[document_id] = ChangeResult(document_id, ChangeStatus.NOT_FOUND, name, error)
            continue
        try:
            document = from_item(item)
        except IntegrityError as damaged:
            results[document_id] = ChangeResult(document_id, ChangeStatus.FAILED, name, damaged)
            continue
        tags = edited_tags(document.tags, add, remove)
        if tags == document.tags:
            results[document_id] = ChangeResult(
                document_id, ChangeStatus.DONE, name, None, document
            )
            continue
        writes.append(
            ConditionalWrite(
                document_id,
                item_key(user_id, document_id),
                f"#version = :expected AND attribute_not_exists({TRASHED_AT})",
                update=(
                    f"SET tags = :tags, {TAG_KEYS} = :keys, #version = #version + :one, "
                    "updatedAt = :now"
                ),
                names={"#version": "version"},
                values={
                    ":tags": {"L": [{"S": tag} for tag in tags]},
                    ":keys": {"L": [{"S": tag_key(tag)} for tag in tags]},
                    ":expected": {"N": str(document.version)},
                    ":one": {"N": "1"},
                    ":now": {"S": updated_at},
                },
            )
        )
        after[document_id] = document.model_copy(
            update={
                "tags": tags,
                "version": document.version + 1,
                "updated_at": parse_timestamp(updated_at),
            }
        )
    outcome = write_changes(batches, writes, len(document_ids), cancel, progress)
    report = change_report(batches, user_id, document_ids, items, results, outcome, after)
    log.info("retagged %d of %d documents", len(report.done), len(document_ids))
    return report
