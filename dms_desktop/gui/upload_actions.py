"""Uploading from the window: the Upload action and the upload dialog, files dropped on the
window, and what a finished or failed upload tells the rest of the window."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QWidget

from ..core.changes import DocumentChanges
from ..core.errors import DmsError
from ..core.models import Document
from .document_events import DocumentEvents
from .message_bar import MessageBar
from .operations import Operations
from .transfer_items import UploadJobSpec, UploadSpec
from .transfers import TransferQueue
from .upload_dialog import UploadDialog


class UploadActions(QObject):
    """Opens the upload dialog (one at a time) and queues what it accepts: one file is one
    transfer, several (a folder) one job of the transfers panel."""

    def __init__(
        self,
        window: QWidget,
        operations: Operations,
        transfers: TransferQueue,
        message_bar: MessageBar,
        events: DocumentEvents,
        known_tags: Callable[[], list[str]],
        signed_in: Callable[[], bool],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._operations = operations
        self._transfers = transfers
        self._message_bar = message_bar
        self._events = events
        self._known_tags = known_tags
        self._signed_in = signed_in
        self.dialog: UploadDialog | None = None
        transfers.upload_finished.connect(self._on_upload_finished)
        transfers.documents_uploaded.connect(self._on_documents_uploaded)
        transfers.transfer_failed.connect(self._on_transfer_failed)

    @Slot()
    def show_dialog(self) -> None:
        """The Upload action (button, Ctrl+U, File menu): the dialog with no files chosen yet.

        A slot of its own, because ``QAction.triggered`` passes a ``checked`` flag that would land
        in the ``paths`` argument of :meth:`open_dialog`."""
        self.open_dialog(())

    def open_dialog(self, paths: Iterable[Path]) -> None:
        """Open the upload dialog with ``paths`` (window-modal, not blocking); accepting it queues
        the files."""
        dialog = UploadDialog(self._operations, self._known_tags(), list(paths), self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._forget_dialog)  # accepted or cancelled: it closes
        dialog.accepted.connect(functools.partial(self._upload_from_dialog, dialog))
        self.dialog = dialog
        dialog.open()

    @Slot()
    def _forget_dialog(self) -> None:
        self.dialog = None

    def _upload_from_dialog(self, dialog: UploadDialog) -> None:
        self.upload(dialog.specs(), dialog.roots())

    @Slot(list)
    def on_files_dropped(self, paths: list[Path]) -> None:
        if not self._signed_in():
            self._message_bar.show_notice(self.tr("Sign in first, then drop the files again."))
            return
        self.open_dialog(paths)

    def upload(self, specs: Iterable[UploadSpec], roots: Iterable[Path] = ()) -> None:
        """One file is one transfer; several (a folder) are one job of the transfers panel."""
        files = list(specs)
        if len(files) == 1:
            self._transfers.upload(files[0])
        elif files:
            name = self._transfers.job_name(files)
            self._transfers.upload_job(UploadJobSpec(files, name, list(roots)))

    @Slot(object)
    def _on_upload_finished(self, document: Document) -> None:
        self._events.publish(DocumentChanges.of_added([document]))

    @Slot(list)
    def _on_documents_uploaded(self, documents: list[Document]) -> None:
        self._events.publish(DocumentChanges.of_added(documents))

    @Slot(object, object)
    def _on_transfer_failed(self, transfer: object, error: DmsError) -> None:
        name = getattr(transfer, "name", "")
        self._message_bar.report_error(DmsError(f"{name}: {error}") if name else error)
