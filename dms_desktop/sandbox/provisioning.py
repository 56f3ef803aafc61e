"""The sandbox's own resources, made at its first start from the AWS template, and the clients of
its owner that make them (and that the sandbox's tools use)."""

from __future__ import annotations

import contextlib
import logging
from importlib.resources import files
from typing import Any

import boto3
import botocore.config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

from dms_desktop.core.aws import attach_credentials, new_session
from dms_desktop.core.errors import SandboxError
from dms_desktop.core.schema import TABLE_NAME, time_to_live_specification
from dms_desktop.sandbox.info import (
    ACCESS_KEY_ID,
    ADMIN_USER,
    ADMINS_GROUP,
    DEMO_USER,
    REGION,
    SECRET_ACCESS_KEY,
)
from dms_desktop.sandbox.lifecycle import keep_old_versions
from dms_desktop.sandbox.persistence import SandboxResources

log = logging.getLogger(__name__)


TEMPLATE_FILE = "dms-backend.yaml"  # the AWS template (resources/cloudformation)
SANDBOX_STACK = "dms-local"


def owner_session() -> boto3.session.Session:
    """A session for the sandbox's owner: dummy AWS credentials (the sandbox checks none: its
    key does the checking, added to each request by the sandbox's route, see core.aws)."""
    session = new_session(region_name=REGION)
    attach_credentials(session, Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY))
    return session


def sandbox_client(
    endpoint_url: str, service: str, session: boto3.session.Session | None, **config: Any
) -> Any:
    """A boto3 client for the sandbox as its owner (few retries unless ``config`` says)."""
    settings = botocore.config.Config(
        retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5, read_timeout=60
    ).merge(botocore.config.Config(**config))
    service_name: Any = service  # boto3-stubs overloads on literal service names
    return (session or owner_session()).client(
        service_name, endpoint_url=endpoint_url, config=settings
    )


def create_user(cognito: Any, user_pool_id: str, username: str, password: str, admin: bool) -> None:
    """A confirmed user with a permanent password (raises botocore ClientError), or none at all:
    a step that fails (a password the policy rejects) removes the user it had created."""
    cognito.admin_create_user(UserPoolId=user_pool_id, Username=username, MessageAction="SUPPRESS")
    try:
        cognito.admin_set_user_password(
            UserPoolId=user_pool_id, Username=username, Password=password, Permanent=True
        )
        if admin:
            cognito.admin_add_user_to_group(
                UserPoolId=user_pool_id, Username=username, GroupName=ADMINS_GROUP
            )
    except BaseException:
        with contextlib.suppress(ClientError, BotoCoreError):
            cognito.admin_delete_user(UserPoolId=user_pool_id, Username=username)
        raise


def _deploy_template(endpoint_url: str, session: boto3.session.Session) -> tuple[str, str]:
    """The table and the bucket from the AWS template itself (one definition of the backend),
    deployed by moto's CloudFormation; returns (table, bucket).

    moto skips the template's Cognito resources, its bucket policy and the table's TTL (see
    tests/infra/test_moto_deploy.py): create_resources makes the pools the same way by hand,
    and switches TTL on here.
    """
    template = files("dms_desktop.resources").joinpath("cloudformation", TEMPLATE_FILE)
    cloudformation = sandbox_client(endpoint_url, "cloudformation", session)
    dynamodb = sandbox_client(endpoint_url, "dynamodb", session)
    try:
        cloudformation.create_stack(
            StackName=SANDBOX_STACK,
            TemplateBody=template.read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": "TableName", "ParameterValue": TABLE_NAME}],
            Capabilities=["CAPABILITY_IAM"],
        )
        (stack,) = cloudformation.describe_stacks(StackName=SANDBOX_STACK)["Stacks"]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise SandboxError(
                f"The sandbox could not deploy {TEMPLATE_FILE} ({stack['StackStatus']}: "
                f"{stack.get('StackStatusReason', 'no reason given')})."
            )
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
        table, bucket = outputs["TableName"], outputs["BucketName"]
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification=time_to_live_specification()
        )
        keep_old_versions(sandbox_client(endpoint_url, "s3", session), bucket)
    finally:
        cloudformation.close()
        dynamodb.close()
    return table, bucket


def create_resources(endpoint_url: str) -> SandboxResources:
    """First start of an empty folder: the template's table and bucket, then the user pool,
    users and identity pool."""
    session = owner_session()
    table, bucket = _deploy_template(endpoint_url, session)
    cognito = sandbox_client(endpoint_url, "cognito-idp", session)
    identity = sandbox_client(endpoint_url, "cognito-identity", session)
    try:
        pool = cognito.create_user_pool(
            PoolName="dms-local",
            Policies={
                "PasswordPolicy": {
                    "MinimumLength": 8,
                    "RequireUppercase": False,
                    "RequireLowercase": False,
                    "RequireNumbers": False,
                    "RequireSymbols": False,
                }
            },
        )["UserPool"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="dms-desktop",
            GenerateSecret=False,
            ExplicitAuthFlows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
                "ALLOW_USER_SRP_AUTH",
            ],
        )["UserPoolClient"]
        cognito.create_group(UserPoolId=pool["Id"], GroupName=ADMINS_GROUP)
        create_user(cognito, pool["Id"], *DEMO_USER, admin=False)
        create_user(cognito, pool["Id"], *ADMIN_USER, admin=True)
        identity_pool = identity.create_identity_pool(
            IdentityPoolName="dms_local",
            AllowUnauthenticatedIdentities=False,
            CognitoIdentityProviders=[
                {
                    "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}",
                    "ClientId": client["ClientId"],
                    "ServerSideTokenCheck": False,
                }
            ],
        )
    finally:
        for service_client in (cognito, identity):
            service_client.close()
    return SandboxResources(
        user_pool_id=pool["Id"],
        app_client_id=client["ClientId"],
        identity_pool_id=identity_pool["IdentityPoolId"],
        table=table,
        bucket=bucket,
    )
