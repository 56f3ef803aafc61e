"""The TrashPurge Lambda function: when DynamoDB's TTL removes the item of a document whose time
in the trash is over, delete its body (every version of it) from the bucket.

It reads the Documents table's stream through its own event source mapping (dms-api.yaml),
whose filter passes only REMOVE records made by the TTL (``userIdentity`` of type Service,
principal dynamodb.amazonaws.com); the code checks that again, and that the removed item was in
the trash (core.trash_purge), and passes over every other record. The body's key follows from
the record's keys (owner and document id), never from an attribute of the item.

Failures are answered as partial batch failures (``ReportBatchItemFailures``), as the search
indexer does: the first record whose body could not be deleted and everything after it are
tried again; deleting a body twice is harmless.
"""

from __future__ import annotations

import json
import logging
import os
import time
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from ..core.aws import client_config
from ..core.errors import ConfigError
from ..core.trash_purge import delete_body_for_good, purged_from_trash

BUCKET_VARIABLE = "DMS_BUCKET_NAME"

log = logging.getLogger("dms_desktop.trash_purge")
log.setLevel(logging.INFO)

_S3_CONFIG = Config(connect_timeout=2, read_timeout=20, retries={"mode": "standard"})


@cache
def current_bucket() -> tuple[Any, str]:
    """This container's S3 client and the bucket (``current_bucket.cache_clear()`` forgets
    them, for tests)."""
    bucket = os.environ.get(BUCKET_VARIABLE)
    if not bucket:
        raise ConfigError(f"The function's environment lacks {BUCKET_VARIABLE}.")
    factory: Any = boto3.session.Session().client
    return factory("s3", config=client_config().merge(_S3_CONFIG)), bucket


def handle_stream(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Delete the bodies of the documents the trash purged in a batch of stream records; answer
    the first record that failed, if any."""
    started = time.perf_counter()
    records = event.get("Records") if isinstance(event, dict) else None
    records = records if isinstance(records, list) else []
    purged = skipped = versions = 0
    failed_at: str | None = None
    error: str | None = None
    for record in records:
        document = purged_from_trash(record)
        if document is None:
            skipped += 1
            continue
        try:
            s3, bucket = current_bucket()
            versions += delete_body_for_good(s3, bucket, document.user_id, document.document_id)
        except Exception as exc:  # this record and those after it are tried again
            failed_at = _sequence_number(record)
            error = str(exc)
            log.warning("could not delete the body of a purged document", exc_info=True)
            break
        purged += 1
    log.info(
        json.dumps(
            {
                "operation": "PurgeTrashBodies",
                "requestId": str(getattr(context, "aws_request_id", "") or ""),
                "records": len(records),
                "purged": purged,
                "versionsDeleted": versions,
                "skipped": skipped,
                "failedAt": failed_at,
                "error": error[:300] if error else None,
                "durationMs": round((time.perf_counter() - started) * 1000, 1),
            }
        )
    )
    return {"batchItemFailures": [{"itemIdentifier": failed_at}] if failed_at else []}


def _sequence_number(record: Any) -> str:
    change = record.get("dynamodb") if isinstance(record, dict) else None
    number = change.get("SequenceNumber") if isinstance(change, dict) else None
    return str(number or "")
