"""The desktop bundle (PyInstaller, `bash .ci/bundle`) as a user runs it: on a virtual screen
(Xvfb), with no Python of the project's on the PATH, from a folder outside the project.

The window shows; the local sandbox starts as the bundle's own child process (the bundle's
executable, not a Python interpreter); the bundle's `dms` lists the sandbox's sample documents;
the bundle installs its desktop entry. The test runs where a bundle was built (`dist/dms-desktop`,
or the folder DMS_BUNDLE names); PyInstaller is not among the test tools .ci/setup installs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.xvfb import virtual_screen, visible_window

SOURCE = Path(__file__).resolve().parents[2]
BUNDLE = Path(os.environ.get("DMS_BUNDLE") or SOURCE / "dist" / "dms-desktop")
TIMEOUT = 90.0  # the first start makes the sandbox (deploys the template, adds the samples)

pytestmark = [
    pytest.mark.server,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (BUNDLE / "dms-desktop").is_file(),
        reason=f"no desktop bundle in {BUNDLE}: `bash .ci/bundle` builds one (with PyInstaller, "
        "which the test tools do not include)",
    ),
    pytest.mark.skipif(
        not (shutil.which("Xvfb") and shutil.which("xdotool")),
        reason="needs Xvfb and xdotool (Debian packages xvfb and xdotool; .ci/setup installs them)",
    ),
]


def wait_for(what: str, condition: Callable[[], object]) -> object:
    deadline = time.monotonic() + TIMEOUT
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return result


@dataclass
class Bundle:
    folder: Path
    home: Path
    environment: dict[str, str]
    cwd: Path

    def dms(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.folder / "dms"), "--home", str(self.home), *argv],
            env=self.environment,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def log(self, name: str) -> str:
        path = self.home / "logs" / name
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def bundle(tmp_path: Path) -> Iterator[Bundle]:
    """The bundle with an environment like a desktop session's: no virtualenv, no PYTHONPATH,
    no keyring; a home of its own. Its sandbox is stopped afterwards."""
    newest_source = max(
        path.stat().st_mtime
        for folder in (SOURCE / "dms_desktop", SOURCE / "resources")
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and "screenshots" not in path.parts
    )
    built = (BUNDLE / "dms-desktop").stat().st_mtime
    assert built >= newest_source, (
        f"the bundle in {BUNDLE} is older than the sources: build it again (bash .ci/bundle)"
    )
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    found = Bundle(BUNDLE, tmp_path / "home", environment, cwd)
    yield found
    found.dms("local", "stop")


def test_the_bundle_shows_the_window_and_starts_its_sandbox_as_its_own_child(
    bundle: Bundle, tmp_path: Path
) -> None:
    output = tmp_path / "dms-desktop.out"
    with virtual_screen() as display, output.open("w") as sink:
        window = subprocess.Popen(
            [str(bundle.folder / "dms-desktop"), "--home", str(bundle.home)],
            env={**bundle.environment, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
            cwd=bundle.cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            # Connected to the sandbox it started: the sign-in dialog (demo account filled in).
            wait_for("the sign-in dialog", lambda: visible_window(display, "^Sign in"))
            assert visible_window(display, "^DMS Desktop$")
            info = json.loads((bundle.home / "data" / "sandbox" / "sandbox.json").read_text())
            sandbox_program = Path(f"/proc/{info['pid']}/exe").resolve()
            assert sandbox_program == (bundle.folder / "dms-desktop").resolve()

            listed = bundle.dms("list", "--json", "--all")  # the bundle's CLI, same sandbox
            assert listed.returncode == 0, listed.stderr
            names = {document["filename"] for document in json.loads(listed.stdout)["documents"]}
            assert "welcome.md" in names
        finally:
            window.terminate()
            window.wait(timeout=TIMEOUT)

    printed = output.read_text(errors="replace")
    for text in (printed, bundle.log("dms.log"), bundle.log("sandbox.log")):
        assert "Traceback" not in text, text
    assert "listening on http://127.0.0.1:" in bundle.log("sandbox.log")


def test_the_bundle_installs_its_desktop_entry(bundle: Bundle, tmp_path: Path) -> None:
    data = tmp_path / "share"
    done = subprocess.run(
        [str(bundle.folder / "dms-desktop"), "--install-desktop-entry"],
        env={**bundle.environment, "XDG_DATA_HOME": str(data)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    entry = (data / "applications" / "dms-desktop.desktop").read_text()
    assert f"Exec={(bundle.folder / 'dms-desktop').resolve()}\n" in entry
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "dms-desktop.svg").is_file()


def test_the_bundles_dms_completes_in_bash(bundle: Bundle) -> None:
    script = bundle.dms("completion", "bash")
    assert script.returncode == 0, script.stderr
    assert "_shtab_dms_subparsers=(" in script.stdout
