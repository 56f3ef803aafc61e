"""An independent DynamoDB implementation for cross-checking: the `dynalite` npm package
(LevelDB-backed, written from DynamoDB's documented behaviour, not from moto's).

.ci/setup installs it into .ci/node where npm is available; DMS_DYNALITE names another binary.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_INSTALLED = Path(__file__).resolve().parents[2] / ".ci" / "node" / "node_modules" / ".bin"


def dynalite_binary() -> str | None:
    """The dynalite command, or None where it is not installed (no Node.js, or no npm)."""
    chosen = os.environ.get("DMS_DYNALITE")
    if chosen:
        return chosen
    installed = _INSTALLED / "dynalite"
    if installed.exists() and shutil.which("node"):
        return str(installed)
    return shutil.which("dynalite")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_dynalite(binary: str, timeout: float = 30.0) -> Iterator[str]:
    """A dynalite server on a free loopback port (in memory); yields its endpoint URL."""
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--host", "127.0.0.1", "--createTableMs", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"dynalite did not start: {error}") from None
                time.sleep(0.05)  # polling a port that is not open yet: there is no signal
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
