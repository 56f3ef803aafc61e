"""The window's transfer queue in a process of its own, SIGKILLed once S3 confirmed the Nth part
of an upload it runs: the window crashing mid-upload, for the crash tests.

    python -m tests.support.window_crash_runner HOME USERNAME PASSWORD N FILE [DOCUMENT_ID]

It signs in, queues FILE on the window's TransferQueue with the window's transfer services (the
journal in HOME's data folder) and runs the Qt event loop offscreen, as the window does. With
DOCUMENT_ID, FILE is a new version of that document (as the Versions tab's Upload new version
queues it). If the upload finishes without the kill, it exits with 1.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.paths import AppPaths
from dms_desktop.gui.operations import Account, Operations
from dms_desktop.gui.transfer_items import UploadSpec
from dms_desktop.gui.transfers import TransferQueue
from tests.support.crash_runner import crash_at


def main(
    home: str, username: str, password: str, count: int, file: str, new_version_of: str = ""
) -> int:
    paths = AppPaths.resolve(home)
    backend = open_backend(paths)
    user = sign_in(backend, username, password)
    app = QApplication([])
    operations = Operations(Account(paths, backend=backend, user=user), print)
    queue = TransferQueue(operations.transfer_service)
    queue.upload_finished.connect(lambda _document: app.exit(1))
    queue.transfer_failed.connect(lambda _transfer, _error: app.exit(2))
    document = open_service(backend, user).get(new_version_of) if new_version_of else None
    crash_at("after", "s3.UploadPart", count)
    queue.upload(UploadSpec(Path(file), new_version_of=document))
    return app.exec()


if __name__ == "__main__":
    home, username, password, count, file, *document_id = sys.argv[1:]
    sys.exit(main(home, username, password, int(count), file, *document_id))
