"""The pipeline template, parsed and resolved for a fictitious deployment (as template.py does for
the backend), plus the files it names: the buildspecs and the stacks' parameter files."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from tests.infra.template import ACCOUNT, REGION, Resolver, as_list, statements

REPO = Path(__file__).resolve().parents[2]
CLOUDFORMATION = REPO / "resources" / "cloudformation"
PIPELINE_TEMPLATE = CLOUDFORMATION / "dms-pipeline.yaml"
BACKEND_TEMPLATE = CLOUDFORMATION / "dms-backend.yaml"
API_TEMPLATE = CLOUDFORMATION / "dms-api.yaml"
PIPELINE_FILES = REPO / "resources" / "pipeline"

CONNECTION = (
    f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
)
REPOSITORY = "example-org/dms-desktop"
# The physical names of this deployment (CloudFormation's "<stack>-<logical id>-<suffix>" style).
PIPELINE_STACK = "dms-pipeline"
BUCKET = "dms-pipeline-artifactbucket-1a2b3c4d5e6f"
PHYSICAL = {
    "ArtifactBucket": BUCKET,
    "TestProject": "dms-pipeline-test",
    "PackageProject": "dms-pipeline-package",
    "TestLogs": "/aws/codebuild/dms-pipeline-test",
    "PackageLogs": "/aws/codebuild/dms-pipeline-package",
    "Pipeline": "dms-pipeline",
    "PipelineRole": "dms-pipeline-PipelineRole-1A2B3C4D5E6F",
    "TestRole": "dms-pipeline-TestRole-1A2B3C4D5E6F",
    "PackageRole": "dms-pipeline-PackageRole-1A2B3C4D5E6F",
    "DeployRole": "dms-pipeline-DeployRole-1A2B3C4D5E6F",
    "ApproverPolicy": f"arn:aws:iam::{ACCOUNT}:policy/dms-pipeline-ApproverPolicy-1A2B3C4D5E6F",
}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(cfn_yaml.load(str(path))))
    return loaded


@cache
def _pipeline_json() -> str:
    return json.dumps(_load(PIPELINE_TEMPLATE))


def load_pipeline_template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads(_pipeline_json())
    return template


def load_backend_template() -> dict[str, Any]:
    return _load(BACKEND_TEMPLATE)


def load_api_template() -> dict[str, Any]:
    return _load(API_TEMPLATE)


def load_buildspec(name: str) -> dict[str, Any]:
    return _load(PIPELINE_FILES / name)  # plain YAML: cfn-lint's decoder reads it too


def load_parameter_file(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PIPELINE_FILES / name).read_text(encoding="utf-8"))
    return loaded


class PipelineResolver(Resolver):
    """Resolves the pipeline template's intrinsic functions for one fictitious deployment."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str] | None = None) -> None:
        self.template = template
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()
        }
        self.parameters.update({"ConnectionArn": CONNECTION, "RepositoryId": REPOSITORY})
        self.parameters.update(parameters or {})
        self.refs = {
            **self.parameters,
            **PHYSICAL,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": PIPELINE_STACK,
        }
        logs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"
        codebuild = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/"
        self.attributes = {
            "ArtifactBucket.Arn": f"arn:aws:s3:::{BUCKET}",
            "TestLogs.Arn": f"{logs}{PHYSICAL['TestLogs']}:*",
            "PackageLogs.Arn": f"{logs}{PHYSICAL['PackageLogs']}:*",
            "TestProject.Arn": f"{codebuild}{PHYSICAL['TestProject']}",
            "PackageProject.Arn": f"{codebuild}{PHYSICAL['PackageProject']}",
            **{
                f"{name}.Arn": role_arn(PHYSICAL[name])
                for name in ("PipelineRole", "TestRole", "PackageRole", "DeployRole")
            },
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(self.resolve(items))
            if key == "Fn::Not":
                (inner,) = argument
                return not self.resolve(inner)
        return super().resolve(value)

    def inline_policies(self, role: str) -> list[dict[str, Any]]:
        """The policy documents of ``role``'s inline policies."""
        properties = self.resource(role)["Properties"]
        return [policy["PolicyDocument"] for policy in properties.get("Policies", [])]

    def managed_policy(self, name: str) -> dict[str, Any]:
        document: dict[str, Any] = self.resource(name)["Properties"]["PolicyDocument"]
        return document


def all_statements(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [statement for document in documents for statement in statements(document)]


def actions_of(statement: dict[str, Any]) -> list[str]:
    return [str(action) for action in as_list(statement["Action"])]


def pipeline_actions(template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every action of the pipeline by (stage, action) name, in order."""
    stages = template["Resources"]["Pipeline"]["Properties"]["Stages"]
    return {
        (stage["Name"], action["Name"]): action for stage in stages for action in stage["Actions"]
    }
