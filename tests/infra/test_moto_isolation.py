"""moto with IAM enforcement on: the template's S3 statements keep two users' objects apart.

moto checks Action + Resource of S3 requests against the caller's policies (not conditions or
policy variables), so each user gets the template's statements with the variable substituted by
their own identity id, as IAM does at request time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication

from tests.infra.template import (
    REGION,
    Resolver,
    as_list,
    for_identity,
    load_template,
    statements,
)

USERS = {
    "alice": "eu-west-1:11111111-1111-4111-8111-111111111111",
    "bob": "eu-west-1:22222222-2222-4222-8222-222222222222",
}


def _s3_statements(resolver: Resolver, bucket: str) -> dict[str, Any]:
    """The authenticated role's S3 statements, for the bucket moto created."""
    found = [
        statement
        for document in resolver.role_policies("AuthenticatedRole")
        for statement in statements(document)
        if all(action.startswith("s3:") for action in as_list(statement["Action"]))
    ]
    text = json.dumps({"Version": "2012-10-17", "Statement": found})
    document: dict[str, Any] = json.loads(text.replace(resolver.refs["DocumentsBucket"], bucket))
    return document


@pytest.fixture
def sessions() -> Iterator[dict[str, boto3.Session]]:
    """Alice's and Bob's sessions; each user has one object in their own prefix."""
    bucket = "dms-documents-isolation"
    resolver = Resolver(load_template())
    policy = _s3_statements(resolver, bucket)
    with mock_aws():
        admin = boto3.Session(
            region_name=REGION, aws_access_key_id="admin", aws_secret_access_key="admin"
        )
        s3: Any = admin.client("s3")
        iam = admin.client("iam")
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        result = {}
        for name, identity_id in USERS.items():
            iam.create_user(UserName=name)
            iam.put_user_policy(
                UserName=name,
                PolicyName="own-documents",
                PolicyDocument=json.dumps(for_identity(policy, identity_id)),
            )
            key = iam.create_access_key(UserName=name)["AccessKey"]
            s3.put_object(Bucket=bucket, Key=f"private/{identity_id}/doc", Body=name.encode())
            result[name] = boto3.Session(
                region_name=REGION,
                aws_access_key_id=key["AccessKeyId"],
                aws_secret_access_key=key["SecretAccessKey"],
            )
        with enable_iam_authentication():
            yield result


def _code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return str(caught.value.response["Error"]["Code"])


@pytest.mark.parametrize(("me", "other"), [("alice", "bob"), ("bob", "alice")])
def test_each_user_reaches_only_their_own_objects(
    sessions: dict[str, boto3.Session], me: str, other: str
) -> None:
    bucket = "dms-documents-isolation"
    s3 = sessions[me].client("s3")
    mine = f"private/{USERS[me]}/doc"
    theirs = f"private/{USERS[other]}/doc"

    assert s3.get_object(Bucket=bucket, Key=mine)["Body"].read() == me.encode()
    s3.put_object(Bucket=bucket, Key=f"private/{USERS[me]}/new", Body=b"x")
    s3.delete_object(Bucket=bucket, Key=f"private/{USERS[me]}/new")

    assert _code(s3.get_object, Bucket=bucket, Key=theirs) == "AccessDenied"
    assert _code(s3.put_object, Bucket=bucket, Key=theirs, Body=b"overwritten") == "AccessDenied"
    assert _code(s3.delete_object, Bucket=bucket, Key=theirs) == "AccessDenied"
    assert _code(s3.put_object, Bucket=bucket, Key="private/elsewhere", Body=b"x") == (
        "AccessDenied"
    )
    # Still there, untouched.
    other_s3 = sessions[other].client("s3")
    assert other_s3.get_object(Bucket=bucket, Key=theirs)["Body"].read() == other.encode()
