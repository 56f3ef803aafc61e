"""`dms`: the command-line client. Every failure is one line on stderr and a documented exit code.

One module per command family, each registering its subcommands with a ``register`` function:
``session`` (login, logout, whoami), ``documents`` (list, info, download, delete, tag, rename),
``upload``, ``configure``, ``local`` (the sandbox), ``admin`` and ``completion`` (the shell's);
``program`` builds the parser and runs a command. The CLI reaches the backend through
``dms_desktop.connect`` only.

Exit codes: 0 ok, 1 unexpected error, 2 usage, 3 invalid input, 4 not found, 5 conflict,
6 authentication, 7 backend unavailable or throttled, 8 cancelled, 9 integrity (checksum),
10 configuration, 11 sandbox, 12 local file missing or unreadable, 130 interrupted (Ctrl+C).
"""

from __future__ import annotations

from .program import build_parser, main

__all__ = ["build_parser", "main"]
