"""Who is signed in, on which profile and until when: the status bar's right-hand label and the
Account menu's first line. While the backend cannot be reached, the label says that instead."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow

from ..core.formatting import human_time
from ..core.identity import SignedIn


class AccountStatus(QObject):
    """The signed-in user as the window shows it (``label``: the status bar's)."""

    def __init__(self, window: QMainWindow, account_line: QAction) -> None:
        super().__init__(window)
        self._account_line = account_line
        self.label = QLabel()
        self.label.setObjectName("userStatusLabel")
        window.statusBar().addPermanentWidget(self.label)
        self.clear()

    def show_user(self, user: SignedIn, profile: str) -> None:
        who = self.tr("Signed in as {user}").format(user=user.username)
        text = f"{who} ({profile})"
        if user.session_ends is not None:
            until = human_time(user.session_ends)
            text += " · " + self.tr("session until {time}").format(time=until)
            tooltip = self.tr(
                "Your sign-in lasts until {time}; then enter your password again. "
                "Until then the app renews its AWS credentials on its own."
            ).format(time=until)
        else:
            tooltip = self.tr("The session lasts as long as the credentials of the AWS profile.")
        self.label.setText(text)
        self.label.setToolTip(tooltip)
        self._account_line.setText(text.replace(f" ({profile})", ""))

    def show_offline(self, text: str) -> None:
        """The backend cannot be reached: ``text`` says so, and when the app tries again."""
        self.label.setText(text)

    def clear(self) -> None:
        not_signed_in = self.tr("Not signed in")
        self.label.setText(not_signed_in)
        self.label.setToolTip("")
        self._account_line.setText(not_signed_in)
