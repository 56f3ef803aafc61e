"""The template's roles, evaluated by a real IAM policy simulator with the identity substituted.

Each user's policy is the template's, with ``${cognito-identity.amazonaws.com:sub}`` replaced by
that user's identity id, as IAM does at request time; the bucket policy takes part too.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.iam_evaluator import is_allowed
from tests.infra.template import Resolver, for_identity, load_template

ALICE = "eu-west-1:11111111-1111-4111-8111-111111111111"
BOB = "eu-west-1:22222222-2222-4222-8222-222222222222"
ADMIN = "eu-west-1:33333333-3333-4333-8333-333333333333"

RESOLVER = Resolver(load_template())
TABLE = RESOLVER.attributes["DocumentsTable.Arn"]
BUCKET = RESOLVER.attributes["DocumentsBucket.Arn"]
BUCKET_POLICY: dict[str, Any] = RESOLVER.resource("DocumentsBucketPolicy")["Properties"][
    "PolicyDocument"
]


def policies(role: str, identity_id: str) -> list[dict[str, Any]]:
    return [for_identity(document, identity_id) for document in RESOLVER.role_policies(role)]


def user(identity_id: str) -> list[dict[str, Any]]:
    return policies("AuthenticatedRole", identity_id)


def obj(owner: str, name: str = "01a214bf-e957-70b5-aa8d-ce3dce664f91") -> str:
    return f"{BUCKET}/private/{owner}/{name}"


def keys(*partitions: str) -> dict[str, Any]:
    return {"dynamodb:LeadingKeys": list(partitions)}


# (description, identity policies, action, resource, context, allowed)
CASES: list[tuple[str, list[dict[str, Any]], str, str, dict[str, Any], bool]] = [
    ("own partition: Query", user(ALICE), "dynamodb:Query", TABLE, keys(ALICE), True),
    ("own partition: GetItem", user(ALICE), "dynamodb:GetItem", TABLE, keys(ALICE), True),
    ("own partition: PutItem", user(ALICE), "dynamodb:PutItem", TABLE, keys(ALICE), True),
    ("own partition: UpdateItem", user(ALICE), "dynamodb:UpdateItem", TABLE, keys(ALICE), True),
    ("own partition: DeleteItem", user(ALICE), "dynamodb:DeleteItem", TABLE, keys(ALICE), True),
    ("other partition: Query", user(ALICE), "dynamodb:Query", TABLE, keys(BOB), False),
    ("other partition: GetItem", user(ALICE), "dynamodb:GetItem", TABLE, keys(BOB), False),
    ("other partition: PutItem", user(ALICE), "dynamodb:PutItem", TABLE, keys(BOB), False),
    ("other partition: DeleteItem", user(ALICE), "dynamodb:DeleteItem", TABLE, keys(BOB), False),
    ("own and other partition", user(ALICE), "dynamodb:Query", TABLE, keys(ALICE, BOB), False),
    ("Scan", user(ALICE), "dynamodb:Scan", TABLE, {}, False),
    ("Scan an index", user(ALICE), "dynamodb:Scan", f"{TABLE}/index/byName", {}, False),
    # Deleting many documents: every key of a batch must be the caller's (ForAllValues).
    ("own partition: BatchGetItem", user(ALICE), "dynamodb:BatchGetItem", TABLE, keys(ALICE), True),
    (
        "other partition: BatchGetItem",
        user(ALICE),
        "dynamodb:BatchGetItem",
        TABLE,
        keys(BOB),
        False,
    ),
    (
        "own partition: BatchWriteItem",
        user(ALICE),
        "dynamodb:BatchWriteItem",
        TABLE,
        keys(ALICE),
        True,
    ),
    (
        "other partition: BatchWriteItem",
        user(ALICE),
        "dynamodb:BatchWriteItem",
        TABLE,
        keys(BOB),
        False,
    ),
    (
        "a batch with an other partition's key",
        user(ALICE),
        "dynamodb:BatchWriteItem",
        TABLE,
        keys(ALICE, BOB),
        False,
    ),
    (
        "BatchWriteItem on another table",
        user(ALICE),
        "dynamodb:BatchWriteItem",
        TABLE.replace("table/Documents", "table/Other"),
        keys(ALICE),
        False,
    ),
    ("PartiQL", user(ALICE), "dynamodb:PartiQLSelect", TABLE, {}, False),
    ("own LSI Query", user(ALICE), "dynamodb:Query", f"{TABLE}/index/byName", keys(ALICE), True),
    (
        "own GSI Query",
        user(ALICE),
        "dynamodb:Query",
        f"{TABLE}/index/byChecksum",
        keys(ALICE),
        True,
    ),
    (
        "other's GSI Query",
        user(ALICE),
        "dynamodb:Query",
        f"{TABLE}/index/byChecksum",
        keys(BOB),
        False,
    ),
    (
        "another table",
        user(ALICE),
        "dynamodb:GetItem",
        TABLE.replace("table/Documents", "table/Other"),
        keys(ALICE),
        False,
    ),
    ("own object: GetObject", user(ALICE), "s3:GetObject", obj(ALICE), {}, True),
    ("own object: PutObject", user(ALICE), "s3:PutObject", obj(ALICE), {}, True),
    ("own object: DeleteObject", user(ALICE), "s3:DeleteObject", obj(ALICE), {}, True),
    # DeleteObjects is authorised per key as s3:DeleteObject: one key of another user fails.
    ("DeleteObjects: own key", user(ALICE), "s3:DeleteObject", obj(ALICE, "a"), {}, True),
    ("DeleteObjects: other's key", user(ALICE), "s3:DeleteObject", obj(BOB, "a"), {}, False),
    ("own upload: Abort", user(ALICE), "s3:AbortMultipartUpload", obj(ALICE), {}, True),
    ("own upload: ListParts", user(ALICE), "s3:ListMultipartUploadParts", obj(ALICE), {}, True),
    ("other's object: GetObject", user(ALICE), "s3:GetObject", obj(BOB), {}, False),
    ("other's object: PutObject", user(ALICE), "s3:PutObject", obj(BOB), {}, False),
    ("other's object: DeleteObject", user(ALICE), "s3:DeleteObject", obj(BOB), {}, False),
    # Versions (core.versions): an old version is read (GET/copy with VersionId) and a new one
    # deleted again on a conflict, only of the caller's own keys.
    ("own old version: Get", user(ALICE), "s3:GetObjectVersion", obj(ALICE), {}, True),
    ("own new version: Delete", user(ALICE), "s3:DeleteObjectVersion", obj(ALICE), {}, True),
    ("other's old version: Get", user(ALICE), "s3:GetObjectVersion", obj(BOB), {}, False),
    ("other's version: Delete", user(ALICE), "s3:DeleteObjectVersion", obj(BOB), {}, False),
    (
        "a longer id with own id as prefix",
        user(ALICE),
        "s3:GetObject",
        f"{BUCKET}/private/{ALICE}0/x",
        {},
        False,
    ),
    ("outside private/", user(ALICE), "s3:PutObject", f"{BUCKET}/{ALICE}/x", {}, False),
    (
        "own object without TLS",
        user(ALICE),
        "s3:GetObject",
        obj(ALICE),
        {"aws:SecureTransport": "false"},
        False,
    ),
    (
        "list own prefix",
        user(ALICE),
        "s3:ListBucket",
        BUCKET,
        {"s3:prefix": f"private/{ALICE}/"},
        True,
    ),
    (
        "list below own prefix",
        user(ALICE),
        "s3:ListBucket",
        BUCKET,
        {"s3:prefix": f"private/{ALICE}/0"},
        True,
    ),
    (
        "list other's prefix",
        user(ALICE),
        "s3:ListBucket",
        BUCKET,
        {"s3:prefix": f"private/{BOB}/"},
        False,
    ),
    ("list private/", user(ALICE), "s3:ListBucket", BUCKET, {"s3:prefix": "private/"}, False),
    ("list the whole bucket", user(ALICE), "s3:ListBucket", BUCKET, {}, False),
    ("list uploads of the bucket", user(ALICE), "s3:ListBucketMultipartUploads", BUCKET, {}, False),
    # Deleting for good lists the versions of the bodies (core.body_deletion): the user's folder,
    # or one key in it; nobody else's, not private/ nor the whole bucket.
    *[
        (f"list versions: {name}", user(ALICE), "s3:ListBucketVersions", BUCKET, context, allowed)
        for name, context, allowed in [
            ("own prefix", {"s3:prefix": f"private/{ALICE}/"}, True),
            ("one own key", {"s3:prefix": f"private/{ALICE}/01a214bf-e957"}, True),
            ("other's prefix", {"s3:prefix": f"private/{BOB}/"}, False),
            ("other's key", {"s3:prefix": f"private/{BOB}/01a214bf-e957"}, False),
            ("private/", {"s3:prefix": "private/"}, False),
            ("the whole bucket", {}, False),
        ]
    ],
    ("delete other's old versions", user(BOB), "s3:DeleteObjectVersion", obj(ALICE), {}, False),
    (
        "admin: list versions of another user",
        policies("AdminRole", ADMIN),
        "s3:ListBucketVersions",
        BUCKET,
        {"s3:prefix": f"private/{BOB}/"},
        True,
    ),
    (
        "admin: delete another user's version",
        policies("AdminRole", ADMIN),
        "s3:DeleteObjectVersion",
        obj(BOB),
        {},
        True,
    ),
    ("admin: Scan", policies("AdminRole", ADMIN), "dynamodb:Scan", TABLE, {}, True),
    (
        "admin: Query another user",
        policies("AdminRole", ADMIN),
        "dynamodb:Query",
        TABLE,
        keys(BOB),
        True,
    ),
    (
        "admin: DeleteItem of another user",
        policies("AdminRole", ADMIN),
        "dynamodb:DeleteItem",
        TABLE,
        keys(BOB),
        True,
    ),
    (
        "admin: BatchWriteItem",
        policies("AdminRole", ADMIN),
        "dynamodb:BatchWriteItem",
        TABLE,
        keys(BOB),
        True,
    ),
    (
        "admin: PutItem into another user",
        policies("AdminRole", ADMIN),
        "dynamodb:PutItem",
        TABLE,
        keys(BOB),
        False,
    ),
    (
        "admin: own PutItem",
        policies("AdminRole", ADMIN),
        "dynamodb:PutItem",
        TABLE,
        keys(ADMIN),
        True,
    ),
    (
        "admin: GetObject of another user",
        policies("AdminRole", ADMIN),
        "s3:GetObject",
        obj(BOB),
        {},
        True,
    ),
    (
        "admin: DeleteObject of another user",
        policies("AdminRole", ADMIN),
        "s3:DeleteObject",
        obj(BOB),
        {},
        True,
    ),
    (
        "admin: PutObject for another user",
        policies("AdminRole", ADMIN),
        "s3:PutObject",
        obj(BOB),
        {},
        False,
    ),
    ("admin: own PutObject", policies("AdminRole", ADMIN), "s3:PutObject", obj(ADMIN), {}, True),
    (
        "admin: list the whole bucket",
        policies("AdminRole", ADMIN),
        "s3:ListBucket",
        BUCKET,
        {},
        True,
    ),
]


@pytest.mark.parametrize(
    ("identity_policies", "action", "resource", "context", "allowed"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_iam_decision(
    identity_policies: list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, Any],
    allowed: bool,
) -> None:
    assert is_allowed(identity_policies, action, resource, context, BUCKET_POLICY) is allowed


def test_the_evaluator_is_not_trivially_permissive() -> None:
    """Without the substitution, nobody's partition matches: the variable is what grants access."""
    raw = RESOLVER.role_policies("AuthenticatedRole")
    assert not is_allowed(raw, "dynamodb:Query", TABLE, keys(ALICE))
    assert not is_allowed(raw, "s3:GetObject", obj(ALICE))
