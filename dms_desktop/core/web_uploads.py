"""Files a web app uploads under a user's folder become that user's documents.

An Amplify app (Amplify Storage, the Storage Browser for S3) on the same identity pool stores a
file at ``private/{identityId}/{path}``, under the name its user gave it, and writes no metadata.
:func:`adopt_web_upload` is the one ObjectCreated handler for such objects, run by a Lambda on AWS
(dms_desktop.api.object_created) and by the local sandbox after each upload it stores. It:

1. reads the owner and the file's name (and folder) from the key only: the owner is the key's
   user folder, which the per-user IAM policy lets nobody but that user write; object metadata
   (``x-amz-meta-*``), which the uploader chooses, is never read;
2. makes the document id from the object itself (its key, ETag and time), so a repeated event
   (S3 delivers at least once) gives the same document, never a second one;
3. copies the object to the key its owner and document id give (:func:`~.schema.object_key`,
   where every body lies), with a ``Content-Disposition`` that carries the real file name, and
   writes the metadata item (conditional on it not existing);
4. deletes the uploaded object, only if it is still the one that was copied.

Keys the app makes itself (a document id as the last part) are left alone: their item is written
by whoever uploaded them, body first, metadata second.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from .aws import aws_errors, error_code, translate
from .blobs import BlobStore, content_disposition
from .errors import Conflict, DmsError, NotFound, ValidationError
from .ids import is_document_id
from .localfiles import guess_file_type
from .models import DEFAULT_FILE_TYPE, Document, normalize_filename, normalize_folder
from .repository import DocumentRepository
from .schema import BODY_PREFIX, object_key

log = logging.getLogger(__name__)

# An identity id of a Cognito identity pool (``region:uuid``), as every owner id is (the local
# sandbox and AWS profiles make theirs in the same shape); other folders are not users'.
_IDENTITY_ID = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")

GiB = 1024 * 1024 * 1024
# One CopyObject up to S3's limit for it (5 GiB); a multipart copy above.
_COPY_CONFIG = TransferConfig(multipart_threshold=5 * GiB, multipart_chunksize=512 * 1024 * 1024)


@dataclass(frozen=True)
class WebUpload:
    """What the key of an object a web app uploaded says: whose it is, and its folder and name
    as the uploader gave them (not yet checked against the data model)."""

    key: str
    owner: str
    folder: str
    filename: str


def web_upload_of(key: str) -> WebUpload | None:
    """The web upload ``key`` is; None for a body the app stores (its last part a document id),
    a folder marker (a key ending in '/'), and keys outside a user's folder (``private/`` and
    an identity id)."""
    if not key.startswith(BODY_PREFIX):
        return None
    owner, separator, path = key[len(BODY_PREFIX) :].partition("/")
    if not separator or not _IDENTITY_ID.fullmatch(owner) or not path or path.endswith("/"):
        return None
    if is_document_id(path):
        return None
    folder, _, filename = path.rpartition("/")
    return WebUpload(key, owner, folder, filename)


def adopted_document_id(key: str, etag: str, last_modified: datetime) -> str:
    """A document id made from one stored version of an object: the same for every event about
    it, another one for a new upload to the same key. Shaped as a UUIDv7 of the upload's time,
    so that the list's newest-first order (the id's order) holds for adopted documents too."""
    moment_ms = int(last_modified.timestamp() * 1000)
    digest = hashlib.sha256(f"{key}\0{etag}\0{last_modified.isoformat()}".encode()).digest()
    rand_a = int.from_bytes(digest[:2], "big") & 0xFFF
    rand_b = int.from_bytes(digest[2:10], "big") & ((1 << 62) - 1)
    value = (moment_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


class Adoption(StrEnum):
    """What the handler did with an object."""

    ADOPTED = "adopted"  # it is a document now
    NOT_A_WEB_UPLOAD = "not a web upload"  # the app's own body, a folder marker, another prefix
    GONE = "gone"  # adopted already (a repeated event) or deleted since
    REFUSED = "refused"  # its name cannot be a document's; left where it is


@dataclass(frozen=True)
class AdoptionResult:
    outcome: Adoption
    key: str
    document: Document | None = None
    reason: str = ""


def adopt_web_upload(
    s3: Any, repository: DocumentRepository, bucket: str, key: str
) -> AdoptionResult:
    """Make the object at ``key`` (uploaded by a web app) a document of the user whose folder it
    lies in; see the module's docstring. Raises DmsError when the backend fails (the event is
    then retried); a name the data model refuses is reported, not raised."""
    upload = web_upload_of(key)
    if upload is None:
        return AdoptionResult(Adoption.NOT_A_WEB_UPLOAD, key)
    try:
        filename = normalize_filename(upload.filename)
        folder = normalize_folder(upload.folder)
    except ValidationError as error:
        log.warning("A web upload of %s was not adopted: its name is refused", upload.owner)
        return AdoptionResult(Adoption.REFUSED, key, reason=str(error))
    try:
        with aws_errors("look up the uploaded file"):
            head = s3.head_object(Bucket=bucket, Key=key)
    except NotFound:
        return AdoptionResult(Adoption.GONE, key)
    etag = str(head["ETag"])
    last_modified = _aware(head["LastModified"])
    document_id = adopted_document_id(key, etag, last_modified)
    target = object_key(upload.owner, document_id)
    stored_type = str(head.get("ContentType") or "")
    file_type = (
        stored_type
        if stored_type and stored_type not in {DEFAULT_FILE_TYPE, "binary/octet-stream"}
        else guess_file_type(filename)
    )
    try:
        with aws_errors("copy the uploaded file to its document's key"):
            s3.copy(
                {"Bucket": bucket, "Key": key},
                bucket,
                target,
                ExtraArgs={
                    "CopySourceIfMatch": etag,
                    "MetadataDirective": "REPLACE",
                    "ContentType": file_type,
                    "ContentDisposition": content_disposition(filename),
                    "ChecksumAlgorithm": "SHA256",
                },
                Config=_COPY_CONFIG,
            )
    except DmsError as error:
        if _is_precondition_failed(error) or isinstance(error, NotFound):
            return AdoptionResult(Adoption.GONE, key)  # replaced or deleted: its own event
        raise
    stored = BlobStore(s3, bucket).describe(target)
    if stored is None:
        return AdoptionResult(Adoption.GONE, key)
    document = Document(
        user_id=upload.owner,
        document_id=document_id,
        filename=filename,
        file_type=file_type,
        size=stored.size,
        folder=folder,
        created_at=last_modified,
        updated_at=last_modified,
        checksum=stored.checksum,
    )
    with contextlib.suppress(Conflict):  # a repeated event wrote it already: the same document
        repository.create(document)
    _delete_if_unchanged(s3, bucket, key, etag)
    log.info("A web upload became document %s of %s", document_id, upload.owner)
    return AdoptionResult(Adoption.ADOPTED, key, document)


def _delete_if_unchanged(s3: Any, bucket: str, key: str, etag: str) -> None:
    """Delete the uploaded object unless it was replaced since (a newer upload, with an event of
    its own, is never deleted unadopted)."""
    try:
        s3.delete_object(Bucket=bucket, Key=key, IfMatch=etag)
    except ClientError as exc:
        if error_code(exc) in {"PreconditionFailed", "NoSuchKey"}:
            return
        raise translate(exc, "remove the uploaded file from its upload key") from exc
    except BotoCoreError as exc:
        raise translate(exc, "remove the uploaded file from its upload key") from exc


def _is_precondition_failed(error: DmsError) -> bool:
    cause = error.__cause__
    return isinstance(cause, ClientError) and error_code(cause) in {"PreconditionFailed", "412"}


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
