"""The cleanup's dry run: which documents (and bare bodies) the criteria match. Reads only.

Documents are found with one scan of every user's items, filtered by DynamoDB where it can be
(the glob is matched here). The body a document's deletion removes is always the one its owner
and id give, never the ``s3Key`` the item stores: a user can write that on their own items, and
an admin's cleanup must not delete another user's file because of it.
"""

from __future__ import annotations

from datetime import timedelta

from ..cancellation import CancelToken
from ..items import StoredItem, recorded_owner_names
from ..web_uploads import web_upload_of
from .criteria import CleanupCriteria
from .reports import CleanupPlan, PlannedDeletion, PlanReason
from .stores import AdminStores


def plan_cleanup(
    stores: AdminStores,
    criteria: CleanupCriteria,
    orphan_grace: timedelta,
    cancel: CancelToken | None,
) -> CleanupPlan:
    """The dry run: the documents ``criteria`` match. Reads only; deletes nothing."""
    now = stores.clock()
    matched: list[StoredItem] = []
    known: set[str] = set()
    scanned = 0
    # Orphans need every key (to tell bodies without metadata): one unfiltered scan then.
    keep = None if criteria.orphans else criteria.scan_filter(now)
    for item in stores.repository.scan(keep, segments=stores.scan_segments, cancel=cancel):
        scanned += 1
        if item.body_key is not None:
            known.add(item.body_key)
        if item.user_id and item.document_id and criteria.matches(item, now):
            matched.append(item)
    items: list[PlannedDeletion] = []
    if criteria.orphans:
        bodies = stores.inventory.bodies(cancel)
        for item in matched:
            key = item.body_key
            if key is not None and key not in bodies and stores.blobs.size_of(key) is None:
                items.append(planned(item, PlanReason.BODY_MISSING))
        if not criteria.needs_metadata:
            for body in bodies.values():
                if body.key in known or body.last_modified > now - orphan_grace:
                    continue  # younger ones may be uploads whose metadata is being written
                if web_upload_of(body.key) is not None:
                    continue  # a user's file from a web app, not a leftover (see core.web_uploads)
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
        items = [planned(item, PlanReason.MATCHED) for item in matched]
    items.sort(key=lambda entry: (entry.user_id, entry.document_id))
    return CleanupPlan(criteria, tuple(items), scanned, now, recorded_owner_names(matched))


def planned(item: StoredItem, reason: PlanReason) -> PlannedDeletion:
    """The deletion of a stored document; its body key is derived, never the stored one."""
    return PlannedDeletion(
        user_id=item.user_id,
        document_id=item.document_id,
        filename=item.filename,
        size=item.size,
        tags=item.tags,
        created_at=item.created_at,
        s3_key=item.body_key,
        reason=reason,
    )
