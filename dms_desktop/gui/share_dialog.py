"""The small dialog of "Copy share link": how long the link should work, and who makes it."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget

from ..core.formatting import printable
from ..core.models import Document
from ..core.share_links import (
    DEFAULT_SHARE_EXPIRY,
    SHARE_EXPIRIES,
    SIGNED_BY_API,
    SIGNED_BY_CREDENTIALS,
)
from .translations import QT_TRANSLATE_NOOP

LABELS = {
    "1h": QT_TRANSLATE_NOOP("ShareLinkDialog", "1 hour"),
    "1d": QT_TRANSLATE_NOOP("ShareLinkDialog", "1 day"),
    "7d": QT_TRANSLATE_NOOP("ShareLinkDialog", "7 days"),
}
SIGNED_BY = {  # who made a link (core.share_links SIGNED_BY_*), for "The link is ..." and the like
    SIGNED_BY_CREDENTIALS: QT_TRANSLATE_NOOP(
        "ShareLinkDialog", "presigned with your sign-in's credentials"
    ),
    SIGNED_BY_API: QT_TRANSLATE_NOOP("ShareLinkDialog", "made by the web API"),
}


def signed_by_text(signer: str) -> str:
    """Who made a link, in the window's language."""
    return QCoreApplication.translate("ShareLinkDialog", SIGNED_BY.get(signer, signer))


class ShareLinkDialog(QDialog):
    """Asks for the lifetime of a share link of ``document``; ``signers`` says who makes a link
    of each lifetime (core.share_links SIGNED_BY_*; None: no one can, the choice is off)."""

    def __init__(
        self,
        document: Document,
        parent: QWidget | None = None,
        signers: dict[str, str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("shareLinkDialog")
        self.setWindowTitle(self.tr("Copy share link"))
        self.document = document
        self.expiry_box = QComboBox()
        self.expiry_box.setObjectName("shareExpiryBox")
        for key in SHARE_EXPIRIES:
            self.expiry_box.addItem(self.tr(LABELS[key]) if key in LABELS else key, key)
        self._signers = signers or {}
        model = self.expiry_box.model()
        for row, key in enumerate(SHARE_EXPIRIES):
            if key in self._signers and self._signers[key] is None:
                item = model.item(row) if hasattr(model, "item") else None
                if item is not None:
                    item.setEnabled(False)
                    item.setToolTip(
                        self.tr("Your sign-in's links last an hour; the web API is not set up.")
                    )
        usable = [key for key in SHARE_EXPIRIES if self._signers.get(key, "") is not None]
        default = DEFAULT_SHARE_EXPIRY if DEFAULT_SHARE_EXPIRY in usable else usable[0]
        self.expiry_box.setCurrentIndex(list(SHARE_EXPIRIES).index(default))
        self.signer_label = QLabel()
        self.signer_label.setObjectName("shareSignerLabel")
        self.signer_label.setWordWrap(True)
        self.expiry_box.currentIndexChanged.connect(self._show_signer)
        self._show_signer()
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
        layout.addRow(self.signer_label)
        layout.addRow(buttons)

    def _show_signer(self) -> None:
        signer = self._signers.get(str(self.expiry_box.currentData()))
        if signer is None:
            self.signer_label.setText("")
            return
        self.signer_label.setText(
            self.tr("The link is {signer}.").format(signer=signed_by_text(signer))
        )

    @property
    def lifetime(self) -> timedelta:
        return SHARE_EXPIRIES[str(self.expiry_box.currentData())]
