"""The work of a transfer on a thread of the queue's pool (gui.transfers): which call of the
service a spec is, and the signals that carry its progress and outcome to the GUI thread. Nothing
here touches the Transfer objects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..core.cancellation import CancelToken, ProgressCallback
from ..core.localfiles import UploadSource
from ..core.models import Document
from .transfer_items import DownloadJobSpec, DownloadSpec, TransferSpec, UploadJobSpec, UploadSpec

if TYPE_CHECKING:
    from ..core.job_progress import JobOutcome, JobProgress
    from ..core.service import DocumentService


class TransferSignals(QObject):
    """Emitted from pool threads; delivered queued on the GUI thread."""

    progressed = Signal(int, int)  # transfer id, bytes done
    job_progressed = Signal(int, object)  # transfer id, JobProgress
    started = Signal(int)
    finished = Signal(int, object)  # transfer id, Document | Path | JobOutcome
    failed = Signal(int, object)  # transfer id, DmsError
    discarded = Signal(int, object)  # transfer id, None or the DmsError that stopped it


def perform_transfer(
    service: DocumentService,
    spec: TransferSpec | str,
    cancel: CancelToken,
    progress: ProgressCallback,
    job_progress: Callable[[JobProgress], None],
) -> Document | Path | JobOutcome:
    """Run one transfer to its end with ``service``: a new one (``spec``), or the journal id of a
    kept one to resume. ``progress`` hears a file's bytes, ``job_progress`` a job's files and
    bytes. Raises the service's DmsError (Paused, Cancelled, TransferInterrupted, ...)."""
    if isinstance(spec, str):
        return service.resume_transfer(
            spec, progress=progress, cancel=cancel, job_progress=job_progress
        )
    if isinstance(spec, UploadSpec) and spec.new_version_of is not None:
        return service.upload_new_version(
            spec.new_version_of.document_id,
            spec.path,
            expected_version=spec.new_version_of.version,
            progress=progress,
            cancel=cancel,
        )
    if isinstance(spec, DownloadSpec) and spec.version is not None:
        return service.versions.download_version(
            spec.document.document_id,
            spec.version,
            spec.target,
            overwrite=spec.overwrite,
            progress=progress,
            cancel=cancel,
        )
    if isinstance(spec, UploadJobSpec):
        return service.upload_job(
            [UploadSource(file.path, file.folder) for file in spec.files],
            name=spec.name,
            roots=spec.roots,
            tags=spec.files[0].tags if spec.files else (),
            expires=spec.files[0].expires if spec.files else None,
            contents={
                str(file.path.absolute()): file.content
                for file in spec.files
                if file.content is not None
            },
            progress=job_progress,
            cancel=cancel,
        )
    if isinstance(spec, DownloadJobSpec):
        return service.download_job(
            spec.documents,
            spec.folder,
            name=spec.name,
            overwrite=spec.overwrite,
            progress=job_progress,
            cancel=cancel,
        )
    if isinstance(spec, UploadSpec):
        return service.upload(
            spec.path,
            tags=spec.tags,
            folder=spec.folder,
            expires=spec.expires,
            progress=progress,
            cancel=cancel,
            content=spec.content,
        )
    return service.download(
        spec.document.document_id,
        spec.target,
        overwrite=spec.overwrite,
        progress=progress,
        cancel=cancel,
    )
