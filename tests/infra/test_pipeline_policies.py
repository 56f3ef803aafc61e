"""The pipeline's roles, least privilege: what each must be allowed and what it must be denied,
decided by principalmapper's IAM policy simulator (iam_evaluator.py) on the resolved template, and
every statement checked against IAM's own list of actions and resource types (cfn-lint's
Policies.json): no wildcard actions, resources of the types each action takes, and "*" only for
actions that take no resource at all."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import boto3
import pytest
from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from tests.infra.iam_evaluator import is_allowed
from tests.infra.pipeline_template import (
    PHYSICAL,
    PipelineResolver,
    actions_of,
    all_statements,
    load_api_template,
    load_backend_template,
    load_parameter_file,
    load_pipeline_template,
    role_arn,
)
from tests.infra.template import ACCOUNT, REGION, as_list

RESOLVER = PipelineResolver(load_pipeline_template())
PARAMETERS = RESOLVER.parameters
BACKEND = PARAMETERS["BackendStackName"]
API = PARAMETERS["ApiStackName"]
PIPELINE = PARAMETERS["PipelineName"]
ROLES = ("PipelineRole", "TestRole", "PackageRole", "DeployRole")

BUCKET = RESOLVER.attributes["ArtifactBucket.Arn"]
SOURCE_ZIP = f"{BUCKET}/{PIPELINE}/SourceCode/Ab12Cd3"
DEPLOY_TEMPLATES = f"{BUCKET}/{PIPELINE}/DeployTempl/Xy45Zw6"
PACKAGED_CODE = f"{BUCKET}/packaged/dms-api/e0a71d8542460f932493d35ed5e63e6d"
OTHER_BUCKET_OBJECT = "arn:aws:s3:::someone-elses-bucket/secrets.txt"

STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack"
BACKEND_STACK = f"{STACK}/{BACKEND}/0a1b2c3d-1111-2222-3333-444455556666"
API_STACK = f"{STACK}/{API}/0a1b2c3d-7777-8888-9999-000011112222"
PIPELINE_STACK = f"{STACK}/dms-pipeline/0a1b2c3d-aaaa-bbbb-cccc-ddddeeeeffff"
SAM_TRANSFORM = f"arn:aws:cloudformation:{REGION}:aws:transform/Serverless-2016-10-31"
CODEBUILD = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project"
LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group"
TEST_LOG_STREAM = f"{LOGS}:{PHYSICAL['TestLogs']}:log-stream:0c1d2e3f"
PACKAGE_LOG_STREAM = f"{LOGS}:{PHYSICAL['PackageLogs']}:log-stream:0c1d2e3f"

TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
DOCUMENTS_TABLE = f"{TABLE}/{PARAMETERS['DocumentsTableName']}"
TOKENS_TABLE = f"{TABLE}/{API}-ClientTokensTable-1A2B3C4D5E6F"
DOCUMENTS_BUCKET = f"arn:aws:s3:::{BACKEND}-documentsbucket-1a2b3c4d5e6f"
USER_POOL = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_AbCdEf123"
IDENTITY_POOL = (
    f"arn:aws:cognito-identity:{REGION}:{ACCOUNT}:identitypool/{REGION}:0f1e2d3c-4b5a-6978-8695"
)
AUTHENTICATED_ROLE = role_arn(f"{BACKEND}-AuthenticatedRole-1A2B3C4D5E6F")
ADMIN_ROLE = role_arn(f"{BACKEND}-AdminRole-1A2B3C4D5E6F")
FUNCTION_ROLE = role_arn(f"{API}-CreateDocumentRole-1A2B3C4D5E6F")
OWN_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/{BACKEND}-OwnDocumentsPolicy-1A2B3C4D5E6F"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{API}-CreateDocumentFunction-1A2B3C4D5E6F"
API_LOGS = f"{LOGS}:{API}-CreateDocumentLogs-1A2B3C4D5E6F"
REST_API = f"arn:aws:apigateway:{REGION}::/restapis/a1b2c3d4e5"
MAPPING = (
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
)
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PIPELINE_ARN = f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{PIPELINE}"


def role(name: str) -> list[dict[str, Any]]:
    return RESOLVER.inline_policies(name)


def approver() -> list[dict[str, Any]]:
    return [RESOLVER.managed_policy("ApproverPolicy")]


def repo(value: str) -> dict[str, Any]:
    return {"codeconnections:FullRepositoryId": value}


def change_set(name: str) -> dict[str, Any]:
    return {"cloudformation:ChangeSetName": name}


def passed_to(service: str) -> dict[str, Any]:
    return {"iam:PassedToService": service}


# (description, policies, action, resource, context, allowed)
CASES: list[tuple[str, list[dict[str, Any]], str, str, dict[str, Any], bool]] = [
    # --- CodePipeline
    ("pipeline: use the connection for the repository", role("PipelineRole"),
     "codeconnections:UseConnection", PARAMETERS["ConnectionArn"],
     repo(PARAMETERS["RepositoryId"]), True),
    ("pipeline: use the connection for another repository", role("PipelineRole"),
     "codeconnections:UseConnection", PARAMETERS["ConnectionArn"], repo("someone/else"), False),
    ("pipeline: use another connection", role("PipelineRole"), "codeconnections:UseConnection",
     PARAMETERS["ConnectionArn"].replace("0f1e2d3c", "99999999"),
     repo(PARAMETERS["RepositoryId"]), False),
    ("pipeline: write an artifact", role("PipelineRole"), "s3:PutObject", SOURCE_ZIP, {}, True),
    ("pipeline: read an artifact", role("PipelineRole"), "s3:GetObject", DEPLOY_TEMPLATES, {},
     True),
    ("pipeline: write to another bucket", role("PipelineRole"), "s3:PutObject",
     OTHER_BUCKET_OBJECT, {}, False),
    ("pipeline: delete an artifact", role("PipelineRole"), "s3:DeleteObject", SOURCE_ZIP, {},
     False),
    ("pipeline: overwrite packaged code", role("PipelineRole"), "s3:PutObject", PACKAGED_CODE, {},
     False),
    ("pipeline: start the test build", role("PipelineRole"), "codebuild:StartBuild",
     f"{CODEBUILD}/{PHYSICAL['TestProject']}", {}, True),
    ("pipeline: start another project", role("PipelineRole"), "codebuild:StartBuild",
     f"{CODEBUILD}/someone-elses-project", {}, False),
    ("pipeline: create the backend's change set", role("PipelineRole"),
     "cloudformation:CreateChangeSet", BACKEND_STACK, change_set("pipeline-changes"), True),
    ("pipeline: execute the API's change set", role("PipelineRole"),
     "cloudformation:ExecuteChangeSet", API_STACK, change_set("pipeline-changes"), True),
    ("pipeline: a change set of another name", role("PipelineRole"),
     "cloudformation:ExecuteChangeSet", BACKEND_STACK, change_set("hand-made"), False),
    ("pipeline: a change set of the pipeline's own stack", role("PipelineRole"),
     "cloudformation:CreateChangeSet", PIPELINE_STACK, change_set("pipeline-changes"), False),
    ("pipeline: update the backend without a change set", role("PipelineRole"),
     "cloudformation:UpdateStack", BACKEND_STACK, {}, False),
    ("pipeline: delete the backend", role("PipelineRole"), "cloudformation:DeleteStack",
     BACKEND_STACK, {}, False),
    ("pipeline: the SAM transform", role("PipelineRole"), "cloudformation:CreateChangeSet",
     SAM_TRANSFORM, {}, True),
    ("pipeline: pass the deploy role to CloudFormation", role("PipelineRole"), "iam:PassRole",
     RESOLVER.attributes["DeployRole.Arn"], passed_to("cloudformation.amazonaws.com"), True),
    ("pipeline: pass the deploy role to Lambda", role("PipelineRole"), "iam:PassRole",
     RESOLVER.attributes["DeployRole.Arn"], passed_to("lambda.amazonaws.com"), False),
    ("pipeline: pass a build role", role("PipelineRole"), "iam:PassRole",
     RESOLVER.attributes["PackageRole.Arn"], passed_to("codebuild.amazonaws.com"), False),
    ("pipeline: pass an arbitrary role", role("PipelineRole"), "iam:PassRole",
     role_arn("OrganizationAccountAccessRole"), passed_to("cloudformation.amazonaws.com"), False),
    # --- CodeBuild: tests
    ("tests: read the source", role("TestRole"), "s3:GetObject", SOURCE_ZIP, {}, True),
    ("tests: write their log", role("TestRole"), "logs:PutLogEvents", TEST_LOG_STREAM, {}, True),
    ("tests: write an artifact", role("TestRole"), "s3:PutObject", DEPLOY_TEMPLATES, {}, False),
    ("tests: write packaged code", role("TestRole"), "s3:PutObject", PACKAGED_CODE, {}, False),
    ("tests: read another bucket", role("TestRole"), "s3:GetObject", OTHER_BUCKET_OBJECT, {},
     False),
    ("tests: write the package log", role("TestRole"), "logs:PutLogEvents", PACKAGE_LOG_STREAM,
     {}, False),
    ("tests: read documents", role("TestRole"), "dynamodb:Scan", DOCUMENTS_TABLE, {}, False),
    ("tests: pass a role", role("TestRole"), "iam:PassRole", RESOLVER.attributes["DeployRole.Arn"],
     passed_to("cloudformation.amazonaws.com"), False),
    # --- CodeBuild: package
    ("package: read the source", role("PackageRole"), "s3:GetObject", SOURCE_ZIP, {}, True),
    ("package: write the templates", role("PackageRole"), "s3:PutObject", DEPLOY_TEMPLATES, {},
     True),
    ("package: upload the Lambda code", role("PackageRole"), "s3:PutObject", PACKAGED_CODE, {},
     True),
    ("package: write its log", role("PackageRole"), "logs:PutLogEvents", PACKAGE_LOG_STREAM, {},
     True),
    ("package: write to another bucket", role("PackageRole"), "s3:PutObject",
     OTHER_BUCKET_OBJECT, {}, False),
    ("package: write elsewhere in the bucket", role("PackageRole"), "s3:PutObject",
     f"{BUCKET}/elsewhere/x", {}, False),
    ("package: delete artifacts", role("PackageRole"), "s3:DeleteObject", PACKAGED_CODE, {}, False),
    ("package: change the bucket's policy", role("PackageRole"), "s3:PutBucketPolicy", BUCKET, {},
     False),
    ("package: pass a role", role("PackageRole"), "iam:PassRole",
     RESOLVER.attributes["DeployRole.Arn"], passed_to("cloudformation.amazonaws.com"), False),
    ("package: write to the documents bucket", role("PackageRole"), "s3:PutObject",
     f"{DOCUMENTS_BUCKET}/private/x/y", {}, False),
    # --- CloudFormation: deploying the two stacks
    ("deploy: create the documents table", role("DeployRole"), "dynamodb:CreateTable",
     DOCUMENTS_TABLE, {}, True),
    ("deploy: update the documents table", role("DeployRole"), "dynamodb:UpdateTable",
     DOCUMENTS_TABLE, {}, True),
    ("deploy: delete the documents table", role("DeployRole"), "dynamodb:DeleteTable",
     DOCUMENTS_TABLE, {}, False),
    ("deploy: delete the client-token table", role("DeployRole"), "dynamodb:DeleteTable",
     TOKENS_TABLE, {}, True),
    ("deploy: read documents", role("DeployRole"), "dynamodb:GetItem", DOCUMENTS_TABLE, {}, False),
    ("deploy: scan documents", role("DeployRole"), "dynamodb:Scan", DOCUMENTS_TABLE, {}, False),
    ("deploy: another table", role("DeployRole"), "dynamodb:UpdateTable", f"{TABLE}/Payroll", {},
     False),
    ("deploy: create the documents bucket", role("DeployRole"), "s3:CreateBucket",
     DOCUMENTS_BUCKET, {}, True),
    ("deploy: set the documents bucket's policy", role("DeployRole"), "s3:PutBucketPolicy",
     DOCUMENTS_BUCKET, {}, True),
    ("deploy: delete the documents bucket", role("DeployRole"), "s3:DeleteBucket",
     DOCUMENTS_BUCKET, {}, False),
    ("deploy: read a document body", role("DeployRole"), "s3:GetObject",
     f"{DOCUMENTS_BUCKET}/private/{REGION}:1111/0a1b", {}, False),
    ("deploy: change the artifact bucket's policy", role("DeployRole"), "s3:PutBucketPolicy",
     BUCKET, {}, False),
    ("deploy: read the packaged code", role("DeployRole"), "s3:GetObject", PACKAGED_CODE, {}, True),
    ("deploy: read the pipeline's source", role("DeployRole"), "s3:GetObject", SOURCE_ZIP, {},
     False),
    ("deploy: create the user pool", role("DeployRole"), "cognito-idp:CreateUserPool", "*", {},
     True),
    ("deploy: update the user pool", role("DeployRole"), "cognito-idp:UpdateUserPool", USER_POOL,
     {}, True),
    ("deploy: delete a user pool", role("DeployRole"), "cognito-idp:DeleteUserPool", USER_POOL, {},
     False),
    ("deploy: read users", role("DeployRole"), "cognito-idp:ListUsers", USER_POOL, {}, False),
    ("deploy: reset a password", role("DeployRole"), "cognito-idp:AdminSetUserPassword",
     USER_POOL, {}, False),
    ("deploy: delete an identity pool", role("DeployRole"), "cognito-identity:DeleteIdentityPool",
     IDENTITY_POOL, {}, False),
    ("deploy: create the users' role", role("DeployRole"), "iam:CreateRole", AUTHENTICATED_ROLE,
     {}, True),
    ("deploy: a function's inline policy", role("DeployRole"), "iam:PutRolePolicy", FUNCTION_ROLE,
     {}, True),
    ("deploy: its own role's policy", role("DeployRole"), "iam:PutRolePolicy",
     RESOLVER.attributes["DeployRole.Arn"], {}, False),
    ("deploy: the pipeline role's policy", role("DeployRole"), "iam:PutRolePolicy",
     RESOLVER.attributes["PipelineRole.Arn"], {}, False),
    ("deploy: another role of the backend's name", role("DeployRole"), "iam:PutRolePolicy",
     role_arn(f"{BACKEND}-Operators"), {}, False),
    ("deploy: create a user", role("DeployRole"), "iam:CreateUser",
     f"arn:aws:iam::{ACCOUNT}:user/mallory", {}, False),
    ("deploy: attach the backend's policy", role("DeployRole"), "iam:AttachRolePolicy",
     AUTHENTICATED_ROLE, {"iam:PolicyARN": OWN_POLICY}, True),
    ("deploy: attach AdministratorAccess", role("DeployRole"), "iam:AttachRolePolicy",
     AUTHENTICATED_ROLE, {"iam:PolicyARN": ADMINISTRATOR_ACCESS}, False),
    ("deploy: create the backend's policy", role("DeployRole"), "iam:CreatePolicy", OWN_POLICY, {},
     True),
    ("deploy: pass the users' role", role("DeployRole"), "iam:PassRole", AUTHENTICATED_ROLE,
     passed_to("cognito-identity.amazonaws.com"), True),
    ("deploy: pass the admins' role", role("DeployRole"), "iam:PassRole", ADMIN_ROLE,
     passed_to("cognito-idp.amazonaws.com"), True),
    ("deploy: pass a function's role to Lambda", role("DeployRole"), "iam:PassRole",
     FUNCTION_ROLE, passed_to("lambda.amazonaws.com"), True),
    ("deploy: pass a function's role to EC2", role("DeployRole"), "iam:PassRole", FUNCTION_ROLE,
     passed_to("ec2.amazonaws.com"), False),
    ("deploy: pass its own role", role("DeployRole"), "iam:PassRole",
     RESOLVER.attributes["DeployRole.Arn"], passed_to("cloudformation.amazonaws.com"), False),
    ("deploy: pass an arbitrary role", role("DeployRole"), "iam:PassRole",
     role_arn("OrganizationAccountAccessRole"), passed_to("lambda.amazonaws.com"), False),
    ("deploy: create a function", role("DeployRole"), "lambda:CreateFunction", FUNCTION, {}, True),
    ("deploy: let API Gateway invoke it", role("DeployRole"), "lambda:AddPermission", FUNCTION,
     {"lambda:Principal": "apigateway.amazonaws.com"}, True),
    ("deploy: let EventBridge invoke it (Object Created)", role("DeployRole"),
     "lambda:AddPermission", FUNCTION, {"lambda:Principal": "events.amazonaws.com"}, True),
    ("deploy: send the bucket's events to EventBridge", role("DeployRole"),
     "s3:PutBucketNotification", DOCUMENTS_BUCKET, {}, True),
    ("deploy: a rule of another stack", role("DeployRole"), "events:PutRule",
     f"arn:aws:events:{REGION}:{ACCOUNT}:rule/other-stack-Rule-1A2B", {}, False),
    ("deploy: let anyone invoke it", role("DeployRole"), "lambda:AddPermission", FUNCTION,
     {"lambda:Principal": "*"}, False),
    ("deploy: a function of another stack", role("DeployRole"), "lambda:UpdateFunctionCode",
     f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:billing-Charge", {}, False),
    ("deploy: invoke a function", role("DeployRole"), "lambda:InvokeFunction", FUNCTION, {}, False),
    ("deploy: a function's log group", role("DeployRole"), "logs:PutRetentionPolicy", API_LOGS, {},
     True),
    ("deploy: the pipeline's log group", role("DeployRole"), "logs:DeleteLogGroup",
     f"{LOGS}:{PHYSICAL['TestLogs']}", {}, False),
    ("deploy: create the REST API", role("DeployRole"), "apigateway:POST",
     f"arn:aws:apigateway:{REGION}::/restapis", {}, True),
    ("deploy: update the REST API", role("DeployRole"), "apigateway:PATCH", REST_API, {}, True),
    ("deploy: API Gateway's account settings", role("DeployRole"), "apigateway:PATCH",
     f"arn:aws:apigateway:{REGION}::/account", {}, False),
    ("deploy: change the pipeline", role("DeployRole"), "codepipeline:UpdatePipeline",
     PIPELINE_ARN, {}, False),
    # --- people who approve
    ("approver: approve the backend's change set", approver(), "codepipeline:PutApprovalResult",
     f"{PIPELINE_ARN}/Backend/Approve", {}, True),
    ("approver: answer another action", approver(), "codepipeline:PutApprovalResult",
     f"{PIPELINE_ARN}/Api/ExecuteChangeSet", {}, False),
    ("approver: read the change set", approver(), "cloudformation:DescribeChangeSet",
     BACKEND_STACK, {}, True),
    ("approver: execute it themselves", approver(), "cloudformation:ExecuteChangeSet",
     BACKEND_STACK, {}, False),
    ("approver: see the pipeline", approver(), "codepipeline:GetPipelineState", PIPELINE_ARN, {},
     True),
    ("approver: start the pipeline", approver(), "codepipeline:StartPipelineExecution",
     PIPELINE_ARN, {}, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("policies", "action", "resource", "context", "allowed"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_iam_decision(
    policies: list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, Any],
    allowed: bool,
) -> None:
    assert is_allowed(policies, action, resource, context) is allowed


def test_a_connection_of_the_older_service_prefix_gets_its_own_action() -> None:
    older = PARAMETERS["ConnectionArn"].replace(":codeconnections:", ":codestar-connections:")
    policies = PipelineResolver(load_pipeline_template(), {"ConnectionArn": older})
    pipeline = policies.inline_policies("PipelineRole")
    context = {"codestar-connections:FullRepositoryId": PARAMETERS["RepositoryId"]}
    assert is_allowed(pipeline, "codestar-connections:UseConnection", older, context)
    assert not is_allowed(pipeline, "codeconnections:UseConnection", older, context)


# --- every statement, against IAM's list of actions and resource types ---------------------------


@cache
def _iam_actions() -> dict[str, Any]:
    loaded: dict[str, Any] = load_resource(AdditionalSpecs, "Policies.json")
    return loaded


def _resource_patterns(action: str) -> list[re.Pattern[str]]:
    """The ARN shapes IAM accepts for ``action`` (none: it takes only "*")."""
    service, _, name = action.partition(":")
    known = _iam_actions()[service]
    kinds = known["Actions"][name.lower()].get("Resources", [])
    patterns = []
    for kind in kinds:
        for arn in known["Resources"][kind.lower()]["ARNFormats"]:
            concrete = arn.replace("${Partition}", "aws").replace("${Region}", REGION)
            concrete = concrete.replace("${Account}", ACCOUNT)
            pattern = re.escape(concrete).replace(re.escape(".*"), ".*")
            patterns.append(re.compile(re.sub(r"\\\$\\\{[^}]*\\\}", ".+", pattern)))
    return patterns


# IAM's reference lists only the stack as CreateChangeSet's resource, but CloudFormation also
# checks CreateChangeSet on the transform's ARN for a template with a transform ("Controlling
# access with IAM" in the CloudFormation user guide; `sam deploy` needs the same).
NOT_IN_IAMS_REFERENCE = {("cloudformation:CreateChangeSet", SAM_TRANSFORM)}


def _documents() -> dict[str, list[dict[str, Any]]]:
    return {
        **{name: RESOLVER.inline_policies(name) for name in ROLES},
        "ApproverPolicy": [RESOLVER.managed_policy("ApproverPolicy")],
    }


@pytest.mark.parametrize("owner", [*ROLES, "ApproverPolicy"])
def test_every_statement_names_its_actions_and_the_resources_they_take(owner: str) -> None:
    for statement in all_statements(_documents()[owner]):
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        resources = [str(resource) for resource in as_list(statement["Resource"])]
        for action in actions_of(statement):
            assert "*" not in action, (owner, action)
            patterns = _resource_patterns(action)
            if resources == ["*"]:
                assert not patterns, f"{owner}: {action} takes resources, not '*'"
                continue
            for resource in resources:
                if (action, resource) in NOT_IN_IAMS_REFERENCE:
                    continue
                assert any(p.fullmatch(resource) for p in patterns), (owner, action, resource)


def test_only_actions_iam_cannot_scope_have_the_resource_star() -> None:
    starred = [
        action
        for documents in _documents().values()
        for statement in all_statements(documents)
        if as_list(statement["Resource"]) == ["*"]
        for action in actions_of(statement)
    ]
    assert sorted(starred) == [
        "cognito-identity:CreateIdentityPool",
        "cognito-identity:SetIdentityPoolRoles",
        "cognito-idp:CreateUserPool",
        "kms:CreateKey",
        "lambda:CreateEventSourceMapping",  # with a condition on the function
        "logs:DescribeIndexPolicies",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
    ]


def test_only_the_pipeline_and_the_deploy_role_may_pass_roles() -> None:
    passing = {
        owner
        for owner, documents in _documents().items()
        for statement in all_statements(documents)
        if "iam:PassRole" in actions_of(statement)
    }
    assert passing == {"PipelineRole", "DeployRole"}
    [pipeline_pass] = [
        s for s in all_statements(role("PipelineRole")) if "iam:PassRole" in actions_of(s)
    ]
    assert as_list(pipeline_pass["Resource"]) == [RESOLVER.attributes["DeployRole.Arn"]]


@pytest.mark.parametrize("name", ROLES)
def test_each_role_trusts_one_service_of_this_account(name: str) -> None:
    services = {
        "PipelineRole": "codepipeline.amazonaws.com",
        "TestRole": "codebuild.amazonaws.com",
        "PackageRole": "codebuild.amazonaws.com",
        "DeployRole": "cloudformation.amazonaws.com",
    }
    trust = RESOLVER.resource(name)["Properties"]["AssumeRolePolicyDocument"]
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": services[name]}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


# --- the deploy role covers what the two stacks hold ---------------------------------------------


def _translated_api() -> dict[str, Any]:
    """The API stack as the pipeline deploys it: its parameter file says SearchEngine none, so
    the search resources (all under a SearchOn condition) are not deployed by it; an operator
    who turns search on deploys them with a role of their own (docs/search.md)."""
    template = load_api_template()
    template["Globals"]["Function"]["CodeUri"] = f"s3://{PHYSICAL['ArtifactBucket']}/packaged/x"
    template["Resources"] = {
        name: resource
        for name, resource in template["Resources"].items()
        if not str(resource.get("Condition", "")).startswith("SearchOn")
    }
    assert load_parameter_file("dms-api.parameters.json")["Parameters"]["SearchEngine"] == "none"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    parameters = {
        "DocumentsBucketName": "dms-documentsbucket-x",
        "AuthenticatedRoleName": f"{BACKEND}-AuthenticatedRole-1A2B3C4D5E6F",
        "AdminRoleName": f"{BACKEND}-AdminRole-1A2B3C4D5E6F",
    }
    translated: dict[str, Any] = translator.translate(
        template, parameter_values=parameters, get_managed_policy_map=dict
    )
    return json.loads(json.dumps(translated))


def _stack_resources() -> list[tuple[str, str, str]]:
    """(stack name, logical id, type) of every resource the pipeline deploys."""
    found = []
    for stack, template in ((BACKEND, load_backend_template()), (API, _translated_api())):
        for logical_id, resource in template["Resources"].items():
            found.append((stack, logical_id, resource["Type"]))
    return found


def _example_arn(stack: str, logical_id: str, kind: str) -> str:
    generated = f"{stack}-{logical_id}-1A2B3C4D5E6F"
    return {
        "AWS::IAM::Role": role_arn(generated),
        "AWS::IAM::ManagedPolicy": f"arn:aws:iam::{ACCOUNT}:policy/{generated}",
        "AWS::Logs::LogGroup": f"{LOGS}:{generated}",
        "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{generated}",
        "AWS::Events::Rule": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{generated}",
    }[kind]


# What CloudFormation calls to create and delete each type the stacks hold (the documents table,
# bucket and pools are retained, so they are only created). A new type in either template fails
# test_the_deploy_role_can_create_every_resource_the_stacks_hold until it is added here and to
# the role.
CREATE = {
    "AWS::DynamoDB::Table": [("dynamodb:CreateTable", TOKENS_TABLE), ("dynamodb:CreateTable",
                             DOCUMENTS_TABLE), ("dynamodb:DeleteTable", TOKENS_TABLE)],
    "AWS::S3::Bucket": [("s3:CreateBucket", DOCUMENTS_BUCKET),
                        ("s3:PutLifecycleConfiguration", DOCUMENTS_BUCKET)],
    "AWS::S3::BucketPolicy": [("s3:PutBucketPolicy", DOCUMENTS_BUCKET)],
    "AWS::Cognito::UserPool": [("cognito-idp:CreateUserPool", "*"),
                               ("cognito-idp:DescribeUserPool", USER_POOL)],
    "AWS::Cognito::UserPoolClient": [("cognito-idp:CreateUserPoolClient", USER_POOL),
                                     ("cognito-idp:DeleteUserPoolClient", USER_POOL)],
    "AWS::Cognito::UserPoolGroup": [("cognito-idp:CreateGroup", USER_POOL),
                                    ("cognito-idp:DeleteGroup", USER_POOL)],
    "AWS::Cognito::IdentityPool": [("cognito-identity:CreateIdentityPool", "*"),
                                   ("cognito-identity:DescribeIdentityPool", IDENTITY_POOL)],
    "AWS::Cognito::IdentityPoolRoleAttachment": [("cognito-identity:SetIdentityPoolRoles", "*"),
                                                 ("cognito-identity:GetIdentityPoolRoles",
                                                  IDENTITY_POOL)],
    "AWS::ApiGateway::RestApi": [("apigateway:POST", f"arn:aws:apigateway:{REGION}::/restapis"),
                                 ("apigateway:DELETE", REST_API)],
    "AWS::ApiGateway::Deployment": [("apigateway:POST", f"{REST_API}/deployments")],
    "AWS::ApiGateway::Stage": [("apigateway:POST", f"{REST_API}/stages"),
                               ("apigateway:DELETE", f"{REST_API}/stages/v1")],
    "AWS::Lambda::Permission": [("lambda:RemovePermission", FUNCTION)],
    "AWS::Lambda::EventSourceMapping": [("lambda:GetEventSourceMapping", MAPPING),
                                        ("lambda:DeleteEventSourceMapping", MAPPING)],
    "AWS::KMS::Key": [("kms:CreateKey", "*"), ("kms:PutKeyPolicy", KMS_KEY),
                      ("kms:DescribeKey", KMS_KEY), ("kms:ScheduleKeyDeletion", KMS_KEY)],
    "AWS::IAM::RolePolicy": [("iam:PutRolePolicy", AUTHENTICATED_ROLE),
                             ("iam:DeleteRolePolicy", AUTHENTICATED_ROLE),
                             ("iam:PutRolePolicy", ADMIN_ROLE)],
}  # fmt: skip
PER_RESOURCE = {
    "AWS::IAM::Role": ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRole"],
    "AWS::IAM::ManagedPolicy": ["iam:CreatePolicy", "iam:DeletePolicy"],
    "AWS::Logs::LogGroup": ["logs:CreateLogGroup", "logs:DeleteLogGroup"],
    "AWS::Lambda::Function": ["lambda:CreateFunction", "lambda:DeleteFunction"],
    "AWS::Events::Rule": ["events:PutRule", "events:PutTargets", "events:DeleteRule"],
}


def test_the_deploy_role_can_create_every_resource_the_stacks_hold() -> None:
    deploy = role("DeployRole")
    for stack, logical_id, kind in _stack_resources():
        assert kind in CREATE or kind in PER_RESOURCE, f"the pipeline cannot deploy {kind} yet"
        if kind in PER_RESOURCE:
            arn = _example_arn(stack, logical_id, kind)
            for action in PER_RESOURCE[kind]:
                assert is_allowed(deploy, action, arn), (logical_id, action)
            if kind == "AWS::Lambda::Function":  # Lambda reads the code as the caller
                assert is_allowed(deploy, "s3:GetObject", PACKAGED_CODE), logical_id
        else:
            for action, resource in CREATE[kind]:
                assert is_allowed(deploy, action, resource), (logical_id, action)


def test_the_deploy_role_may_pass_every_role_the_stacks_hand_over() -> None:
    deploy = role("DeployRole")
    for stack, logical_id, kind in _stack_resources():
        if kind != "AWS::IAM::Role":
            continue
        service = "lambda.amazonaws.com" if stack == API else "cognito-identity.amazonaws.com"
        arn = _example_arn(stack, logical_id, kind)
        assert is_allowed(deploy, "iam:PassRole", arn, passed_to(service)), logical_id


def test_the_deploy_role_may_read_back_everything_it_creates() -> None:
    """After each create or update, CloudFormation's resource handler reads the resource back with
    the permissions its schema lists under "read"; a missing one fails the deployment. The stacks
    use only AWS-managed KMS keys, whose key policies need no grant in the role."""
    allowed = {action for s in all_statements(role("DeployRole")) for action in actions_of(s)}
    for kind in sorted({kind for _, _, kind in _stack_resources()}):
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind).schema
        needed = set(schema["handlers"]["read"]["permissions"])
        missing = {a for a in needed - allowed if not a.startswith("kms:")}
        assert not missing, (kind, sorted(missing))


def test_generated_role_names_keep_the_whole_stack_name() -> None:
    """IAM role names have at most 64 characters; CloudFormation shortens longer generated names,
    and the deploy role's patterns ("<stack>-<logical id>-*") would no longer match."""
    longest_stack = 20  # BackendStackName's and ApiStackName's AllowedPattern
    suffix = len("-1A2B3C4D5E6F7")
    for _, logical_id, kind in _stack_resources():
        if kind in ("AWS::IAM::Role", "AWS::Lambda::Function"):
            assert longest_stack + 1 + len(logical_id) + suffix <= 64, logical_id


def test_the_deploy_role_maps_streams_only_to_the_api_stacks_functions() -> None:
    deploy = role("DeployRole")
    own = {"lambda:FunctionArn": FUNCTION}
    other = {"lambda:FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:someone-else"}
    assert is_allowed(deploy, "lambda:CreateEventSourceMapping", "*", own)
    assert not is_allowed(deploy, "lambda:CreateEventSourceMapping", "*", other)
    assert not is_allowed(deploy, "kms:Decrypt", KMS_KEY)
    assert not is_allowed(deploy, "kms:GenerateMac", KMS_KEY)
