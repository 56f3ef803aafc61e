"""The one executable of the desktop bundle (PyInstaller, see ``.ci/bundle``): the window, the
``dms`` command, and the package's own background processes.

A bundle has no Python interpreter: ``sys.executable`` is the bundle's executable. The package
starts its background processes the way it does everywhere, ``sys.executable [-P] -m
dms_desktop.<module> ARGS`` (the local sandbox: ``-m dms_desktop.sandbox serve ...``); started
so, this executable runs that module as ``python -m`` would, as ``multiprocessing`` does for its
children in a frozen program. Only this package's modules: the bundle runs no other code.
Started under the name ``dms`` (the bundle's link of that name), it is the command-line client;
under any other name, the window.
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Sequence
from pathlib import Path

PACKAGE = "dms_desktop"
# Interpreter options without a value that may stand before ``-m`` (-P: the current folder is not
# searched); a frozen program has nothing to do for them.
_INTERPRETER_FLAGS = frozenset({"-B", "-E", "-I", "-O", "-P", "-s", "-S", "-u"})
CLI_NAMES = frozenset({"dms", "dms.exe"})


def child_module(args: Sequence[str]) -> tuple[str, list[str]] | None:
    """``(module, its arguments)`` when ``args`` (the command line after the executable) asks
    for ``[flags] -m MODULE ARGS`` with a module of this package; else None."""
    position = 0
    while position < len(args) and args[position] in _INTERPRETER_FLAGS:
        position += 1
    if position + 1 >= len(args) or args[position] != "-m":
        return None
    module = args[position + 1]
    if module != PACKAGE and not module.startswith(f"{PACKAGE}."):
        return None
    return module, list(args[position + 2 :])


def main(argv: Sequence[str] | None = None) -> int:
    """Run what the command line asks for (``argv``: the whole command line, as ``sys.argv``)."""
    argv = list(sys.argv if argv is None else argv)
    child = child_module(argv[1:])
    if child is not None:
        module, args = child
        sys.argv = [module, *args]  # what the module's own parser reads
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    if Path(argv[0]).name in CLI_NAMES:
        from dms_desktop.cli import main as cli_main

        return cli_main(argv[1:])
    from dms_desktop.gui.app import main as desktop_main

    return desktop_main(argv[1:])
