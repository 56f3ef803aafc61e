"""`dms admin cleanup` on a real terminal (a pseudo-terminal): the typed count above 100
documents, and Ctrl+C in the middle of the batch deletes."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.connect import open_backend, sign_in
from dms_desktop.core.aws import make_client
from dms_desktop.sandbox import ADMIN_USER, stop
from tests.integration.conftest import SandboxHome, start_sandbox
from tests.support.seeding import make_test_records, seed_bodies, seed_metadata

pytestmark = pytest.mark.server

SEEDED = 1000  # enough batches (40 of 25) that Ctrl+C lands in the middle of the run
TAG = "terminal-test"
SEEDED_USER = "us-east-1:00000000-0000-4000-8000-00000000beef"
WAIT_SECONDS = 120.0


def _admin_clients(sandbox: SandboxHome) -> tuple[Any, Any]:
    backend = open_backend(sandbox.paths)
    admin = sign_in(backend, *ADMIN_USER)
    endpoint = sandbox.info.endpoint_url
    return make_client(admin.session, "dynamodb", endpoint), make_client(
        admin.session, "s3", endpoint, max_pool_connections=20
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxHome, Any, Any]]:
    """A sandbox of this module's own with SEEDED test records of one user, each with its body
    (the tests run in file order: the wrong count deletes nothing, then Ctrl+C)."""
    sandbox = start_sandbox(tmp_path_factory.mktemp("terminal-home"))
    try:
        yield (sandbox, *_seed(sandbox))
    finally:
        stop(sandbox.paths)


def _seed(sandbox: SandboxHome) -> tuple[Any, Any]:
    dynamodb, s3 = _admin_clients(sandbox)
    documents = make_test_records(SEEDED_USER, SEEDED, TAG, b"seed\n")
    seed_bodies(s3, sandbox.info.bucket, documents, b"seed\n")
    seed_metadata(dynamodb, sandbox.info.table, documents)
    return dynamodb, s3


class Terminal:
    """`dms` in its own process whose stdin, stdout and stderr are a pseudo-terminal."""

    def __init__(self, home: Path, *argv: str) -> None:
        self._master, slave = os.openpty()
        env = os.environ | {"DMS_USERNAME": ADMIN_USER[0], "DMS_PASSWORD": ADMIN_USER[1]}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dms_desktop.cli", "--home", str(home), *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
        )
        os.close(slave)
        self.screen = ""

    def wait_for(self, text: str) -> None:
        """Read what the program writes until ``text`` appears."""
        self.wait_for_pattern(re.escape(text))

    def wait_for_pattern(self, pattern: str) -> re.Match[str]:
        """Read what the program writes until ``pattern`` matches it."""
        deadline = time.monotonic() + WAIT_SECONDS
        while (found := re.search(pattern, self.screen)) is None:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{pattern!r} never matched; the screen shows:\n{self.screen}"
            ready, _, _ = select.select([self._master], [], [], remaining)
            if ready:
                self.screen += self._read()
        return found

    def type(self, text: str) -> None:
        os.write(self._master, text.encode())

    def finish(self) -> int:
        """Wait for the program to end; its exit code (the rest of the screen is read)."""
        code = self.process.wait(timeout=WAIT_SECONDS)
        while select.select([self._master], [], [], 0)[0]:
            chunk = self._read()
            if not chunk:
                break
            self.screen += chunk
        return code

    def _read(self) -> str:
        try:
            return os.read(self._master, 65536).decode(errors="replace")
        except OSError:  # EIO: the program closed the terminal
            return ""

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self._master)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def _cleanup(home: Path, terminals: list[Terminal]) -> Terminal:
    terminal = Terminal(home, "admin", "cleanup", "--tag", TAG, "--yes")
    terminals.append(terminal)
    return terminal


def _stored(sandbox: SandboxHome, dynamodb: Any, s3: Any) -> tuple[set[str], set[str]]:
    """(metadata body keys, stored body keys) of every user."""
    keys: set[str] = set()
    for page in dynamodb.get_paginator("scan").paginate(TableName=sandbox.info.table):
        keys |= {item["s3Key"]["S"] for item in page["Items"]}
    bodies: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=sandbox.info.bucket):
        bodies |= {entry["Key"] for entry in page.get("Contents", [])}
    return keys, bodies


def test_a_wrong_typed_count_deletes_nothing(
    seeded: tuple[SandboxHome, Any, Any], terminals: list[Terminal]
) -> None:
    sandbox, dynamodb, s3 = seeded
    before = _stored(sandbox, dynamodb, s3)
    terminal = _cleanup(sandbox.home, terminals)

    terminal.wait_for(f"Type {SEEDED} to confirm: ")
    terminal.type(f"{SEEDED - 1}\n")

    assert terminal.finish() == 0
    assert "The number did not match; nothing was deleted." in terminal.screen
    assert _stored(sandbox, dynamodb, s3) == before


def test_ctrl_c_stops_between_batches_and_reports_exactly_what_was_done(
    seeded: tuple[SandboxHome, Any, Any], terminals: list[Terminal]
) -> None:
    sandbox, dynamodb, s3 = seeded
    terminal = _cleanup(sandbox.home, terminals)
    terminal.wait_for(f"Type {SEEDED} to confirm: ")
    terminal.type(f"{SEEDED}\n")

    # Once the progress shows documents deleted (the first batches are done), press Ctrl+C.
    progress = terminal.wait_for_pattern(r"Deleting +([1-9][0-9]*) of")
    assert int(progress.group(1)) < SEEDED, "the run ended before Ctrl+C could be tried"
    terminal.process.send_signal(signal.SIGINT)  # what Ctrl+C sends

    assert terminal.finish() == 8  # Cancelled
    assert (
        "Cancelled:" in terminal.screen and "not attempted; nothing half-done." in terminal.screen
    )
    assert "Traceback" not in terminal.screen
    deleted = int(terminal.screen.split("Deleted ", 1)[1].split(" of ", 1)[0])
    assert 0 < deleted < SEEDED
    metadata_keys, bodies = _stored(sandbox, dynamodb, s3)
    seeded_left = {key for key in metadata_keys if key.startswith(f"private/{SEEDED_USER}/")}
    assert len(seeded_left) == SEEDED - deleted
    assert metadata_keys == bodies  # every remaining document has its body; no orphan is left
    audit_logs = list((sandbox.paths.data_dir / "audit").glob("*.json"))
    assert len(audit_logs) == 1
    outcome = json.loads(audit_logs[0].read_text())["outcome"]
    assert outcome["cancelled"] is True and len(outcome["deleted"]) == deleted
