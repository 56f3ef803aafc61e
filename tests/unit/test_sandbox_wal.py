"""The sandbox's write-ahead log on its own: framing, torn tails, segments, group commit."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from dms_desktop.core.errors import SandboxError
from dms_desktop.sandbox import wal as wal_module
from dms_desktop.sandbox.wal import WriteAheadLog


@pytest.fixture
def log(tmp_path: Path) -> WriteAheadLog:
    opened = WriteAheadLog(tmp_path / "wal")
    opened.start()
    yield opened
    opened.close()


def append(log: WriteAheadLog, payload: bytes) -> int:
    with log.lock:
        return log.append_locked(payload)


def test_records_come_back_in_order_from_the_segment_asked_for(log: WriteAheadLog) -> None:
    append(log, b"one")
    append(log, b"")
    first = log.segment
    log.wait_durable(append(log, b"two"))
    with log.lock:
        second = log.rotate_locked()
    append(log, b"three" * 1000)
    log.close()

    assert list(log.read(first)) == [b"one", b"", b"two", b"three" * 1000]
    assert list(log.read(second)) == [b"three" * 1000]
    log.remove_before(second)
    assert log.segments() == [second]


def test_a_new_log_continues_after_the_existing_segments(tmp_path: Path) -> None:
    first = WriteAheadLog(tmp_path / "wal")
    first.start()
    append(first, b"before the restart")
    first.close()

    again = WriteAheadLog(tmp_path / "wal")
    again.start()
    append(again, b"after it")
    again.close()

    assert again.segment == first.segment + 1
    assert list(again.read(first.segment)) == [b"before the restart", b"after it"]


@pytest.mark.parametrize("cut", [1, 4, 8, 9, 20])
def test_a_record_cut_short_by_a_crash_is_ignored_with_what_follows(
    log: WriteAheadLog, cut: int, caplog: pytest.LogCaptureFixture
) -> None:
    append(log, b"acknowledged")
    append(log, b"x" * 20)  # its fsync never finished: the server died while writing it
    log.close()
    (path,) = log.directory.iterdir()
    path.write_bytes(path.read_bytes()[:-cut])

    with caplog.at_level(logging.WARNING):
        assert list(log.read(0)) == [b"acknowledged"]
    assert "not a whole record" in caplog.text


def test_a_damaged_record_ends_the_segment(log: WriteAheadLog) -> None:
    append(log, b"good")
    append(log, b"damaged")
    append(log, b"after")
    log.close()
    (path,) = log.directory.iterdir()
    data = bytearray(path.read_bytes())
    data[data.index(b"damaged")] ^= 0xFF
    path.write_bytes(bytes(data))

    assert list(log.read(0)) == [b"good"]


def test_writers_waiting_together_share_one_fsync(
    log: WriteAheadLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    synced: list[int] = []
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        synced.append(fd)
        if len(synced) == 1:
            release.wait(10)  # the first sync is slow: the others queue behind it
        real_fsync(fd)

    monkeypatch.setattr(wal_module.os, "fsync", slow_fsync)
    tickets = [append(log, b"first")]
    threads = [threading.Thread(target=log.wait_durable, args=(tickets[0],))]
    threads[0].start()
    while not synced:
        time.sleep(0.001)  # polling for the first sync to have started
    for number in range(4):
        ticket = append(log, f"next {number}".encode())
        threads.append(threading.Thread(target=log.wait_durable, args=(ticket,)))
        threads[-1].start()
    release.set()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()

    assert len(synced) == 2  # one for the first record, one for the four behind it


def test_after_a_failed_fsync_nothing_is_acknowledged_again(
    log: WriteAheadLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(wal_module.os, "fsync", failing_fsync)
    with pytest.raises(SandboxError, match="Input/output error"):
        log.wait_durable(append(log, b"lost"))
    monkeypatch.undo()
    with pytest.raises(SandboxError, match="could not save a change"):
        log.wait_durable(append(log, b"after"))


def test_records_before_a_rotation_are_durable_once_a_later_writer_is(
    log: WriteAheadLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rotation syncs nothing while requests are held; a writer's group sync after it covers
    the old segment's records too, not only the new segment's."""
    log.prepare_next()
    first = append(log, b"before the rotation")
    with log.lock:
        log.rotate_locked()
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    second = append(log, b"after the rotation")
    log.wait_durable(second)
    assert len(synced) == 2  # the old segment's file and the new one's
    log.wait_durable(first)  # already durable: no further sync
    assert len(synced) == 2
    log.sync_retired()
    log.close()
    assert list(log.read(0)) == [b"before the rotation", b"after the rotation"]
