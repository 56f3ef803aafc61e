"""The ObjectCreated Lambda: a file a web app uploads under a user's folder becomes a document.

Wired in resources/cloudformation/dms-api.yaml to the bucket's "Object Created" events (through
EventBridge, so the bucket stays in the backend stack); S3 event notifications (``Records``) are
understood too. Each object goes through :func:`dms_desktop.core.web_uploads.adopt_web_upload`,
the same handler the local sandbox runs. Only objects of the function's own bucket are handled.
A backend failure raises, so Lambda retries the event; the handler is idempotent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

import boto3

from ..core.aws import client_config
from ..core.errors import ConfigError
from ..core.repository import DocumentRepository
from ..core.web_uploads import Adoption, adopt_web_upload
from .backend import BUCKET_VARIABLE, TABLE_VARIABLE
from .jsonlog import configure_api_logging

log = configure_api_logging()


class WebUploadBackend:
    """The clients of one Lambda container, from its environment."""

    def __init__(self, s3: Any, dynamodb: Any, table: str, bucket: str) -> None:
        self.s3 = s3
        self.repository = DocumentRepository(dynamodb, table)
        self.bucket = bucket

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> WebUploadBackend:
        missing = [name for name in (TABLE_VARIABLE, BUCKET_VARIABLE) if not environ.get(name)]
        if missing:
            raise ConfigError(f"The function's environment lacks {', '.join(missing)}.")
        session = boto3.session.Session()
        factory: Any = session.client  # boto3-stubs overloads every service name
        return cls(
            factory("s3", config=client_config()),
            factory("dynamodb", config=client_config()),
            environ[TABLE_VARIABLE],
            environ[BUCKET_VARIABLE],
        )


@cache
def current_backend() -> WebUploadBackend:
    """This container's backend (``current_backend.cache_clear()`` forgets it, for tests)."""
    return WebUploadBackend.from_environment()


def created_objects(event: Any) -> Iterator[tuple[str, str]]:
    """(bucket, key) of each object an event says was created: an EventBridge "Object Created"
    event, or S3 event notification records (whose keys are URL-encoded)."""
    if not isinstance(event, dict):
        return
    detail = event.get("detail")
    if event.get("source") == "aws.s3" and isinstance(detail, dict):
        bucket = (detail.get("bucket") or {}).get("name")
        key = (detail.get("object") or {}).get("key")
        if isinstance(bucket, str) and isinstance(key, str):
            yield bucket, key
        return
    for record in event.get("Records") or []:
        if not isinstance(record, dict) or not str(record.get("eventName", "")).startswith(
            "ObjectCreated:"
        ):
            continue
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = (s3.get("object") or {}).get("key")
        if isinstance(bucket, str) and isinstance(key, str):
            yield bucket, unquote_plus(key)


def handle_object_created(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point: adopt each web upload the event names; returns what it did."""
    backend = current_backend()
    outcomes: dict[str, str] = {}
    for bucket, key in created_objects(event):
        if bucket != backend.bucket:
            log.warning("Ignored an object of another bucket: %s", bucket)
            continue
        result = adopt_web_upload(backend.s3, backend.repository, bucket, key)
        if result.outcome is Adoption.GONE and event.get("source") == "aws.s3":
            spelled = unquote_plus(key)  # in case the event URL-encodes the key as S3's do
            if spelled != key:
                result = adopt_web_upload(backend.s3, backend.repository, bucket, spelled)
        outcomes[result.key] = result.outcome.value
        log.info(
            "object created",
            extra={
                "fields": {
                    "operation": "ObjectCreated",
                    "requestId": str(getattr(context, "aws_request_id", "") or ""),
                    "outcome": result.outcome.value,
                    "documentId": result.document.document_id if result.document else None,
                    "userId": result.document.user_id if result.document else None,
                    "reason": result.reason or None,
                }
            },
        )
    return {"objects": outcomes}
