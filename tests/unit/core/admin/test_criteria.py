"""Who may use the admin tools, and which documents the cleanup criteria select."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from dms_desktop.core import schema
from dms_desktop.core.admin import (
    AdminService,
    CleanupCriteria,
    needs_typed_confirmation,
)
from dms_desktop.core.errors import AuthError, ValidationError
from dms_desktop.core.models import Document, utc_now
from tests.support.aws import OTHER_USER_ID, USER_ID
from tests.unit.core.admin.conftest import (
    THIRD_USER_ID,
    admin_user,
    store,
)
from tests.unit.core.conftest import BASE_TIME, make_document


def test_a_non_admin_is_refused_before_anything_runs(session: boto3.session.Session) -> None:
    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"{name} was called for a non-admin")

    with pytest.raises(AuthError, match="needs admin rights"):
        AdminService(
            Untouchable(),
            Untouchable(),
            schema.TABLE_NAME,
            schema.BUCKET_NAME,
            admin_user(session, is_admin=False),
        )


def test_criteria_must_select_something_and_be_coherent() -> None:
    with pytest.raises(ValidationError, match="at least one criterion"):
        CleanupCriteria()
    with pytest.raises(ValidationError, match="prefix or a glob"):
        CleanupCriteria(name_prefix="a", name_glob="a*")
    with pytest.raises(ValidationError, match="minimum size"):
        CleanupCriteria(min_size=10, max_size=5)
    with pytest.raises(ValidationError, match="time zone"):
        CleanupCriteria(created_before=BASE_TIME.replace(tzinfo=None))
    assert not needs_typed_confirmation(100)
    assert needs_typed_confirmation(101)


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (CleanupCriteria(name_prefix="SEED-1-"), {"seed-1-0.txt", "seed-1-1.txt", "seed-1-2.txt"}),
        (CleanupCriteria(name_glob="SEED-*-2.TXT"), {f"seed-{n}-2.txt" for n in range(3)}),
        (
            CleanupCriteria(tag="test", owners=(OTHER_USER_ID,), min_size=101),
            {"seed-1-1.txt", "seed-1-2.txt"},
        ),
        (
            CleanupCriteria(
                tag="seed",
                created_after=BASE_TIME,
                created_before=BASE_TIME + timedelta(days=2),
            ),
            {f"seed-{n}-1.txt" for n in range(3)},
        ),
        (CleanupCriteria(max_size=50), {"testing notes.md"}),
        (CleanupCriteria(tag="testing", owners=(USER_ID, THIRD_USER_ID)), {"testing notes.md"}),
    ],
)
def test_criteria_combine_with_and(
    admin: AdminService,
    population: dict[str, list[Document]],
    criteria: CleanupCriteria,
    expected: set[str],
) -> None:
    plan = admin.plan_cleanup(criteria)

    assert {item.filename for item in plan.items} == expected
    for item in plan.items:
        if criteria.owners:
            assert item.user_id in criteria.owners


def test_expired_test_records_are_matched(admin: AdminService, dynamodb: Any, s3: Any) -> None:
    past = store(dynamodb, s3, make_document(filename="old.txt", size=1))
    future = store(dynamodb, s3, make_document(filename="new.txt", size=1))
    store(dynamodb, s3, make_document(filename="forever.txt", size=1))
    now = int(utc_now().timestamp())
    for document, expires in ((past, now - 60), (future, now + 3600)):
        dynamodb.update_item(
            TableName=schema.TABLE_NAME,
            Key={"userId": {"S": document.user_id}, "documentId": {"S": document.document_id}},
            UpdateExpression=f"SET {schema.EXPIRES_AT} = :e",
            ExpressionAttributeValues={":e": {"N": str(expires)}},
        )

    plan = admin.plan_cleanup(CleanupCriteria(expired=True))

    assert [item.filename for item in plan.items] == ["old.txt"]
