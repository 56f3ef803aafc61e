"""Owners by name for the admin tools: the user pool's names, and the name the app records on
the documents it uploads (the only link from an AWS identity id to a user)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from dms_desktop.core.admin import AdminService, CleanupCriteria
from dms_desktop.core.blobs import BlobStore
from dms_desktop.core.errors import ValidationError
from dms_desktop.core.owner_names import (
    FROM_USER_POOL,
    RECORDED,
    OwnerDirectory,
    user_names_from_pool,
)
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService
from tests.support.aws import OTHER_USER_ID, USER_ID
from tests.unit.core.admin.conftest import admin_user

SUB = "5e5e5e5e-0000-4000-8000-000000000001"


def test_pool_names_win_recorded_names_fill_in_unknown_owners_show_their_id() -> None:
    directory = OwnerDirectory({SUB: "alice"}, {USER_ID: "carol", f"us-east-1:{SUB}": "mallory"})
    assert directory.lookup(f"us-east-1:{SUB}").name == "alice"  # the pool, not the recording
    assert directory.lookup(f"us-east-1:{SUB}").source == FROM_USER_POOL
    assert directory.lookup(SUB).name == "alice"  # the web API keys documents by the bare sub
    assert (directory.lookup(USER_ID).name, directory.lookup(USER_ID).source) == ("carol", RECORDED)
    assert directory.lookup(OTHER_USER_ID).name is None
    assert directory.labels([USER_ID, OTHER_USER_ID]) == {
        USER_ID: "carol",
        OTHER_USER_ID: OTHER_USER_ID,
    }


def test_a_name_recorded_by_two_owners_tells_them_apart() -> None:
    directory = OwnerDirectory({}, {USER_ID: "carol", OTHER_USER_ID: "Carol"})
    labels = directory.labels([USER_ID, OTHER_USER_ID])
    assert labels == {USER_ID: "carol (11111111…)", OTHER_USER_ID: "Carol (99999999…)"}
    assert directory.ids_for(["CAROL"], [USER_ID, OTHER_USER_ID]) == {USER_ID, OTHER_USER_ID}


def test_names_and_ids_are_both_accepted_and_an_unknown_name_is_refused() -> None:
    directory = OwnerDirectory({SUB: "alice"}, {})
    candidates = directory.candidate_ids(["us-east-1"])
    assert candidates == {SUB, f"us-east-1:{SUB}"}
    assert directory.ids_for(["Alice", OTHER_USER_ID], candidates) == {
        SUB,
        f"us-east-1:{SUB}",
        OTHER_USER_ID,
    }
    with pytest.raises(ValidationError, match="No user named 'zed'"):
        directory.ids_for(["zed"], candidates)


def test_the_user_pool_is_read_page_by_page(aws: None) -> None:
    idp = boto3.session.Session(region_name="us-east-1").client("cognito-idp")
    pool = idp.create_user_pool(PoolName="dms")["UserPool"]["Id"]
    for number in range(75):  # ListUsers pages hold 60 at most
        idp.admin_create_user(
            UserPoolId=pool, Username=f"user{number:02d}", MessageAction="SUPPRESS"
        )
    names = user_names_from_pool(idp, pool)
    assert sorted(names.values()) == [f"user{number:02d}" for number in range(75)]


def test_an_upload_records_its_owners_name_for_the_admin_tools(
    session: boto3.session.Session, dynamodb: Any, s3: Any, blobs: BlobStore, tmp_path: Path
) -> None:
    service = DocumentService(
        DocumentRepository(dynamodb, "Documents"), blobs, USER_ID, owner_name="carol"
    )
    source = tmp_path / "notes.txt"
    source.write_text("notes")
    document = service.upload(source, tags=["test"])
    assert "ownerName" not in document.to_json_dict()  # kept on the item, not in the data model
    admin = AdminService(
        dynamodb,
        s3,
        "Documents",
        "dms-documents",
        admin_user(session),
        audit_dir=tmp_path / "audit",
    )
    assert admin.recorded_owner_names() == {USER_ID: "carol"}
    plan = admin.plan_cleanup(CleanupCriteria(tag="test"))
    assert plan.owner_names == {USER_ID: "carol"}
    assert admin.check().owner_names == {USER_ID: "carol"}
