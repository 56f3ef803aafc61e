"""The sandbox's table and bucket come from the AWS template itself (moto's CloudFormation)."""

from __future__ import annotations

from typing import Any

import pytest

from dms_desktop.core.schema import EXPIRES_AT, table_definition
from dms_desktop.sandbox.provisioning import sandbox_client
from tests.infra.template import load_template
from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server


def _client(sandbox: SandboxHome, service: str) -> Any:
    return sandbox_client(sandbox.info.endpoint_url, service, None)


def _by_name(indexes: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    return {index["IndexName"]: index["KeySchema"] for index in indexes}


def test_the_sandbox_table_is_the_templates(shared_sandbox: SandboxHome) -> None:
    dynamodb = _client(shared_sandbox, "dynamodb")
    table = dynamodb.describe_table(TableName=shared_sandbox.info.table)["Table"]
    expected = table_definition()

    assert table["KeySchema"] == expected["KeySchema"]
    assert _by_name(table["LocalSecondaryIndexes"]) == _by_name(expected["LocalSecondaryIndexes"])
    assert _by_name(table["GlobalSecondaryIndexes"]) == _by_name(expected["GlobalSecondaryIndexes"])
    # Settings only the template has: the table was made from it, not from table_definition().
    assert table["DeletionProtectionEnabled"] is True
    ttl = dynamodb.describe_time_to_live(TableName=shared_sandbox.info.table)
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": EXPIRES_AT,
    }


def test_the_sandbox_bucket_is_the_templates(shared_sandbox: SandboxHome) -> None:
    s3 = _client(shared_sandbox, "s3")
    template_rules = load_template()["Resources"]["DocumentsBucket"]["Properties"][
        "BucketEncryption"
    ]["ServerSideEncryptionConfiguration"]

    assert shared_sandbox.info.bucket.startswith("dms-local-documentsbucket-")
    encryption = s3.get_bucket_encryption(Bucket=shared_sandbox.info.bucket)
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    (template_rule,) = template_rules
    assert (
        rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        == template_rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
    )
