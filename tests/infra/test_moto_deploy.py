"""How much of the template moto (5.2) deploys: the table and the bucket, the roles and policies.

What moto does NOT do with this template (checked by hand, not asserted, so a better moto does not
fail the suite): it skips AWS::S3::BucketPolicy and every AWS::Cognito::* resource (with a
warning), so the outputs UserPoolId, AppClientId and IdentityPoolId are missing; the table's
point-in-time recovery and SSE and the bucket's versioning, public access block, lifecycle rules
and ownership controls are not applied. The sandbox therefore keeps creating the Cognito pools
itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dms_desktop.core.schema import table_definition
from tests.infra.template import TEMPLATE


@pytest.fixture
def deployed() -> Iterator[tuple[boto3.Session, dict[str, str]]]:
    with mock_aws(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one warning per resource type moto cannot deploy
        session = boto3.Session(region_name="eu-west-1")
        cfn = session.client("cloudformation")
        cfn.create_stack(
            StackName="dms",
            TemplateBody=TEMPLATE.read_text(encoding="utf-8"),
            Capabilities=["CAPABILITY_IAM"],
        )
        (stack,) = cfn.describe_stacks(StackName="dms")["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        yield session, outputs


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["IndexName"]: item for item in items}


def test_moto_creates_the_apps_table_from_the_template(
    deployed: tuple[boto3.Session, dict[str, str]],
) -> None:
    session, outputs = deployed
    expected = table_definition()
    table: Any = session.client("dynamodb").describe_table(TableName=outputs["TableName"])["Table"]
    assert table["KeySchema"] == expected["KeySchema"]
    assert (
        _by_name(table["LocalSecondaryIndexes"]).keys()
        == _by_name(expected["LocalSecondaryIndexes"]).keys()
    )
    for name, index in _by_name(table["GlobalSecondaryIndexes"]).items():
        wanted = _by_name(expected["GlobalSecondaryIndexes"])[name]
        assert (index["KeySchema"], index["Projection"]) == (
            wanted["KeySchema"],
            wanted["Projection"],
        )
    assert table["DeletionProtectionEnabled"] is True
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_moto_creates_the_bucket_and_the_roles(
    deployed: tuple[boto3.Session, dict[str, str]],
) -> None:
    session, outputs = deployed
    assert outputs["Region"] == "eu-west-1"
    encryption = session.client("s3").get_bucket_encryption(Bucket=outputs["BucketName"])
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    iam = session.client("iam")
    roles = [role["RoleName"] for role in iam.list_roles()["Roles"]]
    assert any("AuthenticatedRole" in name for name in roles)
    assert any("AdminRole" in name for name in roles)
    policies = iam.list_policies(Scope="Local")["Policies"]
    (own,) = [p for p in policies if "OwnDocumentsPolicy" in p["PolicyName"]]
    document = iam.get_policy_version(PolicyArn=own["Arn"], VersionId=own["DefaultVersionId"])
    text = str(document["PolicyVersion"]["Document"])
    # CloudFormation's ${!...} escape came out as the IAM policy variable.
    assert f"{outputs['BucketName']}/private/${{cognito-identity.amazonaws.com:sub}}/*" in text
