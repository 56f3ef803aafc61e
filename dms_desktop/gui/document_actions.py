"""What the window does with the selected documents' bodies and for good: open one with the
system's app (downloaded into the cache first), download one or many (asking where, and before
replacing files), and delete permanently (asking first; Delete without Shift moves to the trash,
see gui.lifecycle_actions). ``selected`` says which documents are selected."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from ..core.bulk_delete import DeleteStatus
from ..core.changes import DocumentChanges
from ..core.errors import DmsError
from ..core.formatting import printable
from ..core.localfiles import safe_local_name, unique_download_targets
from ..core.models import Document
from ..core.paths import AppPaths
from .document_events import DocumentEvents
from .message_bar import MessageBar
from .operations import Lane, OperationContext, Operations
from .session import OPEN_CACHE_FOLDER
from .transfer_items import DownloadJobSpec, DownloadSpec
from .transfers import TransferQueue

log = logging.getLogger(__name__)

MAX_NAMES_IN_CONFIRMATION = 10
# A delete of more documents than this runs on the long lane: it takes a while, and pages, edits
# and counts must not wait behind it.
LONG_DELETE_ABOVE = 25


@dataclass
class DeleteOutcome:
    """What a delete did: the documents deleted, and (name, reason) for those it could not."""

    deleted: list[Document] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def delete_operation(documents: list[Document]) -> Callable[[OperationContext], DeleteOutcome]:
    def delete_documents(ctx: OperationContext) -> DeleteOutcome:
        # One batched delete for the whole selection (a few dozen requests for 1,000 rows).
        report = ctx.service.delete_many(
            [document.document_id for document in documents],
            cancel=ctx.cancel,
            progress=ctx.report_progress,
        )
        by_id = {document.document_id: document for document in documents}
        outcome = DeleteOutcome()
        for result in report.results:
            document = by_id[result.document_id]
            if result.status in (DeleteStatus.DELETED, DeleteStatus.NOT_FOUND):
                outcome.deleted.append(document)  # not there any more either way
            else:
                outcome.failed.append((document.filename, result.message))
        return outcome

    return delete_documents


class DocumentActions(QObject):
    """Open, Download and Delete Permanently of the selected documents."""

    def __init__(
        self,
        window: QMainWindow,
        selected: Callable[[], list[Document]],
        operations: Operations,
        transfers: TransferQueue,
        message_bar: MessageBar,
        events: DocumentEvents,
        paths: AppPaths,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._selected = selected
        self._operations = operations
        self._transfers = transfers
        self._message_bar = message_bar
        self._events = events
        self._paths = paths
        self._open_after_download: set[int] = set()
        transfers.download_finished.connect(self.on_download_finished)

    @Slot()
    def open_selected(self) -> None:
        selected = self._selected()
        if len(selected) == 1:
            self.open_document(selected[0])

    @Slot(object)
    def open_document(self, document: Document) -> None:
        """Download into the cache (fresh copy) and open it with the system's default app."""
        folder = self._paths.cache_dir / OPEN_CACHE_FOLDER / document.document_id
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / safe_local_name(document.filename)
        transfer_id = self._transfers.download(DownloadSpec(document, target, overwrite=True))
        self._open_after_download.add(transfer_id)

    @Slot()
    def download_selected(self) -> None:
        selected = self._selected()
        if len(selected) == 1:
            self.download_one(selected[0])
        elif selected:
            self._download_many(selected)

    def download_one(self, document: Document) -> None:
        default = str(Path.home() / safe_local_name(document.filename))
        # The file dialog itself asks before replacing an existing file.
        chosen, _ = QFileDialog.getSaveFileName(self._window, self.tr("Save document as"), default)
        if chosen:
            self._transfers.download(DownloadSpec(document, Path(chosen), overwrite=True))

    def _download_many(self, documents: list[Document]) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self._window, self.tr("Download documents into folder")
        )
        if not chosen:
            return
        folder = Path(chosen)
        targets = unique_download_targets(
            folder, [(document.document_id, document.filename) for document in documents]
        )
        existing = [target for target in targets.values() if target.exists()]
        overwrite = False
        if existing:
            names = ", ".join(
                printable(target.name) for target in existing[:MAX_NAMES_IN_CONFIRMATION]
            )
            question = self.tr(
                "%n file(s) already exist in {folder}: {names}.\n"
                "Replace them? (No keeps them and skips those documents.)",
                "",
                len(existing),
            ).format(folder=printable(str(folder)), names=names)
            answer = QMessageBox.question(
                self._window,
                self.tr("Replace files?"),
                question,
                QMessageBox.StandardButton.Yes
                | QMessageBox.StandardButton.No
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.No,
            )
            if answer == QMessageBox.StandardButton.Cancel:
                return
            overwrite = answer == QMessageBox.StandardButton.Yes
        chosen_documents = [
            document
            for document in documents
            if overwrite or not targets[document.document_id].exists()
        ]
        if not chosen_documents:
            return
        # One job for all of them: one row, one Pause / Resume / Cancel (core.transfer_jobs).
        name = self.tr("%n document(s)", "", len(chosen_documents))
        self._transfers.download_job(
            DownloadJobSpec(chosen_documents, folder, name, overwrite=overwrite)
        )

    @Slot(object)
    def on_download_finished(self, path: Path) -> None:
        finished = [
            transfer
            for transfer in self._transfers.transfers()
            if transfer.transfer_id in self._open_after_download and transfer.result == path
        ]
        for transfer in finished:
            self._open_after_download.discard(transfer.transfer_id)
            opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
            if not opened and isinstance(transfer.spec, DownloadSpec):
                self._offer_download_instead(transfer.spec.document)
        if not finished:
            self._window.statusBar().showMessage(
                self.tr("Downloaded {name}").format(name=path.name), 5000
            )

    def _offer_download_instead(self, document: Document) -> None:
        """Open found no app for the document: say so, and offer to save it somewhere."""
        self._message_bar.report_error(
            DmsError(
                self.tr(
                    "No app on this system is set to open {name} ({type}). Download it to open "
                    "it with an app of your choice."
                ).format(name=document.filename, type=document.file_type)
            )
        )
        self._message_bar.set_action(
            self.tr("Download…"), functools.partial(self.download_one, document)
        )

    @Slot()
    def delete_selected(self) -> None:
        documents = self._selected()
        if not documents:
            return
        names = "\n".join(f"• {doc.filename}" for doc in documents[:MAX_NAMES_IN_CONFIRMATION])
        more = len(documents) - MAX_NAMES_IN_CONFIRMATION
        if more > 0:
            names += "\n" + self.tr("…and %n more", "", more)
        question = self.tr(
            "Delete %n document(s) for good? This cannot be undone (Delete without Shift moves "
            "them to the trash instead).\n\n{names}",
            "",
            len(documents),
        ).format(names=names)
        answer = QMessageBox.warning(
            self._window,
            self.tr("Delete documents permanently?"),
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return

        lane = Lane.LONG if len(documents) > LONG_DELETE_ABOVE else Lane.FAST
        self._operations.on(lane, delete_operation(documents), self._on_deleted).run()
        log.info("deleting %d documents", len(documents))

    def _on_deleted(self, outcome: DeleteOutcome) -> None:
        self._events.publish(DocumentChanges.of_removed(outcome.deleted))
        deleted, failed = outcome.deleted, outcome.failed
        if failed:
            details = "\n".join(f"{name}: {reason}" for name, reason in failed)
            failure = self.tr("%n document(s) could not be deleted.", "", len(failed))
            self._message_bar.report_error(DmsError(f"{failure}\n{details}"))
        else:
            self._window.statusBar().showMessage(
                self.tr("Deleted %n document(s)", "", len(deleted)), 5000
            )
