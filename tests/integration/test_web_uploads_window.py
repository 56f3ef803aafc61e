"""The window shows a file a web app uploaded under the user's folder, after a refresh (F5)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from dms_desktop.connect import open_backend, sign_in
from dms_desktop.gui.app import DesktopApp
from dms_desktop.sandbox import add_user
from tests.integration.conftest import SandboxHome
from tests.support.window import WAIT_MS, start_signed_in

pytestmark = pytest.mark.server

USER = ("web-window-user", "web-window-password")


@pytest.fixture
def desktop(qtbot: QtBot, shared_sandbox: SandboxHome) -> Iterator[DesktopApp]:
    add_user(shared_sandbox.info, *USER)
    app = start_signed_in(qtbot, shared_sandbox.home, *USER)
    yield app
    app.window.confirm_quit_without_asking()
    app.window.close()
    app.shutdown()


def test_a_web_upload_appears_in_the_window_with_its_name(
    qtbot: QtBot, shared_sandbox: SandboxHome, desktop: DesktopApp
) -> None:
    window = desktop.window
    assert window.model.documents() == []
    assert desktop.user is not None
    web = sign_in(open_backend(shared_sandbox.paths), *USER)  # the web app, signed in apart
    s3 = web.session.client("s3", endpoint_url=shared_sandbox.info.endpoint_url)
    s3.put_object(
        Bucket=shared_sandbox.info.bucket,
        Key=f"private/{desktop.user.user_id}/Packing list.txt",
        Body=b"tent, stove, map",
    )

    window.refresh_action.trigger()
    qtbot.waitUntil(lambda: not window.model.is_loading, timeout=WAIT_MS)

    assert [(d.filename, d.size) for d in window.model.documents()] == [("Packing list.txt", 16)]
