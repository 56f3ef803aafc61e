"""Which requests the sandbox logs, checkpoints or leaves alone (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest

from dms_desktop.sandbox.changes import ChangeSet, needs_checkpoint, service_of

SIGNED = (
    "AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/{}/aws4_request, SignedHeaders=host"
)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, ("dynamodb", "PutItem")),
        (
            {"HTTP_X_AMZ_TARGET": "DynamoDBStreams_20120810.GetRecords"},
            ("dynamodbstreams", "GetRecords"),
        ),
        (
            {"HTTP_X_AMZ_TARGET": "AWSCognitoIdentityProviderService.InitiateAuth"},
            ("cognito-idp", "InitiateAuth"),
        ),
        ({"HTTP_X_AMZ_TARGET": "AWSCognitoIdentityService.GetId"}, ("cognito-identity", "GetId")),
        ({"HTTP_AUTHORIZATION": SIGNED.format("s3"), "PATH_INFO": "/b/k"}, ("s3", "")),
        ({"HTTP_AUTHORIZATION": SIGNED.format("sts")}, ("sts", "")),
        (
            {"QUERY_STRING": "X-Amz-Credential=sandbox%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"},
            ("s3", ""),
        ),
        ({"PATH_INFO": "/b/k"}, ("s3", "")),  # unsigned: moto's default
        ({"PATH_INFO": "/moto-api/reset"}, ("moto-api", "")),
    ],
)
def test_service_of(environ: dict[str, Any], expected: tuple[str, str]) -> None:
    assert service_of(environ) == expected


@pytest.mark.parametrize(
    ("service", "operation", "status", "changes", "expected"),
    [
        ("dynamodb", "PutItem", 200, ChangeSet(addresses={("dynamodb",)}), False),  # logged
        ("dynamodb", "UpdateTimeToLive", 200, ChangeSet(), True),  # no form in the log
        ("dynamodb", "CreateTable", 400, ChangeSet(), False),  # refused: nothing changed
        ("s3", "", 200, ChangeSet(volatile=True), False),  # an upload's part: not kept
        ("s3", "", 204, ChangeSet(), True),  # e.g. a bucket's settings
        ("s3", "", 200, ChangeSet(addresses={("s3-object",)}, unknown=True), True),
        ("cognito-identity", "GetId", 200, ChangeSet(), False),
        ("cognito-identity", "CreateIdentityPool", 200, ChangeSet(), True),
        ("cognito-idp", "InitiateAuth", 200, ChangeSet(), False),  # logged as the pool
        ("sts", "", 200, ChangeSet(), False),  # not kept at all
        ("moto-api", "", 200, ChangeSet(), True),
    ],
)
def test_needs_checkpoint(
    service: str, operation: str, status: int, changes: ChangeSet, expected: bool
) -> None:
    assert needs_checkpoint(service, operation, status, changes) is expected
