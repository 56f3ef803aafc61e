"""The sign-in dialog: username, password, "remember me"; the sign-in runs on the fast lane.

An error shows in full under the fields (the dialog grows to fit it, never squeezing them), and
"remember me" is offered only where the system has a keyring to keep the session in.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import DmsError
from ..core.identity import NewPasswordRequired
from .operations import Operations
from .session import SignInResult, new_password_operation, sign_in_operation
from .translations import QT_TRANSLATE_NOOP

NO_KEYRING_TIP = QT_TRANSLATE_NOOP(
    "SignInDialog",
    "This system has no keyring (such as GNOME Keyring, KWallet or the macOS or Windows "
    "credential store) to keep your session in, so you will sign in again next time.",
)


class SignInDialog(QDialog):
    """Asks for credentials; accepted once the backend said yes (``result_value`` holds it)."""

    def __init__(
        self,
        operations: Operations,
        where: str,
        username: str = "",
        password: str = "",
        parent: QWidget | None = None,
        *,
        can_remember: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.setWindowTitle(self.tr("Sign in — DMS Desktop"))
        self._operations = operations
        self.result_value: SignInResult | None = None
        intro = QLabel(self.tr("Sign in to {where}.").format(where=where))
        intro.setWordWrap(True)
        self._username = QLineEdit(username)
        self._username.setObjectName("usernameEdit")
        self._password = QLineEdit(password)
        self._password.setObjectName("passwordEdit")
        self._password.setEchoMode(QLineEdit.EchoMode.Password)
        self._remember = QCheckBox(self.tr("Remember me on this computer"))
        self._remember.setObjectName("rememberCheck")
        self._remember.setChecked(can_remember)
        self._remember.setEnabled(can_remember)
        self._can_remember = can_remember
        if not can_remember:
            self._remember.setToolTip(self.tr(NO_KEYRING_TIP))
        self._error = QLabel()
        self._error.setObjectName("signInErrorLabel")
        self._error.setWordWrap(True)
        self._error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Its height follows its text at the dialog's width (never squeezed by the fields).
        self._error.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self._error.setStyleSheet("color: #c0392b;")
        self._error.hide()
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        sign_in_button = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        sign_in_button.setText(self.tr("Sign in"))
        sign_in_button.setObjectName("signInButton")
        self._buttons.accepted.connect(self._submit)
        self._buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(self.tr("Username"), self._username)
        form.addRow(self.tr("Password"), self._password)
        # The second step of a first sign-in: choose a new password.
        self._challenge: NewPasswordRequired | None = None
        self._new_password = QLineEdit()
        self._new_password.setObjectName("newPasswordEdit")
        self._new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self._repeat_password = QLineEdit()
        self._repeat_password.setObjectName("repeatPasswordEdit")
        self._repeat_password.setEchoMode(QLineEdit.EchoMode.Password)
        self._new_password_box = QWidget()
        self._new_password_box.setObjectName("newPasswordBox")
        new_form = QFormLayout(self._new_password_box)
        new_form.setContentsMargins(0, 0, 0, 0)
        new_intro = QLabel(self.tr("This is your first sign-in: choose a new password."))
        new_intro.setWordWrap(True)
        new_form.addRow(new_intro)
        new_form.addRow(self.tr("New password"), self._new_password)
        new_form.addRow(self.tr("Again"), self._repeat_password)
        self._new_password_box.hide()
        layout = self._layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self._new_password_box)
        layout.addWidget(self._remember)
        layout.addWidget(self._error)
        layout.addWidget(self._buttons)
        self.setMinimumWidth(380)
        (self._password if username else self._username).setFocus()

    def show_error(self, text: str) -> None:
        self._error.setText(text)
        self._error.show()
        self._fit_contents()

    def _fit_contents(self) -> None:
        """Grow the dialog to the height its contents need at its width: a wrapped label's
        height depends on its width, which Qt's minimum size does not follow by itself."""
        layout = self._layout
        layout.activate()
        width = self.width()
        needed = (
            layout.totalHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if self.height() < needed:
            self.resize(width, needed)

    @property
    def asks_for_new_password(self) -> bool:
        return self._challenge is not None

    @Slot()
    def _submit(self) -> None:
        if self._challenge is not None:
            self._submit_new_password(self._challenge)
            return
        username = self._username.text().strip()
        password = self._password.text()
        if not username or not password:
            self.show_error(self.tr("Enter a username and a password."))
            return
        self._set_busy(True)
        self._error.hide()
        sign_in = sign_in_operation(username, password, self._remembering())
        self._operations.fast(sign_in, self._signed_in).failure(self._failed).run()

    def _submit_new_password(self, challenge: NewPasswordRequired) -> None:
        new_password = self._new_password.text()
        if not new_password:
            self.show_error(self.tr("Enter the new password."))
            return
        if new_password != self._repeat_password.text():
            self.show_error(self.tr("The two new passwords differ."))
            return
        self._set_busy(True)
        self._error.hide()
        choose = new_password_operation(challenge, new_password, self._remembering())
        self._operations.fast(choose, self._signed_in).failure(self._failed).run()

    def _remembering(self) -> bool:
        return self._can_remember and self._remember.isChecked()

    def _signed_in(self, result: SignInResult) -> None:
        self.result_value = result
        self._set_busy(False)
        self.accept()

    def _failed(self, error: DmsError) -> None:
        self._set_busy(False)
        if isinstance(error, NewPasswordRequired):
            self._challenge = error
            self._username.setEnabled(False)
            self._password.setEnabled(False)
            self._new_password_box.show()
            self._new_password.setFocus()
            self._error.hide()
            self._fit_contents()
            return
        self.show_error(str(error))
        focus = self._new_password if self._challenge is not None else self._password
        focus.selectAll()
        focus.setFocus()

    def _set_busy(self, busy: bool) -> None:
        widgets: list[QWidget] = [self._buttons, self._new_password_box]
        if self._challenge is None:
            widgets += [self._username, self._password]
        for widget in widgets:
            widget.setEnabled(not busy)
        self._remember.setEnabled(self._can_remember and not busy)
