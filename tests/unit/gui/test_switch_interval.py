"""While the window runs, a worker thread hands the interpreter lock back to the GUI thread
within 1 ms (Python's default is 5 ms, paid at each of the GUI thread's returns from Qt: the
window froze 20-30 ms while a worker applied 1,000 changes; benchmark 1). Quitting restores the
interpreter's own setting."""

from __future__ import annotations

import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from dms_desktop.core.paths import AppPaths
from dms_desktop.gui.app import GUI_SWITCH_INTERVAL_S, DesktopApp


def test_the_window_takes_the_interpreter_lock_back_quickly_and_restores_it(
    qtbot: QtBot, tmp_path: Path
) -> None:
    interpreters_own = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # Python's default (a window of an earlier test may be open)
    try:
        desktop = DesktopApp(AppPaths.resolve(tmp_path / "home"))
        qtbot.addWidget(desktop.window)
        try:
            assert sys.getswitchinterval() == GUI_SWITCH_INTERVAL_S
        finally:
            desktop.shutdown()
        assert sys.getswitchinterval() == 0.005
    finally:
        sys.setswitchinterval(interpreters_own)
