"""``amplify_outputs.json``: how an Amplify web app connects to the same backend, and back.

:func:`amplify_outputs` writes the file an Amplify (Gen 2) app passes to ``Amplify.configure``
from an ``aws`` profile: the user pool, its app client and the identity pool (``auth``), and the
document bucket with the one path a person may use, their own ``private/{identity id}/`` folder
(``storage``; the ``entityidentity`` access the per-user IAM policy grants). What Amplify has no
place for, the table and the session length, goes under ``custom.dms``.

:func:`profile_from_amplify_outputs` reads such a file (written here or by an Amplify backend on
the same pools) back into a profile; a file without ``custom.dms`` gets the backend template's
default table name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic

from .config import AwsProfile
from .errors import ConfigError, ValidationError
from .schema import BODY_PREFIX, TABLE_NAME

SCHEMA_VERSION = "1.4"
# How Amplify spells a person's folder in a path: the identity pool's id for them.
OWN_FOLDER = f"{BODY_PREFIX}${{cognito-identity.amazonaws.com:sub}}/*"
OWN_FOLDER_ACCESS = ["get", "list", "write", "delete"]
STORAGE_NAME = "dmsDocuments"


def amplify_outputs(profile: AwsProfile) -> dict[str, Any]:
    """The ``amplify_outputs.json`` content for ``profile`` (a Cognito profile on AWS)."""
    if not (profile.user_pool_id and profile.app_client_id and profile.identity_pool_id):
        raise ConfigError(
            "An Amplify app signs in through Cognito: this profile has no user pool, app client "
            "or identity pool (it uses an AWS profile). Configure one with `dms configure`."
        )
    if profile.endpoint_url:
        raise ConfigError(
            f"This profile talks to {profile.endpoint_url}, not to AWS; an Amplify app cannot "
            "be pointed there."
        )
    bucket = {
        "name": STORAGE_NAME,
        "bucket_name": profile.bucket,
        "aws_region": profile.region,
        "paths": {OWN_FOLDER: {"entityidentity": list(OWN_FOLDER_ACCESS)}},
    }
    return {
        "version": SCHEMA_VERSION,
        "auth": {
            "aws_region": profile.region,
            "user_pool_id": profile.user_pool_id,
            "user_pool_client_id": profile.app_client_id,
            "identity_pool_id": profile.identity_pool_id,
            "authentication_flow_type": "USER_SRP_AUTH",
            "unauthenticated_identities_enabled": False,
        },
        "storage": {
            "aws_region": profile.region,
            "bucket_name": profile.bucket,
            "buckets": [bucket],
        },
        "custom": {"dms": {"table": profile.table, "session_days": profile.session_days}},
    }


def write_amplify_outputs(path: Path, profile: AwsProfile) -> None:
    """Write ``amplify_outputs.json`` for ``profile`` to ``path``."""
    text = json.dumps(amplify_outputs(profile), indent=2) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"Cannot write {path}: {exc.strerror or exc}.") from exc


def profile_from_amplify_outputs(path: Path) -> AwsProfile:
    """The profile an ``amplify_outputs.json`` describes; ConfigError names what it lacks."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValidationError(f"There is no file {path}.") from exc
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror}.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{path} is not a JSON file: {exc}.") from exc
    auth = _section(data, "auth")
    storage = _section(data, "storage")
    custom = _section(_section(data, "custom"), "dms")
    values = {
        "region": auth.get("aws_region") or storage.get("aws_region"),
        "user_pool_id": auth.get("user_pool_id"),
        "app_client_id": auth.get("user_pool_client_id"),
        "identity_pool_id": auth.get("identity_pool_id"),
        "bucket": _bucket_name(storage),
    }
    names = {
        "region": "auth.aws_region",
        "user_pool_id": "auth.user_pool_id",
        "app_client_id": "auth.user_pool_client_id",
        "identity_pool_id": "auth.identity_pool_id",
        "bucket": "storage.bucket_name",
    }
    missing = [
        names[key] for key, value in values.items() if not isinstance(value, str) or not value
    ]
    if missing:
        raise ConfigError(
            f"The file {path} lacks {', '.join(missing)}: the app needs the user pool, its app "
            "client, the identity pool and the bucket (an Amplify backend with auth and storage)."
        )
    values["table"] = custom.get("table") or TABLE_NAME
    if "session_days" in custom:
        values["session_days"] = custom["session_days"]
    try:
        return AwsProfile.model_validate({"kind": "aws", **values})
    except pydantic.ValidationError as exc:
        raise ConfigError(
            f"The file {path} has an unusable value: {exc.errors()[0]['msg']}."
        ) from exc


def _section(data: Any, name: str) -> dict[str, Any]:
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _bucket_name(storage: dict[str, Any]) -> Any:
    """The default bucket, else the only one listed (several: the caller must say which)."""
    if storage.get("bucket_name"):
        return storage["bucket_name"]
    buckets = [b for b in storage.get("buckets") or [] if isinstance(b, dict)]
    return buckets[0].get("bucket_name") if len(buckets) == 1 else None
