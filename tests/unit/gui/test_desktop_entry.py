"""`dms-desktop --install-desktop-entry`: the entry and icon land in the user's XDG data folder,
start this very dms-desktop, and pass the freedesktop.org validator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from dms_desktop.gui.desktop_entry import (
    DesktopEntryFiles,
    data_home,
    desktop_entry_text,
    exec_line,
)

DMS_DESKTOP = Path(sys.executable).parent / "dms-desktop"


def run_dms_desktop(*args: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DMS_DESKTOP), *args],
        env={"PATH": "/usr/bin:/bin", **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def entry_values(desktop_file: Path) -> dict[str, str]:
    lines = desktop_file.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if "=" in line)


def test_install_puts_the_entry_and_icon_under_xdg_data_home(tmp_path: Path) -> None:
    data = tmp_path / "xdg data"
    result = run_dms_desktop(
        "--install-desktop-entry",
        environ={"XDG_DATA_HOME": str(data), "HOME": str(tmp_path / "home")},
    )

    assert result.returncode == 0, result.stderr
    entry = data / "applications" / "dms-desktop.desktop"
    icon = data / "icons" / "hicolor" / "scalable" / "apps" / "dms-desktop.svg"
    assert str(entry) in result.stdout
    packaged_icon = files("dms_desktop.resources") / "icons" / "dms-desktop.svg"
    assert icon.read_bytes() == packaged_icon.read_bytes()
    values = entry_values(entry)
    assert values["Name"] == "DMS Desktop"
    assert values["Icon"] == "dms-desktop"  # found in the hicolor theme by that name
    assert values["Exec"] == str(DMS_DESKTOP)  # this very program, by its full path
    assert values["TryExec"] == str(DMS_DESKTOP)
    assert not (tmp_path / "home").exists()  # nothing outside XDG_DATA_HOME
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    validated = subprocess.run(
        ["desktop-file-validate", str(entry)], capture_output=True, text=True, check=False
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout == ""  # not even a hint


def test_without_xdg_data_home_the_entry_goes_to_local_share(tmp_path: Path) -> None:
    result = run_dms_desktop("--install-desktop-entry", environ={"HOME": str(tmp_path)})

    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".local/share/applications/dms-desktop.desktop").is_file()
    assert (tmp_path / ".local/share/icons/hicolor/scalable/apps/dms-desktop.svg").is_file()


def test_a_relative_xdg_data_home_is_ignored_as_the_specification_says(tmp_path: Path) -> None:
    environ = {"XDG_DATA_HOME": "relative/share", "HOME": str(tmp_path)}
    assert data_home(environ) == Path.home() / ".local" / "share"
    assert data_home({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path


def test_installing_again_replaces_and_remove_takes_both_out(tmp_path: Path) -> None:
    environ = {"XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path / "home")}
    target = DesktopEntryFiles.under(tmp_path)
    for _ in range(2):
        assert run_dms_desktop("--install-desktop-entry", environ=environ).returncode == 0
    assert sorted(p.name for p in target.desktop_file.parent.iterdir()) == ["dms-desktop.desktop"]

    removed = run_dms_desktop("--remove-desktop-entry", environ=environ)

    assert removed.returncode == 0, removed.stderr
    assert not target.desktop_file.exists()
    assert not target.icon_file.exists()
    again = run_dms_desktop("--remove-desktop-entry", environ=environ)
    assert again.stdout.strip() == "No desktop entry was installed."


def test_a_folder_that_cannot_be_written_is_one_clear_message(tmp_path: Path) -> None:
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")

    result = run_dms_desktop(
        "--install-desktop-entry", environ={"XDG_DATA_HOME": str(blocked), "HOME": str(tmp_path)}
    )

    assert result.returncode == 12
    assert result.stderr.startswith("dms-desktop: Could not install the desktop entry in ")
    assert "Traceback" not in result.stderr


def test_exec_quotes_paths_as_the_specification_says() -> None:
    assert exec_line(["/opt/dms/dms-desktop"]) == "/opt/dms/dms-desktop"
    assert exec_line(["/home/me/My Apps/dms-desktop"]) == '"/home/me/My Apps/dms-desktop"'
    # A literal backslash is four in the file, a dollar is escaped, a percent doubled.
    assert exec_line(["/a\\b/$x/100%"]) == '"/a\\\\\\\\b/\\\\$x/100%%"'


def test_an_entry_for_a_path_with_spaces_is_valid(tmp_path: Path) -> None:
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    entry = tmp_path / "dms-desktop.desktop"
    entry.write_text(desktop_entry_text(["/home/me/My Apps/dms-desktop", "--profile", "aws"]))
    validated = subprocess.run(
        ["desktop-file-validate", str(entry)], capture_output=True, text=True, check=False
    )
    assert validated.returncode == 0, validated.stdout
    assert entry_values(entry)["Exec"] == '"/home/me/My Apps/dms-desktop" --profile aws'


def test_the_running_program_is_named_by_its_full_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dms_desktop.gui import desktop_entry

    script = tmp_path / "bin" / "dms-desktop"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [os.path.join("bin", "dms-desktop")])
    assert desktop_entry.this_program() == [str(script)]
    monkeypatch.setattr(sys, "argv", ["-c"])
    assert desktop_entry.this_program() == [sys.executable, "-m", "dms_desktop"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert desktop_entry.this_program() == [sys.executable]
