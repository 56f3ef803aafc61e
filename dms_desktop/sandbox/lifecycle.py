"""What the sandbox keeps up to date beyond moto: resources an earlier version did not create,
the trash's retention and the expiry of presigned links.

A sandbox folder outlives app versions: its table was made from the template of its first
start. :func:`upgrade_resources` adds what later templates define (the trash index), through the
sandbox's own API, so the change is logged and kept like any other.

The bucket keeps old versions of bodies (core.versions); moto's CloudFormation does not switch
its versioning on, so the first start does (:func:`keep_old_versions`), and so does the next start
of a folder made before. moto does not act on the bucket's lifecycle rule either:
:func:`expire_old_versions` deletes what the rule would (an old version replaced more than
``OLD_VERSION_DAYS`` ago, and delete markers with nothing left behind them), at start and then
hourly.

moto does not act on the table's TTL. :class:`TrashPurger` does what DynamoDB's TTL and the
body-removing stream consumer do on AWS, for the trash: at start and then every minute, each
document whose time in the trash is over (``expiresAt`` past, ``trashedAt`` set) loses its item
and its body (every stored version of it: core.trash_purge, the code the AWS stream consumer
runs). Test records past their expiry are left to `dms admin cleanup --expired`, as
before.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from dms_desktop.core.schema import (
    BODY_PREFIX,
    EXPIRES_AT,
    OLD_VERSION_DAYS,
    TRASH_INDEX,
    TRASHED_AT,
    item_key,
    table_definition,
)
from dms_desktop.core.trash_purge import delete_body_for_good
from dms_desktop.sandbox.info import SHARE_PARAM, share_link_proof

log = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 60.0
OLD_VERSIONS_EVERY = 60  # purge rounds between two expiries of old versions (an hour)


def keep_old_versions(s3: Any, bucket: str) -> None:
    """Switch the bucket's versioning on, as the template's VersioningConfiguration does on
    AWS (``s3``, a client of the sandbox, is closed when done)."""
    try:
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            log.info("The sandbox's bucket %s keeps old versions now", bucket)
    finally:
        s3.close()


def expire_old_versions(
    s3: Any, bucket: str, now: datetime | None = None, prefix: str = BODY_PREFIX
) -> int:
    """What the template's lifecycle rule does: delete each old version of a body that a newer
    one replaced more than OLD_VERSION_DAYS ago, and each delete marker that is all that is
    left of a key. Returns the number of versions and markers deleted."""
    limit = (now or datetime.now(UTC)) - timedelta(days=OLD_VERSION_DAYS)
    entries: dict[str, list[tuple[bool, datetime, str, bool]]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            entries.setdefault(version["Key"], []).append(
                (version["IsLatest"], version["LastModified"], version["VersionId"], False)
            )
        for marker in page.get("DeleteMarkers", []):
            entries.setdefault(marker["Key"], []).append(
                (marker["IsLatest"], marker["LastModified"], marker["VersionId"], True)
            )
    deleted = 0
    for key, found in entries.items():
        # The current one first (S3 says which: times are whole seconds, so an object deleted
        # in the second it was stored has its delete marker at the same time as its version,
        # and ordering by time alone made the old version current again), then newest first.
        found.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
        doomed = [
            version_id
            for (_, _, version_id, _), (_, replaced, _, _) in zip(found[1:], found, strict=False)
            if replaced < limit
        ]
        left = len(found) - len(doomed)
        if left == 1 and found[0][3]:  # only a delete marker would be left
            doomed.append(found[0][2])
        for version_id in doomed:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
            deleted += 1
    if deleted:
        log.info("Expired %d old version(s) of bodies", deleted)
    return deleted


def upgrade_resources(dynamodb: Any, table: str) -> None:
    """Add the global indexes of ``table_definition`` that the sandbox's table lacks (through
    ``dynamodb``, a client of the sandbox, closed when done)."""
    try:
        _add_missing_indexes(dynamodb, table)
    finally:
        dynamodb.close()


def _add_missing_indexes(dynamodb: Any, table: str) -> None:
    wanted = table_definition(table)
    existing = dynamodb.describe_table(TableName=table)["Table"]
    have = {index["IndexName"] for index in existing.get("GlobalSecondaryIndexes", [])}
    types = {item["AttributeName"]: item for item in wanted["AttributeDefinitions"]}
    for index in wanted["GlobalSecondaryIndexes"]:
        if index["IndexName"] in have:
            continue
        keys = [part["AttributeName"] for part in index["KeySchema"]]
        dynamodb.update_table(
            TableName=table,
            AttributeDefinitions=[types[name] for name in keys],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        log.info("Added the index %s to the sandbox's table %s", index["IndexName"], table)


def purge_expired_trash(
    dynamodb: Any, s3: Any, table: str, bucket: str, now: float | None = None
) -> int:
    """Delete each document whose time in the trash is over (its item, then its body); the
    number purged. The item goes only if it is still in the trash and expired (a document
    restored meanwhile is kept)."""
    moment = int(now if now is not None else time.time())
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": TRASH_INDEX,
        "FilterExpression": f"{EXPIRES_AT} < :now",
        "ExpressionAttributeValues": {":now": {"N": str(moment)}},
        "ProjectionExpression": "userId, documentId",
    }
    purged = 0
    while True:
        response = dynamodb.scan(**request)
        for item in response.get("Items", []):
            user_id, document_id = item["userId"]["S"], item["documentId"]["S"]
            try:
                dynamodb.delete_item(
                    TableName=table,
                    Key=item_key(user_id, document_id),
                    ConditionExpression=f"attribute_exists({TRASHED_AT}) AND {EXPIRES_AT} < :now",
                    ExpressionAttributeValues={":now": {"N": str(moment)}},
                )
            except dynamodb.exceptions.ConditionalCheckFailedException:
                continue  # restored meanwhile
            delete_body_for_good(s3, bucket, user_id, document_id)
            purged += 1
        last = response.get("LastEvaluatedKey")
        if not last:
            break
        request["ExclusiveStartKey"] = last
    if purged:
        log.info("Purged %d document(s) whose time in the trash was over", purged)
    return purged


class TrashPurger:
    """Runs :func:`purge_expired_trash` now and then every ``interval`` seconds on a thread of
    its own, until :meth:`stop`."""

    def __init__(
        self,
        make_client: Callable[[str], Any],
        table: str,
        bucket: str,
        interval: float = PURGE_INTERVAL_SECONDS,
    ) -> None:
        self._make_client = make_client
        self._table = table
        self._bucket = bucket
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-trash-purge", daemon=True)
        self._rounds = 0

    def purge_now(self) -> int:
        dynamodb, s3 = self._make_client("dynamodb"), self._make_client("s3")
        try:
            purged = purge_expired_trash(dynamodb, s3, self._table, self._bucket)
            if self._rounds % OLD_VERSIONS_EVERY == 0:
                expire_old_versions(s3, self._bucket)
            self._rounds += 1
            return purged
        finally:
            dynamodb.close()
            s3.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.purge_now()
            except Exception:  # the next round tries again; the server keeps serving
                log.exception("Could not purge the trash")


def presigned_link_expired(query_string: str, now: datetime | None = None) -> bool:
    """Whether a request is a SigV4 presigned link past its expiry (``X-Amz-Date`` +
    ``X-Amz-Expires``). S3 refuses those; moto does not check, so the sandbox does, and a
    share link stops working when it should."""
    if "X-Amz-Expires" not in query_string:
        return False
    params = parse_qs(query_string)
    try:
        signed = datetime.strptime(params["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        lifetime = int(params["X-Amz-Expires"][0])
    except (KeyError, IndexError, ValueError):
        return False  # not a well-formed presigned link: moto answers it as it does
    return (now or datetime.now(UTC)) > signed + timedelta(seconds=lifetime)


EXPIRED_LINK_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)


def with_share_proof(url: str, key: str) -> str:
    """``url`` (a presigned GET of the sandbox) with the proof that its owner made it: the
    sandbox lets such a link in without its key (see ``is_owners_share_link``)."""
    parts = urlsplit(url)
    signature = parse_qs(parts.query).get("X-Amz-Signature", [""])[0]
    proof = share_link_proof(key, unquote(parts.path), signature)
    query = f"{parts.query}&{urlencode({SHARE_PARAM: proof})}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def is_owners_share_link(key: str, method: str, path: str, query_string: str) -> bool:
    """Whether a request is a GET of a share link the owner made (``with_share_proof``); ``path``
    as WSGI gives it (decoded)."""
    if method not in ("GET", "HEAD") or SHARE_PARAM not in query_string:
        return False
    params = parse_qs(query_string)
    signature = params.get("X-Amz-Signature", [""])[0]
    given = params.get(SHARE_PARAM, [""])[0]
    if not signature or not given:
        return False
    return hmac.compare_digest(share_link_proof(key, path, signature), given)
