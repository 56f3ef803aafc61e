"""The sign-in dialog: username, password, "remember me"; the work runs on the backend worker."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import DmsError
from .backend import BackendClient
from .session import SignInResult, sign_in_job


class SignInDialog(QDialog):
    """Asks for credentials; accepted once the backend said yes (``result_value`` holds it)."""

    def __init__(
        self,
        backend: BackendClient,
        where: str,
        username: str = "",
        password: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.setWindowTitle("Sign in — DMS Desktop")
        self._backend = backend
        self.result_value: SignInResult | None = None
        intro = QLabel(f"Sign in to {where}.")
        intro.setWordWrap(True)
        self._username = QLineEdit(username)
        self._username.setObjectName("usernameEdit")
        self._password = QLineEdit(password)
        self._password.setObjectName("passwordEdit")
        self._password.setEchoMode(QLineEdit.EchoMode.Password)
        self._remember = QCheckBox("Remember me on this computer")
        self._remember.setObjectName("rememberCheck")
        self._remember.setChecked(True)
        self._error = QLabel()
        self._error.setObjectName("signInErrorLabel")
        self._error.setWordWrap(True)
        self._error.setStyleSheet("color: #c0392b;")
        self._error.hide()
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        sign_in_button = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        sign_in_button.setText("Sign in")
        sign_in_button.setObjectName("signInButton")
        self._buttons.accepted.connect(self._submit)
        self._buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Username", self._username)
        form.addRow("Password", self._password)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self._remember)
        layout.addWidget(self._error)
        layout.addWidget(self._buttons)
        self.setMinimumWidth(380)
        (self._password if username else self._username).setFocus()

    def show_error(self, text: str) -> None:
        self._error.setText(text)
        self._error.show()

    @Slot()
    def _submit(self) -> None:
        username = self._username.text().strip()
        password = self._password.text()
        if not username or not password:
            self.show_error("Enter a username and a password.")
            return
        self._set_busy(True)
        self._error.hide()
        job = sign_in_job(username, password, self._remember.isChecked())
        self._backend.call(job, self._signed_in, self._failed)

    def _signed_in(self, result: object) -> None:
        assert isinstance(result, SignInResult)
        self.result_value = result
        self._set_busy(False)
        self.accept()

    def _failed(self, error: DmsError) -> None:
        self._set_busy(False)
        self.show_error(str(error))
        self._password.selectAll()
        self._password.setFocus()

    def _set_busy(self, busy: bool) -> None:
        for widget in (self._username, self._password, self._remember, self._buttons):
            widget.setEnabled(not busy)
