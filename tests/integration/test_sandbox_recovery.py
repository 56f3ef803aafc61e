"""The window and the CLI when the sandbox goes away (issue 19, item 2): they find it again where
it moved, or restart it, and go on with the session; an open window keeps it from stopping for
being idle; an AWS profile that cannot reach its backend says "offline" and retries."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.cli import build_parser
from dms_desktop.cli.context import Context
from dms_desktop.cli.documents import cmd_list
from dms_desktop.core.aws import route_endpoint
from dms_desktop.core.paths import AppPaths
from dms_desktop.gui import app as app_module
from dms_desktop.gui.app import DesktopApp
from dms_desktop.sandbox import DEMO_USER, SandboxInfo, connect_or_start, stop
from dms_desktop.sandbox.connection import KeyedRoute
from dms_desktop.sandbox.control import health
from dms_desktop.sandbox.info import INFO_FILE
from dms_desktop.sandbox.samples import SAMPLE_DOCUMENTS
from tests.integration.conftest import SandboxHome
from tests.support.window import WAIT_MS, start_signed_in

pytestmark = pytest.mark.server

SAMPLES = 6  # the documents a fresh sandbox gives the demo user
SAMPLE_NAMES = [name for name, _tags in SAMPLE_DOCUMENTS]
RECOVERY_MS = 60_000  # a restart of the sandbox included
CLI = [sys.executable, "-m", "dms_desktop.cli"]


@pytest.fixture
def desktop(qtbot: QtBot, fresh_sandbox: SandboxHome) -> Iterator[DesktopApp]:
    app = start_signed_in(qtbot, fresh_sandbox.home, *DEMO_USER, page_size=50)
    yield app
    app.window.confirm_quit_without_asking()
    app.window.close()
    app.shutdown()


def _running_info(paths: AppPaths) -> SandboxInfo | None:
    """The sandbox running for ``paths`` now (as its info file says and it proves), if any."""
    try:
        info = SandboxInfo.from_json((paths.sandbox_dir / INFO_FILE).read_text(encoding="utf-8"))
    except OSError:
        return None
    return info if health(info) is not None else None


def _reload(qtbot: QtBot, desktop: DesktopApp) -> list[Any]:
    """Press F5's action, wait for the list to finish loading; what it reported as failed."""
    failures: list[Any] = []
    model = desktop.window.model
    model.load_failed.connect(failures.append)
    with qtbot.waitSignal(
        model.loading_changed, timeout=RECOVERY_MS, check_params_cb=lambda loading: not loading
    ):
        desktop.window.refresh_action.trigger()
    model.load_failed.disconnect(failures.append)
    return failures


def _assert_signed_in_with_the_samples(desktop: DesktopApp) -> None:
    window = desktop.window
    assert window.model.rowCount() == SAMPLES
    assert window.loaded_label.text() == f"{SAMPLES} documents"
    assert window.account.label.text().startswith("Signed in as demo (local)")
    assert not desktop.message_bar.isVisible(), desktop.message_bar.text


def test_the_window_restarts_a_stopped_sandbox_and_goes_on(
    qtbot: QtBot, desktop: DesktopApp, fresh_sandbox: SandboxHome
) -> None:
    before = fresh_sandbox.info
    assert stop(fresh_sandbox.paths)  # what `dms local stop` does

    failures = _reload(qtbot, desktop)

    assert failures == []
    _assert_signed_in_with_the_samples(desktop)
    now = _running_info(fresh_sandbox.paths)
    assert now is not None and now.pid != before.pid  # started again, by the window


def test_the_window_rejoins_the_sandbox_where_another_program_restarted_it(
    qtbot: QtBot, desktop: DesktopApp, fresh_sandbox: SandboxHome, tmp_path: Path
) -> None:
    before = fresh_sandbox.info
    assert stop(fresh_sandbox.paths)
    note = tmp_path / "added-meanwhile.txt"
    note.write_text("uploaded by the CLI while the window's sandbox was away")
    # Any `dms` command starts the sandbox again, on a new port.
    uploaded = subprocess.run(
        [*CLI, "--home", str(fresh_sandbox.home), "upload", str(note)],
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert uploaded.returncode == 0, uploaded.stderr
    moved = _running_info(fresh_sandbox.paths)
    assert moved is not None and moved.endpoint_url != before.endpoint_url

    failures = _reload(qtbot, desktop)

    assert failures == []
    assert desktop.window.model.rowCount() == SAMPLES + 1
    assert "added-meanwhile.txt" in [doc.filename for doc in desktop.window.model.documents()]
    assert _running_info(fresh_sandbox.paths) == moved  # joined, not started another


def test_signing_in_works_after_the_sandbox_stopped_behind_the_dialog(
    qtbot: QtBot, fresh_sandbox: SandboxHome
) -> None:
    desktop = DesktopApp(fresh_sandbox.paths)
    qtbot.addWidget(desktop.window)
    desktop.start()
    try:
        qtbot.waitUntil(lambda: desktop.sign_in_dialog is not None, timeout=WAIT_MS)
        dialog = desktop.sign_in_dialog
        assert dialog is not None
        assert stop(fresh_sandbox.paths)  # e.g. stopped while the dialog sat there

        dialog.findChild(QPushButton, "signInButton").click()

        qtbot.waitUntil(lambda: desktop.user is not None, timeout=RECOVERY_MS)
        qtbot.waitUntil(lambda: desktop.window.model.rowCount() == SAMPLES, timeout=WAIT_MS)
    finally:
        desktop.window.confirm_quit_without_asking()
        desktop.window.close()
        desktop.shutdown()


def test_an_open_window_keeps_the_sandbox_from_stopping_when_idle(
    qtbot: QtBot, tmp_path: Path
) -> None:
    idle_timeout = 2.0
    paths = AppPaths.resolve(tmp_path / "home")
    info = connect_or_start(paths, idle_timeout=idle_timeout)
    desktop = DesktopApp(paths)
    qtbot.addWidget(desktop.window)
    desktop.start()
    try:
        qtbot.waitUntil(lambda: desktop.sign_in_dialog is not None, timeout=WAIT_MS)

        def quiet_for() -> float:
            status = health(info)
            assert status is not None, "the sandbox stopped although the window is open"
            assert status["leases"] == 1
            return float(status["quiet_seconds"])

        # No request for longer than the idle timeout: it would have stopped by now.
        qtbot.waitUntil(lambda: quiet_for() > 2 * idle_timeout, timeout=WAIT_MS)
        dialog = desktop.sign_in_dialog
        assert dialog is not None
        dialog.findChild(QPushButton, "signInButton").click()
        qtbot.waitUntil(lambda: desktop.user is not None, timeout=WAIT_MS)
        assert _running_info(paths) == info  # the same sandbox all along
    finally:
        desktop.window.confirm_quit_without_asking()
        desktop.window.close()
        desktop.shutdown()
    # Closed, the window lets go: the sandbox stops once idle, as before.
    qtbot.waitUntil(lambda: health(info) is None, timeout=WAIT_MS)
    stop(paths)


def test_a_cli_command_goes_on_after_the_sandbox_stopped(fresh_sandbox: SandboxHome) -> None:
    out, err = io.StringIO(), io.StringIO()
    args = build_parser().parse_args(["--home", str(fresh_sandbox.home), "list"])
    context = Context(args, out, err)
    assert context.service is not None  # signed in, connected
    before = fresh_sandbox.info
    assert stop(fresh_sandbox.paths)

    code = cmd_list(context)

    assert code == 0, err.getvalue()
    listed = out.getvalue()
    assert all(name in listed for name in SAMPLE_NAMES), listed
    now = _running_info(fresh_sandbox.paths)
    assert now is not None and now.pid != before.pid


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_aws_profile_says_offline_and_comes_back(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sandbox on a fixed port stands in for AWS (as an ``aws`` profile with its endpoint):
    stopped, nothing starts it again for this profile."""
    monkeypatch.setattr(app_module, "OFFLINE_RETRY_FIRST_SECONDS", 1)
    port = _free_port()
    sandbox_paths = AppPaths.resolve(tmp_path / "aws-stand-in")
    info = connect_or_start(sandbox_paths, port=port)
    route_endpoint(info.endpoint_url, KeyedRoute(info.key))  # AWS: nothing restarts it
    Path(os.environ["AWS_CONFIG_FILE"]).write_text(
        "[profile dev]\naws_access_key_id = dev-key\naws_secret_access_key = dev-secret\n"
    )
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(
        f'[profiles.work]\nkind = "aws"\nregion = "{info.region}"\ntable = "{info.table}"\n'
        f'bucket = "{info.bucket}"\nendpoint_url = "{info.endpoint_url}"\naws_profile = "dev"\n'
    )
    desktop = DesktopApp(AppPaths.resolve(home), "work")
    qtbot.addWidget(desktop.window)
    desktop.start()
    window = desktop.window
    try:
        qtbot.waitUntil(lambda: desktop.user is not None, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not window.model.is_loading, timeout=WAIT_MS)
        assert stop(sandbox_paths)

        window.refresh_action.trigger()  # fails after botocore's retries: offline
        qtbot.waitUntil(lambda: window.account.label.text().startswith("Offline"), timeout=60_000)
        assert not desktop.message_bar.isVisible(), desktop.message_bar.text

        connect_or_start(sandbox_paths, port=port)  # the network is back
        qtbot.waitUntil(
            lambda: window.account.label.text().startswith("Signed in as"), timeout=RECOVERY_MS
        )
        qtbot.waitUntil(lambda: not window.model.is_loading, timeout=WAIT_MS)
        assert window.loaded_label.text().endswith("documents")
        assert not desktop.message_bar.isVisible(), desktop.message_bar.text
    finally:
        window.confirm_quit_without_asking()
        window.close()
        desktop.shutdown()
        stop(sandbox_paths)
