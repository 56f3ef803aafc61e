"""Sign-in failures that moto cannot produce, each with its message (botocore Stubber)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import keyring
import pytest
from botocore.stub import Stubber

from dms_desktop.core import auth
from dms_desktop.core.auth import sign_in_with_password, sign_in_with_refresh_token
from dms_desktop.core.aws import new_session
from dms_desktop.core.errors import AuthError, DmsError
from dms_desktop.core.identity import (
    KEYRING_SERVICE,
    CognitoPool,
    RememberedSession,
    RememberedSessions,
    SignedIn,
)

POOL = CognitoPool(
    region="us-east-1",
    user_pool_id="us-east-1_Example",
    app_client_id="client-id",
    identity_pool_id="us-east-1:00000000-0000-0000-0000-000000000000",
    use_srp=False,
)


@pytest.fixture
def stubbed_idp(monkeypatch: pytest.MonkeyPatch) -> Any:
    client = boto3.session.Session(region_name="us-east-1").client(
        "cognito-idp", aws_access_key_id="x", aws_secret_access_key="x"
    )
    monkeypatch.setattr(auth, "_unsigned_client", lambda session, service, pool: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "service_message", "shown"),
    [
        (
            "NotAuthorizedException",
            "Incorrect username or password.",
            "Wrong username or password.",
        ),
        (
            "NotAuthorizedException",
            "Password attempts exceeded",
            "Too many failed sign-in attempts",
        ),
        ("UserNotFoundException", "User does not exist.", "There is no user with that name."),
        ("UserNotConfirmedException", "User is not confirmed.", "has not been confirmed yet"),
        ("PasswordResetRequiredException", "Reset required.", "password must be reset"),
        ("TooManyRequestsException", "Rate exceeded", "Too many sign-in attempts"),
        ("LimitExceededException", "Limit exceeded", "Too many sign-in attempts"),
    ],
)
def test_each_failure_has_its_own_message(
    stubbed_idp: Any, code: str, service_message: str, shown: str
) -> None:
    stubbed_idp.add_client_error("initiate_auth", code, service_message, 400)

    with pytest.raises(AuthError) as raised:
        sign_in_with_password(POOL, "alice", "secret-password")

    assert shown in str(raised.value)
    assert "secret-password" not in str(raised.value)


def test_an_unsupported_challenge_is_explained(stubbed_idp: Any) -> None:
    stubbed_idp.add_response(
        "initiate_auth",
        {"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": "s" * 20, "ChallengeParameters": {}},
    )

    with pytest.raises(AuthError, match="multi-factor"):
        sign_in_with_password(POOL, "alice", "secret-password")


def test_empty_credentials_are_refused_before_any_request(stubbed_idp: Any) -> None:
    with pytest.raises(AuthError, match="Enter a username and a password"):
        sign_in_with_password(POOL, "alice", "")


def test_remember_me_keeps_the_sign_in_time() -> None:
    signed_in_at = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    user = SignedIn(
        username="alice",
        user_id="us-east-1:alice",
        is_admin=False,
        session=boto3.session.Session(region_name="us-east-1"),
        refresh_token="refresh-secret",
        signed_in_at=signed_in_at,
    )
    sessions = RememberedSessions()

    assert sessions.remember("work", user)

    assert sessions.recall("work") == RememberedSession("alice", "refresh-secret", signed_in_at)


def test_a_session_remembered_before_sign_in_times_were_kept_still_resumes() -> None:
    keyring.set_password(
        KEYRING_SERVICE, "work", json.dumps({"username": "bob", "refresh_token": "r"})
    )

    assert RememberedSessions().recall("work") == RememberedSession("bob", "r", None)


def test_a_session_past_its_end_is_refused_without_asking_cognito(stubbed_idp: Any) -> None:
    signed_in_at = datetime.now(UTC) - timedelta(days=POOL.session_days, seconds=1)

    with pytest.raises(AuthError, match="remembered session has expired"):
        sign_in_with_refresh_token(POOL, "alice", "refresh-secret", signed_in_at)


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.signature"


def test_resuming_builds_one_session_and_signs_only_the_users_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[boto3.session.Session] = []

    def counting_new_session(**kwargs: Any) -> boto3.session.Session:
        made.append(new_session(**kwargs))
        return made[-1]

    monkeypatch.setattr(auth, "new_session", counting_new_session)
    plain = boto3.session.Session(region_name="us-east-1")
    idp = plain.client("cognito-idp", aws_access_key_id="x", aws_secret_access_key="x")
    identity = plain.client("cognito-identity", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(
        auth,
        "_unsigned_client",
        lambda session, service, pool: {"cognito-idp": idp}.get(service, identity),
    )
    id_token = _unsigned_jwt({"sub": "0000-sub", "cognito:username": "alice"})
    with Stubber(idp) as idp_stub, Stubber(identity) as identity_stub:
        idp_stub.add_response("initiate_auth", {"AuthenticationResult": {"IdToken": id_token}})
        identity_stub.add_response("get_id", {"IdentityId": "us-east-1:alice-identity"})
        identity_stub.add_response(
            "get_credentials_for_identity",
            {
                "IdentityId": "us-east-1:alice-identity",
                "Credentials": {
                    "AccessKeyId": "ASIAALICE",
                    "SecretKey": "secret",
                    "SessionToken": "token",
                    "Expiration": datetime.now(UTC) + timedelta(hours=1),
                },
            },
        )

        user = sign_in_with_refresh_token(POOL, "alice", "refresh-secret")

    # One session (~15 ms of set-up each) serves the sign-in and then the user.
    assert made == [user.session]
    credentials = user.session.get_credentials()
    assert credentials is not None
    assert credentials.access_key == "ASIAALICE"
    assert user.user_id == "us-east-1:alice-identity"
    assert user.refresh_token == "refresh-secret"


def test_credentials_expired_by_this_computer_s_clock_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A computer clock far ahead of AWS's: every credential the service gives is expired by
    it. botocore then raised a RuntimeError from any request ("Something went wrong" in the
    window); it is a sign-in error that says what to check."""
    plain = boto3.session.Session(region_name="us-east-1")
    idp = plain.client("cognito-idp", aws_access_key_id="x", aws_secret_access_key="x")
    identity = plain.client("cognito-identity", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(
        auth,
        "_unsigned_client",
        lambda session, service, pool: {"cognito-idp": idp}.get(service, identity),
    )
    monkeypatch.setattr(auth, "clock", lambda: datetime.now(UTC) + timedelta(days=29))
    id_token = _unsigned_jwt({"sub": "0000-sub", "cognito:username": "alice"})
    credentials = {
        "IdentityId": "us-east-1:alice-identity",
        "Credentials": {
            "AccessKeyId": "ASIAALICE",
            "SecretKey": "secret",
            "SessionToken": "token",
            "Expiration": datetime.now(UTC) + timedelta(hours=1),  # AWS's clock
        },
    }
    with Stubber(idp) as idp_stub, Stubber(identity) as identity_stub:
        idp_stub.add_response("initiate_auth", {"AuthenticationResult": {"IdToken": id_token}})
        identity_stub.add_response("get_id", {"IdentityId": "us-east-1:alice-identity"})
        identity_stub.add_response("get_credentials_for_identity", credentials)
        user = sign_in_with_refresh_token(POOL, "alice", "refresh-secret")
        idp_stub.add_response("initiate_auth", {"AuthenticationResult": {"IdToken": id_token}})
        identity_stub.add_response("get_credentials_for_identity", credentials)

        signing = user.session.get_credentials()
        assert signing is not None
        with pytest.raises(AuthError, match="check the computer's date and time"):
            signing.get_frozen_credentials()  # what every request does first


def test_a_system_without_a_keyring_is_told_apart_and_nothing_is_stored() -> None:
    from tests.support.keyrings import MemoryKeyring, NoKeyring

    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    assert RememberedSessions().available()
    assert memory.secrets == {}, "the probe stores nothing"
    keyring.set_keyring(NoKeyring())
    assert not RememberedSessions().available()


def test_a_failed_credential_refresh_says_it_was_renewing_the_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = boto3.session.Session(region_name="us-east-1")
    idp = plain.client("cognito-idp", aws_access_key_id="x", aws_secret_access_key="x")
    identity = plain.client("cognito-identity", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(
        auth,
        "_unsigned_client",
        lambda session, service, pool: {"cognito-idp": idp}.get(service, identity),
    )
    id_token = _unsigned_jwt({"sub": "0000-sub", "cognito:username": "alice"})
    now = datetime.now(UTC)
    with Stubber(idp) as idp_stub, Stubber(identity) as identity_stub:
        idp_stub.add_response("initiate_auth", {"AuthenticationResult": {"IdToken": id_token}})
        identity_stub.add_response("get_id", {"IdentityId": "us-east-1:alice-identity"})
        identity_stub.add_response(
            "get_credentials_for_identity",
            {
                "IdentityId": "us-east-1:alice-identity",
                "Credentials": {
                    "AccessKeyId": "ASIAALICE",
                    "SecretKey": "secret",
                    "SessionToken": "token",
                    "Expiration": now + timedelta(hours=1),
                },
            },
        )
        user = sign_in_with_refresh_token(POOL, "alice", "refresh-secret")
        # Two hours later the credentials have expired; renewing them fails on the service.
        monkeypatch.setattr(auth, "clock", lambda: now + timedelta(hours=2))
        idp_stub.add_client_error(
            "initiate_auth", "InternalErrorException", "the service failed", 500
        )
        credentials = user.session.get_credentials()
        assert credentials is not None

        with pytest.raises(DmsError) as raised:
            credentials.get_frozen_credentials()

    assert str(raised.value).startswith("Could not renew your session: the backend failed")
    assert "sign in" not in str(raised.value)
