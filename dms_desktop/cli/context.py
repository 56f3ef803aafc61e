"""What every command gets: the parsed arguments, the output streams and, when first asked for,
the backend, the signed-in user and their document service."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from ..connect import Backend, open_backend, open_service, sign_in_non_interactive
from ..core.identity import SignedIn
from ..core.paths import AppPaths
from ..core.service import DocumentService

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a tool whose reader went away


class Context:
    """What every command gets: the paths, the chosen profile and lazily the signed-in service."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.paths = AppPaths.resolve(args.home)
        self._backend: Backend | None = None
        self._user: SignedIn | None = None
        self._service: DocumentService | None = None

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = open_backend(self.paths, self.args.profile)
        return self._backend

    @property
    def user(self) -> SignedIn:
        if self._user is None:
            self._user = sign_in_non_interactive(self.backend)
        return self._user

    @property
    def service(self) -> DocumentService:
        if self._service is None:
            self._service = open_service(self.backend, self.user, paths=self.paths)
            self.report_recovered(self._service.recover_interrupted())
        return self._service

    def report_recovered(self, messages: list[str]) -> None:
        """Say what the start did with work a crash interrupted (see core.recovery)."""
        for message in messages:
            self.note(f"dms: {message}")

    @property
    def interactive(self) -> bool:
        return sys.stdin.isatty() and self.err.isatty()

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def note(self, text: str) -> None:
        print(text, file=self.err)

    def print_json(self, value: Any) -> None:
        json.dump(value, self.out, indent=2, ensure_ascii=False)
        self.out.write("\n")


Handler = Callable[[Context], int]


def add_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Handler,
    help_text: str,
    **options: Any,
) -> argparse.ArgumentParser:
    """A subcommand ``name`` that runs ``handler``."""
    sub = commands.add_parser(name, help=help_text, description=help_text, **options)
    sub.set_defaults(handler=handler)
    return sub
