"""The app's one error reporter: a non-modal bar above the document list.

It shows the one-line message of a domain error, with the details (the kind of error and the
backend's error code, never a traceback) on demand; every report is also logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import DmsError
from ..core.formatting import printable

log = logging.getLogger(__name__)


def error_details(error: BaseException) -> str:
    """What went wrong, for people who want to know more: the chain of causes, no traceback."""
    lines = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        response = getattr(cause, "response", None)  # botocore's ClientError (not imported here)
        if isinstance(response, dict):
            meta = response.get("Error", {})
            code, message = meta.get("Code", "?"), meta.get("Message", "")
        else:
            code, message = type(cause).__name__, str(cause)
        lines.append(
            QCoreApplication.translate("MessageBar", "caused by {code}: {message}").format(
                code=code, message=message
            )
        )
        cause = cause.__cause__
    return "\n".join(lines)


class MessageBar(QFrame):
    """Shows errors and notices without blocking the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self._text = QLabel()
        self._text.setObjectName("messageText")
        self._text.setWordWrap(True)
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._details_button = QPushButton(self.tr("Details"))
        self._details_button.setObjectName("messageDetailsButton")
        self._details_button.setCheckable(True)
        self._details_button.toggled.connect(self._toggle_details)
        self._action_button = QPushButton()
        self._action_button.setObjectName("messageActionButton")
        self._action_button.clicked.connect(self._run_action)
        self._action_button.hide()
        self._action: Callable[[], object] | None = None
        close = QToolButton()
        close.setObjectName("messageCloseButton")
        close.setText("✕")
        close.setToolTip(self.tr("Dismiss"))
        close.clicked.connect(self.dismiss)
        self._details = QPlainTextEdit()
        self._details.setObjectName("messageDetails")
        self._details.setReadOnly(True)
        self._details.setMaximumHeight(90)
        self._details.hide()
        row = QHBoxLayout()
        row.addWidget(self._text, 1)
        row.addWidget(self._action_button)
        row.addWidget(self._details_button)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self._details)
        self.hide()

    @property
    def text(self) -> str:
        return self._text.text()

    @property
    def is_error(self) -> bool:
        return bool(self.property("kind") == "error")

    def report_error(self, error: DmsError) -> None:
        log.warning("reported to the user: %s", error)
        self._show("error", str(error), error_details(error))

    def show_notice(self, text: str, details: str = "") -> None:
        self._show("notice", text, details)

    def _show(self, kind: str, text: str, details: str) -> None:
        self.setProperty("kind", kind)
        self._tint()
        # Names in a message may come from the local disk: escape what could hide or reverse
        # text (core.formatting.printable); the message's own line breaks stay.
        self._text.setText("\n".join(printable(line) for line in text.split("\n")))
        self._details.setPlainText(details)
        self._details_button.setVisible(bool(details))
        self._details_button.setChecked(False)
        self._action = None
        self._action_button.hide()
        self.show()

    def _tint(self) -> None:
        """The background for the kind of message and the palette (light or dark) in use: the
        application's palette, as this bar's own carries the tint set before."""
        kind = self.property("kind")
        base = QApplication.palette(self).color(self.backgroundRole())
        tint = "#f8d7da" if kind == "error" else "#d1ecf1"
        if base.lightness() < 128:  # dark palette
            tint = "#5c2b2e" if kind == "error" else "#1f4e5a"
        self.setStyleSheet(f"#messageBar {{ background: {tint}; }}")

    @Slot()
    def follow_palette(self) -> None:
        """Tint the message shown again, for the palette now in use (the theme changed)."""
        if self.property("kind"):
            self._tint()

    def set_action(self, label: str, callback: Callable[[], object]) -> None:
        """Offer one action with the message shown now (e.g. "Try again")."""
        self._action = callback
        self._action_button.setText(label)
        self._action_button.show()

    @Slot()
    def _run_action(self) -> None:
        action, self._action = self._action, None
        self.hide()
        if action is not None:
            action()

    @Slot()
    def dismiss(self) -> None:
        self.hide()

    @Slot(bool)
    def _toggle_details(self, shown: bool) -> None:
        self._details.setVisible(shown)
