"""`pipx install .` from a fresh copy of the project, as a user installs the app (issue 23): the
build prints no packaging warning, the tool gets `dms` and `dms-desktop` and none of the test
tools, and `dms list` works on the sandbox, run from another folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2]
PIPX = Path(sys.executable).parent / "pipx"

pytestmark = [
    pytest.mark.server,
    pytest.mark.slow,
    pytest.mark.skipif(not PIPX.is_file(), reason="needs pipx (in the test extra: .ci/setup)"),
    pytest.mark.skipif(
        shutil.which("git") is None or not (SOURCE / ".git").exists(),
        reason="needs git and the project's repository, to copy what a clone has",
    ),
]

# Pip's own notice about this machine's pip configuration (an index folder it lacks), not about
# the project: the only warning lines that may appear.
_MACHINE_NOTICE = re.compile(r"^WARNING: Location '.*' is ignored: it is neither a file nor a")
# (cfn-lint is not among them: moto's server extra, which runs the sandbox, depends on it.)
TEST_TOOLS = ("pytest", "pytestqt", "hypothesis", "ruff", "mypy", "importlinter", "checkov")


def clone_like_copy(target: Path) -> Path:
    """The files a clone of the working tree has (committed or not, but never ignored: no
    .venv, build/, dist/ or egg-info)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=SOURCE,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = SOURCE / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def warnings_in(output: str) -> list[str]:
    return [
        line
        for line in output.splitlines()
        if re.search(r"warn", line, re.IGNORECASE) and not _MACHINE_NOTICE.match(line.strip())
    ]


@pytest.fixture(scope="module")
def pipx_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """`pipx install --verbose COPY` into a pipx home of its own; its folders."""
    root = tmp_path_factory.mktemp("pipx")
    copy = clone_like_copy(root / "dms-desktop")
    folders = {"home": root / "pipx-home", "bin": root / "bin", "man": root / "man"}
    environment = {
        **os.environ,
        "PIPX_HOME": str(folders["home"]),
        "PIPX_BIN_DIR": str(folders["bin"]),
        "PIPX_MAN_DIR": str(folders["man"]),
    }
    environment.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [str(PIPX), "install", "--verbose", str(copy)],
        env=environment,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    folders["output"] = root / "pipx-install.out"
    folders["output"].write_text(output)
    yield folders


def test_pipx_install_builds_without_warnings_and_installs_both_commands(
    pipx_tool: dict[str, Path],
) -> None:
    output = pipx_tool["output"].read_text()
    assert "Building wheel for dms-desktop" in output or "dms-desktop" in output
    assert warnings_in(output) == []
    assert (pipx_tool["bin"] / "dms").exists()
    assert (pipx_tool["bin"] / "dms-desktop").exists()


def test_the_tool_has_none_of_the_test_tools(pipx_tool: dict[str, Path]) -> None:
    python = pipx_tool["home"] / "venvs" / "dms-desktop" / "bin" / "python"
    found = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util, sys; "
            "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m)))",
            *TEST_TOOLS,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert found == []


def test_dms_list_works_on_the_sandbox(pipx_tool: dict[str, Path], tmp_path: Path) -> None:
    home = tmp_path / "home"
    environment = {
        "PATH": f"{pipx_tool['bin']}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }

    def dms(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["dms", "--home", str(home), *argv],
            env=environment,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    try:
        listed = dms("list", "--json", "--all")
        assert listed.returncode == 0, listed.stderr
        names = {document["filename"] for document in json.loads(listed.stdout)["documents"]}
        assert {"welcome.md", "quarterly-report.pdf"} <= names
        completion = dms("completion", "bash")
        assert completion.returncode == 0, completion.stderr
    finally:
        dms("local", "stop")
