"""The window's transfer queue running a job of many files (a folder uploaded, several documents
downloaded) in a process of its own, SIGKILLed at a chosen point: the window crashing mid-job,
for the crash tests.

    python -m tests.support.window_job_crash_runner HOME USERNAME PASSWORD WHEN WHAT N \
        upload FOLDER
    python -m tests.support.window_job_crash_runner HOME USERNAME PASSWORD WHEN WHAT N \
        download FOLDER DOCUMENT_ID...

WHEN and WHAT as for tests/support/crash_runner.py (``after s3.PutObject 3``: once S3 stored the
third small file; ``after s3.UploadPart 2``: the second part of the multipart one), or
``written NAME N``: once the partial file of the download of NAME holds at least N bytes.

It signs in, queues the job on the window's TransferQueue as the window does (a folder: one
UploadJobSpec of its files; documents: one DownloadJobSpec into FOLDER) with the window's
transfer services (the journal in HOME's data folder), and runs the Qt event loop offscreen.
The services use parts of 5 MiB (from 5 MiB up) so that a small file is a multipart upload; a
kept upload's part size is in the journal, so the next start resumes it with the same parts.
If the job ends without the kill, it exits with 1 (2 if it failed).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import dataclasses
import glob
import signal
import sys
from pathlib import Path
from typing import Any

from botocore.httpsession import URLLib3Session
from PySide6.QtWidgets import QApplication

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.blobs import MiB, TransferSettings
from dms_desktop.core.localfiles import PARTIAL_SUFFIX, collect_upload_sources, partial_file_prefix
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.service import DocumentService
from dms_desktop.gui.operations import Account, Operations, signed_in, user_for_this_thread
from dms_desktop.gui.transfer_items import DownloadJobSpec, UploadJobSpec, UploadSpec
from dms_desktop.gui.transfers import TransferQueue
from tests.support.crash_runner import crash_at
from tests.support.faults import operation_of

PART = 5 * MiB  # the smallest part S3 takes


def small_parts_service(account: Account) -> DocumentService:
    """The window's transfer service (gui.operations.open_user_service) with 5 MiB parts."""
    backend, user = signed_in(account)
    settings = dataclasses.replace(
        TransferSettings.for_endpoint(backend.endpoint_url),
        multipart_threshold=PART,
        part_size=PART,
    )
    return open_service(backend, user_for_this_thread(user), settings, paths=account.paths)


def crash_once_written(folder: Path, name: str, at_least: int) -> None:
    """SIGKILL this process at the first read of a GET's body once the partial file of the
    download of ``name`` into ``folder`` holds ``at_least`` bytes."""
    pattern = f"{glob.escape(partial_file_prefix(name))}*{PARTIAL_SUFFIX}"
    original = URLLib3Session.send

    def written() -> int:
        return max((path.stat().st_size for path in folder.glob(pattern)), default=0)

    def send(self: URLLib3Session, request: Any) -> Any:
        response = original(self, request)
        if operation_of(request) == "s3.GET":
            raw = response.raw
            real_read = raw.read

            def read(*args: Any, **kwargs: Any) -> Any:
                if written() >= at_least:
                    os.kill(os.getpid(), signal.SIGKILL)
                return real_read(*args, **kwargs)

            raw.read = read
        return response

    URLLib3Session.send = send  # type: ignore[method-assign]


def main(
    home: str, username: str, password: str, when: str, what: str, count: int, job: list[str]
) -> int:
    paths = AppPaths.resolve(home)
    backend = open_backend(paths)
    user = sign_in(backend, username, password)
    app = QApplication([])
    account = Account(paths, backend=backend, user=user)
    operations = Operations(account, print, service_factory=small_parts_service)
    queue = TransferQueue(operations.transfer_service)
    queue.documents_uploaded.connect(lambda _documents: app.exit(1))
    queue.download_finished.connect(lambda _folder: app.exit(1))
    queue.transfer_failed.connect(lambda _transfer, _error: app.exit(2))
    kind, folder, *document_ids = job
    if when == "written":
        crash_once_written(Path(folder), what, count)
    else:
        crash_at(when, what, count)
    if kind == "upload":
        root = Path(folder)
        files = [UploadSpec(s.path, folder=s.folder) for s in collect_upload_sources([root])]
        queue.upload_job(UploadJobSpec(files, queue.job_name(files), [root]))
    else:
        service = small_parts_service(account)
        documents = [service.get(document_id) for document_id in document_ids]
        name = f"{len(documents)} documents"
        queue.download_job(DownloadJobSpec(documents, Path(folder), name))
    return app.exec()


if __name__ == "__main__":
    home, username, password, when, what, count, *job = sys.argv[1:]
    assert when in {"before", "after", "reading", "written"}, __doc__
    assert job and job[0] in {"upload", "download"}, __doc__
    sys.exit(main(home, username, password, when, what, int(count), job))
