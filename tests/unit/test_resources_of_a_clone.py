"""The data files are reached the same way from a clone as from an install (issue 25):
``importlib.resources.files("dms_desktop.resources")``, also when the clone is not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2]


def test_a_clone_run_without_installing_reaches_its_resources(tmp_path: Path) -> None:
    # -S: no site-packages, so no install (nor an editable install's import hook) is seen;
    # the clone is found through PYTHONPATH only, as when it is run without installing.
    script = (
        "import importlib.resources as r; "
        "folder = r.files('dms_desktop.resources'); "
        "print(folder); print((folder / 'cloudformation' / 'dms-backend.yaml').is_file())"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-P", "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(SOURCE)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(SOURCE / "resources"), "True"]
