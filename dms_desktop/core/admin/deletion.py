"""The admin's batch delete (cleanup and repair) and what the next start does after a crash.

Deletion order: **metadata first, then bodies**, 1,000 documents a round: BatchWriteItem requests
of 25 (the repository retries what the table leaves unprocessed), then the bodies whose metadata
is gone, for good: their stored versions listed (ListObjectVersions) and deleted with them
(DeleteObjects, 1,000 versions a request; core.body_deletion). A document disappears from every
listing as soon as its metadata goes, and an interruption at any point leaves at worst an
invisible orphan body (found and removed by the consistency check), never metadata that points at
a missing body. Cancelling stops before the next metadata batch; the bodies of the metadata
already deleted are still removed, so a cancelled run leaves no new orphans either. Each run is
journaled: after a crash, the next start removes the bodies of documents whose metadata the run
had deleted (:func:`recover_interrupted`).
"""

from __future__ import annotations

from collections.abc import Callable

from ..cancellation import CancelToken, ProgressCallback
from ..errors import DmsError, Unavailable
from ..formatting import plural
from ..journal import CleanupEntry, CleanupItem, Tracked
from ..schema import is_user_id, object_key
from .audit import write_audit
from .reports import DeletionReport, Failure, PlannedDeletion
from .stores import AdminStores

DELETE_CHUNK = 1000  # documents per metadata-then-bodies round


def delete_planned(
    stores: AdminStores,
    items: list[PlannedDeletion],
    report: DeletionReport,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> None:
    """Delete ``items`` in rounds, journaled: after a crash the next start finds the run."""
    tracked: Tracked | None = None
    if stores.journal is not None and items:
        tracked = stores.journal.track(
            CleanupEntry(
                admin=stores.admin.username,
                items=tuple(
                    CleanupItem(
                        user_id=item.user_id,
                        document_id=item.document_id,
                        s3_key=item.s3_key or "",
                        has_metadata=item.has_metadata,
                        has_body=item.has_body,
                    )
                    for item in items
                ),
            )
        )

    def settled(count: int) -> None:
        if tracked is not None:
            tracked.update(tracked.entry.model_copy(update={"settled": count}))

    try:
        _delete_in_rounds(stores, items, report, progress, cancel, settled)
    except BaseException:
        if tracked is not None:
            tracked.leave_for_next_start()
        raise
    if tracked is not None:
        tracked.finish()


def _delete_in_rounds(
    stores: AdminStores,
    items: list[PlannedDeletion],
    report: DeletionReport,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    settled: Callable[[int], None],
) -> None:
    total = len(items)
    if progress is not None:
        progress(0, total)
    for start in range(0, total, DELETE_CHUNK):
        if cancel is not None and cancel.cancelled:
            report.cancelled = True
            report.not_attempted = total - start
            return
        chunk = items[start : start + DELETE_CHUNK]
        by_key = {(item.user_id, item.document_id): item for item in chunk if item.has_metadata}

        def relay(done: int, start: int = start) -> None:
            if progress is not None:
                progress(start + done, total)

        outcome = stores.repository.delete_items(by_key, cancel=cancel, progress=relay)
        report.requests["BatchWriteItem"] = (
            report.requests.get("BatchWriteItem", 0) + outcome.requests
        )
        for (_user, document_id), reason in outcome.failed.items():
            report.failed.append(Failure(document_id, "metadata", reason))
        gone = set(outcome.done)
        report.metadata_deleted += [by_key[key].document_id for key in outcome.done]
        stopped = outcome.cancelled or outcome.stopped_by is not None
        bodies: list[PlannedDeletion] = []
        left = 0
        for item in chunk:
            if item.has_metadata and (item.user_id, item.document_id) not in gone:
                continue  # failed or not attempted: its body stays with its metadata
            if not item.has_metadata and stopped:
                left += 1  # a bare body the run had not reached
            elif item.has_body:
                bodies.append(item)
            else:
                report.deleted.append(item.document_id)
        # Always remove the bodies whose metadata is gone, even after a cancel or a fatal error:
        # otherwise they would be left as orphans.
        delete_bodies(stores, bodies, report)
        if stopped:
            report.cancelled = outcome.cancelled
            if outcome.stopped_by is not None:
                report.stopped_by = str(outcome.stopped_by)
            report.not_attempted = len(outcome.not_attempted) + left + total - start - len(chunk)
            return
        if progress is not None:
            progress(start + len(chunk), total)
        settled(start + len(chunk))


def delete_bodies(
    stores: AdminStores, items: list[PlannedDeletion], report: DeletionReport
) -> None:
    """Delete the bodies for good, every stored version of them too (core.body_deletion:
    ListObjectVersions, then DeleteObjects of 1,000 versions a request); per-key errors go to
    ``report.failed``."""
    by_key = {item.s3_key: item for item in items if item.s3_key is not None}
    if not by_key:
        return
    outcome = stores.blobs.delete_for_good(by_key)
    for operation, count in (
        ("ListObjectVersions", outcome.listings),
        ("DeleteObjects", outcome.requests),
    ):
        report.requests[operation] = report.requests.get(operation, 0) + count
    for key, reason in outcome.failed.items():
        item = by_key[key]
        orphan_note = (
            " (its metadata is already deleted: the consistency check will find the body)"
            if item.has_metadata
            else ""
        )
        report.failed.append(Failure(item.document_id, "body", f"{reason}{orphan_note}"))
    for key in outcome.done:
        item = by_key[key]
        report.bodies_deleted.append(key)
        report.bytes_freed += item.size
        report.deleted.append(item.document_id)


def recover_interrupted(stores: AdminStores) -> list[str]:
    """Deal with batch deletes a crash interrupted; one message for each.

    The files of documents whose metadata was already deleted are removed (otherwise they would
    stay as invisible orphans). Nothing else is deleted unasked: documents the run had not
    reached are still there, and the message says to run the cleanup again.
    """
    if stores.journal is None:
        return []
    messages = []
    with stores.journal.unfinished() as entries:
        for tracked in entries:
            if not isinstance(tracked.entry, CleanupEntry):
                continue
            try:
                messages.append(_recover_cleanup(stores, tracked.entry))
            except DmsError as error:
                messages.append(
                    f"Could not yet finish tidying up after an interrupted cleanup ({error}); "
                    "it is tried again at the next start."
                )
                continue
            tracked.finish()
    return messages


def _recover_cleanup(stores: AdminStores, entry: CleanupEntry) -> str:
    half_deleted: list[PlannedDeletion] = []
    not_deleted = 0
    for item in entry.items[entry.settled :]:
        if item.has_metadata and stores.repository.exists(item.user_id, item.document_id):
            not_deleted += 1
        elif item.has_metadata and item.has_body:
            key = _body_key(item.user_id, item.document_id)
            half_deleted.append(
                PlannedDeletion(item.user_id, item.document_id, "", 0, (), None, key)
            )
        elif not item.has_metadata and _exists(stores, item.s3_key):
            not_deleted += 1  # an orphan body the run had not reached
    report = DeletionReport("recovery", stores.admin.username, stores.clock(), len(half_deleted))
    delete_bodies(stores, half_deleted, report)
    report.finished_at = stores.clock()
    if half_deleted:
        write_audit(
            stores.audit_dir,
            stores.admin,
            report,
            {"recoveryOf": entry.started_at, "admin": entry.admin},
        )
    if report.failed:
        raise Unavailable(report.failed[0].reason)
    left = (
        f"{plural(not_deleted, 'document')} it had not reached "
        f"{'was' if not_deleted == 1 else 'were'} not deleted: run the cleanup "
        f"again to delete {'it' if not_deleted == 1 else 'them'}"
        if not_deleted
        else "nothing else was left to delete"
    )
    return (
        f"A cleanup started at {entry.started_at} by {entry.admin} was interrupted: the "
        f"{'file' if len(half_deleted) == 1 else 'files'} "
        f"of {plural(len(half_deleted), 'document')} whose metadata it had deleted "
        f"{'is' if len(half_deleted) == 1 else 'are'} now removed; "
        f"{left}."
    )


def _exists(stores: AdminStores, key: str) -> bool:
    return bool(key) and stores.blobs.size_of(key) is not None


def _body_key(user_id: str, document_id: str) -> str | None:
    """The derived key of a document's body; None if the ids cannot make one."""
    try:
        return object_key(user_id, document_id) if is_user_id(user_id) else None
    except ValueError:
        return None
