"""Checkpoints into the state database (issue 20): a checkpoint writes what changed, a kill -9
during or right after one loses no acknowledged write, and a folder an earlier version saved
(``state.pickle`` and its log) opens and is migrated."""

from __future__ import annotations

import json
import os
import pickle
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core.aws import route_endpoint
from dms_desktop.core.paths import AppPaths
from dms_desktop.sandbox import SandboxInfo
from dms_desktop.sandbox.connection import KeyedRoute
from dms_desktop.sandbox.control import health
from dms_desktop.sandbox.info import INFO_FILE, LEGACY_STATE_FILE, STATE_FILE, WAL_DIR
from dms_desktop.sandbox.persistence import clear_backends
from dms_desktop.sandbox.provisioning import sandbox_client
from dms_desktop.sandbox.state_store import StateStore
from dms_desktop.sandbox.wal import WriteAheadLog
from tests.integration.test_sandbox_server import running, wait_for
from tests.support.legacy_state import write_legacy_state

pytestmark = pytest.mark.server

# A sandbox server whose checkpoints come every fraction of a second under continuous writes,
# so that a kill lands during one or right after one.
_FREQUENT_CHECKPOINTS = """
import sys
from dms_desktop.sandbox import checkpoints
checkpoints.CHECKPOINT_QUIET_SECONDS = 0.05
checkpoints.CHECKPOINT_MAX_DELAY_SECONDS = 0.2
from dms_desktop.sandbox.__main__ import main
sys.exit(main(["serve", "--sandbox-dir", sys.argv[1]]))
"""


def _item(number: int, text: str = "") -> dict[str, Any]:
    return {
        "userId": {"S": "user-1"},
        "documentId": {"S": f"doc-{number:06d}"},
        "filename": {"S": text or f"file {number:06d}.txt"},
    }


def _table_items(info: SandboxInfo) -> dict[str, str]:
    dynamodb = sandbox_client(info.endpoint_url, "dynamodb", None)
    try:
        found: dict[str, str] = {}
        for page in dynamodb.get_paginator("scan").paginate(TableName=info.table):
            for item in page["Items"]:
                found[item["documentId"]["S"]] = item["filename"]["S"]
        return found
    finally:
        dynamodb.close()


def _saved(info: SandboxInfo) -> bool:
    status = health(info)
    return status is not None and status["saved_generation"] == status["generation"]


def test_a_checkpoint_after_one_change_writes_that_change_only(tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path)
    with running(paths) as info:
        dynamodb = sandbox_client(info.endpoint_url, "dynamodb", None)
        try:
            for start in range(0, 300, 25):
                dynamodb.batch_write_item(
                    RequestItems={
                        info.table: [
                            {"PutRequest": {"Item": _item(number)}}
                            for number in range(start, start + 25)
                        ]
                    }
                )
            wait_for(lambda: _saved(info))
            database = sqlite3.connect(paths.sandbox_dir / STATE_FILE)
            before = dict(database.execute("SELECT address, image FROM entries"))
            database.close()

            dynamodb.put_item(TableName=info.table, Item=_item(7, "renamed.txt"))
            wait_for(lambda: _saved(info))
            status = health(info)
            assert status is not None
            assert status["last_checkpoint_entries"] == 1
        finally:
            dynamodb.close()
    database = sqlite3.connect(paths.sandbox_dir / STATE_FILE)
    after = dict(database.execute("SELECT address, image FROM entries"))
    database.close()
    changed = {address for address in after if after[address] != before.get(address)}
    assert [json.loads(address)[-1] for address in changed] == [["S", "doc-000007"]]
    with running(paths) as info:
        items = _table_items(info)
    assert items["doc-000007"] == "renamed.txt"
    assert len([name for name in items if name.startswith("doc-")]) == 300


@pytest.fixture
def frequent_checkpoints(tmp_path: Path) -> Iterator[Any]:
    """Starts (and at the end kills) sandbox servers with frequent checkpoints."""
    sandbox_dir = tmp_path / "sandbox"
    sandbox_dir.mkdir(mode=0o700)
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> SandboxInfo:
        info_path = sandbox_dir / INFO_FILE
        info_path.unlink(missing_ok=True)
        process = subprocess.Popen(
            [sys.executable, "-c", _FREQUENT_CHECKPOINTS, str(sandbox_dir)],
            stderr=(tmp_path / "sandbox.log").open("ab"),
        )
        processes.append(process)
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "sandbox.log").read_text()
            assert time.monotonic() < deadline, "the sandbox did not start"
            if info_path.exists():
                info = SandboxInfo.from_json(info_path.read_text(encoding="utf-8"))
                if health(info) is not None:
                    route_endpoint(info.endpoint_url, KeyedRoute(info.key))
                    return info
            time.sleep(0.05)  # polling for the server's info file

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(30)


def _kill_9(info: SandboxInfo, process_wait: float = 30) -> None:
    os.kill(info.pid, signal.SIGKILL)
    deadline = time.monotonic() + process_wait
    while True:
        try:
            os.kill(info.pid, 0)
        except ProcessLookupError:
            return
        with_child = False
        try:
            pid, _status = os.waitpid(info.pid, os.WNOHANG)
            with_child = pid == info.pid
        except ChildProcessError:
            pass
        if with_child:
            return
        assert time.monotonic() < deadline, "the killed sandbox did not go away"
        time.sleep(0.01)  # polling for the process to be gone


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_during_and_right_after_checkpoints_loses_no_acknowledged_write(
    frequent_checkpoints: Any,
) -> None:
    acknowledged: dict[str, str] = {}  # document id -> its name, as last acknowledged
    in_flight: dict[str, str] = {}  # sent, answer not seen: may or may not be kept
    number = 0
    for round_number in range(6):
        info = frequent_checkpoints()
        kept = _table_items(info)
        lost = {
            key: (name, kept.get(key))
            for key, name in acknowledged.items()
            if kept.get(key) not in (name, in_flight.get(key))  # a later write may be kept
        }
        assert lost == {}, f"round {round_number}: acknowledged writes lost"
        unexpected = {
            key: name
            for key, name in kept.items()
            if key.startswith("doc-")
            and acknowledged.get(key) != name
            and in_flight.get(key) != name
        }
        assert unexpected == {}, f"round {round_number}: writes nobody sent"
        acknowledged.update({key: name for key, name in kept.items() if key.startswith("doc-")})
        in_flight.clear()

        stop = threading.Event()
        errors: list[BaseException] = []

        def write(
            info: SandboxInfo = info,
            stop: threading.Event = stop,
            errors: list[BaseException] = errors,
        ) -> None:
            nonlocal number
            dynamodb = sandbox_client(
                info.endpoint_url, "dynamodb", None, retries={"total_max_attempts": 1}
            )
            try:
                while not stop.is_set():
                    number += 1
                    target = number if number % 3 else number // 2  # new items and rewrites
                    key, name = f"doc-{target:06d}", f"name {number}"
                    in_flight[key] = name
                    dynamodb.put_item(TableName=info.table, Item=_item(target, name))
                    acknowledged[key] = name
                    del in_flight[key]
            except Exception as exc:  # noqa: BLE001 (the kill: a broken connection)
                if not stop.is_set():
                    errors.append(exc)
            finally:
                dynamodb.close()

        writer = threading.Thread(target=write)
        writer.start()
        if round_number % 2:  # right after a checkpoint
            status = health(info)
            assert status is not None
            checkpoints = status["checkpoints"]
            wait_for(lambda: (health(info) or {}).get("checkpoints", 0) > checkpoints)  # noqa: B023
        else:  # at any moment, most likely during one (they follow each other)
            time.sleep(random.uniform(0.3, 1.0))
        stop.set()
        _kill_9(info)
        writer.join(30)
        assert not writer.is_alive()
        assert errors == []
    info = frequent_checkpoints()
    kept = _table_items(info)
    lost = {
        key: (name, kept.get(key))
        for key, name in acknowledged.items()
        if kept.get(key) not in (name, in_flight.get(key))
    }
    assert lost == {}
    assert len(acknowledged) > 50  # the rounds wrote something
    _kill_9(info)


def test_a_folder_of_an_earlier_version_is_migrated_at_its_first_start(tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path)
    with running(paths) as info:
        dynamodb = sandbox_client(info.endpoint_url, "dynamodb", None)
        s3 = sandbox_client(info.endpoint_url, "s3", None)
        try:
            for number in range(20):
                dynamodb.put_item(TableName=info.table, Item=_item(number))
            s3.put_object(Bucket=info.bucket, Key="private/user-1/kept", Body=b"kept body")
        finally:
            dynamodb.close()
            s3.close()
    # The folder as an earlier version left it: state.pickle, and a log record (of that
    # version's format) of a change made after it.
    store = StateStore(paths.sandbox_dir)
    loaded = store.load()
    store.close()
    assert loaded is not None
    for leftover in paths.sandbox_dir.glob(STATE_FILE + "*"):
        leftover.unlink()
    wal = WriteAheadLog(paths.sandbox_dir / WAL_DIR)
    wal.start()
    segment = wal.segment
    write_legacy_state(paths.sandbox_dir, loaded.resources, True, segment)
    renamed_record = _legacy_rename_record(loaded.resources.table, 3, "renamed in the log.txt")
    with wal.lock:
        ticket = wal.append_locked(renamed_record)
    wal.wait_durable(ticket)
    wal.close()
    clear_backends()
    assert not (paths.sandbox_dir / STATE_FILE).exists()

    with running(paths) as info:
        items = _table_items(info)
        s3 = sandbox_client(info.endpoint_url, "s3", None)
        try:
            body = s3.get_object(Bucket=info.bucket, Key="private/user-1/kept")["Body"].read()
        finally:
            s3.close()
    assert items["doc-000003"] == "renamed in the log.txt"
    assert {f"doc-{number:06d}" for number in range(20)} <= set(items)
    assert body == b"kept body"
    assert (paths.sandbox_dir / STATE_FILE).exists()
    assert not (paths.sandbox_dir / LEGACY_STATE_FILE).exists()
    with running(paths) as info:  # and from the database alone, the next time
        assert _table_items(info) == items


def _legacy_rename_record(table_name: str, number: int, name: str) -> bytes:
    """A log record as versions before the state database wrote them: a pickled list of
    (address, after-image), the images pickled with the rest."""
    from moto.dynamodb.models import dynamodb_backends

    for account, region, backend in dynamodb_backends.iter_backends():
        table = backend.tables.get(table_name)  # type: ignore[attr-defined]
        if table is None:
            continue
        for partition in table.items.values():
            for range_key, item in partition.items():
                if range_key.value == f"doc-{number:06d}":
                    item.attrs["filename"].value = name
                    address = ("dynamodb", account, region, table_name, item.hash_key, range_key)
                    return pickle.dumps([(address, item)])
    raise AssertionError("no such item")
