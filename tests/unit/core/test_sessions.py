"""Sessions share the SDK's parsed data: a new session (each sign-in, each credentials refresh,
each worker) must not parse botocore's JSON again, because that parse holds the interpreter lock
for tens of milliseconds and froze the window."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.credentials import Credentials
from botocore.loaders import JSONFileLoader

from dms_desktop.core.aws import attach_credentials, make_client, new_session, session_for_thread

ENDPOINT = "http://127.0.0.1:9"  # never contacted: building a client sends nothing


@pytest.fixture
def files_parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    original = JSONFileLoader.load_file

    def counting(self: JSONFileLoader, file_path: str) -> Any:
        parsed.append(file_path)
        return original(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", counting)
    return parsed


def _clients(*services: str) -> None:
    session = new_session(region_name="eu-west-1")
    attach_credentials(session, Credentials("key", "secret"))
    for service in services:
        make_client(session, service, ENDPOINT)


def test_a_second_session_builds_its_clients_without_parsing_the_models_again(
    files_parsed: list[str],
) -> None:
    _clients("dynamodb", "s3", "cognito-identity")
    files_parsed.clear()

    _clients("dynamodb", "s3", "cognito-identity")

    assert files_parsed == []


def test_sessions_keep_boto3_s_data_without_piling_up_search_paths() -> None:
    first = new_session(region_name="eu-west-1")
    for _ in range(5):
        new_session(region_name="eu-west-1")
    paths = first._loader.search_paths  # type: ignore[attr-defined]

    assert len(paths) == len(set(paths))
    assert any(path.endswith("boto3/data") for path in paths)
    # boto3's own data (its resource models) is still found through the shared loader
    assert first.resource("dynamodb", endpoint_url=ENDPOINT).meta.service_name == "dynamodb"


def test_a_session_uses_the_credentials_attached_to_it() -> None:
    session = new_session(region_name="eu-west-1")
    attach_credentials(session, Credentials("AKIDEXAMPLE", "s"))

    credentials = session.get_credentials()
    assert credentials is not None
    assert credentials.access_key == "AKIDEXAMPLE"
    assert session.region_name == "eu-west-1"


def test_a_session_for_another_thread_is_new_and_signs_with_the_same_credentials() -> None:
    """Each thread that works for the signed-in user (the window's two lanes, the transfers)
    makes its clients on a session of its own; the credentials, which renew themselves under a
    lock, are the user's one set."""
    signed_in = new_session(region_name="eu-west-1")
    credentials = Credentials("AKIDEXAMPLE", "s")
    attach_credentials(signed_in, credentials)

    copy = session_for_thread(signed_in)

    assert copy is not signed_in
    assert copy._session is not signed_in._session  # type: ignore[attr-defined]
    assert copy.get_credentials() is credentials
    assert copy.region_name == "eu-west-1"
    client = make_client(copy, "dynamodb", ENDPOINT)
    assert client.meta.region_name == "eu-west-1"
