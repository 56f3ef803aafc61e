"""Profiles: which backend the app talks to.

``config.toml`` in the config folder holds named profiles. ``local`` (the built-in default) is the
embedded sandbox; ``aws`` profiles name a deployed stack's resources::

    profile = "work"                    # the default profile (else "local")

    [profiles.local]
    kind = "sandbox"
    port = 0                            # 0: any free port on 127.0.0.1

    [profiles.work]
    kind = "aws"
    region = "eu-west-1"
    table = "Documents"
    bucket = "dms-documents-123456789012"
    user_pool_id = "eu-west-1_AbCdEf123"
    app_client_id = "1h2j3k4l5m6n7o8p9q0r"
    identity_pool_id = "eu-west-1:0f1e2d3c-..."
    # endpoint_url = "https://..."      # optional, for AWS-compatible endpoints
    # aws_profile = "dms-admin"         # optional: a named AWS profile instead of Cognito
    # user_id = "eu-west-1:..."         # with aws_profile: whose documents to browse
    # trash_days = 30                   # the stack's TrashRetentionDays (days in the trash)

Environment overrides: ``DMS_PROFILE`` picks the profile; for ``aws`` profiles ``AWS_PROFILE`` sets
``aws_profile`` and ``AWS_ENDPOINT_URL`` sets ``endpoint_url``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import ConfigError
from .identity import DEFAULT_SESSION_DAYS
from .schema import DEFAULT_TRASH_DAYS, TABLE_NAME

DEFAULT_PROFILE = "local"


class SandboxProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["sandbox"] = "sandbox"
    port: int = Field(default=0, ge=0, le=65535)


class AwsProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["aws"]
    region: str = Field(min_length=1)
    table: str = TABLE_NAME
    bucket: str = Field(min_length=3)
    user_pool_id: str | None = None
    app_client_id: str | None = None
    identity_pool_id: str | None = None
    endpoint_url: str | None = None
    aws_profile: str | None = None
    user_id: str | None = None  # with aws_profile: whose documents to browse
    session_days: int = Field(default=DEFAULT_SESSION_DAYS, ge=1)  # the refresh token validity
    api_url: str | None = None  # the web API stack's ApiUrl: search goes to its GET /search
    trash_days: int = Field(default=DEFAULT_TRASH_DAYS, ge=1, le=365)  # the stack's retention

    @model_validator(mode="after")
    def _needs_a_way_to_sign_in(self) -> AwsProfile:
        cognito = (self.user_pool_id, self.app_client_id, self.identity_pool_id)
        if self.aws_profile is None and not all(cognito):
            raise ValueError(
                "needs user_pool_id, app_client_id and identity_pool_id (Cognito sign-in), "
                "or aws_profile (a named AWS profile)"
            )
        return self


Profile = Annotated[SandboxProfile | AwsProfile, Field(discriminator="kind")]


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: str = DEFAULT_PROFILE
    profiles: dict[str, Profile] = Field(default_factory=dict)


@dataclass(frozen=True)
class ChosenProfile:
    name: str
    settings: SandboxProfile | AwsProfile

    @property
    def is_sandbox(self) -> bool:
        return isinstance(self.settings, SandboxProfile)


def load_config(path: Path) -> ConfigFile:
    """The config file, or the defaults if there is none. ConfigError names the bad key."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigFile()
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc.strerror}.") from exc
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {path} is not valid TOML: {exc}.") from exc
    try:
        return ConfigFile.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"] if part not in {"sandbox", "aws"})
        raise ConfigError(
            f"The config file {path} has a problem at '{where or 'top level'}': {first['msg']}."
        ) from exc


def choose_profile(
    config: ConfigFile, requested: str | None = None, env: Mapping[str, str] | None = None
) -> ChosenProfile:
    """The profile to use: ``requested`` (--profile), else DMS_PROFILE, else the file's default."""
    env = os.environ if env is None else env
    name = requested or env.get("DMS_PROFILE") or config.profile
    profiles: dict[str, SandboxProfile | AwsProfile] = {DEFAULT_PROFILE: SandboxProfile()}
    profiles.update(config.profiles)
    if name not in profiles:
        known = ", ".join(sorted(profiles))
        raise ConfigError(f"There is no profile named {name!r}; the profiles are: {known}.")
    settings = profiles[name]
    if isinstance(settings, AwsProfile):
        overrides = {}
        if env.get("AWS_PROFILE"):
            overrides["aws_profile"] = env["AWS_PROFILE"]
        if env.get("AWS_ENDPOINT_URL"):
            overrides["endpoint_url"] = env["AWS_ENDPOINT_URL"]
        if overrides:
            settings = settings.model_copy(update=overrides)
    return ChosenProfile(name, settings)
