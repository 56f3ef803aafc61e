"""The small dialog of "Copy share link": how long the link should work."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget

from ..core.formatting import printable
from ..core.models import Document
from ..core.share_links import DEFAULT_SHARE_EXPIRY, SHARE_EXPIRIES
from .translations import QT_TRANSLATE_NOOP

LABELS = {
    "1h": QT_TRANSLATE_NOOP("ShareLinkDialog", "1 hour"),
    "1d": QT_TRANSLATE_NOOP("ShareLinkDialog", "1 day"),
    "7d": QT_TRANSLATE_NOOP("ShareLinkDialog", "7 days"),
}


class ShareLinkDialog(QDialog):
    """Asks for the lifetime of a share link of ``document``."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shareLinkDialog")
        self.setWindowTitle(self.tr("Copy share link"))
        self.document = document
        self.expiry_box = QComboBox()
        self.expiry_box.setObjectName("shareExpiryBox")
        for key in SHARE_EXPIRIES:
            self.expiry_box.addItem(self.tr(LABELS[key]) if key in LABELS else key, key)
        self.expiry_box.setCurrentIndex(list(SHARE_EXPIRIES).index(DEFAULT_SHARE_EXPIRY))
        note = QLabel(
            self.tr(
                "Anyone with the link can download {name} without signing in, until it expires."
            ).format(name=printable(document.filename))
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.setObjectName("shareButtons")
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Copy link"))
        ok.setObjectName("shareCopyButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QFormLayout(self)
        layout.addRow(note)
        layout.addRow(self.tr("Link works for"), self.expiry_box)
        layout.addRow(buttons)

    @property
    def lifetime(self) -> timedelta:
        return SHARE_EXPIRIES[str(self.expiry_box.currentData())]
