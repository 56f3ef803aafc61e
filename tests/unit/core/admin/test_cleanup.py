"""The cleanup's dry run: what it lists, and that it deletes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from dms_desktop.core.admin import (
    AdminService,
    CleanupCriteria,
    PlanReason,
)
from dms_desktop.core.models import Document
from tests.support.aws import OTHER_USER_ID, USER_ID
from tests.unit.core.admin.conftest import (
    THIRD_USER_ID,
    assert_consistent,
    body_keys,
    later_admin,
    stored_ids,
)


def test_dry_run_lists_only_the_matching_documents_and_deletes_nothing(
    admin: AdminService, population: dict[str, list[Document]], dynamodb: Any, s3: Any
) -> None:
    before_ids, before_keys = stored_ids(dynamodb), body_keys(s3)

    plan = admin.plan_cleanup(CleanupCriteria(tag="tEsT"))

    assert {item.document_id for item in plan.items} == {
        doc.document_id for doc in population["test"]
    }
    assert plan.count == 9
    assert plan.total_bytes == 3 * (100 + 101 + 102)
    assert set(plan.per_user) == {USER_ID, OTHER_USER_ID, THIRD_USER_ID}
    assert plan.per_user[USER_ID].count == 3 and plan.per_user[USER_ID].bytes == 303
    assert all(item.reason is PlanReason.MATCHED for item in plan.items)
    assert stored_ids(dynamodb) == before_ids and body_keys(s3) == before_keys
    assert not (admin._audit_dir and admin._audit_dir.exists())  # no audit log for a dry run
    json.dumps(plan.to_json_dict())  # serialisable


def test_cleanup_with_orphans_plans_broken_metadata_and_bare_bodies(
    session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path, broken: dict[str, Any]
) -> None:
    admin = later_admin(session, dynamodb, s3, tmp_path)

    plan = admin.plan_cleanup(CleanupCriteria(orphans=True))
    reasons = {item.s3_key: item.reason for item in plan.items}
    assert reasons == {
        broken["missing"].s3_key: PlanReason.BODY_MISSING,
        broken["orphan_key"]: PlanReason.NO_METADATA,
    }
    only_third = admin.plan_cleanup(CleanupCriteria(orphans=True, owners=(THIRD_USER_ID,)))
    assert [item.s3_key for item in only_third.items] == [broken["orphan_key"]]

    report = admin.delete(plan)

    assert set(report.deleted) == {item.document_id for item in plan.items}
    assert report.bodies_deleted == [broken["orphan_key"]]
    assert report.metadata_deleted == [broken["missing"].document_id]
    assert_consistent(dynamodb, s3)
    assert broken["healthy"].document_id in stored_ids(dynamodb)
