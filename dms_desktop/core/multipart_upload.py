"""Multipart uploads that can be resumed part by part, after a pause, a crash or a reboot.

The file is read front to back once, one part at a time, on the calling thread (which also hashes
it, unless its SHA-256 is known already); each part is sent on a small pool of threads with its
CRC32, which S3 checks on arrival. Every part S3 confirms is noted (:class:`PartNotes`, the
journal) with its number, size, ETag and CRC32, so that an upload stopped at any point can go on
later with the parts still missing:

1. ``ListParts`` says which parts the server still has; a part is kept only if its size and ETag
   are the ones noted (or, for a part sent just before a crash and not yet noted, if its ETag is
   the MD5 of the file's bytes at that place).
2. The file is read again front to back: each kept part's bytes must still have the CRC32 noted
   when it was sent, else the file changed and :class:`SourceChanged` is raised (the caller starts
   over). Only the missing parts are sent.
3. ``CompleteMultipartUpload`` with every part's ETag and CRC32.

At most ``concurrency`` parts are in flight and one more is being read, so memory stays bounded
whatever the file's size. Stopping (cancel or pause: the token is checked as bytes go out) ends
the parts in flight; whether the multipart upload is then aborted is the caller's decision.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import threading
import zlib
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from .aws import aws_errors
from .cancellation import CancelToken, ProgressCallback
from .errors import NotFound, ValidationError

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MAX_PARTS = 10_000
LIST_PARTS_PAGE = 1000


@dataclass(frozen=True)
class StoredPart:
    """A part S3 confirmed: its number, size, ETag and CRC32 (base64, as S3 takes it)."""

    number: int
    size: int
    etag: str
    crc32: str

    def to_record(self, upload_id: str) -> dict[str, Any]:
        return {
            "upload": upload_id,
            "part": self.number,
            "size": self.size,
            "etag": self.etag,
            "crc32": self.crc32,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> StoredPart:
        return cls(
            int(record["part"]), int(record["size"]), str(record["etag"]), str(record["crc32"])
        )


def parts_of(records: list[dict[str, Any]], upload_id: str) -> dict[int, StoredPart]:
    """The parts noted for ``upload_id`` in a journal entry's records (the last note wins)."""
    parts: dict[int, StoredPart] = {}
    for record in records:
        if record.get("upload") == upload_id and "part" in record:
            try:
                part = StoredPart.from_record(record)
            except (KeyError, TypeError, ValueError):
                continue
            parts[part.number] = part
    return parts


class PartNotes(Protocol):
    """Where an upload notes its progress (the journal entry), so that it can be resumed."""

    def started(self, upload_id: str, part_size: int) -> None: ...

    def part_stored(self, upload_id: str, part: StoredPart) -> None: ...


@dataclass(frozen=True)
class ResumePoint:
    """A multipart upload begun earlier and the parts it noted."""

    upload_id: str
    part_size: int
    parts: dict[int, StoredPart]


class SourceChanged(ValidationError):
    """The file is not what the parts already sent were read from: the upload must start over."""


class UploadGone(NotFound):
    """The multipart upload to resume no longer exists on the server (aborted, expired)."""


def part_size_for(size: int, preferred: int) -> int:
    """The smallest part size >= ``preferred`` (whole MiB) that fits ``size`` in 10,000 parts."""
    needed = -(-size // MAX_PARTS)
    return max(preferred, -(-needed // MiB) * MiB)


def crc32_of(data: bytes | memoryview) -> str:
    """S3's ChecksumCRC32 of ``data``: the big-endian CRC32, base64."""
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


class Progress:
    """Bytes sent so far, reported as (done, total) from any thread; a rewind counts back."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self._callback = callback
        self._done = 0
        self._lock = threading.Lock()

    @property
    def done(self) -> int:
        return self._done

    def add(self, amount: int) -> None:
        with self._lock:
            self._done = max(0, self._done + amount)
            done = min(self._done, self.total)
        if self._callback is not None and amount:
            self._callback(done, self.total)

    def reset(self, done: int = 0) -> None:
        with self._lock:
            self._done = done
        if self._callback is not None:
            self._callback(done, self.total)


class ProgressBody(io.RawIOBase):
    """A part's bytes as a request body: counts what is sent, checks the token as it goes.

    botocore may read a body before sending it (to sign it) and reads it again on a retry. Bytes
    count only while the body is being sent (:func:`count_only_while_sending` marks when), and a
    rewind counts what was counted past the new position back: progress never counts twice."""

    def __init__(self, data: bytes, progress: Progress, cancel: CancelToken | None) -> None:
        super().__init__()
        self._data = memoryview(data)
        self._position = 0
        self._counted = 0  # bytes before this position are in the progress
        self._progress = progress
        self._cancel = cancel
        self.counting = True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._data)}
        self._position = max(0, min(len(self._data), base[whence] + offset))
        if self._position < self._counted:
            self._progress.add(self._position - self._counted)
            self._counted = self._position
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        if self._cancel is not None:
            self._cancel.raise_if_cancelled("The upload")
        end = len(self._data) if size is None or size < 0 else self._position + size
        chunk = self._data[self._position : end]
        self._position += len(chunk)
        if self.counting and self._position > self._counted:
            self._progress.add(self._position - self._counted)
            self._counted = self._position
        return bytes(chunk)

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def __len__(self) -> int:
        return len(self._data)


def count_only_while_sending(client: Any) -> None:
    """Make the :class:`ProgressBody` of ``client``'s uploads count only the bytes sent, not
    those botocore reads to sign a request (as s3transfer does for its own bodies)."""

    def not_sending(request: Any, **_: Any) -> None:
        if isinstance(request.body, ProgressBody):
            request.body.counting = False

    def sending(request: Any, **_: Any) -> None:
        if isinstance(request.body, ProgressBody):
            request.body.counting = True

    events = client.meta.events
    events.register_first("request-created.s3", not_sending, unique_id="dms-progress-off")
    events.register_last("request-created.s3", sending, unique_id="dms-progress-on")


class MultipartUpload:
    """Sends one file as a multipart upload to ``key``, new or resumed (see the module)."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        concurrency: int,
        notes: PartNotes | None,
        progress: Progress,
        cancel: CancelToken | None,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._concurrency = max(1, concurrency)
        self._notes = notes
        self._progress = progress
        self._cancel = cancel
        # Set by the caller's token, or by a failed part: the parts in flight stop at once.
        self._stop = CancelToken()
        self._unlink = cancel.on_cancel(self._stop.cancel) if cancel is not None else None
        self.upload_id: str | None = None

    def close(self) -> None:
        """Stop following the caller's token (call it when done with the upload)."""
        if self._unlink is not None:
            self._unlink()

    def start(self, headers: dict[str, str], part_size: int) -> str:
        """Begin a new multipart upload (``headers``: the object's ContentType, ...); its id is
        noted before any part is sent."""
        with aws_errors("upload the file"):
            response = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, ChecksumAlgorithm="CRC32", **headers
            )
        self.upload_id = str(response["UploadId"])
        if self._notes is not None:
            self._notes.started(self.upload_id, part_size)
        return self.upload_id

    def server_parts(self, upload_id: str) -> dict[int, tuple[int, str]]:
        """The parts the server has of ``upload_id``: number -> (size, ETag); UploadGone if the
        upload no longer exists."""
        parts: dict[int, tuple[int, str]] = {}
        request: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": self._key,
            "UploadId": upload_id,
            "MaxParts": LIST_PARTS_PAGE,
        }
        try:
            with aws_errors("look up the parts already uploaded"):
                while True:
                    response = self._client.list_parts(**request)
                    for part in response.get("Parts", []):
                        parts[int(part["PartNumber"])] = (int(part["Size"]), str(part["ETag"]))
                    marker = response.get("NextPartNumberMarker")
                    if not response.get("IsTruncated") or not marker:
                        break
                    request["PartNumberMarker"] = marker
        except NotFound as exc:
            raise UploadGone(str(exc)) from exc
        self.upload_id = upload_id
        return parts

    def send(
        self,
        file: IO[bytes],
        size: int,
        part_size: int,
        *,
        kept: dict[int, StoredPart],
        unnoted: dict[int, tuple[int, str]],
        digest: Any | None,
    ) -> list[StoredPart]:
        """Read ``file`` front to back, check the kept parts, send the others; returns every
        part in order. ``unnoted``: parts the server has that were never noted (kept if their
        ETag is the MD5 of the bytes read there). ``digest`` is updated with every byte read.
        """
        assert self.upload_id is not None
        upload_id = self.upload_id
        count = max(1, -(-size // part_size))
        parts: dict[int, StoredPart] = {}
        slots = threading.BoundedSemaphore(self._concurrency)
        pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="dms-part")
        in_flight: set[Future[StoredPart]] = set()
        try:
            for number in range(1, count + 1):
                self._stop.raise_if_cancelled("The upload")
                _raise_first_error(in_flight)
                expected = min(part_size, size - (number - 1) * part_size)
                while not slots.acquire(timeout=0.2):
                    _raise_first_error(in_flight)  # a failed part ends the wait at once
                try:
                    data = _read_exactly(file, expected)
                    if len(data) != expected:
                        raise SourceChanged(
                            f"{Path(getattr(file, 'name', 'The file')).name} is shorter than "
                            "when its upload started."
                        )
                    if digest is not None:
                        digest.update(data)
                    part = self._already_there(number, data, kept, unnoted)
                except BaseException:
                    slots.release()
                    raise
                if part is not None:
                    parts[number] = part
                    slots.release()
                    continue
                future = pool.submit(self._send_part, upload_id, number, data)
                future.add_done_callback(lambda _done: slots.release())
                in_flight.add(future)
            done, _ = wait(in_flight, return_when=FIRST_EXCEPTION)
            _raise_first_error(done)
            for future in in_flight:
                part = future.result()
                parts[part.number] = part
        except BaseException:
            self._stop.cancel()  # the parts in flight end at their next read
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [parts[number] for number in sorted(parts)]

    def _already_there(
        self,
        number: int,
        data: bytes,
        kept: dict[int, StoredPart],
        unnoted: dict[int, tuple[int, str]],
    ) -> StoredPart | None:
        noted = kept.get(number)
        if noted is not None:
            if noted.size != len(data) or crc32_of(data) != noted.crc32:
                raise SourceChanged(f"part {number} of the file is not what was sent earlier")
            return noted
        on_server = unnoted.get(number)
        if on_server is not None and on_server[0] == len(data):
            etag = on_server[1].strip('"')
            if etag == hashlib.md5(data, usedforsecurity=False).hexdigest():
                part = StoredPart(number, len(data), on_server[1], crc32_of(data))
                self._note(part)
                self._progress.add(len(data))
                return part
        return None

    def _send_part(self, upload_id: str, number: int, data: bytes) -> StoredPart:
        self._stop.raise_if_cancelled("The upload")
        checksum = crc32_of(data)
        body = ProgressBody(data, self._progress, self._stop)
        try:
            with aws_errors("upload the file"):
                response = self._client.upload_part(
                    Bucket=self._bucket,
                    Key=self._key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=body,
                    ContentLength=len(data),
                    ChecksumCRC32=checksum,
                )
        except BaseException:
            body.seek(0)  # what it had sent counts for nothing now
            raise
        part = StoredPart(number, len(data), str(response["ETag"]), checksum)
        self._note(part)
        return part

    def _note(self, part: StoredPart) -> None:
        if self._notes is not None:
            assert self.upload_id is not None
            self._notes.part_stored(self.upload_id, part)

    def complete(self, parts: list[StoredPart]) -> str | None:
        """Join the parts into the object; the S3 version made (None if the bucket keeps none)."""
        assert self.upload_id is not None
        with aws_errors("upload the file"):
            response = self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self.upload_id,
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": p.number, "ETag": p.etag, "ChecksumCRC32": p.crc32}
                        for p in parts
                    ]
                },
            )
        version_id: str | None = response.get("VersionId")
        return version_id


def _read_exactly(file: IO[bytes], amount: int) -> bytes:
    """``amount`` bytes, or fewer only at the end of the file (short reads are read on)."""
    chunks = [file.read(amount)]
    missing = amount - len(chunks[0])
    while missing > 0 and chunks[-1]:
        chunks.append(file.read(missing))
        missing -= len(chunks[-1])
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _raise_first_error(futures: set[Future[StoredPart]]) -> None:
    for future in futures:
        if future.done() and not future.cancelled():
            error = future.exception()
            if error is not None:
                raise error


def file_grew(file: IO[bytes], size: int) -> int | None:
    """The file's size now if it is no longer ``size`` (read to its end once), else None."""
    now = os.fstat(file.fileno()).st_size
    if now != size or file.read(1):
        return max(now, size + 1)
    return None
