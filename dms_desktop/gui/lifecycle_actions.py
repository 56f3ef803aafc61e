"""What the window does in a document's life cycle with the selected documents: move them to the
trash (the message bar offers Undo), edit the tags of all of them at once, and copy a share link.

The actions live here (their menu entries and shortcuts are the window's); ``selected`` says
which documents are selected (the list's rows, or the search results'). Changes are operations
whose outcome is published as "documents changed".
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMainWindow

from ..core.change_report import ChangeReport, ChangeStatus
from ..core.changes import DocumentChanges, TaggedDocument, Update
from ..core.formatting import human_time
from ..core.models import Document
from ..core.share_links import SHARE_EXPIRIES, ShareLink
from .bulk_tag_dialog import BulkTagDialog
from .document_events import DocumentEvents
from .icons import make_action
from .message_bar import MessageBar
from .operations import Lane, Operation, OperationContext, Operations
from .share_dialog import ShareLinkDialog, signed_by_text
from .trash_view import change_problems, restore_operation, trash_operation

log = logging.getLogger(__name__)

LONG_CHANGE_ABOVE = 25  # more documents than this run on the long lane, with progress


class LifecycleActions(QObject):
    """Delete (to the trash, with Undo), Edit Tags of Selected and Copy Share Link."""

    def __init__(
        self,
        window: QMainWindow,
        selected: Callable[[], list[Document]],
        selected_tagged: Callable[[], Sequence[TaggedDocument]],
        operations: Operations,
        message_bar: MessageBar,
        events: DocumentEvents,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._selected = selected
        self._selected_tagged = selected_tagged
        self._operations = operations
        self._message_bar = message_bar
        self._events = events
        self.trash_action = make_action(
            window,
            "deleteAction",
            self.tr("De&lete"),
            "delete",
            QKeySequence.StandardKey.Delete,
            self.trash_selected,
        )
        self.trash_action.setToolTip(
            self.tr("Move the selected documents to the trash (Undo restores)")
        )
        self.share_action = make_action(
            window,
            "shareLinkAction",
            self.tr("Copy &Share Link…"),
            "open",
            None,
            self.share_selected,
        )
        self.share_dialog: ShareLinkDialog | None = None
        self.edit_tags_action = make_action(
            window,
            "editTagsAction",
            self.tr("Edit &Tags of Selected…"),
            "tag",
            "Ctrl+T",
            self.edit_tags,
        )
        self.bulk_tag_dialog: BulkTagDialog | None = None
        self.retagging: Operation[ChangeReport] | None = None

    def update(self, count: int) -> None:
        """Enable the actions that fit ``count`` selected documents."""
        self.trash_action.setEnabled(count > 0)
        self.edit_tags_action.setEnabled(count > 0)
        self.share_action.setEnabled(count == 1)

    def _status(self, text: str) -> None:
        self._window.statusBar().showMessage(text, 5000)

    # --- the trash ---

    @Slot()
    def trash_selected(self) -> None:
        """Move the selected documents to the trash; the message bar offers to undo it."""
        documents = self._selected_tagged()
        if not documents:
            return
        document_ids = [document.document_id for document in documents]
        lane = Lane.LONG if len(document_ids) > LONG_CHANGE_ABOVE else Lane.FAST
        moved = functools.partial(self._on_trashed, documents)
        self._operations.on(lane, trash_operation(document_ids), moved).run()
        log.info("moving %d documents to the trash", len(document_ids))

    def _on_trashed(self, documents: Sequence[TaggedDocument], report: ChangeReport) -> None:
        # Not listed any more either way: moved now, or gone / in the trash already.
        gone = set(report.ids(ChangeStatus.DONE) + report.ids(ChangeStatus.NOT_FOUND))
        self._events.publish(
            DocumentChanges.of_removed(doc for doc in documents if doc.document_id in gone)
        )
        error = change_problems(
            report, lambda n: self.tr("%n document(s) could not be moved to the trash.", "", n)
        )
        if error is not None:
            self._message_bar.report_error(error)
            return
        moved = [result.document_id for result in report.done]
        self._message_bar.show_notice(self.tr("%n document(s) moved to the trash", "", len(moved)))
        self._message_bar.set_action(self.tr("Undo"), functools.partial(self.restore, moved))

    def restore(self, document_ids: list[str]) -> None:
        """Take documents out of the trash again (the message bar's Undo)."""
        lane = Lane.LONG if len(document_ids) > LONG_CHANGE_ABOVE else Lane.FAST
        self._operations.on(lane, restore_operation(document_ids), self._on_restored).run()

    def _on_restored(self, report: ChangeReport) -> None:
        self._events.publish(DocumentChanges.of_added(report.changed_documents))
        error = change_problems(
            report, lambda n: self.tr("%n document(s) could not be restored.", "", n)
        )
        if error is not None:
            self._message_bar.report_error(error)
        else:
            self._status(self.tr("Restored %n document(s)", "", len(report.done)))

    # --- tags of many documents ---

    @Slot()
    def edit_tags(self) -> None:
        """Ask what to add and remove (window-modal), then apply it to every selected document."""
        documents = self._selected_tagged()
        if not documents:
            return
        dialog = BulkTagDialog(documents, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(functools.partial(self._retag, dialog))
        self.bulk_tag_dialog = dialog
        dialog.open()

    def _retag(self, dialog: BulkTagDialog) -> None:
        self.bulk_tag_dialog = None
        documents, add, remove = dialog.documents, dialog.tags_to_add(), dialog.tags_to_remove()
        document_ids = [document.document_id for document in documents]

        def retag(ctx: OperationContext) -> ChangeReport:
            return ctx.service.retag_many(
                document_ids,
                add=add,
                remove=remove,
                cancel=ctx.cancel,
                progress=ctx.report_progress,
            )

        lane = Lane.LONG if len(documents) > LONG_CHANGE_ABOVE else Lane.FAST
        operation = self._operations.on(
            lane, retag, functools.partial(self._on_retagged, documents)
        )
        if len(documents) > LONG_CHANGE_ABOVE:  # progress, and a way to stop it
            total = len(documents)
            changing = self.tr("Changing the tags of %n document(s)…", "", total)
            self._message_bar.show_notice(changing)
            self._message_bar.set_action(self.tr("Cancel"), operation.cancel)
            operation.progress(self._show_retag_progress)
        self.retagging = operation.run()

    def _show_retag_progress(self, done: int, total: int) -> None:
        self._status(self.tr("Changing tags: {done} of {total}").format(done=done, total=total))

    def _on_retagged(self, documents: Sequence[TaggedDocument], report: ChangeReport) -> None:
        self.retagging = None
        self._message_bar.dismiss()
        before = {document.document_id: document for document in documents}
        updates = tuple(
            Update(before[result.document.document_id], result.document)
            for result in report.done
            if result.document is not None and result.document.document_id in before
        )
        self._events.publish(DocumentChanges(updated=updates))
        error = change_problems(
            report, lambda n: self.tr("%n document(s) could not be retagged.", "", n)
        )
        if error is not None:
            self._message_bar.report_error(error)
        else:
            self._status(self.tr("Changed the tags of %n document(s)", "", len(report.done)))

    # --- sharing ---

    @Slot()
    def share_selected(self) -> None:
        selected = self._selected()
        if len(selected) == 1:
            self.share_document(selected[0])

    @Slot(object)
    def share_document(self, document: Document) -> None:
        """Ask how long the link should work (window-modal), saying who makes a link of each
        lifetime (asked of the service first: no request), then make it and copy it."""

        def signers(ctx: OperationContext) -> dict[str, str | None]:
            return {key: ctx.service.share_signer(value) for key, value in SHARE_EXPIRIES.items()}

        self._operations.fast(signers, functools.partial(self._ask_share, document)).run()

    def _ask_share(self, document: Document, signers: dict[str, str | None]) -> None:
        dialog = ShareLinkDialog(document, self._window, signers)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(functools.partial(self._make_share_link, dialog))
        self.share_dialog = dialog
        dialog.open()

    def _make_share_link(self, dialog: ShareLinkDialog) -> None:
        self.share_dialog = None
        document_id, lifetime = dialog.document.document_id, dialog.lifetime

        def make_link(ctx: OperationContext) -> ShareLink:
            return ctx.service.share_link(document_id, lifetime)

        self._operations.fast(make_link, self._on_share_link).run()

    def _on_share_link(self, link: ShareLink) -> None:
        QGuiApplication.clipboard().setText(link.url)
        self._message_bar.show_notice(
            self.tr("Share link of {name} copied ({signer}); it works until {time}.").format(
                name=link.document.filename,
                signer=signed_by_text(link.signed_by),
                time=human_time(link.expires_at),
            )
        )
