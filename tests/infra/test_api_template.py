"""The web API's SAM template: cfn-lint clean, translated offline by aws-sam-translator, and the
translation checked: every route behind the Cognito authorizer, one role per function with only
the actions it needs, the handlers and environment the code expects."""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from dms_desktop.api import backend
from dms_desktop.api.bundle import DEFAULT_TARGET
from dms_desktop.api.idempotency import EXPIRES_AT, client_tokens_table_definition
from dms_desktop.api.pending import EXPIRES_AT as PENDING_EXPIRES_AT
from dms_desktop.api.pending import pending_uploads_table_definition
from dms_desktop.api.share import SHARE_KEY_VARIABLE

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "resources" / "cloudformation" / "dms-api.yaml"
STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/Documents/stream/2026-01-01T00:00:00.000"
PARAMETERS = {
    "DocumentsTableStreamArn": STREAM,
    "DocumentsBucketName": "dms-documentsbucket-test",
    "AuthenticatedRoleName": "dms-AuthenticatedRole-1A2B3C",
    "AdminRoleName": "dms-AdminRole-1A2B3C",
}

ROUTES = {
    ("/documents", "post"): "CreateDocumentFunction",
    ("/documents/{documentId}/complete", "post"): "CompleteUploadFunction",
    ("/documents", "get"): "GetDocumentsFunction",
    ("/documents/{documentId}", "get"): "GetDocumentByIdFunction",
    ("/documents/{documentId}", "delete"): "DeleteDocumentFunction",
    ("/documents/{documentId}/restore", "post"): "RestoreDocumentFunction",
    ("/documents/{documentId}/share", "post"): "ShareDocumentFunction",
    ("/share/{token}", "get"): "OpenShareLinkFunction",  # no authoriser: the link's HMAC
    ("/search", "get"): "SearchFunction",  # with SearchEngine domain or serverless
}
PUBLIC_ROUTES = {("/share/{token}", "get")}
HANDLERS = {
    "CreateDocumentFunction": "dms_desktop.api.handlers.create_document",
    "CompleteUploadFunction": "dms_desktop.api.handlers.complete_upload",
    "GetDocumentsFunction": "dms_desktop.api.handlers.get_documents",
    "GetDocumentByIdFunction": "dms_desktop.api.handlers.get_document_by_id",
    "DeleteDocumentFunction": "dms_desktop.api.handlers.delete_document",
    "RestoreDocumentFunction": "dms_desktop.api.handlers.restore_document",
    "ShareDocumentFunction": "dms_desktop.api.share.share_document",
    "OpenShareLinkFunction": "dms_desktop.api.share.open_share_link",
    "ObjectCreatedFunction": "dms_desktop.api.object_created.handle_object_created",
    # With the table's stream given (DocumentsTableStreamArn), as the pipeline gives it.
    "TrashPurgeFunction": "dms_desktop.api.trash_purge.handle_stream",
}
# The variables a function has beyond the Globals' four.
EXTRA_ENVIRONMENT = {
    "DeleteDocumentFunction": {backend.TRASH_DAYS_VARIABLE},
    "ShareDocumentFunction": {SHARE_KEY_VARIABLE},
    "OpenShareLinkFunction": {SHARE_KEY_VARIABLE},
}
# The search functions (SearchEngine other than none): tests/infra/test_search_template.py.
SEARCH_HANDLERS = {
    "SearchFunction": "dms_desktop.api.search.search_documents",
    "IndexerFunction": "dms_desktop.indexer.handler.handle_stream",
}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
ACTIONS = {
    # Create only reads the Documents table (a retry of a completed create): it writes the
    # pending upload, and Complete writes the document once the body is there.
    "CreateDocumentFunction": LOGS | {"dynamodb:PutItem", "dynamodb:GetItem", "s3:PutObject"},
    "CompleteUploadFunction": LOGS
    | {"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "s3:GetObject"},
    "GetDocumentsFunction": LOGS | {"dynamodb:Query"},
    "GetDocumentByIdFunction": LOGS | {"dynamodb:GetItem", "s3:GetObject"},
    # To the trash (BatchGetItem, UpdateItem in a transaction) or, permanently, for good: the
    # body with every stored version (listed under private/ only).
    "DeleteDocumentFunction": LOGS
    | {
        "dynamodb:BatchGetItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "s3:ListBucketVersions",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    },
    "RestoreDocumentFunction": LOGS | {"dynamodb:BatchGetItem", "dynamodb:UpdateItem"},
    # Share links: one role makes the HMAC, the other checks it and presigns the download.
    "ShareDocumentFunction": LOGS | {"dynamodb:GetItem", "kms:GenerateMac"},
    "OpenShareLinkFunction": LOGS | {"kms:VerifyMac", "dynamodb:GetItem", "s3:GetObject"},
    # The stream, the versions of a body (under private/ only) and their deletion.
    "TrashPurgeFunction": LOGS
    | {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "s3:ListBucketVersions",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    },
    # A web upload: read it, copy it to its document's key, write the item, delete the upload.
    "ObjectCreatedFunction": LOGS
    | {
        "dynamodb:PutItem",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
    },
}


def _sam_template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))
    return template


@cache
def _translated_json() -> str:
    """The CloudFormation that SAM makes of the template, as after `sam package` (which puts
    the built code in S3 and the S3 location into CodeUri)."""
    template = _sam_template()
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts-bucket/dms-api.zip"
    indexer = template["Resources"]["IndexerFunction"]["Properties"]
    indexer["CodeUri"] = "s3://artifacts-bucket/dms-indexer.zip"
    translator = Translator(
        None, Parser(), boto_session=boto3.session.Session(region_name="eu-west-1")
    )
    translated = translator.translate(
        template, parameter_values=dict(PARAMETERS), get_managed_policy_map=dict
    )
    return json.dumps(translated)


def translated() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(_translated_json())
    return result


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(resources: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in resources[role]["Properties"]["Policies"]:
        statements.extend(_as_list(policy["PolicyDocument"]["Statement"]))
    return statements


def test_cfn_lint_is_clean_including_informational_rules() -> None:
    matches = lint_file(TEMPLATE, ManualArgs(include_checks=["I"], regions=["us-east-1"]))
    assert [str(match) for match in matches] == []


def _unconditional(value: Any) -> Any:
    """``value`` as deployed with its condition true: SAM wraps everything of a conditional
    function (GET /search) in Fn::If."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        return _unconditional(value["Fn::If"][1])
    if isinstance(value, dict):
        return {key: _unconditional(item) for key, item in value.items()}
    return value


def test_every_route_reaches_its_function_behind_iam_authorisation() -> None:
    """IAM authorisation: API Gateway passes the caller's identity id (handlers.caller_id)."""
    resources = translated()["Resources"]
    [api] = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    body = api["Properties"]["Body"]
    routes = {
        (path, method): operation
        for path, methods in body["paths"].items()
        for method, operation in _unconditional(methods).items()
    }
    assert set(routes) == set(ROUTES)
    for route, operation in routes.items():
        if route in PUBLIC_ROUTES:
            assert operation["security"] == [{"NONE": []}], route  # SAM: no authoriser
        else:
            assert operation["security"] == [{"AWS_IAM": []}], route
        uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        assert f"${{{ROUTES[route]}.Arn}}" in uri
        assert operation["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    assert body["securityDefinitions"]["AWS_IAM"]["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_only_the_user_roles_may_invoke_the_api_and_only_it() -> None:
    resources = translated()["Resources"]
    policies = {
        name: resource["Properties"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::IAM::RolePolicy"
    }
    assert {props["RoleName"]["Ref"] for props in policies.values()} == {
        "AuthenticatedRoleName",
        "AdminRoleName",
    }
    for props in policies.values():
        [statement] = props["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "execute-api:Invoke"
        resources_allowed = [resource["Fn::Sub"] for resource in statement["Resource"]]
        assert [resource.rsplit(":", 1)[-1] for resource in resources_allowed] == [
            "${DocumentsApi}/${StageName}/*/documents*",
            "${DocumentsApi}/${StageName}/GET/search",
        ]


def test_each_function_runs_an_existing_handler_with_the_expected_environment() -> None:
    resources = translated()["Resources"]
    functions = {
        name: resource["Properties"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function" and name not in SEARCH_HANDLERS
    }
    assert {name: props["Handler"] for name, props in functions.items()} == HANDLERS
    for name, props in functions.items():
        module, _, attribute = props["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute))
        assert set(props["Environment"]["Variables"]) == {
            backend.TABLE_VARIABLE,
            backend.BUCKET_VARIABLE,
            backend.CLIENT_TOKENS_VARIABLE,
            backend.PENDING_UPLOADS_VARIABLE,
        } | EXTRA_ENVIRONMENT.get(name, set())
        assert props["Runtime"].startswith("python3.")


def test_each_function_has_its_own_role_with_only_the_actions_it_needs() -> None:
    resources = translated()["Resources"]
    roles = {
        function: resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
        for function in HANDLERS
    }
    assert len(set(roles.values())) == len(HANDLERS)
    for function, expected in ACTIONS.items():
        statements = _role_statements(resources, function)
        actions = {action for s in statements for action in _as_list(s["Action"])}
        assert actions == expected, function
        assert all(s["Effect"] == "Allow" for s in statements)
        for statement in statements:
            for resource in _as_list(statement["Resource"]):
                text = json.dumps(resource)
                if statement["Action"] != "dynamodb:ListStreams":  # no resource-level permission
                    assert text != '"*"', (function, statement)
                if statement["Action"] == "s3:ListBucketVersions":  # the bucket, under private/
                    assert statement["Condition"] == {"StringLike": {"s3:prefix": "private/*"}}
                elif any(action.startswith("s3:") for action in _as_list(statement["Action"])):
                    assert text.endswith('/private/*"}'), (function, statement)
        trust = resources[roles[function]]["Properties"]["AssumeRolePolicyDocument"]
        [principal] = [s["Principal"] for s in trust["Statement"]]
        assert principal == {"Service": "lambda.amazonaws.com"}


def test_each_function_logs_to_its_own_log_group_with_a_retention() -> None:
    resources = translated()["Resources"]
    groups = set()
    for function in HANDLERS:
        group = resources[function]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        groups.add(group)
        assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        [logs] = [s for s in _role_statements(resources, function) if s["Sid"] == "Logs"]
        assert logs["Resource"] == {"Fn::GetAtt": [group, "Arn"]}
    assert len(groups) == len(HANDLERS)


def test_the_client_token_table_is_the_one_the_code_creates_in_tests() -> None:
    table = _sam_template()["Resources"]["ClientTokensTable"]["Properties"]
    expected = client_tokens_table_definition("unused")
    assert table["KeySchema"] == expected["KeySchema"]
    assert table["AttributeDefinitions"] == expected["AttributeDefinitions"]
    assert table["BillingMode"] == expected["BillingMode"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": EXPIRES_AT, "Enabled": True}


def test_the_pending_upload_table_is_the_one_the_code_creates_in_tests() -> None:
    table = _sam_template()["Resources"]["PendingUploadsTable"]["Properties"]
    expected = pending_uploads_table_definition("unused")
    assert table["KeySchema"] == expected["KeySchema"]
    assert table["AttributeDefinitions"] == expected["AttributeDefinitions"]
    assert table["BillingMode"] == expected["BillingMode"]
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": PENDING_EXPIRES_AT,
        "Enabled": True,
    }


def test_only_complete_writes_documents_and_create_writes_only_pending_uploads() -> None:
    resources = translated()["Resources"]
    documents_table = ":table/${DocumentsTableName}"

    def writes(function: str) -> set[str]:
        targets = set()
        for statement in _role_statements(resources, function):
            if "dynamodb:PutItem" in _as_list(statement["Action"]):
                targets.add(json.dumps(statement["Resource"]))
        return targets

    create_targets = writes("CreateDocumentFunction")
    assert len(create_targets) == 2
    assert any("PendingUploadsTable" in target for target in create_targets)
    assert any("ClientTokensTable" in target for target in create_targets)
    assert not any(documents_table in target for target in create_targets)
    (complete_target,) = writes("CompleteUploadFunction")
    assert documents_table in complete_target


def test_the_code_uri_is_where_the_bundle_is_built() -> None:
    code_uri = _sam_template()["Globals"]["Function"]["CodeUri"]
    assert (TEMPLATE.parent / code_uri).resolve() == (REPO / DEFAULT_TARGET).resolve()


def test_files_created_under_private_in_the_bucket_reach_the_object_created_function() -> None:
    resources = translated()["Resources"]
    [rule] = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": "DocumentsBucketName"}]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "private/"}]
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ObjectCreatedFunction", "Arn"]}
    backend = cfn_yaml.load(str(TEMPLATE.parent / "dms-backend.yaml"))
    bucket = backend["Resources"]["DocumentsBucket"]["Properties"]
    assert bucket["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
