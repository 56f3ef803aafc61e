"""botocore failures become the few domain errors a user sees, with the original as the cause."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.stub import Stubber

from dms_desktop.core import aws, schema
from dms_desktop.core.errors import (
    AuthError,
    ConfigError,
    Conflict,
    DmsError,
    NotFound,
    Throttled,
    Unavailable,
    ValidationError,
)
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.repository import DocumentRepository

from .conftest import USER_ID


def client_error(code: str, status: int = 400, message: str = "details") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "SomeOperation",
    )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ConditionalCheckFailedException", 400, Conflict),
        ("ThrottlingException", 400, Throttled),
        ("ProvisionedThroughputExceededException", 400, Throttled),
        ("SlowDown", 503, Throttled),
        ("AccessDenied", 403, AuthError),
        ("ExpiredToken", 400, AuthError),
        ("ExpiredTokenException", 400, AuthError),
        ("UnrecognizedClientException", 400, AuthError),
        ("SomethingForbidden", 403, AuthError),
        ("NoSuchKey", 404, NotFound),
        ("404", 404, NotFound),
        ("ResourceNotFoundException", 400, ConfigError),
        ("NoSuchBucket", 404, ConfigError),
        ("ValidationException", 400, ValidationError),
        ("InternalError", 500, Unavailable),
        ("ServiceUnavailable", 503, Unavailable),
        ("InternalServerError", 500, Unavailable),
    ],
)
def test_client_errors_map_to_domain_errors(
    code: str, status: int, expected: type[DmsError]
) -> None:
    error = aws.translate(client_error(code, status), "list the documents")
    assert type(error) is expected
    assert str(error).startswith("Could not list the documents")


def test_throttling_says_try_again() -> None:
    error = aws.translate(client_error("ThrottlingException"), "save")
    assert isinstance(error, Unavailable)  # a caller catching Unavailable sees throttling too
    assert "try again" in str(error).lower()


def test_unavailable_says_try_again_later() -> None:
    assert "try again later" in str(aws.translate(client_error("X", 503), "save")).lower()


def test_auth_errors_tell_the_user_to_sign_in_again() -> None:
    error = aws.translate(client_error("ExpiredToken", 400, "The token has expired"), "save")
    assert "Sign in again" in str(error)
    assert "The token has expired" in str(error)


def test_misconfiguration_names_what_to_check() -> None:
    error = aws.translate(
        client_error("ResourceNotFoundException", 400, "Requested resource not found"), "list"
    )
    assert "table and bucket names" in str(error)


def test_unknown_codes_keep_code_and_message() -> None:
    error = aws.translate(client_error("WeirdError", 400, "something odd"), "save")
    assert type(error) is DmsError
    assert "WeirdError" in str(error)
    assert "something odd" in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_network_failures_are_unavailable(exc: Exception) -> None:
    error = aws.translate(exc, "list the documents")
    assert type(error) is Unavailable
    assert "cannot be reached" in str(error)


def test_missing_credentials_is_an_auth_error() -> None:
    assert isinstance(aws.translate(NoCredentialsError(), "list"), AuthError)


def test_domain_errors_pass_through_unchanged() -> None:
    original = NotFound("gone")
    assert aws.translate(original, "x") is original


def test_aws_errors_keeps_the_original_as_cause() -> None:
    original = client_error("ThrottlingException")
    with pytest.raises(Throttled) as caught, aws.aws_errors("save the document"):
        raise original
    assert caught.value.__cause__ is original
    assert "save the document" in str(caught.value)


def test_aws_errors_translates_botocore_errors_too() -> None:
    original = EndpointConnectionError(endpoint_url="http://localhost:1")
    with pytest.raises(Unavailable) as caught, aws.aws_errors("list"):
        raise original
    assert caught.value.__cause__ is original


def test_aws_errors_leaves_other_exceptions_alone() -> None:
    with pytest.raises(KeyError), aws.aws_errors("list"):
        raise KeyError("not ours")


def test_throttled_query_through_a_real_client(session: Any) -> None:
    client = session.client("dynamodb")
    repository = DocumentRepository(client, schema.TABLE_NAME)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "query",
            service_error_code="ProvisionedThroughputExceededException",
            service_message="Rate of requests exceeds the allowed throughput.",
            http_status_code=400,
        )
        with pytest.raises(Throttled, match="Try again") as caught:
            repository.list_page(USER_ID, ListQuery(page_size=10))
        stubber.assert_no_pending_responses()
    assert isinstance(caught.value.__cause__, ClientError)
    assert aws.error_code(caught.value.__cause__) == "ProvisionedThroughputExceededException"


def test_access_denied_through_a_real_client(session: Any) -> None:
    client = session.client("s3")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "delete_object",
            service_error_code="AccessDenied",
            service_message="Access Denied",
            http_status_code=403,
            expected_params={"Bucket": schema.BUCKET_NAME, "Key": "private/u/d"},
        )
        with pytest.raises(AuthError, match="Sign in again"), aws.aws_errors("delete"):
            client.delete_object(Bucket=schema.BUCKET_NAME, Key="private/u/d")
        stubber.assert_no_pending_responses()


def test_client_config_bounds_retries_and_timeouts() -> None:
    config = aws.client_config()
    assert config.retries == {"mode": "standard", "total_max_attempts": aws.MAX_ATTEMPTS}
    assert config.connect_timeout == 5
    assert config.read_timeout == 60


def test_make_client_uses_the_given_session(session: Any) -> None:
    client = aws.make_client(session, "s3", "http://127.0.0.1:9")
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.region_name == "us-east-1"
    assert client.meta.config.retries["total_max_attempts"] == aws.MAX_ATTEMPTS
