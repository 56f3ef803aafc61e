"""The window can show before boto3 loads: nothing the GUI thread needs to build it imports the
AWS libraries (about a third of a second of start-up); the worker imports them when it connects.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BUILD_THE_WINDOW = textwrap.dedent(
    """
    import sys
    from PySide6.QtWidgets import QApplication
    from dms_desktop.core.paths import AppPaths
    from dms_desktop.gui.app import DesktopApp

    app = QApplication([])
    desktop = DesktopApp(AppPaths.resolve(sys.argv[1]))
    desktop.window.show()
    app.processEvents()
    aws = {"boto3", "botocore", "s3transfer"}
    loaded = sorted({name.split(".")[0] for name in sys.modules} & aws)
    desktop.shutdown()
    print(",".join(loaded))
    """
)


def test_the_window_is_built_and_shown_without_loading_boto3(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BUILD_THE_WINDOW, str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""  # none of boto3, botocore, s3transfer
