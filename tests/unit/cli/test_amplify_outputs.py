"""`dms admin amplify-outputs` writes the file an Amplify app connects with; `dms configure
--from-amplify-outputs FILE` reads one (ours, or one an Amplify backend on the same pools wrote)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dms_desktop.cli import main
from dms_desktop.core.amplify_outputs import OWN_FOLDER, profile_from_amplify_outputs
from dms_desktop.core.config import AwsProfile, choose_profile, load_config
from dms_desktop.core.paths import AppPaths

PROFILE = AwsProfile(
    kind="aws",
    region="eu-west-1",
    table="Documents-prod",
    bucket="dms-documentsbucket-abc123",
    user_pool_id="eu-west-1_AbCdEf123",
    app_client_id="1h2j3k4l5m6n7o8p9q0r",
    identity_pool_id="eu-west-1:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
    session_days=7,
)
# What `npx ampx generate outputs` writes for an Amplify Gen 2 backend with auth and storage.
AMPLIFY_GEN2_OUTPUTS = {
    "auth": {
        "user_pool_id": "eu-west-1_AbCdEf123",
        "aws_region": "eu-west-1",
        "user_pool_client_id": "1h2j3k4l5m6n7o8p9q0r",
        "identity_pool_id": "eu-west-1:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
        "mfa_methods": [],
        "standard_required_attributes": ["email"],
        "username_attributes": ["email"],
        "user_verification_types": ["email"],
        "mfa_configuration": "NONE",
        "password_policy": {
            "min_length": 8,
            "require_lowercase": True,
            "require_numbers": True,
            "require_symbols": True,
            "require_uppercase": True,
        },
        "unauthenticated_identities_enabled": True,
    },
    "storage": {
        "aws_region": "eu-west-1",
        "bucket_name": "dms-documentsbucket-abc123",
        "buckets": [
            {
                "name": "documents",
                "bucket_name": "dms-documentsbucket-abc123",
                "aws_region": "eu-west-1",
                "paths": {
                    "private/${cognito-identity.amazonaws.com:sub}/*": {
                        "entityidentity": ["get", "list", "write", "delete"]
                    }
                },
            }
        ],
    },
    "version": "1.4",
}


def run(home: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--home", str(home), *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    paths = AppPaths.resolve(tmp_path / "home")
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(
        '[profiles.aws]\nkind = "aws"\nregion = "eu-west-1"\ntable = "Documents-prod"\n'
        'bucket = "dms-documentsbucket-abc123"\nuser_pool_id = "eu-west-1_AbCdEf123"\n'
        'app_client_id = "1h2j3k4l5m6n7o8p9q0r"\n'
        'identity_pool_id = "eu-west-1:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"\nsession_days = 7\n',
        encoding="utf-8",
    )
    return tmp_path / "home"


def test_the_written_file_connects_an_amplify_app_to_the_same_pools_and_folders(
    home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "web" / "amplify_outputs.json"
    target.parent.mkdir()

    code, out, err = run(home, "--profile", "aws", "admin", "amplify-outputs", "-o", str(target))

    assert code == 0, err
    assert str(target) in out
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["auth"] == {
        "aws_region": "eu-west-1",
        "user_pool_id": "eu-west-1_AbCdEf123",
        "user_pool_client_id": "1h2j3k4l5m6n7o8p9q0r",
        "identity_pool_id": "eu-west-1:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
        "authentication_flow_type": "USER_SRP_AUTH",
        "unauthenticated_identities_enabled": False,
    }
    assert written["storage"]["bucket_name"] == "dms-documentsbucket-abc123"
    [bucket] = written["storage"]["buckets"]
    assert bucket["paths"] == {
        "private/${cognito-identity.amazonaws.com:sub}/*": {
            "entityidentity": ["get", "list", "write", "delete"]
        }
    }
    assert OWN_FOLDER == "private/${cognito-identity.amazonaws.com:sub}/*"
    assert profile_from_amplify_outputs(target) == PROFILE  # it reads back as it was


def test_configure_reads_an_amplify_backends_outputs(home: Path, tmp_path: Path) -> None:
    sample = tmp_path / "amplify_outputs.json"
    sample.write_text(json.dumps(AMPLIFY_GEN2_OUTPUTS), encoding="utf-8")

    code, out, err = run(
        home, "configure", "--from-amplify-outputs", str(sample), "--profile-name", "web"
    )

    assert code == 0, err
    assert "'Documents'" in out  # the table Amplify has no place for: the template's default
    chosen = choose_profile(load_config(AppPaths.resolve(home).config_file), "web")
    assert chosen.settings == PROFILE.model_copy(update={"table": "Documents", "session_days": 30})


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda data: data.pop("auth"), "auth.user_pool_id"),
        (lambda data: data["auth"].pop("identity_pool_id"), "auth.identity_pool_id"),
        (lambda data: data.pop("storage"), "storage.bucket_name"),
    ],
)
def test_an_outputs_file_without_auth_or_storage_is_refused_by_name(
    home: Path, tmp_path: Path, change: object, named: str
) -> None:
    data = json.loads(json.dumps(AMPLIFY_GEN2_OUTPUTS))
    change(data)  # type: ignore[operator]
    sample = tmp_path / "amplify_outputs.json"
    sample.write_text(json.dumps(data), encoding="utf-8")

    code, _, err = run(home, "configure", "--from-amplify-outputs", str(sample))

    assert code != 0
    assert named in err
    assert "Traceback" not in err


def test_the_sandbox_has_no_amplify_outputs(home: Path, tmp_path: Path) -> None:
    code, _, err = run(home, "admin", "amplify-outputs", "-o", str(tmp_path / "x.json"))

    assert code != 0
    assert "local sandbox" in err
    assert not (tmp_path / "x.json").exists()
