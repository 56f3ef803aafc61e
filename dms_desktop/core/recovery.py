"""What the next start does with a user's work that a crash interrupted (see core.journal).

- An upload whose body was completely stored (its checksum is in the journal) and whose stored
  size matches is **resumed**: its metadata is written, so the document appears. The body was the
  expensive part, and its checksum was computed from exactly what was sent.
- An upload that had already failed is **cleaned up**: its multipart upload is aborted and any
  body deleted; the user is asked to upload it again.
- A new version of a document (core.versions) is kept or cleaned up the same way; one whose
  whole body was stored is **recorded** in the document's history if no other version was added
  meanwhile, else its S3 version is deleted again and the user is told (never an overwrite).
- Any other upload and a download with a partial file are **kept**: they are
  interrupted transfers (core.interrupted) the user resumes, continuing where they stopped, or
  discards. The first start after the interruption says so; later ones do not repeat it.
- A download that had not written anything yet is **cleaned up** (the target itself was never
  written).
- A delete whose metadata is gone is **finished** (the body is deleted); one whose metadata is
  still there never started, and nothing is changed. A delete of many documents is finished for
  the documents whose metadata is gone; the others are kept (the user can delete them again).

Every entry handled gives one message for the user. An entry that cannot be handled now (the
backend is unreachable) stays in the journal for the next start, and the message says so.
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path

from .blobs import BlobStore, StoredBody
from .downloading import written_so_far
from .errors import Conflict, DmsError, InTrash, NotFound, Unavailable
from .formatting import human_size, printable
from .job_journal import job_files_done
from .journal import (
    DeleteEntry,
    DeleteManyEntry,
    DownloadEntry,
    DownloadJobEntry,
    Journal,
    Tracked,
    UploadEntry,
    UploadJobEntry,
)
from .localfiles import PARTIAL_SUFFIX, partial_file_prefix
from .models import Document
from .records import record_of_upload, store_document_record
from .repository import DocumentRepository
from .schema import object_key
from .uploading import sent_so_far
from .versions import DocumentVersions

log = logging.getLogger(__name__)


def remove_upload_leftovers(blobs: BlobStore, key: str, upload_id: str | None) -> None:
    """Abort the multipart upload (if one was started) and delete any body at ``key``."""
    if upload_id is not None:
        blobs.abort_multipart(key, upload_id)
    blobs.delete(key)


def recover_user_work(
    journal: Journal,
    repository: DocumentRepository,
    blobs: BlobStore,
    user_id: str,
    finished_uploads: dict[tuple[str, str | None], Document] | None = None,
    versions: DocumentVersions | None = None,
) -> list[str]:
    """Resume or clean up ``user_id``'s interrupted work; one message per entry.
    ``finished_uploads`` gets the document of each upload this finished, by its file's path and
    the id of the document it is a new version of (None: a new document), so that a `dms
    upload` of that file then knows it is stored. New versions are left alone without
    ``versions``."""
    messages: list[str] = []
    with journal.unfinished() as entries:
        for tracked in entries:
            entry = tracked.entry
            if isinstance(entry, UploadJobEntry | DownloadJobEntry):
                if entry.user_id == user_id:
                    _keep_job(tracked, entry, messages)
                continue
            if not isinstance(entry, UploadEntry | DownloadEntry | DeleteEntry | DeleteManyEntry):
                continue  # an admin cleanup: AdminService.recover_interrupted
            if entry.user_id != user_id:
                continue  # another user's: when they next sign in here
            job = getattr(entry, "job", None)
            if job is not None and (journal.folder / f"{job}.json").exists():
                continue  # a file of a kept job: the job resumes or discards it
            try:
                if _kept_to_resume(tracked, repository, blobs, messages):
                    continue
                if isinstance(entry, UploadEntry) and entry.new_version_of is not None:
                    if versions is None:
                        continue
                    message, document = _recover_new_version(entry, versions)
                    messages.append(message)
                    if document is not None and finished_uploads is not None:
                        finished_uploads[(entry.source, entry.document_id)] = document
                    tracked.finish()
                    continue
                if isinstance(entry, UploadEntry) and finished_uploads is not None:
                    document = _finish_sent_upload(entry, repository, blobs)
                    if document is not None:
                        finished_uploads[(entry.source, None)] = document
                        messages.append(
                            f"The upload of {entry.filename} was interrupted after the whole "
                            "file was sent; it is now stored (resumed)."
                        )
                        tracked.finish()
                        continue
                messages.append(_recover(tracked, repository, blobs))
            except DmsError as error:
                log.warning("could not recover %s yet: %s", entry, error)
                messages.append(
                    f"Could not yet finish tidying up after the interrupted {entry.kind} of "
                    f"{_name(entry)} ({error}); it is tried again at the next start."
                )
                continue
            tracked.finish()
    for message in messages:
        log.info("recovered: %s", message)
    return messages


RESUME_HINT = "resume or discard it (`dms transfers`, or the window's Transfers panel)"


def _keep(tracked: Tracked, messages: list[str], message: str) -> None:
    """Keep an interrupted transfer for a resume; tell the user at the first start only."""
    entry = tracked.entry
    if not getattr(entry, "announced", True):
        messages.append(message)
        tracked.change(announced=True)


def _keep_job(
    tracked: Tracked, entry: UploadJobEntry | DownloadJobEntry, messages: list[str]
) -> None:
    done = job_files_done(entry, tracked.records())
    kind = "upload" if isinstance(entry, UploadJobEntry) else "download"
    _keep(
        tracked,
        messages,
        f"The {kind} of {printable(entry.name)} was interrupted ({done} of "
        f"{len(entry.items)} files done); it is kept: {RESUME_HINT}.",
    )


def _finish_sent_upload(
    entry: UploadEntry, repository: DocumentRepository, blobs: BlobStore
) -> Document | None:
    """Write the record of an upload whose whole body was sent; None if it was not."""
    if entry.failed or entry.checksum is None:
        return None
    if blobs.size_of(object_key(entry.user_id, entry.document_id)) != entry.size:
        return None
    return store_document_record(
        repository,
        record_of_upload(entry.user_id, entry, size=entry.size, checksum=entry.checksum),
    )


def _kept_to_resume(
    tracked: Tracked, repository: DocumentRepository, blobs: BlobStore, messages: list[str]
) -> bool:
    """Keep ``tracked`` as an interrupted transfer if it is one that can be resumed."""
    entry = tracked.entry
    if isinstance(entry, DownloadEntry):
        done = written_so_far(entry)
        if entry.partial is None or not Path(entry.partial).exists():
            return False
        _keep(
            tracked,
            messages,
            f"The download of {printable(entry.filename)} to {printable(entry.target)} was "
            f"interrupted ({human_size(done)} of {human_size(entry.size)} written); it is kept: "
            f"{RESUME_HINT}.",
        )
        return True
    if not isinstance(entry, UploadEntry) or entry.failed:
        return False
    if entry.new_version_of is not None:
        if entry.checksum is not None:
            return False  # stored whole: its version is recorded now (_recover_new_version)
        _keep(
            tracked,
            messages,
            f"The new version of {printable(entry.filename)} (from {printable(entry.source)}) "
            f"was interrupted ({human_size(sent_so_far(entry, tracked.records()))} of "
            f"{human_size(entry.size)} sent); it is kept: {RESUME_HINT}.",
        )
        return True
    if _metadata_exists(repository, entry.user_id, entry.document_id):
        return False
    if entry.checksum is not None and blobs.size_of(entry.s3_key) == entry.size:
        return False  # sent whole: its metadata is written now (_recover_upload)
    sent = sent_so_far(entry, tracked.records())
    _keep(
        tracked,
        messages,
        f"The upload of {printable(entry.filename)} was interrupted ({human_size(sent)} of "
        f"{human_size(entry.size)} sent); it is kept: {RESUME_HINT}.",
    )
    return True


def _name(entry: UploadEntry | DownloadEntry | DeleteEntry | DeleteManyEntry) -> str:
    if isinstance(entry, DeleteManyEntry):
        return f"{len(entry.document_ids)} document(s)"
    return entry.filename or f"document {entry.document_id}"


def _recover(tracked: Tracked, repository: DocumentRepository, blobs: BlobStore) -> str:
    entry = tracked.entry
    if isinstance(entry, UploadEntry):
        return _recover_upload(entry, repository, blobs)
    if isinstance(entry, DownloadEntry):
        return _recover_download(entry)
    if isinstance(entry, DeleteManyEntry):
        return _recover_delete_many(entry, repository, blobs)
    assert isinstance(entry, DeleteEntry)
    if _metadata_exists(repository, entry.user_id, entry.document_id):
        return f"Deleting {_name(entry)} was interrupted before anything was deleted; it is kept."
    key = object_key(entry.user_id, entry.document_id)
    body = blobs.delete_for_good([key])
    if body.failed:
        raise Unavailable(body.failed[key])
    return f"Deleting {_name(entry)} was interrupted; it is now deleted completely."


def _recover_delete_many(
    entry: DeleteManyEntry, repository: DocumentRepository, blobs: BlobStore
) -> str:
    kept = repository.stored_names(entry.user_id, entry.document_ids)
    gone = [document_id for document_id in entry.document_ids if document_id not in kept]
    bodies = blobs.delete_for_good(object_key(entry.user_id, i) for i in gone)
    if bodies.failed:
        raise Unavailable(next(iter(bodies.failed.values())))
    kept_note = (
        f"; the other {len(kept)} were not deleted: delete them again if you still want to"
        if kept
        else ""
    )
    return (
        f"Deleting {len(entry.document_ids)} document(s) was interrupted; {len(gone)} of them "
        f"are now deleted completely{kept_note}."
    )


def _recover_upload(entry: UploadEntry, repository: DocumentRepository, blobs: BlobStore) -> str:
    key = object_key(entry.user_id, entry.document_id)
    if _metadata_exists(repository, entry.user_id, entry.document_id):
        return f"The upload of {entry.filename} had finished before the interruption; it is stored."
    if not entry.failed and entry.checksum is not None and blobs.size_of(key) == entry.size:
        store_document_record(
            repository,
            record_of_upload(entry.user_id, entry, size=entry.size, checksum=entry.checksum),
        )
        return (
            f"The upload of {entry.filename} was interrupted after the whole file was sent; "
            "it is now stored (resumed)."
        )
    remove_upload_leftovers(blobs, key, entry.multipart_upload_id)
    return (
        f"The upload of {entry.filename} was interrupted; nothing was stored (the partial "
        f"upload was removed). Upload {entry.source} again."
    )


def _recover_new_version(
    entry: UploadEntry, versions: DocumentVersions
) -> tuple[str, Document | None]:
    """Record a new version whose whole body was stored, or remove what a failed one left."""
    name = printable(entry.filename)
    if entry.failed or entry.checksum is None:
        versions.remove_unrecorded(entry)
        return (
            f"The new version of {name} was interrupted; nothing was stored (the partial "
            f"upload was removed). Upload {printable(entry.source)} again as a new version.",
            None,
        )
    stored = StoredBody(entry.size, entry.checksum, entry.stored_version_id)
    try:
        document = versions.append_uploaded(entry, stored, None)
    except (Conflict, InTrash, NotFound) as error:  # its S3 version is deleted again
        return f"The new version of {name} was not stored: {error}", None
    return (
        f"The new version of {name} was interrupted after the whole file was sent; it is now "
        "stored (resumed).",
        document,
    )


def _recover_download(entry: DownloadEntry) -> str:
    target = Path(entry.target)
    # as BlobStore.download names it
    pattern = f"{glob.escape(partial_file_prefix(target.name))}*{PARTIAL_SUFFIX}"
    removed = 0
    for partial in target.parent.glob(pattern):
        partial.unlink(missing_ok=True)
        removed += 1
    left = "the partial file was removed" if removed else "no partial file was left"
    return (
        f"The download of {entry.filename} to {target} was interrupted; {left} and nothing "
        "was written there. Download it again."
    )


def _metadata_exists(repository: DocumentRepository, user_id: str, document_id: str) -> bool:
    try:
        repository.get(user_id, document_id)
    except NotFound:
        return False
    return True
