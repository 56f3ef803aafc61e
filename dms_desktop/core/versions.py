"""Versions of a document: a changed file stored as a new version, the history, old versions
downloaded and restored.

The bucket is versioned: every body of a document lies at the one key its owner and id give
(core.schema.object_key), and S3 keeps the bodies it replaced as noncurrent versions of that key.
The history is on the document's item, in ``bodyVersions``: a list of maps (number, size,
checksum, S3 version id, when), the oldest first, the last one the current body. So list, search
and the trash see one item per document as before, and a document restored from the trash has its
history back with it. A document stored before versions existed has no list: its one version is
its current body (version 1).

A new version, like a restore of an old one (a server-side copy of that S3 version onto the key),
is a new S3 version first, then one conditional write of the item: only if the item's ``version``
is still the one read (and it is not in the trash). If that write fails (someone changed the
document meanwhile, or the caller's expected version is stale) the new S3 version is deleted
again, which makes the previous body current again: nothing is overwritten. The upload of a new
version is core.uploading's, journaled like any upload (:meth:`version_base` gives what it is
based on, :meth:`append_uploaded` records it, :meth:`rebase_for_resume` checks a resumed one):
a pause or a crash keeps it to be resumed, and a version added meanwhile makes it a conflict.

Retention (one policy, see docs/lifecycle.md): an old version lives ``OLD_VERSION_DAYS`` after a
newer one replaced it (the bucket's lifecycle rule; the sandbox does the same), and at most
``MAX_OLD_VERSIONS`` are kept: a write that would keep more drops the oldest from the history and
deletes their S3 versions. The S3 version ids are read from the item, which its owner can write;
they only ever select among the versions of the owner's own key, which the key derivation fixes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .aws import aws_errors, error_code
from .blobs import BlobStore, StoredBody, content_disposition
from .cancellation import CancelToken, ProgressCallback
from .downloading import Downloads
from .errors import Conflict, DmsError, InTrash, NotFound, Unavailable
from .items import from_item
from .journal import UploadEntry, VersionBase
from .localfiles import download_target
from .models import Document, format_timestamp, utc_now
from .schema import (
    BODY_VERSIONS,
    OLD_VERSION_DAYS,
    TRASHED_AT,
    item_key,
    object_key,
)
from .version_history import (
    BodyVersion,
    VersionHistory,
    kept_versions,
    read_history,
    version_file_name,
)

log = logging.getLogger(__name__)


class DocumentVersions:
    """The versions of one user's documents."""

    def __init__(
        self, client: Any, table: str, blobs: BlobStore, downloads: Downloads, user_id: str
    ) -> None:
        self._client = client
        self._table = table
        self._blobs = blobs
        self._downloads = downloads
        self._user_id = user_id

    def history(self, document_id: str) -> VersionHistory:
        """The document's versions; a document stored before versions gets its current S3
        version id looked up (None if its body predates the bucket's versioning)."""
        history = read_history(self._read_item(document_id))
        if history.latest.s3_version_id is None:
            key = object_key(self._user_id, document_id)
            with aws_errors("read the stored file"):
                head = self._blobs.client.head_object(Bucket=self._blobs.bucket, Key=key)
            if head.get("VersionId") not in (None, "null"):
                first = replace(history.latest, s3_version_id=str(head["VersionId"]))
                history = VersionHistory(history.document, (first,))
        return history

    def version_base(
        self,
        document_id: str,
        *,
        expected_number: int | None = None,
        expected_version: int | None = None,
    ) -> tuple[Document, VersionBase]:
        """The document a new version is uploaded to, and what the version is based on (its
        newest version, the item's ``version``); core.uploading stores the file, journaled.

        ``expected_number``: the newest version number the caller knows (`dms versions`);
        ``expected_version``: the document's ``version`` as the caller last saw it. Either one
        stale is a Conflict, as is any change to the document while the file is sent."""
        history, lock = self._writable(document_id, expected_number, expected_version)
        base = VersionBase(
            number=history.latest.number,
            item_version=lock,
            s3_version_id=history.latest.s3_version_id,
        )
        return history.document, base

    def rebase_for_resume(self, entry: UploadEntry) -> VersionBase:
        """The base of the kept new version ``entry`` to resume with: the same newest version
        (Conflict if another one was added meanwhile: its upload is then given up), and the
        document's ``version`` now (a rename or retag while it was paused is no conflict)."""
        base = entry.new_version_of
        assert base is not None
        history = read_history(self._read_item(entry.document_id))
        document = history.document
        if _records(history, entry.stored_version_id):
            return base  # stored before the interruption: nothing left to do
        if document.in_trash:
            raise InTrash(document.filename, document.document_id)
        if history.latest.number != base.number:
            raise Conflict(_added_meanwhile(document, history.latest.number, base, entry.source))
        return base.model_copy(update={"item_version": document.version})

    def append_uploaded(
        self, entry: UploadEntry, stored: StoredBody, cancel: CancelToken | None
    ) -> Document:
        """Record the body the upload ``entry`` stored as the newest version of its document,
        only if the document is still at the version the upload was based on (else Conflict,
        and the body's S3 version is deleted: the previous body is current again). Recording
        one that is recorded already (a crash after the write) returns the document."""
        base = entry.new_version_of
        assert base is not None
        if stored.version_id is None:
            raise _versioning_off()
        key = object_key(self._user_id, entry.document_id)
        new = BodyVersion(
            base.number + 1, stored.size, stored.checksum, stored.version_id, utc_now()
        )
        try:
            history = read_history(self._read_item(entry.document_id))
        except NotFound:
            self._delete_versions(key, [new])
            raise
        if _records(history, stored.version_id):
            return history.document
        document = history.document
        if document.in_trash or history.latest.number != base.number:
            self._delete_versions(key, [new])
            if document.in_trash:
                raise InTrash(document.filename, document.document_id)
            raise Conflict(_added_meanwhile(document, history.latest.number, base, entry.source))
        if history.latest.s3_version_id is None:  # its body from before versions, kept as 1
            first = replace(history.latest, s3_version_id=base.s3_version_id)
            history = VersionHistory(document, (first,))
        return self._record(history, base.item_version, new, cancel)

    def remove_unrecorded(self, entry: UploadEntry) -> None:
        """Undo the new version ``entry`` began: abort its multipart upload and delete the S3
        version it made unless the history records it. The document's body is left alone."""
        key = object_key(self._user_id, entry.document_id)
        if entry.multipart_upload_id is not None:
            self._blobs.abort_multipart(key, entry.multipart_upload_id)
        if entry.stored_version_id is None:
            return
        try:
            history = read_history(self._read_item(entry.document_id))
        except NotFound:
            recorded = False
        else:
            recorded = _records(history, entry.stored_version_id)
        if not recorded:
            self._blobs.delete(key, entry.stored_version_id)

    def restore_version(
        self,
        document_id: str,
        number: int,
        *,
        expected_number: int | None = None,
        expected_version: int | None = None,
    ) -> Document:
        """Make version ``number`` the newest again: a new version with its bytes (a copy in the
        bucket), so that nothing is overwritten."""
        history, lock = self._writable(document_id, expected_number, expected_version)
        old = history.version(number)
        if old.number == history.latest.number:
            raise Conflict(
                f"Version {number} is already the current version of {history.document.filename}."
            )
        document = history.document
        version_id = self._copy(document, old.s3_version_id)
        new = BodyVersion(
            history.latest.number + 1, old.size, old.checksum, version_id, utc_now(), number
        )
        return self._record(history, lock, new, None)

    def download_version(
        self,
        document_id: str,
        number: int,
        target: Path,
        *,
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Download version ``number`` to ``target`` (a folder or a file path), verified against
        that version's size and checksum like every download."""
        history = self.history(document_id)
        document = history.document
        if document.in_trash:
            raise InTrash(document.filename, document.document_id)
        version = history.version(number)
        if target.is_dir():
            target = download_target(target, version_file_name(document.filename, number, history))
        as_stored = document.model_copy(update={"size": version.size, "checksum": version.checksum})
        try:
            return self._downloads.download(
                as_stored,
                target,
                overwrite=overwrite,
                progress=progress,
                cancel=cancel,
                version_id=version.s3_version_id,
            )
        except NotFound as exc:
            raise NotFound(
                f"Version {number} of {document.filename} is no longer stored (old versions are "
                f"kept {OLD_VERSION_DAYS} days after they are replaced). Nothing was written."
            ) from exc

    def read_version_head(self, document_id: str, number: int, max_bytes: int) -> bytes:
        """The first ``max_bytes`` of version ``number`` (for previews; not verified)."""
        version = self.history(document_id).version(number)
        key = object_key(self._user_id, document_id)
        return self._blobs.read_head(key, max_bytes, version.s3_version_id)

    # --- the steps ---

    def _read_item(self, document_id: str) -> dict[str, Any]:
        with aws_errors("read the document"):
            response = self._client.get_item(
                TableName=self._table,
                Key=item_key(self._user_id, document_id),
                ConsistentRead=True,
            )
        item = response.get("Item")
        if item is None:
            raise NotFound(f"There is no document with id {document_id}.")
        return dict(item)

    def _writable(
        self, document_id: str, expected_number: int | None, expected_version: int | None
    ) -> tuple[VersionHistory, int]:
        """The history to add to and the item version the write is conditional on."""
        history = self.history(document_id)
        document = history.document
        if document.in_trash:
            raise InTrash(document.filename, document.document_id)
        stale = (expected_number is not None and expected_number != history.latest.number) or (
            expected_version is not None and expected_version != document.version
        )
        if stale:
            raise Conflict(
                f"{document.filename} changed since you last saw it: its newest version is "
                f"{history.latest.number} now. Nothing was stored; look at `dms versions "
                f"{document.document_id}` (or reload the window) and try again."
            )
        if history.latest.s3_version_id is None:
            first = replace(history.latest, s3_version_id=self._version_the_body(document))
            history = VersionHistory(document, (first,))
        return history, document.version

    def _version_the_body(self, document: Document) -> str:
        """A body stored before the bucket kept versions has no S3 version id: a copy onto
        itself gives it one (and shows that the bucket keeps versions now)."""
        key = object_key(self._user_id, document.document_id)
        with aws_errors("keep the stored file as version 1"):
            copied = self._blobs.client.copy_object(
                Bucket=self._blobs.bucket,
                Key=key,
                CopySource={"Bucket": self._blobs.bucket, "Key": key},
                MetadataDirective="REPLACE",
                ContentType=document.file_type,
                ContentDisposition=content_disposition(document.filename),
            )
        version_id = copied.get("VersionId")
        if not version_id:
            raise _versioning_off()
        return str(version_id)

    def _copy(self, document: Document, version_id: str | None) -> str:
        key = object_key(self._user_id, document.document_id)
        source = {"Bucket": self._blobs.bucket, "Key": key}
        if version_id:
            source["VersionId"] = version_id
        with aws_errors("copy the old version"):
            try:
                copied = self._blobs.client.copy_object(
                    Bucket=self._blobs.bucket,
                    Key=key,
                    CopySource=source,
                    MetadataDirective="REPLACE",
                    ContentType=document.file_type,
                    ContentDisposition=content_disposition(document.filename),
                )
            except ClientError as exc:
                if error_code(exc) in {"NoSuchVersion", "NoSuchKey", "404"}:
                    raise NotFound(
                        f"That version of {document.filename} is no longer stored (old "
                        f"versions are kept {OLD_VERSION_DAYS} days after they are replaced)."
                    ) from exc
                if error_code(exc) == "InvalidRequest":
                    raise DmsError(
                        f"Could not restore the version of {document.filename}: {exc}. Files "
                        "over 5 GB are restored by downloading the version and uploading it "
                        "as a new version."
                    ) from exc
                raise
        new_id = copied.get("VersionId")
        if not new_id:
            raise _versioning_off()
        return str(new_id)

    def _record(
        self, history: VersionHistory, lock: int, new: BodyVersion, cancel: CancelToken | None
    ) -> Document:
        """Write the item with ``new`` as its newest version, only if it is still at ``lock``;
        else (or on any failure) delete the S3 version ``new`` made: the old body stays."""
        key = object_key(self._user_id, history.document.document_id)
        versions = [*history.versions, new]
        kept = kept_versions(versions, new.created_at)
        dropped = [version for version in versions if version not in kept]
        try:
            if cancel is not None:
                cancel.raise_if_cancelled("The upload")
            document = self._write(history.document, lock, new, kept)
        except BaseException:
            self._delete_versions(key, [new])
            raise
        self._delete_versions(key, dropped)
        log.info("stored version %d of %s", new.number, history.document.document_id)
        return document

    def _write(
        self, document: Document, lock: int, new: BodyVersion, kept: list[BodyVersion]
    ) -> Document:
        with aws_errors("save the new version"):
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key=item_key(self._user_id, document.document_id),
                    UpdateExpression=(
                        "SET #size = :size, checksum = :checksum, updatedAt = :now, "
                        f"#version = :next, {BODY_VERSIONS} = :history"
                    ),
                    ConditionExpression=(
                        "attribute_exists(documentId) AND #version = :lock AND "
                        f"attribute_not_exists({TRASHED_AT})"
                    ),
                    ExpressionAttributeNames={"#size": "size", "#version": "version"},
                    ExpressionAttributeValues={
                        ":size": {"N": str(new.size)},
                        ":checksum": {"S": new.checksum},
                        ":now": {"S": format_timestamp(new.created_at)},
                        ":next": {"N": str(lock + 1)},
                        ":lock": {"N": str(lock)},
                        ":history": {"L": [version.to_attribute() for version in kept]},
                    },
                    ReturnValues="ALL_NEW",
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    raise Conflict(
                        f"{document.filename} was changed by someone else (another window or "
                        "computer) while its new version was stored; nothing was overwritten "
                        "and your file was not stored. Reload and try again."
                    ) from exc
                raise
        return from_item(response["Attributes"])

    def _delete_versions(self, key: str, versions: Sequence[BodyVersion]) -> None:
        for version in versions:
            if version.s3_version_id is None:
                continue
            try:
                with aws_errors("delete an old version"):
                    self._blobs.client.delete_object(
                        Bucket=self._blobs.bucket, Key=key, VersionId=version.s3_version_id
                    )
            except DmsError:  # the bucket's lifecycle rule removes it in time
                log.exception("could not delete version %d of %s", version.number, key)


def _records(history: VersionHistory, s3_version_id: str | None) -> bool:
    """Whether ``history`` has the S3 version ``s3_version_id`` as one of its versions."""
    return s3_version_id is not None and any(
        version.s3_version_id == s3_version_id for version in history.versions
    )


def _added_meanwhile(document: Document, newest: int, base: VersionBase, source: str) -> str:
    return (
        f"{document.filename} has a version {newest} now, added while your new version (from "
        f"{source}, based on version {base.number}) was paused or interrupted; nothing was "
        "overwritten and your file was not stored (what was sent of it is discarded). Look at "
        f"`dms versions {document.document_id}` (or reload the window) and upload it again "
        "if it should still be the newest."
    )


def _versioning_off() -> DmsError:
    return Unavailable(
        "The bucket does not keep old versions of files (its versioning is off), so a new "
        "version would overwrite the old one. Nothing was changed; an administrator turns "
        "versioning on (the backend template does)."
    )
