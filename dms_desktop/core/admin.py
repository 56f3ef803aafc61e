"""Admin tools: clean up test records across all users, and check metadata against stored bodies.

Only for members of the Cognito group ``admins``: building an :class:`AdminService` for anyone
else raises :class:`AuthError` and nothing runs. The admin's credentials must allow a Scan of the
table, ListBucket / ListBucketMultipartUploads on ``private/``, GetObject / DeleteObject /
AbortMultipartUpload on ``private/*`` and BatchWriteItem / GetItem on the table.

Everything is two-step. :meth:`AdminService.plan_cleanup` and :meth:`AdminService.check` read
only (the dry run); :meth:`AdminService.delete` and :meth:`AdminService.repair` act on what the
admin confirmed, and write a JSON audit log (who, when, criteria, ids, outcome).

Deletion order: **metadata first, then bodies**, 1,000 documents at a time (40 BatchWriteItem
requests of 25, then one DeleteObjects request for the bodies whose metadata is gone). A document
disappears from every listing as soon as its metadata goes, and an interruption at any point
leaves at worst an invisible orphan body (found and removed by the consistency check), never
metadata that points at a missing body, i.e. a listed document whose download fails. Cancelling
stops before the next metadata batch; the bodies of the metadata already deleted are still
removed (one request), so a cancelled run leaves no new orphans either.

Test records may carry ``expiresAt`` (epoch seconds), the table's DynamoDB TTL attribute: AWS then
deletes their metadata on its own (within about two days); the criterion ``expired`` matches them
before that, and the bodies TTL leaves behind are orphan bodies for the check. Renames and retags
(UpdateItem SET of named attributes) keep it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import random
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError

from .aws import aws_errors, error_code, translate
from .cancellation import CancelToken, ProgressCallback
from .errors import AuthError, ConfigError, DmsError, NotFound, Unavailable, ValidationError
from .formatting import plural
from .identity import ADMIN_GROUP, SignedIn
from .journal import CleanupEntry, CleanupItem, Journal, Tracked
from .models import format_timestamp, parse_timestamp, tag_key, utc_now
from .schema import EXPIRES_AT, NAME_KEY, OWNER_NAME, TAG_KEYS

log = logging.getLogger(__name__)

BODY_PREFIX = "private/"
METADATA_BATCH = 25  # BatchWriteItem's limit
BODY_BATCH = 1000  # DeleteObjects' limit
DELETE_CHUNK = BODY_BATCH  # documents per metadata-then-bodies round
MAX_UNPROCESSED_ATTEMPTS = 8
BACKOFF_BASE = 0.05  # seconds; full jitter, doubled per attempt
BACKOFF_CAP = 2.0
CONFIRM_TYPED_ABOVE = 100  # more documents than this: the admin types the number to confirm
DEFAULT_STALE_HOURS = 24.0
DEFAULT_ORPHAN_GRACE = timedelta(minutes=10)
HASH_CHUNK = 1024 * 1024

Sleep = Callable[[float], None]
Clock = Callable[[], datetime]


def require_admin(user: SignedIn | None) -> SignedIn:
    """``user`` if they are an admin; AuthError (nothing runs) otherwise."""
    if user is None:
        raise AuthError("This tool needs admin rights: sign in as an administrator first.")
    if not user.is_admin:
        raise AuthError(
            f"This tool needs admin rights: {user.username} is not in the {ADMIN_GROUP!r} group. "
            "Sign in as an administrator."
        )
    return user


def needs_typed_confirmation(count: int) -> bool:
    """More than :data:`CONFIRM_TYPED_ABOVE` documents: confirm by typing their number."""
    return count > CONFIRM_TYPED_ABOVE


# --- criteria ---------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


@dataclass(frozen=True)
class CleanupCriteria:
    """Which documents a cleanup removes; every criterion given must hold (AND).

    ``orphans`` restricts the match to documents whose body is missing, and adds the bodies that
    have no metadata (matched by owner, size and upload time; not when a tag or name criterion is
    given, as such bodies have neither). ``expired`` matches records whose ``expiresAt`` is past.
    """

    tag: str | None = None
    name_prefix: str | None = None
    name_glob: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    owners: tuple[str, ...] = ()
    min_size: int | None = None
    max_size: int | None = None
    orphans: bool = False
    expired: bool = False

    def __post_init__(self) -> None:
        if self.name_prefix and self.name_glob:
            raise ValidationError("Give a filename prefix or a glob, not both.")
        if self.tag is not None and not self.tag.strip():
            raise ValidationError("The tag is empty.")
        for moment in (self.created_before, self.created_after):
            if moment is not None and moment.tzinfo is None:
                raise ValidationError("Dates must carry a time zone (e.g. 2024-05-01T00:00Z).")
        for size in (self.min_size, self.max_size):
            if size is not None and size < 0:
                raise ValidationError("Sizes are numbers of bytes, 0 or more.")
        if (
            self.min_size is not None
            and self.max_size is not None
            and self.min_size > self.max_size
        ):
            raise ValidationError("The minimum size is larger than the maximum size.")
        if (
            self.created_before is not None
            and self.created_after is not None
            and self.created_after >= self.created_before
        ):
            raise ValidationError("'Created after' must be earlier than 'created before'.")
        object.__setattr__(self, "owners", tuple(dict.fromkeys(o.strip() for o in self.owners)))
        if not self.is_selective:
            raise ValidationError(
                "Give at least one criterion (a tag, a name, dates, owners, sizes, orphans or "
                "expired): a cleanup never matches every document."
            )

    @property
    def is_selective(self) -> bool:
        return any(
            (
                self.tag,
                self.name_prefix,
                self.name_glob,
                self.created_before,
                self.created_after,
                self.owners,
                self.min_size is not None,
                self.max_size is not None,
                self.orphans,
                self.expired,
            )
        )

    @property
    def needs_metadata(self) -> bool:
        """Criteria that only metadata can satisfy (bodies without metadata never match)."""
        return bool(self.tag or self.name_prefix or self.name_glob or self.expired)

    def matches(self, record: StoredRecord, now: datetime) -> bool:
        """The same test as the Scan's FilterExpression, plus the glob (client side)."""
        if self.tag and _fold(self.tag.strip()) not in record.tag_keys:
            return False
        name = _fold(record.filename)
        if self.name_prefix and not name.startswith(_fold(self.name_prefix)):
            return False
        if self.name_glob and not fnmatch.fnmatchcase(name, _fold(self.name_glob)):
            return False
        if self.expired and (record.expires_at is None or record.expires_at >= now.timestamp()):
            return False
        return self.matches_body(record.user_id, record.size, record.created_at)

    def matches_body(self, user_id: str, size: int, created_at: datetime | None) -> bool:
        """The criteria that also apply to a body without metadata."""
        if self.owners and user_id not in self.owners:
            return False
        if self.min_size is not None and size < self.min_size:
            return False
        if self.max_size is not None and size > self.max_size:
            return False
        if self.created_before is not None and (
            created_at is None or created_at >= self.created_before
        ):
            return False
        return not (
            self.created_after is not None
            and (created_at is None or created_at <= self.created_after)
        )

    def scan_filter(self, now: datetime) -> tuple[str | None, dict[str, str], dict[str, Any]]:
        """(FilterExpression, names, values) narrowing the Scan server-side (the glob is not)."""
        conditions: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if self.tag:
            conditions.append(f"contains({TAG_KEYS}, :tag)")
            values[":tag"] = {"S": tag_key(self.tag)}
        if self.name_prefix:
            conditions.append(f"begins_with({NAME_KEY}, :prefix)")
            values[":prefix"] = {"S": _fold(self.name_prefix)}
        if self.created_before is not None:
            conditions.append("createdAt < :before")
            values[":before"] = {"S": format_timestamp(self.created_before)}
        if self.created_after is not None:
            conditions.append("createdAt > :after")
            values[":after"] = {"S": format_timestamp(self.created_after)}
        if self.owners:
            placeholders = [f":owner{number}" for number in range(len(self.owners))]
            conditions.append(f"userId IN ({', '.join(placeholders)})")
            values.update(
                {name: {"S": owner} for name, owner in zip(placeholders, self.owners, strict=True)}
            )
        if self.min_size is not None:
            names["#size"] = "size"
            conditions.append("#size >= :min")
            values[":min"] = {"N": str(self.min_size)}
        if self.max_size is not None:
            names["#size"] = "size"
            conditions.append("#size <= :max")
            values[":max"] = {"N": str(self.max_size)}
        if self.expired:
            conditions.append(f"{EXPIRES_AT} < :now")
            values[":now"] = {"N": str(int(now.timestamp()))}
        return (" AND ".join(conditions) or None), names, values

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "namePrefix": self.name_prefix,
            "nameGlob": self.name_glob,
            "createdBefore": format_timestamp(self.created_before) if self.created_before else None,
            "createdAfter": format_timestamp(self.created_after) if self.created_after else None,
            "owners": list(self.owners),
            "minSize": self.min_size,
            "maxSize": self.max_size,
            "orphans": self.orphans,
            "expired": self.expired,
        }


# --- what is stored ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRecord:
    """The fields of a metadata item the admin tools need, read leniently (damaged items too)."""

    user_id: str
    document_id: str
    filename: str
    size: int
    tags: tuple[str, ...]
    tag_keys: frozenset[str]
    created_at: datetime | None
    s3_key: str
    checksum: str
    expires_at: float | None
    owner_name: str = ""  # as the owner's app recorded it (see core.owner_names)


def record_from_item(item: dict[str, Any]) -> StoredRecord:
    def text(name: str, default: str = "") -> str:
        value = item.get(name, {})
        return str(value.get("S", default)) if isinstance(value, dict) else default

    def number(name: str) -> float | None:
        value = item.get(name, {})
        try:
            return float(value["N"]) if isinstance(value, dict) and "N" in value else None
        except (TypeError, ValueError):
            return None

    tags = tuple(
        str(entry.get("S", "")) for entry in item.get("tags", {}).get("L", []) if "S" in entry
    )
    keys = frozenset(
        str(entry.get("S", "")) for entry in item.get(TAG_KEYS, {}).get("L", []) if "S" in entry
    ) or frozenset(tag_key(tag) for tag in tags)
    try:
        created: datetime | None = parse_timestamp(text("createdAt"))
    except ValueError:
        created = None
    size = number("size")
    return StoredRecord(
        user_id=text("userId"),
        document_id=text("documentId"),
        filename=text("filename"),
        size=int(size) if size is not None else 0,
        tags=tags,
        tag_keys=keys,
        created_at=created,
        s3_key=text("s3Key"),
        checksum=text("checksum"),
        expires_at=number(EXPIRES_AT),
        owner_name=text(OWNER_NAME),
    )


@dataclass(frozen=True)
class StoredBody:
    key: str
    size: int
    last_modified: datetime

    @property
    def user_id(self) -> str:
        parts = self.key.split("/")
        return parts[1] if len(parts) >= 3 else ""

    @property
    def document_id(self) -> str:
        return self.key.rsplit("/", 1)[-1]


# --- plans and reports ------------------------------------------------------------------------


class PlanReason(StrEnum):
    MATCHED = "matched"
    BODY_MISSING = "body missing"
    NO_METADATA = "body without metadata"


@dataclass(frozen=True)
class PlannedDeletion:
    """One document (or bare body) a cleanup would delete."""

    user_id: str
    document_id: str
    filename: str
    size: int
    tags: tuple[str, ...]
    created_at: datetime | None
    s3_key: str
    reason: PlanReason = PlanReason.MATCHED

    @property
    def has_metadata(self) -> bool:
        return self.reason is not PlanReason.NO_METADATA

    @property
    def has_body(self) -> bool:
        return self.reason is not PlanReason.BODY_MISSING

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "documentId": self.document_id,
            "filename": self.filename,
            "size": self.size,
            "tags": list(self.tags),
            "createdAt": format_timestamp(self.created_at) if self.created_at else None,
            "s3Key": self.s3_key,
            "reason": self.reason.value,
        }


@dataclass(frozen=True)
class UserTotals:
    count: int
    bytes: int


@dataclass(frozen=True)
class CleanupPlan:
    """The dry run: what a cleanup would delete. Nothing has been deleted."""

    criteria: CleanupCriteria
    items: tuple[PlannedDeletion, ...]
    scanned: int
    planned_at: datetime
    owner_names: dict[str, str] = field(default_factory=dict)  # recorded on the items (by id)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def total_bytes(self) -> int:
        return sum(item.size for item in self.items)

    @property
    def per_user(self) -> dict[str, UserTotals]:
        totals: dict[str, list[int]] = {}
        for item in self.items:
            entry = totals.setdefault(item.user_id, [0, 0])
            entry[0] += 1
            entry[1] += item.size
        return {user: UserTotals(c, b) for user, (c, b) in sorted(totals.items())}

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "dryRun": True,
            "criteria": self.criteria.to_json_dict(),
            "count": self.count,
            "totalBytes": self.total_bytes,
            "scanned": self.scanned,
            "perUser": {
                user: {"count": t.count, "bytes": t.bytes} for user, t in self.per_user.items()
            },
            "documents": [item.to_json_dict() for item in self.items],
        }


@dataclass(frozen=True)
class Failure:
    """Something that could not be deleted, and why."""

    document_id: str
    what: str  # "metadata", "body", "upload"
    reason: str

    def to_json_dict(self) -> dict[str, str]:
        return {"documentId": self.document_id, "what": self.what, "reason": self.reason}


@dataclass
class DeletionReport:
    """What a real run did, exactly."""

    kind: str  # "cleanup" or "repair"
    admin: str
    started_at: datetime
    planned: int
    finished_at: datetime | None = None
    deleted: list[str] = field(default_factory=list)  # ids fully gone (metadata and body)
    metadata_deleted: list[str] = field(default_factory=list)
    bodies_deleted: list[str] = field(default_factory=list)  # S3 keys
    uploads_aborted: list[str] = field(default_factory=list)  # "key uploadId"
    bytes_freed: int = 0
    failed: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)  # repairs no longer needed
    cancelled: bool = False
    stopped_by: str | None = None  # a fatal error that ended the run early
    not_attempted: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    audit_log: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled and self.stopped_by is None

    def count_request(self, operation: str) -> None:
        self.requests[operation] = self.requests.get(operation, 0) + 1

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "admin": self.admin,
            "startedAt": format_timestamp(self.started_at),
            "finishedAt": format_timestamp(self.finished_at) if self.finished_at else None,
            "planned": self.planned,
            "deleted": self.deleted,
            "metadataDeleted": self.metadata_deleted,
            "bodiesDeleted": self.bodies_deleted,
            "uploadsAborted": self.uploads_aborted,
            "bytesFreed": self.bytes_freed,
            "failed": [failure.to_json_dict() for failure in self.failed],
            "skipped": [failure.to_json_dict() for failure in self.skipped],
            "cancelled": self.cancelled,
            "stoppedBy": self.stopped_by,
            "notAttempted": self.not_attempted,
            "requests": self.requests,
            "auditLog": str(self.audit_log) if self.audit_log else None,
        }


FAILS_STORED_CHECKSUM = "fails-stored-checksum"  # what _body_checksum says of a damaged body


class FindingKind(StrEnum):
    MISSING_BODY = "missing-body"  # metadata whose body is gone: repair deletes the metadata
    ORPHAN_BODY = "orphan-body"  # a body under private/ with no metadata: repair deletes it
    SIZE_MISMATCH = "size-mismatch"  # flagged only: which side is right is not knowable
    CHECKSUM_MISMATCH = "checksum-mismatch"  # flagged only (the body is damaged or replaced)
    STALE_UPLOAD = "stale-upload"  # an abandoned multipart upload: repair aborts it


REPAIRABLE_KINDS = frozenset(
    {FindingKind.MISSING_BODY, FindingKind.ORPHAN_BODY, FindingKind.STALE_UPLOAD}
)


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    key: str
    user_id: str
    document_id: str
    detail: str
    size: int = 0
    upload_id: str | None = None
    filename: str = ""

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "key": self.key,
            "userId": self.user_id,
            "documentId": self.document_id,
            "filename": self.filename,
            "size": self.size,
            "uploadId": self.upload_id,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CheckReport:
    """The consistency check's findings (a dry run: nothing was changed)."""

    findings: tuple[Finding, ...]
    documents: int
    bodies: int
    uploads: int
    checksums_verified: int
    checked_at: datetime
    owner_names: dict[str, str] = field(default_factory=dict)  # recorded on the items (by id)

    def of_kind(self, kind: FindingKind) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind is kind]

    @property
    def counts(self) -> dict[FindingKind, int]:
        return {kind: len(self.of_kind(kind)) for kind in FindingKind}

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "checkedAt": format_timestamp(self.checked_at),
            "documents": self.documents,
            "bodies": self.bodies,
            "uploads": self.uploads,
            "checksumsVerified": self.checksums_verified,
            "counts": {kind.value: count for kind, count in self.counts.items()},
            "findings": [finding.to_json_dict() for finding in self.findings],
        }


# --- the service ------------------------------------------------------------------------------


class AdminService:
    """Cross-user cleanup and consistency check, for an admin only (AuthError otherwise)."""

    def __init__(
        self,
        dynamodb: Any,
        s3: Any,
        table: str,
        bucket: str,
        admin: SignedIn,
        *,
        audit_dir: Path | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
        scan_segments: int = 1,
        journal: Journal | None = None,
    ) -> None:
        self._admin = require_admin(admin)
        self._dynamodb = dynamodb
        self._s3 = s3
        self._table = table
        self._bucket = bucket
        self._audit_dir = audit_dir
        self._sleep = sleep
        self._clock = clock
        self._segments = max(1, scan_segments)
        self._journal = journal  # batch deletes in flight, for the next start after a crash

    @property
    def admin(self) -> SignedIn:
        return self._admin

    # --- reading ---

    def _scan(self, criteria: CleanupCriteria | None = None) -> Iterator[dict[str, Any]]:
        """Every item (matching the criteria's server-side filter), page by page."""
        request: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
        if criteria is not None:
            expression, names, values = criteria.scan_filter(self._clock())
            if expression:
                request["FilterExpression"] = expression
                request["ExpressionAttributeValues"] = values
                if names:
                    request["ExpressionAttributeNames"] = names
        segments = [None] if self._segments == 1 else list(range(self._segments))
        for segment in segments:
            page_request = dict(request)
            if segment is not None:
                page_request.update(Segment=segment, TotalSegments=self._segments)
            while True:
                with aws_errors("scan the documents table"):
                    response = self._dynamodb.scan(**page_request)
                yield from response.get("Items", [])
                last = response.get("LastEvaluatedKey")
                if not last:
                    break
                page_request["ExclusiveStartKey"] = last

    def recorded_owner_names(self) -> dict[str, str]:
        """The owner names recorded on the documents, by owner id (see core.owner_names): one
        Scan that reads two attributes of the documents that carry a name."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "ProjectionExpression": "userId, #name",
            "FilterExpression": "attribute_exists(#name)",
            "ExpressionAttributeNames": {"#name": OWNER_NAME},
        }
        names: dict[str, str] = {}
        while True:
            with aws_errors("read the owner names"):
                response = self._dynamodb.scan(**request)
            for item in response.get("Items", []):
                record = record_from_item(item)
                if record.user_id and record.owner_name:
                    names[record.user_id] = record.owner_name
            last = response.get("LastEvaluatedKey")
            if not last:
                return names
            request["ExclusiveStartKey"] = last

    def _bodies(self) -> dict[str, StoredBody]:
        """Every object under ``private/`` (ListObjectsV2, 1,000 per request)."""
        bodies: dict[str, StoredBody] = {}
        request: dict[str, Any] = {"Bucket": self._bucket, "Prefix": BODY_PREFIX}
        while True:
            with aws_errors("list the stored files"):
                response = self._s3.list_objects_v2(**request)
            for entry in response.get("Contents", []):
                key = str(entry["Key"])
                bodies[key] = StoredBody(key, int(entry["Size"]), entry["LastModified"])
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                return bodies
            request["ContinuationToken"] = token

    def _body_exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 or error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise translate(exc, "look up a stored file") from exc
        except BotoCoreError as exc:
            raise translate(exc, "look up a stored file") from exc
        return True

    def _metadata_exists(self, user_id: str, document_id: str) -> bool:
        with aws_errors("read a document's metadata"):
            response = self._dynamodb.get_item(
                TableName=self._table,
                Key={"userId": {"S": user_id}, "documentId": {"S": document_id}},
                ConsistentRead=True,
                ProjectionExpression="documentId",
            )
        return "Item" in response

    # --- cleanup ---

    def plan_cleanup(
        self,
        criteria: CleanupCriteria,
        *,
        orphan_grace: timedelta = DEFAULT_ORPHAN_GRACE,
        cancel: CancelToken | None = None,
    ) -> CleanupPlan:
        """The dry run: the documents ``criteria`` match. Reads only; deletes nothing."""
        now = self._clock()
        items: list[PlannedDeletion] = []
        records: list[StoredRecord] = []
        known: set[str] = set()
        scanned = 0
        # Orphans need every key (to tell bodies without metadata): one unfiltered Scan then.
        for item in self._scan(None if criteria.orphans else criteria):
            scanned += 1
            if cancel is not None and scanned % 1000 == 0:
                cancel.raise_if_cancelled("The preview")
            record = record_from_item(item)
            known.add(record.s3_key)
            if record.user_id and record.document_id and criteria.matches(record, now):
                records.append(record)
        if criteria.orphans:
            bodies = self._bodies()
            for record in records:
                if record.s3_key not in bodies and not self._body_exists(record.s3_key):
                    items.append(_planned(record, PlanReason.BODY_MISSING))
            if not criteria.needs_metadata:
                for body in bodies.values():
                    if body.key in known or body.last_modified > now - orphan_grace:
                        continue
                    if criteria.matches_body(body.user_id, body.size, body.last_modified):
                        items.append(
                            PlannedDeletion(
                                user_id=body.user_id,
                                document_id=body.document_id,
                                filename="",
                                size=body.size,
                                tags=(),
                                created_at=body.last_modified,
                                s3_key=body.key,
                                reason=PlanReason.NO_METADATA,
                            )
                        )
        else:
            items = [_planned(record, PlanReason.MATCHED) for record in records]
        items.sort(key=lambda planned: (planned.user_id, planned.document_id))
        return CleanupPlan(criteria, tuple(items), scanned, now, recorded_owner_names(records))

    def delete(
        self,
        plan: CleanupPlan,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> DeletionReport:
        """Delete what ``plan`` lists: metadata first, then bodies (see the module docstring)."""
        report = DeletionReport("cleanup", self._admin.username, self._clock(), plan.count)
        try:
            self._delete_items(list(plan.items), report, progress, cancel)
        finally:
            report.finished_at = self._clock()
            report.audit_log = self._write_audit(report, plan.criteria.to_json_dict())
        return report

    def _delete_items(
        self,
        items: list[PlannedDeletion],
        report: DeletionReport,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> None:
        """Delete in rounds, journaled: after a crash the next start finds the run."""
        tracked: Tracked | None = None
        if self._journal is not None and items:
            tracked = self._journal.track(
                CleanupEntry(
                    admin=self._admin.username,
                    items=tuple(
                        CleanupItem(
                            user_id=item.user_id,
                            document_id=item.document_id,
                            s3_key=item.s3_key,
                            has_metadata=item.has_metadata,
                            has_body=item.has_body,
                        )
                        for item in items
                    ),
                )
            )

        def settled(count: int) -> None:
            if tracked is not None:
                tracked.update(tracked.entry.model_copy(update={"settled": count}))

        try:
            self._delete_in_rounds(items, report, progress, cancel, settled)
        except BaseException:
            if tracked is not None:
                tracked.leave_for_next_start()
            raise
        if tracked is not None:
            tracked.finish()

    def _delete_in_rounds(
        self,
        items: list[PlannedDeletion],
        report: DeletionReport,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        settled: Callable[[int], None],
    ) -> None:
        total = len(items)
        if progress is not None:
            progress(0, total)
        for start in range(0, total, DELETE_CHUNK):
            chunk = items[start : start + DELETE_CHUNK]
            bodies_to_delete: list[PlannedDeletion] = []
            processed = 0
            try:
                for batch_start in range(0, len(chunk), METADATA_BATCH):
                    if cancel is not None and cancel.cancelled:
                        report.cancelled = True
                        break
                    batch = chunk[batch_start : batch_start + METADATA_BATCH]
                    with_metadata = [item for item in batch if item.has_metadata]
                    gone = self._delete_metadata(with_metadata, report)
                    for item in batch:
                        if item.has_metadata and item.document_id not in gone:
                            continue  # failed: its body stays with its metadata
                        if item.has_body:
                            bodies_to_delete.append(item)
                        else:
                            report.deleted.append(item.document_id)
                    processed += len(batch)
                    if progress is not None:
                        progress(start + processed, total)
            except (AuthError, ConfigError) as error:
                report.stopped_by = str(error)
            # Always remove the bodies whose metadata is gone, even after a cancel or a fatal
            # error: otherwise they would be left as orphans.
            self._delete_bodies(bodies_to_delete, report)
            if report.cancelled or report.stopped_by is not None:
                report.not_attempted = total - start - processed
                return
            settled(start + len(chunk))

    def _delete_metadata(self, batch: list[PlannedDeletion], report: DeletionReport) -> set[str]:
        """One BatchWriteItem of up to 25 deletes, retrying unprocessed items with backoff.

        Returns the ids whose metadata is gone; the others are in ``report.failed``.
        """
        if not batch:
            return set()
        by_key = {(item.user_id, item.document_id): item for item in batch}
        pending: list[dict[str, Any]] = [
            {
                "DeleteRequest": {
                    "Key": {"userId": {"S": item.user_id}, "documentId": {"S": item.document_id}}
                }
            }
            for item in batch
        ]
        for attempt in range(MAX_UNPROCESSED_ATTEMPTS):
            if attempt:
                self._sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))  # noqa: S311
            report.count_request("BatchWriteItem")
            try:
                response = self._dynamodb.batch_write_item(RequestItems={self._table: pending})
            except (ClientError, BotoCoreError) as exc:
                error = translate(exc, "delete document metadata")
                if isinstance(error, AuthError | ConfigError):
                    raise error from exc
                for request in pending:
                    key = request["DeleteRequest"]["Key"]
                    report.failed.append(Failure(key["documentId"]["S"], "metadata", str(error)))
                    by_key.pop((key["userId"]["S"], key["documentId"]["S"]), None)
                pending = []
                break
            pending = list(response.get("UnprocessedItems", {}).get(self._table, []))
            if not pending:
                break
        for request in pending:
            key = request["DeleteRequest"]["Key"]
            by_key.pop((key["userId"]["S"], key["documentId"]["S"]), None)
            report.failed.append(
                Failure(
                    key["documentId"]["S"],
                    "metadata",
                    f"still unprocessed after {MAX_UNPROCESSED_ATTEMPTS} attempts (throttled); "
                    "run the cleanup again",
                )
            )
        for item in by_key.values():
            report.metadata_deleted.append(item.document_id)
        return {document_id for _user, document_id in by_key}

    def _delete_bodies(self, items: list[PlannedDeletion], report: DeletionReport) -> None:
        """DeleteObjects, 1,000 keys per request; per-key errors go to ``report.failed``."""
        for start in range(0, len(items), BODY_BATCH):
            batch = items[start : start + BODY_BATCH]
            by_key = {item.s3_key: item for item in batch}
            report.count_request("DeleteObjects")
            try:
                with aws_errors("delete stored files"):
                    response = self._s3.delete_objects(
                        Bucket=self._bucket,
                        Delete={"Objects": [{"Key": key} for key in by_key], "Quiet": True},
                    )
            except DmsError as error:
                errors = [
                    {"Key": key, "Code": type(error).__name__, "Message": str(error)}
                    for key in by_key
                ]
            else:
                errors = list(response.get("Errors", []))
            failed_keys: set[str] = set()
            for entry in errors:
                key = str(entry.get("Key", ""))
                item = by_key.get(key)
                if item is None:
                    continue
                failed_keys.add(key)
                orphan_note = (
                    " (its metadata is already deleted: the consistency check will find the body)"
                    if item.has_metadata
                    else ""
                )
                report.failed.append(
                    Failure(
                        item.document_id,
                        "body",
                        f"{entry.get('Code', 'Error')}: {entry.get('Message', '')}{orphan_note}",
                    )
                )
            for key, item in by_key.items():
                if key in failed_keys:
                    continue
                report.bodies_deleted.append(key)
                report.bytes_freed += item.size
                report.deleted.append(item.document_id)

    # --- after a crash ---

    def recover_interrupted(self) -> list[str]:
        """Deal with batch deletes a crash interrupted; one message for each.

        The files of documents whose metadata was already deleted are removed (otherwise they
        would stay as invisible orphans). Nothing else is deleted unasked: documents the run had
        not reached are still there, and the message says to run the cleanup again.
        """
        if self._journal is None:
            return []
        messages = []
        with self._journal.unfinished() as entries:
            for tracked in entries:
                if not isinstance(tracked.entry, CleanupEntry):
                    continue
                try:
                    messages.append(self._recover_cleanup(tracked.entry))
                except DmsError as error:
                    messages.append(
                        f"Could not yet finish tidying up after an interrupted cleanup ({error}); "
                        "it is tried again at the next start."
                    )
                    continue
                tracked.finish()
        return messages

    def _recover_cleanup(self, entry: CleanupEntry) -> str:
        half_deleted: list[PlannedDeletion] = []
        not_deleted = 0
        for item in entry.items[entry.settled :]:
            if item.has_metadata and self._metadata_exists(item.user_id, item.document_id):
                not_deleted += 1
            elif item.has_metadata and item.has_body:
                half_deleted.append(
                    PlannedDeletion(item.user_id, item.document_id, "", 0, (), None, item.s3_key)
                )
            elif not item.has_metadata and self._body_exists(item.s3_key):
                not_deleted += 1  # an orphan body the run had not reached
        report = DeletionReport("recovery", self._admin.username, self._clock(), len(half_deleted))
        self._delete_bodies(half_deleted, report)
        report.finished_at = self._clock()
        if half_deleted:
            self._write_audit(report, {"recoveryOf": entry.started_at, "admin": entry.admin})
        if report.failed:
            raise Unavailable(report.failed[0].reason)
        left = (
            f"{plural(not_deleted, 'document')} it had not reached "
            f"{'was' if not_deleted == 1 else 'were'} not deleted: run the cleanup "
            f"again to delete {'it' if not_deleted == 1 else 'them'}"
            if not_deleted
            else "nothing else was left to delete"
        )
        return (
            f"A cleanup started at {entry.started_at} by {entry.admin} was interrupted: the "
            f"{'file' if len(half_deleted) == 1 else 'files'} "
            f"of {plural(len(half_deleted), 'document')} whose metadata it had deleted "
            f"{'is' if len(half_deleted) == 1 else 'are'} now removed; "
            f"{left}."
        )

    # --- consistency check ---

    def check(
        self,
        *,
        stale_hours: float = DEFAULT_STALE_HOURS,
        verify_checksums: bool = False,
        orphan_grace: timedelta = DEFAULT_ORPHAN_GRACE,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> CheckReport:
        """Compare every metadata item with the bodies and uploads in the bucket. Reads only."""
        now = self._clock()
        records = [record_from_item(item) for item in self._scan()]
        records = [record for record in records if record.user_id and record.document_id]
        if cancel is not None:
            cancel.raise_if_cancelled("The check")
        bodies = self._bodies()
        findings: list[Finding] = []
        known_keys: set[str] = set()
        verified = 0
        total = len(records)
        for number, record in enumerate(records, 1):
            if cancel is not None:
                cancel.raise_if_cancelled("The check")
            key = record.s3_key
            known_keys.add(key)
            body = bodies.get(key)
            # Confirm a missing body with HeadObject: it may have been uploaded after the listing.
            if body is None and not self._body_exists(key):
                findings.append(
                    Finding(
                        FindingKind.MISSING_BODY,
                        key,
                        record.user_id,
                        record.document_id,
                        "the metadata points at a stored file that does not exist",
                        record.size,
                        filename=record.filename,
                    )
                )
            elif body is not None and body.size != record.size:
                findings.append(
                    Finding(
                        FindingKind.SIZE_MISMATCH,
                        key,
                        record.user_id,
                        record.document_id,
                        f"the metadata says {record.size} bytes, the stored file has {body.size}",
                        body.size,
                        filename=record.filename,
                    )
                )
            elif body is not None and verify_checksums:
                actual = self._body_checksum(key, cancel)
                verified += 1
                if actual is not None and actual != record.checksum:
                    findings.append(
                        Finding(
                            FindingKind.CHECKSUM_MISMATCH,
                            key,
                            record.user_id,
                            record.document_id,
                            "the stored file fails the checksum it was stored with (damaged)"
                            if actual == FAILS_STORED_CHECKSUM
                            else f"SHA-256 {actual[:12]}… differs from the metadata's "
                            f"{record.checksum[:12]}…",
                            body.size,
                            filename=record.filename,
                        )
                    )
            if progress is not None:
                progress(number, total)
        for body in bodies.values():
            if body.key in known_keys or body.last_modified > now - orphan_grace:
                continue  # younger ones may be uploads whose metadata is being written
            findings.append(
                Finding(
                    FindingKind.ORPHAN_BODY,
                    body.key,
                    body.user_id,
                    body.document_id,
                    "a stored file with no metadata",
                    body.size,
                )
            )
        uploads = self._multipart_uploads()
        cutoff = now - timedelta(hours=stale_hours)
        for key, upload_id, initiated in uploads:
            if initiated >= cutoff:
                continue
            # The last part sent tells an upload still under way from an abandoned one (and moto
            # reports the same fixed Initiated time, in 2010, for every upload).
            last_activity = max(initiated, self._last_part_time(key, upload_id) or initiated)
            if last_activity < cutoff:
                age = (now - last_activity).total_seconds() / 3600
                parts = key.split("/")
                findings.append(
                    Finding(
                        FindingKind.STALE_UPLOAD,
                        key,
                        parts[1] if len(parts) >= 3 else "",
                        parts[-1],
                        f"a multipart upload idle for {age:.0f} hours, never finished",
                        upload_id=upload_id,
                    )
                )
        return CheckReport(
            tuple(findings),
            len(records),
            len(bodies),
            len(uploads),
            verified,
            now,
            recorded_owner_names(records),
        )

    def _body_checksum(self, key: str, cancel: CancelToken | None) -> str | None:
        """SHA-256 of a body, streamed (never held in memory); None if it vanished meanwhile."""
        digest = hashlib.sha256()
        try:
            with aws_errors("read a stored file"):
                response = self._s3.get_object(Bucket=self._bucket, Key=key)
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

    def _last_part_time(self, key: str, upload_id: str) -> datetime | None:
        """When the newest part of an unfinished upload arrived (None: no part yet)."""
        newest: datetime | None = None
        request: dict[str, Any] = {"Bucket": self._bucket, "Key": key, "UploadId": upload_id}
        while True:
            try:
                with aws_errors("list the parts of an unfinished upload"):
                    response = self._s3.list_parts(**request)
            except NotFound:
                return None
            for part in response.get("Parts", []):
                modified = part["LastModified"].astimezone(UTC)
                newest = modified if newest is None else max(newest, modified)
            if not response.get("IsTruncated"):
                return newest
            request["PartNumberMarker"] = response.get("NextPartNumberMarker", 0)

    def _multipart_uploads(self) -> list[tuple[str, str, datetime]]:
        uploads: list[tuple[str, str, datetime]] = []
        request: dict[str, Any] = {"Bucket": self._bucket, "Prefix": BODY_PREFIX}
        while True:
            with aws_errors("list unfinished uploads"):
                response = self._s3.list_multipart_uploads(**request)
            for upload in response.get("Uploads", []):
                initiated = upload["Initiated"]
                if initiated.tzinfo is None:
                    initiated = initiated.replace(tzinfo=UTC)
                uploads.append((str(upload["Key"]), str(upload["UploadId"]), initiated))
            if not response.get("IsTruncated"):
                return uploads
            request["KeyMarker"] = response.get("NextKeyMarker", "")
            request["UploadIdMarker"] = response.get("NextUploadIdMarker", "")

    def repair(
        self,
        report: CheckReport,
        kinds: Iterable[FindingKind],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> DeletionReport:
        """Repair the chosen kinds of findings (the admin confirmed the check's report).

        Each finding is checked again first (a body may have been uploaded, metadata written or
        deleted since): what no longer needs repair is reported as skipped. Broken metadata is
        deleted, not flagged: a document without a body can never be downloaded, and its fields
        are kept in the audit log. Size and checksum mismatches are only reported.
        """
        chosen = {FindingKind(kind) for kind in kinds}
        unrepairable = chosen - REPAIRABLE_KINDS
        if unrepairable:
            names = ", ".join(sorted(kind.value for kind in unrepairable))
            raise ValidationError(
                f"{names} cannot be repaired automatically: compare the stored file with the "
                "metadata and delete or re-upload the document."
            )
        findings = [finding for finding in report.findings if finding.kind in chosen]
        result = DeletionReport("repair", self._admin.username, self._clock(), len(findings))
        try:
            self._repair(findings, result, progress, cancel)
        finally:
            result.finished_at = self._clock()
            result.audit_log = self._write_audit(
                result,
                {"repair": sorted(kind.value for kind in chosen)},
                [finding.to_json_dict() for finding in findings],
            )
        return result

    def _repair(
        self,
        findings: list[Finding],
        result: DeletionReport,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> None:
        total = len(findings)
        done = 0
        to_delete: list[PlannedDeletion] = []
        stale: list[Finding] = []
        for finding in findings:
            if cancel is not None and cancel.cancelled:
                result.cancelled = True
                result.not_attempted = total - done
                return
            if finding.kind is FindingKind.STALE_UPLOAD:
                stale.append(finding)
                continue
            if finding.kind is FindingKind.MISSING_BODY:
                still_broken = self._metadata_exists(
                    finding.user_id, finding.document_id
                ) and not self._body_exists(finding.key)
                reason = PlanReason.BODY_MISSING
            else:
                still_broken = self._body_exists(finding.key) and not self._metadata_exists(
                    finding.user_id, finding.document_id
                )
                reason = PlanReason.NO_METADATA
            if not still_broken:
                result.skipped.append(
                    Failure(finding.document_id, finding.kind.value, "no longer needs repair")
                )
                done += 1
                continue
            to_delete.append(
                PlannedDeletion(
                    finding.user_id,
                    finding.document_id,
                    finding.filename,
                    finding.size,
                    (),
                    None,
                    finding.key,
                    reason,
                )
            )

        def relay(step_done: int, _step_total: int) -> None:
            if progress is not None:
                progress(done + step_done, total)

        self._delete_items(to_delete, result, relay, cancel)
        done += len(to_delete)
        if result.cancelled or result.stopped_by is not None:
            result.not_attempted += len(stale)
            return
        for number, finding in enumerate(stale):
            if cancel is not None and cancel.cancelled:
                result.cancelled = True
                result.not_attempted += len(stale) - number
                return
            result.count_request("AbortMultipartUpload")
            try:
                with aws_errors("abort an unfinished upload"):
                    self._s3.abort_multipart_upload(
                        Bucket=self._bucket, Key=finding.key, UploadId=finding.upload_id
                    )
            except NotFound:
                result.skipped.append(Failure(finding.document_id, "upload", "already gone"))
            except DmsError as error:
                result.failed.append(Failure(finding.document_id, "upload", str(error)))
            else:
                result.uploads_aborted.append(f"{finding.key} {finding.upload_id}")
            done += 1
            if progress is not None:
                progress(done, total)

    # --- audit ---

    def _write_audit(
        self,
        report: DeletionReport,
        criteria: dict[str, Any],
        findings: list[dict[str, Any]] | None = None,
    ) -> Path | None:
        """The JSON audit log of a real run: who, when, criteria, ids, outcome."""
        if self._audit_dir is None:
            return None
        entry: dict[str, Any] = {
            "who": {"username": self._admin.username, "userId": self._admin.user_id},
            "when": format_timestamp(report.started_at),
            "criteria": criteria,
            "outcome": report.to_json_dict(),
        }
        if findings is not None:
            entry["findings"] = findings
        stamp = report.started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        try:
            self._audit_dir.mkdir(parents=True, exist_ok=True)
            path = self._audit_dir / f"{stamp}.json"
            number = 1
            while path.exists():
                number += 1
                path = self._audit_dir / f"{stamp}-{number}.json"
            entry["outcome"]["auditLog"] = str(path)
            temp = path.with_suffix(".json.partial")
            temp.write_text(json.dumps(entry, indent=2, ensure_ascii=False), encoding="utf-8")
            temp.replace(path)
        except OSError:
            log.exception("could not write the audit log in %s", self._audit_dir)
            return None
        log.info("audit log of the %s written to %s", report.kind, path)
        return path


def recorded_owner_names(records: Iterable[StoredRecord]) -> dict[str, str]:
    """The owner name recorded on the items, by owner id (the last one read wins)."""
    return {record.user_id: record.owner_name for record in records if record.owner_name}


def _planned(record: StoredRecord, reason: PlanReason) -> PlannedDeletion:
    return PlannedDeletion(
        user_id=record.user_id,
        document_id=record.document_id,
        filename=record.filename,
        size=record.size,
        tags=record.tags,
        created_at=record.created_at,
        s3_key=record.s3_key,
        reason=reason,
    )
