"""Admin tools: clean up test records across all users, and check metadata against stored bodies.

Only for members of the Cognito group ``admins``: building an :class:`AdminService` for anyone
else raises :class:`~dms_desktop.core.errors.AuthError` and nothing runs. The admin's credentials
must allow a Scan of the table, ListBucket / ListBucketMultipartUploads on ``private/``, GetObject /
DeleteObject / AbortMultipartUpload on ``private/*`` and BatchWriteItem / GetItem on the table.

Everything is two-step. :meth:`AdminService.plan_cleanup` and :meth:`AdminService.check` read
only (the dry run); :meth:`AdminService.delete` and :meth:`AdminService.repair` act on what the
admin confirmed, and write a JSON audit log (who, when, criteria, ids, outcome).

The modules: ``criteria`` (who may, what a cleanup selects), ``cleanup`` (the dry run),
``deletion`` (the batched, journaled delete and its recovery), ``check`` (consistency check and
repair), ``reports`` (plans, reports, findings), ``audit`` (the audit log), ``service`` (the
entry point). Items, keys and requests are the data layer's (core.repository, core.blobs,
core.bucket_inventory, core.schema): a body's key always follows from its owner and document id,
never from the ``s3Key`` an item stores.

Test records may carry ``expiresAt`` (epoch seconds), the table's DynamoDB TTL attribute: AWS then
deletes their metadata on its own (within about two days); the criterion ``expired`` matches them
before that, and the bodies TTL leaves behind are orphan bodies for the check.
"""

from __future__ import annotations

from .criteria import (
    CONFIRM_TYPED_ABOVE,
    DEFAULT_ORPHAN_GRACE,
    DEFAULT_STALE_HOURS,
    CleanupCriteria,
    needs_typed_confirmation,
    require_admin,
)
from .reports import (
    REPAIRABLE_KINDS,
    CheckReport,
    CleanupPlan,
    DeletionReport,
    Failure,
    Finding,
    FindingKind,
    PlannedDeletion,
    PlanReason,
    UserTotals,
)
from .service import AdminService

__all__ = [
    "CONFIRM_TYPED_ABOVE",
    "DEFAULT_ORPHAN_GRACE",
    "DEFAULT_STALE_HOURS",
    "REPAIRABLE_KINDS",
    "AdminService",
    "CheckReport",
    "CleanupCriteria",
    "CleanupPlan",
    "DeletionReport",
    "Failure",
    "Finding",
    "FindingKind",
    "PlanReason",
    "PlannedDeletion",
    "UserTotals",
    "needs_typed_confirmation",
    "require_admin",
]
