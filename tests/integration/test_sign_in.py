"""Signing in against the sandbox's Cognito: challenges, failures, refreshing credentials."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.connect import open_service
from dms_desktop.core import auth
from dms_desktop.core.auth import complete_new_password, sign_in_with_password
from dms_desktop.core.errors import AuthError, Unavailable
from dms_desktop.core.identity import NewPasswordRequired
from dms_desktop.gui.operations import Account, Operations
from dms_desktop.gui.sign_in_dialog import SignInDialog
from dms_desktop.sandbox.provisioning import sandbox_client
from tests.integration.conftest import SandboxHome
from tests.support.keyrings import NoKeyring

pytestmark = pytest.mark.server

WAIT_MS = 20_000


def _create_user_with_temporary_password(sandbox: SandboxHome, username: str) -> str:
    info = sandbox.info
    idp = sandbox_client(info.endpoint_url, "cognito-idp", None)
    temporary = "Temporary-Pass-1"
    idp.admin_create_user(
        UserPoolId=info.user_pool_id,
        Username=username,
        TemporaryPassword=temporary,
        MessageAction="SUPPRESS",
    )
    return temporary


def test_first_sign_in_asks_for_a_new_password(shared_sandbox: SandboxHome) -> None:
    pool = shared_sandbox.info.cognito_pool()
    temporary = _create_user_with_temporary_password(shared_sandbox, "newcomer")

    with pytest.raises(NewPasswordRequired) as raised:
        sign_in_with_password(pool, "newcomer", temporary)
    user = complete_new_password(pool, raised.value, "Chosen-Pass-2")

    assert user.username == "newcomer"
    assert sign_in_with_password(pool, "newcomer", "Chosen-Pass-2").user_id == user.user_id
    with pytest.raises(AuthError, match="Wrong username or password"):
        sign_in_with_password(pool, "newcomer", temporary)


def test_cli_login_with_a_temporary_password_sets_the_new_one(
    shared_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = _create_user_with_temporary_password(shared_sandbox, "clinewcomer")
    monkeypatch.setenv("DMS_PASSWORD", temporary)
    monkeypatch.setenv("DMS_NEW_PASSWORD", "Cli-Chosen-3")

    result = shared_sandbox.dms("login", "--username", "clinewcomer")

    assert result.code == 0, result.err
    assert "choose a new password" in result.err
    monkeypatch.setenv("DMS_USERNAME", "clinewcomer")
    monkeypatch.setenv("DMS_PASSWORD", "Cli-Chosen-3")
    assert json.loads(shared_sandbox.dms("whoami", "--json").out)["username"] == "clinewcomer"


def test_without_a_way_to_choose_it_the_cli_says_how(
    shared_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = _create_user_with_temporary_password(shared_sandbox, "stuck")
    monkeypatch.setenv("DMS_USERNAME", "stuck")
    monkeypatch.setenv("DMS_PASSWORD", temporary)

    result = shared_sandbox.dms("list")

    assert result.code == 6
    assert "choose a new password" in result.err and "dms login" in result.err


def test_unknown_user_is_reported(shared_sandbox: SandboxHome) -> None:
    with pytest.raises(AuthError) as raised:
        sign_in_with_password(shared_sandbox.info.cognito_pool(), "nobody-here", "whatever-1")
    assert str(raised.value) in {"There is no user with that name.", "Wrong username or password."}


def test_no_network_is_unavailable_not_a_crash(shared_sandbox: SandboxHome) -> None:
    from dataclasses import replace

    unreachable = replace(shared_sandbox.info.cognito_pool(), endpoint_url="http://127.0.0.1:9")

    with pytest.raises(Unavailable, match="cannot be reached"):
        sign_in_with_password(unreachable, "demo", "demo-password")


def test_srp_sign_in_runs_the_whole_protocol(shared_sandbox: SandboxHome) -> None:
    """SRP (what the app uses against AWS) completes against Cognito's API shape.

    moto accepts any SRP password, so this checks the protocol steps, not the password.
    """
    from dataclasses import replace

    srp_pool = replace(shared_sandbox.info.cognito_pool(), use_srp=True)

    user = sign_in_with_password(srp_pool, "demo", "demo-password")

    assert user.username == "demo"
    assert user.refresh_token


@pytest.mark.nothing_lost(
    "fault",
    "credentials expiring in the middle of a 20 MB multipart upload",
    "refreshed from the refresh token; the upload completes, checksum verified",
)
def test_credentials_refresh_in_the_middle_of_an_upload(
    shared_sandbox: SandboxHome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from dms_desktop.connect import open_backend, sign_in
    from dms_desktop.core.blobs import MiB, TransferSettings

    backend = open_backend(shared_sandbox.paths)
    user = sign_in(backend, "demo", "demo-password")
    service = open_service(
        backend, user, TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB)
    )
    source = tmp_path / "long-upload.bin"
    source.write_bytes(b"x" * (20 * MiB))
    real_clock = auth.clock
    jumped = False
    landed = False

    def clock() -> Any:
        """Two hours later while ``jumped``: the credentials look expired then."""
        return real_clock() + timedelta(hours=2) if jumped else real_clock()

    class LandOnRefresh(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            nonlocal jumped, landed
            if "refreshed the AWS credentials" in record.getMessage():
                jumped, landed = False, True  # the new credentials are fresh again

    def progress(done: int, total: int) -> None:
        nonlocal jumped
        if done >= 5 * MiB and not landed:
            jumped = True  # after the first part: mid-upload

    monkeypatch.setattr(auth, "clock", clock)
    handler = LandOnRefresh()
    auth_log = logging.getLogger("dms_desktop.core.auth")
    auth_log.addHandler(handler)
    with caplog.at_level(logging.INFO, logger="dms_desktop.core.auth"):
        try:
            document = service.upload(source, progress=progress)
        finally:
            auth_log.removeHandler(handler)
        refreshes = [r for r in caplog.records if "refreshed the AWS" in r.getMessage()]

    assert document.size == 20 * MiB
    assert refreshes, "the credentials were not refreshed"
    assert service.get(document.document_id).checksum == document.checksum
    service.delete(document.document_id)


@pytest.fixture
def sign_in_operations(shared_sandbox: SandboxHome, reported: list[Any]) -> Iterator[Operations]:
    operations = Operations(Account(shared_sandbox.paths), reported.append)
    yield operations
    operations.shutdown()


@pytest.fixture
def reported() -> list[Any]:
    return []


def _dialog(qtbot: QtBot, operations: Operations, username: str, password: str) -> SignInDialog:
    dialog = SignInDialog(operations, "the test sandbox", username, password)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_dialog_shows_each_failure_inline(qtbot: QtBot, sign_in_operations: Operations) -> None:
    dialog = _dialog(qtbot, sign_in_operations, "demo", "wrong-password")
    error = dialog.findChild(QLabel, "signInErrorLabel")

    dialog.findChild(QPushButton, "signInButton").click()

    qtbot.waitUntil(lambda: error.isVisible(), timeout=WAIT_MS)
    assert error.text() == "Wrong username or password."
    assert dialog.isVisible() and dialog.result_value is None


def test_dialog_new_password_step(
    qtbot: QtBot, shared_sandbox: SandboxHome, sign_in_operations: Operations
) -> None:
    temporary = _create_user_with_temporary_password(shared_sandbox, "dialognewcomer")
    dialog = _dialog(qtbot, sign_in_operations, "dialognewcomer", temporary)
    dialog.findChild(QPushButton, "signInButton").click()
    qtbot.waitUntil(lambda: dialog.asks_for_new_password, timeout=WAIT_MS)

    dialog.findChild(QLineEdit, "newPasswordEdit").setText("Dialog-Chosen-4")
    dialog.findChild(QLineEdit, "repeatPasswordEdit").setText("Dialog-Chosen-4")
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        dialog.findChild(QPushButton, "signInButton").click()

    assert dialog.result_value is not None
    assert dialog.result_value.user.username == "dialognewcomer"


def test_without_a_keyring_sign_in_works_and_says_it_cannot_remember(
    qtbot: QtBot, sign_in_operations: Operations
) -> None:
    keyring.set_keyring(NoKeyring())
    dialog = _dialog(qtbot, sign_in_operations, "demo", "demo-password")

    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        dialog.findChild(QPushButton, "signInButton").click()

    assert dialog.result_value is not None
    assert dialog.result_value.remembered is False


def test_an_aws_named_profile_is_used_instead_of_cognito(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    import io
    import os

    from dms_desktop.cli import main

    Path(os.environ["AWS_CONFIG_FILE"]).write_text(
        "[profile dev]\naws_access_key_id = dev-key\naws_secret_access_key = dev-secret\n"
    )
    demo_id = json.loads(shared_sandbox.dms("whoami", "--json").out)["userId"]
    info = shared_sandbox.info
    home = tmp_path / "dev-home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(
        f'[profiles.work]\nkind = "aws"\nregion = "{info.region}"\ntable = "{info.table}"\n'
        f'bucket = "{info.bucket}"\nendpoint_url = "{info.endpoint_url}"\n'
        f'aws_profile = "dev"\nuser_id = "{demo_id}"\n'
    )

    def dms(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["--home", str(home), "--profile", "work", *argv], out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    code, out, err = dms("whoami", "--json")
    assert code == 0, err
    assert json.loads(out)["admin"] is True and json.loads(out)["userId"] == demo_id
    code, out, err = dms("list", "--json", "--search", "welcome")
    assert code == 0, err
    assert [doc["filename"] for doc in json.loads(out)["documents"]] == ["welcome.md"]

    code, _, err = dms("login", "--username", "someone")
    assert code == 10 and "no `dms login` is needed" in err

    (home / "config" / "config.toml").write_text(
        (home / "config" / "config.toml").read_text().replace('"dev"', '"missing"')
    )
    code, _, err = dms("list")
    assert code == 10 and "no AWS profile named 'missing'" in err


def test_a_named_aws_profile_runs_offline_with_endpoints_set_per_service(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``user_id`` in the profile, only DynamoDB and S3 are called: STS (here a refused
    port, on a real machine the internet) is never asked who the caller is."""
    import io
    import os

    from dms_desktop.cli import main

    Path(os.environ["AWS_CONFIG_FILE"]).write_text(
        "[profile dev]\naws_access_key_id = dev-key\naws_secret_access_key = dev-secret\n"
    )
    demo_id = json.loads(shared_sandbox.dms("whoami", "--json").out)["userId"]
    info = shared_sandbox.info
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", info.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", info.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")  # nothing listens there
    home = tmp_path / "offline-home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(
        f'[profiles.work]\nkind = "aws"\nregion = "{info.region}"\ntable = "{info.table}"\n'
        f'bucket = "{info.bucket}"\naws_profile = "dev"\nuser_id = "{demo_id}"\n'
    )
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["--home", str(home), "--profile", "work", "list", "--json", "--search", "welcome"],
        out=out,
        err=err,
    )
    assert code == 0, err.getvalue()
    assert [doc["filename"] for doc in json.loads(out.getvalue())["documents"]] == ["welcome.md"]


def test_a_failed_sign_in_is_one_line_in_the_log(
    qtbot: QtBot, sign_in_operations: Operations, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 19 item 9: a wrong password wrote ~100 lines of traceback at INFO."""
    dialog = _dialog(qtbot, sign_in_operations, "demo", "wrong-password")
    error = dialog.findChild(QLabel, "signInErrorLabel")
    with caplog.at_level(logging.INFO):
        qtbot.mouseClick(dialog.findChild(QPushButton, "signInButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(error.isVisible, timeout=WAIT_MS)

    failures = [r for r in caplog.records if "Wrong username or password" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].levelno == logging.INFO
    assert "Traceback" not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)


def test_a_long_error_shows_in_full_and_leaves_the_fields_their_size(
    qtbot: QtBot, shared_sandbox: SandboxHome, reported: list[Any]
) -> None:
    """Issue 19 item 4: a multi-line error was clipped and squeezed the fields."""
    from dataclasses import replace

    from dms_desktop.connect import open_backend

    backend = open_backend(shared_sandbox.paths)
    assert backend.pool is not None
    unreachable = replace(backend, pool=replace(backend.pool, endpoint_url="http://127.0.0.1:9"))
    operations = Operations(Account(shared_sandbox.paths, backend=unreachable), reported.append)
    try:
        dialog = _dialog(qtbot, operations, "demo", "demo-password")
        error = dialog.findChild(QLabel, "signInErrorLabel")
        fields = [dialog.findChild(QLineEdit, name) for name in ("usernameEdit", "passwordEdit")]
        qtbot.mouseClick(dialog.findChild(QPushButton, "signInButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(error.isVisible, timeout=WAIT_MS)
    finally:
        operations.shutdown()

    assert "cannot be reached" in error.text()
    assert error.heightForWidth(error.width()) > error.fontMetrics().height() * 2, "one line"

    def laid_out() -> None:
        assert error.height() >= error.heightForWidth(error.width()), "the error is clipped"
        button = dialog.findChild(QPushButton, "signInButton")
        assert error.geometry().bottom() < button.mapTo(dialog, QPoint(0, 0)).y()
        for field in fields:
            assert field.height() >= field.sizeHint().height(), f"{field.objectName()} squashed"

    qtbot.waitUntil(laid_out, timeout=WAIT_MS)


def test_without_a_keyring_remember_me_is_not_offered_and_says_why(
    qtbot: QtBot, shared_sandbox: SandboxHome
) -> None:
    """Issue 19 item 9: "Remember me" was offered (and ticked) where nothing can remember."""
    from dms_desktop.gui.app import DesktopApp

    keyring.set_keyring(NoKeyring())
    desktop = DesktopApp(shared_sandbox.paths)
    qtbot.addWidget(desktop.window)
    try:
        desktop.start()
        qtbot.waitUntil(lambda: desktop.sign_in_dialog is not None, timeout=WAIT_MS)
        dialog = desktop.sign_in_dialog
        assert dialog is not None
        remember = dialog.findChild(QCheckBox, "rememberCheck")
        assert not remember.isEnabled() and not remember.isChecked()
        assert "no keyring" in remember.toolTip()

        qtbot.mouseClick(dialog.findChild(QPushButton, "signInButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: desktop.user is not None, timeout=WAIT_MS)
        assert not desktop.message_bar.isVisible(), "no notice: the dialog said it already"
    finally:
        desktop.window.confirm_quit_without_asking()
        desktop.window.close()
        desktop.shutdown()
