"""Signing in: Cognito user pool tokens -> identity pool -> temporary AWS credentials.

Every boto3 call of a signed-in user goes through the ``boto3.Session`` built here on that user's
credentials, and the user's ``userId`` is their identity id, which the IAM policy keys on. On the
local sandbox moto's identity ids change on every call, so the id is made stable from the user
pool ``sub`` with the same shape (``region:uuid``).

The sandbox signs in with USER_PASSWORD_AUTH (moto's SRP accepts any password); SRP against AWS,
the new-password challenge and refreshing credentials belong to the sign-in work that follows.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .aws import client_config, error_code, translate
from .errors import AuthError, DmsError

log = logging.getLogger(__name__)

ADMIN_GROUP = "admins"
KEYRING_SERVICE = "dms-desktop"


@dataclass(frozen=True)
class CognitoPool:
    """Where users sign in: a user pool, its app client and the identity pool behind them."""

    region: str
    user_pool_id: str
    app_client_id: str
    identity_pool_id: str
    endpoint_url: str | None = None
    stable_ids_from_sub: bool = False  # the sandbox: identity ids made from the user's sub


@dataclass(frozen=True)
class SignedIn:
    """A signed-in user: who, and the session that carries their credentials."""

    username: str
    user_id: str
    is_admin: bool
    session: boto3.Session = field(repr=False)
    expires_at: datetime | None = None
    refresh_token: str | None = field(default=None, repr=False)


def _unsigned_client(session: boto3.Session, service: str, pool: CognitoPool) -> Any:
    """A client for Cognito's public sign-in APIs, which take no AWS signature."""
    config = client_config().merge(Config(signature_version=UNSIGNED))
    factory: Any = session.client
    return factory(service, endpoint_url=pool.endpoint_url, config=config)


def _claims(jwt: str) -> dict[str, Any]:
    """The payload of a token Cognito just gave us over TLS (read, not verified, by design)."""
    try:
        payload = jwt.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise AuthError("The sign-in service returned an unreadable token.") from exc
    if not isinstance(decoded, dict):
        raise AuthError("The sign-in service returned an unreadable token.")
    return decoded


def _auth_error(exc: ClientError | BotoCoreError) -> DmsError:
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if code == "NotAuthorizedException":
            if "attempts exceeded" in message.lower():
                return AuthError("Too many failed sign-in attempts; wait a while and try again.")
            if "refresh token" in message.lower():
                return AuthError("The remembered session has expired; sign in again.")
            return AuthError("Wrong username or password.")
        if code == "UserNotFoundException":
            return AuthError("There is no user with that name.")
        if code == "UserNotConfirmedException":
            return AuthError("This user has not been confirmed yet; ask your administrator.")
        if code == "PasswordResetRequiredException":
            return AuthError("Your password must be reset; ask your administrator.")
        if code in {"TooManyRequestsException", "LimitExceededException"}:
            return AuthError("Too many sign-in attempts; wait a while and try again.")
    return translate(exc, "sign in")


def sign_in_with_password(pool: CognitoPool, username: str, password: str) -> SignedIn:
    if not username or not password:
        raise AuthError("Enter a username and a password.")
    return _sign_in(
        pool,
        username,
        "USER_PASSWORD_AUTH",
        {"USERNAME": username, "PASSWORD": password},
    )


def sign_in_with_refresh_token(pool: CognitoPool, username: str, refresh_token: str) -> SignedIn:
    return _sign_in(pool, username, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token})


def _sign_in(pool: CognitoPool, username: str, flow: str, parameters: dict[str, str]) -> SignedIn:
    session = boto3.session.Session(region_name=pool.region)  # one per sign-in: loads data once
    idp = _unsigned_client(session, "cognito-idp", pool)
    try:
        response = idp.initiate_auth(
            AuthFlow=flow, ClientId=pool.app_client_id, AuthParameters=parameters
        )
    except (ClientError, BotoCoreError) as exc:
        raise _auth_error(exc) from exc
    if "ChallengeName" in response:
        raise AuthError(
            f"The sign-in service asks for another step ({response['ChallengeName']}); "
            "complete it in the desktop app."
        )
    tokens = response["AuthenticationResult"]
    id_token = tokens["IdToken"]
    claims = _claims(id_token)
    refresh_token = tokens.get("RefreshToken") or parameters.get("REFRESH_TOKEN")
    user_id, user_session, expires_at = _aws_credentials(session, pool, id_token, claims)
    groups = claims.get("cognito:groups") or []
    log.info("signed in as %s", claims.get("cognito:username", username))
    return SignedIn(
        username=str(claims.get("cognito:username", username)),
        user_id=user_id,
        is_admin=ADMIN_GROUP in groups,
        session=user_session,
        expires_at=expires_at,
        refresh_token=refresh_token,
    )


def _aws_credentials(
    session: boto3.Session, pool: CognitoPool, id_token: str, claims: dict[str, Any]
) -> tuple[str, boto3.Session, datetime | None]:
    identity = _unsigned_client(session, "cognito-identity", pool)
    logins = {f"cognito-idp.{pool.region}.amazonaws.com/{pool.user_pool_id}": id_token}
    try:
        identity_id = identity.get_id(IdentityPoolId=pool.identity_pool_id, Logins=logins)[
            "IdentityId"
        ]
        credentials = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)[
            "Credentials"
        ]
    except (ClientError, BotoCoreError) as exc:
        raise _auth_error(exc) from exc
    if pool.stable_ids_from_sub:
        identity_id = f"{pool.region}:{claims['sub']}"
    user_session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=pool.region,
    )
    expiration = credentials.get("Expiration")
    expires_at = expiration.astimezone(UTC) if isinstance(expiration, datetime) else None
    return identity_id, user_session, expires_at


class RememberedSessions:
    """ "Remember me": the refresh token of a profile's user in the OS keyring, never a file."""

    def __init__(self, service: str = KEYRING_SERVICE) -> None:
        self._service = service

    def remember(self, profile: str, username: str, refresh_token: str) -> bool:
        """True if stored; False if this system has no usable keyring (the session still works)."""
        import keyring

        secret = json.dumps({"username": username, "refresh_token": refresh_token})
        try:
            keyring.set_password(self._service, profile, secret)
        except Exception as exc:  # noqa: BLE001 - any backend failure means "cannot remember"
            log.warning("cannot remember the session: no usable keyring (%s)", type(exc).__name__)
            return False
        return True

    def recall(self, profile: str) -> tuple[str, str] | None:
        """(username, refresh token) remembered for ``profile``, if any."""
        import keyring

        try:
            secret = keyring.get_password(self._service, profile)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot read the keyring (%s)", type(exc).__name__)
            return None
        if not secret:
            return None
        try:
            stored = json.loads(secret)
            return str(stored["username"]), str(stored["refresh_token"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable remembered session for %s", profile)
            return None

    def forget(self, profile: str) -> bool:
        """Forget the remembered session; True if there was one."""
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(self._service, profile)
        except PasswordDeleteError:
            return False
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot reach the keyring (%s)", type(exc).__name__)
            return False
        return True
