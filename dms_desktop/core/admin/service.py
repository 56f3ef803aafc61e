"""The admin tools for one signed-in admin: cleanup (dry run, then delete), consistency check and
repair, and the recovery of batch deletes a crash interrupted."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..batches import Sleep
from ..blobs import BlobStore
from ..bucket_inventory import BucketInventory
from ..cancellation import CancelToken, ProgressCallback
from ..identity import SignedIn
from ..items import recorded_owner_names
from ..journal import Journal
from ..models import utc_now
from ..repository import DocumentRepository
from . import check as checking
from .audit import write_audit
from .cleanup import plan_cleanup
from .criteria import DEFAULT_ORPHAN_GRACE, DEFAULT_STALE_HOURS, CleanupCriteria, require_admin
from .deletion import delete_planned, recover_interrupted
from .reports import CheckReport, CleanupPlan, DeletionReport, FindingKind
from .stores import AdminStores, Clock


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
        self._stores = AdminStores(
            admin=require_admin(admin),  # before anything is built or read
            repository=DocumentRepository(dynamodb, table, sleep=sleep),
            blobs=BlobStore(s3, bucket),
            inventory=BucketInventory(s3, bucket),
            clock=clock,
            audit_dir=audit_dir,
            journal=journal,
            scan_segments=max(1, scan_segments),
        )
        self._audit_dir = audit_dir

    @property
    def admin(self) -> SignedIn:
        return self._stores.admin

    def recorded_owner_names(self, cancel: CancelToken | None = None) -> dict[str, str]:
        """The owner names recorded on the documents, by owner id (see core.owner_names)."""
        items = self._stores.repository.scan(segments=self._stores.scan_segments, cancel=cancel)
        return recorded_owner_names(items)

    def plan_cleanup(
        self,
        criteria: CleanupCriteria,
        *,
        orphan_grace: timedelta = DEFAULT_ORPHAN_GRACE,
        cancel: CancelToken | None = None,
    ) -> CleanupPlan:
        """The dry run: the documents ``criteria`` match. Reads only; deletes nothing."""
        return plan_cleanup(self._stores, criteria, orphan_grace, cancel)

    def delete(
        self,
        plan: CleanupPlan,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> DeletionReport:
        """Delete what ``plan`` lists: metadata first, then bodies (see core.admin.deletion);
        the audit log records the run."""
        stores = self._stores
        report = DeletionReport("cleanup", stores.admin.username, stores.clock(), plan.count)
        try:
            delete_planned(stores, list(plan.items), report, progress, cancel)
        finally:
            report.finished_at = stores.clock()
            report.audit_log = write_audit(
                stores.audit_dir, stores.admin, report, plan.criteria.to_json_dict()
            )
        return report

    def recover_interrupted(self) -> list[str]:
        """Finish the batch deletes a crash interrupted; one message for each."""
        return recover_interrupted(self._stores)

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
        return checking.check(
            self._stores,
            stale_hours=stale_hours,
            verify_checksums=verify_checksums,
            orphan_grace=orphan_grace,
            progress=progress,
            cancel=cancel,
        )

    def repair(
        self,
        report: CheckReport,
        kinds: Iterable[FindingKind],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> DeletionReport:
        """Repair the chosen kinds of findings (the admin confirmed the check's report); the
        audit log records the run with the findings it was asked to repair."""
        stores = self._stores
        chosen = sorted({FindingKind(kind) for kind in kinds})
        findings = [finding for finding in report.findings if finding.kind in chosen]
        result = DeletionReport("repair", stores.admin.username, stores.clock(), len(findings))
        checking.check_repairable(chosen)
        try:
            checking.repair(stores, findings, result, progress, cancel)
        finally:
            result.finished_at = stores.clock()
            result.audit_log = write_audit(
                stores.audit_dir,
                stores.admin,
                result,
                {"repair": [kind.value for kind in chosen]},
                [finding.to_json_dict() for finding in findings],
            )
        return result
