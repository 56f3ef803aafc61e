"""Help > About: the app's version and those of what it runs on (for a bug report: Copy), and the
log folder, with a button that opens it."""

from __future__ import annotations

import logging
import platform
from importlib import metadata
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from .icons import app_icon

log = logging.getLogger(__name__)


def _installed(distribution: str) -> str:
    """The installed version of ``distribution``, read from its metadata (importing boto3 on
    the GUI thread would freeze the window a third of a second)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> list[tuple[str, str]]:
    """(what, version) for the app and what it runs on, in English (they go into bug reports
    as they are)."""
    return [
        ("DMS Desktop", __version__),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("boto3", _installed("boto3")),
        ("botocore", _installed("botocore")),
        ("moto (local sandbox)", _installed("moto")),
        ("System", platform.platform()),
    ]


class AboutDialog(QDialog):
    """What this app is, its versions and where its logs are."""

    def __init__(self, log_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(self.tr("About DMS Desktop"))
        self.log_folder = log_folder

        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        title = QLabel(self.tr("<h2>DMS Desktop {version}</h2>").format(version=__version__))
        summary = QLabel(
            self.tr(
                "Upload, browse, tag and preview your documents, stored in DynamoDB and S3 on AWS "
                "or, without AWS, in a local sandbox on this computer."
            )
        )
        summary.setWordWrap(True)
        heading = QVBoxLayout()
        heading.addWidget(title)
        heading.addWidget(summary)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(heading, 1)

        self.versions = versions()
        table = QFormLayout()
        for what, version in self.versions:
            value = QLabel(version)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            table.addRow(self.tr("{what}:").format(what=what), value)
        self.log_folder_label = QLabel(str(log_folder))
        self.log_folder_label.setObjectName("logFolderLabel")
        self.log_folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        table.addRow(self.tr("Log folder:"), self.log_folder_label)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_logs_button = QPushButton(self.tr("Open &Log Folder"))
        self.open_logs_button.setObjectName("openLogFolderButton")
        self.open_logs_button.clicked.connect(self.open_log_folder)
        buttons.addButton(self.open_logs_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button = QPushButton(self.tr("&Copy Versions"))
        self.copy_button.setObjectName("copyVersionsButton")
        self.copy_button.clicked.connect(self.copy_versions)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.note = QLabel()
        self.note.setObjectName("aboutNote")
        self.note.setWordWrap(True)
        self.note.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(table)
        layout.addWidget(self.note)
        layout.addWidget(buttons)

    def open_log_folder(self) -> None:
        """Show the log folder in the system's file manager."""
        self.log_folder.mkdir(parents=True, exist_ok=True)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_folder))):
            log.warning("no file manager opened %s", self.log_folder)
            self._say(
                self.tr(
                    "No file manager could open the log folder; it is {folder} "
                    "(select the path above to copy it)."
                ).format(folder=self.log_folder)
            )

    def copy_versions(self) -> None:
        """The versions and the log folder on the clipboard, one per line (for a bug report)."""
        lines = [f"{what}: {version}" for what, version in self.versions]
        lines.append(f"Log folder: {self.log_folder}")
        QGuiApplication.clipboard().setText("\n".join(lines))
        self._say(self.tr("The versions are on the clipboard."))

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.show()
