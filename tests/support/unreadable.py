"""A file that really cannot be read, also when the tests run as root.

Root reads any file whatever its mode, so a mode of 000 alone proves nothing there. When the
tests run as root, the block runs with the effective user ``nobody`` instead (restored after),
so the file is as unreadable as it would be for any user: no check is mocked.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NOBODY = 65534


@contextmanager
def unreadable_file(name: str = "secret.pdf", data: bytes = b"private") -> Iterator[Path]:
    """Yields a file of mode 000 in a folder anyone may enter and write (so a CLI home can be
    made beside it); the block runs as ``nobody`` when the tests run as root."""
    folder = Path(tempfile.mkdtemp(prefix="dms-unreadable-"))
    try:
        folder.chmod(0o777)
        path = folder / name
        path.write_bytes(data)
        path.chmod(0)
        if os.geteuid() != 0:
            yield path
            return
        os.seteuid(NOBODY)
        try:
            yield path
        finally:
            os.seteuid(0)
    finally:
        shutil.rmtree(folder)
