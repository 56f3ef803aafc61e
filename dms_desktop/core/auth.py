"""Signing in: Cognito user pool tokens -> identity pool -> temporary AWS credentials.

Every boto3 call of a signed-in user goes through the ``boto3.Session`` built here on that user's
credentials, and the user's ``userId`` is their identity id, which the IAM policy keys on. On the
local sandbox moto's identity ids change on every call, so the id is made stable from the user
pool ``sub`` with the same shape (``region:uuid``).

Against AWS the password is proven with SRP (it never leaves the machine); on the sandbox with
USER_PASSWORD_AUTH, because moto's SRP accepts any password. A first sign-in with a temporary
password raises :class:`NewPasswordRequired`; :func:`complete_new_password` finishes it. The AWS
credentials refresh themselves (botocore ``RefreshableCredentials``) from the refresh token before
they expire, also in the middle of a long transfer.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from .aws import attach_credentials, client_config, error_code, new_session, translate
from .errors import AuthError, ConfigError, DmsError
from .identity import ADMIN_GROUP, CognitoPool, NewPasswordRequired, SignedIn

log = logging.getLogger(__name__)


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


RENEW = "renew your session"  # what a failed credential refresh was doing (not a sign-in)


def _auth_error(exc: ClientError | BotoCoreError, action: str = "sign in") -> DmsError:
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
    return translate(exc, action)


def sign_in_with_password(pool: CognitoPool, username: str, password: str) -> SignedIn:
    if not username or not password:
        raise AuthError("Enter a username and a password.")
    session = new_session(region_name=pool.region)  # one per sign-in, also the user's session
    idp = _unsigned_client(session, "cognito-idp", pool)
    try:
        if pool.use_srp:
            response = _srp_authenticate(idp, pool, username, password)
        else:
            response = idp.initiate_auth(
                AuthFlow="USER_PASSWORD_AUTH",
                ClientId=pool.app_client_id,
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
    except (ClientError, BotoCoreError) as exc:
        raise _auth_error(exc) from exc
    return _finish_sign_in(session, idp, pool, username, response, clock())


def _srp_authenticate(idp: Any, pool: CognitoPool, username: str, password: str) -> Any:
    """USER_SRP_AUTH and its PASSWORD_VERIFIER step (pycognito computes the SRP values)."""
    from pycognito.aws_srp import AWSSRP

    srp = AWSSRP(username, password, pool.user_pool_id, pool.app_client_id, client=idp)
    parameters = srp.get_auth_params()
    response = idp.initiate_auth(
        AuthFlow="USER_SRP_AUTH", ClientId=pool.app_client_id, AuthParameters=parameters
    )
    if response.get("ChallengeName") != "PASSWORD_VERIFIER":
        return response
    answers = srp.process_challenge(response["ChallengeParameters"], parameters)
    return idp.respond_to_auth_challenge(
        ClientId=pool.app_client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=answers,
    )


def complete_new_password(
    pool: CognitoPool, challenge: NewPasswordRequired, new_password: str
) -> SignedIn:
    """Answer the NEW_PASSWORD_REQUIRED challenge of a first sign-in, and sign in."""
    if not new_password:
        raise AuthError("Enter the new password.")
    session = new_session(region_name=pool.region)
    idp = _unsigned_client(session, "cognito-idp", pool)
    try:
        response = idp.respond_to_auth_challenge(
            ClientId=pool.app_client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=challenge.session,
            ChallengeResponses={"USERNAME": challenge.username, "NEW_PASSWORD": new_password},
        )
    except ClientError as exc:
        code = error_code(exc)
        if code == "InvalidPasswordException":
            message = exc.response.get("Error", {}).get("Message", "")
            raise AuthError(f"The new password is not accepted: {message}") from exc
        if code in {"NotAuthorizedException", "ExpiredCodeException", "CodeMismatchException"}:
            raise AuthError("The sign-in took too long; sign in again.") from exc
        raise _auth_error(exc) from exc
    except BotoCoreError as exc:
        raise _auth_error(exc) from exc
    return _finish_sign_in(session, idp, pool, challenge.username, response, clock())


def sign_in_with_refresh_token(
    pool: CognitoPool, username: str, refresh_token: str, signed_in_at: datetime | None = None
) -> SignedIn:
    """Resume a session signed in at ``signed_in_at`` (if known) without the password. A session
    past its end is refused here too, so the sandbox (whose tokens never expire) behaves as AWS."""
    if signed_in_at is not None and clock() >= _session_end(pool, signed_in_at):
        raise AuthError("The remembered session has expired; sign in again.")
    session = new_session(region_name=pool.region)
    idp = _unsigned_client(session, "cognito-idp", pool)
    try:
        response = idp.initiate_auth(
            AuthFlow="REFRESH_TOKEN_AUTH",
            ClientId=pool.app_client_id,
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    except (ClientError, BotoCoreError) as exc:
        raise _auth_error(exc) from exc
    response.setdefault("AuthenticationResult", {}).setdefault("RefreshToken", refresh_token)
    return _finish_sign_in(session, idp, pool, username, response, signed_in_at)


def _session_end(pool: CognitoPool, signed_in_at: datetime) -> datetime:
    return signed_in_at + timedelta(days=pool.session_days)


def _finish_sign_in(
    session: boto3.Session,
    idp: Any,
    pool: CognitoPool,
    username: str,
    response: Any,
    signed_in_at: datetime | None,
) -> SignedIn:
    """The signed-in user of a successful ``response`` to a sign-in at ``signed_in_at`` (None:
    a remembered session from before sign-in times were kept)."""
    challenge = response.get("ChallengeName")
    if challenge == "NEW_PASSWORD_REQUIRED":
        raise NewPasswordRequired(username, response["Session"])
    if challenge:
        raise AuthError(
            f"The sign-in service asks for a step this app does not support yet ({challenge}, "
            "e.g. multi-factor authentication); ask your administrator."
        )
    tokens = response["AuthenticationResult"]
    id_token = tokens["IdToken"]
    claims = _claims(id_token)
    refresh_token = tokens.get("RefreshToken")
    user_id, user_session = _aws_credentials(
        session, pool, id_token, claims, _token_refresher(idp, pool, refresh_token)
    )
    groups = claims.get("cognito:groups") or []
    name = str(claims.get("cognito:username", username))
    log.info("signed in as %s", name)
    return SignedIn(
        username=name,
        user_id=user_id,
        is_admin=ADMIN_GROUP in groups,
        session=user_session,
        refresh_token=refresh_token,
        signed_in_at=signed_in_at,
        session_ends=_session_end(pool, signed_in_at) if signed_in_at else None,
    )


def _token_refresher(idp: Any, pool: CognitoPool, refresh_token: str | None) -> Any:
    """A function giving a fresh id token from the refresh token (for refreshing credentials)."""

    def fresh_id_token() -> str:
        if refresh_token is None:
            raise AuthError("The session has expired; sign in again.")
        try:
            response = idp.initiate_auth(
                AuthFlow="REFRESH_TOKEN_AUTH",
                ClientId=pool.app_client_id,
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _auth_error(exc, RENEW) from exc
        return str(response["AuthenticationResult"]["IdToken"])

    return fresh_id_token


def _aws_credentials(
    session: boto3.Session,
    pool: CognitoPool,
    id_token: str,
    claims: dict[str, Any],
    fresh_id_token: Callable[[], str],
) -> tuple[str, boto3.Session]:
    identity = _unsigned_client(session, "cognito-identity", pool)
    login_key = f"cognito-idp.{pool.region}.amazonaws.com/{pool.user_pool_id}"
    try:
        identity_id = identity.get_id(
            IdentityPoolId=pool.identity_pool_id, Logins={login_key: id_token}
        )["IdentityId"]
        first = identity.get_credentials_for_identity(
            IdentityId=identity_id, Logins={login_key: id_token}
        )["Credentials"]
    except (ClientError, BotoCoreError) as exc:
        raise _auth_error(exc) from exc

    expiry = _parse_expiry(first)
    lifetime = max((expiry - clock()).total_seconds(), 1.0)
    # botocore refreshes 15 minutes before expiry by default; Cognito credentials last an hour
    # but moto's 90 seconds, so the margins follow the lifetime.
    advisory = int(min(15 * 60, max(lifetime / 4, 1)))
    mandatory = int(min(10 * 60, max(lifetime / 8, 1)))

    def refresh() -> dict[str, str]:
        """botocore calls this (on any thread) when the credentials are about to expire."""
        try:
            renewed = identity.get_credentials_for_identity(
                IdentityId=identity_id, Logins={login_key: fresh_id_token()}
            )["Credentials"]
        except (ClientError, BotoCoreError) as exc:
            raise _auth_error(exc, RENEW) from exc
        log.info("refreshed the AWS credentials of the session")
        if _parse_expiry(renewed) - clock() <= timedelta(seconds=mandatory):
            # botocore would raise a RuntimeError ("still expired") from the request.
            raise AuthError(CLOCK_OFF)
        return _credential_metadata(renewed)

    credentials = RefreshableCredentials(
        access_key=first["AccessKeyId"],
        secret_key=first["SecretKey"],
        token=first["SessionToken"],
        expiry_time=expiry,
        refresh_using=refresh,
        method="cognito-identity",
        time_fetcher=lambda: clock(),  # looked up at each call: tests move the clock
        advisory_timeout=advisory,
        mandatory_timeout=mandatory,
    )
    attach_credentials(session, credentials)  # the sign-in's unsigned clients stay unsigned
    if pool.stable_ids_from_sub:
        identity_id = f"{pool.region}:{claims['sub']}"
    return identity_id, session


CLOCK_OFF = (
    "The AWS credentials from the sign-in service have already expired by this computer's "
    "clock: check the computer's date and time, then sign in again."
)


def clock() -> datetime:
    """Now (UTC); the credentials' clock, replaced in tests to make them expire."""
    return datetime.now(UTC)


def _parse_expiry(credentials: dict[str, Any]) -> datetime:
    expiration = credentials.get("Expiration")
    if isinstance(expiration, datetime):
        return expiration.astimezone(UTC)
    return clock() + timedelta(hours=1)


def _credential_metadata(credentials: dict[str, Any]) -> dict[str, str]:
    return {
        "access_key": credentials["AccessKeyId"],
        "secret_key": credentials["SecretKey"],
        "token": credentials["SessionToken"],
        "expiry_time": _parse_expiry(credentials).isoformat(),
    }


def sign_in_with_aws_profile(
    profile_name: str, region: str, endpoint_url: str | None, user_id: str | None = None
) -> SignedIn:
    """Sign in with a named AWS profile (static keys, assumed role or SSO), for admins and
    developers. botocore refreshes such credentials itself. The documents shown are those of
    ``user_id`` if given, else of an id derived from the caller's ARN (same shape as identity
    ids). Such users count as admins: their IAM policy, not the app, decides what they reach.

    Only without ``user_id`` does this ask STS who the caller is; with it, the app talks to
    DynamoDB and S3 alone, so it runs offline against local endpoints set per service
    (``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_ENDPOINT_URL_S3``)."""
    from botocore.exceptions import ProfileNotFound, SSOError, TokenRetrievalError

    try:
        session = new_session(profile_name=profile_name, region_name=region)
        if user_id is not None:
            if session.get_credentials() is None:
                raise AuthError(f"The AWS profile {profile_name!r} has no credentials.")
            log.info("signed in with the AWS profile %s for %s", profile_name, user_id)
            return SignedIn(username=profile_name, user_id=user_id, is_admin=True, session=session)
        sts: Any = session.client
        caller = sts("sts", endpoint_url=endpoint_url, config=client_config()).get_caller_identity()
    except ProfileNotFound as exc:
        raise ConfigError(
            f"There is no AWS profile named {profile_name!r} (see `aws configure list-profiles`)."
        ) from exc
    except (SSOError, TokenRetrievalError) as exc:
        raise AuthError(
            f"The AWS SSO session of profile {profile_name!r} has expired or is missing; "
            f"run `aws sso login --profile {profile_name}`."
        ) from exc
    except (ClientError, BotoCoreError) as exc:
        raise _auth_error(exc) from exc
    arn = str(caller["Arn"])
    name = arn.rsplit("/", 1)[-1]
    chosen_id = f"{region}:{uuid.uuid5(uuid.NAMESPACE_URL, arn)}"
    log.info("signed in with the AWS profile %s as %s", profile_name, name)
    return SignedIn(username=name, user_id=chosen_id, is_admin=True, session=session)
