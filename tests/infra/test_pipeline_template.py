"""The delivery pipeline's promises, read from resources/cloudformation/dms-pipeline.yaml and the
files it names: the stages in order, the backend's change set behind a person's approval, the
buildspecs that run the CI and package what the deploy stages take, the stacks' parameter files,
and a private, encrypted, expiring artifact bucket."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from dms_desktop.api.bundle import DEFAULT_TARGET
from tests.infra.pipeline_template import (
    API_TEMPLATE,
    BACKEND_TEMPLATE,
    PIPELINE_FILES,
    REPO,
    PipelineResolver,
    load_api_template,
    load_backend_template,
    load_buildspec,
    load_parameter_file,
    load_pipeline_template,
    pipeline_actions,
)
from tests.infra.template import as_list, resources_of_type, statements

CHANGE_SET_MODES = {"CHANGE_SET_REPLACE", "CHANGE_SET_EXECUTE"}
# CodePipeline's CloudFormation action sends the template as TemplateBody, which CloudFormation
# limits to 51,200 bytes; `sam package` makes the API template about 1.5 kB longer.
TEMPLATE_BODY_LIMIT = 51_200
PACKAGING_GROWTH = 4_096


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_pipeline_template()


@pytest.fixture(scope="module")
def resolver(template: dict[str, Any]) -> PipelineResolver:
    return PipelineResolver(template)


@pytest.fixture(scope="module")
def actions(resolver: PipelineResolver) -> dict[tuple[str, str], dict[str, Any]]:
    return pipeline_actions({"Resources": {"Pipeline": resolver.resource("Pipeline")}})


def _provider(action: dict[str, Any]) -> str:
    return str(action["ActionTypeId"]["Provider"])


def _commands(spec: dict[str, Any]) -> list[str]:
    return [
        " ".join(str(command).split())
        for phase in ("install", "pre_build", "build", "post_build")
        for command in spec["phases"].get(phase, {}).get("commands", [])
    ]


def test_the_stages_run_in_the_order_of_the_design(resolver: PipelineResolver) -> None:
    stages = resolver.resource("Pipeline")["Properties"]["Stages"]
    assert [stage["Name"] for stage in stages] == ["Source", "Test", "Package", "Backend", "Api"]


def test_the_source_is_the_github_branch_through_the_connection(
    actions: dict[tuple[str, str], dict[str, Any]], resolver: PipelineResolver
) -> None:
    source = actions[("Source", "GitHub")]
    assert _provider(source) == "CodeStarSourceConnection"
    configuration = source["Configuration"]
    assert configuration["ConnectionArn"] == resolver.parameters["ConnectionArn"]
    assert configuration["FullRepositoryId"] == resolver.parameters["RepositoryId"]
    assert configuration["BranchName"] == resolver.parameters["BranchName"] == "main"
    assert configuration["DetectChanges"] is True
    assert [artifact["Name"] for artifact in source["OutputArtifacts"]] == ["SourceCode"]


def test_the_backend_change_set_is_executed_only_after_a_manual_approval_in_the_same_stage(
    actions: dict[tuple[str, str], dict[str, Any]], resolver: PipelineResolver
) -> None:
    backend = resolver.parameters["BackendStackName"]
    touching_backend = {
        key: action
        for key, action in actions.items()
        if action["Configuration"].get("StackName") == backend
    }
    create_key, execute_key = ("Backend", "CreateChangeSet"), ("Backend", "ExecuteChangeSet")
    assert set(touching_backend) == {create_key, execute_key}
    create = touching_backend[create_key]
    execute = touching_backend[execute_key]
    approve = actions[("Backend", "Approve")]
    assert create["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE"
    assert execute["Configuration"]["ActionMode"] == "CHANGE_SET_EXECUTE"
    assert create["Configuration"]["ChangeSetName"] == execute["Configuration"]["ChangeSetName"]
    assert approve["ActionTypeId"] == {
        "Category": "Approval",
        "Owner": "AWS",
        "Provider": "Manual",
        "Version": "1",
    }
    # One stage runs one execution at a time: nothing can replace the approved change set.
    assert create["RunOrder"] < approve["RunOrder"] < execute["RunOrder"]
    stage_actions = [key for key in actions if key[0] == "Backend"]
    assert len(stage_actions) == 3
    assert create["Configuration"]["ChangeSetName"] in approve["Configuration"]["CustomData"]


def test_the_api_is_deployed_after_the_backend_with_the_backends_outputs(
    actions: dict[tuple[str, str], dict[str, Any]], resolver: PipelineResolver
) -> None:
    api = resolver.parameters["ApiStackName"]
    create = actions[("Api", "CreateChangeSet")]
    execute = actions[("Api", "ExecuteChangeSet")]
    for action in (create, execute):
        assert action["Configuration"]["StackName"] == api
        assert action["Configuration"]["ActionMode"] in CHANGE_SET_MODES
    assert create["RunOrder"] < execute["RunOrder"]
    outputs = actions[("Backend", "ExecuteChangeSet")]
    [outputs_artifact] = [artifact["Name"] for artifact in outputs["OutputArtifacts"]]
    assert outputs_artifact in {artifact["Name"] for artifact in create["InputArtifacts"]}
    assert "CAPABILITY_AUTO_EXPAND" in create["Configuration"]["Capabilities"].split(",")


def test_every_stack_action_deploys_with_the_deploy_role(
    actions: dict[tuple[str, str], dict[str, Any]], resolver: PipelineResolver
) -> None:
    creates = [a for a in actions.values() if a["Configuration"].get("ActionMode")]
    assert {a["Configuration"]["ActionMode"] for a in creates} == CHANGE_SET_MODES
    for action in creates:
        if action["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE":
            assert action["Configuration"]["RoleArn"] == resolver.attributes["DeployRole.Arn"]


def test_the_backend_gets_every_parameter_from_the_parameter_file_or_the_pipeline(
    actions: dict[tuple[str, str], dict[str, Any]], resolver: PipelineResolver
) -> None:
    """A parameter left out would silently go back to its default on the next deployment."""
    backend = load_backend_template()["Parameters"]
    create = actions[("Backend", "CreateChangeSet")]["Configuration"]
    overrides = _json_object(create["ParameterOverrides"])
    from_file = load_parameter_file("dms-backend.parameters.json")["Parameters"]
    assert set(from_file) | set(overrides) == set(backend)
    assert not set(from_file) & set(overrides)
    assert overrides == {"TableName": resolver.parameters["DocumentsTableName"]}
    for name, value in from_file.items():
        _assert_allowed(backend[name], value, name)


def test_the_api_gets_the_backends_outputs_and_the_rest_from_its_parameter_file(
    actions: dict[tuple[str, str], dict[str, Any]],
) -> None:
    api = load_api_template()["Parameters"]
    backend_outputs = set(load_backend_template()["Outputs"])
    create = actions[("Api", "CreateChangeSet")]["Configuration"]
    overrides = _json_object(create["ParameterOverrides"])
    from_file = load_parameter_file("dms-api.parameters.json")["Parameters"]
    assert set(from_file) | set(overrides) == set(api)
    assert not set(from_file) & set(overrides)
    for name, value in overrides.items():
        artifact, filename, output = value["Fn::GetParam"]
        assert artifact == "BackendOutputs"
        assert filename == "backend-outputs.json"
        assert output in backend_outputs, name
    for name, value in from_file.items():
        _assert_allowed(api[name], value, name)


def test_the_deploy_stages_take_exactly_what_the_package_build_writes(
    actions: dict[tuple[str, str], dict[str, Any]],
) -> None:
    spec = load_buildspec("package.buildspec.yml")
    written = set(spec["artifacts"]["files"])
    read = set()
    for action in actions.values():
        configuration = action["Configuration"]
        for key in ("TemplatePath", "TemplateConfiguration"):
            if key in configuration:
                artifact, _, filename = configuration[key].partition("::")
                assert artifact == "DeployTemplates"
                read.add(filename)
    assert read == written
    [package_output] = actions[("Package", "BundleAndSamPackage")]["OutputArtifacts"]
    assert package_output["Name"] == "DeployTemplates"


def test_the_package_build_bundles_builds_and_packages_the_api_template() -> None:
    spec = load_buildspec("package.buildspec.yml")
    commands = _commands(spec)
    api = load_api_template()
    code_uri = api["Globals"]["Function"]["CodeUri"]
    assert (API_TEMPLATE.parent / code_uri).resolve() == (REPO / DEFAULT_TARGET).resolve()

    def index(pattern: str) -> int:
        [found] = [i for i, command in enumerate(commands) if re.search(pattern, command)]
        return found

    bundle = index(rf"-m dms_desktop\.api\.bundle {re.escape(str(DEFAULT_TARGET))}$")
    build = index(r"sam\" build --template-file resources/cloudformation/dms-api\.yaml")
    package = index(r"sam\" package ")
    assert bundle < build < package
    assert "--s3-prefix packaged/" in commands[package]
    assert "--output-template-file build/deploy/dms-api.yaml" in commands[package]
    assert spec["artifacts"]["base-directory"] == "build/deploy"
    # The runtime the functions run on is the one sam build installs their requirements for.
    runtime = api["Globals"]["Function"]["Runtime"]
    assert runtime == f"python{spec['phases']['install']['runtime-versions']['python']}"
    # Everything copied into the artifact exists in the repository.
    [copy] = [command for command in commands if command.startswith("cp ")]
    *sources, destination = copy.split()[1:]
    assert destination == "build/deploy/"
    for source in sources:
        assert (REPO / source).is_file(), source
    assert str(BACKEND_TEMPLATE.relative_to(REPO)) in sources
    assert re.fullmatch(r"\d+\.\d+\.\d+", spec["env"]["variables"]["SAM_CLI_VERSION"])


def test_the_test_build_runs_the_projects_ci_without_aws_credentials() -> None:
    spec = load_buildspec("test.buildspec.yml")
    [command] = _commands(spec)
    assert command.endswith("bash .ci/run")
    for variable in ("RELATIVE_URI", "FULL_URI"):
        assert f"-u AWS_CONTAINER_CREDENTIALS_{variable}" in command
    assert spec["env"]["variables"]["AWS_EC2_METADATA_DISABLED"] == "true"
    assert (REPO / ".ci" / "run").is_file()


def test_each_build_runs_its_buildspec_on_a_standard_linux_image(
    resolver: PipelineResolver,
) -> None:
    for name, buildspec in (
        ("TestProject", "test.buildspec.yml"),
        ("PackageProject", "package.buildspec.yml"),
    ):
        properties = resolver.resource(name)["Properties"]
        assert properties["Source"] == {
            "Type": "CODEPIPELINE",
            "BuildSpec": f"{PIPELINE_FILES.relative_to(REPO)}/{buildspec}",
        }
        environment = properties["Environment"]
        assert environment["Type"] == "LINUX_CONTAINER"
        assert re.fullmatch(r"aws/codebuild/standard:\d+\.\d+", environment["Image"])
        assert environment["PrivilegedMode"] is False
        logs = properties["LogsConfig"]["CloudWatchLogs"]
        assert logs["Status"] == "ENABLED"
        group = name.replace("Project", "Logs")
        assert logs["GroupName"] == resolver.refs[group]
        group_properties = resolver.template["Resources"][group]["Properties"]
        assert resolver.resolve(group_properties["LogGroupName"]) == resolver.refs[group]
        assert group_properties["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_templates_fit_in_the_body_codepipeline_sends() -> None:
    for path in (BACKEND_TEMPLATE, API_TEMPLATE):
        assert path.stat().st_size + PACKAGING_GROWTH < TEMPLATE_BODY_LIMIT, path.name


def test_the_artifact_bucket_is_private_encrypted_versioned_and_expires_artifacts(
    resolver: PipelineResolver,
) -> None:
    bucket = resolver.template["Resources"]["ArtifactBucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    properties = resolver.resource("ArtifactBucket")["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    owner_enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert properties["OwnershipControls"] == owner_enforced
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert properties["VersioningConfiguration"]["Status"] == "Enabled"
    rules = [r for r in properties["LifecycleConfiguration"]["Rules"] if r["Status"] == "Enabled"]
    expiring = {r["Prefix"]: int(r["ExpirationInDays"]) for r in rules if "ExpirationInDays" in r}
    pipeline_folder = f"{resolver.parameters['PipelineName']}/"  # CodePipeline's artifact folder
    assert set(expiring) == {pipeline_folder, "packaged/"}
    assert expiring[pipeline_folder] == int(resolver.parameters["ArtifactRetentionDays"])
    assert any("NoncurrentVersionExpiration" in r for r in rules)
    assert any("AbortIncompleteMultipartUpload" in r for r in rules)
    store = resolver.resource("Pipeline")["Properties"]["ArtifactStore"]
    assert store == {"Type": "S3", "Location": resolver.refs["ArtifactBucket"]}


def test_the_artifact_bucket_refuses_every_request_without_tls(resolver: PipelineResolver) -> None:
    (name,) = resources_of_type(resolver.template, "AWS::S3::BucketPolicy")
    properties = resolver.resource(name)["Properties"]
    assert properties["Bucket"] == resolver.refs["ArtifactBucket"]
    bucket_arn = resolver.attributes["ArtifactBucket.Arn"]
    [denial] = [s for s in statements(properties["PolicyDocument"]) if s["Effect"] == "Deny"]
    assert denial["Principal"] in ("*", {"AWS": "*"})
    assert as_list(denial["Action"]) == ["s3:*"]
    assert denial["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(as_list(denial["Resource"])) == {bucket_arn, f"{bucket_arn}/*"}


def _json_object(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _assert_allowed(spec: dict[str, Any], value: str, name: str) -> None:
    assert isinstance(value, str), f"{name}: CloudFormation parameter values are strings"
    if "AllowedValues" in spec:
        assert value in [str(allowed) for allowed in spec["AllowedValues"]], name
    if "AllowedPattern" in spec:
        assert re.fullmatch(spec["AllowedPattern"], value), name
    if "MinValue" in spec:
        assert float(value) >= float(spec["MinValue"]), name
    if "MaxValue" in spec:
        assert float(value) <= float(spec["MaxValue"]), name
