"""The life-cycle parts of the web API's template, checked with an IAM policy evaluator: the
TrashPurge function on the table's stream (only TTL removals of documents in the trash reach it;
it may delete bodies and their versions under private/ only), the trash and restore routes, and
the share link roles (one makes the HMAC, the other only checks it); checkov finds nothing on
them that is not explained."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infra.iam_evaluator import is_allowed
from tests.infra.test_search_template import ACCOUNT, BUCKET, REGION, STREAM, Deployment

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "resources" / "cloudformation" / "dms-api.yaml"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Documents"
BODY = f"arn:aws:s3:::{BUCKET}/private/{REGION}:1f0e8c52-3a1b-4d6e-9f70-0a1b2c3d4e5f/doc-1"
KEY = f"arn:aws:iam::{ACCOUNT}:role/ShareLinkKey"  # how the resolver names a GetAtt Arn
LIFECYCLE_RESOURCES = {
    "DeleteDocumentFunction",
    "DeleteDocumentRole",
    "RestoreDocumentFunction",
    "RestoreDocumentRole",
    "RestoreDocumentLogs",
    "ShareLinkKey",
    "ShareDocumentFunction",
    "ShareDocumentRole",
    "ShareDocumentLogs",
    "OpenShareLinkFunction",
    "OpenShareLinkRole",
    "OpenShareLinkLogs",
    "TrashPurgeFunction",
    "TrashPurgeRole",
    "TrashPurgeLogs",
}


@pytest.fixture(scope="module")
def deployment() -> Deployment:
    return Deployment("none")  # no search: the purge is there all the same


def _mapping(deployment: Deployment) -> dict[str, Any]:
    [mapping] = [
        deployment.resource(name)["Properties"]
        for name, resource in deployment.template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
        and resource["Properties"]["FunctionName"] == {"Ref": "TrashPurgeFunction"}
    ]
    return mapping


def test_the_purge_reads_the_stream_with_partial_failures_and_only_ttl_removals_of_the_trash(
    deployment: Deployment,
) -> None:
    assert deployment.condition("PurgeOn")
    mapping = _mapping(deployment)
    assert mapping["EventSourceArn"] == STREAM
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    [only] = mapping["FilterCriteria"]["Filters"]
    pattern = json.loads(only["Pattern"])
    assert pattern == {
        "eventName": ["REMOVE"],
        "userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]},
        "dynamodb": {"OldImage": {"trashedAt": {"S": [{"exists": True}]}}},
    }


def test_without_the_stream_there_is_no_purge_function() -> None:
    template = Deployment("none")
    template.parameters["DocumentsTableStreamArn"] = ""
    template.refs["DocumentsTableStreamArn"] = ""
    assert not template.condition("PurgeOn")
    for name in ("TrashPurgeFunction", "TrashPurgeRole", "TrashPurgeLogs"):
        assert template.template["Resources"][name]["Condition"] == "PurgeOn"


def test_the_purge_role_deletes_bodies_and_their_versions_under_private_only(
    deployment: Deployment,
) -> None:
    policies = deployment.policies("TrashPurgeRole")
    bucket = f"arn:aws:s3:::{BUCKET}"
    allowed = [
        ("s3:DeleteObject", BODY, {}),
        ("s3:DeleteObjectVersion", BODY, {}),
        ("s3:ListBucketVersions", bucket, {"s3:prefix": "private/eu-west-1:abc/doc-1"}),
        ("dynamodb:GetRecords", STREAM, {}),
        ("dynamodb:GetShardIterator", STREAM, {}),
        ("dynamodb:DescribeStream", STREAM, {}),
    ]
    denied = [
        ("s3:ListBucketVersions", bucket, {"s3:prefix": "public/"}),
        ("s3:ListBucketVersions", bucket, {}),
        ("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/public/x", {}),
        ("s3:DeleteObjectVersion", f"arn:aws:s3:::{BUCKET}/protected/x", {}),
        ("s3:DeleteObject", "arn:aws:s3:::another-bucket/private/x/doc-1", {}),
        ("s3:GetObject", BODY, {}),
        ("s3:PutObject", BODY, {}),
        ("s3:DeleteBucket", bucket, {}),
        ("dynamodb:DeleteItem", TABLE, {}),
        ("dynamodb:GetRecords", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Other/stream/x", {}),
    ]
    for action, resource, context in allowed:
        assert is_allowed(policies, action, resource, context), (action, resource)
    for action, resource, context in denied:
        assert not is_allowed(policies, action, resource, context), (action, resource)


def test_delete_trashes_or_deletes_and_restore_only_restores(deployment: Deployment) -> None:
    delete = deployment.policies("DeleteDocumentRole")
    restore = deployment.policies("RestoreDocumentRole")
    for action in ("dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
        assert is_allowed(delete, action, TABLE), action
    assert is_allowed(delete, "s3:DeleteObject", BODY)
    for action in ("dynamodb:BatchGetItem", "dynamodb:UpdateItem"):
        assert is_allowed(restore, action, TABLE), action
    for action, resource in (
        ("dynamodb:DeleteItem", TABLE),
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:Scan", TABLE),
        ("s3:DeleteObject", BODY),
    ):
        assert not is_allowed(restore, action, resource), action
    assert not is_allowed(delete, "dynamodb:Scan", TABLE)
    # Permanently: every version of the body, found by listing under private/ only.
    assert is_allowed(delete, "s3:DeleteObjectVersion", BODY)
    bucket = f"arn:aws:s3:::{BUCKET}"
    assert is_allowed(delete, "s3:ListBucketVersions", bucket, {"s3:prefix": "private/u/"})
    assert not is_allowed(delete, "s3:ListBucketVersions", bucket, {"s3:prefix": "public/"})
    assert not is_allowed(delete, "s3:ListBucketVersions", bucket, {})
    assert not is_allowed(delete, "s3:DeleteObjectVersion", f"arn:aws:s3:::{BUCKET}/public/x")


def test_only_the_share_role_makes_links_and_only_the_open_role_checks_them(
    deployment: Deployment,
) -> None:
    share = deployment.policies("ShareDocumentRole")
    open_link = deployment.policies("OpenShareLinkRole")
    assert is_allowed(share, "kms:GenerateMac", KEY)
    assert not is_allowed(share, "kms:VerifyMac", KEY)
    assert not is_allowed(share, "s3:GetObject", BODY)  # it hands out no download itself
    assert is_allowed(open_link, "kms:VerifyMac", KEY)
    assert not is_allowed(open_link, "kms:GenerateMac", KEY)  # a public route mints nothing
    assert is_allowed(open_link, "s3:GetObject", BODY)
    assert not is_allowed(open_link, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/public/x")
    for policies in (share, open_link):
        assert is_allowed(policies, "dynamodb:GetItem", TABLE)
        assert not is_allowed(policies, "dynamodb:Query", TABLE)
        assert not is_allowed(policies, "kms:Decrypt", KEY)
    key = deployment.resource("ShareLinkKey")["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")


def test_checkov_finds_on_the_life_cycle_resources_only_what_every_function_has() -> None:
    """Each new function and log group gets the findings CreateDocument's have (concurrency,
    dead-letter queue, VPC, environment and log encryption with a customer key), nothing else;
    the roles and the key none. The key's rotation (CKV_AWS_7) is skipped in the template with
    its reason: KMS cannot rotate HMAC keys."""
    checkov = os.environ.get("DMS_CHECKOV") or str(REPO / ".venv-checkov" / "bin" / "checkov")
    assert Path(checkov).exists(), f"{checkov} is missing: run `bash .ci/setup`"
    result = subprocess.run(
        [
            checkov,
            "-f",
            str(TEMPLATE),
            "--framework",
            "cloudformation",
            "-o",
            "json",
            "--quiet",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    found: dict[str, set[str]] = {}
    for check in report["results"]["failed_checks"]:
        found.setdefault(check["resource"].split(".", 1)[1], set()).add(check["check_id"])
    assert found["CreateDocumentFunction"] and found["CreateDocumentLogs"]
    for name in LIFECYCLE_RESOURCES:
        if name.endswith("Function"):
            assert found.get(name) == found["CreateDocumentFunction"], name
        elif name.endswith("Logs"):
            assert found.get(name) == found["CreateDocumentLogs"], name
        else:
            assert name not in found, (name, found.get(name))
