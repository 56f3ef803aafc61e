"""A preview of a document's body: the image of a picture or a PDF's first page, text, Markdown,
or, for what has none, the file type's icon with why. The detail pane shows the current body
with it and the Versions tab an old version.

The preview is built on the long lane. Asking for another one cancels the one still waiting, and
a reply for what the user no longer looks at is dropped (a generation counter).
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken

from ..core.errors import AuthError, Cancelled, DmsError
from ..core.models import Document
from ..core.previews import PreviewKind
from .detail_widgets import ImageLabel, MarkdownView
from .icons import file_type_icon
from .operations import ErrorReporter, Operation, OperationFunction, Operations
from .previews import PreviewResult
from .translations import QT_TRANSLATE_NOOP

LOADING_TEXT = QT_TRANSLATE_NOOP("PreviewPanel", "Loading preview…")


class PreviewPanel(QWidget):
    """The preview's pages and its caption; child names start with ``name`` ("preview")."""

    shown = Signal(object)
    """The PreviewKind now on screen (NONE for the no-preview page)."""
    open_requested = Signal()
    """"Open with the default app" on the no-preview page (only with ``can_open``)."""

    def __init__(
        self,
        operations: Operations,
        report_error: ErrorReporter,
        name: str = "preview",
        *,
        can_open: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._operations = operations
        self._report_error = report_error
        self._running: Operation[PreviewResult] | None = None
        self._generation = 0
        self._document: Document | None = None

        self.area = QStackedWidget()
        self.area.setObjectName(f"{name}Area")
        self.area.setMinimumHeight(120)
        self.loading_label = QLabel(self.tr(LOADING_TEXT))
        self.loading_label.setObjectName(f"{name}LoadingLabel")
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label = ImageLabel()
        self.image_label.setObjectName(f"{name}ImageLabel")
        self.text_view = QPlainTextEdit()
        self.text_view.setObjectName(f"{name}TextView")
        self.text_view.setReadOnly(True)
        self.text_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.markdown_view = MarkdownView()
        self.markdown_view.setObjectName(f"{name}MarkdownView")

        self.none_page = QWidget()
        self.none_page.setObjectName(f"{name}NonePage")
        self._file_icon = QLabel()
        self._file_icon.setObjectName(f"{name}FileIcon")
        self._file_icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note_label = QLabel()
        self.note_label.setObjectName(f"{name}NoteLabel")
        self.note_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note_label.setWordWrap(True)
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        none_layout = QVBoxLayout(self.none_page)
        none_layout.addStretch(1)
        none_layout.addWidget(self._file_icon)
        none_layout.addWidget(self.note_label)
        if can_open:
            open_button = QPushButton(self.tr("Open with the default app"))
            open_button.setObjectName("openExternallyButton")
            open_button.clicked.connect(self.open_requested)
            none_layout.addWidget(open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        none_layout.addStretch(1)
        self._blank = QWidget()
        for page in (
            self._blank,
            self.loading_label,
            self.image_label,
            self.text_view,
            self.markdown_view,
            self.none_page,
        ):
            self.area.addWidget(page)

        self._caption = QLabel()
        self._caption.setObjectName(f"{name}CaptionLabel")
        self._caption.setEnabled(False)
        self._caption.setTextFormat(Qt.TextFormat.PlainText)
        self._caption.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.area, 1)
        layout.addWidget(self._caption)

    def load(self, document: Document, build: OperationFunction[PreviewResult]) -> None:
        """Show "Loading preview…", then what ``build`` makes of ``document`` (long lane)."""
        self.clear()
        generation = self._generation
        self._document = document
        self.area.setCurrentWidget(self.loading_label)
        self._running = (
            self._operations.long(build, functools.partial(self._on_ready, generation))
            .failure(functools.partial(self._on_failed, generation))
            .run()
        )

    def show_none(self, document: Document, note: str) -> None:
        """The no-preview page: the file type's icon and ``note`` (why there is none)."""
        self.clear()
        self._document = document
        self._show_none(note)

    def clear(self) -> None:
        """Nothing to preview (any preview on its way is dropped)."""
        if self._running is not None:
            self._running.cancel()  # still in the long lane's queue: it does not start
            self._running = None
        self._generation += 1
        self._document = None
        self.image_label.set_image(None)
        self._set_caption("")
        self.area.setCurrentWidget(self._blank)

    def _on_ready(self, generation: int, result: PreviewResult) -> None:
        if not Shiboken.isValid(self) or generation != self._generation:
            return  # the panel is gone (its window closed), or the user has moved on
        self._running = None
        if result.kind in {PreviewKind.IMAGE, PreviewKind.PDF} and result.image is not None:
            self.image_label.set_image(result.image)
            self.area.setCurrentWidget(self.image_label)
        elif result.kind is PreviewKind.TEXT and result.text is not None:
            self.text_view.setPlainText(result.text)
            self.area.setCurrentWidget(self.text_view)
        elif result.kind is PreviewKind.MARKDOWN and result.text is not None:
            self.markdown_view.setMarkdown(result.text)
            self.area.setCurrentWidget(self.markdown_view)
        else:
            self._show_none(result.note or self.tr("No preview available."))
            return
        self._set_caption(result.note)
        self.shown.emit(result.kind)

    def _on_failed(self, generation: int, error: DmsError) -> None:
        if isinstance(error, Cancelled):
            return  # the user moved on
        if isinstance(error, AuthError):
            self._report_error(error)  # the session matters beyond this preview
        if Shiboken.isValid(self) and generation == self._generation:
            self._running = None
            self._show_none(self.tr("Preview unavailable: {error}").format(error=error))

    def _show_none(self, note: str) -> None:
        if self._document is not None:
            icon = file_type_icon(self._document.file_type)
            self._file_icon.setPixmap(icon.pixmap(QSize(96, 96)))
        self.note_label.setText(note)
        self._set_caption("")
        self.area.setCurrentWidget(self.none_page)
        self.shown.emit(PreviewKind.NONE)

    @Slot(str)
    def _set_caption(self, text: str) -> None:
        self._caption.setText(text)
        self._caption.setVisible(bool(text))
