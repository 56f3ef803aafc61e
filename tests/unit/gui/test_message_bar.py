"""The message bar: what it shows of an error whose text carries a name from the disk."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from dms_desktop.core.errors import LocalFileError
from dms_desktop.gui.message_bar import MessageBar


def test_a_name_in_an_error_is_shown_escaped_and_the_message_keeps_its_lines(
    qtbot: QtBot,
) -> None:
    bar = MessageBar()
    qtbot.addWidget(bar)

    bar.report_error(
        LocalFileError("/home/a/invoice\u202efdp.exe cannot be read.\nChoose another file.")
    )

    assert bar.text == "/home/a/invoice\\u202efdp.exe cannot be read.\nChoose another file."
    assert bar.is_error
