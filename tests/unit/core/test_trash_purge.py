"""core.trash_purge: the body of a purged document goes with every version and delete marker,
across pages of the version listing, and nothing whose key only starts like it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from dms_desktop.core.errors import AuthError
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.schema import object_key
from dms_desktop.core.trash_purge import delete_body_for_good

USER = "eu-west-1:1f0e8c52-3a1b-4d6e-9f70-0a1b2c3d4e5f"
BUCKET = "dms-documentsbucket-test"


@pytest.fixture
def s3() -> Any:
    return boto3.session.Session().client(
        "s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )


def test_every_version_on_every_page_is_deleted_and_only_those_of_the_key(s3: Any) -> None:
    document_id = new_document_id()
    key = object_key(USER, document_id)
    with Stubber(s3) as stub:
        stub.add_response(
            "list_object_versions",
            {
                "IsTruncated": True,
                "NextKeyMarker": key,
                "NextVersionIdMarker": "v2",
                "Versions": [{"Key": key, "VersionId": "v1"}, {"Key": key, "VersionId": "v2"}],
            },
            {"Bucket": BUCKET, "Prefix": key},
        )
        stub.add_response(
            "list_object_versions",
            {
                "IsTruncated": False,
                "Versions": [{"Key": key + "-longer", "VersionId": "x"}],
                "DeleteMarkers": [{"Key": key, "VersionId": "m1"}],
            },
            {"Bucket": BUCKET, "Prefix": key, "KeyMarker": key, "VersionIdMarker": "v2"},
        )
        stub.add_response(
            "delete_objects",
            {"Deleted": []},
            {
                "Bucket": BUCKET,
                "Delete": {
                    "Objects": [
                        {"Key": key, "VersionId": "v1"},
                        {"Key": key, "VersionId": "v2"},
                        {"Key": key, "VersionId": "m1"},
                    ],
                    "Quiet": True,
                },
            },
        )

        assert delete_body_for_good(s3, BUCKET, USER, document_id) == 3
        stub.assert_no_pending_responses()


def test_nothing_there_is_nothing_deleted(s3: Any) -> None:
    document_id = new_document_id()
    with Stubber(s3) as stub:
        stub.add_response("list_object_versions", {"IsTruncated": False})
        assert delete_body_for_good(s3, BUCKET, USER, document_id) == 0
        stub.assert_no_pending_responses()


def test_a_refused_version_is_an_error_that_says_so(s3: Any) -> None:
    document_id = new_document_id()
    key = object_key(USER, document_id)
    with Stubber(s3) as stub:
        stub.add_response(
            "list_object_versions",
            {"IsTruncated": False, "Versions": [{"Key": key, "VersionId": "v1"}]},
        )
        stub.add_response(
            "delete_objects",
            {"Errors": [{"Key": key, "VersionId": "v1", "Code": "AccessDenied", "Message": "no"}]},
        )
        with pytest.raises(AuthError, match="1 version"):
            delete_body_for_good(s3, BUCKET, USER, document_id)


def test_a_refused_listing_is_an_error_and_deletes_nothing(s3: Any) -> None:
    """The purge's role may list versions: if it is refused (a role changed by hand), the purge
    fails and is retried, where a user's old stack deletes the current object only and leaves
    the old versions behind without a word (was: the purge did that too)."""
    document_id = new_document_id()
    with Stubber(s3) as stub:
        stub.add_client_error("list_object_versions", "AccessDenied", "Access Denied")
        with pytest.raises(AuthError, match="could not be listed"):
            delete_body_for_good(s3, BUCKET, USER, document_id)
        stub.assert_no_pending_responses()  # no DeleteObjects was sent
