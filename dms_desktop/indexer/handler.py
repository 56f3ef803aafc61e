"""The indexer Lambda function: the Documents table's stream in, the OpenSearch index kept in
step (the same core StreamIndexer the sandbox runs).

The event source mapping (dms-api.yaml) hands it batches of stream records in order, bisects a
failing batch, retries a bounded number of times and sends what still fails to an SQS queue. The
function answers partial batch failures (``ReportBatchItemFailures``): the first record it could
not index and everything after it are tried again; what it did index is not. A record that is
not a document change is logged and passed over, never retried.

Bodies are read from S3 by the key the owner and the document id give (``schema.object_key``),
at most the bytes the extractor needs (a ranged GET); texts are cached in /tmp by checksum for
the life of the container.
"""

from __future__ import annotations

import json
import logging
import os
import time
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from ..core.aws import aws_errors, client_config
from ..core.errors import ConfigError
from ..core.schema import object_key
from ..core.search.extract import TextCache
from ..core.search.indexer import StreamIndexer
from ..core.search.opensearch import (
    SEARCH_ENDPOINT_VARIABLE,
    SEARCH_SERVICE_VARIABLE,
    OpenSearchIndex,
    signed_client,
)

BUCKET_VARIABLE = "DMS_BUCKET_NAME"
TEXT_CACHE = Path("/tmp/dms-texts")  # noqa: S108 (Lambda's own scratch space)

log = logging.getLogger("dms_desktop.indexer")
log.setLevel(logging.INFO)

_S3_CONFIG = Config(connect_timeout=2, read_timeout=20, retries={"mode": "standard"})


class S3Bodies:
    """Reads the first bytes of a document's body."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def read(self, user_id: str, document_id: str, limit: int) -> tuple[bytes, bool]:
        key = object_key(user_id, document_id)
        # NoSuchKey becomes NotFound (the name is indexed without its text); anything else is
        # Unavailable, and the record is tried again.
        with aws_errors("read a document's body for the search index"):
            answer = self._s3.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{limit - 1}")
            body = answer["Body"].read()
        total = str(answer.get("ContentRange", "")).rpartition("/")[2]
        more = total.isdigit() and int(total) > len(body)
        return body, more


@cache
def current_indexer() -> StreamIndexer:
    """This container's indexer (``current_indexer.cache_clear()`` forgets it, for tests)."""
    endpoint = os.environ.get(SEARCH_ENDPOINT_VARIABLE)
    bucket = os.environ.get(BUCKET_VARIABLE)
    if not endpoint or not bucket:
        raise ConfigError(
            f"The function's environment lacks {SEARCH_ENDPOINT_VARIABLE} or {BUCKET_VARIABLE}."
        )
    session = boto3.session.Session()
    region = session.region_name or os.environ.get("AWS_REGION", "us-east-1")
    service = os.environ.get(SEARCH_SERVICE_VARIABLE, "es")
    index = OpenSearchIndex(signed_client(endpoint, region, service, session))
    index.ensure_index()
    factory: Any = session.client
    s3 = factory("s3", config=client_config().merge(_S3_CONFIG))
    return StreamIndexer(index, S3Bodies(s3, bucket).read, TextCache(TEXT_CACHE))


def handle_stream(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Index a batch of stream records; answer the first one that failed, if any."""
    started = time.perf_counter()
    records = event.get("Records") if isinstance(event, dict) else None
    records = records if isinstance(records, list) else []
    outcome = current_indexer().process(records)
    failures = []
    if outcome.failed_sequence is not None:
        failures.append({"itemIdentifier": outcome.failed_sequence})
    log.info(
        json.dumps(
            {
                "operation": "IndexStream",
                "requestId": str(getattr(context, "aws_request_id", "") or ""),
                "records": len(records),
                "applied": outcome.applied,
                "skipped": outcome.skipped,
                "unreadable": outcome.unreadable,
                "textReads": outcome.text_reads,
                "failedAt": outcome.failed_sequence,
                "error": outcome.error[:300] if outcome.error else None,
                "durationMs": round((time.perf_counter() - started) * 1000, 1),
            }
        )
    )
    return {"batchItemFailures": failures}
