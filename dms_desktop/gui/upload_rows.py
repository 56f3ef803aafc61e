"""The upload dialog's rows: one file each, with what its checks found, and the duplicate check
that runs for it on the long lane."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication

from ..core.cancellation import CancelToken
from ..core.localfiles import HashedFile, UploadSource
from ..core.upload_plan import ContentCheck, DuplicateFinder, check_content
from .operations import OperationContext

if TYPE_CHECKING:
    from ..core.job_uploads import KnownChecksums


@dataclass
class UploadRow:
    """One file in the dialog (GUI thread only)."""

    key: int
    path: Path
    folder: str
    size: int | None
    file_type: str
    problem: str = ""
    checking: bool = False
    duplicate_of: str = ""  # names of stored documents with the same content
    note: str = ""  # e.g. the duplicate check could not run
    upload_anyway: bool = False
    content: HashedFile | None = None  # its checksum, once the duplicate check has hashed it

    @property
    def skipped(self) -> bool:
        return bool(self.duplicate_of) and not self.upload_anyway

    def status_text(self, *, whole: bool = False) -> str:
        """The Status cell: short enough for one line; ``whole`` for its tooltip."""
        if self.problem:
            return self.problem
        if self.checking:
            return QCoreApplication.translate("UploadDialog", "Checking for duplicates…")
        if self.duplicate_of:
            if whole:
                text = QCoreApplication.translate(
                    "UploadDialog", "Already stored as {names}: {action}"
                )
            else:
                text = QCoreApplication.translate("UploadDialog", "Already stored: {action}")
            action = (
                QCoreApplication.translate("UploadDialog", "another copy will be uploaded")
                if self.upload_anyway
                else QCoreApplication.translate("UploadDialog", "skipped")
            )
            return text.format(names=self.duplicate_of, action=action)
        return self.note or QCoreApplication.translate("UploadDialog", "Ready")


MANY_FILES = 20
"""From this many files, the dialog's checks share one read of the stored checksums instead of
one query per file (a folder of thousands is checked in the time it takes to hash it)."""


class SharedChecksums:
    """The stored checksums, read once by the first check that needs them (on the long lane),
    for the checks of many files (core.job_uploads.KnownChecksums)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: KnownChecksums | None = None

    def finder(self, ctx: OperationContext) -> DuplicateFinder:
        with self._lock:
            if self._known is None:
                self._known = ctx.service.known_checksums()
            return self._known


class DuplicateCheck:
    """An operation (long lane): hash one file and find the stored documents with the same
    content. It stops at the next chunk when the dialog closes (``cancel``). ``shared``: the
    stored checksums read once for many files."""

    def __init__(
        self, source: UploadSource, cancel: CancelToken, shared: SharedChecksums | None = None
    ) -> None:
        self._source = source
        self._cancel = cancel
        self._shared = shared

    def __call__(self, ctx: OperationContext) -> ContentCheck:
        self._cancel.raise_if_cancelled("Checking for duplicates")
        finder = self._shared.finder(ctx) if self._shared is not None else ctx.service
        return check_content(finder, self._source, self._cancel)
