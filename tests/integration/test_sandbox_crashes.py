"""The sandbox server killed with SIGKILL right after it acknowledged a write (issue 21, item 4).

Each round makes one change through the app (the service, or the `dms` command), waits for its
answer, kills the sandbox server at once and starts it again on the same port; the change must be
there. The app's session outlives the restarts (its sign-in was kept too). At the end every
document is compared with what was acknowledged, bodies byte for byte.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.service import DocumentService
from dms_desktop.sandbox import SandboxInfo, add_user, connect_or_start, stop
from tests.integration.conftest import SandboxHome

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL"),
]

USER, PASSWORD = "durable", "durable-password"
ROUNDS = 24
MULTIPART_BYTES = 17 * 1024 * 1024  # above the 16 MB multipart threshold


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):  # our own exited child: a zombie until reaped
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    return True


def kill_9(info: SandboxInfo) -> None:
    """SIGKILL the sandbox server and wait until it is gone."""
    os.kill(info.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _is_alive(info.pid):
        assert time.monotonic() < deadline, "the killed sandbox did not go away"
        time.sleep(0.01)  # polling for the process to be gone


@dataclass
class Acknowledged:
    """What the sandbox said it stored: document id -> (filename, tags, SHA-256 of the body)."""

    documents: dict[str, tuple[str, tuple[str, ...], str]] = field(default_factory=dict)
    bodies: dict[str, bytes] = field(default_factory=dict)  # small ones, to compare byte for byte


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _service(paths: AppPaths) -> DocumentService:
    backend = open_backend(paths)
    return open_service(backend, sign_in(backend, USER, PASSWORD))


def _listed(service: DocumentService) -> dict[str, tuple[str, tuple[str, ...], str]]:
    return {
        document.document_id: (document.filename, tuple(document.tags), document.checksum)
        for document in service.iter_documents(ListQuery())
    }


@pytest.mark.nothing_lost(
    "crash",
    f"the sandbox server killed (SIGKILL) right after each acknowledged write, {ROUNDS} rounds: "
    "uploads (one multipart, one by `dms upload`), tag edits, renames, deletes, "
    "`dms local add-user`",
    "after each restart the change is there; at the end every document matches what was "
    "acknowledged, bodies byte for byte (was: everything since the last checkpoint lost)",
)
def test_every_acknowledged_write_survives_kill_9_of_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()  # the same at each restart: the app's clients keep their endpoint
    paths = AppPaths.resolve(tmp_path / "home")
    home = SandboxHome(tmp_path / "home", connect_or_start(paths, port=port))
    try:
        add_user(home.info, USER, PASSWORD)
        kill_9(home.info)
        home.info = connect_or_start(paths, port=port)
        service = _service(paths)  # the user was kept
        acknowledged = Acknowledged()
        monkeypatch.setenv("DMS_USERNAME", USER)
        monkeypatch.setenv("DMS_PASSWORD", PASSWORD)

        for number in range(ROUNDS):
            kind = ("upload", "retag", "rename", "upload", "delete", "retag")[number % 6]
            if number == 3:
                kind = "multipart"
            elif number == 9:
                kind = "cli-upload"
            ids = sorted(acknowledged.documents)
            changed = _write(kind, number, service, home, ids, acknowledged, tmp_path)
            kill_9(home.info)  # at once: the answer is in, nothing else has happened yet

            home.info = connect_or_start(paths, port=port)
            listed = _listed(service)
            if changed in acknowledged.documents:
                assert listed.get(changed) == acknowledged.documents[changed], (kind, number)
            else:
                assert changed not in listed, (kind, number)

        assert _listed(service) == acknowledged.documents
        out = tmp_path / "out"
        for document_id, (_filename, _tags, checksum) in acknowledged.documents.items():
            (out / document_id).mkdir(parents=True)
            target = service.download(document_id, out / document_id)
            assert hashlib.sha256(target.read_bytes()).hexdigest() == checksum
            if document_id in acknowledged.bodies:
                assert target.read_bytes() == acknowledged.bodies[document_id]
    finally:
        stop(paths)


def _write(
    kind: str,
    number: int,
    service: DocumentService,
    home: SandboxHome,
    ids: list[str],
    acknowledged: Acknowledged,
    folder: Path,
) -> str:
    """Make one acknowledged change; returns the id of the document it changed."""
    if kind in ("upload", "multipart", "cli-upload") or not ids:
        source = folder / f"round-{number:02d}.txt"
        if kind == "multipart":
            with source.open("wb") as file:
                file.write(f"round {number}\n".encode())
                file.truncate(MULTIPART_BYTES)  # sparse: quick to make
        else:
            source.write_bytes(f"round {number}: {os.urandom(8).hex()}\n".encode() * 100)
        if kind == "cli-upload":
            result = home.dms("upload", str(source), "--duplicates", "keep", "--json")
            assert result.code == 0, result.err
            (document,) = [
                doc for doc in service.iter_documents(ListQuery()) if doc.filename == source.name
            ]
        else:
            document = service.upload(source, tags=[f"round-{number}"])
        if source.stat().st_size < MULTIPART_BYTES:
            acknowledged.bodies[document.document_id] = source.read_bytes()
    elif kind == "retag":
        document = service.retag(ids[number % len(ids)], add=[f"edited-{number}"])
    elif kind == "rename":
        document = service.rename(ids[number % len(ids)], f"renamed-{number}.txt")
    else:
        deleted = service.delete(ids[number % len(ids)])
        del acknowledged.documents[deleted.document_id]
        acknowledged.bodies.pop(deleted.document_id, None)
        return deleted.document_id
    acknowledged.documents[document.document_id] = (
        document.filename,
        tuple(document.tags),
        document.checksum,
    )
    return document.document_id
