"""The sandbox's pieces that need no server: request classification, locking, body files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dms_desktop.core.errors import SandboxError
from dms_desktop.core.paths import AppPaths
from dms_desktop.sandbox import reset
from dms_desktop.sandbox.checkpoints import RequestsInFlight, SharedExclusiveLock
from dms_desktop.sandbox.middleware import is_mutation


@pytest.mark.parametrize(
    ("method", "target", "mutation"),
    [
        ("GET", "", False),
        ("HEAD", "", False),
        ("PUT", "", True),
        ("DELETE", "", True),
        ("POST", "", True),  # S3 multipart, DeleteObjects
        ("POST", "DynamoDB_20120810.Query", False),
        ("POST", "DynamoDB_20120810.GetItem", False),
        ("POST", "DynamoDB_20120810.BatchGetItem", False),
        ("POST", "DynamoDB_20120810.PutItem", True),
        ("POST", "DynamoDB_20120810.TransactWriteItems", True),
        ("POST", "AWSCognitoIdentityProviderService.InitiateAuth", True),
        ("POST", "AWSCognitoIdentityService.GetId", True),
        # Reading the table's stream changes nothing: it must not force a checkpoint.
        ("POST", "DynamoDBStreams_20120810.GetRecords", False),
        ("POST", "DynamoDBStreams_20120810.GetShardIterator", False),
        ("POST", "DynamoDBStreams_20120810.DescribeStream", False),
    ],
)
def test_is_mutation(method: str, target: str, mutation: bool) -> None:
    environ = {"REQUEST_METHOD": method}
    if target:
        environ["HTTP_X_AMZ_TARGET"] = target
    assert is_mutation(environ) is mutation


def test_exclusive_waits_for_shared_and_blocks_new_shared() -> None:
    lock = SharedExclusiveLock()
    lock.acquire_shared()
    writer_in = threading.Event()
    writer_release = threading.Event()

    def writer() -> None:
        with lock.exclusive():
            writer_in.set()
            writer_release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert not writer_in.wait(0.1)  # a reader holds it
    second_reader_in = threading.Event()

    def reader() -> None:
        lock.acquire_shared()
        second_reader_in.set()
        lock.release_shared()

    reader_thread = threading.Thread(target=reader)
    reader_thread.start()
    assert not second_reader_in.wait(0.1)  # the waiting writer goes first
    lock.release_shared()
    assert writer_in.wait(5)
    assert not second_reader_in.is_set()
    writer_release.set()
    thread.join(5)
    reader_thread.join(5)
    assert second_reader_in.is_set()


def test_exclusive_with_a_timeout_gives_up_and_lets_the_waiting_requests_go_on() -> None:
    """A checkpoint after changes waits for the requests in flight only for a moment: a
    response still being sent (a download) held every other request behind the waiting
    checkpoint, for ever when the downloading client itself waited for one of them."""
    lock = SharedExclusiveLock()
    lock.acquire_shared()  # a response still being sent
    order: list[str] = []

    def checkpoint() -> None:
        with pytest.raises(RequestsInFlight), lock.exclusive(timeout=0.2):
            order.append("checkpoint")  # never: the response is still open
        order.append("checkpoint gave up")

    def second_request() -> None:
        lock.acquire_shared()
        order.append("second request")
        lock.release_shared()

    checkpointer = threading.Thread(target=checkpoint)
    checkpointer.start()
    waiting = threading.Event()
    while not lock._writers_waiting:  # the checkpoint waits: new requests queue behind it
        waiting.wait(0.001)
    requester = threading.Thread(target=second_request)
    requester.start()
    checkpointer.join(10)
    requester.join(10)
    # Both while the first response is still open: the second request did not wait for it.
    assert sorted(order) == ["checkpoint gave up", "second request"]

    with pytest.raises(RequestsInFlight), lock.exclusive(timeout=0):
        pass
    lock.release_shared()
    with lock.exclusive(timeout=0):  # nothing in flight: held at once
        order.append("checkpoint")
    assert order[-1] == "checkpoint"


def test_reset_of_an_empty_folder_returns_none(tmp_path: Path) -> None:
    assert reset(AppPaths.resolve(tmp_path)) is None


def test_reset_moves_everything_aside_and_deletes_nothing(tmp_path: Path) -> None:
    paths = AppPaths.resolve(tmp_path)
    (paths.sandbox_dir / "bodies").mkdir(parents=True)
    (paths.sandbox_dir / "state.pickle").write_bytes(b"state")
    (paths.sandbox_dir / "bodies" / "abc").write_bytes(b"body")
    backup = reset(paths)
    assert backup is not None
    assert (backup / "state.pickle").read_bytes() == b"state"
    assert (backup / "bodies" / "abc").read_bytes() == b"body"
    assert not (paths.sandbox_dir / "state.pickle").exists()


def test_reset_refuses_while_running(tmp_path: Path) -> None:
    import filelock

    paths = AppPaths.resolve(tmp_path)
    paths.sandbox_dir.mkdir(parents=True)
    (paths.sandbox_dir / "state.pickle").write_bytes(b"state")
    with (
        filelock.FileLock(str(paths.sandbox_dir / "sandbox.lock")),
        pytest.raises(SandboxError, match="dms local stop"),
    ):
        reset(paths)
    assert (paths.sandbox_dir / "state.pickle").exists()
