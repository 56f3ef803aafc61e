"""The Lambda handlers under moto (in-process): the environment the SAM template gives the
functions, the tables and bucket, and API Gateway proxy events of IAM-authorised routes, signed
with identity pool credentials."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from dms_desktop.api import backend as api_backend
from dms_desktop.api import handlers
from dms_desktop.api.idempotency import client_tokens_table_definition
from dms_desktop.api.pending import pending_uploads_table_definition
from dms_desktop.core import schema
from tests.support.aws import new_session

TABLE = "Documents"
BUCKET = "dms-documentsbucket-test"
CLIENT_TOKENS = "dms-api-ClientTokens"
PENDING_UPLOADS = "dms-api-PendingUploads"
REGION = "eu-west-1"

# Identity pool identity ids, as API Gateway passes them for IAM-authorised routes.
ALICE = "eu-west-1:1f0e8c52-3a1b-4d6e-9f70-0a1b2c3d4e5f"
BOB = "eu-west-1:7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"
IDENTITY_POOL_ID = "eu-west-1:0c9e8d7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f"
# What a signed request carries: none of it may reach a log line.
ID_TOKEN = (
    "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY0000000/20241126/eu-west-1/execute-api/"
    "aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, "
    "Signature=c2lnbmF0dXJlLXNlY3JldA0123456789abcdef0123456789abcdef0123456789ab"
)
SECURITY_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsecret-session-token"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda context object the handlers read."""

    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "dms-api-Function"


def proxy_event(
    method: str,
    resource: str,
    *,
    user: str | None = ALICE,
    body: Any = None,
    query: dict[str, str] | None = None,
    document_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST API (v1) proxy event of a route with IAM authorisation, signed with
    the identity pool credentials of ``user`` (an identity id; None: no identity)."""
    path = resource.replace("{documentId}", document_id or "")
    path_parameters = {"documentId": document_id} if document_id is not None else None
    headers = {
        "Accept": "application/json",
        "Authorization": ID_TOKEN,
        "X-Amz-Date": "20241126T003000Z",
        "X-Amz-Security-Token": SECURITY_TOKEN,
        "Host": "abc123.execute-api.eu-west-1.amazonaws.com",
        "User-Agent": "curl/8.5.0",
        "X-Forwarded-For": "203.0.113.7",
    }
    identity: dict[str, Any] = {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"}
    if user is not None:
        identity.update(
            {
                "cognitoIdentityPoolId": IDENTITY_POOL_ID,
                "cognitoIdentityId": user,
                "cognitoAuthenticationType": "authenticated",
                "cognitoAuthenticationProvider": (
                    "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool1,"
                    "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool1:CognitoSignIn:"
                    "4a3b2c1d-0e9f-4a8b-8c7d-6e5f4a3b2c1d"
                ),
                "accountId": "123456789012",
                "caller": "AROAEXAMPLEROLEID0000:CognitoIdentityCredentials",
                "accessKey": "ASIAEXAMPLEKEY0000000",
                "userArn": (
                    "arn:aws:sts::123456789012:assumed-role/dms-AuthenticatedRole-1A2B/"
                    "CognitoIdentityCredentials"
                ),
                "user": "AROAEXAMPLEROLEID0000:CognitoIdentityCredentials",
            }
        )
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": (
            {name: [value] for name, value in query.items()} if query else None
        ),
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": "Cx1yZFkwIAMF4Hg=",
            "requestTime": "26/Nov/2024:00:30:00 +0000",
            "path": f"/v1{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "v1",
            "domainPrefix": "abc123",
            "requestTimeEpoch": 1732581000000,
            "requestId": str(uuid.uuid4()),
            "identity": identity,
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "apiId": "abc123",
        },
        "body": body,
        "isBase64Encoded": False,
    }


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    request_id: str


def invoke(handler: Handler, event: dict[str, Any]) -> Answer:
    context = LambdaContext()
    result = handler(event, context)
    body = json.loads(result["body"]) if result["body"] else None
    return Answer(result["statusCode"], result["headers"], body, context.aws_request_id)


def create_body(content: bytes = b"hello", **fields: Any) -> dict[str, Any]:
    return {
        "filename": "report.pdf",
        "size": len(content),
        "checksum": hashlib.sha256(content).hexdigest(),
        **fields,
    }


def create(user: str = ALICE, content: bytes = b"hello", **fields: Any) -> Answer:
    event = proxy_event("POST", "/documents", user=user, body=create_body(content, **fields))
    return invoke(handlers.create_document, event)


def upload(answer: Answer, content: bytes) -> requests.Response:
    """PUT the body to the upload URL a create handed out, as a client does."""
    target = answer.body["upload"]
    return requests.request(
        target["method"], target["url"], data=content, headers=target["headers"], timeout=10
    )


def complete(document_id: str, user: str = ALICE) -> Answer:
    event = proxy_event(
        "POST", "/documents/{documentId}/complete", user=user, document_id=document_id
    )
    return invoke(handlers.complete_upload, event)


def store(user: str = ALICE, content: bytes = b"hello", **fields: Any) -> dict[str, Any]:
    """A stored document, the way a client stores one: create, upload the body, complete."""
    created = create(user, content, **fields)
    assert created.status == 201, created.body
    assert upload(created, content).status_code == 200
    completed = complete(created.body["document"]["documentId"], user)
    assert completed.status == 201, completed.body
    document: dict[str, Any] = completed.body["document"]
    return document


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, and the environment the template gives the functions."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv(api_backend.TABLE_VARIABLE, TABLE)
    monkeypatch.setenv(api_backend.BUCKET_VARIABLE, BUCKET)
    monkeypatch.setenv(api_backend.CLIENT_TOKENS_VARIABLE, CLIENT_TOKENS)
    monkeypatch.setenv(api_backend.PENDING_UPLOADS_VARIABLE, PENDING_UPLOADS)
    api_backend.current_backend.cache_clear()
    with mock_aws():
        yield
    api_backend.current_backend.cache_clear()


@pytest.fixture
def session(aws: None) -> boto3.session.Session:
    return new_session()


@pytest.fixture
def dynamodb(session: boto3.session.Session) -> Any:
    client = session.client("dynamodb", region_name=REGION)
    client.create_table(**schema.table_definition(TABLE))
    client.create_table(**client_tokens_table_definition(CLIENT_TOKENS))
    client.create_table(**pending_uploads_table_definition(PENDING_UPLOADS))
    return client


@pytest.fixture
def s3(session: boto3.session.Session) -> Any:
    client = session.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


@pytest.fixture
def api(dynamodb: Any, s3: Any) -> None:
    """The deployed backend: the Documents table, the client token table and the bucket."""
