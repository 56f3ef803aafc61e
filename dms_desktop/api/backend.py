"""The AWS side of the functions: clients, the core's repository, blob store and service.

Built once per Lambda container from its environment (the table, bucket, client token and
pending upload table names the SAM template sets) and reused by every call in that container.
The clients use the function's own role; which user a call is for comes from the identity API
Gateway authorised only (see handlers.caller_id), and every key is built from that user id (the
core's object_key, the repository's partition key).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config

from ..core.aws import client_config
from ..core.blobs import BlobStore, content_disposition
from ..core.errors import ConfigError
from ..core.models import Document
from ..core.repository import DocumentRepository
from ..core.schema import DEFAULT_TRASH_DAYS
from ..core.service import DocumentService
from .idempotency import ClientTokens
from .pending import PendingUploads

TABLE_VARIABLE = "DMS_TABLE_NAME"
BUCKET_VARIABLE = "DMS_BUCKET_NAME"
CLIENT_TOKENS_VARIABLE = "DMS_CLIENT_TOKENS_TABLE"
PENDING_UPLOADS_VARIABLE = "DMS_PENDING_UPLOADS_TABLE"
TRASH_DAYS_VARIABLE = "DMS_TRASH_DAYS"  # DeleteDocument's: the stack's TrashRetentionDays

MAX_TRASH_DAYS = 365  # the templates' TrashRetentionDays MaxValue
UPLOAD_URL_SECONDS = 300
DOWNLOAD_URL_SECONDS = 300

# API Gateway gives up after 29 s; fail well before that instead of retrying for a minute.
_LAMBDA_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "total_max_attempts": 3},
)
# Presigned URLs: SigV4 (the bucket is KMS-encrypted) on the bucket's regional host name.
_S3_CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})


@dataclass(frozen=True)
class Backend:
    repository: DocumentRepository
    blobs: BlobStore
    client_tokens: ClientTokens
    pending: PendingUploads
    s3: Any
    trash_days: int = DEFAULT_TRASH_DAYS

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Backend:
        missing = [
            name
            for name in (
                TABLE_VARIABLE,
                BUCKET_VARIABLE,
                CLIENT_TOKENS_VARIABLE,
                PENDING_UPLOADS_VARIABLE,
            )
            if not environ.get(name)
        ]
        if missing:
            raise ConfigError(f"The function's environment lacks {', '.join(missing)}.")
        session = boto3.session.Session()
        config = client_config().merge(_LAMBDA_CLIENT_CONFIG)
        factory: Any = session.client  # boto3-stubs overloads every service name
        dynamodb = factory("dynamodb", config=config)
        s3 = factory("s3", config=config.merge(_S3_CONFIG))
        return cls(
            repository=DocumentRepository(dynamodb, environ[TABLE_VARIABLE]),
            blobs=BlobStore(s3, environ[BUCKET_VARIABLE]),
            client_tokens=ClientTokens(dynamodb, environ[CLIENT_TOKENS_VARIABLE]),
            pending=PendingUploads(dynamodb, environ[PENDING_UPLOADS_VARIABLE]),
            s3=s3,
            trash_days=_trash_days(environ.get(TRASH_DAYS_VARIABLE)),
        )

    def service(self, user_id: str) -> DocumentService:
        """The core's document service for the signed-in caller."""
        return DocumentService(self.repository, self.blobs, user_id, trash_days=self.trash_days)

    def upload_target(self, document: Document) -> dict[str, Any]:
        """A presigned PUT for the document's body. It signs the content type and the SHA-256,
        so S3 refuses a body that does not match the checksum in the metadata, and the
        Content-Disposition that names the file for downloads (the Storage Browser's too)."""
        checksum = base64.b64encode(bytes.fromhex(document.checksum)).decode("ascii")
        disposition = content_disposition(document.filename)
        url = self.s3.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self.blobs.bucket,
                "Key": document.s3_key,
                "ContentType": document.file_type,
                "ContentDisposition": disposition,
                "ChecksumSHA256": checksum,
            },
            ExpiresIn=UPLOAD_URL_SECONDS,
        )
        return {
            "url": url,
            "method": "PUT",
            "headers": {
                "Content-Type": document.file_type,
                "Content-Disposition": disposition,
                "x-amz-checksum-sha256": checksum,
            },
            "expiresIn": UPLOAD_URL_SECONDS,
        }

    def download_target(self, document: Document) -> dict[str, Any]:
        """A presigned GET for the body, saved under the document's filename."""
        url = self.s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.blobs.bucket,
                "Key": document.s3_key,
                "ResponseContentType": document.file_type,
                "ResponseContentDisposition": (
                    f"attachment; filename*=UTF-8''{quote(document.filename, safe='')}"
                ),
            },
            ExpiresIn=DOWNLOAD_URL_SECONDS,
        )
        return {"url": url, "method": "GET", "expiresIn": DOWNLOAD_URL_SECONDS}


def _trash_days(text: str | None) -> int:
    if not text:
        return DEFAULT_TRASH_DAYS
    if not text.isdecimal() or not 1 <= int(text) <= MAX_TRASH_DAYS:
        raise ConfigError(f"{TRASH_DAYS_VARIABLE} must be 1 to {MAX_TRASH_DAYS} days ({text!r}).")
    return int(text)


@cache
def current_backend() -> Backend:
    """This container's backend (``current_backend.cache_clear()`` forgets it, for tests)."""
    return Backend.from_environment()
