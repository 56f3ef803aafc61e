"""What the admin tools report: a cleanup's plan (the dry run), what a real run did, and what the
consistency check found. Plain data with their JSON forms (the CLI's --json and the audit log)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..models import format_timestamp
from .criteria import CleanupCriteria


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
    # Where its body is: derived from owner and id for a document (None when they cannot make a
    # key), as listed by the bucket for a body without metadata. Never an item's stored s3Key.
    s3_key: str | None
    reason: PlanReason = PlanReason.MATCHED

    @property
    def has_metadata(self) -> bool:
        return self.reason is not PlanReason.NO_METADATA

    @property
    def has_body(self) -> bool:
        return self.reason is not PlanReason.BODY_MISSING and self.s3_key is not None

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


class FindingKind(StrEnum):
    # an item that is not a valid document (a field breaks the data model, or its stored s3Key is
    # not its own): flagged only; the app leaves it out of lists, its owner can delete it
    DAMAGED_METADATA = "damaged-metadata"
    MISSING_BODY = "missing-body"  # metadata whose body is gone: repair deletes the metadata
    ORPHAN_BODY = "orphan-body"  # a body under private/ with no metadata: repair deletes it
    SIZE_MISMATCH = "size-mismatch"  # flagged only: which side is right is not knowable
    CHECKSUM_MISMATCH = "checksum-mismatch"  # flagged only (the body is damaged or replaced)
    STALE_UPLOAD = "stale-upload"  # an abandoned multipart upload: repair aborts it
    # a file a web app uploaded under a user's folder that is no document yet (its ObjectCreated
    # handler failed, or refused its name): flagged only, never deleted, it is the user's file
    WEB_UPLOAD = "web-upload"


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
