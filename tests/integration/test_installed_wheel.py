"""The project as users install it (`pip install .`, `pipx install .`): a wheel in a virtualenv of
its own, run from inside the project's source folder and from elsewhere (issue 25).

Run from the source folder, a child process used to import the source tree's ``dms_desktop``
(Python puts the current directory first on its path) instead of the installed one, where
``resources/`` is not the package ``dms_desktop.resources``: the sandbox could not start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.server]

SOURCE = Path(__file__).resolve().parents[2]
PROBE = SOURCE / "tests" / "support" / "window_startup_probe.py"
NOT_SOURCE = (".git", ".venv*", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip` builds from the source folder (offline: the build requirements come from
    pip's cache and PIP_FIND_LINKS); its build printed no setuptools warning about the data
    folders of dms_desktop.resources."""
    target = tmp_path_factory.mktemp("wheel")
    # Built from a copy: pip builds in the folder it is given, and leaves build/ there.
    copy = tmp_path_factory.mktemp("source") / "dms-desktop"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(target), str(copy)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    output = build.stdout + build.stderr
    assert "dms_desktop.resources" not in output, output
    (built,) = target.glob("dms_desktop-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel (and its dependencies) installed; its bin folder."""
    root = tmp_path_factory.mktemp("venv")
    venv.create(root, with_pip=True)
    bin_dir = root / ("Scripts" if os.name == "nt" else "bin")
    install = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return bin_dir


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "QT_QPA_PLATFORM": "offscreen",
    }


@pytest.fixture
def homes(installed: Path, tmp_path: Path) -> Iterator[Path]:
    """A folder for DMS homes; every sandbox started in one of them is stopped afterwards."""
    yield tmp_path
    for home in tmp_path.iterdir():
        subprocess.run(
            [str(installed / "dms"), "--home", str(home), "local", "stop"],
            env=_env(),
            capture_output=True,
            timeout=120,
        )


def _sandbox_code(home: Path) -> str:
    """Where the sandbox daemon of ``home`` imported dms_desktop from (its log says so)."""
    log = (home / "logs" / "sandbox.log").read_text(encoding="utf-8")
    return log.rsplit("(dms_desktop from ", 1)[1].split(")", 1)[0]


@pytest.mark.parametrize("where", ["source folder", "elsewhere"])
def test_dms_whoami_works_from_any_folder(
    installed: Path, homes: Path, tmp_path_factory: pytest.TempPathFactory, where: str
) -> None:
    cwd = SOURCE if where == "source folder" else tmp_path_factory.mktemp("elsewhere")
    home = homes / "cli"
    result = subprocess.run(
        [str(installed / "dms"), "--home", str(home), "whoami"],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("demo, user id ")
    assert _sandbox_code(home) == str(installed.parent / _site_packages(installed) / "dms_desktop")


@pytest.mark.parametrize("where", ["source folder", "elsewhere"])
def test_window_starts_from_any_folder(
    installed: Path, homes: Path, tmp_path_factory: pytest.TempPathFactory, where: str
) -> None:
    cwd = SOURCE if where == "source folder" else tmp_path_factory.mktemp("elsewhere")
    home = homes / "window"
    # -P: the probe's folder is not searched either, as for the installed dms-desktop script.
    result = subprocess.run(
        [str(installed / "python"), "-P", str(PROBE), "--home", str(home)],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    installed_package = installed.parent / _site_packages(installed) / "dms_desktop"
    assert seen["package"] == str(installed_package / "__init__.py")
    assert seen["sign_in_dialog"] is True
    assert seen["rows"] == 6  # the sandbox's sample documents, icons and all
    assert _sandbox_code(home) == str(installed_package)


TRANSLATED_COUNT = """
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication
from dms_desktop.gui.translations import install_translations
from dms_desktop.gui.trash_view import TrashView

app = QApplication([])
print(install_translations(app, QLocale("en_US"))[0].filePath())
print(TrashView.tr("Trash: %n document(s)", "", 1))
"""


def test_the_translations_are_installed_with_the_package(installed: Path, tmp_path: Path) -> None:
    """The compiled translations are package data: the installed window says "1 document" (the
    English plural forms, docs/translating.md), not "1 document(s)"."""
    result = subprocess.run(
        [str(installed / "python"), "-P", "-c", TRANSLATED_COUNT],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    catalogue, title = result.stdout.strip().splitlines()
    installed_package = installed.parent / _site_packages(installed) / "dms_desktop"
    assert Path(catalogue) == installed_package / "resources" / "translations" / "dms_desktop_en.qm"
    assert title == "Trash: 1 document"


def _site_packages(bin_dir: Path) -> Path:
    """The virtualenv's site-packages, relative to its root."""
    found = subprocess.run(
        [
            str(bin_dir / "python"),
            "-P",
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Path(found).relative_to(bin_dir.parent)
