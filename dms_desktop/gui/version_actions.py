"""What the window does with versions of a document (core.versions): "Upload New Version…" (the
context and File menus), a file dropped on a row (asked first), and the Versions tab's Download
and Restore.

Uploads and downloads of versions are transfers (gui.transfers: the transfers panel shows their
progress, Cancel stops them); a restore is an operation on the fast lane. Each outcome is
published as "documents changed" (an update of the document: the list, the detail pane and its
Versions tab follow).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Signal, Slot
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QTableView

from ..core.changes import DocumentChanges
from ..core.localfiles import safe_local_name
from ..core.models import Document
from .document_events import DocumentEvents
from .document_model import DocumentTableModel
from .drops import DropHandler, paths_from_mime
from .icons import make_action
from .message_bar import MessageBar
from .operations import OperationContext, Operations
from .transfer_items import DownloadSpec, UploadSpec
from .transfers import TransferQueue

log = logging.getLogger(__name__)


class RowDropHandler(DropHandler):
    """Drops on the document list: one file dropped on a row is ``dropped_on_row`` (to become a
    new version of that row's document); anything else is ``files_dropped``, as on the window."""

    dropped_on_row = Signal(object, int)  # Path, row

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self._table = table

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Drop and isinstance(event, QDropEvent):
            mime = event.mimeData()
            paths = paths_from_mime(mime) if mime is not None else None
            row = self._table.indexAt(event.position().toPoint()).row()
            if paths is not None and len(paths) == 1 and paths[0].is_file() and row >= 0:
                event.acceptProposedAction()
                self.dropped_on_row.emit(paths[0], row)
                return True
        return super().eventFilter(watched, event)


class VersionActions(QObject):
    """Upload New Version…, drops on rows, and the Versions tab's Download and Restore."""

    def __init__(
        self,
        window: QMainWindow,
        table: QTableView,
        selected: Callable[[], list[Document]],
        operations: Operations,
        transfers: TransferQueue,
        message_bar: MessageBar,
        events: DocumentEvents,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._table = table
        self._selected = selected
        self._operations = operations
        self._transfers = transfers
        self._message_bar = message_bar
        self._events = events
        self.upload_version_action = make_action(
            window,
            "uploadVersionAction",
            self.tr("Upload New &Version…"),
            "upload",
            None,
            self.upload_version_of_selected,
        )
        self.upload_version_action.setToolTip(
            self.tr("Store a changed file as a new version of the selected document")
        )
        self.row_drops = RowDropHandler(table)
        self.row_drops.install(table.viewport())
        self.row_drops.dropped_on_row.connect(self._on_dropped_on_row)
        transfers.version_uploaded.connect(self._on_version_uploaded)

    def update(self, count: int) -> None:
        self.upload_version_action.setEnabled(count == 1)

    # --- a new version ---

    @Slot()
    def upload_version_of_selected(self) -> None:
        selected = self._selected()
        if len(selected) != 1:
            return
        document = selected[0]
        chosen, _ = QFileDialog.getOpenFileName(
            self._window,
            self.tr("New version of %1").replace("%1", document.filename),
            str(Path.home()),
        )
        if chosen:
            self.upload_version(document, Path(chosen))

    @Slot(object, int)
    def _on_dropped_on_row(self, path: Path, row: int) -> None:
        if not self._table.isEnabled():  # a list snapshot before sign-in (gui.main_window)
            self._message_bar.show_notice(self.tr("Sign in first, then drop the file again."))
            return
        model = self._table.model()
        if isinstance(model, DocumentTableModel) and row < model.rowCount():
            self.confirm_drop(path, model.document_at(row))

    def confirm_drop(self, path: Path, document: Document) -> None:
        """A file dropped on ``document``'s row: ask, then upload it as its new version."""
        answer = QMessageBox.question(
            self._window,
            self.tr("Upload a new version?"),
            self.tr("Upload %1 as a new version of %2? The document keeps its name and tags.")
            .replace("%1", path.name)
            .replace("%2", document.filename),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Yes,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.upload_version(document, path)

    def upload_version(self, document: Document, path: Path) -> None:
        """Send ``path`` as the newest version of ``document`` (a transfer, with progress)."""
        self._transfers.upload(UploadSpec(path, new_version_of=document))
        log.info("uploading a new version of %s", document.document_id)

    @Slot(object, object)
    def _on_version_uploaded(self, before: Document, after: Document) -> None:
        self._events.publish(DocumentChanges.of_update(before, after))
        self._message_bar.show_notice(
            self.tr("Stored a new version of %1.").replace("%1", after.filename)
        )

    # --- the Versions tab ---

    @Slot(object, int)
    def download_version(self, document: Document, number: int) -> None:
        """Ask where, then download version ``number`` (``document`` carries its size)."""
        stem, dot, extension = safe_local_name(document.filename).rpartition(".")
        name = f"{stem} (version {number}){dot}{extension}" if stem else f"{extension} ({number})"
        chosen, _ = QFileDialog.getSaveFileName(
            self._window, self.tr("Save version as"), str(Path.home() / name)
        )
        if chosen:
            spec = DownloadSpec(document, Path(chosen), overwrite=True, version=number)
            self._transfers.download(spec)

    @Slot(object, int)
    def restore_version(self, document: Document, number: int) -> None:
        """Make version ``number`` the newest again (a new version with its bytes)."""
        document_id, version = document.document_id, document.version

        def restore(ctx: OperationContext) -> Document:
            return ctx.service.versions.restore_version(
                document_id, number, expected_version=version
            )

        self._operations.fast(restore, functools.partial(self._on_restored, document, number)).run()

    def _on_restored(self, before: Document, number: int, after: Document) -> None:
        self._events.publish(DocumentChanges.of_update(before, after))
        self._message_bar.show_notice(
            self.tr("Version %1 of %2 is the current version again.")
            .replace("%1", str(number))
            .replace("%2", after.filename)
        )
