"""Downloading a document: its body, checked against its metadata, into a local file.

The body's GET is sent at once (its key follows from the owner and the id), so that its round
trip overlaps the metadata read; what arrives is written only if its size and SHA-256 match the
metadata (core.blobs), and the download is journaled so a crash leaves no temporary file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .blobs import BlobStore
from .cancellation import CancelToken, ProgressCallback
from .errors import Cancelled, DmsError, IntegrityError, InTrash, NotFound, ValidationError
from .journal import DownloadEntry, JournalEntry, Tracked
from .localfiles import download_target
from .models import Document
from .repository import DocumentRepository
from .schema import object_key

Track = Callable[[JournalEntry], Tracked | None]


def download_document(
    repository: DocumentRepository,
    blobs: BlobStore,
    user_id: str,
    document_id: str,
    target: Path,
    *,
    track: Track,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Download the document ``document_id`` (a checked id) of ``user_id`` to ``target``: a
    folder (the safe filename is used inside it) or a file path. A document in the trash is
    not downloaded (InTrash)."""
    key = object_key(user_id, document_id)
    started = blobs.start_get(key)
    try:
        document = repository.get(user_id, document_id)
        if document.in_trash:
            raise InTrash(document.filename, document_id)
        if target.is_dir():
            target = download_target(target, document.filename)
        tracked = track(
            DownloadEntry(
                user_id=user_id,
                document_id=document.document_id,
                filename=document.filename,
                target=str(target),
            )
        )
        try:
            return blobs.download(
                key,
                target,
                expected_size=document.size,
                expected_checksum=document.checksum,
                overwrite=overwrite,
                progress=progress,
                cancel=cancel,
                started=started,
            )
        except Cancelled:
            raise
        except NotFound as exc:
            raise body_not_found(repository, document) from exc
        except OSError as exc:
            raise ValidationError(f"Could not write {target}: {exc.strerror or exc}.") from exc
        finally:
            # Success or failure, the blob store has removed its temporary file by now.
            if tracked is not None:
                tracked.finish()
    finally:
        started.close()


def body_not_found(repository: DocumentRepository, document: Document) -> DmsError:
    """Why a document's body was not found: deleted meanwhile, or missing from the store."""
    try:
        repository.get(document.user_id, document.document_id)
    except NotFound as exc:
        return exc  # deleted by another instance while it was being downloaded
    except DmsError:
        pass
    return IntegrityError(
        f"The stored file of {document.filename} ({document.document_id}) is missing: its "
        "details are stored, its content is not. Downloading it again will not help; "
        "`dms admin check` lists such documents (and `--repair` removes them). Nothing was "
        "written."
    )
