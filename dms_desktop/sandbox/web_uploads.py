"""The sandbox's ObjectCreated handler: what the Lambda does on AWS, run after each upload.

moto cannot invoke Lambda functions without Docker, so the sandbox calls the same handler
(:func:`dms_desktop.core.web_uploads.adopt_web_upload`) itself, once a request that stored an
object under a user's folder is durable and before it is answered: when a web app's upload
returns, its document is listed already.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.web_uploads import adopt_web_upload, web_upload_of

log = logging.getLogger(__name__)

Address = tuple[Any, ...]


class ObjectCreatedHandler:
    """Adopts the web uploads among the objects a request stored (clients are thread-safe)."""

    def __init__(self, s3: Any, dynamodb: Any, table: str, bucket: str) -> None:
        self._s3 = s3
        self._dynamodb = dynamodb
        self._repository = DocumentRepository(dynamodb, table)
        self._bucket = bucket

    def created_keys(self, environ: dict[str, Any], addresses: Iterable[Address]) -> list[str]:
        """The web uploads a request stored: PUT (PutObject, CopyObject) or POST (completing a
        multipart upload), not deletes, and only in the document bucket."""
        method = environ.get("REQUEST_METHOD", "")
        if method not in ("PUT", "POST") or "delete" in str(environ.get("QUERY_STRING", "")):
            return []
        return sorted(
            str(address[4])
            for address in addresses
            if address[0] == "s3-object"
            and address[3] == self._bucket
            and web_upload_of(str(address[4])) is not None
        )

    def handle(self, keys: Iterable[str]) -> None:
        """Adopt each key; a failure is logged (the object stays, the check reports it)."""
        for key in keys:
            try:
                result = adopt_web_upload(self._s3, self._repository, self._bucket, key)
            except Exception:  # a DmsError or a bug: the upload itself is stored, answer it
                log.exception("A web upload could not be made a document")
                continue
            log.info("A web upload: %s", result.outcome.value)

    def close(self) -> None:
        self._s3.close()
        self._dynamodb.close()
