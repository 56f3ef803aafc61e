"""Events of any shape (issue 21, item 7): each handler answers 4xx, never 500 or an exception.

API Gateway builds the events, but a misconfigured integration, a test console or a hostile
client behind a permissive proxy can make any part of them ``null``, a string or a huge number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dms_desktop.api import handlers
from tests.support.nothing_lost_cases import case
from tests.unit.api.conftest import Answer, Handler, create_body, invoke, proxy_event

pytestmark = pytest.mark.usefixtures("api")

DOCUMENT_ID = "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d"

ENDPOINTS: dict[str, tuple[Handler, Callable[[], dict[str, Any]]]] = {
    "create": (
        handlers.create_document,
        lambda: proxy_event("POST", "/documents", body=create_body()),
    ),
    "list": (handlers.get_documents, lambda: proxy_event("GET", "/documents", query={})),
    "get": (
        handlers.get_document_by_id,
        lambda: proxy_event("GET", "/documents/{documentId}", document_id=DOCUMENT_ID),
    ),
    "delete": (
        handlers.delete_document,
        lambda: proxy_event("DELETE", "/documents/{documentId}", document_id=DOCUMENT_ID),
    ),
}
UNUSABLE_CLAIMS = case(
    "bad input",
    "web API event with a null or string identity, no or an unusable identity id, a guest "
    "identity, a string or null requestContext, or no object at all",
    "401 'Sign in first.' (was: 500, or an uncaught exception)",
)
MALFORMED_PARAMETERS = case(
    "bad input",
    "web API `limit` of 5,000 digits; query or path parameters, or a body, of the wrong type",
    "400 naming the field (was: 500)",
)
# What each endpoint may answer to a well-formed caller; 500 is never among them.
ANSWERS = {200, 201, 204, 400, 401, 404}


def _answer(endpoint: str, change: Callable[[dict[str, Any]], None]) -> Answer:
    handler, make_event = ENDPOINTS[endpoint]
    event = make_event()
    change(event)
    answer = invoke(handler, event)
    assert answer.status in ANSWERS, (answer.status, answer.body)
    return answer


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        container = event
        for name in path[:-1]:
            container = container[name]
        container[path[-1]] = value

    return change


@UNUSABLE_CLAIMS
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("requestContext",), None),
        (("requestContext",), "a string"),
        (("requestContext",), ["a", "list"]),
        (("requestContext", "identity"), None),
        (("requestContext", "identity"), "a string"),
        (("requestContext", "identity", "cognitoIdentityId"), None),
        (("requestContext", "identity", "cognitoIdentityId"), 42),
        (("requestContext", "identity", "cognitoIdentityId"), ""),
        (("requestContext", "identity", "cognitoIdentityId"), "eu-west-1:a/../b"),
        (("requestContext", "identity", "cognitoAuthenticationType"), "unauthenticated"),
        (("requestContext", "identity", "cognitoAuthenticationType"), None),
    ],
    ids=lambda part: json.dumps(part) if not isinstance(part, tuple) else ".".join(part),
)
def test_an_event_without_an_authenticated_identity_is_401(
    endpoint: str, path: tuple[str, ...], value: Any
) -> None:
    answer = _answer(endpoint, _set(path, value))
    assert answer.status == 401
    assert answer.body == {"error": "Unauthorized", "message": "Sign in first."}


@MALFORMED_PARAMETERS
@pytest.mark.parametrize(
    "query",
    [
        {"limit": "9" * 5000},  # int() refuses more than 4,300 digits: was a 500
        {"limit": "1" + "0" * 30},
        {"limit": 50},
        {"tag": ["a", "b"]},
        "limit=5",
        ["limit"],
    ],
    ids=["5000-digits", "31-digits", "number", "list", "string", "array"],
)
def test_malformed_list_parameters_are_400(query: Any) -> None:
    answer = _answer("list", _set(("queryStringParameters",), query))
    assert answer.status == 400
    assert answer.body["error"] == "InvalidInput"


def test_a_limit_with_leading_zeros_is_read() -> None:
    answer = _answer("list", _set(("queryStringParameters",), {"limit": "0" * 5000 + "5"}))
    assert answer.status == 200


@MALFORMED_PARAMETERS
@pytest.mark.parametrize("endpoint", ["get", "delete"])
@pytest.mark.parametrize("parameters", [None, "x", ["documentId"], {"documentId": 7}])
def test_malformed_path_parameters_are_400(endpoint: str, parameters: Any) -> None:
    answer = _answer(endpoint, _set(("pathParameters",), parameters))
    assert answer.status == 400
    assert answer.body["fields"].keys() == {"documentId"}


@MALFORMED_PARAMETERS
@pytest.mark.parametrize("body", [None, 42, {"filename": "a.txt"}, ["x"]])
def test_a_create_body_that_is_not_text_is_400(body: Any) -> None:
    answer = _answer("create", _set(("body",), body))
    assert answer.status == 400
    assert answer.body["fields"] == {"body": "The request needs a JSON object body."}


@UNUSABLE_CLAIMS
def test_an_event_that_is_not_an_object_is_401() -> None:
    for event in (None, "event", [1, 2], 42):
        answer = invoke(handlers.get_documents, event)  # type: ignore[arg-type]
        assert answer.status == 401


# --- any shape (hypothesis) -------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.text(alphabet="0123456789", min_size=100, max_size=6000),  # huge digit strings
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
PARTS = [
    ("requestContext",),
    ("requestContext", "identity"),
    ("requestContext", "identity", "cognitoIdentityId"),
    ("requestContext", "identity", "cognitoAuthenticationType"),
    ("requestContext", "requestId"),
    ("queryStringParameters",),
    ("pathParameters",),
    ("body",),
    ("isBase64Encoded",),
]
query_values = st.dictionaries(
    st.sampled_from(["limit", "tag", "nextToken", "other"]),
    json_values | st.text(max_size=20) | st.text(alphabet="0123456789 ", max_size=6000),
    max_size=3,
)


@pytest.mark.nothing_lost(
    "bad input",
    "web API events of any shape (hypothesis: any JSON in the request context, identity, "
    "identity id, query, path parameters and body)",
    "a 2xx, 400, 401 or 404 answer; never 500 or an exception",
)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    endpoint=st.sampled_from(sorted(ENDPOINTS)),
    changes=st.lists(
        st.tuples(st.sampled_from(PARTS), json_values)
        | st.tuples(st.just(("queryStringParameters",)), query_values),
        max_size=3,
    ),
)
def test_any_event_shape_is_answered_without_a_500(
    endpoint: str, changes: list[tuple[tuple[str, ...], Any]]
) -> None:
    def change(event: dict[str, Any]) -> None:
        for path, value in changes:
            container: Any = event
            for name in path[:-1]:
                if not isinstance(container, dict) or not isinstance(container.get(name), dict):
                    return  # an earlier change made this part something else
                container = container[name]
            if isinstance(container, dict):
                container[path[-1]] = value

    _answer(endpoint, change)
