"""`dms completion bash|zsh`: the script a shell sources completes the commands, their options
and paths, as a user pressing Tab would see (bash run with the script sourced)."""

from __future__ import annotations

import io
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from dms_desktop.cli import main
from dms_desktop.core.schema import SortField


def completion_script(shell: str, tmp_path: Path) -> str:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--home", str(tmp_path / "home"), "completion", shell], out=out, err=err)
    assert code == 0, err.getvalue()
    return out.getvalue()


@pytest.fixture
def bash_script(tmp_path: Path) -> Path:
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    script = tmp_path / "dms.bash"
    script.write_text(completion_script("bash", tmp_path))
    return script


def complete(script: Path, words: list[str], cwd: Path | None = None) -> list[str]:
    """What bash offers for the last of ``words`` (a command line being typed), with the
    completion script sourced: the function that `complete -p dms` names, run as Tab runs it."""
    line = " ".join(words)
    program = f"""
source {shlex.quote(str(script))}
function=$(complete -p dms | sed -E 's/.* -F ([^ ]+) .*/\\1/')
COMP_WORDS=({" ".join(shlex.quote(word) for word in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={shlex.quote(line)}
COMP_POINT={len(line)}
"$function" dms {shlex.quote(words[-1])} {shlex.quote(words[-2])}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    return [word for word in done.stdout.splitlines() if word]


def test_bash_completes_the_commands(bash_script: Path) -> None:
    assert complete(bash_script, ["dms", "lo"]) == ["login", "logout", "local"]
    offered = complete(bash_script, ["dms", ""])
    for command in ("list", "upload", "download", "delete", "admin", "local", "completion"):
        assert command in offered


def test_bash_completes_subcommands_and_options(bash_script: Path) -> None:
    assert complete(bash_script, ["dms", "local", ""]) == [
        "serve",
        "stop",
        "add-user",
        "remove-user",
        "reset",
        "seed",
    ]
    assert complete(bash_script, ["dms", "list", "--s"]) == ["--search", "--sort"]
    assert complete(bash_script, ["dms", "list", "--sort", ""]) == [f.value for f in SortField]
    assert complete(bash_script, ["dms", "completion", ""]) == ["bash", "zsh"]


def test_bash_completes_file_names_for_upload(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "report-2026.pdf").write_text("x")
    (tmp_path / "reports").mkdir()

    offered = complete(bash_script, ["dms", "upload", "rep"], cwd=tmp_path)

    assert "report-2026.pdf" in offered
    assert any(word.startswith("reports") for word in offered)


def test_zsh_script_defines_the_completion_function(tmp_path: Path) -> None:
    script = completion_script("zsh", tmp_path)
    assert script.startswith("#compdef dms")
    assert "_shtab_dms" in script
    if shutil.which("zsh") is None:
        return  # the script's content is checked above; zsh itself is not installed here
    checked = subprocess.run(
        ["zsh", "-n"], input=script, capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 0, checked.stderr


def test_an_unknown_shell_is_a_usage_error(tmp_path: Path) -> None:
    err = io.StringIO()
    code = main(["completion", "fish"], out=io.StringIO(), err=err)
    assert code == 2
    assert "invalid choice: 'fish'" in err.getvalue()


def test_bash_completes_only_folders_for_home(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "report-2026.pdf").write_text("x")
    (tmp_path / "reports").mkdir()

    assert complete(bash_script, ["dms", "--home", "rep"], cwd=tmp_path) == ["reports"]
