"""Deleting many documents of one user at once, with a report that says what became of each.

The same order as a single delete: **metadata first, then bodies**, so that an interruption leaves
at worst an invisible orphan body (which the admin check finds), never a listed document whose
download fails. The requests are batched: one BatchGetItem per 100 ids (which of them exist, and
their names), one BatchWriteItem per 25 (unprocessed items retried with backoff), then one
DeleteObjects per 1,000 versions of the bodies, after listing those versions (one
ListObjectVersions page per 1,000 versions of the user's folder, or one per key for a few
documents; core.body_deletion): about 55 requests for 1,000 documents instead of thousands, and
no old version of a deleted body is left in the bucket. Bodies are deleted at the key their owner
and id give (never a key an item stores). The work is journaled
(core.journal): if the app dies in between, the next start deletes the bodies of the documents
whose metadata is gone and keeps the others (core.recovery).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from .batches import BatchOutcome
from .cancellation import CancelToken, ProgressCallback
from .errors import Cancelled, DmsError, NotFound, Unavailable
from .journal import DeleteManyEntry, Journal, Tracked
from .schema import TRASHED_AT, item_key, object_key

if TYPE_CHECKING:  # the report's types are imported by the window, which starts without boto3
    from .blobs import BlobStore
    from .repository import DocumentRepository

log = logging.getLogger(__name__)


class DeleteStatus(StrEnum):
    DELETED = "deleted"
    NOT_FOUND = "not found"
    FAILED = "failed"
    CANCELLED = "cancelled"  # not attempted: the user cancelled first


@dataclass(frozen=True)
class DeleteResult:
    """What became of one document of a :meth:`DocumentService.delete_many`."""

    document_id: str
    status: DeleteStatus
    filename: str = ""  # as stored ("" if unknown, or the item was damaged)
    error: DmsError | None = None  # why it was not deleted

    @property
    def message(self) -> str:
        return "" if self.error is None else str(self.error)


@dataclass
class DeleteReport:
    """Every document asked for, once, in the order asked."""

    results: list[DeleteResult] = field(default_factory=list)

    def ids(self, status: DeleteStatus) -> list[str]:
        return [result.document_id for result in self.results if result.status is status]

    @property
    def deleted(self) -> list[str]:
        return self.ids(DeleteStatus.DELETED)

    @property
    def problems(self) -> list[DeleteResult]:
        """The results other than deleted, in order."""
        return [result for result in self.results if result.status is not DeleteStatus.DELETED]

    @property
    def first_error(self) -> DmsError | None:
        """The error of the first document not deleted (None: all were)."""
        problems = self.problems
        return problems[0].error if problems else None


def delete_documents(
    repository: DocumentRepository,
    blobs: BlobStore,
    user_id: str,
    document_ids: Sequence[str],
    *,
    journal: Journal | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    only_in_trash: bool = False,
) -> DeleteReport:
    """Delete ``document_ids`` (checked, distinct) of ``user_id``; see the module docstring.

    ``only_in_trash``: delete only those still in the trash (conditional writes, 100 a
    transaction, instead of BatchWriteItem); one restored meanwhile is kept (NOT_FOUND).
    Raises (nothing deleted) only if the first read fails; later failures are in the report.
    """
    total = len(document_ids)
    if progress is not None:
        progress(0, total)
    names = repository.stored_names(user_id, document_ids)
    found = [document_id for document_id in document_ids if document_id in names]
    tracked = (
        journal.track(DeleteManyEntry(user_id=user_id, document_ids=tuple(found)))
        if journal is not None and found
        else None
    )

    def relay(done: int) -> None:
        if progress is not None:
            progress(done, total)

    restored: set[str] = set()
    try:
        if only_in_trash:
            metadata, restored = _delete_trashed(repository, user_id, found, cancel, relay)
        else:
            metadata = repository.delete_items(
                [(user_id, document_id) for document_id in found], cancel=cancel, progress=relay
            )
        gone = [document_id for _user, document_id in metadata.done]
        # Ids without metadata too: a body there is a leftover nobody can see (as a single
        # delete does), e.g. from a delete whose metadata went but whose body did not.
        missing = [document_id for document_id in document_ids if document_id not in names]
        # For good: every stored version of each body too (core.body_deletion).
        bodies = blobs.delete_for_good(object_key(user_id, i) for i in [*gone, *missing])
    except BaseException:
        if tracked is not None:
            tracked.leave_for_next_start()
        raise
    _settle(tracked, bodies.failed, gone, user_id)
    if progress is not None:
        progress(total, total)
    failed = {document_id: reason for (_user, document_id), reason in metadata.failed.items()}
    not_attempted = {document_id for _user, document_id in metadata.not_attempted}
    stop_error: DmsError = (
        Cancelled("Deleting was cancelled before this document; it is kept.")
        if metadata.cancelled
        else metadata.stopped_by or Unavailable("Deleting stopped before this document.")
    )
    report = DeleteReport()
    for document_id in document_ids:
        name = names.get(document_id, "")
        if document_id not in names:
            error: DmsError = NotFound(f"There is no document with id {document_id}.")
            report.results.append(DeleteResult(document_id, DeleteStatus.NOT_FOUND, "", error))
        elif document_id in restored:
            error = NotFound(f"{name or document_id} is no longer in the trash; it is kept.")
            report.results.append(DeleteResult(document_id, DeleteStatus.NOT_FOUND, name, error))
        elif document_id in failed:
            error = Unavailable(f"Could not delete {name or document_id}: {failed[document_id]}.")
            report.results.append(DeleteResult(document_id, DeleteStatus.FAILED, name, error))
        elif document_id in not_attempted:
            status = DeleteStatus.CANCELLED if metadata.cancelled else DeleteStatus.FAILED
            report.results.append(DeleteResult(document_id, status, name, stop_error))
        else:
            report.results.append(DeleteResult(document_id, DeleteStatus.DELETED, name))
    log.info("deleted %d of %d documents (%d not found)", len(gone), total, len(missing))
    return report


def _delete_trashed(
    repository: DocumentRepository,
    user_id: str,
    document_ids: list[str],
    cancel: CancelToken | None,
    progress: Callable[[int], None],
) -> tuple[BatchOutcome[tuple[str, str]], set[str]]:
    """Delete the metadata of the documents still in the trash: (what became of each, the ids
    that were not in the trash any more)."""
    from .transactions import ConditionalWrite  # loads botocore: not at the window's start

    writes = [
        ConditionalWrite(i, item_key(user_id, i), f"attribute_exists({TRASHED_AT})")
        for i in document_ids
    ]
    written = repository.batches.write(writes, cancel=cancel, progress=progress)
    outcome: BatchOutcome[tuple[str, str]] = BatchOutcome(
        done=[(user_id, i) for i in written.done],
        failed={(user_id, i): reason for i, reason in written.failed.items()},
        not_attempted=[(user_id, i) for i in written.not_attempted],
        requests=written.requests,
        cancelled=written.cancelled,
        stopped_by=written.stopped_by,
    )
    return outcome, set(written.refused)


def _settle(
    tracked: Tracked | None, failed_bodies: dict[str, str], gone: list[str], user_id: str
) -> None:
    """Forget the journal entry, unless a body of deleted metadata is left: then the next start
    deletes it (the document is already gone for the user)."""
    left = [i for i in gone if object_key(user_id, i) in failed_bodies]
    if left:
        log.warning(
            "metadata of %d document(s) deleted but not their bodies, e.g. %s: %s",
            len(left),
            left[0],
            failed_bodies[object_key(user_id, left[0])],
        )
    if tracked is None:
        return
    if left:
        tracked.leave_for_next_start()
    else:
        tracked.finish()
