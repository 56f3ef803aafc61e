"""The upload dialog's rows: one file each, with what its checks found, and the duplicate check
that runs for it on the long lane."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from ..core.cancellation import CancelToken
from ..core.localfiles import HashedFile, UploadSource
from ..core.upload_plan import ContentCheck, check_content
from .operations import OperationContext


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


class DuplicateCheck:
    """An operation (long lane): hash one file and find the stored documents with the same
    content. It stops at the next chunk when the dialog closes (``cancel``)."""

    def __init__(self, source: UploadSource, cancel: CancelToken) -> None:
        self._source = source
        self._cancel = cancel

    def __call__(self, ctx: OperationContext) -> ContentCheck:
        self._cancel.raise_if_cancelled("Checking for duplicates")
        return check_content(ctx.service, self._source, self._cancel)
