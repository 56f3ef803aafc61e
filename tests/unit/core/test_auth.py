"""Sign-in failures that moto cannot produce, each with its message (botocore Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from dms_desktop.core import auth
from dms_desktop.core.auth import CognitoPool, sign_in_with_password
from dms_desktop.core.errors import AuthError

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
