"""The backend template, parsed (cfn-lint's decoder) and resolved for a fictitious deployment.

The resolver understands the few intrinsic functions the template uses (Ref, Fn::GetAtt, Fn::Sub,
Fn::If with the parameters' defaults), enough to read the policies as IAM would see them.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "resources" / "cloudformation" / "dms-backend.yaml"
IDENTITY_VARIABLE = "${cognito-identity.amazonaws.com:sub}"

REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUCKET = "dms-documentsbucket-test"
USER_POOL = f"{REGION}_TestPool1"
PROVIDER = f"cognito-idp.{REGION}.amazonaws.com/{USER_POOL}"
APP_CLIENT = "1h2j3k4l5m6n7o8p9q0r"
IDENTITY_POOL = f"{REGION}:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"


@cache
def _raw() -> str:
    return json.dumps(cfn_yaml.load(str(TEMPLATE)))


def load_template() -> dict[str, Any]:
    """The template as plain dicts and lists (intrinsic functions as {"Fn::Sub": ...})."""
    template: dict[str, Any] = json.loads(_raw())
    return template


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


class Resolver:
    """Resolves intrinsic functions to the values of one fictitious deployment."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str] | None = None) -> None:
        self.template = template
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()
        }
        self.parameters.update(parameters or {})
        table = self.parameters["TableName"]
        self.refs: dict[str, str] = {
            **self.parameters,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": "dms",
            "DocumentsTable": table,
            "DocumentsBucket": BUCKET,
            "UserPool": USER_POOL,
            "AppClient": APP_CLIENT,
            "IdentityPool": IDENTITY_POOL,
            "AuthenticatedRole": "dms-AuthenticatedRole-TEST",
            "AdminRole": "dms-AdminRole-TEST",
        }
        self.attributes: dict[str, str] = {
            "DocumentsTable.Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}",
            "DocumentsBucket.Arn": f"arn:aws:s3:::{BUCKET}",
            "UserPool.ProviderName": PROVIDER,
            "AuthenticatedRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/dms-AuthenticatedRole-TEST",
            "AdminRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/dms-AdminRole-TEST",
        }

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.refs[argument]
            if key == "Fn::GetAtt":
                name = argument if isinstance(argument, str) else ".".join(argument)
                return self.attributes[name]
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.condition(condition) else when_false)
            if key == "Fn::Equals":
                left, right = self.resolve(argument)
                return left == right
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(1):  # ${!Literal} is the literal ${Literal}
                return "${" + match.group(2) + "}"
            name = match.group(2)
            return self.attributes[name] if "." in name else self.refs[name]

        return re.sub(r"\$\{(!?)([^}]+)\}", replace, text)

    def resource(self, name: str) -> dict[str, Any]:
        resolved: dict[str, Any] = self.resolve(self.template["Resources"][name])
        return resolved

    def role_policies(self, role: str) -> list[dict[str, Any]]:
        """The policy documents of the managed policies attached to ``role``."""
        documents = []
        for name in resources_of_type(self.template, "AWS::IAM::ManagedPolicy"):
            properties = self.resource(name)["Properties"]
            if self.refs[role] in properties["Roles"]:
                documents.append(properties["PolicyDocument"])
        return documents


def for_identity(document: dict[str, Any], identity_id: str) -> dict[str, Any]:
    """The policy as IAM sees it for the caller ``identity_id`` (the variable substituted)."""
    substituted: dict[str, Any] = json.loads(
        json.dumps(document).replace(IDENTITY_VARIABLE, identity_id)
    )
    return substituted


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
