"""From a deployed backend stack to an ``aws`` profile in ``config.toml``.

The stack is ``resources/cloudformation/dms-backend.yaml``; its outputs name everything the app
needs. They are read from CloudFormation (DescribeStacks) or from an exported JSON file, either the
``aws cloudformation describe-stacks`` output or a flat ``{"OutputKey": "value"}`` object, and
written as a profile. The rest of the config file is kept: other profiles, the default profile
(unless asked to change it).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
import pydantic
from botocore.exceptions import ClientError

from .aws import aws_errors, error_code, make_client
from .config import DEFAULT_PROFILE, AwsProfile, ConfigFile, SandboxProfile, load_config
from .errors import ConfigError, ValidationError

# stack output -> profile key (dms_desktop.core.config.AwsProfile)
OUTPUT_KEYS: dict[str, str] = {
    "Region": "region",
    "TableName": "table",
    "BucketName": "bucket",
    "UserPoolId": "user_pool_id",
    "AppClientId": "app_client_id",
    "IdentityPoolId": "identity_pool_id",
}
OPTIONAL_OUTPUT_KEYS: dict[str, str] = {  # older stacks lack them
    "SessionDays": "session_days",
    "TrashRetentionDays": "trash_days",
}

_PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def profile_from_outputs(outputs: Mapping[str, str], source: str) -> AwsProfile:
    """The profile the outputs describe; ConfigError names every missing output."""
    missing = [key for key in OUTPUT_KEYS if not outputs.get(key)]
    if missing:
        raise ConfigError(
            f"{source} lacks the {'output' if len(missing) == 1 else 'outputs'} "
            f"{', '.join(missing)}; is it the dms-desktop backend "
            "stack (resources/cloudformation/dms-backend.yaml)?"
        )
    values = {field: outputs[key] for key, field in OUTPUT_KEYS.items()}
    values |= {field: outputs[key] for key, field in OPTIONAL_OUTPUT_KEYS.items() if key in outputs}
    try:
        return AwsProfile.model_validate({"kind": "aws", **values})
    except pydantic.ValidationError as exc:
        raise ConfigError(f"{source} has an unusable output: {exc.errors()[0]['msg']}.") from exc


def outputs_from_stack(
    session: boto3.Session, stack_name: str, endpoint_url: str | None = None
) -> dict[str, str]:
    """The outputs of a deployed stack (DescribeStacks in the session's region)."""
    client = make_client(session, "cloudformation", endpoint_url)
    try:
        with aws_errors(f"read the stack {stack_name!r}"):
            try:
                response = client.describe_stacks(StackName=stack_name)
            except ClientError as exc:
                if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
                    region = session.region_name or "the default region"
                    raise ConfigError(
                        f"There is no stack named {stack_name!r} in {region}; check the name "
                        "and --region."
                    ) from exc
                raise
    finally:
        client.close()
    stacks = response.get("Stacks") or []
    if not stacks:
        raise ConfigError(f"There is no stack named {stack_name!r}.")
    return _output_list(stacks[0].get("Outputs") or [], f"The stack {stack_name!r}")


def outputs_from_json(path: Path) -> dict[str, str]:
    """Outputs from an exported file: ``describe-stacks`` output, one stack, or a flat object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValidationError(f"There is no file {path}.") from exc
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror}.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{path} is not a JSON file: {exc}.") from exc
    source = f"The file {path}"
    if isinstance(data, dict) and isinstance(data.get("Stacks"), list):
        stacks = data["Stacks"]
        if len(stacks) != 1:
            raise ValidationError(
                f"{source} holds {len(stacks)} stacks; export one "
                "(aws cloudformation describe-stacks --stack-name NAME)."
            )
        data = stacks[0]
    if isinstance(data, dict) and isinstance(data.get("Outputs"), list):
        return _output_list(data["Outputs"], source)
    if isinstance(data, list):  # `--query Stacks[0].Outputs`
        return _output_list(data, source)
    if isinstance(data, dict) and all(isinstance(value, str) for value in data.values()):
        return {str(key): value for key, value in data.items()}
    raise ValidationError(
        f"{source} is neither `aws cloudformation describe-stacks` output nor an object of "
        "output names and values."
    )


def _output_list(outputs: list[Any], source: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for output in outputs:
        if not isinstance(output, dict) or not isinstance(output.get("OutputKey"), str):
            raise ValidationError(f"{source} has an output without an OutputKey.")
        result[output["OutputKey"]] = str(output.get("OutputValue", ""))
    return result


def save_profile(
    config_file: Path, name: str, profile: AwsProfile, *, make_default: bool = False
) -> None:
    """Add or replace the profile ``name`` in the config file, atomically, keeping the rest.

    A new profile is appended to the file as it is (comments kept); replacing a profile or
    changing the default rewrites the file from its parsed content (comments are not kept).
    """
    if not _PROFILE_NAME.fullmatch(name):
        raise ValidationError(
            f"{name!r} cannot be a profile name: use 1-64 letters, digits, '-' or '_'."
        )
    if name == DEFAULT_PROFILE:
        raise ValidationError("'local' is the built-in sandbox profile; choose another name.")
    config = load_config(config_file)  # refuses to rewrite a file it cannot understand
    profiles = dict(config.profiles)
    is_new = name not in profiles
    profiles[name] = profile
    updated = ConfigFile(profile=name if make_default else config.profile, profiles=profiles)
    text = render_config(updated)
    if is_new and updated.profile == config.profile and config_file.exists():
        current = config_file.read_text(encoding="utf-8")
        separator = "" if current.endswith("\n") or not current else "\n"
        appended = current + separator + "\n" + _render_profile(name, profile)
        with contextlib.suppress(tomllib.TOMLDecodeError, pydantic.ValidationError):
            if ConfigFile.model_validate(tomllib.loads(appended)) == updated:
                text = appended  # e.g. not when the file spells profiles as an inline table
    _write_atomically(config_file, text)


def render_config(config: ConfigFile) -> str:
    """``config.toml`` text for ``config`` (tomllib only reads; the format is small and flat)."""
    text = f"profile = {_toml_value(config.profile)}\n"
    for name, profile in config.profiles.items():
        text += "\n" + _render_profile(name, profile)
    return text


def _render_profile(name: str, profile: SandboxProfile | AwsProfile) -> str:
    lines = [f"[profiles.{_toml_key(name)}]"]
    for key, value in profile.model_dump(exclude_none=True).items():
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    raise TypeError(f"cannot write {type(value).__name__} to config.toml")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).chmod(path.stat().st_mode & 0o777)  # keep the file's permissions
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
