"""Every body and unfinished upload in the bucket, for the admin's check and cleanup.

Lists what lies under ``private/`` (ListObjectsV2 and ListMultipartUploads, 1,000 a request),
tells when an unfinished upload last received a part, and hashes a body by streaming it. Reads
only; deleting goes through :class:`~dms_desktop.core.blobs.BlobStore`. Needs the admin's rights
(ListBucket and ListBucketMultipartUploads on the whole bucket).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import FlexibleChecksumError

from .aws import aws_errors
from .cancellation import CancelToken
from .errors import NotFound, Unavailable
from .schema import BODY_PREFIX

HASH_CHUNK = 1024 * 1024
FAILS_STORED_CHECKSUM = "fails-stored-checksum"  # what sha256_of says of a damaged body


class _ListedKey:
    key: str

    @property
    def user_id(self) -> str:
        """The user folder the key lies in ("" if it lies in none)."""
        parts = self.key.split("/")
        return parts[1] if len(parts) >= 3 else ""

    @property
    def document_id(self) -> str:
        """The key's last part: the document id, for a key the app makes."""
        return self.key.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ListedBody(_ListedKey):
    """An object under ``private/`` as the bucket lists it."""

    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class UnfinishedUpload(_ListedKey):
    """A multipart upload under ``private/`` that was neither completed nor aborted."""

    key: str
    upload_id: str
    initiated: datetime


class BucketInventory:
    """The admin's read-only view of the bucket, through one S3 client (thread-safe)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def bodies(self, cancel: CancelToken | None = None) -> dict[str, ListedBody]:
        """Every object under ``private/``, by key."""
        bodies: dict[str, ListedBody] = {}
        request: dict[str, Any] = {"Bucket": self._bucket, "Prefix": BODY_PREFIX}
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled("Listing the stored files")
            with aws_errors("list the stored files"):
                response = self._client.list_objects_v2(**request)
            for entry in response.get("Contents", []):
                key = str(entry["Key"])
                bodies[key] = ListedBody(key, int(entry["Size"]), _aware(entry["LastModified"]))
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                return bodies
            request["ContinuationToken"] = token

    def unfinished_uploads(self) -> list[UnfinishedUpload]:
        """Every multipart upload under ``private/`` that was neither completed nor aborted."""
        uploads: list[UnfinishedUpload] = []
        request: dict[str, Any] = {"Bucket": self._bucket, "Prefix": BODY_PREFIX}
        while True:
            with aws_errors("list unfinished uploads"):
                response = self._client.list_multipart_uploads(**request)
            for upload in response.get("Uploads", []):
                uploads.append(
                    UnfinishedUpload(
                        str(upload["Key"]), str(upload["UploadId"]), _aware(upload["Initiated"])
                    )
                )
            if not response.get("IsTruncated"):
                return uploads
            request["KeyMarker"] = response.get("NextKeyMarker", "")
            request["UploadIdMarker"] = response.get("NextUploadIdMarker", "")

    def last_part_time(self, upload: UnfinishedUpload) -> datetime | None:
        """When the newest part of an unfinished upload arrived (None: no part, or gone)."""
        newest: datetime | None = None
        request: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": upload.key,
            "UploadId": upload.upload_id,
        }
        while True:
            try:
                with aws_errors("list the parts of an unfinished upload"):
                    response = self._client.list_parts(**request)
            except NotFound:
                return None
            for part in response.get("Parts", []):
                modified = _aware(part["LastModified"])
                newest = modified if newest is None else max(newest, modified)
            if not response.get("IsTruncated"):
                return newest
            request["PartNumberMarker"] = response.get("NextPartNumberMarker", 0)

    def sha256_of(self, key: str, cancel: CancelToken | None = None) -> str | None:
        """SHA-256 of a body, streamed (never held in memory); None if it vanished meanwhile;
        :data:`FAILS_STORED_CHECKSUM` if S3 finds it fails the checksum it was stored with."""
        digest = hashlib.sha256()
        try:
            with aws_errors("read a stored file"):
                response = self._client.get_object(Bucket=self._bucket, Key=key)
                for chunk in response["Body"].iter_chunks(HASH_CHUNK):
                    if cancel is not None:
                        cancel.raise_if_cancelled("The check")
                    digest.update(chunk)
        except NotFound:
            return None
        except Unavailable as exc:
            if isinstance(exc.__cause__, FlexibleChecksumError):  # S3's stored checksum fails
                return FAILS_STORED_CHECKSUM
            raise
        return digest.hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
