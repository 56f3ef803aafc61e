"""The `dms` parser, built from each command family's ``register``, and ``main``, which runs one
command and turns every failure into one line on stderr and an exit code."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .. import __version__
from ..core.errors import DmsError
from ..core.formatting import printable
from ..core.logs import configure_logging
from ..core.paths import keep_new_files_private, restore_umask
from . import (
    admin,
    completion,
    configure,
    documents,
    local,
    search,
    session,
    share,
    transfers,
    trash,
    upload,
    versions,
)
from .context import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_UNEXPECTED, Context

log = logging.getLogger("dms_desktop.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dms",
        description="Browse, upload, download and manage your documents (DynamoDB + S3).",
        epilog="Without a configured AWS profile, commands use the local sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"dms {__version__}")
    parser.add_argument("--profile", help="the profile to use (default: local, the sandbox)")
    parser.add_argument("--home", help="keep config, data, cache and logs under this folder")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for family in (
        session,
        documents,
        trash,
        share,
        search,
        upload,
        versions,
        transfers,
        admin,
        configure,
        local,
        completion,
    ):
        family.register(commands)
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    log_file: Path | None = None
    previous_umask = keep_new_files_private()
    try:
        context = Context(args, out, err)
        context.paths.make_private()
        log_file = configure_logging(context.paths.log_dir, args.verbose)
        log.debug("dms %s: %s", __version__, args.command)
        return int(args.handler(context))
    except DmsError as error:
        message = printable(str(error))
        log.info("command failed: %s", message, exc_info=error.__cause__ is not None)
        print(f"dms: {message}", file=err)
        return error.exit_code
    except BrokenPipeError:
        # The reader went away (`dms list --json | head`): stop quietly, as Unix tools do.
        _detach_stdout(out)
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print(
            "dms: interrupted; nothing was left half-done (an upload or download under way is "
            "kept: `dms transfers` resumes it).",
            file=err,
        )
        return EXIT_INTERRUPTED
    except Exception:
        log.exception("unexpected error")
        where = f" (details in {log_file})" if log_file else ""
        print(f"dms: unexpected error{where}.", file=err)
        return EXIT_UNEXPECTED
    finally:
        restore_umask(previous_umask)


def _detach_stdout(out: TextIO) -> None:
    """Point the standard output at the null device, so that the interpreter's final flush of
    what is still buffered does not fail again on the closed pipe."""
    if out is not sys.stdout:
        return
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
