"""`dms configure`: from the stack's outputs (a file, or DescribeStacks on moto) to a profile."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from dms_desktop.cli import main
from dms_desktop.connect import open_backend
from dms_desktop.core.config import AwsProfile, load_config
from dms_desktop.core.errors import ConfigError, ValidationError
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.stack_config import outputs_from_json, save_profile
from tests.infra.template import TEMPLATE

OUTPUTS = {
    "Region": "eu-west-1",
    "TableName": "Documents",
    "BucketName": "dms-documentsbucket-abc123",
    "UserPoolId": "eu-west-1_AbCdEf123",
    "AppClientId": "1h2j3k4l5m6n7o8p9q0r",
    "IdentityPoolId": "eu-west-1:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
}
EXPECTED = AwsProfile(
    kind="aws",
    region="eu-west-1",
    table="Documents",
    bucket="dms-documentsbucket-abc123",
    user_pool_id="eu-west-1_AbCdEf123",
    app_client_id="1h2j3k4l5m6n7o8p9q0r",
    identity_pool_id="eu-west-1:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
)
EXISTING_CONFIG = """\
# my settings
profile = "local"

[profiles.local]
kind = "sandbox"
port = 8123

[profiles.old]
kind = "aws"
region = "us-east-1"
bucket = "old-bucket"
aws_profile = "admin"
"""


def describe_stacks_output(outputs: dict[str, str]) -> dict[str, object]:
    return {
        "Stacks": [
            {
                "StackName": "dms",
                "StackStatus": "CREATE_COMPLETE",
                "Outputs": [
                    {"OutputKey": key, "OutputValue": value, "Description": "x"}
                    for key, value in outputs.items()
                ],
            }
        ]
    }


def run(home: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--home", str(home), *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    paths = AppPaths.resolve(tmp_path)
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(EXISTING_CONFIG, encoding="utf-8")
    return tmp_path


def config_of(home: Path) -> Path:
    return AppPaths.resolve(home).config_file


@pytest.mark.parametrize(
    "content",
    [describe_stacks_output(OUTPUTS), describe_stacks_output(OUTPUTS)["Stacks"][0], OUTPUTS],  # type: ignore[index]
    ids=["describe-stacks", "one stack", "flat"],
)
def test_from_json_writes_the_profile_and_keeps_the_rest(
    home: Path, tmp_path: Path, content: object
) -> None:
    exported = tmp_path / "outputs.json"
    exported.write_text(json.dumps(content), encoding="utf-8")

    code, out, err = run(home, "configure", "--from-json", str(exported), "--profile-name", "work")

    assert (code, err) == (0, "")
    assert "dms --profile work login" in out
    config = load_config(config_of(home))
    assert config.profiles["work"] == EXPECTED
    assert config.profile == "local"  # not the default without --make-default
    assert config.profiles["old"].aws_profile == "admin"  # type: ignore[union-attr]
    assert config_of(home).read_text(encoding="utf-8").startswith(EXISTING_CONFIG)  # appended
    backend = open_backend(AppPaths.resolve(home), "work")
    assert backend.pool is not None
    assert (backend.table, backend.bucket, backend.pool.identity_pool_id) == (
        "Documents",
        OUTPUTS["BucketName"],
        OUTPUTS["IdentityPoolId"],
    )


def test_make_default_and_replacing_a_profile(home: Path, tmp_path: Path) -> None:
    exported = tmp_path / "outputs.json"
    exported.write_text(json.dumps(OUTPUTS), encoding="utf-8")
    assert run(home, "configure", "--from-json", str(exported))[0] == 0
    changed = {**OUTPUTS, "BucketName": "another-bucket"}
    exported.write_text(json.dumps(changed), encoding="utf-8")

    code, out, _ = run(home, "configure", "--from-json", str(exported), "--make-default")

    assert code == 0
    assert "now the default" in out
    config = load_config(config_of(home))
    assert config.profile == "aws"
    assert config.profiles["aws"] == EXPECTED.model_copy(update={"bucket": "another-bucket"})
    assert set(config.profiles) == {"local", "old", "aws"}
    assert config.profiles["local"].port == 8123  # type: ignore[union-attr]


def test_missing_outputs_are_named(home: Path, tmp_path: Path) -> None:
    exported = tmp_path / "outputs.json"
    partial = {k: v for k, v in OUTPUTS.items() if k not in {"UserPoolId", "IdentityPoolId"}}
    exported.write_text(json.dumps(describe_stacks_output(partial)), encoding="utf-8")
    before = config_of(home).read_text(encoding="utf-8")

    code, _, err = run(home, "configure", "--from-json", str(exported))

    assert code == ConfigError.exit_code
    assert err.count("\n") == 1
    assert "UserPoolId, IdentityPoolId" in err
    assert config_of(home).read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "There is no file"),
        ("{not json", "is not a JSON file"),
        ('{"Stacks": []}', "holds 0 stacks"),
        ("[1, 2]", "without an OutputKey"),
        ('{"Region": 1}', "neither"),
    ],
)
def test_unreadable_exports_are_one_line_errors(
    home: Path, tmp_path: Path, content: str | None, message: str
) -> None:
    exported = tmp_path / "outputs.json"
    if content is not None:
        exported.write_text(content, encoding="utf-8")
    code, _, err = run(home, "configure", "--from-json", str(exported))
    assert code == ValidationError.exit_code
    assert message in err
    assert err.count("\n") == 1


def test_a_profile_name_that_is_not_usable(home: Path, tmp_path: Path) -> None:
    exported = tmp_path / "outputs.json"
    exported.write_text(json.dumps(OUTPUTS), encoding="utf-8")
    for name in ("local", "a b", "x]"):
        code, _, err = run(home, "configure", "--from-json", str(exported), "--profile-name", name)
        assert code == ValidationError.exit_code, err


def test_a_new_config_file_and_odd_values(tmp_path: Path) -> None:
    config_file = tmp_path / "nested" / "config.toml"
    odd = EXPECTED.model_copy(update={"bucket": 'quote"back\\slash\tü'})
    save_profile(config_file, "p-1", odd)
    assert load_config(config_file).profiles["p-1"] == odd
    assert load_config(config_file).profile == "local"


def test_an_inline_table_config_is_rewritten_not_appended(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        'profiles = { local = { kind = "sandbox", port = 5 } }\n', encoding="utf-8"
    )
    save_profile(config_file, "work", EXPECTED)
    config = load_config(config_file)
    assert config.profiles["work"] == EXPECTED
    assert config.profiles["local"].port == 5  # type: ignore[union-attr]


def test_a_broken_config_file_is_not_overwritten(home: Path, tmp_path: Path) -> None:
    config_of(home).write_text("profile = [", encoding="utf-8")
    exported = tmp_path / "outputs.json"
    exported.write_text(json.dumps(OUTPUTS), encoding="utf-8")
    code, _, err = run(home, "configure", "--from-json", str(exported))
    assert code == ConfigError.exit_code
    assert "not valid TOML" in err
    assert config_of(home).read_text(encoding="utf-8") == "profile = ["


def test_outputs_from_json_ignores_extra_outputs(tmp_path: Path) -> None:
    exported = tmp_path / "o.json"
    exported.write_text(json.dumps({**OUTPUTS, "Extra": "x"}), encoding="utf-8")
    assert outputs_from_json(exported)["Extra"] == "x"


# --- DescribeStacks on moto ------------------------------------------------------------------

STUB_TEMPLATE = {
    "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {
        **{key: {"Value": value} for key, value in OUTPUTS.items() if key != "BucketName"},
        "BucketName": {"Value": {"Ref": "Bucket"}},
    },
}


@pytest.fixture
def cloudformation() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name="eu-west-1")


def test_from_stack(home: Path, cloudformation: boto3.Session) -> None:
    """moto cannot deploy the template's Cognito resources, so a stand-in stack with the same
    outputs is read here; the real template's deployment is the next test."""
    cfn = cloudformation.client("cloudformation")
    cfn.create_stack(StackName="dms", TemplateBody=json.dumps(STUB_TEMPLATE))
    bucket = cloudformation.client("s3").list_buckets()["Buckets"][0]["Name"]

    code, _, err = run(
        home, "configure", "--from-stack", "dms", "--region", "eu-west-1", "--make-default"
    )

    assert (code, err) == (0, "")
    config = load_config(config_of(home))
    assert config.profile == "aws"
    assert config.profiles["aws"] == EXPECTED.model_copy(update={"bucket": bucket})


def test_from_stack_of_the_real_template_on_moto_names_the_outputs_moto_leaves_out(
    home: Path, cloudformation: boto3.Session
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns about each resource type it cannot deploy
        cloudformation.client("cloudformation").create_stack(
            StackName="dms",
            TemplateBody=TEMPLATE.read_text(encoding="utf-8"),
            Capabilities=["CAPABILITY_IAM"],
        )
        code, _, err = run(home, "configure", "--from-stack", "dms", "--region", "eu-west-1")
    assert code == ConfigError.exit_code
    assert "UserPoolId, AppClientId, IdentityPoolId" in err


def test_from_stack_that_does_not_exist(home: Path, cloudformation: boto3.Session) -> None:
    code, _, err = run(home, "configure", "--from-stack", "nope", "--region", "eu-west-1")
    assert code == ConfigError.exit_code
    assert err == "dms: There is no stack named 'nope' in eu-west-1; check the name and --region.\n"


def test_from_stack_needs_a_region(home: Path) -> None:
    code, _, err = run(home, "configure", "--from-stack", "dms")
    assert code == ConfigError.exit_code
    assert "--region" in err


def test_from_stack_and_from_json_exclude_each_other(home: Path) -> None:
    assert run(home, "configure", "--from-stack", "a", "--from-json", "b")[0] == 2
    assert run(home, "configure")[0] == 2


def test_the_stacks_session_length_reaches_the_sign_in(home: Path, tmp_path: Path) -> None:
    exported = tmp_path / "outputs.json"
    exported.write_text(json.dumps(OUTPUTS | {"SessionDays": "14"}), encoding="utf-8")

    code, _out, err = run(home, "configure", "--from-json", str(exported), "--profile-name", "w")

    assert (code, err) == (0, "")
    backend = open_backend(AppPaths.resolve(home), "w")
    assert backend.pool is not None and backend.pool.session_days == 14
    # A stack from before the output existed: Cognito's default of 30 days.
    exported.write_text(json.dumps(OUTPUTS), encoding="utf-8")
    assert run(home, "configure", "--from-json", str(exported), "--profile-name", "v")[0] == 0
    older = open_backend(AppPaths.resolve(home), "v")
    assert older.pool is not None and older.pool.session_days == 30


def test_an_unusable_session_length_is_one_line_error(home: Path, tmp_path: Path) -> None:
    exported = tmp_path / "outputs.json"
    exported.write_text(json.dumps(OUTPUTS | {"SessionDays": "a month"}), encoding="utf-8")
    before = config_of(home).read_text(encoding="utf-8")

    code, out, err = run(home, "configure", "--from-json", str(exported), "--profile-name", "w")

    assert code == ConfigError.exit_code
    assert out == "" and len(err.strip().splitlines()) == 1 and "unusable output" in err
    assert config_of(home).read_text(encoding="utf-8") == before
