"""Document bodies in S3: uploads through s3transfer, verified downloads, deletes.

Uploads read the local file exactly once. A small file (up to ``single_request_limit``) is read
into memory, hashed and sent in one PutObject on the caller's thread: a transfer manager's thread
pool and hand-offs cost more than such a request (progress is reported once, when it is stored).
A larger one goes through s3transfer, front to back through a non-seekable reader: the SHA-256
of what was actually sent is computed on the way (s3transfer then keeps each part in memory for
retries, so nothing is read twice). When the caller hashed the file already (the duplicate check
of an upload plan) and the file is unchanged since, before and after sending, that checksum is
used and the file is not hashed again. Multipart above a threshold, with part sizes that respect
S3's 10,000-part limit. Cancelling aborts the transfer; s3transfer aborts the multipart upload,
so no object and no dangling upload is left.

Deletes of many bodies go in batches (:meth:`BlobStore.delete_many`, DeleteObjects).

Downloads are one streamed GET (ranged multipart GETs are very slow on moto, see findings) into a
temporary file beside the target, resumed with a Range request if the stream breaks, and moved
into place only after size and checksum match; an existing file is never replaced unless asked.
The GET may be started early (:meth:`BlobStore.start_get`), while the caller still reads the
metadata it is checked against.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError
from s3transfer.exceptions import CancelledError as TransferCancelled
from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.subscribers import BaseSubscriber

from .aws import aws_errors, error_code, is_loopback, translate
from .batches import BODY_BATCH, BatchOutcome
from .cancellation import CancelToken, ProgressCallback
from .errors import (
    Cancelled,
    DmsError,
    IntegrityError,
    NotFound,
    TargetExists,
    Unavailable,
    ValidationError,
)
from .localfiles import PARTIAL_SUFFIX, HashedFile, partial_file_prefix

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MAX_PARTS = 10_000
DOWNLOAD_CHUNK = MiB
DOWNLOAD_ATTEMPTS = 3
WRITE_AHEAD_CHUNKS = 16  # received chunks waiting for the disk, at most
SYNC_EVERY = 32 * MiB  # a download's bytes forced to disk as it goes, not all at the end


@dataclass(frozen=True)
class TransferSettings:
    multipart_threshold: int = 16 * MiB
    part_size: int = 16 * MiB
    concurrency: int = 8  # parts in flight at once
    # Files up to this size are sent in one request from memory, without s3transfer; their
    # progress jumps from 0 to done, so keep it small enough to take about a second at most.
    single_request_limit: int = 4 * MiB

    @classmethod
    def for_endpoint(cls, endpoint_url: str | None) -> TransferSettings:
        """Two parts in flight on this machine's loopback (the local sandbox), eight elsewhere.

        Over a network more parts in flight hide each request's round trip. On the loopback
        the app and the sandbox server share the machine's CPUs, and two parts already keep the
        server busy: a 1 GB upload ran at 161-175 MB/s with two, 151-171 with eight, and six
        fewer threads took turns with the window for the CPU and the interpreter lock (its
        worst stalls 22-30 ms with two, 55-82 ms with eight, on 2 cores)."""
        return cls(concurrency=2) if is_loopback(endpoint_url) else cls()


@dataclass(frozen=True)
class StoredBody:
    size: int
    checksum: str  # SHA-256, lower-case hex


def part_size_for(size: int, preferred: int) -> int:
    """The smallest part size >= ``preferred`` (whole MiB) that fits ``size`` in 10,000 parts."""
    needed = -(-size // MAX_PARTS)
    return max(preferred, -(-needed // MiB) * MiB)


class _SendingReader:
    """Hands s3transfer the file front to back once, counting the bytes and, unless the checksum
    is known already, hashing them.

    Each read is whole (``amount`` bytes) until the end of the file, and the first short read is
    the end for good: s3transfer makes a part of each read, and a file that grew after its end
    was reached would have given a short part in the middle, which S3 refuses at the very end
    (EntityTooSmall). The upload then notices the change itself (see ``BlobStore.upload``)."""

    def __init__(self, file: IO[bytes], cancel: CancelToken | None, hashing: bool) -> None:
        self._file = file
        self._cancel = cancel
        self._hash = hashlib.sha256() if hashing else None
        self._at_end = False
        self.bytes_read = 0

    def read(self, amount: int = -1) -> bytes:
        if self._cancel is not None:
            self._cancel.raise_if_cancelled("The upload")
        if self._at_end:
            return b""
        if amount is None or amount < 0:
            data = self._file.read()
            self._at_end = True
        else:
            chunks = [self._file.read(amount)]
            missing = amount - len(chunks[0])
            while missing > 0 and chunks[-1]:  # a short read before the end: read on
                chunks.append(self._file.read(missing))
                missing -= len(chunks[-1])
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            self._at_end = len(data) < amount
        if self._hash is not None:
            self._hash.update(data)
        self.bytes_read += len(data)
        return data

    def seekable(self) -> bool:
        return False

    def hexdigest(self) -> str:
        assert self._hash is not None, "a reader of a file with a known checksum does not hash"
        return self._hash.hexdigest()


class _ProgressSubscriber(BaseSubscriber):
    def __init__(self, total: int, callback: ProgressCallback) -> None:
        self._total = total
        self._done = 0
        self._callback = callback

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        # Counts go negative when a retry rewinds a part; never report below zero.
        self._done = max(0, self._done + bytes_transferred)
        self._callback(min(self._done, self._total), self._total)


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

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._digest = hashlib.sha256()
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
        return self._digest.hexdigest()

    def stop(self) -> None:
        """Write what is queued, then end the thread (also after a failure)."""
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()


class BlobStore:
    """The bucket's objects, through one S3 client (thread-safe)."""

    def __init__(self, client: Any, bucket: str, settings: TransferSettings | None = None) -> None:
        self._client = client
        self._bucket = bucket
        self._settings = settings or TransferSettings()
        # key -> who wants the id of the multipart upload started for it (the journal)
        self._multipart_watchers: dict[str, Callable[[str], None]] = {}
        client.meta.events.register(
            "after-call.s3.CreateMultipartUpload",
            self._on_multipart_created,
            unique_id=f"dms-multipart-watch-{id(self)}",
        )

    def _on_multipart_created(self, parsed: dict[str, Any], **_: Any) -> None:
        watcher = self._multipart_watchers.get(str(parsed.get("Key", "")))
        if watcher is not None and parsed.get("UploadId"):
            watcher(str(parsed["UploadId"]))

    @property
    def bucket(self) -> str:
        return self._bucket

    def upload(
        self,
        source: Path,
        key: str,
        content_type: str,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        on_multipart_started: Callable[[str], None] | None = None,
        content: HashedFile | None = None,
    ) -> StoredBody:
        """Store ``source`` at ``key``; returns the size and checksum of what was sent.

        ``on_multipart_started`` gets the upload id when a multipart upload begins, so that a
        crash can be cleaned up later (users may abort their uploads but not list them).
        ``content``: the file's checksum computed earlier; used if the file is unchanged since."""
        known = content if content is not None and content.is_unchanged(source) else None
        size = known.size if known is not None else source.stat().st_size
        settings = self._settings
        if size <= min(settings.single_request_limit, settings.multipart_threshold - 1):
            stored = self._put_whole(source, key, content_type, size, cancel, known)
            if progress is not None:
                progress(size, size)
            if cancel is not None and cancel.cancelled:
                self.delete(key)
                raise Cancelled("The upload was cancelled.")
            return stored
        config = TransferConfig(
            multipart_threshold=settings.multipart_threshold,
            multipart_chunksize=part_size_for(size, settings.part_size),
            max_request_concurrency=settings.concurrency,
        )
        manager = TransferManager(self._client, config)
        if on_multipart_started is not None:
            self._multipart_watchers[key] = on_multipart_started
        try:
            with source.open("rb") as file:
                reader = _SendingReader(file, cancel, hashing=known is None)
                subscribers: list[BaseSubscriber] = [_SizeHint(size)]
                if progress is not None:
                    subscribers.append(_ProgressSubscriber(size, progress))
                future = manager.upload(
                    cast(IO[bytes], reader),
                    self._bucket,
                    key,
                    extra_args={"ContentType": content_type},
                    subscribers=subscribers,
                )
                unregister = cancel.on_cancel(future.cancel) if cancel else None
                try:
                    _wait_for(future, "upload the file")
                except DmsError as exc:
                    if not _is_entity_too_small(exc.__cause__):
                        raise
                    # Only a file that changed under the reader gives a short middle part.
                    size_now = os.fstat(file.fileno()).st_size
                    raise _changed_while_uploading(source, size, size_now) from exc
                finally:
                    if unregister is not None:
                        unregister()
                size_now = os.fstat(file.fileno()).st_size  # grown after its end was read?
        finally:
            manager.shutdown()
            self._multipart_watchers.pop(key, None)
        if cancel is not None and cancel.cancelled:
            self.delete(key)
            raise Cancelled("The upload was cancelled.")
        changed = known is not None and not known.is_unchanged(source)
        if reader.bytes_read != size or size_now != size or changed:
            self.delete(key)
            raise _changed_while_uploading(source, size, max(reader.bytes_read, size_now))
        return StoredBody(size, known.checksum if known is not None else reader.hexdigest())

    def _put_whole(
        self,
        source: Path,
        key: str,
        content_type: str,
        size: int,
        cancel: CancelToken | None,
        known: HashedFile | None,
    ) -> StoredBody:
        """Send a small file in one PutObject; its bytes are read once, into memory, and hashed
        there unless ``known`` says the checksum of this very content."""
        if cancel is not None:
            cancel.raise_if_cancelled("The upload")
        with source.open("rb") as file:
            data = file.read(size + 1)  # one byte more: a file that grew is noticed
        if len(data) != size or (known is not None and not known.is_unchanged(source)):
            raise _changed_while_uploading(source, size, len(data))
        checksum = known.checksum if known is not None else hashlib.sha256(data).hexdigest()
        if cancel is not None:
            cancel.raise_if_cancelled("The upload")
        with aws_errors("upload the file"):
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ChecksumAlgorithm="CRC32",  # S3 refuses a body that does not match it
            )
        return StoredBody(size, checksum)

    def start_get(self, key: str) -> StartedGet:
        """Send the GET of ``key`` now, for a :meth:`download` that follows (close it after)."""
        return StartedGet(self._client, self._bucket, key)

    def download(
        self,
        key: str,
        target: Path,
        *,
        expected_size: int,
        expected_checksum: str,
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        started: StartedGet | None = None,
    ) -> Path:
        """Write the object to ``target`` only if its size and checksum match; returns target.

        ``started``: a GET of ``key`` sent earlier (:meth:`start_get`), read instead of a new one.
        """
        if started is not None and started.key != key:
            raise ValueError(f"the GET started for {started.key} cannot be read as {key}")
        if target.exists() and not overwrite:
            raise TargetExists(
                f"{target} already exists; choose another name or allow overwriting."
            )
        if not target.parent.is_dir():
            raise ValidationError(f"The folder {target.parent} does not exist.")
        handle, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=partial_file_prefix(target.name), suffix=PARTIAL_SUFFIX
        )
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as out:
                writer = _DiskWriter(out)
                try:
                    self._stream_into(key, writer, expected_size, progress, cancel, started)
                finally:
                    writer.stop()
                digest = writer.finish()
            written = temp.stat().st_size
            if written != expected_size or digest != expected_checksum:
                again = self._read_again(key)
                if again == expected_checksum:  # right the second time: it was the way here
                    raise IntegrityError(_DAMAGED_ON_THE_WAY)
                raise IntegrityError(
                    f"The stored file does not match its checksum (got {written} bytes, "
                    f"expected {expected_size}); it was changed or damaged on the server. "
                    f"Nothing was written. {_STORED_COPY_BAD}"
                )
            _move_into_place(temp, target, overwrite)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return target

    def _stream_into(
        self,
        key: str,
        out: _DiskWriter,
        expected_size: int,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        started: StartedGet | None,
    ) -> None:
        done = 0
        etag: str | None = None
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            request: dict[str, Any] = {"Bucket": self._bucket, "Key": key}
            if done:
                request["Range"] = f"bytes={done}-"
                request["IfMatch"] = etag
            try:
                with aws_errors("download the file"):
                    if started is not None and attempt == 1:
                        response = started.response()
                    else:
                        response = self._client.get_object(**request)
                etag = response.get("ETag")
                for chunk in response["Body"].iter_chunks(DOWNLOAD_CHUNK):
                    if cancel is not None:
                        cancel.raise_if_cancelled("The download")
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(min(done, expected_size), expected_size)
                return
            except FlexibleChecksumError as exc:
                # botocore's CRC check of the stream: the bytes written so far are not the
                # stored ones, so resuming after them cannot help. Read it once more to tell a
                # copy damaged on the way from one damaged where it is stored.
                if self._read_again(key) == _CRC_FAILED:
                    raise IntegrityError(
                        "The stored file is damaged: it fails the checksum it was stored with, "
                        f"each time it is read. Nothing was written. {_STORED_COPY_BAD}"
                    ) from exc
                raise IntegrityError(_DAMAGED_ON_THE_WAY) from exc
            except (BotoCoreError, OSError) as exc:
                if isinstance(exc, OSError) and not _is_network_error(exc):
                    raise
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise translate(exc, "download the file") from exc
                log.warning("download of %s broke after %d bytes, resuming: %r", key, done, exc)
        raise Unavailable("Could not download the file.")  # unreachable: the loop returns

    def _read_again(self, key: str) -> str | None:
        """The SHA-256 of the object read once more from the start (nothing written), to tell
        damage on the way from damage where it is stored; ``_CRC_FAILED`` if it fails its CRC
        again, None if it cannot be read now."""
        digest = hashlib.sha256()
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
            for chunk in response["Body"].iter_chunks(DOWNLOAD_CHUNK):
                digest.update(chunk)
        except FlexibleChecksumError:
            return _CRC_FAILED
        except (ClientError, BotoCoreError, OSError) as exc:
            log.warning("could not read %s again to check it: %r", key, exc)
            return None
        return digest.hexdigest()

    def read_head(self, key: str, max_bytes: int) -> bytes:
        """The first ``max_bytes`` of the object (all of it if smaller), for previews."""
        if max_bytes <= 0:
            return b""
        with aws_errors("read the file for a preview"):
            response = self._client.get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}"
            )
            data: bytes = response["Body"].read()
        return data[:max_bytes]

    def presigned_get(self, key: str, filename: str, file_type: str, seconds: int) -> str:
        """A link that downloads the object, saved as ``filename``, for ``seconds``."""
        with aws_errors("make a share link"):
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self._bucket,
                    "Key": key,
                    "ResponseContentType": file_type,
                    "ResponseContentDisposition": (
                        f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
                    ),
                },
                ExpiresIn=seconds,
            )
        return url

    def delete(self, key: str) -> None:
        """Delete the object (no error if it is already gone)."""
        with aws_errors("delete the stored file"):
            self._client.delete_object(Bucket=self._bucket, Key=key)

    def delete_many(self, keys: Iterable[str]) -> BatchOutcome[str]:
        """Delete the objects (DeleteObjects, 1,000 keys a request); an object already gone is
        deleted. Each key S3 refuses fails with S3's reason; a request that fails fails all its
        keys (with the error's message) and the next request is still sent."""
        todo = list(dict.fromkeys(keys))
        outcome: BatchOutcome[str] = BatchOutcome()
        for start in range(0, len(todo), BODY_BATCH):
            batch = todo[start : start + BODY_BATCH]
            outcome.requests += 1
            try:
                with aws_errors("delete stored files"):
                    response = self._client.delete_objects(
                        Bucket=self._bucket,
                        Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                    )
            except DmsError as error:
                outcome.failed.update((key, f"{type(error).__name__}: {error}") for key in batch)
                continue
            refused = {
                str(entry.get("Key", "")): f"{entry.get('Code', 'Error')}: {entry.get('Message')}"
                for entry in response.get("Errors", [])
            }
            for key in batch:
                if key in refused:
                    outcome.failed[key] = refused[key]
                else:
                    outcome.done.append(key)
        return outcome

    def abort_multipart(self, key: str, upload_id: str) -> bool:
        """Abort an unfinished multipart upload; False if it is already gone (no error)."""
        try:
            with aws_errors("abort an unfinished upload"):
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=key, UploadId=upload_id
                )
        except NotFound:
            return False  # completed or aborted already
        return True

    def describe(self, key: str) -> StoredBody | None:
        """The stored object's size and SHA-256 (hex), or None when there is no such object.

        The SHA-256 is the one S3 verified when the object was written with one (a presigned
        PUT signs it); a store that keeps none (moto) has the object read and hashed here."""
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise translate(exc, "look up the stored file") from exc
        except BotoCoreError as exc:
            raise translate(exc, "look up the stored file") from exc
        size = int(head["ContentLength"])
        verified = head.get("ChecksumSHA256")
        if verified and head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT":
            return StoredBody(size, base64.b64decode(verified).hex())
        digest = hashlib.sha256()
        with aws_errors("read the stored file"):
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
            try:
                for chunk in body.iter_chunks(DOWNLOAD_CHUNK):
                    digest.update(chunk)
            finally:
                body.close()
        return StoredBody(size, digest.hexdigest())

    def size_of(self, key: str) -> int | None:
        """The stored object's size, or None when there is no such object."""
        try:
            response = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise translate(exc, "look up the stored file") from exc
        except BotoCoreError as exc:
            raise translate(exc, "look up the stored file") from exc
        return int(response["ContentLength"])


class _SizeHint(BaseSubscriber):
    """Tells s3transfer the size of the non-seekable stream, so it plans parts up front."""

    def __init__(self, size: int) -> None:
        self._size = size

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self._size)


_CRC_FAILED = "crc-failed"
_DAMAGED_ON_THE_WAY = (
    "The file was damaged on the way from the server (its checksum did not match, and it did "
    "when read again); nothing was written. Try again."
)
_STORED_COPY_BAD = (
    "Downloading it again will not help; `dms admin check --verify-checksums` lists the stored "
    "files that no longer match their checksum."
)


def _changed_while_uploading(source: Path, size: int, now: int) -> ValidationError:
    detail = f"{size} bytes expected, {now} read" if now != size else "it was written meanwhile"
    return ValidationError(
        f"{source.name} changed while it was being uploaded ({detail}); nothing was stored. "
        "Upload it again when it is no longer being written."
    )


def _is_entity_too_small(error: BaseException | None) -> bool:
    return isinstance(error, ClientError) and error_code(error) == "EntityTooSmall"


def _wait_for(future: Any, action: str) -> None:
    try:
        future.result()
    except TransferCancelled as exc:
        raise Cancelled("The upload was cancelled.") from exc
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, action) from exc


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
