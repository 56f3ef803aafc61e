"""The upload dialog's rows: one file each, with what its checks found and how its table shows
it, and the duplicate check that runs for it on the long lane."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from ..core.cancellation import CancelToken
from ..core.formatting import describe_type, human_size, printable
from ..core.localfiles import HashedFile, UploadSource
from ..core.upload_plan import ContentCheck, DuplicateFinder, check_content
from .operations import OperationContext
from .translations import QT_TRANSLATE_NOOP

if TYPE_CHECKING:
    from ..core.job_uploads import KnownChecksums


COLUMNS = (
    QT_TRANSLATE_NOOP("UploadDialog", "Name"),
    QT_TRANSLATE_NOOP("UploadDialog", "Size"),
    QT_TRANSLATE_NOOP("UploadDialog", "Type"),
    QT_TRANSLATE_NOOP("UploadDialog", "Folder"),
    QT_TRANSLATE_NOOP("UploadDialog", "Status"),
    QT_TRANSLATE_NOOP("UploadDialog", "Upload anyway"),
)
NAME, SIZE, TYPE, FOLDER, STATUS, UPLOAD_ANYWAY = range(len(COLUMNS))

PROBLEM_COLOR = QColor(176, 0, 32)
DUPLICATE_COLOR = QColor(150, 90, 0)


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


def render_row(table: QTableWidget, number: int, row: UploadRow) -> None:
    """Fill row ``number`` of the upload dialog's table from ``row`` (its signals blocked)."""
    blocked = table.blockSignals(True)
    try:
        cells = {
            NAME: (printable(row.path.name), printable(str(row.path))),
            SIZE: ("—" if row.size is None else human_size(row.size), ""),
            TYPE: (describe_type(row.file_type), row.file_type),
            FOLDER: (printable(row.folder), printable(row.folder)),
        }
        for column, (text, tooltip) in cells.items():
            item = QTableWidgetItem(text)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            if tooltip:
                item.setToolTip(tooltip)
            table.setItem(number, column, item)
        status = QTableWidgetItem(printable(row.status_text()))
        status.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        status.setToolTip(printable(row.status_text(whole=True)))
        if row.problem:
            status.setForeground(QBrush(PROBLEM_COLOR))
        elif row.duplicate_of:
            status.setForeground(QBrush(DUPLICATE_COLOR))
        table.setItem(number, STATUS, status)
        anyway = QTableWidgetItem()
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if row.duplicate_of and not row.problem:
            anyway.setFlags(flags | Qt.ItemFlag.ItemIsUserCheckable)
            anyway.setCheckState(
                Qt.CheckState.Checked if row.upload_anyway else Qt.CheckState.Unchecked
            )
            anyway.setToolTip(
                QCoreApplication.translate(
                    "UploadDialog", "Tick to upload another copy of this file."
                )
            )
        else:
            anyway.setFlags(flags)
        table.setItem(number, UPLOAD_ANYWAY, anyway)
    finally:
        table.blockSignals(blocked)


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
