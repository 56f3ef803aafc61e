"""Document bodies in S3: uploads that resume part by part, verified downloads, deletes.

Uploads read the local file once to send it. A small file (below ``multipart_threshold``) is read
into memory, hashed and sent in one PutObject on the caller's thread (a thread pool and hand-offs
cost more than such a request); above ``single_request_limit`` its progress is reported as the
bytes go out. A larger one is a multipart upload (core.multipart_upload): read front to back,
hashed on the way, its parts sent a few at a time with their CRC32, each part S3 confirms noted in
the journal, so that a pause, a lost network, a quit or a crash costs only the parts in flight.
When the caller hashed the file already (the duplicate check of an upload plan) and the file is
unchanged since, before and after sending, that checksum is used and the file is not hashed again.

Without notes (no journal), an upload that fails or is cancelled aborts its multipart upload
itself, so nothing is left; with notes, whether to abort or keep it for a resume is the caller's.

Deletes of many bodies go in batches (:meth:`BlobStore.delete_many`, DeleteObjects); a delete
for good removes every stored version too (:meth:`BlobStore.delete_for_good`, core.body_deletion).

Downloads (core.blob_downloads) are one streamed GET into a hidden partial file beside the target,
continued with a ranged GET where it stopped (in the same run or a later one), and moved into
place only after size and checksum match; an existing file is never replaced unless asked.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from .aws import aws_errors, is_loopback, translate
from .batches import BatchOutcome
from .blob_downloads import (
    DOWNLOAD_CHUNK,
    DownloadNotes,
    PartialDownload,
    StartedGet,
    VerifiedDownload,
)
from .body_deletion import BodiesDeleted, delete_bodies_for_good, delete_versions
from .cancellation import CancelToken, ProgressCallback
from .errors import AuthError, Cancelled, DmsError, NotFound, ValidationError
from .localfiles import HashedFile
from .multipart_upload import (
    MAX_PARTS,
    MultipartUpload,
    PartNotes,
    Progress,
    ProgressBody,
    ResumePoint,
    SourceChanged,
    count_only_while_sending,
    file_grew,
    part_size_for,
)

__all__ = ["MAX_PARTS", "BlobStore", "MiB", "StoredBody", "TransferSettings", "part_size_for"]

log = logging.getLogger(__name__)

MiB = 1024 * 1024


@dataclass(frozen=True)
class TransferSettings:
    multipart_threshold: int = 16 * MiB
    part_size: int = 16 * MiB
    concurrency: int = 8  # parts in flight at once
    # Up to this size a file's progress jumps from 0 to done (it goes in one short request);
    # above it, progress follows the bytes as they go out.
    single_request_limit: int = 4 * MiB
    job_concurrency: int = 8  # files of a job (a folder) in flight at once

    @classmethod
    def for_endpoint(cls, endpoint_url: str | None) -> TransferSettings:
        """Two parts in flight on this machine's loopback (the local sandbox), eight elsewhere.

        Over a network more parts in flight hide each request's round trip. On the loopback
        the app and the sandbox server share the machine's CPUs, and two parts already keep the
        server busy: a 1 GB upload ran at 161-175 MB/s with two, 151-171 with eight, and six
        fewer threads took turns with the window for the CPU and the interpreter lock (its
        worst stalls 22-30 ms with two, 55-82 ms with eight, on 2 cores)."""
        return cls(concurrency=2, job_concurrency=32) if is_loopback(endpoint_url) else cls()


@dataclass(frozen=True)
class StoredBody:
    size: int
    checksum: str  # SHA-256, lower-case hex
    version_id: str | None = None  # the S3 version stored (None: the bucket keeps no versions)


def content_disposition(filename: str) -> str:
    """``Content-Disposition`` that saves a download under ``filename`` (RFC 6266: a plain ASCII
    fallback and the UTF-8 name), as a browser or the Storage Browser for S3 downloads it."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in ascii_name)
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{encoded}"


class BlobStore:
    """The bucket's objects, through one S3 client (thread-safe)."""

    def __init__(self, client: Any, bucket: str, settings: TransferSettings | None = None) -> None:
        self._client = client
        self._bucket = bucket
        self._settings = settings or TransferSettings()
        count_only_while_sending(client)

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def client(self) -> Any:
        """The S3 client (for core.versions' copies and version deletes)."""
        return self._client

    @property
    def settings(self) -> TransferSettings:
        return self._settings

    def is_multipart(self, size: int) -> bool:
        """Whether a file of ``size`` bytes goes as a multipart upload (one that can resume)."""
        return size >= self._settings.multipart_threshold

    def upload(
        self,
        source: Path,
        key: str,
        content_type: str,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        content: HashedFile | None = None,
        notes: PartNotes | None = None,
        resume: ResumePoint | None = None,
        download_name: str | None = None,
    ) -> StoredBody:
        """Store ``source`` at ``key``; returns the size and checksum of what was sent.

        ``download_name``: the name a download of the object is saved under (its
        ``Content-Disposition``, which Amplify's Storage Browser and browsers follow).

        ``notes`` gets the multipart upload's id and each part S3 confirms (the journal), and
        ``resume`` continues such an upload: only the parts the server does not have are sent
        (SourceChanged if the file is no longer what they were read from; UploadGone if the
        server no longer has the upload). ``content``: the file's checksum computed earlier;
        used if the file is unchanged since."""
        headers = {"ContentType": content_type}
        if download_name:
            headers["ContentDisposition"] = content_disposition(download_name)
        known = content if content is not None and content.is_unchanged(source) else None
        size = known.size if known is not None else source.stat().st_size
        if resume is None and not self.is_multipart(size):
            stored = self._put_whole(source, key, headers, size, cancel, known, progress)
            if cancel is not None and cancel.cancelled:
                self.delete(key, stored.version_id)
                raise Cancelled("The upload was cancelled.")
            return stored
        return self._put_multipart(
            source, key, headers, size, known, progress, cancel, notes, resume
        )

    def _put_multipart(
        self,
        source: Path,
        key: str,
        headers: dict[str, str],
        size: int,
        known: HashedFile | None,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        notes: PartNotes | None,
        resume: ResumePoint | None,
    ) -> StoredBody:
        tracker = Progress(size, progress)
        upload = MultipartUpload(
            self._client,
            self._bucket,
            key,
            concurrency=self._settings.concurrency,
            notes=notes,
            progress=tracker,
            cancel=cancel,
        )
        digest = None if known is not None else hashlib.sha256()
        try:
            if resume is not None:
                on_server = upload.server_parts(resume.upload_id)
                part_size = resume.part_size
                kept = {
                    number: part
                    for number, part in resume.parts.items()
                    if on_server.get(number) == (part.size, part.etag)
                }
                unnoted = {n: s for n, s in on_server.items() if n not in resume.parts}
                tracker.reset(sum(part.size for part in kept.values()))
            else:
                part_size = part_size_for(size, self._settings.part_size)
                kept, unnoted = {}, {}
                if cancel is not None:
                    cancel.raise_if_cancelled("The upload")
                upload.start(headers, part_size)
            with source.open("rb") as file:
                try:
                    parts = upload.send(
                        file, size, part_size, kept=kept, unnoted=unnoted, digest=digest
                    )
                except SourceChanged:
                    if resume is not None:
                        raise
                    raise _changed_while_uploading(source, size, file_size(file)) from None
                grown = file_grew(file, size)
            if grown is not None or (known is not None and not known.is_unchanged(source)):
                raise _changed_while_uploading(source, size, grown or size)
            if cancel is not None:
                cancel.raise_if_cancelled("The upload")
            version_id = upload.complete(parts)
        except BaseException:
            if notes is None and upload.upload_id is not None:
                with contextlib.suppress(DmsError):  # nothing left behind, if it can be helped
                    self.abort_multipart(key, upload.upload_id)
            raise
        finally:
            upload.close()
        return StoredBody(size, known.checksum if known is not None else _hex(digest), version_id)

    def _put_whole(
        self,
        source: Path,
        key: str,
        headers: dict[str, str],
        size: int,
        cancel: CancelToken | None,
        known: HashedFile | None,
        progress: ProgressCallback | None,
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
        body: bytes | ProgressBody = data
        tracker = Progress(size, progress)
        if progress is not None and size > self._settings.single_request_limit:
            body = ProgressBody(data, tracker, cancel)
        with aws_errors("upload the file"):
            response = self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ChecksumAlgorithm="CRC32",  # S3 refuses a body that does not match it
                **headers,
            )
        if progress is not None and not isinstance(body, ProgressBody):
            progress(size, size)
        return StoredBody(size, checksum, response.get("VersionId"))

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
        notes: DownloadNotes | None = None,
        resume: PartialDownload | None = None,
        version_id: str | None = None,
    ) -> Path:
        """Write the object to ``target`` only if its size and checksum match; returns target.

        ``version_id``: that S3 version of the object (an older version of the document).

        ``started``: a GET of ``key`` sent earlier (:meth:`start_get`), read instead of a new one.
        ``notes`` gets the partial file and the object's ETag (the journal); with notes, the
        partial file is kept when the download fails, for ``resume`` to continue it.
        """
        if started is not None and started.key != key:
            raise ValueError(f"the GET started for {started.key} cannot be read as {key}")
        download = VerifiedDownload(
            self._client,
            self._bucket,
            key,
            target,
            expected_size=expected_size,
            expected_checksum=expected_checksum,
            progress=progress,
            cancel=cancel,
            notes=notes,
            version_id=version_id,
        )
        return download.run(overwrite, started, resume)

    def read_head(self, key: str, max_bytes: int, version_id: str | None = None) -> bytes:
        """The first ``max_bytes`` of the object (all of it if smaller), for previews;
        ``version_id``: of that S3 version."""
        if max_bytes <= 0:
            return b""
        version = {"VersionId": version_id} if version_id else {}
        with aws_errors("read the file for a preview"):
            response = self._client.get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}", **version
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
                    "ResponseContentDisposition": content_disposition(filename),
                },
                ExpiresIn=seconds,
            )
        return url

    def delete(self, key: str, version_id: str | None = None) -> None:
        """Delete the object (no error if it is already gone); with ``version_id`` only that
        version of it (the one before becomes current again)."""
        version = {"VersionId": version_id} if version_id else {}
        with aws_errors("delete the stored file"):
            self._client.delete_object(Bucket=self._bucket, Key=key, **version)

    def delete_many(self, keys: Iterable[str]) -> BatchOutcome[str]:
        """Delete the objects (DeleteObjects, 1,000 keys a request); an object already gone is
        deleted. Each key S3 refuses fails with S3's reason; a request that fails fails all its
        keys (with the error's message) and the next request is still sent."""
        todo = list(dict.fromkeys(keys))
        outcome = BodiesDeleted()
        delete_versions(self._client, self._bucket, [(key, "") for key in todo], outcome)
        outcome.done = [key for key in todo if key not in outcome.failed]
        return outcome

    def delete_for_good(self, keys: Iterable[str]) -> BodiesDeleted:
        """Delete the objects and every stored version and delete marker of them, batched
        (core.body_deletion); each key is done or failed with S3's reason, as for
        :meth:`delete_many`. Only for keys derived from owner and document id."""
        return delete_bodies_for_good(self._client, self._bucket, keys)

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

    def abort_unnoted_multipart(self, key: str) -> int | None:
        """Abort the unfinished multipart uploads of ``key`` itself: begun by a run that was
        killed after S3 answered CreateMultipartUpload and before it noted the upload's id, so
        nothing else can find them. Returns how many were aborted; None where the credentials
        may not list uploads (a user on AWS: the bucket's lifecycle rule aborts them a day
        later)."""
        request: dict[str, Any] = {"Bucket": self._bucket, "Prefix": key}
        upload_ids: list[str] = []
        try:
            with aws_errors("look up unfinished uploads"):
                while True:
                    response = self._client.list_multipart_uploads(**request)
                    upload_ids += [
                        str(upload["UploadId"])
                        for upload in response.get("Uploads", [])
                        if upload.get("Key") == key
                    ]
                    if not response.get("IsTruncated"):
                        break
                    request["KeyMarker"] = response.get("NextKeyMarker", "")
                    request["UploadIdMarker"] = response.get("NextUploadIdMarker", "")
        except AuthError:
            log.info("may not list unfinished uploads; the bucket's lifecycle rule aborts them")
            return None
        return sum(self.abort_multipart(key, upload_id) for upload_id in upload_ids)

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

    def size_of(self, key: str, version_id: str | None = None) -> int | None:
        """The stored object's size (of its S3 version ``version_id``), or None when there is
        no such object."""
        request = {"Bucket": self._bucket, "Key": key}
        if version_id is not None:
            request["VersionId"] = version_id
        try:
            response = self._client.head_object(**request)
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise translate(exc, "look up the stored file") from exc
        except BotoCoreError as exc:
            raise translate(exc, "look up the stored file") from exc
        return int(response["ContentLength"])


def file_size(file: Any) -> int:
    return os.fstat(file.fileno()).st_size


def _hex(digest: Any) -> str:
    assert digest is not None
    return str(digest.hexdigest())


def _changed_while_uploading(source: Path, size: int, now: int) -> ValidationError:
    detail = f"{size} bytes expected, {now} read" if now != size else "it was written meanwhile"
    return ValidationError(
        f"{source.name} changed while it was being uploaded ({detail}); nothing was stored. "
        "Upload it again when it is no longer being written."
    )
