"""A virtual X screen (Xvfb) for a test that starts a real window in another process."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT = 30.0


@contextmanager
def virtual_screen(size: str = "1400x900") -> Iterator[str]:
    """Xvfb on a free display (a random one from 100 up); its DISPLAY value. Stopped after."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        raise RuntimeError("needs Xvfb and xdotool (Debian: xvfb, xdotool; .ci/setup has them)")
    number = random.randrange(100, 900)
    while True:
        while Path(f"/tmp/.X{number}-lock").exists():
            number += 1
        display = f":{number}"
        server = subprocess.Popen(
            ["Xvfb", display, "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while server.poll() is None and not _answers(display):
            if time.monotonic() > deadline:
                server.terminate()
                server.wait(timeout=10)
                raise RuntimeError(f"Xvfb did not start on {display}")
            time.sleep(0.05)
        if server.poll() is None:
            break
        number += 1  # taken meanwhile: the next one
    try:
        yield display
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(display: str) -> bool:
    done = subprocess.run(
        ["xdotool", "getdisplaygeometry"],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        timeout=10,
        check=False,
    )
    return done.returncode == 0


def visible_window(display: str, title: str) -> str | None:
    """The id of a visible window on ``display`` whose title matches the regex ``title``."""
    done = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", title],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    found = done.stdout.split()
    return found[0] if found else None
