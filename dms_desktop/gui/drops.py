"""Dropping files and folders onto the window to upload them.

Only local files and folders can be dropped; anything else (text, web links) is accepted as a
drag so that the drop can explain itself instead of silently showing a "forbidden" cursor.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QWidget

from .translations import QT_TRANSLATE_NOOP

UNSUPPORTED_DROP_MESSAGE = QT_TRANSLATE_NOOP(
    "DropHandler",
    "Only files and folders can be dropped here; text and web links are not supported.",
)


def paths_from_mime(mime: QMimeData) -> list[Path] | None:
    """The local files and folders a drop carries (in order, without repeats); None if none."""
    if not mime.hasUrls():
        return None
    paths: list[Path] = []
    for url in mime.urls():
        if not url.isLocalFile():
            continue
        local = url.toLocalFile()
        if not local:
            continue
        path = Path(local)
        if path not in paths:
            paths.append(path)
    return paths or None


class DropHandler(QObject):
    """Event filter that turns drops on a widget into ``files_dropped`` / ``unsupported_drop``.

    Children that accept drops themselves (line edits, for example) keep handling their own
    drops; everywhere else Qt hands the drag to the nearest ancestor that accepts drops, which is
    the widget given to :meth:`install`.
    """

    files_dropped = Signal(list)  # list[Path]
    unsupported_drop = Signal(str)  # a message for the user

    def install(self, widget: QWidget) -> None:
        """Accept drops on ``widget`` and watch its drag and drop events."""
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind == QEvent.Type.DragEnter and isinstance(event, QDragEnterEvent):
            # Accept everything with data so that the drop arrives and can be explained.
            if event.mimeData() is not None:
                event.acceptProposedAction()
            return True
        if kind == QEvent.Type.DragMove and isinstance(event, QDragMoveEvent):
            event.acceptProposedAction()
            return True
        if kind == QEvent.Type.Drop and isinstance(event, QDropEvent):
            mime = event.mimeData()
            paths = paths_from_mime(mime) if mime is not None else None
            event.acceptProposedAction()
            if paths:
                self.files_dropped.emit(paths)
            else:
                self.unsupported_drop.emit(self.tr(UNSUPPORTED_DROP_MESSAGE))
            return True
        return super().eventFilter(watched, event)
