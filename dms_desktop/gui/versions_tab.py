"""The detail pane's Versions tab: a document's versions (core.versions), newest first, with
Download…, Restore and a preview of the selected version.

The history is read on the fast lane when the tab is shown for a document (and again after the
document changed); the preview is built on the long lane by the detail pane's preview code, from
the bytes of the selected version. Download and Restore are asked of the window
(``download_requested``, ``restore_requested``: gui.version_actions), which runs them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QSize, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import Cancelled, DmsError
from ..core.formatting import human_size, human_time
from ..core.models import Document
from ..core.schema import MAX_OLD_VERSIONS, OLD_VERSION_DAYS
from .operations import (
    ErrorReporter,
    OperationContext,
    OperationFunction,
    Operations,
)
from .preview_panel import PreviewPanel
from .previews import MAX_PREVIEW_SIZE, PreviewResult, build_preview, preview_cache

if TYPE_CHECKING:
    from ..core.service import DocumentService

COLUMNS = 4  # version, size, created, checksum


class _VersionReader:
    """What the preview code reads a body through (``read_head``), for one old version."""

    def __init__(self, ctx: OperationContext, number: int) -> None:
        self._versions = ctx.service.versions
        self._number = number

    def read_head(self, document: Document, max_bytes: int) -> bytes:
        return self._versions.read_version_head(document.document_id, self._number, max_bytes)


def version_preview_operation(
    document: Document, number: int, size: int, checksum: str
) -> OperationFunction[PreviewResult]:
    """An operation (long lane) that builds the preview of version ``number`` of ``document``
    (its size and checksum: what the preview cache keys it by)."""
    as_stored = document.model_copy(update={"size": size, "checksum": checksum})
    bounds = QSize(MAX_PREVIEW_SIZE)

    def build_preview_of_version(ctx: OperationContext) -> PreviewResult:
        ctx.cancel.raise_if_cancelled("The preview")
        reader = cast("DocumentService", _VersionReader(ctx, number))
        return build_preview(reader, as_stored, preview_cache(ctx), bounds)

    return build_preview_of_version


class VersionsTab(QWidget):
    """The versions of the document the detail pane shows."""

    download_requested = Signal(object, int)
    """Download version N of the Document (given with that version's size and checksum)."""
    restore_requested = Signal(object, int)
    """Make version N of the Document the newest again."""
    history_shown = Signal()
    """The list shows the versions read for the current document."""

    def __init__(
        self, operations: Operations, report_error: ErrorReporter, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("versionsTab")
        self._operations = operations
        self._report_error = report_error
        self._document: Document | None = None
        self._versions: list[tuple[int, int, str]] = []  # number, size, checksum (newest first)
        self._generation = 0
        self._loaded_for: tuple[str, int] | None = None  # (document id, version) read

        self.table = QTableWidget(0, COLUMNS)
        self.table.setObjectName("versionsTable")
        self.table.setHorizontalHeaderLabels(
            [self.tr("Version"), self.tr("Size"), self.tr("Created"), self.tr("SHA-256")]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selected)

        self.download_button = QPushButton(self.tr("Download…"))
        self.download_button.setObjectName("versionDownloadButton")
        self.download_button.clicked.connect(self._request_download)
        self.restore_button = QPushButton(self.tr("Restore"))
        self.restore_button.setObjectName("versionRestoreButton")
        self.restore_button.setToolTip(
            self.tr("Make this version the newest again (as a new version; nothing is lost)")
        )
        self.restore_button.clicked.connect(self._request_restore)
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)

        self.status_label = QLabel()
        self.status_label.setObjectName("versionsStatusLabel")
        self.status_label.setWordWrap(True)
        self.preview = PreviewPanel(operations, report_error, "versionPreview", can_open=False)
        self.preview_text = self.preview.text_view

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.preview, 1)
        self._update_buttons()

    # --- what is shown ---

    def show_document(self, document: Document | None, *, load: bool) -> None:
        """Follow the detail pane's document; ``load``: the tab is on screen, read its versions
        now (else when it is shown)."""
        changed = document != self._document
        self._document = document
        if document is None:
            self._clear("")
            return
        if load and (changed or self._loaded_for != (document.document_id, document.version)):
            self.load()

    def load(self) -> None:
        """Read the versions of the document shown (fast lane)."""
        document = self._document
        if document is None:
            return
        self._generation += 1
        generation = self._generation
        self._clear(self.tr("Reading the versions…"))
        document_id = document.document_id

        def read_versions(ctx: OperationContext) -> list[tuple[int, int, str, str]]:
            history = ctx.service.versions.history(document_id)
            return [
                (v.number, v.size, v.checksum, human_time(v.created_at))
                for v in reversed(history.versions)
            ]

        (
            self._operations.fast(read_versions, functools.partial(self._on_read, generation))
            .failure(functools.partial(self._on_failed, generation))
            .run()
        )

    def _on_read(self, generation: int, rows: list[tuple[int, int, str, str]]) -> None:
        if generation != self._generation or self._document is None:
            return
        document = self._document
        self._loaded_for = (document.document_id, document.version)
        self._versions = [(number, size, checksum) for number, size, checksum, _ in rows]
        self.table.setRowCount(len(rows))
        for row, (number, size, checksum, created) in enumerate(rows):
            label = self.tr("%1 (current)").replace("%1", str(number)) if row == 0 else str(number)
            for column, text in enumerate((label, human_size(size), created, checksum[:16])):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.status_label.setText(
            self.tr("Old versions are kept %1 days after they are replaced, at most %2.")
            .replace("%1", str(OLD_VERSION_DAYS))
            .replace("%2", str(MAX_OLD_VERSIONS))
        )
        if rows:
            self.table.selectRow(0)
        self._update_buttons()
        self.history_shown.emit()

    def _on_failed(self, generation: int, error: DmsError) -> None:
        if generation != self._generation or isinstance(error, Cancelled):
            return
        self._clear(str(error))
        self._report_error(error)

    def _clear(self, status: str) -> None:
        self._versions = []
        self._loaded_for = None
        self.table.setRowCount(0)
        self.status_label.setText(status)
        self.preview.clear()
        self._update_buttons()

    # --- the selected version ---

    def selected_number(self) -> int | None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if len(rows) != 1:
            return None
        row = rows.pop()
        return self._versions[row][0] if row < len(self._versions) else None

    def _update_buttons(self) -> None:
        number = self.selected_number()
        current = self._versions[0][0] if self._versions else None
        self.download_button.setEnabled(number is not None)
        self.restore_button.setEnabled(number is not None and number != current)

    @Slot()
    def _on_selected(self) -> None:
        self._update_buttons()
        number = self.selected_number()
        document = self._document
        if number is None or document is None:
            self.preview.clear()
            return
        _, size, checksum = next(v for v in self._versions if v[0] == number)
        as_stored = document.model_copy(update={"size": size, "checksum": checksum})
        self.preview.load(as_stored, version_preview_operation(document, number, size, checksum))

    @Slot()
    def _request_download(self) -> None:
        number = self.selected_number()
        if number is not None and self._document is not None:
            _, size, checksum = next(v for v in self._versions if v[0] == number)
            as_version = self._document.model_copy(update={"size": size, "checksum": checksum})
            self.download_requested.emit(as_version, number)

    @Slot()
    def _request_restore(self) -> None:
        number = self.selected_number()
        if number is not None and self._document is not None:
            self.restore_requested.emit(self._document, number)
