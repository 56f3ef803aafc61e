"""The detail pane's small widgets: a tag field that completes the tag being typed, a label that
elides its text in the middle, an image that scales with the pane, a Markdown view that loads no
remote resources."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QSize, QStringListModel, Qt, QUrl, Slot
from PySide6.QtGui import (
    QImage,
    QKeyEvent,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QCompleter,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QTextBrowser,
    QWidget,
)

from ..core.models import tag_key
from ..core.tag_text import piece_at, quote_tag


class TagListEdit(QLineEdit):
    """A line of tags (see core.tag_text: commas between tags, quotes around a tag with a comma)
    with completion of the tag being typed (case-insensitive)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._known = QStringListModel(self)
        self._completer = QCompleter(self._known, self)
        self._completer.setObjectName("detailTagsCompleter")
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setModelSorting(QCompleter.ModelSorting.CaseInsensitivelySortedModel)
        self._completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self._completer.setWidget(self)
        self._completer.activated.connect(self.insert_completion)
        self.textEdited.connect(self._update_completion)

    def completer_for_tags(self) -> QCompleter:
        return self._completer

    def set_known_tags(self, tags: Iterable[str]) -> None:
        unique: dict[str, str] = {}
        for tag in tags:
            unique.setdefault(tag_key(tag), tag)
        self._known.setStringList(sorted(unique.values(), key=tag_key))

    def current_fragment(self) -> str:
        """The part of the tag under the cursor typed so far (without its opening quote)."""
        text, cursor = self.text(), self.cursorPosition()
        piece = piece_at(text, cursor)
        return piece_at(text[piece.start : cursor], cursor - piece.start).text

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        """Enter while the completion popup is open chooses the completion, as in a QLineEdit
        with its own completer: the key is left to the completer instead of ending the edit
        (which would save the half-typed tag)."""
        popup = self._completer.popup()
        choosing = popup is not None and popup.isVisible()
        if choosing and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.ignore()
            return
        super().keyPressEvent(event)

    @Slot(str)
    def _update_completion(self, _text: str) -> None:
        fragment = self.current_fragment()
        popup = self._completer.popup()
        if not fragment or popup is None:
            if popup is not None:
                popup.hide()
            return
        self._completer.setCompletionPrefix(fragment)
        if self._completer.completionCount() == 0:
            popup.hide()
            return
        self._completer.complete()
        popup.setCurrentIndex(self._completer.completionModel().index(0, 0))

    @Slot(str)
    def insert_completion(self, tag: str) -> None:
        """Replace the tag under the cursor by ``tag`` and start the next one."""
        text = self.text()
        piece = piece_at(text, self.cursorPosition())
        before = text[: piece.start].rstrip()
        head = (f"{before} " if before else "") + quote_tag(tag)
        rest = text[piece.end + 1 :].lstrip() if piece.end < len(text) else ""
        self.setText(f"{head}, {rest}")
        self.setCursorPosition(len(head) + 2)
        self.textEdited.emit(self.text())


class ElidedLabel(QLabel):
    """A selectable one-line label that elides long text in the middle; the tooltip has it all."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full_text = ""
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)

    def full_text(self) -> str:
        return self._full_text

    def set_full_text(self, text: str) -> None:
        self._full_text = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = self.fontMetrics()
        width = max(self.width(), self.minimumWidth())
        self.setText(metrics.elidedText(self._full_text, Qt.TextElideMode.ElideMiddle, width))


class ImageLabel(QLabel):
    """Shows a QImage scaled to fit the label (never enlarged), keeping its aspect ratio."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        # Ignored: the pixmap follows the label's size, never the other way round (no loops).
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(QSize(32, 32))

    def image(self) -> QImage:
        return self._image

    def set_image(self, image: QImage | None) -> None:
        self._image = image if image is not None else QImage()
        self._rescale()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image.isNull():
            self.clear()
            return
        ratio = self.devicePixelRatioF()
        bounds = QSize(
            min(self._image.width(), int(self.width() * ratio)),
            min(self._image.height(), int(self.height() * ratio)),
        )
        scaled = self._image.scaled(
            bounds.expandedTo(QSize(1, 1)),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        pixmap = QPixmap.fromImage(scaled)
        pixmap.setDevicePixelRatio(ratio)
        self.setPixmap(pixmap)


class MarkdownView(QTextBrowser):
    """Read-only Markdown that never loads anything: documents are untrusted, so no local
    files or remote images are read on their behalf and links are not followed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)

    def loadResource(self, type: int, name: QUrl | str) -> object:  # noqa: N802 (Qt's name)
        return None
