"""``python -m dms_desktop.sandbox serve ...``: the detached sandbox daemon."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dms_desktop.core.errors import SandboxError
from dms_desktop.core.paths import keep_new_files_private
from dms_desktop.sandbox.control import ERROR_MARKER


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dms_desktop.sandbox")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run a data folder's sandbox")
    serve.add_argument("--sandbox-dir", type=Path, required=True)
    serve.add_argument("--log-dir", type=Path, help="where the log goes (stderr is redirected)")
    serve.add_argument("--port", type=int, default=0, help="0: any free port")
    serve.add_argument(
        "--idle-timeout", type=float, default=0, help="stop after this many idle seconds; 0: never"
    )
    args = parser.parse_args(argv)
    keep_new_files_private()  # the state, bodies and log are the owner's only

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s",
    )
    from dms_desktop.sandbox.server import run_sandbox

    try:
        run_sandbox(args.sandbox_dir, args.port, args.idle_timeout or None)
    except SandboxError as exc:
        logging.getLogger(__name__).error("%s", exc)
        sys.stderr.write(f"{ERROR_MARKER}{exc}\n")
        sys.stderr.flush()
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
