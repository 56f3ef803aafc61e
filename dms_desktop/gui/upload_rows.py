"""The upload dialog's rows: one file each, with what its checks found, and the duplicate check
that runs for it on the long lane."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
            return "Checking for duplicates…"
        if self.duplicate_of:
            action = "another copy will be uploaded" if self.upload_anyway else "skipped"
            where = f" as {self.duplicate_of}" if whole else ""
            return f"Already stored{where}: {action}"
        return self.note or "Ready"


class DuplicateCheck:
    """An operation (long lane): hash one file and find the stored documents with the same
    content. It stops at the next chunk when the dialog closes (``cancel``)."""

    def __init__(self, source: UploadSource, cancel: CancelToken) -> None:
        self._source = source
        self._cancel = cancel

    def __call__(self, ctx: OperationContext) -> ContentCheck:
        self._cancel.raise_if_cancelled("Checking for duplicates")
        return check_content(ctx.service, self._source, self._cancel)
