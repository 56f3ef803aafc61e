"""The window's start-up as a user meets it, in a process of its own: ``dms-desktop``'s own
main() on the given arguments; once the sign-in dialog opens (the sandbox is running), it signs in
with what the dialog offers (the demo account), waits for the live list, prints a JSON line with
what it saw and quits (exit 0). A failure prints the message bar's text (exit 1).

    python -P tests/support/window_startup_probe.py --home DIR

Self-contained (it imports only dms_desktop and Qt): it runs in a virtualenv where the project is
installed from a wheel, with ``-P`` as the ``dms-desktop`` script does in effect (the current
directory is not searched).
"""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTableView

TIMEOUT_SECONDS = 90


def _visible_labels(object_name: str) -> list[str]:
    return [
        label.text()
        for widget in QApplication.topLevelWidgets()
        for label in widget.findChildren(QLabel)
        if label.isVisible() and object_name in label.objectName()
    ]


def main() -> int:
    import dms_desktop
    from dms_desktop.gui import app as desktop_app

    outcome: dict[str, object] = {"package": dms_desktop.__file__}
    started = time.monotonic()

    def check() -> None:
        app = QApplication.instance()
        assert app is not None
        for widget in QApplication.topLevelWidgets():
            button = widget.findChild(QPushButton, "signInButton")
            if widget.isVisible() and button is not None and not outcome.get("sign_in_dialog"):
                outcome["sign_in_dialog"] = True
                button.click()
            table = widget.findChild(QTableView, "documentTable")
            if table is not None and outcome.get("sign_in_dialog") and table.model().rowCount():
                outcome["rows"] = table.model().rowCount()
                outcome["status"] = _visible_labels("loadedStatusLabel")
                app.exit(0)
                return
        if time.monotonic() - started > TIMEOUT_SECONDS:
            outcome["timeout"] = True
            outcome["messages"] = _visible_labels("message")
            app.exit(1)

    qt_app = QApplication([sys.argv[0]])  # main() uses this one
    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(50)
    code = desktop_app.main(sys.argv[1:])
    timer.stop()
    del qt_app
    print(json.dumps(outcome), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
