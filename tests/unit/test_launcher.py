"""The bundle's one executable: what its command line makes it run (dms_desktop.launcher)."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout

import pytest

from dms_desktop import __version__
from dms_desktop.launcher import child_module, main


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # How the sandbox daemon is started: python [-P] -m dms_desktop.sandbox serve ...
        (
            ["-m", "dms_desktop.sandbox", "serve", "--port", "0"],
            ("dms_desktop.sandbox", ["serve", "--port", "0"]),
        ),
        (["-P", "-m", "dms_desktop.sandbox", "serve"], ("dms_desktop.sandbox", ["serve"])),
        (["-P", "-u", "-m", "dms_desktop"], ("dms_desktop", [])),
    ],
)
def test_the_packages_own_modules_run_as_python_m_would(
    args: list[str], expected: tuple[str, list[str]]
) -> None:
    assert child_module(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--home", "/tmp/x"],  # the window's own options
        ["-m"],
        ["-m", "os"],  # no other code than the package's
        ["-m", "dms_desktop_evil"],
        ["-c", "print(1)"],
        ["-X", "dev", "-m", "dms_desktop.sandbox"],  # an option with a value: not ours to parse
        ["--profile", "-m", "dms_desktop.sandbox"],
    ],
)
def test_anything_else_is_not_a_child(args: list[str]) -> None:
    assert child_module(args) is None


def test_started_as_dms_it_is_the_command_line_client() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["/opt/dms-desktop/dms", "--version"])
    assert code == 0
    assert out.getvalue().strip() == f"dms {__version__}"


def test_a_child_module_runs_as_main_with_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as exited:
        main(["/opt/dms-desktop/dms-desktop", "-P", "-m", "dms_desktop.cli", "--version"])
    assert exited.value.code == 0
    assert out.getvalue().strip() == f"dms {__version__}"
