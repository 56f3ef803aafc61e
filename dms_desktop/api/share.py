"""Share links that outlive any signing credentials: ``POST /documents/{documentId}/share`` makes
one, ``GET /share/{token}`` opens it.

A presigned S3 URL dies with the credentials that signed it: an identity pool's (a Cognito
sign-in's) after about an hour, a Lambda role's when the function's session ends. So the link
handed out is this API's own ``GET /share/{token}``: the token names the owner, the document and
the expiry (at most 7 days), with an HMAC of them that the stack's KMS key makes (``kms:
GenerateMac``: only the share function's role may) and checks (``kms:VerifyMac``: only the
open function's role may). The key never leaves KMS. Opening a link (no sign-in: the route has
no authoriser; the HMAC is the authorisation) checks the expiry and the HMAC, reads the document
(gone, or in the trash: 404) and redirects (302) to a presigned GET of its body valid 5 minutes,
signed by the opening function's role.

The owner is the caller API Gateway authorised (handlers.caller_id); the document must be theirs
and not in the trash. The body's key follows from owner and id (core.schema.object_key). Tokens
are never logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ..core.aws import aws_errors, client_config
from ..core.errors import ConfigError, InTrash, NotFound, Unavailable
from ..core.ids import is_document_id
from ..core.models import format_timestamp
from ..core.schema import is_user_id
from ..core.share_links import MAX_LINK_LIFETIME
from .backend import Backend, current_backend
from .handlers import Call, ProxyEvent, ProxyResult, Reply, _endpoint, _field, log
from .inputs import InvalidInput, parse_document_id

SHARE_KEY_VARIABLE = "DMS_SHARE_KEY_ID"
MAX_SHARE_SECONDS = int(MAX_LINK_LIFETIME.total_seconds())
DEFAULT_SHARE_SECONDS = 86_400
MAC_ALGORITHM = "HMAC_SHA_256"
LINK_FORMAT = "v1"  # the first part of a token
_MAC_CONTEXT = b"dms-share-link/"  # what a MAC of this API is for, inside the signed message
_MAX_TOKEN_CHARS = 600

_KMS_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3}
)


@dataclass(frozen=True)
class LinkGrant:
    """What a share link grants: ``document_id`` of ``user_id`` until ``expires`` (epoch s)."""

    user_id: str
    document_id: str
    expires: int

    def payload(self) -> bytes:
        fields = {"u": self.user_id, "d": self.document_id, "e": self.expires}
        return json.dumps(fields, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def read_token(token: str) -> tuple[LinkGrant, bytes, bytes] | None:
    """The grant, the signed payload and the MAC of a token, or None if it cannot be one (its
    MAC is not checked here)."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        return None
    version, _, rest = token.partition(".")
    encoded, _, mac_text = rest.partition(".")
    if version != LINK_FORMAT or not encoded or not mac_text:
        return None
    try:
        payload, mac = _unb64(encoded), _unb64(mac_text)
        fields = json.loads(payload)
    except (binascii.Error, ValueError):
        return None
    if not isinstance(fields, dict):
        return None
    user_id, document_id, expires = fields.get("u"), fields.get("d"), fields.get("e")
    if not (
        isinstance(user_id, str)
        and is_user_id(user_id)
        and isinstance(document_id, str)
        and is_document_id(document_id)
        and isinstance(expires, int)
    ):
        return None
    return LinkGrant(user_id, document_id, expires), payload, mac


class LinkSigner:
    """The MACs of share link tokens, made and checked by the KMS HMAC key ``key_id``."""

    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    def token(self, grant: LinkGrant) -> str:
        payload = grant.payload()
        with aws_errors("sign a share link"):
            answer = self._kms.generate_mac(
                KeyId=self._key_id, MacAlgorithm=MAC_ALGORITHM, Message=_MAC_CONTEXT + payload
            )
        return f"{LINK_FORMAT}.{_b64(payload)}.{_b64(answer['Mac'])}"

    def verifies(self, payload: bytes, mac: bytes) -> bool:
        try:
            answer = self._kms.verify_mac(
                KeyId=self._key_id,
                MacAlgorithm=MAC_ALGORITHM,
                Message=_MAC_CONTEXT + payload,
                Mac=mac,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "KMSInvalidMacException":
                return False
            with aws_errors("check a share link"):
                raise
        return bool(answer.get("MacValid"))


@cache
def current_signer() -> LinkSigner:
    """This container's signer (``current_signer.cache_clear()`` forgets it, for tests)."""
    key_id = os.environ.get(SHARE_KEY_VARIABLE)
    if not key_id:
        raise ConfigError(f"The function's environment lacks {SHARE_KEY_VARIABLE}.")
    factory: Any = boto3.session.Session().client
    return LinkSigner(factory("kms", config=client_config().merge(_KMS_CONFIG)), key_id)


def _expires_in(event: ProxyEvent) -> int:
    body = event.get("body")
    if body is None or (isinstance(body, str) and not body.strip()):
        return DEFAULT_SHARE_SECONDS
    if event.get("isBase64Encoded") is True and isinstance(body, str):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidInput({"body": "The body is not UTF-8 JSON."}) from exc
    try:
        fields = json.loads(body) if isinstance(body, str) else None
    except ValueError as exc:
        raise InvalidInput({"body": "The body is not valid JSON."}) from exc
    if not isinstance(fields, dict):
        raise InvalidInput({"body": "The body must be a JSON object."})
    unknown = sorted(set(fields) - {"expiresIn"})
    if unknown:
        raise InvalidInput({name: "Not a field of this request (expiresIn)." for name in unknown})
    value = fields.get("expiresIn", DEFAULT_SHARE_SECONDS)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput({"expiresIn": "Seconds, a whole number."})
    if not 1 <= value <= MAX_SHARE_SECONDS:
        raise InvalidInput(
            {"expiresIn": f"From 1 to {MAX_SHARE_SECONDS} seconds (7 days) at most."}
        )
    return value


def _link_base(event: ProxyEvent) -> str:
    """``https://{host}/{stage}``, where the caller reached this API."""
    context = _field(event, "requestContext")
    host, stage = _field(context, "domainName"), _field(context, "stage")
    if not isinstance(host, str) or not host or not isinstance(stage, str) or not stage:
        raise ConfigError("The request does not say where the API is (domainName, stage).")
    return f"https://{host}/{stage}"


@_endpoint("ShareDocument")
def share_document(call: Call, backend: Backend) -> Reply:
    """A share link of one of the caller's documents (not in the trash), valid ``expiresIn``
    seconds (1 to 7 days; a day if not given)."""
    document_id = parse_document_id(call.event.get("pathParameters"))
    seconds = _expires_in(call.event)
    call.summary.update(documentId=document_id, expiresIn=seconds)
    document = backend.service(call.user_id).get(document_id)
    if document.in_trash:
        raise InTrash(document.filename, document_id)
    expires = math.ceil(time.time()) + seconds
    token = current_signer().token(LinkGrant(call.user_id, document_id, expires))
    expires_at = format_timestamp(datetime.fromtimestamp(expires, UTC))
    return Reply(
        201,
        {
            "documentId": document_id,
            "filename": document.filename,
            "url": f"{_link_base(call.event)}/share/{token}",
            "expiresAt": expires_at,
            "expiresIn": seconds,
            "signedBy": "api",
        },
        "created",
    )


def open_share_link(event: ProxyEvent, context: Any) -> ProxyResult:
    """``GET /share/{token}`` (no sign-in): 302 to a download URL of the body valid 5 minutes;
    404 for a link that is not one of this API's, or whose document is gone or in the trash;
    410 for an expired link."""
    started = time.perf_counter()
    request_id = str(getattr(context, "aws_request_id", "") or "")
    fields: dict[str, Any] = {"operation": "OpenShareLink", "requestId": request_id}
    try:
        status, headers, body, outcome = _open(event, current_backend(), fields)
    except Unavailable:
        log.warning("backend unavailable", exc_info=True)
        status, headers, body, outcome = 503, {}, _message("Try again shortly."), "unavailable"
    except Exception:  # noqa: BLE001 (a 500 without internals, as every route answers)
        log.exception("unexpected failure")
        status, headers = 500, {}
        body, outcome = _message("Something went wrong; try again later."), "error"
    fields.update(
        status=status,
        outcome=outcome,
        durationMs=round((time.perf_counter() - started) * 1000, 1),
    )
    log.info("OpenShareLink %d", status, extra={"fields": fields})
    return {
        "statusCode": status,
        "headers": {
            "X-Request-Id": request_id,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            **headers,
        },
        "body": body,
    }


def _message(text: str) -> str:
    return json.dumps({"message": text})


_NOT_A_LINK = "This share link is not valid, or what it shared is no longer available."


def _open(
    event: ProxyEvent, backend: Backend, fields: dict[str, Any]
) -> tuple[int, dict[str, str], str, str]:
    token = _field(_field(event, "pathParameters"), "token")
    read = read_token(token) if isinstance(token, str) else None
    if read is None:
        return 404, {}, _message(_NOT_A_LINK), "invalid"
    grant, payload, mac = read
    if grant.expires < time.time():
        return 410, {}, _message("This share link has expired."), "expired"
    if not current_signer().verifies(payload, mac):
        return 404, {}, _message(_NOT_A_LINK), "forged"
    fields.update(userId=grant.user_id, documentId=grant.document_id)
    try:
        document = backend.repository.get(grant.user_id, grant.document_id)
    except NotFound:
        return 404, {}, _message(_NOT_A_LINK), "gone"
    if document.in_trash:
        return 404, {}, _message(_NOT_A_LINK), "in_trash"
    target = backend.download_target(document)
    return 302, {"Location": target["url"]}, "", "redirected"
