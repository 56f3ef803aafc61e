"""The consistency check (reads only) and the repair of what it found (confirmed by the admin).

Every item is compared with the body its owner and id give: a body that is missing, of another
size or (when asked) of another checksum; bodies no item accounts for (files a web app uploaded
that did not become documents are reported apart and never deleted); multipart uploads nobody
finished. An item that is not a valid document is reported as damaged metadata: a field that
breaks the data model (the app leaves it out of lists, and its owner can delete it), or an
``s3Key`` that is not the item's own. The stored ``s3Key`` is never read for anything else: a
user can write it, so it must not steer what the check reports or the repair deletes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from ..bucket_inventory import FAILS_STORED_CHECKSUM
from ..cancellation import CancelToken, ProgressCallback
from ..errors import DmsError, ValidationError
from ..items import StoredItem, recorded_owner_names
from ..web_uploads import web_upload_of
from .deletion import delete_planned
from .reports import (
    REPAIRABLE_KINDS,
    CheckReport,
    DeletionReport,
    Failure,
    Finding,
    FindingKind,
    PlannedDeletion,
    PlanReason,
)
from .stores import AdminStores


def check(
    stores: AdminStores,
    *,
    stale_hours: float,
    verify_checksums: bool,
    orphan_grace: timedelta,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> CheckReport:
    """Compare every metadata item with the bodies and uploads in the bucket. Reads only."""
    now = stores.clock()
    items = [
        item
        for item in stores.repository.scan(segments=stores.scan_segments, cancel=cancel)
        if item.user_id and item.document_id
    ]
    bodies = stores.inventory.bodies(cancel)
    findings: list[Finding] = []
    known_keys: set[str] = set()
    verified = 0
    total = len(items)
    for number, item in enumerate(items, 1):
        if cancel is not None:
            cancel.raise_if_cancelled("The check")
        key = item.body_key
        if item.damage is not None:
            findings.append(_finding(FindingKind.DAMAGED_METADATA, item, item.damage))
        if key is not None:
            known_keys.add(key)
            body = bodies.get(key)
            # Confirm a missing body with HeadObject: it may have been uploaded after the listing.
            if body is None and stores.blobs.size_of(key) is None:
                findings.append(
                    _finding(
                        FindingKind.MISSING_BODY,
                        item,
                        "the metadata points at a stored file that does not exist",
                    )
                )
            elif body is not None and item.damage is None and body.size != item.size:
                findings.append(
                    _finding(
                        FindingKind.SIZE_MISMATCH,
                        item,
                        f"the metadata says {item.size} bytes, the stored file has {body.size}",
                        size=body.size,
                    )
                )
            elif body is not None and item.damage is None and verify_checksums:
                actual = stores.inventory.sha256_of(key, cancel)
                verified += 1
                if actual is not None and actual != item.checksum:
                    findings.append(
                        _finding(
                            FindingKind.CHECKSUM_MISMATCH,
                            item,
                            "the stored file fails the checksum it was stored with (damaged)"
                            if actual == FAILS_STORED_CHECKSUM
                            else f"SHA-256 {actual[:12]}… differs from the metadata's "
                            f"{item.checksum[:12]}…",
                            size=body.size,
                        )
                    )
        if progress is not None:
            progress(number, total)
    for body in bodies.values():
        if body.key in known_keys or body.last_modified > now - orphan_grace:
            continue  # younger ones may be uploads whose metadata is being written
        web_upload = web_upload_of(body.key)
        if web_upload is not None:
            findings.append(
                Finding(
                    FindingKind.WEB_UPLOAD,
                    body.key,
                    web_upload.owner,
                    "",
                    "a file a web app uploaded that did not become a document (see the "
                    "ObjectCreated function's log); it is kept",
                    body.size,
                    filename=web_upload.filename,
                )
            )
            continue
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
    uploads = stores.inventory.unfinished_uploads()
    cutoff = now - timedelta(hours=stale_hours)
    for upload in uploads:
        if upload.initiated >= cutoff:
            continue
        # The last part sent tells an upload still under way from an abandoned one (and moto
        # reports the same fixed Initiated time, in 2010, for every upload).
        last_part = stores.inventory.last_part_time(upload)
        last_activity = max(upload.initiated, last_part or upload.initiated)
        if last_activity < cutoff:
            age = (now - last_activity).total_seconds() / 3600
            findings.append(
                Finding(
                    FindingKind.STALE_UPLOAD,
                    upload.key,
                    upload.user_id,
                    upload.document_id,
                    f"a multipart upload idle for {age:.0f} hours, never finished",
                    upload_id=upload.upload_id,
                )
            )
    return CheckReport(
        tuple(findings),
        len(items),
        len(bodies),
        len(uploads),
        verified,
        now,
        recorded_owner_names(items),
    )


def _finding(kind: FindingKind, item: StoredItem, detail: str, *, size: int = -1) -> Finding:
    return Finding(
        kind,
        item.body_key or "",
        item.user_id,
        item.document_id,
        detail,
        item.size if size < 0 else size,
        filename=item.filename,
    )


def check_repairable(kinds: Iterable[FindingKind]) -> None:
    """ValidationError (before anything runs) if any of ``kinds`` is only ever reported."""
    unrepairable = set(kinds) - REPAIRABLE_KINDS
    if unrepairable:
        names = ", ".join(sorted(kind.value for kind in unrepairable))
        raise ValidationError(
            f"{names} cannot be repaired automatically: compare the stored file with the "
            "metadata and delete or re-upload the document."
        )


def repair(
    stores: AdminStores,
    findings: list[Finding],
    result: DeletionReport,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> None:
    """Repair ``findings`` (of repairable kinds) into ``result``.

    Each finding is checked again first (a body may have been uploaded, metadata written or
    deleted since): what no longer needs repair is reported as skipped. Metadata without a body
    is deleted, not flagged: such a document can never be downloaded, and its fields are kept in
    the audit log. Bodies without metadata are deleted, stale uploads aborted.
    """
    check_repairable(finding.kind for finding in findings)
    total = len(findings)
    to_delete: list[PlannedDeletion] = []
    stale: list[Finding] = []
    for checked, finding in enumerate(findings):
        if cancel is not None and cancel.cancelled:
            result.cancelled = True
            result.not_attempted = total - checked
            return
        if finding.kind is FindingKind.STALE_UPLOAD:
            stale.append(finding)
            continue
        if _still_broken(stores, finding):
            to_delete.append(_repair_of(finding))
        else:
            result.skipped.append(
                Failure(finding.document_id, finding.kind.value, "no longer needs repair")
            )
    done = len(result.skipped)

    def relay(step_done: int, _step_total: int) -> None:
        if progress is not None:
            progress(done + step_done, total)

    delete_planned(stores, to_delete, result, relay, cancel)
    done += len(to_delete)
    if result.cancelled or result.stopped_by is not None:
        result.not_attempted += len(stale)
        return
    for number, finding in enumerate(stale):
        if cancel is not None and cancel.cancelled:
            result.cancelled = True
            result.not_attempted += len(stale) - number
            return
        result.requests["AbortMultipartUpload"] = result.requests.get("AbortMultipartUpload", 0) + 1
        try:
            aborted = stores.blobs.abort_multipart(finding.key, finding.upload_id or "")
        except DmsError as error:
            result.failed.append(Failure(finding.document_id, "upload", str(error)))
        else:
            if aborted:
                result.uploads_aborted.append(f"{finding.key} {finding.upload_id}")
            else:
                result.skipped.append(Failure(finding.document_id, "upload", "already gone"))
        done += 1
        if progress is not None:
            progress(done, total)


def _still_broken(stores: AdminStores, finding: Finding) -> bool:
    def has_metadata() -> bool:
        if not finding.user_id or not finding.document_id:
            return False  # a key in no user's folder: no item can account for it
        return stores.repository.exists(finding.user_id, finding.document_id)

    def has_body() -> bool:
        return stores.blobs.size_of(finding.key) is not None

    if finding.kind is FindingKind.MISSING_BODY:
        return has_metadata() and not has_body()
    return has_body() and not has_metadata()


def _repair_of(finding: Finding) -> PlannedDeletion:
    missing_body = finding.kind is FindingKind.MISSING_BODY
    return PlannedDeletion(
        finding.user_id,
        finding.document_id,
        finding.filename,
        finding.size,
        (),
        None,
        finding.key,
        PlanReason.BODY_MISSING if missing_body else PlanReason.NO_METADATA,
    )
