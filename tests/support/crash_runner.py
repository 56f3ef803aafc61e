"""Run `dms` and SIGKILL it at an exact request: a crash at a chosen point, for the crash tests.

    python -m tests.support.crash_runner before|after|reading|written OPERATION N -- DMS ARGS...

kills the process just before the Nth request of OPERATION (``dynamodb.PutItem``,
``s3.GET``: names as in tests/support/faults.py) is sent, just after its response arrived
(the backend has done it), while the app reads that response's body (at its second read: the
first part has been handed over), or (``written``, for a download with ``-o FOLDER``) at the
first read after some bytes of the body reached the partial file in FOLDER. Nothing is cleaned
up: the OS ends the process as it would on a power cut or `kill -9`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from botocore.httpsession import URLLib3Session

from dms_desktop.cli import main
from tests.support.faults import operation_of


def crash_at(when: str, operation: str, count: int, folder: Path | None = None) -> None:
    original = URLLib3Session.send
    lock = threading.Lock()
    seen = 0

    def send(self: URLLib3Session, request: Any) -> Any:
        nonlocal seen
        if operation_of(request) != operation:
            return original(self, request)
        with lock:
            seen += 1
            hit = seen == count
        if hit and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        response = original(self, request)
        if hit and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        if hit and when == "reading":
            _kill_at_second_read(response.raw)
        if hit and when == "written":
            assert folder is not None, "written needs the download's -o FOLDER"
            _kill_once_written(response.raw, folder)
        return response

    URLLib3Session.send = send  # type: ignore[method-assign]


def _kill_at_second_read(raw: Any) -> None:
    real_read = raw.read
    reads = 0

    def read(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        if reads == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_read(*args, **kwargs)

    raw.read = read


def _kill_once_written(raw: Any, folder: Path) -> None:
    real_read = raw.read

    def read(*args: Any, **kwargs: Any) -> Any:
        if any(path.stat().st_size for path in folder.glob("*.dms-partial")):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_read(*args, **kwargs)

    raw.read = read


if __name__ == "__main__":
    when, operation, count, separator, *dms_args = sys.argv[1:]
    assert when in {"before", "after", "reading", "written"} and separator == "--", __doc__
    output = dms_args[dms_args.index("-o") + 1] if "-o" in dms_args else None
    crash_at(when, operation, int(count), Path(output) if output else None)
    sys.exit(main(dms_args))
