"""Share links: a download link of one document that works without signing in, until it expires.

Two kinds (``ShareLink.signed_by``):

- ``credentials``: a presigned S3 GET of the document's body (its key derived from the owner and
  the id, never a stored one), saved under the document's name, made on this machine. It dies
  with the credentials that signed it: on the local sandbox and with an AWS profile's long-term
  keys it lasts what was asked (at most 7 days, SigV4's limit); a Cognito sign-in's identity pool
  credentials last about an hour, so such links last an hour at most.
- ``api``: on AWS with a Cognito sign-in and the web API configured (``api_url``), a link longer
  than that comes from the API's ``POST /documents/{id}/share`` (:class:`ApiShareLinks`): the
  API's own ``GET /share/{token}`` link, up to 7 days, which redirects to a fresh download
  (dms_desktop.api.share; see docs/lifecycle.md).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import AuthError, ConfigError, NotFound, Unavailable, ValidationError
from .models import Document, format_timestamp, parse_timestamp

SHARE_EXPIRIES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
}
"""The lifetimes a user can choose, by their short name (CLI ``--expires``, the window's dialog)."""
DEFAULT_SHARE_EXPIRY = "1d"
MAX_LINK_LIFETIME = timedelta(days=7)  # SigV4 presigned URLs: 604,800 seconds at most
IDENTITY_POOL_LINK_LIFETIME = timedelta(hours=1)  # the credentials a Cognito sign-in gets


SIGNED_BY_CREDENTIALS = "credentials"  # presigned here with the sign-in's credentials
SIGNED_BY_API = "api"  # the web API's share route
SIGNERS = {
    SIGNED_BY_CREDENTIALS: "presigned with your sign-in's credentials",
    SIGNED_BY_API: "made by the web API",
}
"""What each kind of link is, in words for a user."""


@dataclass(frozen=True)
class ShareLink:
    """A link to download ``document`` until ``expires_at``, made as ``signed_by`` says."""

    document: Document
    url: str
    expires_at: datetime
    signed_by: str = SIGNED_BY_CREDENTIALS

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "documentId": self.document.document_id,
            "filename": self.document.filename,
            "url": self.url,
            "expiresAt": format_timestamp(self.expires_at),
            "signedBy": self.signed_by,
        }


API_TIMEOUT_SECONDS = 15.0


class ApiShareLinks:
    """``POST {api_url}/documents/{id}/share`` of the web API, signed (SigV4, execute-api) with
    the signed-in user's identity pool credentials (``credentials`` gives botocore's frozen
    credentials): the API checks that the document is the caller's and not in the trash."""

    def __init__(self, api_url: str, region: str, credentials: Callable[[], Any]) -> None:
        if not api_url.startswith("https://"):
            raise ValidationError(f"The web API's URL must start with https:// ({api_url!r}).")
        self._base = api_url.rstrip("/")
        self._region = region
        self._credentials = credentials

    def make(self, document_id: str, seconds: int) -> tuple[str, datetime]:
        """The link's URL and when it expires."""
        address = f"{self._base}/documents/{urllib.parse.quote(document_id)}/share"
        body = json.dumps({"expiresIn": seconds}).encode("utf-8")
        from botocore.auth import SigV4Auth  # loads botocore: not at the window's start
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(
            method="POST",
            url=address,
            data=body,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        SigV4Auth(self._credentials(), "execute-api", self._region).add_auth(request)
        prepared = urllib.request.Request(  # noqa: S310 (https only, checked above)
            address,
            data=body,
            method="POST",
            headers={name: str(value) for name, value in request.headers.items()},
        )
        try:
            with urllib.request.urlopen(prepared, timeout=API_TIMEOUT_SECONDS) as answer:  # noqa: S310
                reply = json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise _api_error(exc, document_id) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise Unavailable(f"The web API cannot be reached to make the link: {exc}") from exc
        try:
            return str(reply["url"]), parse_timestamp(str(reply["expiresAt"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise Unavailable("The web API answered without a link; try again.") from exc


def _api_error(exc: urllib.error.HTTPError, document_id: str) -> Exception:
    try:
        message = str(json.loads(exc.read()).get("message", ""))
    except (ValueError, OSError, AttributeError):
        message = ""
    if exc.code == 403 and "Missing Authentication Token" in message:
        # API Gateway's answer to a route it does not have: an API stack older than the route.
        return ConfigError(
            "The web API at the profile's api_url has no share route: deploy the current API "
            "stack (docs/operations.md), or choose 1h."
        )
    if exc.code in (401, 403):
        return AuthError("The web API did not accept the sign-in; sign in again.")
    if exc.code == 404:  # the API's message: not found, or in the trash
        return NotFound(message or f"There is no document with id {document_id}.")
    if exc.code == 400:
        return ValidationError(message or "The web API refused the link's lifetime.")
    return Unavailable(f"The web API failed to make the link ({exc.code}); try again shortly.")


def checked_lifetime(lifetime: timedelta, limit: timedelta | None) -> int:
    """``lifetime`` in whole seconds, or ValidationError if it is not allowed here (``limit``:
    how long the credentials that sign the link last, if they are short-lived and no web API
    can make the link instead)."""
    seconds = int(lifetime.total_seconds())
    if seconds < 1:
        raise ValidationError("A share link must last at least a second.")
    if lifetime > MAX_LINK_LIFETIME:
        raise ValidationError("A share link lasts at most 7 days.")
    if limit is not None and lifetime > limit:
        raise ValidationError(
            f"A share link made with your sign-in's credentials lasts at most {_hours(limit)}: "
            "it stops working when they expire. Choose 1h, or set the profile's api_url to the "
            "web API stack's ApiUrl: its share route makes links of up to 7 days."
        )
    return seconds


def _hours(limit: timedelta) -> str:
    hours = int(limit.total_seconds() // 3600)
    return f"{hours} hour" if hours == 1 else f"{hours} hours"
