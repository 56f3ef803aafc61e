"""`dms completion bash|zsh`: the shell's completion script for `dms`, made from the parser itself
(shtab), so it always knows the commands and options of this version."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import shtab

from .context import EXIT_OK, Context, add_command

SHELLS = ("bash", "zsh")
# Arguments that take a path: completed with the shell's file (or folder) names.
_FOLDER_ARGUMENTS = frozenset({"home"})
_FILE_ARGUMENTS = frozenset({"paths", "output"})
_FILE_METAVARS = frozenset({"FILE", "PATH"})


def cmd_completion(context: Context) -> int:
    from .program import build_parser  # the whole parser, of which this command is a part

    context.out.write(completion_script(build_parser(), context.args.shell))
    return EXIT_OK


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of ``parser`` for ``shell`` (one of SHELLS)."""
    for action in _all_actions(parser):
        if action.dest in _FOLDER_ARGUMENTS:
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
        elif action.dest in _FILE_ARGUMENTS or action.metavar in _FILE_METAVARS:
            action.complete = shtab.FILE  # type: ignore[attr-defined]
    return shtab.complete(parser, shell=shell)


def _all_actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_actions(sub)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dms completion`."""
    completion = add_command(
        commands,
        "completion",
        cmd_completion,
        "print the shell completion script for dms",
        epilog=(
            "bash: dms completion bash > ~/.local/share/bash-completion/completions/dms ; "
            'zsh: dms completion zsh > "${fpath[1]}/_dms" (a folder on your fpath)'
        ),
    )
    completion.add_argument("shell", choices=SHELLS)
