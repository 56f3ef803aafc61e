"""Verified downloads of document bodies that continue where they stopped.

A download is one streamed GET (ranged multipart GETs are very slow on moto, see findings) into a
hidden partial file beside the target (``.NAME.XXXX.dms-partial``, made with ``mkstemp``), moved
into place only once its size and SHA-256 match the document's metadata; an existing file is never
replaced unless asked. A stream that breaks is continued with a ranged GET (``Range`` from the
bytes written, ``If-Match`` on the object's ETag, so a changed object is never mixed in).

The same holds across runs: a download given a :class:`PartialDownload` (its partial file and the
ETag its bytes came from, kept in the journal) hashes the bytes already written and asks only for
the rest. If the object changed meanwhile (the ETag no longer matches) it starts over, and a
resumed file that fails its checksum is downloaded once more from the start before anything is
called damaged: the checksum is always over the whole file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError

from .aws import aws_errors, error_code, translate
from .cancellation import CancelToken, ProgressCallback
from .errors import IntegrityError, TargetExists, Unavailable, ValidationError
from .localfiles import PARTIAL_SUFFIX, partial_file_prefix

log = logging.getLogger(__name__)

MiB = 1024 * 1024
DOWNLOAD_CHUNK = MiB
DOWNLOAD_ATTEMPTS = 3
WRITE_AHEAD_CHUNKS = 16  # received chunks waiting for the disk, at most
SYNC_EVERY = 32 * MiB  # a download's bytes forced to disk as it goes, not all at the end
HASH_CHUNK = 4 * MiB


@dataclass(frozen=True)
class PartialDownload:
    """A download begun earlier: its partial file and the ETag of the object its bytes are of."""

    path: Path
    etag: str | None


class DownloadNotes(Protocol):
    """Where a download notes what a resume needs (the journal entry)."""

    def partial_made(self, path: Path) -> None: ...

    def etag_seen(self, etag: str) -> None: ...


class StartedGet:
    """A GetObject sent on a thread of its own, so that its round trip overlaps other work.

    :meth:`BlobStore.download` reads its body; :meth:`close` (always call it) waits for the
    request and drops a body nobody read."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self.key = key
        self._request = {"Bucket": bucket, "Key": key}
        self._client = client
        self._response: dict[str, Any] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._send, name="dms-get-object", daemon=True)
        self._thread.start()

    def _send(self) -> None:
        try:
            self._response = self._client.get_object(**self._request)
        except Exception as exc:  # noqa: BLE001 (handed to the reader, which decides what it means)
            self._error = exc

    def response(self) -> dict[str, Any]:
        """The response (its body not read yet); the request's error if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._response is not None
        return self._response

    def close(self) -> None:
        self._thread.join()
        if self._response is not None:
            self._response["Body"].close()


class _DiskWriter:
    """Writes and hashes a download's chunks on a thread of its own, so that the disk and the
    SHA-256 keep pace with the network instead of taking turns with it. Every ``SYNC_EVERY``
    bytes it forces what it wrote to disk, so the fsync before the move has little left to do.
    """

    def __init__(self, out: IO[bytes], digest: Any) -> None:
        self._out = out
        self._digest = digest
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=WRITE_AHEAD_CHUNKS)
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="dms-download-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        unsynced = 0
        while (chunk := self._chunks.get()) is not None:
            if self._error is not None:
                continue  # keep taking chunks: the receiving side must never block on a dead end
            try:
                self._out.write(chunk)
                self._digest.update(chunk)
                unsynced += len(chunk)
                if unsynced >= SYNC_EVERY:
                    self._out.flush()
                    os.fsync(self._out.fileno())
                    unsynced = 0
            except Exception as exc:  # noqa: BLE001 (raised on the receiving side, see write)
                self._error = exc

    def write(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._chunks.put(chunk)

    def finish(self) -> str:
        """Wait until every chunk is written and on disk; returns their SHA-256 (hex)."""
        self.stop()
        if self._error is not None:
            raise self._error
        self._out.flush()
        os.fsync(self._out.fileno())
        return str(self._digest.hexdigest())

    def stop(self) -> None:
        """Write what is queued, then end the thread (also after a failure)."""
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()


class VerifiedDownload:
    """One download of ``key`` to ``target`` (see the module docstring)."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        target: Path,
        *,
        expected_size: int,
        expected_checksum: str,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        notes: DownloadNotes | None,
        version_id: str | None = None,
    ) -> None:
        self._client = client
        self._version = {"VersionId": version_id} if version_id else {}
        self._bucket = bucket
        self._key = key
        self._target = target
        self._size = expected_size
        self._checksum = expected_checksum
        self._progress = progress
        self._cancel = cancel
        self._notes = notes
        self.etag: str | None = None

    def run(
        self, overwrite: bool, started: StartedGet | None, resume: PartialDownload | None
    ) -> Path:
        target = self._target
        if target.exists() and not overwrite:
            raise TargetExists(
                f"{target} already exists; choose another name or allow overwriting."
            )
        if not target.parent.is_dir():
            raise ValidationError(f"The folder {target.parent} does not exist.")
        partial = resume.path if resume is not None and resume.path.is_file() else None
        if partial is None:
            partial = self._new_partial_file()
            resume = None
        try:
            self._fill(partial, resume, started)
            _move_into_place(partial, target, overwrite)
        except BaseException:
            if self._notes is None:  # else the caller decides whether to keep it for a resume
                partial.unlink(missing_ok=True)
            raise
        return target

    def _new_partial_file(self) -> Path:
        handle, name = tempfile.mkstemp(
            dir=self._target.parent,
            prefix=partial_file_prefix(self._target.name),
            suffix=PARTIAL_SUFFIX,
        )
        os.close(handle)
        path = Path(name)
        if self._notes is not None:
            try:
                self._notes.partial_made(path)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        return path

    def _fill(
        self, partial: Path, resume: PartialDownload | None, started: StartedGet | None
    ) -> None:
        """Make ``partial`` the whole, verified body (continuing the bytes it has if resumed)."""
        have = partial.stat().st_size if resume is not None else 0
        if have > self._size or (have and not resume.etag):  # type: ignore[union-attr]
            have = 0  # not bytes of this object: start over
        self.etag = resume.etag if resume is not None and have else None
        digest = self._write(partial, have, started if not have else None)
        if digest == self._checksum and partial.stat().st_size == self._size:
            return
        if have:
            # The bytes kept from before may be what is wrong (a power cut can leave garbage at
            # a file's end): read the whole body once more before calling it damaged.
            log.warning("a resumed download of %s failed its checksum; starting over", self._key)
            self.etag = None
            digest = self._write(partial, 0, None)
            if digest == self._checksum and partial.stat().st_size == self._size:
                return
        written = partial.stat().st_size
        again = self._read_again()
        if again == self._checksum:  # right the second time: it was the way here
            raise IntegrityError(DAMAGED_ON_THE_WAY)
        raise IntegrityError(
            f"The stored file does not match its checksum (got {written} bytes, expected "
            f"{self._size}); it was changed or damaged on the server. Nothing was written. "
            f"{STORED_COPY_BAD}"
        )

    def _write(self, partial: Path, have: int, started: StartedGet | None) -> str:
        """Append the body from byte ``have`` on to ``partial``; the SHA-256 of the whole."""
        while True:
            digest = hashlib.sha256()
            with partial.open("r+b") as out:
                if have:
                    _hash_start(out, have, digest, self._cancel)
                out.seek(have)
                out.truncate()
                writer = _DiskWriter(out, digest)
                try:
                    done = self._stream_into(writer, have, started)
                finally:
                    writer.stop()
                if done >= 0:
                    return writer.finish()
            have, started = 0, None  # the object changed since the kept bytes: start over
            self.etag = None

    def _stream_into(self, out: _DiskWriter, have: int, started: StartedGet | None) -> int:
        """Stream the body from byte ``have`` into ``out``; -1 if the object is no longer the
        one the first ``have`` bytes came from."""
        done = have
        if done and done == self._size:
            self._report(done)
            return done
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            request: dict[str, Any] = {"Bucket": self._bucket, "Key": self._key, **self._version}
            if done:
                request["Range"] = f"bytes={done}-"
                request["IfMatch"] = self.etag
            try:
                with aws_errors("download the file"):
                    try:
                        if started is not None and attempt == 1:
                            response = started.response()
                        else:
                            response = self._client.get_object(**request)
                    except ClientError as exc:
                        if done and _object_changed(exc):
                            log.info(
                                "%s changed since its download began; starting over", self._key
                            )
                            return -1
                        raise
                etag = response.get("ETag")
                if etag and etag != self.etag:
                    self.etag = etag
                    if self._notes is not None:
                        self._notes.etag_seen(etag)
                self._report(done)
                for chunk in response["Body"].iter_chunks(DOWNLOAD_CHUNK):
                    if self._cancel is not None:
                        self._cancel.raise_if_cancelled("The download")
                    out.write(chunk)
                    done += len(chunk)
                    self._report(done)
                return done
            except FlexibleChecksumError as exc:
                # botocore's CRC check of the stream: the bytes written so far are not the
                # stored ones, so resuming after them cannot help. Read it once more to tell a
                # copy damaged on the way from one damaged where it is stored.
                if self._read_again() == CRC_FAILED:
                    raise IntegrityError(
                        "The stored file is damaged: it fails the checksum it was stored with, "
                        f"each time it is read. Nothing was written. {STORED_COPY_BAD}"
                    ) from exc
                raise IntegrityError(DAMAGED_ON_THE_WAY) from exc
            except (BotoCoreError, OSError) as exc:
                if isinstance(exc, OSError) and not _is_network_error(exc):
                    raise
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise translate(exc, "download the file") from exc
                log.warning(
                    "download of %s broke after %d bytes, resuming: %r", self._key, done, exc
                )
        raise Unavailable("Could not download the file.")  # unreachable: the loop returns

    def _report(self, done: int) -> None:
        if self._progress is not None:
            self._progress(min(done, self._size), self._size)

    def _read_again(self) -> str | None:
        return read_again(self._client, self._bucket, self._key, self._version.get("VersionId"))


def read_again(client: Any, bucket: str, key: str, version_id: str | None = None) -> str | None:
    """The SHA-256 of the object read once more from the start (nothing written), to tell
    damage on the way from damage where it is stored; ``CRC_FAILED`` if it fails its CRC
    again, None if it cannot be read now."""
    digest = hashlib.sha256()
    try:
        version = {"VersionId": version_id} if version_id else {}
        response = client.get_object(Bucket=bucket, Key=key, **version)
        for chunk in response["Body"].iter_chunks(DOWNLOAD_CHUNK):
            digest.update(chunk)
    except FlexibleChecksumError:
        return CRC_FAILED
    except (ClientError, BotoCoreError, OSError) as exc:
        log.warning("could not read %s again to check it: %r", key, exc)
        return None
    return digest.hexdigest()


def _hash_start(file: IO[bytes], length: int, digest: Any, cancel: CancelToken | None) -> None:
    """Feed the first ``length`` bytes of ``file`` (kept from before) to ``digest``."""
    file.seek(0)
    left = length
    while left > 0:
        if cancel is not None:
            cancel.raise_if_cancelled("The download")
        chunk = file.read(min(HASH_CHUNK, left))
        if not chunk:
            break
        digest.update(chunk)
        left -= len(chunk)


def _object_changed(exc: ClientError) -> bool:
    return error_code(exc) in {"PreconditionFailed", "412", "InvalidRange", "416"}


def _is_network_error(exc: OSError) -> bool:
    return isinstance(exc, ConnectionError | TimeoutError)


def _move_into_place(temp: Path, target: Path, overwrite: bool) -> None:
    if overwrite:
        temp.replace(target)
        return
    try:
        os.link(temp, target)  # fails if target exists: no check-then-replace race
    except FileExistsError as exc:
        raise TargetExists(
            f"{target} already exists; choose another name or allow overwriting."
        ) from exc
    except OSError:
        # No hard links on this filesystem (FAT, some network shares).
        if target.exists():
            raise TargetExists(f"{target} already exists; choose another name.") from None
        temp.replace(target)
        return
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()


CRC_FAILED = "crc-failed"
DAMAGED_ON_THE_WAY = (
    "The file was damaged on the way from the server (its checksum did not match, and it did "
    "when read again); nothing was written. Try again."
)
STORED_COPY_BAD = (
    "Downloading it again will not help; `dms admin check --verify-checksums` lists the stored "
    "files that no longer match their checksum."
)
