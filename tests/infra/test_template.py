"""The backend template's promises, read from the YAML: table, bucket, Cognito and roles."""

from __future__ import annotations

from typing import Any

import pytest

from dms_desktop.core.schema import (
    OLD_VERSION_DAYS,
    table_definition,
    time_to_live_specification,
)
from dms_desktop.core.stack_config import OPTIONAL_OUTPUT_KEYS, OUTPUT_KEYS
from tests.infra.template import (
    IDENTITY_POOL,
    IDENTITY_VARIABLE,
    Resolver,
    as_list,
    load_template,
    resources_of_type,
    statements,
)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def resolver(template: dict[str, Any]) -> Resolver:
    return Resolver(template)


def _by_name(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def test_the_table_is_exactly_the_apps_table_definition(resolver: Resolver) -> None:
    properties = resolver.resource("DocumentsTable")["Properties"]
    expected = table_definition()
    assert properties["TableName"] == expected["TableName"]
    assert properties["BillingMode"] == expected["BillingMode"]
    assert properties["KeySchema"] == expected["KeySchema"]
    assert _by_name(properties["AttributeDefinitions"], "AttributeName") == _by_name(
        expected["AttributeDefinitions"], "AttributeName"
    )
    assert _by_name(properties["LocalSecondaryIndexes"], "IndexName") == _by_name(
        expected["LocalSecondaryIndexes"], "IndexName"
    )
    assert _by_name(properties["GlobalSecondaryIndexes"], "IndexName") == _by_name(
        expected["GlobalSecondaryIndexes"], "IndexName"
    )
    # CloudFormation enables the stream by naming its view type alone.
    assert (
        properties["StreamSpecification"]["StreamViewType"]
        == expected["StreamSpecification"]["StreamViewType"]
    )
    # Nothing CreateTable would take that table_definition() does not know about.
    create_table_keys = {
        "AttributeDefinitions",
        "KeySchema",
        "LocalSecondaryIndexes",
        "GlobalSecondaryIndexes",
        "BillingMode",
        "TableName",
        "StreamSpecification",
    }
    assert create_table_keys & set(properties) == set(expected)


def test_test_records_expire_on_the_apps_ttl_attribute(resolver: Resolver) -> None:
    properties = resolver.resource("DocumentsTable")["Properties"]
    assert properties["TimeToLiveSpecification"] == time_to_live_specification()


def test_the_table_is_protected(template: dict[str, Any]) -> None:
    table = template["Resources"]["DocumentsTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True


def test_the_bucket_is_private_encrypted_versioned_and_cleans_up_uploads(
    template: dict[str, Any],
) -> None:
    bucket = template["Resources"]["DocumentsBucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert properties["VersioningConfiguration"]["Status"] == "Enabled"
    rules = [r for r in properties["LifecycleConfiguration"]["Rules"] if r["Status"] == "Enabled"]
    aborts = [
        r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        for r in rules
        if "AbortIncompleteMultipartUpload" in r
    ]
    assert aborts and max(aborts) <= 7
    assert any("NoncurrentVersionExpiration" in r for r in rules)


def test_old_versions_live_as_long_as_the_app_and_the_sandbox_say(
    template: dict[str, Any],
) -> None:
    """One retention policy for old versions: the lifecycle rule's days are the parameter whose
    default is the app's (and the sandbox's) OLD_VERSION_DAYS."""
    bucket = template["Resources"]["DocumentsBucket"]["Properties"]
    (rule,) = [
        r for r in bucket["LifecycleConfiguration"]["Rules"] if "NoncurrentVersionExpiration" in r
    ]
    assert rule["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "NoncurrentVersionDays"}
    }
    assert template["Parameters"]["NoncurrentVersionDays"]["Default"] == OLD_VERSION_DAYS


def test_the_bucket_policy_denies_everything_without_tls(resolver: Resolver) -> None:
    (name,) = resources_of_type(resolver.template, "AWS::S3::BucketPolicy")
    properties = resolver.resource(name)["Properties"]
    assert properties["Bucket"] == resolver.refs["DocumentsBucket"]
    bucket_arn = resolver.attributes["DocumentsBucket.Arn"]
    denials = [
        statement
        for statement in statements(properties["PolicyDocument"])
        if statement["Effect"] == "Deny"
        and statement["Principal"] in ("*", {"AWS": "*"})
        and as_list(statement["Action"]) == ["s3:*"]
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denials) == 1
    assert set(as_list(denials[0]["Resource"])) == {bucket_arn, f"{bucket_arn}/*"}


def _own_documents_statements(resolver: Resolver) -> list[dict[str, Any]]:
    found = []
    for document in resolver.role_policies("AuthenticatedRole"):
        found += statements(document)
    assert found
    return found


def test_users_reach_only_their_own_partition(resolver: Resolver) -> None:
    table_arn = resolver.attributes["DocumentsTable.Arn"]
    dynamodb = [
        statement
        for statement in _own_documents_statements(resolver)
        if any(action.startswith("dynamodb:") for action in as_list(statement["Action"]))
    ]
    assert dynamodb
    allowed: set[str] = set()
    for statement in dynamodb:
        assert statement["Effect"] == "Allow"
        assert set(as_list(statement["Resource"])) <= {table_arn, f"{table_arn}/index/*"}
        condition = statement["Condition"]["ForAllValues:StringEquals"]
        assert as_list(condition["dynamodb:LeadingKeys"]) == [IDENTITY_VARIABLE]
        allowed |= set(as_list(statement["Action"]))
    assert allowed == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",
    }


def test_users_may_not_scan_or_use_wildcards(resolver: Resolver) -> None:
    for statement in _own_documents_statements(resolver):
        for action in as_list(statement["Action"]):
            assert "*" not in action
            assert action not in {
                "dynamodb:Scan",
                "dynamodb:PartiQLSelect",
                "dynamodb:TransactWriteItems",
            }
        for resource in as_list(statement["Resource"]):
            assert resource != "*"


def test_users_reach_only_their_own_prefix(resolver: Resolver) -> None:
    bucket_arn = resolver.attributes["DocumentsBucket.Arn"]
    s3 = [
        statement
        for statement in _own_documents_statements(resolver)
        if any(action.startswith("s3:") for action in as_list(statement["Action"]))
    ]
    objects = [s for s in s3 if "s3:ListBucket" not in as_list(s["Action"])]
    listing = [s for s in s3 if "s3:ListBucket" in as_list(s["Action"])]
    assert {a for s in objects for a in as_list(s["Action"])} == {
        "s3:GetObject",
        "s3:GetObjectVersion",  # old versions of a document (core.versions)
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",  # a new version removed again after a conflict
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    }
    for statement in objects:
        assert as_list(statement["Resource"]) == [f"{bucket_arn}/private/{IDENTITY_VARIABLE}/*"]
    (statement,) = listing
    # ListBucketVersions: a delete for good lists the versions of the user's own files
    assert as_list(statement["Action"]) == ["s3:ListBucket", "s3:ListBucketVersions"]
    assert as_list(statement["Resource"]) == [bucket_arn]
    assert statement["Condition"] == {
        "StringLike": {"s3:prefix": [f"private/{IDENTITY_VARIABLE}/*"]}
    }


def test_the_escaped_variable_is_not_substituted_by_cloudformation(
    template: dict[str, Any],
) -> None:
    """Inside !Sub the variable must be written ${!...}; outside !Sub it is written plainly."""
    policy = template["Resources"]["OwnDocumentsPolicy"]["Properties"]["PolicyDocument"]
    (objects,) = [s for s in policy["Statement"] if s["Sid"] == "OwnObjectsOnly"]
    assert "${!cognito-identity.amazonaws.com:sub}" in objects["Resource"]["Fn::Sub"]


def test_the_admin_role_may_scan_and_delete_across_users(resolver: Resolver) -> None:
    table_arn = resolver.attributes["DocumentsTable.Arn"]
    admin_only = [
        document
        for document in resolver.role_policies("AdminRole")
        if document not in resolver.role_policies("AuthenticatedRole")
    ]
    actions = {
        action
        for document in admin_only
        for statement in statements(document)
        for action in as_list(statement["Action"])
    }
    assert {"dynamodb:Scan", "dynamodb:BatchWriteItem", "s3:DeleteObject", "s3:ListBucket"} <= (
        actions
    )
    for document in admin_only:
        for statement in statements(document):
            assert "Condition" not in statement
            for resource in as_list(statement["Resource"]):
                assert resource.startswith((table_arn, resolver.attributes["DocumentsBucket.Arn"]))


@pytest.mark.parametrize("role", ["AuthenticatedRole", "AdminRole"])
def test_only_authenticated_identities_of_this_pool_assume_the_roles(
    resolver: Resolver, role: str
) -> None:
    (statement,) = resolver.resource(role)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {"cognito-identity.amazonaws.com:aud": IDENTITY_POOL},
        "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
    }


def test_cognito_admins_group_maps_to_the_admin_role(resolver: Resolver) -> None:
    group = resolver.resource("AdminsGroup")["Properties"]
    assert group["GroupName"] == "admins"
    assert group["RoleArn"] == resolver.attributes["AdminRole.Arn"]
    pool = resolver.resource("IdentityPool")["Properties"]
    assert pool["AllowUnauthenticatedIdentities"] is False
    (provider,) = pool["CognitoIdentityProviders"]
    assert provider["ProviderName"] == resolver.attributes["UserPool.ProviderName"]
    assert provider["ClientId"] == resolver.refs["AppClient"]
    attachment = resolver.resource("IdentityPoolRoles")["Properties"]
    assert attachment["Roles"] == {"authenticated": resolver.attributes["AuthenticatedRole.Arn"]}
    assert "unauthenticated" not in attachment["Roles"]
    (mapping,) = attachment["RoleMappings"].values()
    assert mapping == {
        "IdentityProvider": f"{provider['ProviderName']}:{provider['ClientId']}",
        "Type": "Token",
        "AmbiguousRoleResolution": "AuthenticatedRole",
    }


@pytest.mark.parametrize(
    ("parameters", "admin_only", "flows"),
    [
        ({}, True, {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}),
        (
            {"AllowSelfSignUp": "true", "AllowPasswordAuth": "true"},
            False,
            {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"},
        ),
    ],
)
def test_sign_up_and_password_flows_follow_the_parameters(
    template: dict[str, Any], parameters: dict[str, str], admin_only: bool, flows: set[str]
) -> None:
    resolver = Resolver(template, parameters)
    pool = resolver.resource("UserPool")["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is admin_only
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    client = resolver.resource("AppClient")["Properties"]
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == flows


def test_the_identity_data_survives_the_stack(template: dict[str, Any]) -> None:
    """userId is the identity id: losing the user or identity pool orphans every document."""
    for name in ("UserPool", "IdentityPool"):
        assert template["Resources"][name]["DeletionPolicy"] == "Retain"
        assert template["Resources"][name]["UpdateReplacePolicy"] == "Retain"


# Outputs the API stack takes as parameters (the roles that may invoke it), not profile keys.
API_STACK_OUTPUTS = {"AuthenticatedRoleName", "AdminRoleName"}


def test_the_outputs_are_what_dms_configure_reads(template: dict[str, Any]) -> None:
    # TableStreamArn is for the API stack's search indexer (a parameter of dms-api.yaml).
    profile_outputs = set(template["Outputs"]) - {"TableStreamArn"} - API_STACK_OUTPUTS
    assert profile_outputs == set(OUTPUT_KEYS) | set(OPTIONAL_OUTPUT_KEYS)
    assert set(template["Outputs"]) >= API_STACK_OUTPUTS


def test_browsers_on_the_web_apps_origins_may_use_the_bucket_and_no_others(
    template: dict[str, Any],
) -> None:
    """Amplify Storage in a browser needs CORS on the bucket, only for the origins given."""
    assert template["Parameters"]["WebAppOrigins"]["Default"] == ""
    condition = template["Conditions"]["WebApps"]
    assert condition == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "WebAppOrigins"}]}, ""]}]
    }
    when, rules, otherwise = template["Resources"]["DocumentsBucket"]["Properties"][
        "CorsConfiguration"
    ]["Fn::If"]
    assert when == "WebApps"
    assert otherwise == {"Ref": "AWS::NoValue"}
    [rule] = rules["CorsRules"]
    assert rule["AllowedOrigins"] == {"Ref": "WebAppOrigins"}
    assert set(rule["AllowedMethods"]) == {"GET", "HEAD", "PUT", "POST", "DELETE"}
    assert "ETag" in rule["ExposedHeaders"]  # multipart uploads need each part's ETag
